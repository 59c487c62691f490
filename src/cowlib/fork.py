"""kernel/fork.c: dup_mmap(), with the PTE copy of mm/memory.c split into its steps.

fork is three steps in the model, so a GUP-fast on another CPU can run between them
(the race of 57efa1fe5957): dup_mmap_begin() takes the parent's mmap_lock and opens
write_protect_seq; for each PTE, copy_present_pte_check() decides (copy now, or share)
and copy_present_pte_share() write-protects and maps in the child; dup_mmap_end() copies
what is left, closes the seqcount and drops the lock. Process.fork() runs all of them.
"""

from __future__ import annotations

from dataclasses import replace

from .huge_memory import copy_huge_pmd
from .hugetlb import copy_hugetlb_page_range
from .machine import Machine
from .memory import copy_present_pte_check, copy_present_pte_share
from .mm_types import Mm


def dup_mmap_begin(m: Machine, parent: Mm, child: Mm) -> None:
    """dup_mmap() up to the PTE copy: mmap_write_lock, VMAs copied, write_protect_seq odd.

    VM_DONTCOPY (MADV_DONTFORK) VMAs are not copied. PMD-mapped THPs and hugetlb entries
    are copied here, before the PTEs (copy_huge_pmd() may split a PMD into PTEs that
    the PTE copy then handles).
    """
    child.vmas = [replace(v) for v in parent.vmas if not v.dontfork]
    child.next_addr = parent.next_addr
    child.forked_by = parent
    parent.fork_child = child
    lock = f"dup_mmap({parent.owner}->{child.owner}): {m.fn('mmap_write_lock')}"
    if m.policy.write_protect_seq:
        parent.write_protect_seq += 1
        m.note(
            f"{lock}; copy_page_range(): raw_write_seqcount_begin(write_protect_seq) -> "
            f"{parent.write_protect_seq}"
        )
    else:
        m.note(lock)
    for start in sorted(parent.pmds):
        vma = parent.find_vma(start)
        if vma.dontfork:
            continue
        if vma.hugetlb:
            copy_hugetlb_page_range(m, parent, child, start)
        else:
            copy_huge_pmd(m, parent, child, start)
    copied = sorted(a for a in parent.ptes if not parent.find_vma(a).dontfork)
    parent.fork_pending = dict.fromkeys(copied, "check")


def dup_mmap_check(m: Machine, parent: Mm, addr: int) -> None:
    """copy_present_pte() for addr up to its decision (copy now, or share)."""
    if copy_present_pte_check(m, parent, parent.fork_child, addr):
        del parent.fork_pending[addr]
    else:
        parent.fork_pending[addr] = "share"


def dup_mmap_share(m: Machine, parent: Mm, addr: int) -> None:
    """The rest of copy_present_pte() for addr: write-protect and map in the child."""
    copy_present_pte_share(m, parent, parent.fork_child, addr)
    del parent.fork_pending[addr]


def dup_mmap_end(m: Machine, parent: Mm) -> Mm:
    """Copy the remaining PTEs, end write_protect_seq, drop mmap_lock; returns the child."""
    for addr, step in list(parent.fork_pending.items()):
        if step == "check":
            dup_mmap_check(m, parent, addr)
        if addr in parent.fork_pending:
            dup_mmap_share(m, parent, addr)
    child, parent.fork_child = parent.fork_child, None
    child.forked_by = None
    unlock = f"dup_mmap({parent.owner}->{child.owner}): {m.fn('mmap_write_unlock')}"
    if m.policy.write_protect_seq:
        parent.write_protect_seq += 1
        m.note(
            f"copy_page_range(): raw_write_seqcount_end(write_protect_seq) -> "
            f"{parent.write_protect_seq}; {unlock}"
        )
    else:
        m.note(unlock)
    return child
