"""mm/madvise.c: MADV_PAGEOUT, reclaim on request."""

from __future__ import annotations

from .machine import Machine
from .mm_types import Mm
from .swap import lru_add_drain
from .vmscan import shrink_page_list


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
    if page.mapcount != 1:
        m.note(f"{where}: mapcount {page.mapcount} != 1 (shared) -> skip")
        return False
    return shrink_page_list(m, page)
