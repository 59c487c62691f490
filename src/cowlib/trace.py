"""The trace: one frozen Snapshot per step. Views only ever render a trace.

A Step carries the operation (as Python and as a replayable action), the kernel's
explanation of every decision it made, the COW decision classes, what a read returned,
and the violations the oracle found in that step.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .mm_types import GUP_PIN_COUNTING_BIAS

REUSE = "reuse"
NEEDED = "needed copy"
UNNEEDED = "unneeded copy"
WRONG = "wrong copy"
MISSED = "missed copy"
CLASSES = (REUSE, NEEDED, UNNEEDED, WRONG, MISSED)
"""Every COW decision in David Hildenbrand's terms (LKML, 18 Dec 2021): a reuse, or a copy
that was needed; his class 2 (unnecessary COW) is the unneeded copy, his class 3 (wrong
COW) the wrong copy, his class 1 (missed COW) the missed copy."""
VIOLATION_KINDS = ("leak", "lost-write", "stale-pin", "accounting")


@dataclass(frozen=True)
class PteView:
    addr: int
    kind: str  # "present" | "zero" | "swap"
    target: int  # pfn, or swap slot for kind == "swap"
    write: bool
    swp_exclusive: bool = False


@dataclass(frozen=True)
class ProcView:
    name: str
    pid: int
    alive: bool
    forking: bool
    has_pinned: bool
    write_protect_seq: int
    vmas: tuple[tuple[int, int, bool], ...]
    ptes: tuple[PteView, ...]
    pmds: tuple[tuple[int, int, int, bool], ...] = ()  # (addr, head pfn, pages, writable)


@dataclass(frozen=True)
class PageView:
    pfn: int
    value: str
    refcount: int
    mapcount: int
    pincount: int
    anon_exclusive: bool
    swapcache: int | None
    lru: bool
    lru_batch: bool
    zero: bool = False
    folio: int | None = None  # head pfn of the large folio this page belongs to
    order: int = 0  # the folio's order
    index: int = 0  # the page's index in its folio
    entire_mapcount: int = 0  # PMD (or hugetlb) mappings of the folio
    kind: str = "anon"  # "anon", "file" (page cache), "hugetlb", "hugetlb-file", "huge-zero"

    @property
    def maybe_pinned(self) -> bool:
        """page_maybe_dma_pinned() of the snapshot (exact for a large folio)."""
        if self.folio is not None:
            return self.pincount > 0
        return self.refcount >= GUP_PIN_COUNTING_BIAS


@dataclass(frozen=True)
class HolderView:
    name: str
    kind: str  # "pipe" | "ref" | "pin"
    owner: str
    addr: int
    pfn: int | None
    write: bool
    live: bool


@dataclass(frozen=True)
class SlotView:
    slot: int
    count: int
    value: str
    cache: int | None


@dataclass(frozen=True)
class Snapshot:
    policy: str
    procs: tuple[ProcView, ...]
    pages: tuple[PageView, ...]
    holders: tuple[HolderView, ...]
    swap: tuple[SlotView, ...]

    def page(self, pfn: int) -> PageView | None:
        return next((p for p in self.pages if p.pfn == pfn), None)

    def proc(self, name: str) -> ProcView | None:
        return next((p for p in self.procs if p.name == name), None)


@dataclass(frozen=True)
class Violation:
    kind: str  # "leak" | "lost-write" | "stale-pin" | "accounting"
    step: int
    message: str

    def __str__(self) -> str:
        return f"{self.kind.upper()} (step {self.step}): {self.message}"


@dataclass(frozen=True)
class Step:
    index: int
    op: str  # Python form, e.g. "C.vmsplice(0x10000) -> pipe1"
    action: str  # replayable action, e.g. "C:vmsplice 0"
    explain: str  # one line per kernel decision
    snapshot: Snapshot | None  # None when the Kernel keeps no snapshots (snapshots=False)
    violations: tuple[Violation, ...] = ()
    decisions: tuple[str, ...] = ()  # COW classes decided in this step
    result: str | None = None  # what a read returned

    def to_dict(self) -> dict:
        return asdict(self)


def trace_to_json(trace: list[Step], **extra: object) -> str:
    """The whole trace as JSON (deterministic key order)."""
    return json.dumps({**extra, "steps": [s.to_dict() for s in trace]}, sort_keys=True)
