"""Swap slots and the swap cache (mm/swapfile.c, mm/swap_state.c).

A slot's count is the number of swap PTEs that refer to it (swap_map); the swap cache
holds one reference to the page of a slot while both exist. reuse_swap_page() is the
mapcount rule of the era before page_count (c475a8ab625d, 2005, until 5.17).
"""

from __future__ import annotations

from .machine import Machine, SwapSlot
from .mm_types import Page, page_mapcount


def get_swap_page(m: Machine, page: Page) -> int:
    """get_swap_page() / folio_alloc_swap(): a fresh slot for page."""
    slot = m.swap.next_slot
    m.swap.next_slot += 1
    m.swap.slots[slot] = SwapSlot(page.data)
    return slot


def lookup_swap_cache(m: Machine, slot: int) -> Page | None:
    """lookup_swap_cache(): the page caching slot, if any."""
    cache = m.swap.slots[slot].cache
    return None if cache is None else m.pages[cache]


def add_to_swap_cache(m: Machine, page: Page, slot: int) -> None:
    """add_to_swap_cache(): the swap cache takes a reference."""
    page.swapcache = slot
    page.refcount += 1
    m.swap.slots[slot].cache = page.pfn


def swap_entry_free(m: Machine, slot: int) -> None:
    """swap_entry_free(): a slot with no swap PTE and no cache page is free."""
    s = m.swap.slots[slot]
    if s.count == 0 and s.cache is None:
        del m.swap.slots[slot]


def delete_from_swap_cache(m: Machine, page: Page) -> None:
    """delete_from_swap_cache(): the swap cache drops its reference."""
    slot = page.swapcache
    page.swapcache = None
    m.swap.slots[slot].cache = None
    swap_entry_free(m, slot)
    m.put_page(page)


def folio_free_swap(m: Machine, page: Page) -> bool:
    """folio_free_swap() / try_to_free_swap(): only when no swap PTE uses the slot."""
    if page.swapcache is None or m.swap.slots[page.swapcache].count:
        return False
    delete_from_swap_cache(m, page)
    return True


def swap_duplicate(m: Machine, slot: int) -> None:
    """swap_duplicate(): fork copies a swap PTE."""
    m.swap.slots[slot].count += 1


def swap_free(m: Machine, slot: int) -> None:
    """swap_free(): one swap PTE fewer (do_swap_page); the swap cache page stays."""
    m.swap.slots[slot].count -= 1
    swap_entry_free(m, slot)


def free_swap_and_cache(m: Machine, slot: int) -> None:
    """free_swap_and_cache(): zap a swap PTE (munmap, exit).

    When the last swap PTE goes and the swap cache page is mapped nowhere, the cache
    page is dropped too (__try_to_reclaim_swap with TTRS_UNMAPPED).
    """
    s = m.swap.slots[slot]
    s.count -= 1
    if s.count == 0 and s.cache is not None:
        page = m.pages[s.cache]
        if page.mapcount == 0:
            delete_from_swap_cache(m, page)
            return
    swap_entry_free(m, slot)


def reuse_swap_page(m: Machine, page: Page) -> tuple[bool, str]:
    """reuse_swap_page() (mm/swapfile.c, c475a8ab625d .. 5.17): the mapcount rule.

    Reuse when page_mapcount() + page_swapcount() <= 1; if exactly 1 and the page is in
    the swap cache, delete it from there. page_count() is not consulted: a pipe's or a
    pin's reference is invisible to this test.
    """
    swapcount = m.swap.slots[page.swapcache].count if page.swapcache is not None else 0
    mapcount = page_mapcount(page)  # of a THP's subpage: its PTEs plus the PMD mappings
    count = mapcount + swapcount
    why = f"reuse_swap_page(): mapcount {mapcount} + swapcount {swapcount} = {count}"
    if count > 1:
        return False, why + " > 1 -> copy"
    if count == 1 and page.swapcache is not None:
        delete_from_swap_cache(m, page)
        why += ", delete_from_swap_cache()"
    return True, why + f" <= 1 -> reuse (page_count()={page.refcount} not consulted)"
