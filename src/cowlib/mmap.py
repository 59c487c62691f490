"""mm/mmap.c: creating and removing mappings, and tearing down an mm at exit."""

from __future__ import annotations

from .huge_memory import zap_huge_pmd, zap_huge_range
from .machine import Machine
from .memory import zap_pte
from .mm_types import PAGE_SIZE, ZERO_TOKEN, Mm, Vma


def do_mmap(m: Machine, mm: Mm, pages: int, **kind: object) -> int:
    """do_mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE): a new VMA, no PTEs yet.

    kind (Vma fields) makes it a THP, hugetlb or file mapping, shared or read-only. A
    THP or hugetlb mapping starts at a multiple of its folio size (thp_get_unmapped_area
    aligns large anonymous mappings; hugetlb mappings are aligned to their page size).
    """
    vma = Vma(0, 0, **kind)
    order = vma.hugetlb or vma.thp
    align = PAGE_SIZE << order
    addr = -(-mm.next_addr // align) * align
    vma.start, vma.end = addr, addr + pages * PAGE_SIZE
    mm.next_addr = vma.end
    mm.vmas.append(vma)
    if vma.plain and vma.write:
        m.note(
            f"{mm.owner}: new private anonymous VMA {addr:#x}-{mm.next_addr:#x} rw-p, no PTEs yet"
        )
        return addr
    what = (
        f"file {vma.file}"
        if vma.file
        else f"hugetlb ({align // 1024} kB)"
        if vma.hugetlb
        else "anonymous"
    )
    flags = f"r{'w' if vma.write else '-'}-{'s' if vma.shared else 'p'}"
    extra = f", MADV_HUGEPAGE (THP of {align // 1024} kB)" if vma.thp else ""
    m.note(f"{mm.owner}: new {what} VMA {addr:#x}-{vma.end:#x} {flags}{extra}, no PTEs yet")
    return addr


def create_file(m: Machine, name: str, pages: int, hugetlb: int = 0) -> None:
    """memfd_create() / tmpfile() + fallocate(): a file of zeroed page cache pages (or of
    hugetlb folios for MFD_HUGETLB). The page cache holds one reference per page."""
    pfns = []
    for _ in range(pages >> hugetlb):
        if hugetlb:
            folio = m.alloc_folio(hugetlb, "hugetlb-file")
            folio.mapping, folio.refcount = name, 1
            pfns += [s.pfn for s in folio.pages]
        else:
            page = m.alloc_page(ZERO_TOKEN)
            page.mapping, page.refcount, page.lru = name, 1, True
            pfns.append(page.pfn)
    m.files[name] = pfns
    m.note(f"{name}: {pages} zeroed page cache pages from pfn {pfns[0]}")


def do_munmap(m: Machine, mm: Mm, addrs: list[int]) -> None:
    """do_munmap(): zap the PTEs of addrs, then split off and drop their VMA range."""
    zap_huge_range(m, mm, addrs[0], addrs[-1] + PAGE_SIZE)
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
    for start in sorted(mm.pmds):
        zap_huge_pmd(m, mm, start)
    mm.vmas.clear()
    mm.live = False
    m.mms.remove(mm)
    m.note(f"{mm.owner}: exit_mmap() unmapped everything")
