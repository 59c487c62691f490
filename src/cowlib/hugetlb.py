"""mm/hugetlb.c: private hugetlb mappings, with their own fault, COW and fork paths.

One huge entry (kept in Mm.pmds) maps a whole hugetlb folio. hugetlb decides reuse by
the mapcount, in every era: hugetlb_wp() (hugetlb_cow() before 5.19) reuses an anonymous
folio mapped once, whatever else holds a reference. b8a2528835b3 documents why (copying
on unexpected references could kill fork()+exit() users when huge pages run out) and
that, as a side effect, FOLL_GET users such as vmsplice() can still see leaks; cow.c
marks its hugetlb vmsplice() cases XFAIL since 4bf6a4ebc592. PageAnonExclusive (5.19+)
changed fork (an exclusive pinned folio is copied for the child) and R/O pins (they
unshare), not this reuse test.

Simplifications: hugetlb pages are never swapped; reservations are not modelled (the
model always has a free huge page, as cow.c's second mapping makes sure).
"""

from __future__ import annotations

from .huge_memory import map_folio_pmd, set_exclusive
from .machine import Machine
from .mm_types import PAGE_SIZE, Folio, Mm, Pmd, Vma


def hugetlb_start(vma: Vma, addr: int) -> int:
    size = PAGE_SIZE << vma.hugetlb
    return vma.start + (addr - vma.start) // size * size


def hugetlb_fault(m: Machine, mm: Mm, vma: Vma, addr: int, write: bool, unshare: bool) -> None:
    """hugetlb_fault(): no entry -> hugetlb_no_page(); a write or unshare fault on a
    read-only entry -> hugetlb_wp()."""
    start = hugetlb_start(vma, addr)
    pmd = mm.pmds.get(start)
    if pmd is None:
        hugetlb_no_page(m, mm, vma, start, write)
    elif (write and not pmd.write) or unshare:
        hugetlb_wp(m, mm, start, pmd, unshare)


def hugetlb_file_folio(m: Machine, vma: Vma) -> Folio:
    """The hugetlbfs page cache folio of a memfd (MFD_HUGETLB) at vma's offset."""
    return m.pages[m.files[vma.file][vma.pgoff]].folio


def hugetlb_no_page(m: Machine, mm: Mm, vma: Vma, start: int, write: bool) -> None:
    """hugetlb_no_page(): map a new zeroed anonymous hugetlb folio, or the page cache folio
    of a hugetlb file. A private mapping is mapped writable only on a write fault of a new
    anonymous folio; a page cache folio is mapped read-only (a write then COWs it)."""
    where = f"hugetlb_no_page({mm.owner}, {start:#x})"
    if vma.file is not None:
        folio = hugetlb_file_folio(m, vma)
        map_folio_pmd(m, mm, start, folio, False)
        m.note(f"{where}: page cache folio pfn {folio.pfn} of {vma.file}, mapped read-only")
        if write:
            hugetlb_wp(m, mm, start, mm.pmds[start], False)
        return
    folio = m.alloc_folio(vma.hugetlb, "hugetlb")
    set_exclusive(m, folio, True)
    map_folio_pmd(m, mm, start, folio, write and vma.write)
    m.note(
        f"{where}: new zeroed hugetlb folio pfn {folio.pfn} ({folio.nr} pages), mapped "
        + ("writable" if write else "read-only")
    )


def hugetlb_wp(m: Machine, mm: Mm, start: int, pmd: Pmd, unshare: bool) -> None:
    """hugetlb_wp() (hugetlb_cow() before 5.19): reuse an anonymous folio mapped once,
    else copy the whole folio. The mapcount decides; the refcount is not consulted."""
    folio = m.pages[pmd.pfn].folio
    name = m.fn("hugetlb_wp")
    where = f"{name.removesuffix('()')}({mm.owner}, {start:#x}{', unshare' if unshare else ''})"
    head = folio.pages[0]
    mapcount = folio.large_mapcount
    reuse = folio.anon and mapcount == 1
    why = (
        f"mapcount {mapcount}"
        + (" == 1 and anon" if reuse else (" != 1" if folio.anon else ", page cache folio"))
        + f" (refcount {folio.refcount} not consulted)"
    )
    verdict = m.decide(mm, start, head, reuse, unshare, whole=True)
    if reuse:
        set_exclusive(m, folio, True)
        if not unshare:
            pmd.write = mm.find_vma(start).write
        m.note(f"{where}: {why} -> reuse (pfn {folio.pfn})")
    else:
        new = m.alloc_folio(folio.order, "hugetlb")
        for old, sub in zip(folio.pages, new.pages, strict=True):
            sub.data = old.data
        set_exclusive(m, new, True)
        del mm.pmds[start]
        folio.entire_mapcount -= 1
        map_folio_pmd(m, mm, start, new, not unshare and mm.find_vma(start).write)
        m.put_page(head)
        m.note(f"{where}: {why} -> copy the whole folio (pfn {folio.pfn} -> new pfn {new.pfn})")
    m.note(verdict)


def copy_hugetlb_page_range(m: Machine, parent: Mm, child: Mm, start: int) -> None:
    """copy_hugetlb_page_range() for one entry: share it write-protected, or (since
    4eae4efa2c29, 5.12) give the child a copy of a maybe-pinned anonymous folio; 5.19+
    only an exclusive one (hugetlb_try_dup_anon_rmap() refuses)."""
    pmd = parent.pmds[start]
    folio = m.pages[pmd.pfn].folio
    where = f"copy_hugetlb_page_range({parent.owner}->{child.owner}, {start:#x})"
    pinned = (
        folio.anon
        and m.policy.fork_copies_pinned
        and m.policy.since("hugetlb_fork_copies_pinned")
        and parent.has_pinned
        and folio.pincount > 0
        and (not m.policy.anon_exclusive or folio.pages[0].anon_exclusive)
    )
    if pinned:
        new = m.alloc_folio(folio.order, "hugetlb")
        for old, sub in zip(folio.pages, new.pages, strict=True):
            sub.data = old.data
        set_exclusive(m, new, True)
        map_folio_pmd(m, child, start, new, child.find_vma(start).write)
        m.stats["fork_copies"] += 1
        m.note(
            f"{where}: folio maybe pinned (pincount {folio.pincount}) -> child gets new "
            f"pfn {new.pfn}, parent keeps pfn {folio.pfn}"
        )
        return
    pmd.write = False
    map_folio_pmd(m, child, start, folio, False)
    set_exclusive(m, folio, False)
    m.note(
        f"{where}: huge_ptep_set_wrprotect(), folio pfn {folio.pfn} shared read-only "
        f"(mapcount {folio.large_mapcount}, refcount {folio.refcount})"
    )
