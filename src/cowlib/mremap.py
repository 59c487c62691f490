"""mm/mremap.c: moving part of a mapping (mremap(MREMAP_MAYMOVE)).

move_vma() moves the VMA range and move_page_tables() its page table entries: the pages
stay where they are, with their mapcounts and PageAnonExclusive; only the addresses
change. A PMD the range covers only in part is split first. The model picks the new
address itself (cow.c's MREMAP_FIXED target is a fresh PROT_NONE mapping: the same).
"""

from __future__ import annotations

from dataclasses import replace

from .huge_memory import split_pmds_in
from .machine import Machine
from .mm_types import PAGE_SIZE, Mm


def move_vma(m: Machine, mm: Mm, addrs: list[int]) -> int:
    """Move [addrs] to a new address; returns it."""
    lo, hi = addrs[0], addrs[-1] + PAGE_SIZE
    if mm.pmds:
        split_pmds_in(m, mm, lo, hi, "move_page_tables() of part of the THP")
    pieces = mm.split_vmas(lo, hi)
    new = mm.next_addr
    mm.next_addr += hi - lo
    for vma in pieces:
        mm.vmas.remove(vma)
    mm.vmas += [replace(v, start=v.start - lo + new, end=v.end - lo + new) for v in pieces]
    for addr in addrs:
        pte = mm.ptes.pop(addr, None)
        if pte is not None:
            mm.ptes[addr - lo + new] = pte
    for start in [s for s in mm.pmds if lo <= s < hi]:
        mm.pmds[start - lo + new] = mm.pmds.pop(start)
    m.note(f"mremap({mm.owner}, {lo:#x}, {len(addrs)} pages) -> moved to {new:#x}")
    return new
