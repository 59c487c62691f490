"""mm/mmap.c: creating and removing mappings, and tearing down an mm at exit."""

from __future__ import annotations

from .machine import Machine
from .memory import zap_pte
from .mm_types import PAGE_SIZE, Mm, Vma


def do_mmap(m: Machine, mm: Mm, pages: int) -> int:
    """do_mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE): a new VMA, no PTEs yet."""
    addr = mm.next_addr
    mm.next_addr += pages * PAGE_SIZE
    mm.vmas.append(Vma(addr, mm.next_addr, True))
    m.note(f"{mm.owner}: new private anonymous VMA {addr:#x}-{mm.next_addr:#x} rw-p, no PTEs yet")
    return addr


def do_munmap(m: Machine, mm: Mm, addrs: list[int]) -> None:
    """do_munmap(): zap the PTEs of addrs, then split off and drop their VMA range."""
    for addr in addrs:
        pte = mm.ptes.get(addr)
        what = (
            "nothing mapped"
            if pte is None
            else f"swap entry slot {pte.swap}"
            if not pte.present
            else f"pfn {pte.pfn}"
        )
        zap_pte(m, mm, addr)
        m.note(f"zap_pte_range({mm.owner}, {addr:#x}): {what} unmapped")
    gone = {id(v) for v in mm.split_vmas(addrs[0], addrs[-1] + PAGE_SIZE)}
    mm.vmas[:] = [v for v in mm.vmas if id(v) not in gone]


def exit_mmap(m: Machine, mm: Mm) -> None:
    """exit_mmap(): unmap everything; the mm is gone (pins and pipes stay with their users)."""
    for addr in sorted(mm.ptes):
        zap_pte(m, mm, addr)
    mm.vmas.clear()
    mm.live = False
    m.mms.remove(mm)
    m.note(f"{mm.owner}: exit_mmap() unmapped everything")
