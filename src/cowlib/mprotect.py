"""mm/mprotect.c: changing a range's protection (mprotect_fixup, change_pte_range)."""

from __future__ import annotations

from .huge_memory import split_pmds_in
from .machine import Machine
from .mm_types import PAGE_SIZE, Mm


def mprotect_fixup(m: Machine, mm: Mm, addrs: list[int], write: bool) -> None:
    """mprotect(): PROT_READ write-protects the PTEs; PROT_READ|PROT_WRITE leaves them
    read-only (the next write faults), except that since 64fe24a3e05e
    can_change_pte_writable() maps an exclusive anonymous page writable at once."""
    lo, hi = addrs[0], addrs[-1] + PAGE_SIZE
    if mm.pmds:
        split_pmds_in(m, mm, lo, hi, "mprotect() of part of the THP")
        change_huge_pmds(m, mm, lo, hi, write)
    for vma in mm.split_vmas(lo, hi):
        vma.write = write
    for addr in addrs:
        pte = mm.ptes.get(addr)
        if pte is None or not pte.present:
            continue
        page = m.pages[pte.pfn]
        if not write:
            pte.write = False
        elif m.policy.mprotect_upgrade and not page.zero and page.anon_exclusive and not pte.write:
            pte.write = True
            m.note(
                f"change_pte_range({mm.owner}, {addr:#x}): "
                "can_change_pte_writable(): PageAnonExclusive -> writable now"
            )
    m.note(
        f"mprotect({mm.owner}): {'rw-p' if write else 'r--p'}"
        + ("" if write else ", PTEs write-protected")
    )


def change_huge_pmds(m: Machine, mm: Mm, lo: int, hi: int, write: bool) -> None:
    """change_huge_pmd() / hugetlb_change_protection() for the PMDs inside [lo, hi)."""
    for start, pmd in mm.pmds.items():
        if not lo <= start < hi:
            continue
        head = m.pages[pmd.pfn]
        if not write:
            pmd.write = False
        elif (
            m.policy.mprotect_upgrade
            and head.folio.kind == "anon"
            and head.anon_exclusive
            and not pmd.write
        ):
            pmd.write = True
            m.note(f"change_huge_pmd({mm.owner}, {start:#x}): PageAnonExclusive -> writable now")
