"""mm/huge_memory.c: PMD-mapped THPs, their write faults, fork and splitting the PMD.

A PMD maps a whole folio of order Machine.pmd_order with one entry (Mm.pmds). The
folio's entire mapcount counts PMD mappings, and each PMD mapping holds one reference.
Splitting the PMD (__split_huge_pmd) maps every subpage by its own PTE: each PTE takes a
mapcount on its subpage and a reference on the folio, as in __split_huge_pmd_locked().

Simplifications, said once here: PageAnonExclusive of a PMD-mapped THP is kept on every
subpage and set or cleared on all of them together (the kernel keeps it on the head
page while PMD-mapped and copies it to every subpage when it splits the PMD, so what the
fault paths see is the same); the huge zero page is never refcounted (the kernel counts
it per mm, not per mapping); a COW of a PMD-mapped THP that is not reused splits the PMD
and copies one subpage in every era (before 5.8, Kirill Shutemov's "thp: change CoW
semantics for anon-THP", the kernel copied the whole THP instead: the same reuse
decision, a larger copy).
"""

from __future__ import annotations

from .machine import Machine
from .mm_types import PAGE_SIZE, ZERO_PFN, Folio, Mm, Page, Pmd, Pte


def folio_of(m: Machine, pmd: Pmd) -> Folio:
    return m.pages[pmd.pfn].folio


def huge_zero_folio(m: Machine) -> Folio:
    """mm_get_huge_zero_folio(): the huge zero page, allocated on first use, never freed."""
    if m.huge_zero is None:
        m.huge_zero = m.alloc_folio(m.pmd_order, "huge-zero")
    return m.huge_zero


def set_exclusive(m: Machine, folio: Folio, exclusive: bool) -> None:
    """PageAnonExclusive of every subpage (only in eras that have the flag)."""
    exclusive = exclusive and m.policy.anon_exclusive
    for sub in folio.pages:
        sub.anon_exclusive = exclusive


def map_folio_pmd(m: Machine, mm: Mm, start: int, folio: Folio, write: bool) -> Pmd:
    """set_pmd_at() + folio_add_*_rmap_pmd(): one PMD, one entire mapcount, one reference."""
    pmd = Pmd(folio.pfn, folio.nr, write)
    mm.pmds[start] = pmd
    if folio.kind != "huge-zero":
        folio.entire_mapcount += 1
        folio.refcount += 1
    return pmd


def do_huge_pmd_anonymous_page(m: Machine, mm: Mm, start: int, write: bool) -> None:
    """do_huge_pmd_anonymous_page(): the first fault in a PMD-sized block of a THP VMA.

    A write allocates a zeroed THP and maps it writable by one PMD (exclusive); a read
    maps the huge zero page read-only (use_zero_page).
    """
    where = f"do_huge_pmd_anonymous_page({mm.owner}, {start:#x})"
    if not write:
        map_folio_pmd(m, mm, start, huge_zero_folio(m), False)
        m.note(f"{where}: read fault -> map the huge zero page read-only by a PMD")
        return
    folio = m.alloc_folio(m.pmd_order)
    set_exclusive(m, folio, True)
    map_folio_pmd(m, mm, start, folio, mm.find_vma(start).write)
    m.note(
        f"{where}: write fault -> new zeroed THP pfn {folio.pfn} ({folio.nr} pages), "
        "mapped writable by a PMD" + (", PageAnonExclusive" if m.policy.anon_exclusive else "")
    )


def split_huge_pmd(m: Machine, mm: Mm, start: int, why: str) -> None:
    """__split_huge_pmd(): replace the PMD by one PTE per subpage, same protection.

    The huge zero page splits into PTEs of the shared zero page.
    """
    pmd = mm.pmds.pop(start)
    folio = folio_of(m, pmd)
    if folio.kind == "huge-zero":
        for i in range(pmd.nr):
            mm.ptes[start + i * PAGE_SIZE] = Pte(pfn=ZERO_PFN)
        m.note(f"__split_huge_pmd({mm.owner}, {start:#x}): {why} -> PTEs of the zero page")
        return
    for sub in folio.pages:
        mm.ptes[start + sub.index * PAGE_SIZE] = Pte(pfn=sub.pfn, write=pmd.write)
        sub.mapcount += 1
    folio.entire_mapcount -= 1
    folio.refcount += folio.nr - 1
    m.note(
        f"__split_huge_pmd({mm.owner}, {start:#x}): {why} -> {folio.nr} PTEs map pfn "
        f"{folio.pfn}.. (refcount {folio.refcount})"
    )


def split_pmds_in(m: Machine, mm: Mm, lo: int, hi: int, why: str) -> None:
    """Split every PMD that [lo, hi) covers only in part (vma_adjust_trans_huge and the
    partial-range cases of zap, mprotect, madvise and mremap)."""
    for start, pmd in list(mm.pmds.items()):
        end = start + pmd.nr * PAGE_SIZE
        if start < hi and lo < end and not (lo <= start and end <= hi):
            split_huge_pmd(m, mm, start, why)


def thp_reuse_test(m: Machine, folio: Folio) -> tuple[bool, str]:
    """The reuse test of do_huge_pmd_wp_page() for an anonymous THP, by release.

    Until 5.18 (CHANGES["thp_page_count"]): reuse_swap_page(), the largest subpage
    mapcount plus the PMD mappings (plus the swap count) <= 1: a GUP reference is
    invisible, so the vmsplice leak of CVE-2020-29374 stayed open for THPs after 5.9
    had closed it for small pages. Since 5.18: reuse only at folio_ref_count() == 1.
    """
    if not m.policy.since("thp_page_count"):
        count = max(s.mapcount for s in folio.pages) + folio.entire_mapcount
        why = f"reuse_swap_page(): mapcount {count} + swapcount 0"
        if count > 1:
            return False, why + " > 1"
        return True, why + f" <= 1 -> reuse (page_count()={folio.refcount} not consulted)"
    count = m.fn("folio_ref_count")
    if folio.refcount != 1:
        return False, f"{count}={folio.refcount} != 1"
    return True, f"{count}=1 -> reuse"


def do_huge_pmd_wp_page(m: Machine, mm: Mm, start: int, unshare: bool) -> bool:
    """do_huge_pmd_wp_page(): a write (or unshare) fault on a read-only PMD.

    Reuse the whole THP when PageAnonExclusive says so (5.19+) or the era's test
    (thp_reuse_test) proves it exclusive; otherwise split the PMD and return False
    (VM_FAULT_FALLBACK): do_wp_page() then handles the faulting subpage alone. The huge
    zero page always falls back. True when the fault is handled.
    """
    pmd = mm.pmds[start]
    folio = folio_of(m, pmd)
    where = f"do_huge_pmd_wp_page({mm.owner}, {start:#x}{', unshare' if unshare else ''})"
    if folio.kind == "huge-zero":
        split_huge_pmd(m, mm, start, f"{where}: huge zero page")
        return False
    head = folio.pages[0]
    if m.policy.anon_exclusive and head.anon_exclusive:
        reuse, why = True, "PageAnonExclusive -> reuse"
    else:
        reuse, why = thp_reuse_test(m, folio)
    if not reuse:
        split_huge_pmd(m, mm, start, f"{where}: {why} -> fallback")
        return False
    verdict = m.decide(mm, start, head, True, unshare, whole=True)
    set_exclusive(m, folio, True)
    if not unshare:
        pmd.write = mm.find_vma(start).write
    m.note(f"{where}: {why} the whole THP (pfn {folio.pfn}, {folio.nr} pages)")
    m.note(verdict)
    return True


def copy_huge_pmd(m: Machine, parent: Mm, child: Mm, start: int) -> bool:
    """copy_huge_pmd(): fork shares a PMD-mapped THP, write-protected in both.

    Since 5.9 (d042035eaf5f, with fork_copies_pinned) a THP that may be pinned is not
    shared: the PMD is split and the PTE copy gives the child its own copy of each pinned subpage
    (copy_present_page); 5.19+ only refuses an exclusive THP
    (folio_try_dup_anon_rmap_pmd()). False when it split the PMD instead.
    """
    pmd = parent.pmds[start]
    folio = folio_of(m, pmd)
    where = f"copy_huge_pmd({parent.owner}->{child.owner}, {start:#x})"
    if folio.kind == "huge-zero":
        map_folio_pmd(m, child, start, folio, False)
        m.note(f"{where}: huge zero page, mapped read-only in both")
        return True
    pinned = (
        m.policy.fork_copies_pinned
        and parent.has_pinned
        and folio.pincount > 0
        and (not m.policy.anon_exclusive or folio.pages[0].anon_exclusive)
    )
    if pinned:
        split_huge_pmd(m, parent, start, f"{where}: THP maybe pinned (pincount {folio.pincount})")
        return False
    pmd.write = False
    map_folio_pmd(m, child, start, folio, False)
    cleared = any(s.anon_exclusive for s in folio.pages)
    set_exclusive(m, folio, False)
    m.note(
        f"{where}: pmdp_set_wrprotect(), THP pfn {folio.pfn} shared read-only "
        f"(entire mapcount {folio.entire_mapcount}, refcount {folio.refcount})"
        + (", PageAnonExclusive cleared" if cleared else "")
    )
    return True


def zap_huge_pmd(m: Machine, mm: Mm, start: int) -> None:
    """zap_huge_pmd(): drop a PMD mapping and its reference."""
    pmd = mm.pmds.pop(start)
    folio = folio_of(m, pmd)
    if folio.kind == "huge-zero":
        return
    folio.entire_mapcount -= 1
    m.put_page(folio.pages[0])


def split_folio(m: Machine, folio: Folio, why: str) -> bool:
    """split_folio() (split_huge_page_to_list()): turn a PTE-mapped anonymous folio into
    order-0 pages; the pages no PTE maps are freed. Fails (False) unless every reference
    is a PTE mapping (can_split_folio()) and no PMD maps it."""
    if folio.entire_mapcount or folio.refcount != folio.large_mapcount or folio.kind != "anon":
        m.note(f"split_huge_page(pfn {folio.pfn}): {why}: extra references -> not split")
        return False
    for sub in folio.pages:
        del m.pages[sub.pfn]
        if sub.mapcount:
            page = Page(sub.pfn, sub.data, sub.mapcount, sub.mapcount, lru=True)
            page.anon_exclusive = sub.anon_exclusive
            m.pages[sub.pfn] = page
    m.note(f"split_huge_page(pfn {folio.pfn}): {why} -> {folio.nr} order-0 pages")
    return True


def zap_huge_range(m: Machine, mm: Mm, lo: int, hi: int) -> None:
    """zap_page_range for the PMD level: PMDs wholly inside [lo, hi) are zapped, PMDs
    partly inside are split first (callers keep hugetlb ranges to whole huge pages)."""
    if not mm.pmds:
        return
    split_pmds_in(m, mm, lo, hi, "zap of part of the THP")
    for start, pmd in list(mm.pmds.items()):
        if lo <= start < hi:
            zap_huge_pmd(m, mm, start)
            m.note(f"zap_huge_pmd({mm.owner}, {start:#x}): folio pfn {pmd.pfn} unmapped")
