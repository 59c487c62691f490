"""Reclaim and the swap cache (mm/vmscan.c, mm/swap_state.c, mm/swapfile.c, mm/madvise.c).

Writeback is synchronous in the model: a page that reclaim unmaps is written to its
slot at once and freed if nothing but the swap cache holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .mm import Pte
from .page import Page, Token, page_maybe_dma_pinned

if TYPE_CHECKING:
    from .kernel import Kernel, Process


@dataclass
class SwapSlot:
    """One swap slot: swap_map count (swap PTEs) plus the swap cache page, if any."""

    data: Token
    count: int = 0
    cache: int | None = None  # pfn of the swap cache page (SWAP_HAS_CACHE)


@dataclass
class SwapDevice:
    slots: dict[int, SwapSlot] = field(default_factory=dict)
    next_slot: int = 0

    def get_swap_page(self, page: Page) -> int:
        """get_swap_page()/folio_alloc_swap(): a fresh slot for page."""
        slot = self.next_slot
        self.next_slot += 1
        self.slots[slot] = SwapSlot(page.data)
        return slot

    def cached_page(self, k: Kernel, slot: int) -> Page | None:
        """lookup_swap_cache()."""
        cache = self.slots[slot].cache
        return None if cache is None else k.pages[cache]

    def add_to_swap_cache(self, page: Page, slot: int) -> None:
        """add_to_swap_cache(): the swap cache takes a reference."""
        page.swapcache = slot
        page.refcount += 1
        self.slots[slot].cache = page.pfn

    def maybe_free(self, slot: int) -> None:
        """swap_entry_free(): a slot with no swap PTE and no cache page is free."""
        s = self.slots[slot]
        if s.count == 0 and s.cache is None:
            del self.slots[slot]


def delete_from_swap_cache(k: Kernel, page: Page) -> None:
    """delete_from_swap_cache(): the swap cache drops its reference."""
    slot = page.swapcache
    page.swapcache = None
    k.swap.slots[slot].cache = None
    k.swap.maybe_free(slot)
    k.put_page(page)


def folio_free_swap(k: Kernel, page: Page) -> bool:
    """folio_free_swap()/try_to_free_swap(): only when no swap PTE uses the slot."""
    if page.swapcache is None or k.swap.slots[page.swapcache].count:
        return False
    delete_from_swap_cache(k, page)
    return True


def swap_duplicate(k: Kernel, slot: int) -> None:
    """swap_duplicate(): fork copies a swap PTE."""
    k.swap.slots[slot].count += 1


def swap_free(k: Kernel, slot: int) -> None:
    """swap_free(): one swap PTE fewer (do_swap_page); the swap cache page stays."""
    k.swap.slots[slot].count -= 1
    k.swap.maybe_free(slot)


def free_swap_and_cache(k: Kernel, slot: int) -> None:
    """free_swap_and_cache(): zap a swap PTE (munmap, exit).

    When the last swap PTE goes and the swap cache page is mapped nowhere, the cache
    page is dropped too (__try_to_reclaim_swap with TTRS_UNMAPPED).
    """
    s = k.swap.slots[slot]
    s.count -= 1
    if s.count == 0 and s.cache is not None:
        page = k.pages[s.cache]
        if page.mapcount == 0:
            delete_from_swap_cache(k, page)
            return
    k.swap.maybe_free(slot)


def try_to_unmap(k: Kernel, page: Page) -> bool:
    """try_to_unmap(): replace every PTE of page with a swap entry; True if none is left.

    5.19+: try_to_unmap_one() must clear PageAnonExclusive first
    (page_try_share_anon_rmap), which fails for a maybe-pinned page: the page stays
    mapped. The swap PTE keeps the exclusive bit (pte_swp_exclusive).
    """
    slot = page.swapcache
    for proc in k.live_procs():
        for addr, pte in proc.mm.ptes.items():
            if pte.pfn != page.pfn:
                continue
            exclusive = False
            if k.policy.anon_exclusive and page.anon_exclusive:
                if page_maybe_dma_pinned(page):
                    k.note(f"try_to_unmap_one({proc.name}, {addr:#x}): "
                           "page_try_share_anon_rmap() fails, page maybe pinned -> keep mapped")
                    return False
                page.anon_exclusive = False
                exclusive = True
            proc.mm.ptes[addr] = Pte(swap=slot, swp_exclusive=exclusive)
            k.swap.slots[slot].count += 1
            page.mapcount -= 1
            page.refcount -= 1
            k.note(f"try_to_unmap_one({proc.name}, {addr:#x}): PTE -> swap entry slot {slot}"
                   + (" (pte_swp_exclusive)" if exclusive else ""))
    return page.mapcount == 0


def shrink_page_list(k: Kernel, page: Page) -> bool:
    """shrink_page_list()/shrink_folio_list() for one anon page; True if unmapped.

    Rule 4 (feb889fb40fa, 5.11): a maybe-pinned page not yet in the swap cache is kept
    ("goto keep_locked") before add_to_swap(). A false positive only costs memory.
    """
    if page.swapcache is None:
        if k.policy.swap_skips_pinned and page_maybe_dma_pinned(page):
            k.note(f"shrink_page_list(pfn {page.pfn}): page_maybe_dma_pinned() (refcount "
                   f"{page.refcount}) -> keep_locked, not added to the swap cache")
            return False
        slot = k.swap.get_swap_page(page)
        k.swap.add_to_swap_cache(page, slot)
        k.note(f"shrink_page_list(pfn {page.pfn}): add_to_swap() -> slot {slot}")
    if not try_to_unmap(k, page):
        return False
    slot = page.swapcache
    k.swap.slots[slot].data = page.data
    k.stats["swapouts"] += 1
    if page.refcount == 1:
        k.note(f"pageout(pfn {page.pfn}) -> slot {slot}; __remove_mapping(): only the swap "
               "cache holds it -> freed")
        delete_from_swap_cache(k, page)
    else:
        k.note(f"pageout(pfn {page.pfn}) -> slot {slot}; __remove_mapping() fails: refcount "
               f"{page.refcount} (someone else holds it) -> stays in the swap cache")
    return True


def madvise_pageout(k: Kernel, proc: Process, addr: int) -> bool:
    """madvise(MADV_PAGEOUT) on one page: lru_add_drain(), then reclaim it if unshared.

    madvise_cold_or_pageout_pte_range() skips a page mapped more than once.
    """
    where = f"madvise_pageout({proc.name}, {addr:#x})"
    k.lru_add_drain(quiet=True)
    pte = proc.mm.ptes.get(addr)
    if pte is None or not pte.present:
        k.note(f"{where}: " + ("not populated" if pte is None else "already swapped out")
               + " -> nothing to do")
        return False
    page = k.pages[pte.pfn]
    if page.zero:
        k.note(f"{where}: the zero page is never reclaimed")
        return False
    if page.mapcount != 1:
        k.note(f"{where}: page_mapcount()={page.mapcount} != 1 (shared) -> skip")
        return False
    return shrink_page_list(k, page)
