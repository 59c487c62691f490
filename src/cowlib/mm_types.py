"""The types of include/linux/mm_types.h the COW story needs: struct page, mm_struct, VMAs, PTEs.

Only order-0 anonymous pages are modelled. Every mapping is private anonymous memory
(MAP_PRIVATE|MAP_ANONYMOUS), so every VMA is a COW mapping (is_cow_mapping(): VM_MAYWRITE
and not VM_SHARED). A pin adds GUP_PIN_COUNTING_BIAS to the refcount, and
page_maybe_dma_pinned() (include/linux/mm.h) is the refcount test of "mm/gup: track
FOLL_PIN pages" (5.7).

This is the bottom layer: it imports nothing of cowlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAGE_SIZE = 4096
GUP_PIN_COUNTING_BIAS = 1024  # include/linux/mm.h
PAGEVEC_SIZE = 15  # per-CPU LRU-add batch capacity (include/linux/pagevec.h)
ZERO_PFN = 0  # the shared zero page: never refcounted, never freed
MMAP_BASE = 0x10000  # where the first mmap() of a process lands


@dataclass(frozen=True)
class Token:
    """One written value, unique per write, so the oracle can tell who wrote what."""

    value: str
    writer: str
    seq: int


ZERO_TOKEN = Token("", "", 0)


@dataclass(eq=False)
class Page:
    """A physical page: data plus the counters and flags the COW decision reads."""

    pfn: int
    data: Token
    refcount: int = 0  # page_count(): mappings + GUP refs + pin bias + swap cache + LRU batch
    mapcount: int = 0  # page_mapcount(): number of PTEs that map it
    pincount: int = 0  # FOLL_PIN holders (the kernel only sees them through the bias)
    anon_exclusive: bool = False  # PG_anon_exclusive (5.19+)
    swapcache: int | None = None  # swap slot while PageSwapCache
    lru: bool = False  # PageLRU; a fresh page sits in the per-CPU LRU-add batch first

    @property
    def zero(self) -> bool:
        return self.pfn == ZERO_PFN

    @property
    def value(self) -> str:
        return self.data.value


def page_maybe_dma_pinned(page: Page) -> bool:
    """page_maybe_dma_pinned(): refcount >= GUP_PIN_COUNTING_BIAS.

    "Maybe": 1024 ordinary references look like a pin (false positive, S15); a
    real pin is never missed.
    """
    return page.refcount >= GUP_PIN_COUNTING_BIAS


@dataclass
class Pte:
    """A page table entry: present (pfn) or a swap entry (slot), never both."""

    pfn: int | None = None
    swap: int | None = None
    write: bool = False
    swp_exclusive: bool = False  # pte_swp_exclusive(): PG_anon_exclusive kept in a swap PTE

    @property
    def present(self) -> bool:
        return self.pfn is not None


@dataclass(eq=False)
class Vma:
    """A VMA [start, end) with VM_WRITE as its only variable protection bit."""

    start: int
    end: int
    write: bool = True


@dataclass(eq=False)
class Mm:
    """The parts of mm_struct the COW story needs, plus a fork that is under way.

    owner names the process (for explanations). While dup_mmap() runs, the parent's mm
    has fork_child set (its mmap_lock is held for writing) and fork_pending lists the
    PTEs copy_pte_range() has still to copy ("check": not looked at yet, "share": decided
    to share, not yet write-protected); the child's mm has forked_by set.
    """

    owner: str
    vmas: list[Vma] = field(default_factory=list)
    ptes: dict[int, Pte] = field(default_factory=dict)
    write_protect_seq: int = 0  # seqcount written by fork (57efa1fe5957)
    has_pinned: bool = False  # MMF_HAS_PINNED (008cfe4418b3, a458b76a4171)
    next_addr: int = MMAP_BASE
    live: bool = True  # False once exit_mmap() has torn it down
    fork_child: Mm | None = None
    fork_pending: dict[int, str] = field(default_factory=dict)
    forked_by: Mm | None = None

    def find_vma(self, addr: int) -> Vma | None:
        for vma in self.vmas:
            if vma.start <= addr < vma.end:
                return vma
        return None

    def split_vmas(self, start: int, end: int) -> list[Vma]:
        """Split VMAs at start and end (__split_vma) and return those inside [start, end)."""
        result = []
        for vma in list(self.vmas):
            if vma.end <= start or vma.start >= end:
                continue
            i = next(n for n, v in enumerate(self.vmas) if v is vma)
            pieces = [
                Vma(max(vma.start, s), min(vma.end, e), vma.write)
                for s, e in ((vma.start, start), (start, end), (end, vma.end))
                if max(vma.start, s) < min(vma.end, e)
            ]
            self.vmas[i : i + 1] = pieces
            result += [p for p in pieces if start <= p.start and p.end <= end]
        return result
