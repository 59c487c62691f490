"""mm/rmap.c: unmapping a page from every page table that maps it (try_to_unmap)."""

from __future__ import annotations

from .machine import Machine
from .mm_types import Page, Pte, page_maybe_dma_pinned


def try_to_unmap(m: Machine, page: Page) -> bool:
    """try_to_unmap(): replace every PTE of page with a swap entry; True if none is left.

    5.19+: try_to_unmap_one() must clear PageAnonExclusive first
    (page_try_share_anon_rmap), which fails for a maybe-pinned page: the page stays
    mapped. The swap PTE keeps the exclusive bit (pte_swp_exclusive).
    """
    slot = page.swapcache
    for mm in m.live_mms():
        for addr, pte in mm.ptes.items():
            if pte.pfn != page.pfn:
                continue
            exclusive = False
            if m.policy.anon_exclusive and page.anon_exclusive:
                if page_maybe_dma_pinned(page):
                    m.note(
                        f"try_to_unmap_one({mm.owner}, {addr:#x}): "
                        f"{m.fn('page_try_share_anon_rmap')} fails, page maybe pinned -> "
                        "keep mapped"
                    )
                    return False
                page.anon_exclusive = False
                exclusive = True
            mm.ptes[addr] = Pte(swap=slot, swp_exclusive=exclusive)
            m.swap.slots[slot].count += 1
            page.mapcount -= 1
            page.refcount -= 1
            m.note(
                f"try_to_unmap_one({mm.owner}, {addr:#x}): PTE -> swap entry slot {slot}"
                + (" (pte_swp_exclusive)" if exclusive else "")
            )
    return page.mapcount == 0
