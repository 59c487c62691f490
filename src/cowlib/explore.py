"""Let the machine find the bugs: bounded exhaustive search for minimal counterexamples.

explore() enumerates every operation sequence up to a depth over a small Universe (at
most N live processes, one or two pages, a chosen set of operations), breadth first,
merging states that are equal up to renaming (canonical_state). For each violation kind
the oracle reports (leak, lost-write, stale-pin, accounting) it returns the shortest
counterexample as a replayable action string: cowlib.actions.run_actions and the views'
Player step it like any named scenario.

    from cowlib import PRESETS
    from cowlib.explore import explore, find_race, render, table
    explore(PRESETS["linux-5.11"].without("rule1")).found["leak"].script
    find_race(PRESETS["linux-5.11"].replace(write_protect_seq=False))
    print(render(table(), markdown=True))

Every search starts from the fixed prefix "P:mmap N; P:write 0 X" (one private mapping
of N pages, the first one populated): depths and counterexample lengths count the
actions after it. Writes store a new value each time (v1, v2, ... by depth; dma1, ...
for device writes), so a leak is observable; the oracle tells values apart by write, and
deduplication looks only at which values are equal, never at their names.

table() searches every preset and linux-5.11 without each of Linus's rules. A row with
a baseline also keeps the shortest counterexample the baseline passes (Result.new): the
bug the switched-off rule lets in, even when linux-5.11 has a shorter bug of the same
kind elsewhere (its R/O pins go stale without any rule broken; 5.19 fixed that).

The fork / GUP-fast race (57efa1fe5957) needs finer steps than whole system calls:
RACE_UNIVERSE splits fork into fork_begin (write_protect_seq becomes odd), per PTE
fork_check and fork_share, and fork_end, and lets a second thread of the process run
pin_user_pages_fast() as gupf (sample the seqcount, read the PTE), gupf_pin, gupf_check
(re-check the PTE, and the seqcount if the era has it) and gupf_slow (the fallback, which
waits for fork). fork_check and fork_share are separate steps because the real race sits
inside copy_present_pte(): between its page_maybe_dma_pinned() test and its
ptep_set_wrprotect() a GUP-fast on another CPU can pin the page through the
still-writable PTE.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import chain, count, groupby, permutations, product

from .actions import apply, run_actions
from .errors import BadArgument, CowError
from .kernel import Kernel, Process
from .mm import MMAP_BASE
from .oracle import VIOLATION_KINDS
from .page import PAGE_SIZE, ZERO_PFN, ZERO_TOKEN, Token
from .policy import NEWEST, PRESETS, RULES, Policy, get_policy

OPS: dict[str, str] = {
    "write": "P:write I vN (a new value every time)",
    "read": "P:read I",
    "fork": "P:fork C (a fresh name)",
    "exit": "P:exit",
    "munmap": "P:munmap I",
    "mprotect": "P:mprotect I 1 r, P:mprotect I 1 rw",
    "vmsplice": "P:vmsplice I (FOLL_GET into a pipe)",
    "pipe_read": "pipe1:read",
    "pin_rw": "P:pin I rw long (FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM)",
    "pin_ro": "P:pin I ro long (FOLL_PIN|FOLL_LONGTERM)",
    "device_read": "pin1:read",
    "device_write": "pin1:write dmaN",
    "unpin": "pin1:unpin",
    "pageout": "K:pageout P I (MADV_PAGEOUT)",
    "drain": "K:drain (lru_add_drain)",
    "fork_begin": "P:fork_begin C",
    "fork_check": "P:fork_check I (copy_present_pte up to its pinned test)",
    "fork_share": "P:fork_share I (ptep_set_wrprotect, map in the child)",
    "fork_end": "P:fork_end",
    "gupf_rw": "P:gupf I rw (another thread: sample write_protect_seq, read the PTE)",
    "gupf_pin": "P:gupf_pin",
    "gupf_check": "P:gupf_check",
    "gupf_slow": "P:gupf_slow",
}
"""The operations a universe may use, each with the actions it stands for."""

TABLE_OPS = ("write", "read", "fork", "exit", "munmap", "mprotect", "vmsplice", "pipe_read",
             "pin_rw", "pin_ro", "device_read", "device_write", "unpin", "pageout", "drain")
RACE_OPS = ("write", "read", "fork_begin", "fork_check", "fork_share", "fork_end",
            "gupf_rw", "gupf_pin", "gupf_check", "gupf_slow")
PREFIX_VALUE = "X"


@dataclass(frozen=True)
class Universe:
    """What the search may do: operations, live processes at once, pages in the mapping."""

    ops: tuple[str, ...] = TABLE_OPS
    procs: int = 2
    pages: int = 1

    def __post_init__(self) -> None:
        unknown = [op for op in self.ops if op not in OPS]
        if unknown:
            raise BadArgument(f"unknown operations {unknown}; operations: {', '.join(OPS)}")
        if self.procs < 1 or self.pages < 1:
            raise BadArgument(f"a universe needs procs >= 1 and pages >= 1, not "
                              f"procs={self.procs} pages={self.pages}")

    @property
    def prefix(self) -> tuple[str, ...]:
        """The fixed start of every sequence: P maps the pages and populates page 0."""
        return (f"P:mmap {self.pages}", f"P:write 0 {PREFIX_VALUE}")

    def describe(self) -> str:
        return (f"{self.procs} live processes, {self.pages} page{'s' * (self.pages > 1)}, "
                f"ops {','.join(self.ops)}")


UNIVERSE = Universe()
RACE_UNIVERSE = Universe(ops=RACE_OPS)
DEPTH = 5
"""Deep enough for every rule's counterexample on linux-5.11 (rule 1 needs 5)."""
RACE_DEPTH = 12
"""Four more than the race needs (8 actions after the prefix)."""


@dataclass(frozen=True)
class Counterexample:
    """The shortest sequence found that makes the oracle report kind."""

    kind: str
    actions: tuple[str, ...]  # replayable with run_actions; the universe's prefix included
    length: int  # actions after the prefix
    message: str  # the oracle's report on the last action

    @property
    def script(self) -> str:
        """The action string, as scenarios and the CLI's -A take it."""
        return "; ".join(self.actions)


@dataclass(frozen=True)
class Result:
    """What one bounded search found, and what it cost."""

    policy: str
    depth: int
    universe: Universe
    found: dict[str, Counterexample]  # violation kind -> shortest counterexample
    states: int  # distinct states reached (after deduplication), the prefix's included
    transitions: int  # actions applied: states explored before deduplication
    seconds: float
    new_states: tuple[int, ...]  # distinct new states at depth 1, 2, ...
    baseline: str | None = None
    new: dict[str, Counterexample] = field(default_factory=dict)  # ones the baseline passes

    def cell(self, kind: str, new: bool = False) -> str:
        """A table cell: the shortest length, or none up to the depth."""
        found = (self.new if new else self.found).get(kind)
        return str(found.length) if found else f"none up to {self.depth}"


class ModelCrash(RuntimeError):
    """The model raised something other than a CowError: a bug in cowlib, with its path."""


class SearchKernel(Kernel):
    """A Kernel that keeps no snapshots: the search stores states, never traces.

    Counterexamples are replayed on a plain Kernel, so what a reader steps through is
    the model's ordinary trace.
    """

    def snapshot(self) -> None:  # type: ignore[override]
        return None


# -- the moves of a universe ----------------------------------------------------------------
def moves(k: Kernel, universe: Universe, n: int) -> list[str]:
    """Every action of the universe worth trying in k's state (n numbers the new values).

    Only cheap, obvious validity is checked here (mapped page, writable VMA); the model
    itself refuses the rest with a CowError, which the search skips.
    """
    live = k.live_procs()
    child = _child_name(k)
    candidates: list[tuple[str, str]] = []
    for p in live:
        if p.forked_by is not None:
            continue  # still being built by its parent's fork
        candidates += _process_moves(p, universe, n, child if len(live) < universe.procs
                                     else None)
    for h in k.live_handles():
        if h.kind == "pipe":
            candidates.append(("pipe_read", f"{h.name}:read"))
        elif h.kind == "pin":
            candidates += [("device_read", f"{h.name}:read"), ("unpin", f"{h.name}:unpin")]
            if h.writable:
                candidates.append(("device_write", f"{h.name}:write dma{n}"))
    candidates.append(("drain", "K:drain"))
    ops = set(universe.ops)
    return [action for op, action in candidates if op in ops]


def _child_name(k: Kernel) -> str:
    """A process name k has not used yet: C, D, ..., then C2, C3, ... (never K nor P)."""
    names = chain("CDEFGHIJLMNOQRSTUVWXYZ", (f"C{i}" for i in count(2)))
    return next(name for name in names if name not in k.procs)


def _process_moves(p: Process, universe: Universe, n: int, child: str | None
                   ) -> Iterator[tuple[str, str]]:
    name = p.name
    if p.gup_fast is None:
        for i in range(universe.pages):
            vma = p.mm.find_vma(MMAP_BASE + i * PAGE_SIZE)
            if vma is not None and vma.write:
                yield "gupf_rw", f"{name}:gupf {i} rw"
    else:
        for verb in ("gupf_pin", "gupf_check", "gupf_slow"):
            yield verb, f"{name}:{verb}"
    if p.fork_child is None:
        for i in range(universe.pages):
            vma = p.mm.find_vma(MMAP_BASE + i * PAGE_SIZE)
            if vma is None:
                continue
            if vma.write:
                yield "write", f"{name}:write {i} v{n}"
                yield "pin_rw", f"{name}:pin {i} rw long"
            yield "read", f"{name}:read {i}"
            yield "munmap", f"{name}:munmap {i}"
            yield "mprotect", f"{name}:mprotect {i} 1 r"
            yield "mprotect", f"{name}:mprotect {i} 1 rw"
            yield "vmsplice", f"{name}:vmsplice {i}"
            yield "pin_ro", f"{name}:pin {i} ro long"
            yield "pageout", f"K:pageout {name} {i}"
        if child is not None:
            yield "fork", f"{name}:fork {child}"
            yield "fork_begin", f"{name}:fork_begin {child}"
        yield "exit", f"{name}:exit"
    else:
        for addr, step in p.fork_pending.items():
            yield f"fork_{step}", f"{name}:fork_{step} {(addr - MMAP_BASE) // PAGE_SIZE}"
        yield "fork_end", f"{name}:fork_end"


# -- deduplication --------------------------------------------------------------------------
class _Ids:
    """Names by first appearance in a canonical walk: pfns, swap slots, tokens, token sets.

    Tokens matter only through equality and set membership, so a token no page and no
    swap slot holds (a dead value: nothing can show it again) is -1, and sets keep only
    live tokens. The zero page and the zero token keep id 0: new pages start from them.
    A token is known by its seq, unique in a kernel.
    """

    def __init__(self, k: Kernel) -> None:
        self.pfns: dict[int, int] = {ZERO_PFN: 0}
        self.slots: dict[int, int] = {}
        self.tokens: dict[int, int] = {ZERO_TOKEN.seq: 0}
        self.live = ({pg.data.seq for pg in k.pages.values()}
                     | {s.data.seq for s in k.swap.slots.values()})
        self.sets: dict[int, tuple[int, set[Token]]] = {}  # id(set) -> (index, set)

    def pfn(self, pfn: int | None) -> int:
        return -1 if pfn is None else self.pfns.setdefault(pfn, len(self.pfns))

    def slot(self, slot: int | None) -> int:
        return -1 if slot is None else self.slots.setdefault(slot, len(self.slots))

    def token(self, token: Token) -> int:
        seq = token.seq
        if seq in self.tokens:
            return self.tokens[seq]
        return self.tokens.setdefault(seq, len(self.tokens)) if seq in self.live else -1

    def tokset(self, tokens: set[Token]) -> int:
        """Sets by identity: a pipe's allowed values alias its creator's history."""
        return self.sets.setdefault(id(tokens), (len(self.sets), tokens))[0]

    def set_contents(self) -> tuple[tuple[int, ...], ...]:
        out = []
        for _, tokens in self.sets.values():
            seqs = sorted(t.seq for t in tokens if t.seq in self.live)
            out.append(tuple(sorted(self.tokens.setdefault(seq, len(self.tokens))
                                    for seq in seqs)))
        return tuple(out)


def canonical_state(k: Kernel, symmetry: bool = True) -> tuple:
    """k's state with every arbitrary name replaced by its order of appearance.

    Two kernels with the same canonical state have the same future: the same actions
    (up to the names in them) are valid and report the same violations. Kept: for each
    live process its VMAs, PTEs, fork and GUP-fast progress, MMF_HAS_PINNED,
    write_protect_seq's parity, and the oracle's logical values and histories; every
    live handle; every page's counters, flags and data; swap slots; the LRU batch; the
    pins already reported stale. Dropped: process and handle names, pids, pfn and slot
    numbers, written values, dead tokens, released handles, stats. With symmetry, the
    live processes are taken in the order that gives the smallest encoding, so states
    that differ only by which process did what are one state.
    """
    procs = k.live_procs()
    if not symmetry or len(procs) < 2:
        return _encode(k, procs)
    signed = sorted(((_signature(p), i, p) for i, p in enumerate(procs)),
                    key=lambda s: s[:2])
    groups = [[p for _, _, p in group] for _, group in groupby(signed, key=lambda s: s[0])]
    if len(groups) == len(procs):
        return _encode(k, [p for _, _, p in signed])
    return min(_encode(k, [p for group in order for p in group])
               for order in product(*(permutations(g) for g in groups)))


def _signature(p: Process) -> tuple:
    """What a process looks like without naming anything: orders processes cheaply."""
    mm = p.mm
    return (tuple((a, pte.pfn is None, pte.pfn == ZERO_PFN, pte.write)
                  for a, pte in sorted(mm.ptes.items())),
            tuple(sorted(_protections(p).items())), p.fork_child is not None,
            p.forked_by is not None, mm.has_pinned, mm.write_protect_seq % 2,
            "" if p.gup_fast is None else p.gup_fast.stage)


def _protections(p: Process) -> dict[int, int]:
    """Page address -> 1 (read-only) or 2 (read-write): VMAs without their split points."""
    return {a: 1 + v.write for v in p.mm.vmas for a in range(v.start, v.end, PAGE_SIZE)}


def _encode(k: Kernel, procs: list[Process]) -> tuple:
    ids = _Ids(k)
    pfn, slot, token, tokset = ids.pfn, ids.slot, ids.token, ids.tokset
    pidx = {p.name: i for i, p in enumerate(procs)}
    handles = k.live_handles()
    hidx = {h.name: i for i, h in enumerate(handles)}
    out_procs = []
    for p in procs:
        mm, logical, history = p.mm, k.oracle.logical[p.name], k.oracle.history[p.name]
        prot = _protections(p)
        pages = []
        for a in sorted(prot.keys() | mm.ptes.keys() | logical.keys()):
            pte, value, seen = mm.ptes.get(a), logical.get(a), history.get(a)
            pages.append((
                a, prot.get(a, 0),
                (-2, -2, False, False) if pte is None else
                (pfn(pte.pfn), slot(pte.swap), pte.write, pte.swp_exclusive),
                -2 if value is None else token(value), -1 if seen is None else tokset(seen),
                p.fork_pending.get(a, "")))
        g = p.gup_fast
        gup = () if g is None else (
            hidx[g.handle.name], -1 if g.seq is None else int(g.seq == mm.write_protect_seq),
            g.stage, -1 if g.pte is None else pfn(g.pte[0]), g.pte is not None and g.pte[1])
        out_procs.append((tuple(pages), pidx[p.fork_child.name] if p.fork_child else -1,
                          pidx[p.forked_by.name] if p.forked_by else -1, mm.has_pinned,
                          mm.write_protect_seq % 2, mm.next_addr, gup))
    out_handles = []
    for h in handles:
        owner = h.owner
        in_flight = owner.gup_fast is not None and owner.gup_fast.handle is h
        out_handles.append((h.kind, pidx[owner.name] if owner.alive else -1, h.addr,
                            h.writable, h.longterm, pfn(h.pfn), tokset(h.allowed),
                            h.name in k.oracle.stale, in_flight))
    batch = set(k.lru_batch)
    for pg in sorted((pg for n, pg in k.pages.items() if n not in ids.pfns),
                     key=lambda pg: (pg.refcount, pg.pincount, pg.swapcache is not None,
                                     pg.pfn in batch, ids.tokens.get(pg.data.seq, -1))):
        pfn(pg.pfn)  # pages only the LRU batch or the swap cache holds
    pages_out = []
    for n in list(ids.pfns):
        pg = k.pages.get(n)
        pages_out.append((-3,) if pg is None else (  # a freed page still referenced
            token(pg.data), pg.refcount, pg.mapcount, pg.pincount, pg.anon_exclusive,
            slot(pg.swapcache), pg.lru))
    for n in sorted(k.swap.slots):
        slot(n)
    slots_out = []
    for n in list(ids.slots):
        s = k.swap.slots.get(n)
        slots_out.append((-3,) if s is None else (token(s.data), s.count, pfn(s.cache)))
    return (tuple(out_procs), tuple(out_handles), tuple(sorted(pfn(n) for n in batch)),
            tuple(pages_out), tuple(slots_out), ids.set_contents())


# -- the search -------------------------------------------------------------------------------
def explore(policy: str | Policy | None = None, depth: int = DEPTH,
            universe: Universe = UNIVERSE, dedup: bool = True,
            kinds: Iterable[str] = VIOLATION_KINDS, baseline: str | Policy | None = None,
            progress: Callable[[str], None] | None = None) -> Result:
    """Breadth-first search of every action sequence of up to depth actions.

    A state is a pickled SearchKernel; with dedup, a state whose canonical_state was
    already reached (at this depth or a shallower one) is not expanded again. Breadth
    first, the first counterexample found for a kind is a shortest one. With a baseline
    policy, Result.new also keeps, per kind, the shortest counterexample the baseline
    does not reproduce (replayed on a plain Kernel): the bug a switched-off rule let in.
    The search stops early once every kind in kinds has its counterexample(s).
    """
    policy = get_policy(policy)
    base = None if baseline is None else get_policy(baseline)
    if depth < 0:
        raise BadArgument(f"depth must be >= 0, not {depth}")
    wanted = set(kinds)
    start = time.perf_counter()
    root = run_actions(universe.prefix, kernel=SearchKernel(policy))
    root.trace.clear()
    frontier = [(pickle.dumps(root, pickle.HIGHEST_PROTOCOL), ())]
    seen = {canonical_state(root)}
    found: dict[str, Counterexample] = {}
    new: dict[str, Counterexample] = {}
    transitions, new_states, reached = 0, [], depth
    last_report = start
    for n in range(1, depth + 1):
        successors = []
        for done, (blob, path) in enumerate(frontier):
            for action in moves(pickle.loads(blob), universe, n):
                actions = universe.prefix + path + (action,)
                k = pickle.loads(blob)
                try:
                    apply(k, action)
                except CowError:
                    continue
                except Exception as e:
                    raise ModelCrash(f"{policy.name}: the model crashed on "
                                     f"\"{'; '.join(actions)}\": {e!r}") from e
                transitions += 1
                for v in k.trace[-1].violations:
                    example = Counterexample(v.kind, actions, n, v.message)
                    found.setdefault(v.kind, example)
                    if base and v.kind not in new and not _reproduces(base, actions, v.kind):
                        new[v.kind] = example
                k.trace.clear()
                if dedup:
                    key = canonical_state(k)
                    if key in seen:
                        continue
                    seen.add(key)
                successors.append((pickle.dumps(k, pickle.HIGHEST_PROTOCOL) if n < depth
                                   else b"", path + (action,)))
            if progress and time.perf_counter() - last_report > 2:
                last_report = time.perf_counter()
                progress(f"{policy.name}: depth {n}/{depth}, {done + 1}/{len(frontier)} "
                         f"states expanded, {transitions} explored, "
                         f"{last_report - start:.0f} s")
        new_states.append(len(successors))
        frontier = successors
        if progress:
            progress(f"{policy.name}: depth {n}/{depth} done: {len(successors)} new states, "
                     f"{transitions} explored, {time.perf_counter() - start:.1f} s")
        if wanted <= set(found) and (base is None or wanted <= set(new)):
            reached = n
            break
        if not frontier:
            break
    return Result(policy.name, reached, universe, _ordered(found), 1 + sum(new_states),
                  transitions, time.perf_counter() - start, tuple(new_states),
                  None if base is None else base.name, _ordered(new))


def _ordered(found: dict[str, Counterexample]) -> dict[str, Counterexample]:
    return {kind: found[kind] for kind in VIOLATION_KINDS if kind in found}


def _reproduces(policy: Policy, actions: tuple[str, ...], kind: str) -> bool:
    """Does the same sequence make the oracle report kind under policy too?

    A sequence the policy refuses (a CowError) counts as reproduced: it proves nothing.
    """
    try:
        k = run_actions(actions, policy)
    except CowError:
        return True
    return any(v.kind == kind for v in k.violations)


def find_race(policy: str | Policy | None = None, depth: int = RACE_DEPTH) -> str | None:
    """The shortest interleaving of fork and a GUP-fast pin that leaves a stale pin.

    Searches RACE_UNIVERSE (fork and pin_user_pages_fast split into their steps, plus
    reads and writes) for a stale-pin; returns its action string, or None within depth.
    Only R/W pins take part: a R/O pin of a shared page goes stale before 5.19 without
    any race (S10).
    """
    found = explore(policy, depth, RACE_UNIVERSE, kinds=("stale-pin",)).found
    return found["stale-pin"].script if "stale-pin" in found else None


# -- the results table ---------------------------------------------------------------------
Row = tuple[Policy, Policy | None]
"""A table row: the policy searched, and the baseline its new counterexamples must pass."""


def table_rows() -> list[Row]:
    """Every preset, then linux-5.11 with each of Linus's rules off (baseline linux-5.11)."""
    base = PRESETS["linux-5.11"]
    return [*((p, None) for p in PRESETS.values()),
            *((base.without(rule), base) for rule in RULES)]


def table(depth: int = DEPTH, universe: Universe = UNIVERSE, rows: Sequence[Row] | None = None,
          jobs: int | None = None, progress: Callable[[str], None] | None = None
          ) -> list[Result]:
    """explore() every row (table_rows() by default), rows in parallel processes."""
    rows = table_rows() if rows is None else rows
    jobs = jobs or min(len(rows), os.cpu_count() or 1)
    if jobs == 1:
        return [explore(p, depth, universe, baseline=b, progress=progress) for p, b in rows]
    results: dict[int, Result] = {}
    with ProcessPoolExecutor(jobs) as pool:
        futures = {pool.submit(explore, p, depth, universe, baseline=b): i
                   for i, (p, b) in enumerate(rows)}
        for future in as_completed(futures):
            result = results[futures[future]] = future.result()
            if progress:
                progress(f"{len(results)}/{len(rows)} rows: {result.policy} "
                         f"({result.states} states, {result.seconds:.1f} s)")
    return [results[i] for i in range(len(rows))]


def render(results: Sequence[Result], markdown: bool = False, new: bool = False) -> str:
    """The table as text (fixed width) or Markdown: length of the shortest counterexample.

    With new, only the rows that have a baseline, counting only counterexamples the
    baseline passes.
    """
    header = ["policy", *VIOLATION_KINDS]
    rows = [[r.policy, *(r.cell(kind, new) for kind in VIOLATION_KINDS)]
            for r in results if not new or r.baseline]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in [header, [("-" * w) for w in widths], *rows]]
    return "\n".join(lines)


def caption(results: Sequence[Result], new: bool = False) -> str:
    """What the cells of render(results, new=new) count, and in which universe."""
    r = results[0]
    what = ("Length of the shortest counterexample" if not new else
            "Length of the shortest counterexample that the baseline "
            f"({', '.join(sorted({r.baseline for r in results if r.baseline}))}) passes")
    return (f"{what}, in actions after \"{'; '.join(r.universe.prefix)}\"; universe: "
            f"{r.universe.describe()}; depth {r.depth}.")


# -- the command ---------------------------------------------------------------------------
def _ops(text: str) -> tuple[str, ...]:
    """--ops: a comma-separated list of OPS names, each once, in the order given."""
    ops = tuple(op.strip() for op in text.split(","))
    unknown = [op for op in ops if op not in OPS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown operation{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}; "
            f"valid operations: {', '.join(OPS)}")
    twice = sorted({op for op in ops if ops.count(op) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"operation listed twice: {', '.join(twice)}")
    return ops


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cowlib explore",
        description="Bounded exhaustive search for the shortest sequence that leaks, loses "
                    "a write, leaves a stale pin or breaks accounting.")
    ap.add_argument("-p", "--policy", default=NEWEST, help="a preset (default %(default)s)")
    ap.add_argument("-w", "--without", action="append", default=[], choices=list(RULES),
                    help="turn one of Linus's rules off (repeatable); counterexamples the "
                         "preset itself passes are listed apart")
    ap.add_argument("-d", "--depth", type=int, help=f"actions after the prefix (default "
                    f"{DEPTH}, {RACE_DEPTH} with --race)")
    ap.add_argument("--procs", type=int, default=2, help="live processes at most (default 2)")
    ap.add_argument("--pages", type=int, default=1, choices=(1, 2))
    ap.add_argument("--ops", type=_ops, metavar="OP[,OP...]",
                    help=f"the operations of the universe (default: the {len(TABLE_OPS)} "
                         f"of the table, or with --race the {len(RACE_OPS)} of the race "
                         f"universe); any of {', '.join(OPS)}")
    ap.add_argument("--race", action="store_true",
                    help="the fork / GUP-fast race universe (split fork and GUP-fast); "
                         "with --ops, only its default depth")
    ap.add_argument("--table", action="store_true",
                    help="every preset and linux-5.11 without each rule (ignores -p, -w)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("-j", "--jobs", type=int, help="processes for the rows (default: cores)")
    return ap


def main(argv: Sequence[str]) -> int:
    """cowlib explore: echo the parameters, search, print the table and counterexamples."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        ops = args.ops or (RACE_UNIVERSE if args.race else UNIVERSE).ops
        universe = Universe(ops, args.procs, args.pages)
        depth = args.depth if args.depth is not None else RACE_DEPTH if args.race else DEPTH
        if args.table:
            rows = table_rows()
        else:
            base = get_policy(args.policy)
            rows = [(base.without(*args.without), base) if args.without else (base, None)]
        print(f"cowlib explore: {'table' if args.table else 'policy=' + rows[0][0].name} "
              f"depth={depth} procs={universe.procs} pages={universe.pages} "
              f"ops={','.join(universe.ops)}\n  prefix \"{'; '.join(universe.prefix)}\"",
              flush=True)
        results = table(depth, universe, rows, args.jobs,
                        lambda line: print(line, file=sys.stderr, flush=True))
    except CowError as e:
        print(f"cowlib explore: error: {e}", file=sys.stderr)
        return 2
    print(f"\n{caption(results)}\n{render(results, args.markdown)}")
    if any(r.baseline for r in results):
        print(f"\n{caption(results, new=True)}\n{render(results, args.markdown, new=True)}")
    for r in results:
        print(f"\n{r.policy}: {r.states} distinct states, {r.transitions} explored in "
              f"{r.seconds:.1f} s ({r.transitions / max(r.seconds, 1e-9):.0f} explored/s)")
        for ce in r.found.values():
            print(f"  {ce.kind} ({ce.length}): {ce.script}\n    {ce.message}")
        for ce in r.new.values():
            if ce != r.found[ce.kind]:
                print(f"  {ce.kind} that {r.baseline} passes ({ce.length}): {ce.script}\n"
                      f"    {ce.message}")
    return 0
