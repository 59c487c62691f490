"""mm/vmscan.c: reclaim of one anonymous page (shrink_page_list).

Writeback is synchronous in the model: a page that reclaim unmaps is written to its
slot at once and freed if nothing but the swap cache holds it.
"""

from __future__ import annotations

from .huge_memory import split_huge_pmd
from .machine import Machine, SwapSlot
from .mm_types import Folio, Mm, Page, Pte, page_maybe_dma_pinned
from .rmap import try_to_unmap
from .swapfile import add_to_swap_cache, delete_from_swap_cache, get_swap_page, swap_entry_free


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


def pageout_folio(m: Machine, mm: Mm, folio: Folio) -> bool:
    """shrink_folio_list() for a whole large anonymous folio: swapped out as one.

    folio_alloc_swap() gives it one slot per subpage; try_to_unmap() (TTU_SPLIT_HUGE_PMD)
    splits a PMD mapping first and replaces every PTE by a swap entry, which keeps
    PageAnonExclusive (pte_swp_exclusive) in eras that have it; the written-back folio
    is freed. Simplifications: the model swaps out a large folio only when nothing but
    mm's mappings reference it (else it keeps it; a pinned or shared folio is not
    reclaimed by the model), and swap-in later reads base pages (do_swap_page()).
    """
    where = f"{m.call('shrink_page_list', f'folio {folio.pfn}')}"
    mine = sum(1 for pte in mm.ptes.values() if pte.pfn in range(folio.pfn, folio.pfn + folio.nr))
    mine += sum(1 for pmd in mm.pmds.values() if pmd.pfn == folio.pfn)
    if folio.refcount != folio.large_mapcount or mine != folio.large_mapcount:
        m.note(f"{where}: referenced beyond {mm.owner}'s mappings -> keep")
        return False
    for start in [s for s, pmd in mm.pmds.items() if pmd.pfn == folio.pfn]:
        split_huge_pmd(m, mm, start, "try_to_unmap(TTU_SPLIT_HUGE_PMD)")
    slots = {}
    for sub in folio.pages:
        slot = m.swap.next_slot
        m.swap.next_slot += 1
        m.swap.slots[slot] = SwapSlot(sub.data)
        slots[sub.pfn] = slot
    for addr, pte in list(mm.ptes.items()):
        if pte.pfn in slots:
            sub = m.pages[pte.pfn]
            exclusive = m.policy.anon_exclusive and sub.anon_exclusive
            mm.ptes[addr] = Pte(swap=slots[pte.pfn], swp_exclusive=exclusive)
            m.swap.slots[slots[pte.pfn]].count += 1
            sub.mapcount -= 1
            m.put_page(sub)
    for slot in slots.values():
        swap_entry_free(m, slot)
    m.stats["swapouts"] += len(slots)
    m.note(
        f"{where}: one swap slot per subpage ({min(slots.values())}..{max(slots.values())}); "
        f"try_to_unmap(): every PTE -> swap entry; pageout() -> folio freed"
    )
    return True
