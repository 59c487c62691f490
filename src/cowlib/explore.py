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

What keeps it fast: symmetry (processes and handles are interchangeable names, so a
state and its renamings are one state), clone() (a copy of a Kernel(record=False) that
shares its frozen parts, instead of pickling), actions parsed once, jobs (the last
depth's frontier split over forked workers, merged in frontier order so that the result
does not depend on their number), and leaves=False (the last depth's states are checked
by the oracle but not merged: nothing expands them, so only their count needs their
canonical states, and that is most of the encoding work; the verdicts are the same).

table() searches every preset and linux-5.11 without each of Linus's rules. A row with
a baseline also keeps the shortest counterexample the baseline passes (SearchResult.new): the
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
import gc
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from itertools import groupby, permutations, product
from multiprocessing import get_context
from typing import Any

from .actions import perform, run_actions
from .errors import BadArgument, CowError
from .grammar import parse
from .gup import GupFast
from .kernel import Kernel, Process
from .machine import Holder, Machine, SwapDevice, SwapSlot
from .mm_types import PAGE_SIZE, ZERO_PFN, ZERO_TOKEN, Mm, Page, Pte, Token, Vma
from .moves import OPS, RACE_OPS, RACE_UNIVERSE, TABLE_OPS, UNIVERSE, Universe, moves
from .policy import NEWEST, PRESETS, RULES, Policy, get_policy
from .trace import VIOLATION_KINDS

__all__ = [
    "DEPTH", "OPS", "RACE_DEPTH", "RACE_UNIVERSE", "TABLE_OPS", "UNIVERSE", "Counterexample",
    "ModelCrash", "SearchResult", "TableRow", "Universe", "canonical_state", "caption",
    "expand", "explore", "find_race", "main", "moves", "render", "search_kernel", "table",
    "table_rows",
]  # fmt: skip

DEPTH = 5
"""Deep enough for every rule's counterexample on linux-5.11 (rule 1 needs 5)."""
RACE_DEPTH = 16
"""Twice what the race needs (8 actions after the prefix)."""


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
class SearchResult:
    """What one bounded search found, and what it cost."""

    policy: str
    depth: int
    universe: Universe
    found: dict[str, Counterexample]  # violation kind -> shortest counterexample
    states: int  # distinct states reached (after deduplication), the prefix's included;
    # with leaves=False, those the search expanded (the last depth's are not counted)
    transitions: int  # actions applied: states explored before deduplication
    seconds: float
    new_states: tuple[int | None, ...]  # distinct new states at depth 1, 2, ...; None:
    # not counted (the last depth's, with leaves=False)
    baseline: str | None = None
    new: dict[str, Counterexample] = field(default_factory=dict)  # ones the baseline passes
    explored: tuple[int, ...] = ()  # actions applied at depth 1, 2, ...
    times: tuple[float, ...] = ()  # seconds spent at depth 1, 2, ...
    symmetry: bool = True
    jobs: int = 1
    leaves: bool = True

    def per_depth(self) -> str:
        """One line per depth: new distinct states, states explored, seconds, explored/s."""
        return "\n".join(
            f"  depth {n}: {_new_states(states)}, {explored} explored in {seconds:.1f} s "
            f"({explored / max(seconds, 1e-9):.0f} explored/s)"
            for n, (states, explored, seconds) in enumerate(
                zip(self.new_states, self.explored, self.times, strict=True), 1
            )
        )

    def cell(self, kind: str, new: bool = False) -> str:
        """A table cell: the shortest length, or none up to the depth."""
        found = (self.new if new else self.found).get(kind)
        return str(found.length) if found else f"none up to {self.depth}"


def _new_states(count: int | None) -> str:
    """A depth's new distinct states, or that they were not merged (leaves=False)."""
    return "leaves not merged" if count is None else f"{count} new states"


class ModelCrash(RuntimeError):
    """The model raised something other than a CowError: a bug in cowlib, with its path."""


def search_kernel(policy: str | Policy | None, universe: Universe) -> Kernel:
    """A kernel that records nothing (Kernel(record=False)), at the universe's prefix.

    Counterexamples are replayed on a recording Kernel, so what a reader steps through
    is the model's ordinary trace.
    """
    return run_actions(universe.prefix, kernel=Kernel(policy, record=False))


# -- deduplication --------------------------------------------------------------------------
class _Ids:
    """Names by first appearance in a canonical walk: pfns, swap slots, tokens, token sets.

    Tokens matter only through equality and set membership, so a token no page and no
    swap slot holds (a dead value: nothing can show it again) is -1, and sets keep only
    live tokens. The zero page and the zero token keep id 0: new pages start from them.
    A token is known by its seq, unique in a kernel.
    """

    def __init__(self, k: Kernel) -> None:
        m = k.machine
        self.pfns: dict[int, int] = {ZERO_PFN: 0}
        self.slots: dict[int, int] = {}
        self.tokens: dict[int, int] = {ZERO_TOKEN.seq: 0}
        self.live = {pg.data.seq for pg in m.pages.values()} | {
            s.data.seq for s in m.swap.slots.values()
        }
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
            out.append(tuple(sorted(self.tokens.setdefault(seq, len(self.tokens)) for seq in seqs)))
        return tuple(out)


def canonical_state(k: Kernel, symmetry: bool = True, plain: tuple | None = None) -> tuple:
    """k's state with every arbitrary name replaced by its order of appearance.

    Two kernels with the same canonical state have the same future: the same actions
    (up to the names in them) are valid and report the same violations. Kept: for each
    live process its VMAs, PTEs, fork and GUP-fast progress, MMF_HAS_PINNED,
    write_protect_seq's parity, and the oracle's logical values and histories; every
    live handle; every page's counters, flags and data; swap slots; the LRU batch; the
    pins already reported stale. Dropped: process and handle names, pids, pfn and slot
    numbers, written values, dead tokens, released handles, stats. With symmetry, the
    live processes and the live handles are taken in the order that gives the smallest
    encoding, so states that differ only by which process did what, or by which of two
    handles was taken first, are one state. plain, if given, is canonical_state(k, False),
    already computed. A large folio (Universe.thp) is encoded page by page with its
    head, each page's place in it, its PMD mappings, order and kind, and each mm's PMDs.
    """
    procs, holders = k.live_procs(), k.machine.live_holders()
    if not symmetry or (len(procs) < 2 and len(holders) < 2):
        return plain or _encode(k, procs, holders)
    signatures = {id(p.mm): _signature(p) for p in procs}
    proc_orders = _orders(procs, [signatures[id(p.mm)] for p in procs], id)
    holder_orders = _orders(
        holders,
        [_holder_signature(k, h, signatures) for h in holders],
        lambda h: (h.pfn, id(h.allowed), id(h.mm)),
    )
    if len(proc_orders) == len(holder_orders) == 1:
        if plain and proc_orders[0] == procs and holder_orders[0] == holders:
            return plain
        return _encode(k, proc_orders[0], holder_orders[0])
    return min(_encode(k, ps, hs) for ps in proc_orders for hs in holder_orders)


def _orders(items: list, signatures: list[tuple], same: Callable) -> list[list]:
    """The orders of items worth trying: by signature, items with equal ones in every order.

    Items with equal signatures and equal same() keys are interchangeable (handles of one
    process on the same page with the same history set): only their distinct
    arrangements are tried.
    """
    if len(items) < 2:
        return [items]
    if len(items) == 2:  # the common case, without sorting
        (a, b), (x, y) = signatures, items
        if a != b:
            return [items] if a < b else [[y, x]]
        return [items] if same(x) == same(y) else [items, [y, x]]
    signed = sorted(zip(signatures, range(len(items)), items, strict=True), key=lambda s: s[:2])
    groups = [[x for _, _, x in group] for _, group in groupby(signed, key=lambda s: s[0])]
    if len(groups) == len(items):
        return [[x for _, _, x in signed]]
    return [
        [x for arrangement in choice for x in arrangement]
        for choice in product(*(_arrangements(g, same) for g in groups))
    ]


def _arrangements(group: list, same: Callable) -> list[tuple]:
    """Every order of group, counting orders that only swap same() items once."""
    if len(group) == 1:
        return [tuple(group)]
    out, keys = [], set()
    for order in permutations(group):
        key = tuple(same(x) for x in order)
        if key not in keys:
            keys.add(key)
            out.append(order)
    return out


def _signature(p: Process) -> tuple:
    """What a process looks like without naming anything: orders processes cheaply."""
    mm = p.mm
    return (
        tuple(
            (a, pte.pfn is None, pte.pfn == ZERO_PFN, pte.write)
            for a, pte in sorted(mm.ptes.items())
        ),
        tuple(sorted(_protections(p).items())),
        mm.fork_child is not None,
        mm.forked_by is not None,
        mm.has_pinned,
        mm.write_protect_seq % 2,
        "" if p.gup_fast is None else p.gup_fast.stage,
    )


def _holder_signature(k: Kernel, h: Holder, procs: dict[int, tuple]) -> tuple:
    """What a handle looks like without naming anything: orders handles cheaply."""
    page = k.machine.pages.get(h.pfn) if h.pfn is not None else None
    return (
        h.kind, h.addr, h.writable, h.longterm, h.in_flight, h.name in k.oracle.stale,
        procs.get(id(h.mm)) if h.mm.live else (),
        () if page is None else (page.refcount, page.mapcount, page.pincount),
    )  # fmt: skip


def _protections(p: Process) -> dict[int, int | tuple]:
    """Page address -> 1 (read-only) or 2 (read-write): VMAs without their split points;
    with the VMA's THP order, hugetlb order, VM_DONTCOPY and file where it has them."""
    return {
        a: 1 + v.write
        if not (v.thp or v.hugetlb or v.dontfork or v.file)
        else (1 + v.write, v.thp, v.hugetlb, v.dontfork, v.file is not None, v.shared)
        for v in p.mm.vmas
        for a in range(v.start, v.end, PAGE_SIZE)
    }


def _encode(k: Kernel, procs: list[Process], holders: list[Holder]) -> tuple:
    m = k.machine
    ids = _Ids(k)
    pfn, slot, token, tokset = ids.pfn, ids.slot, ids.token, ids.tokset
    pidx = {p.name: i for i, p in enumerate(procs)}
    hidx = {h.name: i for i, h in enumerate(holders)}
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
                mm.fork_pending.get(a, ""),
            ))  # fmt: skip
        g = p.gup_fast
        gup = () if g is None else (
            hidx[g.holder.name], -1 if g.seq is None else int(g.seq == mm.write_protect_seq),
            g.stage, -1 if g.pte is None else pfn(g.pte[0]), g.pte is not None and g.pte[1],
        )  # fmt: skip
        pmds = tuple((a, pfn(d.pfn), d.nr, d.write) for a, d in sorted(mm.pmds.items()))
        out_procs.append((
            tuple(pages), pidx[mm.fork_child.owner] if mm.fork_child else -1,
            pidx[mm.forked_by.owner] if mm.forked_by else -1, mm.has_pinned,
            mm.write_protect_seq % 2, mm.next_addr, gup, pmds,
        ))  # fmt: skip
    out_handles = []
    for h in holders:
        out_handles.append((
            h.kind, pidx[h.mm.owner] if h.mm.live else -1, h.addr, h.writable, h.longterm,
            pfn(h.pfn), tokset(h.allowed), h.name in k.oracle.stale, h.in_flight,
            h.name in k.oracle.detached,
        ))  # fmt: skip
    batch = set(m.lru_batch)
    for pg in sorted(
        (pg for n, pg in m.pages.items() if n not in ids.pfns),
        key=lambda pg: (pg.refcount, pg.pincount, pg.swapcache is not None,
                        pg.pfn in batch, ids.tokens.get(pg.data.seq, -1)),
    ):  # fmt: skip
        pfn(pg.pfn)  # pages only the LRU batch or the swap cache holds
    for n in list(ids.pfns):  # a large folio's pages in their order, after the first seen
        folio = getattr(m.pages.get(n), "folio", None)
        for sub in folio.pages if folio is not None else ():
            pfn(sub.pfn)
    pages_out = []
    for n in list(ids.pfns):
        pg = m.pages.get(n)
        folio = None if pg is None else pg.folio
        pages_out.append((-3,) if pg is None else (  # a freed page still referenced
            token(pg.data), pg.refcount, pg.mapcount, pg.pincount, pg.anon_exclusive,
            slot(pg.swapcache), pg.lru,
        ) + (() if folio is None else (  # its folio: head, place, PMD mappings, size, kind
            pfn(folio.pfn), pg.index, folio.entire_mapcount, folio.order, folio.kind,
        )))  # fmt: skip
    for n in sorted(m.swap.slots):
        slot(n)
    slots_out = []
    for n in list(ids.slots):
        s = m.swap.slots.get(n)
        slots_out.append((-3,) if s is None else (token(s.data), s.count, pfn(s.cache)))
    return (tuple(out_procs), tuple(out_handles), tuple(sorted(pfn(n) for n in batch)),
            tuple(pages_out), tuple(slots_out), ids.set_contents(),
            m.huge_zero is not None, tuple(len(f) for _, f in sorted(m.files.items())))  # fmt: skip


# -- copying a state ---------------------------------------------------------------------------
def _shallow(obj: object) -> Any:
    """A new object of obj's class with the same attributes (a shallow copy)."""
    new = object.__new__(type(obj))
    new.__dict__ = obj.__dict__.copy()
    return new


CLONED = {
    "Kernel": "policy record machine oracle procs handles trace violations steps snapshots",
    "Machine": "policy pages next_pfn lru_batch swap mms holders stats explain notes "
    "decisions classify seq pmd_order huge_zero files",
    "Oracle": "m logical history stale found step detached",
    "Process": "k name pid mm gup_fast",
    "Page": "pfn data refcount mapcount pincount anon_exclusive swapcache lru mapping",
    "SwapDevice": "slots next_slot",
    "SwapSlot": "data count cache",
    "Mm": "owner vmas ptes pmds write_protect_seq has_pinned next_addr live fork_child "
    "fork_pending forked_by",
    "Vma": "start end write thp hugetlb file pgoff shared dontfork",
    "Pte": "pfn swap write swp_exclusive",
    "Holder": "kind name mm addr writable longterm pfn released allowed in_flight",
    "GupFast": "holder seq stage pte",
}
"""The attributes clone() copies or shares knowingly, per class of the model."""


def unknown_fields(k: Kernel) -> list[str]:
    """The attributes of k's model that clone() does not know (Class.attribute): a field
    added to the model must be copied there too, or clone() falls back to pickle."""
    found = {
        type(obj).__name__: set(vars(obj)) for obj in (k, k.machine, k.oracle, *k.procs.values())
    }
    for cls in (Page, SwapDevice, SwapSlot, Mm, Vma, Pte, Holder, GupFast):
        found[cls.__name__] = {f.name for f in fields(cls)}
    return sorted(
        f"{name}.{attr}"
        for name, attrs in found.items()
        for attr in attrs - set(CLONED.get(name, "").split())
    )


_FAST_CLONE: bool | None = None  # whether clone() knows every field, checked once


def clone(k: Kernel) -> Kernel:
    """An independent copy of a Kernel(record=False), as pickle would make, only faster.

    Copies every mutable part of the state (pages, slots, mms with their VMAs, PTEs and
    fork progress, holders, the oracle's memory, processes, handles, GUP-fast in flight)
    and shares only immutable ones (the policy, tokens, strings, numbers). Aliasing is
    kept: a holder's allowed set is its taker's history set, an mm is shared by its
    process, its holders and the fork in progress. tests/test_explore.py checks that the
    copy pickles to the same bytes and shares nothing mutable with the original. A model
    with fields clone() does not know (unknown_fields()) is copied by pickling instead.
    """
    global _FAST_CLONE
    if _FAST_CLONE is None:
        _FAST_CLONE = not unknown_fields(k)
    m, o = k.machine, k.oracle
    if not _FAST_CLONE or _has_large_folios(m):
        return pickle.loads(pickle.dumps(k, pickle.HIGHEST_PROTOCOL))
    new_k, new_m, new_o = _shallow(k), _shallow(m), _shallow(o)
    new_k.machine, new_k.oracle, new_o.m = new_m, new_o, new_m
    new_m.classify = new_o.classify
    new_m.pages = {pfn: _shallow(pg) for pfn, pg in m.pages.items()}
    new_m.lru_batch = m.lru_batch.copy()
    new_m.swap = swap = _shallow(m.swap)
    swap.slots = {n: _shallow(s) for n, s in m.swap.slots.items()}
    new_m.stats, new_m.notes, new_m.decisions = m.stats.copy(), m.notes.copy(), m.decisions.copy()
    new_m.files = {name: pfns.copy() for name, pfns in m.files.items()}
    mms: dict[int, Mm] = {}
    new_m.mms = [_mm_copy(mm, mms) for mm in m.mms]
    sets: dict[int, set] = {}
    new_o.logical = {name: memory.copy() for name, memory in o.logical.items()}
    new_o.history = {
        name: {a: sets.setdefault(id(h), h.copy()) for a, h in history.items()}
        for name, history in o.history.items()
    }
    new_o.stale, new_o.found, new_o.detached = o.stale.copy(), o.found.copy(), o.detached.copy()
    holders = {}
    for h in m.holders:
        new = holders[id(h)] = _shallow(h)
        new.mm = _mm_copy(h.mm, mms)
        new.allowed = sets.setdefault(id(h.allowed), h.allowed.copy())
    new_m.holders = list(holders.values())
    procs = {}
    for p in k.procs.values():
        new = procs[id(p)] = _shallow(p)
        new.k, new.mm = new_k, _mm_copy(p.mm, mms)
        if p.gup_fast is not None:
            new.gup_fast = _shallow(p.gup_fast)
            new.gup_fast.holder = holders[id(p.gup_fast.holder)]
    new_k.procs = {name: procs[id(p)] for name, p in k.procs.items()}
    new_k.handles = {}
    for name, h in k.handles.items():
        new = new_k.handles[name] = _shallow(h)
        new.k, new.owner, new.holder = new_k, procs[id(h.owner)], holders[id(h.holder)]
    new_k.trace, new_k.violations = k.trace.copy(), k.violations.copy()
    return new_k


def _has_large_folios(m: Machine) -> bool:
    """Whether m holds a large folio (its subpages point back at their folio, which the
    fast copy does not follow), so that clone() pickles instead."""
    return m.huge_zero is not None or any(type(pg) is not Page for pg in m.pages.values())


def _mm_copy(mm: Mm, copies: dict[int, Mm]) -> Mm:
    """clone()'s copy of mm, made once (an exited mm is no longer in machine.mms, but its
    process and its holders still refer to it)."""
    new = copies.get(id(mm))
    if new is None:
        new = copies[id(mm)] = _shallow(mm)
        new.vmas = [_shallow(v) for v in mm.vmas]
        new.ptes = {a: _shallow(pte) for a, pte in mm.ptes.items()}
        new.pmds = {a: _shallow(pmd) for a, pmd in mm.pmds.items()}
        new.fork_pending = mm.fork_pending.copy()
        if mm.fork_child is not None:
            new.fork_child = _mm_copy(mm.fork_child, copies)
        if mm.forked_by is not None:
            new.forked_by = _mm_copy(mm.forked_by, copies)
    return new


def _discard(k: Kernel) -> None:
    """Break the reference cycles of a copy no longer needed, so that reference counting
    frees it at once (the cyclic collector would, later and at a cost): kernel and its
    processes and handles, machine and oracle, a forking mm and its child."""
    for p in k.procs.values():
        p.mm.fork_child = p.mm.forked_by = None
    k.machine.__dict__.clear()
    k.oracle.__dict__.clear()
    k.__dict__.clear()


# -- the search -------------------------------------------------------------------------------
State = tuple[Kernel | None, tuple[str, ...]]
"""A state of the frontier: its Kernel, and the actions after the prefix that reach it."""


@dataclass
class _Search:
    """The state of one breadth-first search, shared by explore() and expand()."""

    policy: Policy
    universe: Universe
    dedup: bool
    base: Policy | None
    seen: set
    symmetry: bool
    leaves: bool = True  # False: the last depth's successors are checked, not merged
    plain: set = field(default_factory=set)  # with symmetry: canonical_state(k, False) seen
    found: dict[str, Counterexample] = field(default_factory=dict)
    new: dict[str, Counterexample] = field(default_factory=dict)
    transitions: int = 0

    def unmerged(self, keep: bool) -> bool:
        """Whether a depth's successors are only checked: the last depth's (keep=False),
        with leaves=False, in a search that merges states at all."""
        return self.dedup and not keep and not self.leaves


@dataclass
class _Level:
    """What expanding some states found: successors in order, with their canonical states."""

    successors: list[State] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)
    found: dict[str, Counterexample] = field(default_factory=dict)
    new: dict[str, Counterexample] = field(default_factory=dict)
    transitions: int = 0


def expand(search: _Search, k: Kernel, path: tuple[str, ...], n: int, keep: bool) -> list[State]:
    """Every successor of one state (k, reached by path) at depth n.

    Each move is applied to a fresh copy of the state (clone()); the violations it reports become
    counterexamples (the first per kind is a shortest one, breadth first); with dedup a
    successor whose canonical state was reached before is dropped. keep=False (the last
    depth) keeps the paths but not the states; with search.leaves False not even those,
    and its successors are not merged (none is returned).
    """
    level = _Level()
    _expand(search, k, path, n, keep, level)
    _merge(search, level)
    return level.successors


def _expand(
    search: _Search,
    parent: Kernel,
    path: tuple[str, ...],
    n: int,
    keep: bool,
    level: _Level,
    consume: bool = False,
) -> None:
    """expand() into level; successors whose canonical state is in search.seen are dropped.

    A copy the model refused an action on is used for the next one: a CowError leaves
    the state untouched (Kernel._op validates before it changes anything). With consume,
    the last move is applied to parent itself, which the caller no longer needs.
    """
    prefix, k = search.universe.prefix, None
    leaf = search.unmerged(keep)
    actions_here = moves(parent, search.universe, n)
    last = len(actions_here) - 1
    for i, action in enumerate(actions_here):
        if k is None:
            k = parent if consume and i == last else clone(parent)
        try:
            perform(k, parse(action), action)  # parse() is cached
        except CowError:
            continue
        except Exception as e:
            actions = prefix + path + (action,)
            raise ModelCrash(
                f'{search.policy.name}: the model crashed on "{"; ".join(actions)}": {e!r}'
            ) from e
        level.transitions += 1
        actions = prefix + path + (action,) if k.violations else ()
        for v in k.violations:
            if v.kind not in search.found and v.kind not in level.found:
                level.found[v.kind] = Counterexample(v.kind, actions, n, v.message)
            if (
                search.base
                and v.kind not in search.new
                and v.kind not in level.new
                and not _reproduces(search.base, actions, v.kind)
            ):
                level.new[v.kind] = Counterexample(v.kind, actions, n, v.message)
        del k.violations[:]
        if leaf:
            _discard(k)
            k = None
            continue
        key = None
        if search.dedup:
            plain = None
            if search.symmetry:  # equal without symmetry is equal with it: cheaper first
                plain = canonical_state(k, False)
                if plain in search.plain:
                    _discard(k)
                    k = None
                    continue
                search.plain.add(plain)
            key = canonical_state(k, search.symmetry, plain)
            if key in search.seen:
                _discard(k)
                k = None
                continue
            search.seen.add(key)
        if not keep:
            _discard(k)
        level.successors.append((k if keep else None, path + (action,)))
        level.keys.append(key)
        k = None


def _merge(search: _Search, level: _Level) -> None:
    """Take in what expanding the next states (in frontier order) found."""
    for kind, example in level.found.items():
        search.found.setdefault(kind, example)
    for kind, example in level.new.items():
        search.new.setdefault(kind, example)
    search.transitions += level.transitions


PARALLEL_FRONTIER = 500
"""A smaller frontier is expanded in this process: forking workers would cost more."""

# A worker process of a parallel search: the search and the frontier, as forked.
_WORK: tuple[_Search, list[State], int] | None = None


def _work(lo: int, hi: int) -> _Level:
    """Expand frontier[lo:hi] at the last depth in a worker; its seen set grows with what
    it saw before (in this search, or in its earlier slices)."""
    search, frontier, n = _WORK
    level = _Level()
    for k, path in frontier[lo:hi]:
        _expand(search, k, path, n, False, level, consume=True)
    return level


def _expand_frontier(
    search: _Search, frontier: list[State], n: int, keep: bool, jobs: int, report: Callable
) -> list[State]:
    """Every new successor of the frontier, in frontier order, whatever jobs is.

    With jobs > 1, at the last depth (keep=False: most of the work, and no states to send
    back) the frontier is cut into slices that forked workers expand; each worker drops
    what it has seen, and the merge, slice by slice in frontier order, drops what an
    earlier slice reached: the first state of each class, and the first counterexample of
    each kind, are those a single process finds. At the other depths copying the new
    states back from the workers would cost more than it saves.
    """
    if jobs == 1 or keep or len(frontier) < PARALLEL_FRONTIER:
        successors = []
        for done, (k, path) in enumerate(frontier):
            frontier[done] = (None, path)  # its kernel becomes its last successor's
            level = _Level()
            _expand(search, k, path, n, keep, level, consume=True)
            _merge(search, level)
            successors += level.successors
            report(done + 1)
        return successors
    global _WORK
    step = max(1, min(256, len(frontier) // (8 * jobs)))
    slices = [(lo, min(lo + step, len(frontier))) for lo in range(0, len(frontier), step)]
    _WORK = (search, frontier, n)
    successors = []
    gc.freeze()  # the workers' collections then leave the forked heap alone (copy-on-write)
    try:
        with get_context("fork").Pool(jobs) as pool:
            for (_, hi), level in zip(
                slices, pool.starmap(_work, slices, chunksize=1), strict=True
            ):
                for state, key in zip(level.successors, level.keys, strict=True):
                    if key is not None:
                        if key in search.seen:
                            continue
                        search.seen.add(key)
                    successors.append(state)
                _merge(search, level)
                report(hi)
    finally:
        _WORK = None
        gc.unfreeze()
    return successors


def _reporter(
    progress: Callable[[str], None] | None, search: _Search, what: str, total: int, start: float
) -> Callable[[int], None]:
    """report(done): a progress line every 2 s, on how many of total states are expanded."""
    last = [time.perf_counter()]

    def report(done: int) -> None:
        if progress and time.perf_counter() - last[0] > 2:
            last[0] = time.perf_counter()
            progress(
                f"{search.policy.name}: {what}, {done}/{total} states expanded, "
                f"{search.transitions} explored, {last[0] - start:.0f} s"
            )

    return report


def explore(
    policy: str | Policy | None = None,
    depth: int = DEPTH,
    universe: Universe = UNIVERSE,
    dedup: bool = True,
    kinds: Iterable[str] = VIOLATION_KINDS,
    baseline: str | Policy | None = None,
    progress: Callable[[str], None] | None = None,
    symmetry: bool = True,
    jobs: int = 1,
    leaves: bool = True,
) -> SearchResult:
    """Breadth-first search of every action sequence of up to depth actions.

    A state is a Kernel(record=False), copied with clone(); with dedup, a state whose
    canonical_state (with or without symmetry) was already reached (at this depth or a
    shallower one) is not expanded again. Breadth first, the first counterexample found
    for a kind is a shortest one. With a baseline policy, SearchResult.new also keeps,
    per kind, the shortest counterexample the baseline does not reproduce (replayed on
    a plain Kernel): the bug a switched-off rule let in. The search stops early once
    every kind in kinds has its counterexample(s). jobs > 1 expands the last depth's
    frontier (most of the work) in that many forked processes, with the same result.
    leaves=False checks the last depth's states (the oracle sees every action) without
    merging them, as nothing expands them: the same found and new, in less time, and
    states and new_states count only the states expanded (new_states[-1] is None).
    """
    policy = get_policy(policy)
    base = None if baseline is None else get_policy(baseline)
    if depth < 0:
        raise BadArgument(f"depth must be >= 0, not {depth}")
    if jobs < 1:
        raise BadArgument(f"jobs must be >= 1, not {jobs}")
    wanted = set(kinds)
    start = time.perf_counter()
    root = search_kernel(policy, universe)
    search = _Search(
        policy, universe, dedup, base, {canonical_state(root, symmetry)}, symmetry, leaves
    )
    search.plain.add(canonical_state(root, False))
    frontier: list[State] = [(root, ())]
    new_states, explored, times, reached = [], [], [], depth
    for n in range(1, depth + 1):
        last_start, before = time.perf_counter(), search.transitions
        report = _reporter(progress, search, f"depth {n}/{depth}", len(frontier), start)
        frontier = _expand_frontier(search, frontier, n, n < depth, jobs, report)
        new_states.append(None if search.unmerged(n < depth) else len(frontier))
        explored.append(search.transitions - before)
        times.append(time.perf_counter() - last_start)
        if progress:
            progress(
                f"{policy.name}: depth {n}/{depth} done: {_new_states(new_states[-1])}, "
                f"{search.transitions} explored, {time.perf_counter() - start:.1f} s"
            )
        if wanted <= set(search.found) and (base is None or wanted <= set(search.new)):
            reached = n
            break
        if not frontier:
            break
    return SearchResult(
        policy.name, reached, universe, _ordered(search.found), 1 + sum(filter(None, new_states)),
        search.transitions, time.perf_counter() - start, tuple(new_states),
        None if base is None else base.name, _ordered(search.new), tuple(explored),
        tuple(times), symmetry, jobs, leaves,
    )  # fmt: skip


def _ordered(found: dict[str, Counterexample]) -> dict[str, Counterexample]:
    return {kind: found[kind] for kind in VIOLATION_KINDS if kind in found}


def _reproduces(policy: Policy, actions: tuple[str, ...], kind: str) -> bool:
    """Does the same sequence make the oracle report kind under policy too?

    A sequence the policy refuses (a CowError) counts as reproduced: it proves nothing.
    Replayed on a Kernel(record=False): violations are found the same way, untraced.
    """
    try:
        k = run_actions(actions, kernel=Kernel(policy, record=False))
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
TableRow = tuple[Policy, Policy | None]
"""A table row: the policy searched, and the baseline its new counterexamples must pass."""


def table_rows() -> list[TableRow]:
    """Every preset, then linux-5.11 with each of Linus's rules off (baseline linux-5.11)."""
    base = PRESETS["linux-5.11"]
    return [*((p, None) for p in PRESETS.values()), *((base.without(rule), base) for rule in RULES)]


def table(
    depth: int = DEPTH,
    universe: Universe = UNIVERSE,
    rows: Sequence[TableRow] | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    symmetry: bool = True,
    leaves: bool = True,
) -> list[SearchResult]:
    """explore() every row (table_rows() by default), rows in parallel processes.

    jobs (default: the cores) processes run the rows; a single row splits its frontier
    over them instead. leaves as for explore().
    """
    rows = table_rows() if rows is None else rows
    jobs = jobs or os.cpu_count() or 1
    if len(rows) == 1 or jobs == 1:
        return [
            explore(p, depth, universe, baseline=b, progress=progress, symmetry=symmetry,
                    jobs=jobs if len(rows) == 1 else 1, leaves=leaves)
            for p, b in rows
        ]  # fmt: skip
    results: dict[int, SearchResult] = {}
    with ProcessPoolExecutor(min(jobs, len(rows))) as pool:
        futures = {
            pool.submit(
                explore, p, depth, universe, baseline=b, symmetry=symmetry, leaves=leaves
            ): i
            for i, (p, b) in enumerate(rows)
        }
        for future in as_completed(futures):
            result = results[futures[future]] = future.result()
            if progress:
                progress(
                    f"{len(results)}/{len(rows)} rows: {result.policy} "
                    f"({result.states} states, {result.seconds:.1f} s)"
                )
    return [results[i] for i in range(len(rows))]


def render(results: Sequence[SearchResult], markdown: bool = False, new: bool = False) -> str:
    """The table as text (fixed width) or Markdown: length of the shortest counterexample.

    With new, only the rows that have a baseline, counting only counterexamples the
    baseline passes.
    """
    header = ["policy", *VIOLATION_KINDS]
    rows = [
        [r.policy, *(r.cell(kind, new) for kind in VIOLATION_KINDS)]
        for r in results
        if not new or r.baseline
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, [("-" * w) for w in widths], *rows]
        ]
    return "\n".join(lines)


def caption(results: Sequence[SearchResult], new: bool = False) -> str:
    """What the cells of render(results, new=new) count, and in which universe."""
    r = results[0]
    what = (
        "Length of the shortest counterexample"
        if not new
        else "Length of the shortest counterexample that the baseline "
        f"({', '.join(sorted({r.baseline for r in results if r.baseline}))}) passes"
    )
    return (
        f'{what}, in actions after "{"; ".join(r.universe.prefix)}"; universe: '
        f"{r.universe.describe()}; depth {r.depth}."
    )


# -- the command ---------------------------------------------------------------------------
def _ops(text: str) -> tuple[str, ...]:
    """--ops: a comma-separated list of OPS names, each once, in the order given."""
    ops = tuple(op.strip() for op in text.split(","))
    unknown = [op for op in ops if op not in OPS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown operation{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}; "
            f"valid operations: {', '.join(OPS)}"
        )
    twice = sorted({op for op in ops if ops.count(op) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"operation listed twice: {', '.join(twice)}")
    return ops


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="cowlib explore",
        description="Bounded exhaustive search for the shortest sequence that leaks, loses "
        "a write, leaves a stale pin or breaks accounting.",
    )
    ap.add_argument("-p", "--policy", default=NEWEST, help="a preset (default %(default)s)")
    ap.add_argument(
        "-w",
        "--without",
        action="append",
        default=[],
        choices=list(RULES),
        help="turn one of Linus's rules off (repeatable); counterexamples the "
        "preset itself passes are listed apart",
    )
    ap.add_argument(
        "-d",
        "--depth",
        type=int,
        help=f"actions after the prefix (default {DEPTH}, {RACE_DEPTH} with --race)",
    )
    ap.add_argument("--procs", type=int, default=2, help="live processes at most (default 2)")
    ap.add_argument(
        "--pages",
        type=int,
        default=1,
        choices=(1, 2),
        help="pages in P's mapping (default 1; 2 multiplies the work)",
    )
    ap.add_argument(
        "--thp",
        type=int,
        default=0,
        metavar="ORDER",
        help="P maps one PTE-mapped large folio of 2**ORDER pages instead (ORDER >= 2; "
        "the search is slower, try -d 3)",
    )
    ap.add_argument(
        "--ops",
        type=_ops,
        metavar="OP[,OP...]",
        help=f"the operations of the universe (default: the {len(TABLE_OPS)} "
        f"of the table, or with --race the {len(RACE_OPS)} of the race "
        f"universe); any of {', '.join(OPS)}",
    )
    ap.add_argument(
        "--race",
        action="store_true",
        help="the fork / GUP-fast race universe (split fork and GUP-fast); "
        "with --ops, only its default depth",
    )
    ap.add_argument(
        "--table",
        action="store_true",
        help="every preset and linux-5.11 without each rule (ignores -p, -w)",
    )
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument(
        "-j",
        "--jobs",
        type=int,
        help="processes (default: the cores): the rows of --table, or one row's frontier",
    )
    ap.add_argument(
        "--symmetry",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="merge states that differ only by which process or which handle is which "
        "(default: on)",
    )
    ap.add_argument(
        "--leaves",
        action="store_true",
        help="merge the last depth's states too, to count them (slower; the verdicts are "
        "the same: by default they are checked, not merged, as nothing expands them)",
    )
    return ap


def main(argv: Sequence[str]) -> int:
    """cowlib explore: echo the parameters, search, print the table and counterexamples."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        ops = args.ops or (RACE_UNIVERSE if args.race else UNIVERSE).ops
        pages = 1 << max(args.thp, 0) if args.thp else args.pages
        universe = Universe(ops, args.procs, pages, args.thp)
        depth = args.depth if args.depth is not None else RACE_DEPTH if args.race else DEPTH
        if args.table:
            rows = table_rows()
        else:
            base = get_policy(args.policy)
            rows = [(base.without(*args.without), base) if args.without else (base, None)]
        print(
            f"cowlib explore: {'table' if args.table else 'policy=' + rows[0][0].name} "
            f"depth={depth} procs={universe.procs} pages={universe.pages} "
            f"ops={','.join(universe.ops)}{'' if args.symmetry else ' symmetry=off'}"
            f"{' leaves=merged' if args.leaves else ''}\n"
            f'  prefix "{"; ".join(universe.prefix)}"',
            flush=True,
        )
        if args.jobs is not None and args.jobs < 1:
            raise BadArgument(f"--jobs must be >= 1, not {args.jobs}")
        results = table(
            depth,
            universe,
            rows,
            args.jobs,
            lambda line: print(line, file=sys.stderr, flush=True),
            args.symmetry,
            args.leaves,
        )
    except CowError as e:
        print(f"cowlib explore: error: {e}", file=sys.stderr)
        return 2
    print(f"\n{caption(results)}\n{render(results, args.markdown)}")
    if any(r.baseline for r in results):
        print(f"\n{caption(results, new=True)}\n{render(results, args.markdown, new=True)}")
    for r in results:
        counted = "" if r.new_states[-1:] != (None,) else f" to depth {r.depth - 1}"
        print(
            f"\n{r.policy}: {r.states} distinct states{counted}, {r.transitions} explored in "
            f"{r.seconds:.1f} s ({r.transitions / max(r.seconds, 1e-9):.0f} explored/s)"
        )
        print(r.per_depth())
        for ce in r.found.values():
            print(f"  {ce.kind} ({ce.length}): {ce.script}\n    {ce.message}")
        for ce in r.new.values():
            if ce != r.found[ce.kind]:
                print(
                    f"  {ce.kind} that {r.baseline} passes ({ce.length}): {ce.script}\n"
                    f"    {ce.message}"
                )
    return 0
