"""mm/khugepaged.c: MADV_COLLAPSE (7d8faaf15545, 6.1), collapsing a range into THPs now.

madvise_collapse() scans each PMD-sized block (hpage_collapse_scan_pmd) and
collapse_huge_page() copies its pages into a new THP mapped by one PMD, writable and
PageAnonExclusive, and drops the old PTEs (for anonymous memory the collapse copies; it
is not done in place). It fails when a page has references other than its mappings
(is_refcount_suitable(): a pin or a GUP reference), when a PTE is a swap entry, or when
the block is not wholly inside VMAs that could be one. The model applies no limit on
empty or COW-shared PTEs (khugepaged's max_ptes_* tunables; cow.c's cases meet none).

Simplifications: the model does not swap in before collapsing (it fails instead); VMAs
of the block that differ only in where they were split are merged here (the kernel
merged them when the flags were set back, e.g. by MADV_DOFORK).
"""

from __future__ import annotations

from dataclasses import replace

from .huge_memory import map_folio_pmd, set_exclusive
from .machine import Machine
from .memory import zap_pte
from .mm_types import PAGE_SIZE, ZERO_TOKEN, Folio, Mm


def same_vma(mm: Mm, lo: int, hi: int) -> bool:
    """Do VMAs that could merge into one cover [lo, hi)? Merge them if so."""
    vmas = [v for v in mm.vmas if v.start < hi and lo < v.end]
    if not vmas or vmas[0].start > lo or vmas[-1].end < hi:
        return False
    keys = {(v.write, v.hugetlb, v.file, v.shared, v.dontfork) for v in vmas}
    if len(keys) != 1 or any(a.end != b.start for a, b in zip(vmas, vmas[1:], strict=False)):
        return False
    merged = replace(vmas[0], end=vmas[-1].end)
    i = mm.vmas.index(vmas[0])
    mm.vmas[i : i + len(vmas)] = [merged]
    return True


def collapse_huge_page(m: Machine, mm: Mm, start: int) -> str | None:
    """Collapse the PMD-sized block at start; None on success, else why it failed."""
    nr = 1 << m.pmd_order
    end = start + nr * PAGE_SIZE
    if start in mm.pmds:
        return None
    if not same_vma(mm, start, end):
        return "the block is not inside one anonymous VMA (SCAN_VMA_CHECK)"
    vma = mm.find_vma(start)
    if vma.hugetlb or vma.file or vma.shared:
        return "not anonymous memory (SCAN_VMA_CHECK)"
    folios, data = {}, []
    for i in range(nr):
        pte = mm.ptes.get(start + i * PAGE_SIZE)
        if pte is not None and not pte.present:
            return "a swap entry in the block (the model does not swap in first)"
        page = m.pages[pte.pfn] if pte is not None else None
        data.append(page.data if page is not None else ZERO_TOKEN)
        if page is not None and not page.zero:
            folios[page.folio.pfn if page.folio else page.pfn] = page.folio or page
    for f in folios.values():
        if isinstance(f, Folio):
            extra = f.refcount - f.large_mapcount
        else:  # an order-0 page; the LRU-add batch is drained by the scan
            extra = f.refcount - f.mapcount - (f.swapcache is not None) - (not f.lru)
        if extra:
            return f"pfn {f.pfn} has {extra} references beyond its mappings (SCAN_PAGE_COUNT)"
    new = m.alloc_folio(m.pmd_order)
    for sub, token in zip(new.pages, data, strict=True):
        sub.data = token
    for i in range(nr):
        zap_pte(m, mm, start + i * PAGE_SIZE)
    set_exclusive(m, new, True)
    map_folio_pmd(m, mm, start, new, vma.write)
    m.note(
        f"collapse_huge_page({mm.owner}, {start:#x}): the pages of {len(folios)} "
        f"{'folio' if len(folios) == 1 else 'folios'} copied into new THP pfn {new.pfn}, "
        "mapped by a PMD"
    )
    return None


def madvise_collapse(m: Machine, mm: Mm, lo: int, hi: int) -> bool:
    """madvise_collapse(): every PMD-sized block in [lo, hi); True if all collapsed."""
    size = PAGE_SIZE << m.pmd_order
    ok = True
    for start in range(-(-lo // size) * size, hi - size + 1, size):
        why = collapse_huge_page(m, mm, start)
        if why is not None:
            m.note(f"madvise_collapse({mm.owner}, {start:#x}): {why} -> fails")
            ok = False
    return ok
