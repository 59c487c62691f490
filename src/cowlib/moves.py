"""The operations a sequence may use, and the moves they give in a kernel's state.

One table (OPS) serves the explorer, which tries every move of its Universe at every
depth, and the random generator (random_actions: quizzes, property tests, workloads),
which picks one move at random. A move is an action string (cowlib.grammar), written
with format_action().

    moves(k, UNIVERSE, n)            # every action worth trying now
    random_actions(seed, length=8)   # a reproducible random sequence
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, count

from .actions import apply, run_actions
from .errors import BadArgument, CowError
from .grammar import format_action, index_of
from .kernel import Kernel, Process
from .mm_types import MMAP_BASE, PAGE_SIZE
from .policy import Policy

OPS: dict[str, str] = {
    "write": "P:write I vN (a new value every time)",
    "read": "P:read I",
    "fork": "P:fork C (a fresh name)",
    "exit": "P:exit",
    "munmap": "P:munmap I",
    "mprotect": "P:mprotect I 1 r, P:mprotect I 1 rw",
    "vmsplice": "P:vmsplice I (FOLL_GET into a pipe)",
    "pipe_read": "pipe1:read",
    "pipe_close": "pipe1:close",
    "get": "P:get I (FOLL_GET, a plain reference)",
    "ref_read": "ref1:read",
    "put": "ref1:put",
    "pin_rw": "P:pin I rw long (FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM)",
    "pin_ro": "P:pin I ro long (FOLL_PIN|FOLL_LONGTERM)",
    "pin_short": "P:pin I rw short, P:pin I ro short (FOLL_PIN without FOLL_LONGTERM)",
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

TABLE_OPS = (
    "write",
    "read",
    "fork",
    "exit",
    "munmap",
    "mprotect",
    "vmsplice",
    "pipe_read",
    "pin_rw",
    "pin_ro",
    "device_read",
    "device_write",
    "unpin",
    "pageout",
    "drain",
)
RACE_OPS = (
    "write",
    "read",
    "fork_begin",
    "fork_check",
    "fork_share",
    "fork_end",
    "gupf_rw",
    "gupf_pin",
    "gupf_check",
    "gupf_slow",
)
RANDOM_OPS = TABLE_OPS + ("pipe_close", "get", "ref_read", "put", "pin_short")
PREFIX_VALUE = "X"


@dataclass(frozen=True)
class Universe:
    """What a sequence may do: operations, live processes at once, pages in the mapping.

    thp, if not 0, maps the pages as THP of that folio order (MADV_HUGEPAGE, an mTHP
    below the PMD order: one PTE-mapped large folio per 2**thp pages), which the
    prefix's first write populates.
    """

    ops: tuple[str, ...] = TABLE_OPS
    procs: int = 2
    pages: int = 1
    thp: int = 0

    def __post_init__(self) -> None:
        unknown = [op for op in self.ops if op not in OPS]
        if unknown:
            raise BadArgument(f"unknown operations {unknown}; operations: {', '.join(OPS)}")
        if self.procs < 1 or self.pages < 1:
            raise BadArgument(
                f"a universe needs procs >= 1 and pages >= 1, not "
                f"procs={self.procs} pages={self.pages}"
            )
        if self.thp and (self.thp < 2 or self.pages % (1 << self.thp)):
            raise BadArgument(
                f"a THP universe needs a folio order >= 2 and a multiple of its "
                f"{1 << max(self.thp, 0)} pages, not thp={self.thp} pages={self.pages}"
            )

    @property
    def prefix(self) -> tuple[str, ...]:
        """The fixed start of every sequence, where P maps the pages and populates page 0."""
        thp = (f"thp={self.thp}",) if self.thp else ()
        return (
            format_action("P", "mmap", self.pages, *thp),
            format_action("P", "write", 0, PREFIX_VALUE),
        )

    def describe(self) -> str:
        thp = f" (THP of order {self.thp})" if self.thp else ""
        return (
            f"{self.procs} live processes, {self.pages} page{'s' * (self.pages > 1)}{thp}, "
            f"ops {','.join(self.ops)}"
        )


UNIVERSE = Universe()
RACE_UNIVERSE = Universe(ops=RACE_OPS)
FOLIO_OPS = ("write", "read", "fork", "exit", "mprotect", "vmsplice", "pipe_read", "pin_ro",
             "unpin")  # fmt: skip
FOLIO_UNIVERSE = Universe(ops=FOLIO_OPS, pages=4, thp=2)
"""One PTE-mapped large folio of four pages (an order-2 mTHP) and what COWs it."""


def moves(k: Kernel, universe: Universe, n: int) -> list[str]:
    """Every action of the universe worth trying in k's state (n numbers the new values).

    Only cheap, obvious validity is checked here (mapped page, writable VMA); the model
    itself refuses the rest with a CowError, which callers skip.
    """
    live = k.live_procs()
    child = child_name(k)
    candidates: list[tuple[str, str]] = []
    for p in live:
        if p.mm.forked_by is not None:
            continue  # still being built by its parent's fork
        candidates += _process_moves(p, universe, n, child if len(live) < universe.procs else None)
    for h in k.live_handles():
        if h.kind == "pipe":
            candidates += [("pipe_read", f"{h.name}:read"), ("pipe_close", f"{h.name}:close")]
        elif h.kind == "ref":
            candidates += [("ref_read", f"{h.name}:read"), ("put", f"{h.name}:put")]
        else:
            candidates += [("device_read", f"{h.name}:read"), ("unpin", f"{h.name}:unpin")]
            if h.writable:
                candidates.append(("device_write", format_action(h.name, "write", f"dma{n}")))
    candidates.append(("drain", format_action("K", "drain")))
    ops = set(universe.ops)
    return [action for op, action in candidates if op in ops]


def child_name(k: Kernel) -> str:
    """A process name k has not used yet: C, D, ..., then C2, C3, ... (never K nor P)."""
    names = chain("CDEFGHIJLMNOQRSTUVWXYZ", (f"C{i}" for i in count(2)))
    return next(name for name in names if name not in k.procs)


def _process_moves(
    p: Process, universe: Universe, n: int, child: str | None
) -> Iterator[tuple[str, str]]:
    name, mm = p.name, p.mm
    if p.gup_fast is None:
        for i in range(universe.pages):
            vma = mm.find_vma(MMAP_BASE + i * PAGE_SIZE)
            if vma is not None and vma.write:
                yield "gupf_rw", format_action(name, "gupf", i, "rw")
    else:
        for verb in ("gupf_pin", "gupf_check", "gupf_slow"):
            yield verb, format_action(name, verb)
    if mm.fork_child is None:
        for i in range(universe.pages):
            vma = mm.find_vma(MMAP_BASE + i * PAGE_SIZE)
            if vma is None:
                continue
            if vma.write:
                yield "write", format_action(name, "write", i, f"v{n}")
                yield "pin_rw", format_action(name, "pin", i, "rw", "long")
                yield "pin_short", format_action(name, "pin", i, "rw", "short")
            yield "read", format_action(name, "read", i)
            yield "munmap", format_action(name, "munmap", i)
            yield "mprotect", format_action(name, "mprotect", i, 1, "r")
            yield "mprotect", format_action(name, "mprotect", i, 1, "rw")
            yield "vmsplice", format_action(name, "vmsplice", i)
            yield "get", format_action(name, "get", i)
            yield "pin_ro", format_action(name, "pin", i, "ro", "long")
            yield "pin_short", format_action(name, "pin", i, "ro", "short")
            yield "pageout", format_action("K", "pageout", name, i)
        if child is not None:
            yield "fork", format_action(name, "fork", child)
            yield "fork_begin", format_action(name, "fork_begin", child)
        yield "exit", format_action(name, "exit")
    else:
        for addr, step in mm.fork_pending.items():
            yield f"fork_{step}", format_action(name, f"fork_{step}", index_of(addr))
        yield "fork_end", format_action(name, "fork_end")


RANDOM_PREFIX = ("P:write 0 X", "P:fork C")


def random_universe(pages: int) -> Universe:
    """What random_actions() draws from: three processes, pages pages, RANDOM_OPS."""
    return Universe(RANDOM_OPS, procs=3, pages=pages)


def random_actions(
    seed: int, length: int = 8, pages: int = 1, policy: str | Policy | None = None
) -> list[str]:
    """A reproducible random operation sequence: after "P:mmap N; P:write 0 X; P:fork C",
    moves of random_universe(pages) picked at random among those the kernel accepts."""
    rng = random.Random(seed)
    universe = random_universe(pages)
    actions = [format_action("P", "mmap", pages), *RANDOM_PREFIX]
    k = run_actions(actions, kernel=Kernel(policy, record=False))
    tries = 0
    while len(actions) < length and tries < 50 * length:
        tries += 1
        action = rng.choice(moves(k, universe, len(actions)))
        try:
            apply(k, action)
        except CowError:
            continue
        actions.append(action)
    return actions


def random_workload(
    n: int = 200, length: int = 12, pages: int = 2, seed: int = 0
) -> list[list[str]]:
    """n reproducible random action sequences (random_actions with seeds seed .. seed+n-1)."""
    return [random_actions(seed + i, length, pages) for i in range(n)]
