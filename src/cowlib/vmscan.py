"""mm/vmscan.c: reclaim of one anonymous page (shrink_page_list).

Writeback is synchronous in the model: a page that reclaim unmaps is written to its
slot at once and freed if nothing but the swap cache holds it.
"""

from __future__ import annotations

from .machine import Machine
from .mm_types import Page, page_maybe_dma_pinned
from .rmap import try_to_unmap
from .swapfile import add_to_swap_cache, delete_from_swap_cache, get_swap_page


def shrink_page_list(m: Machine, page: Page) -> bool:
    """shrink_page_list()/shrink_folio_list() for one anon page; True if unmapped.

    Rule 4 (feb889fb40fa, 5.11): a maybe-pinned page not yet in the swap cache is kept
    ("goto keep_locked") before add_to_swap(). A false positive only costs memory.
    """
    if page.swapcache is None:
        if m.policy.swap_skips_pinned and page_maybe_dma_pinned(page):
            m.note(
                f"{m.call('shrink_page_list', f'pfn {page.pfn}')}: "
                f"{m.fn('reclaim:page_maybe_dma_pinned')} (refcount {page.refcount}) -> "
                "keep_locked, not added to the swap cache"
            )
            return False
        slot = get_swap_page(m, page)
        add_to_swap_cache(m, page, slot)
        m.note(f"{m.call('shrink_page_list', f'pfn {page.pfn}')}: add_to_swap() -> slot {slot}")
    if not try_to_unmap(m, page):
        return False
    slot = page.swapcache
    m.swap.slots[slot].data = page.data
    m.stats["swapouts"] += 1
    if page.refcount == 1:
        m.note(
            f"pageout(pfn {page.pfn}) -> slot {slot}; __remove_mapping(): only the swap "
            "cache holds it -> freed"
        )
        delete_from_swap_cache(m, page)
    else:
        m.note(
            f"pageout(pfn {page.pfn}) -> slot {slot}; __remove_mapping() fails: refcount "
            f"{page.refcount} (someone else holds it) -> stays in the swap cache"
        )
    return True
