"""mm_struct, VMAs and page table entries (include/linux/mm_types.h).

Every mapping is private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS), so every VMA is a
COW mapping (is_cow_mapping(): VM_MAYWRITE and not VM_SHARED).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MMAP_BASE = 0x10000


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
    """The parts of mm_struct the COW story needs."""

    vmas: list[Vma] = field(default_factory=list)
    ptes: dict[int, Pte] = field(default_factory=dict)
    write_protect_seq: int = 0  # seqcount written by fork (57efa1fe5957)
    has_pinned: bool = False  # MMF_HAS_PINNED (008cfe4418b3, a458b76a4171)
    next_addr: int = MMAP_BASE

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
            pieces = [Vma(max(vma.start, s), min(vma.end, e), vma.write)
                      for s, e in ((vma.start, start), (start, end), (end, vma.end))
                      if max(vma.start, s) < min(vma.end, e)]
            self.vmas[i:i + 1] = pieces
            result += [p for p in pieces if start <= p.start and p.end <= end]
        return result
