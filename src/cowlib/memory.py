"""mm/memory.c: the fault paths, fork's page table copy and zapping PTEs.

Each function names the kernel function it models; the reuse tests name the era and
commit whose behaviour they reproduce. Every decision is explained with m.note() in
kernel terms, and every COW decision is classified by the oracle (m.decide()).
"""

from __future__ import annotations

from .huge_memory import do_huge_pmd_anonymous_page, do_huge_pmd_wp_page, set_exclusive
from .hugetlb import hugetlb_fault
from .machine import Machine
from .mm_types import (
    PAGE_SIZE,
    ZERO_PFN,
    ZERO_TOKEN,
    Mm,
    Page,
    Pte,
    Subpage,
    Vma,
    page_mapcount,
    page_maybe_dma_pinned,
)
from .swap import lru_add_drain, lru_cache_add
from .swapfile import (
    add_to_swap_cache,
    folio_free_swap,
    free_swap_and_cache,
    lookup_swap_cache,
    reuse_swap_page,
    swap_duplicate,
    swap_free,
)


def handle_mm_fault(m: Machine, mm: Mm, addr: int, write: bool, unshare: bool = False) -> None:
    """handle_mm_fault(): hugetlb_fault() for a hugetlb VMA; a PMD-mapped THP goes to
    do_huge_pmd_wp_page() (which may fall back to the PTEs); else handle_pte_fault()
    routes the fault on addr to the handler for its PTE."""
    vma = mm.find_vma(addr)
    if vma.hugetlb:
        hugetlb_fault(m, mm, vma, addr, write, unshare)
        return
    hit = mm.pmd_at(addr) if mm.pmds else None
    if hit is not None:
        start, pmd = hit
        if not ((write and not pmd.write) or unshare):
            return
        if do_huge_pmd_wp_page(m, mm, start, unshare):
            return
    pte = mm.ptes.get(addr)
    if pte is None and not vma.plain and (vma.thp or vma.file):
        do_fault_large_or_file(m, mm, vma, addr, write)
    elif pte is None:
        do_anonymous_page(m, mm, addr, write)
    elif not pte.present:
        do_swap_page(m, mm, addr, pte, write)
    elif (write and not pte.write) or unshare:
        do_wp_page(m, mm, addr, pte, unshare=unshare)


def map_page(mm: Mm, addr: int, page: Page, write: bool) -> Pte:
    """set_pte_at() + page_add_*_rmap(): one more PTE, one more reference."""
    pte = mm.ptes.setdefault(addr, Pte())
    pte.pfn, pte.swap, pte.write, pte.swp_exclusive = page.pfn, None, write, False
    page.mapcount += 1
    page.refcount += 1
    return pte


def do_anonymous_page(m: Machine, mm: Mm, addr: int, write: bool) -> None:
    """do_anonymous_page(): first touch of a private anonymous page.

    A read maps the shared zero page read-only; a write allocates a zeroed page, maps it
    writable, and puts it in the per-CPU LRU-add batch (lru_cache_add).
    """
    where = f"do_anonymous_page({mm.owner}, {addr:#x})"
    if not write:
        mm.ptes[addr] = Pte(pfn=ZERO_PFN)
        m.note(f"{where}: read fault -> map the shared zero page read-only")
        return
    page = m.alloc_page(ZERO_TOKEN)
    page.anon_exclusive = m.policy.anon_exclusive
    map_page(mm, addr, page, write=mm.find_vma(addr).write)
    lru_cache_add(m, page)
    m.note(
        f"{where}: write fault -> new zeroed pfn {page.pfn}, mapped writable"
        + (", PageAnonExclusive" if page.anon_exclusive else "")
    )


def folio_block(m: Machine, mm: Mm, vma: Vma, addr: int) -> int | None:
    """The naturally aligned block of 2**vma.thp pages around addr, if a THP of that
    order fits there: inside the VMA and not mapped at all yet."""
    size = PAGE_SIZE << vma.thp
    start = addr - (addr % size)
    if start < vma.start or start + size > vma.end:
        return None
    if any(start + i * PAGE_SIZE in mm.ptes for i in range(1 << vma.thp)):
        return None
    return start


def do_fault_large_or_file(m: Machine, mm: Mm, vma: Vma, addr: int, write: bool) -> None:
    """The first fault on addr in a THP VMA or a file mapping.

    THP (MADV_HUGEPAGE with the VMA's size enabled): a PMD-sized block goes to
    do_huge_pmd_anonymous_page(); a smaller order (multi-size THP, cow.c tests them
    since c0f79103322c) is allocated on a write fault by do_anonymous_page() and mapped
    by PTEs, all writable and PageAnonExclusive. Where no block fits, a base page.
    A file mapping: do_read_fault() maps the page cache page (read-only in a private
    mapping); a write fault on a private one is do_cow_fault(): a private anon copy.
    """
    if vma.file is not None:
        do_file_fault(m, mm, vma, addr, write)
        return
    start = folio_block(m, mm, vma, addr)
    if start is None:
        do_anonymous_page(m, mm, addr, write)
    elif vma.thp == m.pmd_order:
        do_huge_pmd_anonymous_page(m, mm, start, write)
    elif not write:
        do_anonymous_page(m, mm, addr, write)
    else:
        folio = m.alloc_folio(vma.thp)
        set_exclusive(m, folio, True)
        for sub in folio.pages:
            map_page(mm, start + sub.index * PAGE_SIZE, sub, write=vma.write)
        m.note(
            f"do_anonymous_page({mm.owner}, {addr:#x}): write fault -> new zeroed folio pfn "
            f"{folio.pfn} ({folio.nr} pages), each mapped writable by a PTE"
            + (", PageAnonExclusive" if m.policy.anon_exclusive else "")
        )


def do_file_fault(m: Machine, mm: Mm, vma: Vma, addr: int, write: bool) -> None:
    """do_read_fault() / do_cow_fault() / do_shared_fault() on a file page."""
    page = m.pages[m.files[vma.file][vma.pgoff + (addr - vma.start) // PAGE_SIZE]]
    if vma.shared or not write:
        map_page(mm, addr, page, write=vma.shared and vma.write)
        m.note(
            f"do_read_fault({mm.owner}, {addr:#x}): map page cache pfn {page.pfn} of "
            f"{vma.file} read-only"
        )
        return
    new = m.alloc_page(page.data)
    new.anon_exclusive = m.policy.anon_exclusive
    map_page(mm, addr, new, write=vma.write)
    lru_cache_add(m, new)
    m.note(
        f"do_cow_fault({mm.owner}, {addr:#x}): copy page cache pfn {page.pfn} into new pfn "
        f"{new.pfn}"
    )


def page_count_test(m: Machine, page: Page) -> tuple[bool, str]:
    """do_wp_page() anon branch of 09854ba94c6a "mm: do_wp_page() simplification" (5.9-rc4).

    Copy unless page_count() == 1; trylock_page() then re-checks page_mapcount() == 1
    and page_count() == 1 ("it's dark out, and we're wearing sunglasses").
    """
    if page.refcount != 1:
        return False, f"page_count()={page.refcount} != 1 -> copy"
    if page_mapcount(page) != 1:
        return False, f"page_mapcount()={page_mapcount(page)} != 1 -> copy"
    return True, "page_count()=1 and page_mapcount()=1 -> reuse"


def wp_can_reuse_anon_folio(m: Machine, page: Page) -> tuple[bool, str]:
    """wp_can_reuse_anon_folio() (6.x); inline in do_wp_page() since 5.18.

    5.18 (d4c470970d45, 53a05ad9f21d) kept rule 1 but stopped copying for references
    the kernel itself holds: refcount > 3 -> copy; if not on the LRU, lru_add_drain()
    (this CPU's batch only); refcount > 1 + swapcache -> copy; free the swap cache if no
    swap PTE needs it; reuse only if page_count() is now 1.
    """
    if page.folio is not None and m.policy.since("large_last_page"):
        return wp_can_reuse_large_anon_folio(m, page)
    count = m.fn("folio_ref_count")
    if page.refcount > 3:
        return False, f"{count}={page.refcount} > 3 -> copy"
    why = []
    if not page.lru:
        lru_add_drain(m, quiet=True)
        why.append(f"!{m.fn('folio_test_lru')} -> lru_add_drain(), refcount now {page.refcount}")
    in_cache = int(page.swapcache is not None)
    if page.refcount > 1 + in_cache:
        return False, ", ".join(
            why + [f"refcount {page.refcount} > 1 + swapcache {in_cache} -> copy"]
        )
    if in_cache:
        freed = folio_free_swap(m, page)
        why.append(
            f"{m.fn('folio_free_swap')} "
            + ("frees the swap cache" if freed else "fails: a swap PTE still uses the slot")
        )
    if page.refcount != 1:
        return False, ", ".join(why + [f"{count}={page.refcount} != 1 -> copy"])
    return True, ", ".join(why + [f"{count}=1 -> reuse"])


def wp_can_reuse_large_anon_folio(m: Machine, page: Subpage) -> tuple[bool, str]:
    """A large folio's subpage that is not PageAnonExclusive, since 6.9.

    781a3ca5c345 (6.9): never reuse a subpage of a large folio, not even the last one
    mapped. 6.15 (1da190f4d0a6, on the MM owner tracking of 6af8cb80d3a9):
    __wp_can_reuse_large_anon_folio() reuses when more than one page is mapped, every
    reference is a mapping (folio_large_mapcount() == folio_ref_count()) and all the
    mappings are in this MM. The model knows exactly which MMs map the folio; the kernel
    keeps two MM ids and a "maybe mapped shared" bit, exact while at most two MMs map it.
    """
    folio = page.folio
    if not m.policy.since("large_reuse"):
        return False, "a large folio -> copy (781a3ca5c345)"
    where = "__wp_can_reuse_large_anon_folio()"
    mapcount = folio.large_mapcount
    if mapcount <= 1:
        return False, f"{where}: large mapcount {mapcount} <= 1 -> copy"
    owners = {
        mm.owner
        for mm in m.live_mms()
        for pte in (*mm.ptes.values(), *mm.pmds.values())
        if pte.pfn is not None and folio.pfn <= pte.pfn < folio.pfn + folio.nr
    }
    if len(owners) > 1:
        return False, f"{where}: mapped by {len(owners)} MMs -> copy"
    if mapcount != folio.refcount:
        return False, (
            f"{where}: large mapcount {mapcount} != "
            f"{m.fn('folio_ref_count')}={folio.refcount} -> copy"
        )
    return True, f"{where}: all {mapcount} references are this MM's mappings -> reuse"


REUSE_TESTS = {
    "mapcount": reuse_swap_page,
    "page_count": page_count_test,
    "page_count_drain": wp_can_reuse_anon_folio,
}


def do_wp_page(m: Machine, mm: Mm, addr: int, pte: Pte, unshare: bool = False) -> None:
    """do_wp_page(): a write (or FAULT_FLAG_UNSHARE) fault on a present read-only PTE.

    The safe default is "goto copy"; reuse needs proof the page is exclusively ours:
    PageAnonExclusive (5.19+), else the era's test (REUSE_TESTS).
    """
    page = m.pages[pte.pfn]
    where = f"do_wp_page({mm.owner}, {addr:#x}{', unshare' if unshare else ''})"
    if page.zero:
        m.note(f"{where}: the zero page is never reused -> wp_page_copy")
        wp_page_copy(m, mm, addr, pte, page, unshare)
        return
    if not page.anon:
        verdict = m.decide(mm, addr, page, False, unshare)
        new = wp_page_copy(m, mm, addr, pte, page, unshare)
        m.note(f"{where}: page cache page of {page.mapping} -> wp_page_copy (new pfn {new.pfn})")
        m.note(verdict)
        return
    if m.policy.anon_exclusive and page.anon_exclusive:
        reuse, why = True, "PageAnonExclusive -> reuse"
    elif not m.policy.copy_when_unsure and page_maybe_dma_pinned(page):
        reuse, why = (
            True,
            (
                f"page_maybe_dma_pinned() (refcount {page.refcount}) -> reuse "
                "so as not to break a pin (rule 2 off: a heuristic decides reuse)"
            ),
        )
    else:
        reuse, why = REUSE_TESTS[m.policy.reuse_test](m, page)
    verdict = m.decide(mm, addr, page, reuse, unshare)
    if reuse:
        m.note(f"{where}: {why} -> wp_page_reuse (pfn {page.pfn})")
        wp_page_reuse(m, mm, addr, pte, page, unshare)
    else:
        old = page.pfn
        new = wp_page_copy(m, mm, addr, pte, page, unshare)
        m.note(f"{where}: {why} -> wp_page_copy (pfn {old} -> new pfn {new.pfn})")
    m.note(verdict)


def wp_page_reuse(m: Machine, mm: Mm, addr: int, pte: Pte, page: Page, unshare: bool) -> None:
    """wp_page_reuse(): keep the page, make the PTE writable (maybe_mkwrite).

    An unshare fault only marks the page exclusive and leaves the PTE read-only.
    """
    if m.policy.anon_exclusive:
        page.anon_exclusive = True
    if not unshare:
        pte.write = mm.find_vma(addr).write


def wp_page_copy(m: Machine, mm: Mm, addr: int, pte: Pte, old: Page, unshare: bool) -> Page:
    """wp_page_copy(): copy into a new page, map it, drop the old page's map and ref."""
    new = m.alloc_page(old.data)
    new.anon_exclusive = m.policy.anon_exclusive
    if not old.zero:
        old.mapcount -= 1
    map_page(mm, addr, new, write=not unshare and mm.find_vma(addr).write)
    lru_cache_add(m, new)
    if not old.zero:
        m.put_page(old)
    return new


def do_swap_page(m: Machine, mm: Mm, addr: int, pte: Pte, write: bool) -> None:
    """do_swap_page(): fault on a swap PTE; find or read the page through the swap cache.

    Until 5.17 a write fault reused the page when reuse_swap_page() said so (mapcount +
    swapcount <= 1: the path that kept CVE-2020-29374 open for swap, S3). 5.18
    (c145e0b47c77) frees the swap cache when it can and reuses only at page_count() == 1.
    5.19+ trusts the exclusive bit of the swap PTE. A read maps the page read-only.
    """
    where = f"do_swap_page({mm.owner}, {addr:#x})"
    slot = pte.swap
    page = lookup_swap_cache(m, slot)
    if page is None:
        page = m.alloc_page(m.swap.slots[slot].data)
        add_to_swap_cache(m, page, slot)
        lru_cache_add(m, page)
        m.stats["swapins"] += 1
        m.note(f"{where}: swap cache miss -> read slot {slot} into new pfn {page.pfn}")
    else:
        m.note(f"{where}: swap cache hit, pfn {page.pfn}")
    exclusive = m.policy.anon_exclusive and pte.swp_exclusive
    # The fault holds the reference the swap cache lookup took (the PTE inherits it), so
    # dropping the swap cache's reference below cannot free the page.
    page.refcount += 1
    if exclusive:
        swap_free(m, slot)
        reuse, why = True, "pte_swp_exclusive() -> exclusive"
    elif m.policy.swapin_test == "mapcount":
        reuse, why = reuse_swap_page(m, page) if write else (False, "read fault")
        swap_free(m, slot)
    else:
        swap_free(m, slot)
        if write and page.refcount == 2 and folio_free_swap(m, page):
            m.note(f"{where}: should_try_to_free_swap() -> swap cache freed")
        count = page.refcount
        reuse, why = (
            count == 1,
            f"{m.fn('folio_ref_count')}={count}" + (" == 1" if count == 1 else " != 1"),
        )
    page.refcount -= 1  # map_page() counts the PTE's reference
    verdict = m.decide(mm, addr, page, True, False) if write and reuse else None
    map_page(mm, addr, page, write=write and reuse and mm.find_vma(addr).write)
    if reuse and m.policy.anon_exclusive:
        page.anon_exclusive = True
    mode = "writable" if pte.write else "read-only"
    m.note(
        f"{where}: {why} -> map pfn {page.pfn} {mode}"
        + (", PageAnonExclusive" if page.anon_exclusive else "")
    )
    if verdict:
        m.note(verdict)
    if write and not pte.write:
        do_wp_page(m, mm, addr, pte)


def copy_present_pte_check(m: Machine, parent: Mm, child: Mm, addr: int) -> bool:
    """copy_pte_range() for one PTE, up to the decision: True when it is finished.

    Swap and zero-page PTEs are copied at once (copy_nonpresent_pte() clears the
    exclusive bit of the swap entry). For an anon page, copy_present_page() gives the
    child its own copy when the page may be pinned: page_needs_cow_for_dma() =
    MMF_HAS_PINNED && page_maybe_dma_pinned() (70e806e4e645, 5.9); in 5.19+ only for a
    PageAnonExclusive page (page_try_dup_anon_rmap() refuses). Otherwise the page will be
    shared: copy_present_pte_share() write-protects it.
    """
    pte = parent.ptes[addr]
    where = m.call("copy_present_pte", f"{parent.owner}->{child.owner}, {addr:#x}")
    if not pte.present:
        swap_duplicate(m, pte.swap)
        child.ptes[addr] = Pte(swap=pte.swap)
        pte.swp_exclusive = False
        m.note(
            f"{m.call('copy_nonpresent_pte', f'{addr:#x}')}: swap_duplicate(slot {pte.swap}), "
            f"both PTEs now swap entries to slot {pte.swap}"
        )
        return True
    page = m.pages[pte.pfn]
    if page.zero:
        child.ptes[addr] = Pte(pfn=ZERO_PFN)
        m.note(f"{where}: zero page, mapped read-only in both")
        return True
    if not page.anon:
        pte.write = False
        map_page(child, addr, page, write=False)
        m.note(f"{where}: page cache page of {page.mapping}, shared read-only")
        return True
    if not m.policy.fork_copies_pinned:
        why = "no early copy at fork in this era (before 70e806e4e645)"
    elif m.policy.anon_exclusive and not page.anon_exclusive:
        why = (
            f"not PageAnonExclusive ({m.fn('page_try_dup_anon_rmap')} only refuses exclusive pages)"
        )
    elif not parent.has_pinned:
        why = f"{m.fn('MMF_HAS_PINNED')} not set"
    elif not page_maybe_dma_pinned(page):
        why = f"{m.fn('fork:page_maybe_dma_pinned')} false (refcount {page.refcount})"
    else:
        why = ""
    if not why:
        new = m.alloc_page(page.data)
        new.anon_exclusive = m.policy.anon_exclusive
        map_page(child, addr, new, write=child.find_vma(addr).write)
        lru_cache_add(m, new)
        m.stats["fork_copies"] += 1
        m.note(
            f"{where}: {_needs_cow_for_dma(m, page)} -> child gets new pfn {new.pfn}, "
            f"parent keeps pfn {page.pfn} writable"
        )
        return True
    m.note(
        f"{where}: {why} -> share pfn {page.pfn}"
        + (
            f", {m.fn('page_try_dup_anon_rmap')} clears PageAnonExclusive"
            if page.anon_exclusive
            else ""
        )
    )
    page.anon_exclusive = False
    return False


def _needs_cow_for_dma(m: Machine, page: Page) -> str:
    """How fork's era says "this page may be pinned, copy it for the child"."""
    test = m.fn("page_needs_cow_for_dma")
    if test.startswith("copy_present_page():"):  # open-coded, 5.9-rc7 .. 5.12-rc2
        return f"{test} (refcount {page.refcount}) -> copy"
    test = f"{test} ({m.fn('MMF_HAS_PINNED')}, refcount {page.refcount})"
    if m.policy.anon_exclusive:  # the rmap dup refuses, then copy_present_pte() copies
        test = f"{m.fn('page_try_dup_anon_rmap')} fails: {test}"
    return f"{test} -> copy_present_page()"


def copy_present_pte_share(m: Machine, parent: Mm, child: Mm, addr: int) -> None:
    """The rest of copy_present_pte(): page_dup_rmap, ptep_set_wrprotect, set child PTE."""
    pte = parent.ptes[addr]
    page = m.pages[pte.pfn]
    pte.write = False
    map_page(child, addr, page, write=False)
    m.note(
        f"{m.call('copy_present_pte', f'{parent.owner}->{child.owner}, {addr:#x}')}: "
        "ptep_set_wrprotect(), "
        f"pfn {page.pfn} shared read-only (mapcount {page.mapcount}, refcount "
        f"{page.refcount})"
    )


def zap_pte(m: Machine, mm: Mm, addr: int) -> None:
    """zap_pte_range() for one PTE: drop the mapping, or the swap entry."""
    pte = mm.ptes.pop(addr, None)
    if pte is None:
        return
    if not pte.present:
        free_swap_and_cache(m, pte.swap)
        return
    page = m.pages[pte.pfn]
    if page.zero:
        return
    page.mapcount -= 1
    m.put_page(page)
