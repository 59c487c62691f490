"""mm/madvise.c: MADV_PAGEOUT (reclaim on request), MADV_DONTNEED, MADV_DONTFORK /
MADV_DOFORK and MADV_HUGEPAGE."""

from __future__ import annotations

from .huge_memory import split_folio, split_pmds_in, zap_huge_range
from .machine import Machine
from .memory import zap_pte
from .mm_types import PAGE_SIZE, Mm
from .swap import lru_add_drain
from .vmscan import pageout_folio, shrink_page_list


def madvise_pageout(m: Machine, mm: Mm, addr: int) -> bool:
    """madvise(MADV_PAGEOUT) on one page: lru_add_drain(), then reclaim it if unshared.

    madvise_cold_or_pageout_pte_range() skips a page mapped more than once.
    """
    where = f"madvise_pageout({mm.owner}, {addr:#x})"
    lru_add_drain(m, quiet=True)
    pte = mm.ptes.get(addr)
    if pte is None or not pte.present:
        m.note(
            f"{where}: "
            + ("not populated" if pte is None else "already swapped out")
            + " -> nothing to do"
        )
        return False
    page = m.pages[pte.pfn]
    if page.zero:
        m.note(f"{where}: the zero page is never reclaimed")
        return False
    if page.folio is not None:
        return madvise_pageout_range(m, mm, [addr])
    if page.mapcount != 1:
        m.note(f"{where}: mapcount {page.mapcount} != 1 (shared) -> skip")
        return False
    return shrink_page_list(m, page)


def madvise_pageout_range(m: Machine, mm: Mm, addrs: list[int]) -> bool:
    """madvise(MADV_PAGEOUT) of a range: madvise_cold_or_pageout_pte_range().

    A large folio that lies wholly in the range and is mapped by all its pages (or by a
    PMD) is reclaimed as one (vmscan.pageout_folio); one only partly in the range or
    partly mapped is split first (split_folio()) and its pages are reclaimed one by one.
    True if everything in the range is swapped out now.
    """
    lo, hi = addrs[0], addrs[-1] + PAGE_SIZE
    lru_add_drain(m, quiet=True)
    done = set()
    for addr in addrs:
        pte = mm.entry(addr)
        page = m.pages.get(pte.pfn) if pte is not None and pte.present else None
        folio = page.folio if page is not None else None
        if folio is None or folio.kind == "huge-zero" or folio.pfn in done:
            continue
        done.add(folio.pfn)
        first = addr - page.index * PAGE_SIZE
        whole = lo <= first and first + folio.nr * PAGE_SIZE <= hi
        full = folio.entire_mapcount or all(s.mapcount for s in folio.pages)
        if whole and full:
            pageout_folio(m, mm, folio)
        else:
            split_folio(m, folio, "madvise_cold_or_pageout_pte_range(): not all in range")
    for addr in addrs:
        pte = mm.entry(addr)
        if pte is not None and pte.present and m.pages[pte.pfn].folio is None:
            madvise_pageout(m, mm, addr)
    return all(mm.entry(a) is not None and not mm.entry(a).present for a in addrs)


def madvise_dontneed(m: Machine, mm: Mm, addrs: list[int]) -> None:
    """madvise(MADV_DONTNEED): zap the range; the next touch faults in zeroes. A PMD only
    partly in the range is split first (zap_page_range)."""
    zap_huge_range(m, mm, addrs[0], addrs[-1] + PAGE_SIZE)
    for addr in addrs:
        zap_pte(m, mm, addr)
    m.note(f"madvise({mm.owner}, {addrs[0]:#x}, {len(addrs)} pages, MADV_DONTNEED): zapped")


def madvise_vma_flag(m: Machine, mm: Mm, addrs: list[int], **flag: object) -> None:
    """madvise_update_vma(): MADV_DONTFORK / MADV_DOFORK (VM_DONTCOPY) and MADV_HUGEPAGE
    (the THP order a fault may allocate) on the VMAs of the range, split as needed. A
    PMD the new VMA boundary cuts is split (vma_adjust_trans_huge())."""
    lo, hi = addrs[0], addrs[-1] + PAGE_SIZE
    if mm.pmds:
        split_pmds_in(m, mm, lo, hi, "VMA split")
    for vma in mm.split_vmas(lo, hi):
        for key, value in flag.items():
            setattr(vma, key, value)
    ((key, value),) = flag.items()
    name = {"dontfork": "MADV_DONTFORK" if value else "MADV_DOFORK", "thp": "MADV_HUGEPAGE"}[key]
    m.note(f"madvise({mm.owner}, {lo:#x}, {len(addrs)} pages, {name})")
