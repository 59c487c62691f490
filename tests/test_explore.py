"""The explorer: each rule's minimal bug, none under linux-6.x, the race, sound deduplication."""

import contextlib
import importlib
import io
import json
import pickle
from pathlib import Path

import pytest

from cowlib import PRESETS, Busy, CowError, Kernel
from cowlib.actions import apply, perform, run_actions
from cowlib.cli import main as cowlib_main
from cowlib.errors import BadArgument
from cowlib.explore import (
    DEPTH,
    OPS,
    RACE_DEPTH,
    RACE_UNIVERSE,
    UNIVERSE,
    Universe,
    canonical_state,
    caption,
    clone,
    explore,
    find_race,
    main,
    moves,
    render,
    table,
    table_rows,
)
from cowlib.grammar import parse
from cowlib.moves import FOLIO_UNIVERSE, random_actions

BASE = PRESETS["linux-5.11"]
explore_module = importlib.import_module("cowlib.explore")
PREFIX = "P:mmap 1; P:write 0 X; "


def last_step_reports(script: str, policy, kind: str) -> bool:
    """Replayed on a plain Kernel, does the last action make the oracle report kind?"""
    k = run_actions(script, policy)
    return kind in {v.kind for v in k.trace[-1].violations}


def reported_anywhere(script: str, policy, kind: str) -> bool:
    return kind in {v.kind for v in run_actions(script, policy).violations}


# Each rule's row, searched in the smallest universe that still holds its bugs (the full
# universe finds the same lengths: see the default table in benchmarks/bench_explore.py).
RULE_BUGS = {
    "rule1": (
        ("write", "read", "fork", "exit", "munmap", "vmsplice", "pipe_read"),
        5,
        {"leak": "P:vmsplice 0; P:fork C; P:write 0 v3; C:write 0 v4; pipe1:read"},
    ),
    "rule2": (
        ("write", "read", "fork", "pin_ro"),
        4,
        {"leak": "P:fork C; P:pin 0 ro long; P:write 0 v3; C:read 0"},
    ),
    "rule3": (
        ("write", "read", "fork", "pin_rw", "device_write"),
        5,
        {
            "leak": "P:pin 0 rw long; P:fork C; pin1:write dma3; C:read 0",
            "lost-write": "P:pin 0 rw long; P:fork C; P:write 0 v3; pin1:write dma4; P:read 0",
            "stale-pin": "P:pin 0 rw long; P:fork C; P:write 0 v3",
        },
    ),
    "rule4": (
        ("write", "read", "fork", "pin_rw", "device_write", "pageout"),
        5,
        {
            "leak": "P:pin 0 rw long; K:pageout P 0; P:fork C; pin1:write dma4; C:read 0",
            "stale-pin": "P:pin 0 rw long; K:pageout P 0; P:read 0; P:write 0 v4",
        },
    ),
}


@pytest.mark.parametrize("rule", RULE_BUGS)
def test_each_rule_removed_yields_its_shortest_counterexamples(rule):
    ops, depth, bugs = RULE_BUGS[rule]
    policy = BASE.without(rule)
    result = explore(policy, depth, Universe(ops=ops), baseline=BASE)
    assert {kind: ce.script for kind, ce in result.new.items()} == {
        kind: PREFIX + script for kind, script in bugs.items()
    }
    for kind, ce in result.new.items():
        assert ce.length == len(bugs[kind].split("; "))
        assert last_step_reports(ce.script, policy, kind)
        assert not reported_anywhere(ce.script, BASE, kind)
        assert result.found[kind].length == ce.length


def test_rule4_stale_pin_is_new_although_linux_5_11_has_a_shorter_one_with_ro_pins():
    universe = Universe(ops=("write", "read", "pin_rw", "pin_ro", "pageout"))
    result = explore(BASE.without("rule4"), 4, universe, baseline=BASE)
    assert result.found["stale-pin"].script == (
        PREFIX + "K:pageout P 0; P:pin 0 ro long; P:write 0 v3"
    )
    assert reported_anywhere(result.found["stale-pin"].script, BASE, "stale-pin")
    assert result.new["stale-pin"].script == (
        PREFIX + "P:pin 0 rw long; K:pageout P 0; P:read 0; P:write 0 v4"
    )


def test_no_counterexample_under_linux_6x_at_the_default_depth():
    result = explore("linux-6.x", DEPTH, UNIVERSE)
    assert result.found == {}
    assert result.depth == DEPTH
    assert result.states > 5000
    assert [result.cell(kind) for kind in ("leak", "stale-pin")] == ["none up to 5"] * 2


def test_race_without_write_protect_seq_leaves_a_cow_shared_pin_that_goes_stale():
    policy = BASE.replace(write_protect_seq=False)
    race = find_race(policy)
    assert race == (
        PREFIX + "P:gupf 0 rw; P:fork_begin C; P:fork_check 0; P:gupf_pin; "
        "P:gupf_check; P:gupf_slow; P:fork_end; P:write 0 v8"
    )
    assert last_step_reports(race, policy, "stale-pin")
    k = run_actions(race.rsplit("; ", 1)[0], policy)  # before P's write: shared, pinned
    snap = k.snapshot()
    pin = next(h for h in snap.holders if h.name == "pin1")
    pte = next(p for p in snap.proc("P").ptes if p.addr == pin.addr)
    page = snap.page(pin.pfn)
    assert (page.mapcount, page.pincount, pte.write) == (2, 1, False)
    k = run_actions(race.split("; P:gupf_slow")[0], BASE)  # with write_protect_seq
    assert (k.process("P").gup_fast.stage, k.handle("pin1").pfn) == ("fallback", None)
    with pytest.raises(Busy, match="mmap_lock, held by fork"):
        apply(k, "P:gupf_slow")


def test_counterexample_steps_in_the_player_like_a_scenario():
    from cowlib.view.player import Player

    ce = explore(
        BASE.without("rule4"),
        4,
        Universe(ops=("write", "read", "pin_rw", "pageout")),
        baseline=BASE,
    ).new["stale-pin"]
    player = Player(ce.script, [BASE.without("rule4"), BASE])
    assert player.actions == list(ce.actions)
    assert [[v.kind for step in run.trace for v in step.violations] for run in player.runs] == [
        ["stale-pin"],
        [],
    ]


@pytest.mark.parametrize("preset", ["linux-5.11", "linux-6.x"])
def test_no_race_with_write_protect_seq_within_the_bound(preset):
    assert find_race(preset, RACE_DEPTH) is None


def test_race_universe_lets_gupf_run_between_fork_check_and_fork_share():
    k = run_actions(PREFIX + "P:fork_begin C", kernel=Kernel(BASE, record=False))
    assert moves(k, RACE_UNIVERSE, 1) == ["P:gupf 0 rw", "P:fork_check 0", "P:fork_end"]
    apply(k, "P:fork_check 0")
    assert moves(k, RACE_UNIVERSE, 2) == ["P:gupf 0 rw", "P:fork_share 0", "P:fork_end"]


def test_moves_of_the_default_universe_at_the_start():
    k = run_actions(UNIVERSE.prefix, kernel=Kernel(BASE, record=False))
    assert moves(k, UNIVERSE, 1) == [
        "P:write 0 v1",
        "P:pin 0 rw long",
        "P:read 0",
        "P:munmap 0",
        "P:mprotect 0 1 r",
        "P:mprotect 0 1 rw",
        "P:vmsplice 0",
        "P:pin 0 ro long",
        "K:pageout P 0",
        "P:fork C",
        "P:exit",
        "K:drain",
    ]


# -- deduplication ----------------------------------------------------------------------
SMALL = Universe(
    ops=(
        "write",
        "read",
        "fork",
        "exit",
        "munmap",
        "vmsplice",
        "pipe_read",
        "pin_rw",
        "device_write",
        "pageout",
        "drain",
    )
)


@pytest.mark.parametrize(
    "policy",
    [PRESETS["linux-5.7"], BASE.without("rule4"), PRESETS["linux-6.x"]],
    ids=lambda p: p.name,
)
def test_dedup_explores_fewer_states_with_the_same_verdicts(policy):
    merged = explore(policy, 4, SMALL, baseline=BASE)
    every = explore(policy, 4, SMALL, dedup=False, baseline=BASE)
    assert merged.states * 10 < every.states
    assert every.states == every.transitions + 1  # without dedup the search is a tree
    for verdicts in ("found", "new"):
        assert {kind: ce.length for kind, ce in getattr(merged, verdicts).items()} == {
            kind: ce.length for kind, ce in getattr(every, verdicts).items()
        }


def step(blob: bytes, action: str) -> tuple[frozenset[str], Kernel] | None:
    """The kernel after action, and the violations it reported; None if refused."""
    k = pickle.loads(blob)
    try:
        apply(k, action)
    except CowError:
        return None
    kinds = frozenset(v.kind for v in k.violations)
    k.violations.clear()
    return kinds, k


def every_sequence(policy, universe: Universe, depth: int):
    """(canonical state, pickled kernel) after every sequence up to depth, unpruned."""
    root = run_actions(universe.prefix, kernel=Kernel(policy, record=False))
    level = [pickle.dumps(root)]
    yield canonical_state(root), level[0]
    for n in range(1, depth + 1):
        following = []
        for blob in level:
            for action in moves(pickle.loads(blob), universe, n):
                if (stepped := step(blob, action)) is not None:
                    following.append(pickle.dumps(stepped[1]))
                    yield canonical_state(stepped[1]), following[-1]
        level = following


def reachable_states(policy, universe: Universe, depth: int) -> set:
    return {state for state, _ in every_sequence(policy, universe, depth)}


@pytest.mark.parametrize(
    "policy", [PRESETS["linux-5.9-rc4"], PRESETS["linux-6.x"]], ids=lambda p: p.name
)
def test_expanding_one_state_per_class_reaches_every_class(policy):
    assert explore(policy, 4, SMALL).states == len(reachable_states(policy, SMALL, 4))


def test_race_dedup_reaches_every_class():
    policy = BASE.replace(write_protect_seq=False)
    assert explore(policy, 6, RACE_UNIVERSE).states == len(
        reachable_states(policy, RACE_UNIVERSE, 6)
    )


def successors(blob: bytes, universe: Universe) -> set[tuple[frozenset[str], tuple]]:
    """Every next state's canonical form, with the violations reported on the way."""
    stepped = (step(blob, action) for action in moves(pickle.loads(blob), universe, 0))
    return {(kinds, canonical_state(k)) for kinds, k in filter(None, stepped)}


def merged_pairs(policy, universe: Universe, depth: int) -> list[tuple[bytes, bytes]]:
    """Per canonical state, the first and the last of the sequences that reach it."""
    first, last = {}, {}
    for state, blob in every_sequence(policy, universe, depth):
        (last if state in first else first)[state] = blob
    return [(first[state], last[state]) for state in last]


@pytest.mark.parametrize(
    ("policy", "universe", "depth"),
    [
        (PRESETS["linux-5.7"], UNIVERSE, 3),
        (BASE.without("rule4"), UNIVERSE, 3),
        (PRESETS["linux-6.x"], UNIVERSE, 3),
        (BASE, Universe(ops=("write", "read", "fork", "exit", "mprotect", "pageout"), pages=2), 3),
        (BASE.replace(write_protect_seq=False), RACE_UNIVERSE, 6),
    ],
    ids=["linux-5.7", "no-rule4", "linux-6.x", "two-pages", "race"],
)
def test_merged_states_have_the_same_next_steps(policy, universe, depth):
    """Dedup is a bisimulation: equal canonical states step to equal ones, same reports."""
    pairs = merged_pairs(policy, universe, depth)
    assert len(pairs) > 50
    for a, b in pairs:
        assert successors(a, universe) == successors(b, universe)


HANDLES = Universe(
    ops=("write", "read", "fork", "exit", "vmsplice", "pipe_read", "pin_rw", "pin_ro", "unpin")
)


def test_merged_handles_have_the_same_next_steps():
    """Handle symmetry is a bisimulation too: two pins taken in either order are one state."""
    assert key("P:pin 0 rw long; P:vmsplice 0") == key("P:vmsplice 0; P:pin 0 rw long")
    two_pins = "P:pin 0 ro long; P:vmsplice 0; P:pin 0 ro long; "
    assert key(two_pins + "pin1:unpin") == key(two_pins + "pin2:unpin") != key(two_pins)
    pairs = merged_pairs(PRESETS["linux-5.7"], HANDLES, 3)
    assert len(pairs) > 50
    for a, b in pairs:
        assert successors(a, HANDLES) == successors(b, HANDLES)


# -- the reductions against the unreduced search -----------------------------------------------
def unreduced(policy, universe: Universe, depth: int, symmetry: bool = False):
    """Breadth first, written out here and merging only equal canonical_state(symmetry):
    per kind the shortest length, and every reached state's canonical state with symmetry."""
    root = run_actions(universe.prefix, kernel=Kernel(policy, record=False))
    level, seen, reached, lengths = [root], {canonical_state(root, symmetry)}, set(), {}
    reached.add(canonical_state(root))
    for n in range(1, depth + 1):
        following = []
        for k in level:
            for action in moves(k, universe, n):
                child = pickle.loads(pickle.dumps(k))
                try:
                    apply(child, action)
                except CowError:
                    continue
                for v in child.violations:
                    lengths.setdefault(v.kind, n)
                child.violations.clear()
                reached.add(canonical_state(child))
                if (state := canonical_state(child, symmetry)) not in seen:
                    seen.add(state)
                    following.append(child)
        level = following
    return lengths, reached, len(seen)


@pytest.mark.parametrize(
    ("policy", "universe", "depth"),
    [
        (PRESETS["linux-5.7"], UNIVERSE, 3),
        (BASE.without("rule1"), HANDLES, 4),
        (BASE.without("rule4"), SMALL, 4),
        (PRESETS["linux-6.x"], UNIVERSE, 4),
        (BASE.replace(write_protect_seq=False), RACE_UNIVERSE, 8),
        (PRESETS["linux-6.x"], FOLIO_UNIVERSE, 3),
    ],
    ids=["linux-5.7", "no-rule1", "no-rule4", "linux-6.x", "race", "large-folio"],
)
def test_symmetry_finds_what_the_unreduced_search_finds(policy, universe, depth):
    """Same shortest length per kind and the same reachable canonical states, in fewer."""
    lengths, reached, unmerged = unreduced(policy, universe, depth)
    also_lengths, also_reached, merged = unreduced(policy, universe, depth, symmetry=True)
    reduced = explore(policy, depth, universe)
    plain = explore(policy, depth, universe, symmetry=False)
    assert {kind: ce.length for kind, ce in reduced.found.items()} == lengths == also_lengths
    assert {kind: ce.length for kind, ce in plain.found.items()} == lengths
    assert also_reached == reached  # every class the unreduced search reaches, and no other
    assert (reduced.states, plain.states) == (merged, unmerged) == (len(reached), unmerged)
    assert reduced.states < plain.states


def test_symmetry_off_keeps_states_that_differ_by_which_process_is_which():
    a, b = "K:drain; P:fork C; P:write 0 Y", "K:drain; P:fork C; C:write 0 Y"
    kernels = [run_actions(PREFIX + s, kernel=Kernel(BASE, record=False)) for s in (a, b)]
    assert canonical_state(kernels[0]) == canonical_state(kernels[1])
    assert canonical_state(kernels[0], False) != canonical_state(kernels[1], False)


@pytest.mark.parametrize(
    ("policy", "baseline", "universe", "depth"),
    [
        (PRESETS["linux-6.x"], None, UNIVERSE, 4),
        (BASE.without("rule3"), BASE, SMALL, 4),
        (BASE.replace(write_protect_seq=False), None, RACE_UNIVERSE, 8),
    ],
    ids=["linux-6.x", "no-rule3", "race"],
)
def test_parallel_search_gives_the_single_process_result(
    policy, baseline, universe, depth, monkeypatch
):
    monkeypatch.setattr(explore_module, "PARALLEL_FRONTIER", 2)  # workers from depth 2 on
    one = explore(policy, depth, universe, baseline=baseline)
    two = explore(policy, depth, universe, baseline=baseline, jobs=2)
    three = explore(policy, depth, universe, baseline=baseline, jobs=3)
    for r in (two, three):
        assert (r.found, r.new, r.states, r.transitions, r.new_states, r.explored) == (
            one.found, one.new, one.states, one.transitions, one.new_states, one.explored
        )  # fmt: skip
    assert one.found or policy.name == "linux-6.x"


@pytest.mark.parametrize(
    ("policy", "baseline", "universe", "depth", "jobs"),
    [
        (PRESETS["linux-6.x"], None, UNIVERSE, 4, 1),
        (BASE.without("rule1"), BASE, UNIVERSE, 5, 1),
        (BASE.without("rule4"), BASE, SMALL, 5, 2),
        (BASE.replace(write_protect_seq=False), None, RACE_UNIVERSE, 8, 2),
    ],
    ids=["linux-6.x", "no-rule1", "no-rule4-jobs-2", "race-jobs-2"],
)
def test_leaves_not_merged_give_the_same_verdicts(
    policy, baseline, universe, depth, jobs, monkeypatch
):
    """leaves=False applies and checks every action of the last depth, as leaves=True does;
    it only leaves that depth's states uncounted."""
    monkeypatch.setattr(explore_module, "PARALLEL_FRONTIER", 2)
    merged = explore(policy, depth, universe, baseline=baseline)
    unmerged = explore(policy, depth, universe, baseline=baseline, jobs=jobs, leaves=False)
    assert (unmerged.found, unmerged.new, unmerged.transitions, unmerged.explored) == (
        merged.found, merged.new, merged.transitions, merged.explored
    )  # fmt: skip
    if merged.depth == depth:  # the search went to the last depth (it may stop early)
        assert unmerged.new_states == (*merged.new_states[:-1], None)
        assert unmerged.states == merged.states - merged.new_states[-1]
        assert f"depth {depth}: leaves not merged, " in unmerged.per_depth()
    else:  # stopped early, once every kind was found: at a depth it merged
        assert (unmerged.states, unmerged.new_states) == (merged.states, merged.new_states)
    assert merged.found or policy.name == "linux-6.x"


def test_leaves_without_dedup_are_the_tree():
    """Without deduplication there is nothing to merge: leaves=False changes nothing."""
    r = explore(BASE, 3, SMALL, dedup=False, leaves=False)
    assert r.new_states[-1] is not None and r.states == r.transitions + 1


# -- the copy of a state ---------------------------------------------------------------------
IMMUTABLE = (str, int, float, bool, type(None), tuple, frozenset)


def mutable_parts(obj, seen=None) -> dict[int, object]:
    """Every mutable object reachable from obj (by id); tokens and the policy are frozen."""
    from dataclasses import fields, is_dataclass

    seen = {} if seen is None else seen
    if isinstance(obj, IMMUTABLE) or id(obj) in seen:
        if isinstance(obj, tuple):
            for item in obj:
                mutable_parts(item, seen)
        return seen
    if is_dataclass(obj) and type(obj).__dataclass_params__.frozen:
        return seen
    if hasattr(obj, "__self__") and hasattr(obj, "__func__"):  # a bound method
        return mutable_parts(obj.__self__, seen)
    seen[id(obj)] = obj
    if isinstance(obj, dict):
        items = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, set)):
        items = list(obj)
    else:
        assert not is_dataclass(obj) or all(hasattr(obj, f.name) for f in fields(obj))
        items = list(vars(obj).values())
    for item in items:
        mutable_parts(item, seen)
    return seen


def rich_kernels():
    """Kernels in many states: random sequences, the race mid-way, exits with pins left."""
    yield run_actions(
        PREFIX + "P:gupf 0 rw; P:fork_begin C; P:fork_check 0; P:gupf_pin",
        kernel=Kernel(BASE.replace(write_protect_seq=False), record=False),
    )
    yield run_actions(
        PREFIX + "P:pin 0 rw long; P:vmsplice 0; K:pageout P 0; P:fork C; P:exit; C:get 0",
        kernel=Kernel(PRESETS["linux-5.7"], record=False),
    )
    for seed in range(40):
        policy = list(PRESETS.values())[seed % len(PRESETS)]
        actions = random_actions(seed, length=14, pages=2, policy=policy)
        yield run_actions(actions, kernel=Kernel(policy, record=False))


def test_clone_is_the_pickle_copy_and_shares_nothing_mutable():
    for k in rich_kernels():
        copy = clone(k)
        if not explore_module.unknown_fields(k):  # the fast path, not pickle's round trip
            assert pickle.dumps(copy) == pickle.dumps(k)  # same values, same aliasing
        original, copied = mutable_parts(k), mutable_parts(copy)
        assert len(original) == len(copied)
        assert not original.keys() & copied.keys()


def test_clone_knows_every_field_of_the_model():
    """A field added to the model must be copied by clone() too (else it pickles, slowly)."""
    for k in rich_kernels():
        assert explore_module.unknown_fields(k) == []


def test_clone_steps_apart_from_its_original():
    k = run_actions(PREFIX + "P:fork C; P:pin 0 ro long", kernel=Kernel(BASE, record=False))
    before = pickle.dumps(k)
    copy = clone(k)
    for action in ("P:write 0 v3", "C:read 0", "pin1:unpin", "P:exit"):
        perform(copy, parse(action), action)
    assert pickle.dumps(k) == before
    assert [v.kind for v in copy.violations] == ["stale-pin"]


def key(script: str, policy=BASE) -> tuple:
    return canonical_state(run_actions(PREFIX + script, kernel=Kernel(policy, record=False)))


def test_canonical_state_ignores_names_values_and_pfn_numbers():
    assert key("P:fork C") == key("P:fork D")
    assert key("P:write 0 Y") == key("P:write 0 Z")
    assert key("P:write 0 Y") == key("")  # X is overwritten: nothing can show it again
    assert key("K:drain; P:fork C; P:write 0 Y") == key("K:drain; P:fork C; C:write 0 Y")
    assert key("P:fork C; C:exit; P:fork D") == key("P:fork C")
    two = "P:mmap 2; P:write 0 X; "
    assert canonical_state(run_actions(two + "P:mprotect 1 1 rw")) == canonical_state(
        run_actions(two)
    )  # a VMA split in two is the same memory
    swapped_in_first, written_first = (
        canonical_state(run_actions(two + f"K:pageout P 0; {script}; P:exit", "linux-5.7"))
        for script in ("P:read 0; P:write 1 Y", "P:write 1 Y; P:read 0")
    )
    assert swapped_in_first == written_first  # pages in the swap cache and LRU batch only


def test_canonical_state_keeps_what_decides_the_future():
    assert key("") != key("K:drain")  # the LRU batch's reference counts in page_count()
    assert key("") != key("P:pin 0 rw long; pin1:unpin")  # MMF_HAS_PINNED is sticky
    assert key("P:vmsplice 0") != key("P:vmsplice 0; P:fork C; C:exit")  # P's PTE stays r/o


# -- the table and the command --------------------------------------------------------------
def test_table_rows_are_the_presets_then_linux_5_11_without_each_rule():
    rows = table_rows()
    assert [(p.name, b and b.name) for p, b in rows] == [
        *((name, None) for name in PRESETS),
        *((f"linux-5.11 without rule{n}", "linux-5.11") for n in range(1, 5)),
    ]


def test_table_renders_text_and_markdown_from_parallel_rows():
    rows = [(PRESETS["linux-6.x"], None), (BASE.without("rule3"), BASE)]
    results = table(3, Universe(ops=("write", "fork", "pin_rw")), rows, jobs=2)
    assert [r.policy for r in results] == ["linux-6.x", "linux-5.11 without rule3"]
    assert render(results).splitlines() == [
        "policy                    leak          lost-write    stale-pin     accounting",
        "------------------------  ------------  ------------  ------------  ------------",
        "linux-6.x                 none up to 3  none up to 3  none up to 3  none up to 3",
        "linux-5.11 without rule3  none up to 3  none up to 3  3             none up to 3",
    ]
    assert render(results, markdown=True, new=True).splitlines() == [
        "| policy | leak | lost-write | stale-pin | accounting |",
        "|---|---|---|---|---|",
        "| linux-5.11 without rule3 | none up to 3 | none up to 3 | 3 | none up to 3 |",
    ]
    assert caption(results, new=True).startswith(
        "Length of the shortest counterexample that the baseline (linux-5.11) passes, in "
        'actions after "P:mmap 1; P:write 0 X"; universe: 2 live processes, 1 page'
    )


def test_command_echoes_parameters_then_prints_row_and_counterexamples(capsys):
    assert cowlib_main(["explore", "-p", "linux-5.11", "-w", "rule2", "-d", "4"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(
        "cowlib explore: policy=linux-5.11 without rule2 depth=4 procs=2 "
        "pages=1 ops=write,read,fork,"
    )
    assert "linux-5.11 without rule2  4     none up to 4  none up to 4  none up to 4" in out
    assert f"  leak (4): {PREFIX}P:fork C; P:pin 0 ro long; P:write 0 v3; C:read 0" in out
    assert "depth 4/4 done: leaves not merged" in err
    assert "\nlinux-5.11 without rule2: " in out and " distinct states to depth 3, " in out


def test_command_leaves_counts_the_last_depths_states(capsys):
    argv = ["explore", "-p", "linux-5.11", "-d", "3", "--ops", "write,read,fork,pin_ro"]
    assert cowlib_main([*argv, "--leaves"]) == 0
    merged = capsys.readouterr().out
    assert cowlib_main(argv) == 0
    unmerged = capsys.readouterr().out
    counted = explore(BASE, 3, Universe(("write", "read", "fork", "pin_ro")))
    assert merged.splitlines()[0].endswith(" ops=write,read,fork,pin_ro leaves=merged")
    assert f"linux-5.11: {counted.states} distinct states, " in merged
    assert f"depth 3: {counted.new_states[-1]} new states, " in merged
    expanded = counted.states - counted.new_states[-1]
    assert f"linux-5.11: {expanded} distinct states to depth 2, " in unmerged
    assert "depth 3: leaves not merged, " in unmerged
    assert merged.split("\n\n")[1] == unmerged.split("\n\n")[1]  # the same table


@pytest.mark.parametrize(
    "argv", [["--depth", "x"], ["-p", "linux-4.0"], ["-d", "-1"], ["--pages", "3"], ["--bogus"]]
)
def test_command_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


# -- --ops: the chapter's table from the command line -----------------------------------------
BOOK_OPS = "write,read,fork,vmsplice,pipe_read,pin_rw,pin_ro,device_write,pageout"
BOOK_TABLE = [
    "| policy | leak | lost-write | stale-pin | accounting |",
    "|---|---|---|---|---|",
    "| linux-5.7 | 4 | 5 | 3 | none up to 5 |",
    "| linux-5.8 | 4 | 5 | 3 | none up to 5 |",
    "| linux-5.9-rc4 | 4 | 5 | 3 | none up to 5 |",
    "| linux-5.11 | none up to 5 | none up to 5 | 3 | none up to 5 |",
    "| linux-5.18 | none up to 5 | none up to 5 | 3 | none up to 5 |",
    "| linux-6.x | none up to 5 | none up to 5 | none up to 5 | none up to 5 |",
    "| linux-5.11 without rule1 | 5 | none up to 5 | 3 | none up to 5 |",
    "| linux-5.11 without rule2 | 4 | none up to 5 | none up to 5 | none up to 5 |",
    "| linux-5.11 without rule3 | 4 | 5 | 3 | none up to 5 |",
    "| linux-5.11 without rule4 | 5 | none up to 5 | 3 | none up to 5 |",
]
BOOK_NEW_TABLE = [
    *BOOK_TABLE[:2],
    "| linux-5.11 without rule1 | 5 | none up to 5 | none up to 5 | none up to 5 |",
    "| linux-5.11 without rule2 | 4 | none up to 5 | none up to 5 | none up to 5 |",
    "| linux-5.11 without rule3 | 4 | 5 | 3 | none up to 5 |",
    "| linux-5.11 without rule4 | 5 | none up to 5 | 4 | none up to 5 |",
]
CHAPTER = Path(__file__).parents[1] / "book" / "explore.ipynb"


def chapter_cell(cell_id: str) -> dict:
    return next(c for c in json.loads(CHAPTER.read_text())["cells"] if c["id"] == cell_id)


def chapter_output(cell_id: str) -> list[str]:
    """A cell's printed caption, a blank line, then its stored Markdown table, as lines."""
    outputs = chapter_cell(cell_id)["outputs"]
    caption = "".join("".join(o["text"]) for o in outputs if o.get("name") == "stdout")
    table = next(o for o in outputs if "data" in o)["data"]["text/markdown"]
    return [caption.strip(), "", *"".join(table).splitlines()]


@pytest.fixture(scope="module")
def book_table_run() -> list[str]:
    """cowlib explore --table with the chapter's nine operations, as the chapter says."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert (
            cowlib_main(
                ["explore", "--table", "--markdown", "-d", "5", "--ops", BOOK_OPS, "-j", "2"]
            )
            == 0
        )
    return out.getvalue().splitlines()


def test_command_ops_reproduces_the_chapters_table(book_table_run):
    lines = book_table_run
    assert lines[0] == f"cowlib explore: table depth=5 procs=2 pages=1 ops={BOOK_OPS}"
    caption_line = (
        'Length of the shortest counterexample, in actions after "P:mmap 1; '
        'P:write 0 X"; universe: 2 live processes, 1 page, ops '
        f"{BOOK_OPS}; depth 5."
    )
    at = lines.index(caption_line)
    assert lines[at + 1 : at + 1 + len(BOOK_TABLE)] == BOOK_TABLE
    at = next(
        i
        for i, line in enumerate(lines)
        if line.startswith(
            "Length of the shortest counterexample that the baseline (linux-5.11) passes"
        )
    )
    assert lines[at + 1 : at + 1 + len(BOOK_NEW_TABLE)] == BOOK_NEW_TABLE


def test_chapter_shows_the_table_the_command_prints(book_table_run):
    """The chapter's stored tables (its cells explore-14 and explore-21) are the CLI's."""
    for cell_id, expected in [("explore-14", BOOK_TABLE), ("explore-21", BOOK_NEW_TABLE)]:
        shown = chapter_output(cell_id)
        assert shown[0] in book_table_run  # the caption, universe and depth included
        assert shown[2:] == expected
    markdown = "".join(chapter_cell("explore-39b")["source"])  # "Try it from the command line"
    assert f"cowlib explore --table -d 5 --ops {BOOK_OPS}" in markdown


DEPTH_SIX = {  # the chapter's counterexamples of length 6 (cell explore-39f), and its reading
    ("linux-5.11", "leak", ""): "P:vmsplice 0; K:pageout P 0; P:fork C; P:write 0 v4; "
    "C:write 0 v5; pipe1:read",
    ("linux-5.11", "lost-write", ""): "P:pin 0 rw long; P:mprotect 0 1 r; P:mprotect 0 1 rw; "
    "P:write 0 v4; pin1:write dma5; P:read 0",
    ("linux-5.11 without rule4", "lost-write", "yes"): "P:pin 0 rw long; K:pageout P 0; "
    "P:read 0; P:write 0 v4; pin1:write dma5; P:read 0",
}


def test_chapter_lists_the_depth_six_counterexamples():
    """Its stored table: linux-5.18 and the rule-4 row share linux-5.11's lost write."""
    rows = chapter_output("explore-39f")[4:]  # after the (empty) caption, header and rule
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in rows]
    shown = {(row, kind, passes): actions.strip("`") for row, kind, passes, actions in cells}
    lost = DEPTH_SIX[("linux-5.11", "lost-write", "")]
    assert shown == {
        **DEPTH_SIX,
        ("linux-5.18", "lost-write", ""): lost,
        ("linux-5.11 without rule4", "lost-write", ""): lost,
    }


@pytest.mark.parametrize(
    ("key", "reports", "passes"),
    [
        # swap-in reuse by reuse_swap_page() until c145e0b47c77 (5.18): S3's mechanism
        (("linux-5.11", "leak", ""), ["linux-5.11"], ["linux-5.18", "linux-6.x"]),
        # S9: page_count() counts the pin until PageAnonExclusive, 6c287605fd56 (5.19)
        (("linux-5.11", "lost-write", ""), ["linux-5.11", "linux-5.18"], ["linux-6.x"]),
        # S8: a pinned page in the swap cache, without feb889fb40fa's check
        (("linux-5.11 without rule4", "lost-write", "yes"), [BASE.without("rule4")], [BASE]),
    ],
)
def test_depth_six_counterexamples_are_what_the_chapter_says(key, reports, passes):
    actions = PREFIX + DEPTH_SIX[key]
    kind = key[1]
    for policy in reports:
        assert kind in {v.kind for v in run_actions(actions, policy).violations}
    for policy in passes:
        assert not run_actions(actions, policy).violations


def test_command_ops_with_a_policy_and_a_rule_off(capsys):
    assert (
        main(["-p", "linux-5.11", "-w", "rule2", "-d", "4", "--ops", "write, read,fork,pin_ro"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "cowlib explore: policy=linux-5.11 without rule2 depth=4 procs=2 "
        "pages=1 ops=write,read,fork,pin_ro\n"
    )
    assert "linux-5.11 without rule2  4     none up to 4  none up to 4  none up to 4" in out
    assert f"  leak (4): {PREFIX}P:fork C; P:pin 0 ro long; P:write 0 v3; C:read 0" in out


def test_command_ops_with_race_keeps_the_race_depth(capsys):
    assert main(["--race", "-p", "linux-5.11", "--ops", "read"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"cowlib explore: policy=linux-5.11 depth={RACE_DEPTH} procs=2 pages=1 ops=read\n"
    )
    assert "linux-5.11: 1 distinct states, 1 explored" in out  # reading changes nothing


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ("write,bogus", "unknown operation 'bogus'; valid operations: "),
        ("wrte,fork,gupf", "unknown operations 'wrte', 'gupf'; valid operations: "),
        ("write,", "unknown operation ''; valid operations: "),
        ("write,read,write", "operation listed twice: write"),
    ],
)
def test_command_bad_ops_exit_2_listing_the_valid_names(ops, message, capsys):
    assert main(["--ops", ops]) == 2
    err = capsys.readouterr().err
    assert f"cowlib explore: error: argument --ops: {message}" in err
    if "valid" in message:
        assert err.rstrip().endswith(", ".join(OPS))
        assert "write, read, fork, exit, munmap" in err and "gupf_slow" in err


def test_clone_of_a_kernel_with_large_folios_and_files_is_exact():
    """Subpages point back at their folio: clone() pickles such a state, and copies the
    page cache, PMDs and MADV_DONTNEED's detached holders of any state."""
    scripts = (
        "P:mmap 32 thp=5; P:write 16 X; P:fork C; C:vmsplice 16; P:mprotect 19 1 r",
        "K:memfd f 4; P:mmap 4 file=f; P:read 0; P:write 1 Y",
        "P:mmap 2; P:write 0 X; P:get 0; P:madvise 0 1 dontneed",
    )
    for script in scripts:
        k = run_actions(script, kernel=Kernel(BASE, record=False))
        copy = clone(k)
        if explore_module._has_large_folios(k.machine):  # pickled: compare with pickle's
            assert pickle.dumps(copy) == pickle.dumps(pickle.loads(pickle.dumps(k)))
            continue  # round trip's layout; a pickled copy shares nothing
        assert pickle.dumps(copy) == pickle.dumps(k)
        original, copied = mutable_parts(k), mutable_parts(copy)
        assert not original.keys() & copied.keys()


def test_a_large_folio_universe_dedups_without_losing_a_verdict():
    """One PTE-mapped large folio of four pages (an order-2 mTHP on linux-6.x, a stand-in
    for a PTE-mapped THP before): the canonical state encodes the folio (head, each
    page's place, counts), so merging states loses nothing the tree finds."""
    merged = explore("linux-6.x", 3, FOLIO_UNIVERSE)
    every = explore("linux-6.x", 3, FOLIO_UNIVERSE, dedup=False)
    assert merged.states * 10 < every.states
    assert {k: ce.length for k, ce in merged.found.items()} == {
        k: ce.length for k, ce in every.found.items()
    }
    older = explore("linux-5.11", 3, FOLIO_UNIVERSE)  # the R/O pin of a PTE-mapped THP
    assert older.found["stale-pin"].actions[2:] == ("P:fork C", "P:pin 0 ro long", "P:write 0 v3")


def test_a_thp_universe_needs_whole_folios():
    with pytest.raises(BadArgument, match="multiple of its 4 pages"):
        Universe(pages=3, thp=2)
    with pytest.raises(BadArgument, match="folio order >= 2"):
        Universe(pages=2, thp=1)


def test_cli_thp_universe_errors_name_the_problem(capsys):
    assert main(["--thp", "1"]) == 2
    captured = capsys.readouterr()
    assert "folio order >= 2" in captured.err and captured.out == ""


def test_cli_thp_universe_searches_one_large_folio(capsys):
    ops = "write,read,fork,exit,mprotect,vmsplice,pipe_read,pin_ro,unpin"
    assert main(["-p", "linux-5.11", "--thp", "2", "--ops", ops, "-d", "3"]) == 0
    out = capsys.readouterr().out
    assert "P:mmap 4 thp=2; P:write 0 X; P:fork C; P:pin 0 ro long; P:write 0 v3" in out
