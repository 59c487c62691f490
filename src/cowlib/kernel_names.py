"""The kernel's own names for what the model explains, by release.

The model's functions keep one name each (mostly the 5.x one, or the one that says what
the code does); the explanations it prints use the name the kernel of the preset's
release used, in the function that did it then. A preset names its release in
Policy.era; Machine.fn(key) looks the name up here.

RENAMED lists, per key, the names the kernel used one after the other, each from the
first release (tag) that had it. STABLE lists the names the notes print unchanged, with
the releases they exist in. tests/test_kernel_names.py runs every scenario under every
preset and checks that each name a note prints existed in that preset's release.

Where a source is a commit id, the commit is in cowlib.history; otherwise the source is
the code at that release or a patch mail, and the boundary is only as exact as the note
says (a boundary that falls between two presets gives every preset the right name).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import BadArgument


@dataclass(frozen=True)
class Name:
    """One name, from its first release (tag) on."""

    text: str
    since: str  # first tag with this name, e.g. "v5.9-rc7"
    source: str


RENAMED: dict[str, tuple[Name, ...]] = {
    # fork's page table copy: copy_one_pte() was split by Linus for the early-COW series
    "copy_present_pte": (
        Name("copy_one_pte()", "v2.6.12", "mm/memory.c up to v5.9-rc6"),
        Name(
            "copy_present_pte()",
            "v5.9-rc7",
            "Linus's 'mm: move the copy_one_pte() pte_present check into the caller' in the "
            "Linux 5.9-rc7 shortlog",
        ),
    ),
    "copy_nonpresent_pte": (
        Name("copy_one_pte()", "v2.6.12", "mm/memory.c up to v5.9-rc6"),
        Name(
            "copy_nonpresent_pte()",
            "v5.9-rc7",
            "Linus's 'mm: split out the non-present case from copy_one_pte()' in the Linux "
            "5.9-rc7 shortlog",
        ),
    ),
    "mmap_write_lock": (
        Name("down_write_killable(mmap_sem)", "v4.8", "kernel/fork.c dup_mmap() up to v5.7"),
        Name(
            "mmap_write_lock_killable()",
            "v5.8-rc1",
            "the mmap locking API (9740ca4e95b4) and its conversion, v5.8-rc1",
        ),
    ),
    "mmap_write_unlock": (
        Name("up_write(mmap_sem)", "v2.6.12", "kernel/fork.c dup_mmap() up to v5.7"),
        Name("mmap_write_unlock()", "v5.8-rc1", "the mmap locking API, v5.8-rc1"),
    ),
    # the sticky "this mm has pinned" flag fork reads
    "MMF_HAS_PINNED": (
        Name("mm->has_pinned", "v5.9-rc7", "008cfe4418b3"),
        Name("MMF_HAS_PINNED", "v5.14-rc1", "a458b76a4171"),
    ),
    # fork's "may this page be pinned?" test
    "page_needs_cow_for_dma": (
        Name(
            "copy_present_page(): mm->has_pinned && page_maybe_dma_pinned()",
            "v5.9-rc7",
            "70e806e4e645 (open-coded in copy_present_page(), as in v5.11)",
        ),
        Name("page_needs_cow_for_dma()", "v5.12-rc3", "97a7e4733b9b"),
        Name(
            "folio_needs_cow_for_dma()",
            "v6.8-rc1",
            "the Dec 2023 rmap rework: 'page_needs_cow_for_dma() -> folio_needs_cow_for_dma()'",
        ),
    ),
    "fork:page_maybe_dma_pinned": (
        Name("page_maybe_dma_pinned()", "v5.7-rc1", "3faa52c03f44"),
        Name("folio_maybe_dma_pinned()", "v6.8-rc1", "folio_needs_cow_for_dma() tests the folio"),
    ),
    "page_try_dup_anon_rmap": (
        Name(
            "page_try_dup_anon_rmap()", "v5.19-rc1", "the PageAnonExclusive series (6c287605fd56)"
        ),
        Name(
            "folio_try_dup_anon_rmap_pte()",
            "v6.8-rc1",
            "'mm/memory: page_try_dup_anon_rmap() -> folio_try_dup_anon_rmap_pte()' (Dec 2023)",
        ),
    ),
    "page_try_share_anon_rmap": (
        Name("page_try_share_anon_rmap()", "v5.19-rc1", "the PageAnonExclusive series"),
        Name(
            "folio_try_share_anon_rmap_pte()",
            "v6.8-rc1",
            "'mm: convert page_try_share_anon_rmap() to folio_try_share_anon_rmap_[pte|pmd]()'",
        ),
    ),
    # the lockless walk of pin_user_pages_fast() and what it calls
    "gup_fast": (
        Name("internal_get_user_pages_fast()", "v5.6-rc1", "mm/gup.c of v5.7"),
        Name("lockless_pages_from_mm()", "v5.11-rc1", "57efa1fe5957 splits it out"),
        Name(
            "gup_fast()",
            "v6.10-rc1",
            "'mm/gup: consistently name GUP-fast functions' (23babe1934d7), posted 2 Apr 2024",
        ),
    ),
    "try_grab_folio": (
        Name("try_grab_compound_head()", "v5.7-rc1", "57efa1fe5957's race diagram (v5.11)"),
        Name("try_grab_folio()", "v5.18-rc1", "'mm/gup: Add try_get_folio() and try_grab_folio()'"),
        Name(
            "try_grab_folio_fast()",
            "v6.10-rc1",
            "'mm: gup: stop abusing try_grab_folio' (June 2024); boundary not read in a shortlog",
        ),
    ),
    "gup_fast_unpin_user_pages": (
        Name("unpin_user_pages()", "v5.11-rc1", "57efa1fe5957"),
        Name(
            "unpin_user_pages_lockless()",
            "v5.19-rc1",
            "'mm/gup: sanity-check with CONFIG_DEBUG_VM that anonymous pages are exclusive "
            "when (un)pinning'",
        ),
        Name("gup_fast_unpin_user_pages()", "v6.10-rc1", "23babe1934d7"),
    ),
    # the reuse test of do_wp_page(), inline until 6.7, then wp_can_reuse_anon_folio()
    "folio_ref_count": (
        Name("page_count()", "v2.6.12", "do_wp_page() and do_swap_page() of v5.18"),
        Name(
            "folio_ref_count()",
            "v6.7-rc1",
            "wp_can_reuse_anon_folio() (49b58785b93d); do_swap_page() was converted to "
            "folios earlier, so its boundary is only known to lie between 5.18 and 6.7",
        ),
    ),
    "folio_test_lru": (
        Name("PageLRU()", "v2.6.12", "do_wp_page() of v5.18"),
        Name("folio_test_lru()", "v6.7-rc1", "wp_can_reuse_anon_folio() (49b58785b93d)"),
    ),
    "folio_free_swap": (
        Name("try_to_free_swap()", "v2.6.29", "do_wp_page() of v5.18"),
        Name("folio_free_swap()", "v6.7-rc1", "wp_can_reuse_anon_folio() (49b58785b93d)"),
    ),
    # reclaim
    "shrink_page_list": (
        Name("shrink_page_list()", "v2.6.12", "mm/vmscan.c up to v6.0"),
        Name(
            "shrink_folio_list()",
            "v6.1-rc1",
            "renamed in the 6.1 vmscan folio conversion; boundary not read in a shortlog",
        ),
    ),
    # hugetlb's COW fault handler
    "hugetlb_wp": (
        Name(
            "hugetlb_cow()",
            "v5.7",
            "mm/hugetlb.c of v5.7 has it ('Hugetlb: Copy on Write support', David Gibson, "
            "2.6 era); the model names no older release, so no first tag was read",
        ),
        Name(
            "hugetlb_wp()",
            "v5.19-rc1",
            "renamed when hugetlb learned FAULT_FLAG_UNSHARE (c89357e27f20, 5.19) as the "
            "issue-13 research notes read it; 'mm: extend FAULT_FLAG_UNSHARE support to "
            "anything in a COW mapping' (6.2) already calls it hugetlb_wp()",
        ),
    ),
    "reclaim:page_maybe_dma_pinned": (
        Name("page_maybe_dma_pinned()", "v5.7-rc1", "feb889fb40fa's check"),
        Name(
            "folio_maybe_dma_pinned()",
            "v5.18-rc1",
            "'mm: Turn page_maybe_dma_pinned() into folio_maybe_dma_pinned()' (Feb 2022): "
            "the line in shrink_page_list() is blamed to it",
        ),
    ),
}

STABLE: dict[str, tuple[str, str | None]] = {
    # name: (first tag, first tag without it); None = still there in 6.18
    "do_anonymous_page()": ("v2.6.12", None),
    "do_wp_page()": ("v2.6.12", None),
    "wp_page_copy()": ("v4.0-rc1", None),
    "wp_page_reuse()": ("v4.0-rc1", None),
    "do_swap_page()": ("v2.6.12", None),
    "handle_pte_fault()": ("v2.6.12", None),
    "reuse_swap_page()": ("v2.6.12", "v5.18-rc1"),  # removed by 03104c2c5db8
    "delete_from_swap_cache()": ("v2.6.12", None),
    "page_mapcount()": ("v2.6.12", None),
    "copy_present_page()": ("v5.9-rc7", None),
    "ptep_set_wrprotect()": ("v2.6.12", None),
    "swap_duplicate()": ("v2.6.12", None),
    "copy_page_range()": ("v2.6.12", None),
    "raw_write_seqcount_begin()": ("v5.11-rc1", None),
    "raw_write_seqcount_end()": ("v5.11-rc1", None),
    "read_seqcount_retry()": ("v5.11-rc1", None),
    "dup_mmap()": ("v2.6.12", None),
    "zap_pte_range()": ("v2.6.12", None),
    "exit_mmap()": ("v2.6.12", None),
    "should_force_cow_break()": ("v5.8-rc1", "v5.9-rc4"),  # 17839856fd58, a308c71bf1e6
    "__get_user_pages()": ("v2.6.12", None),
    "faultin_page()": ("v2.6.12", None),
    "get_user_pages_fast()": ("v2.6.12", None),
    "unpin_user_page()": ("v5.6-rc1", None),
    "put_page()": ("v2.6.12", None),
    "gup_must_unshare()": ("v5.19-rc1", None),
    "pte_swp_exclusive()": ("v5.19-rc1", None),
    "should_try_to_free_swap()": ("v5.18-rc1", None),
    "lru_add_drain()": ("v2.6.12", None),
    "add_to_swap()": ("v2.6.12", None),
    "pageout()": ("v2.6.12", None),
    "__remove_mapping()": ("v2.6.12", None),
    "try_to_unmap_one()": ("v2.6.12", None),
    "madvise_pageout()": ("v5.4-rc1", None),
    "can_change_pte_writable()": ("v6.0-rc1", None),  # 64fe24a3e05e
    "change_pte_range()": ("v2.6.12", None),
    "copy_present_pte()": ("v5.9-rc7", None),
    "copy_nonpresent_pte()": ("v5.9-rc7", None),
    "mprotect()": ("v2.6.12", None),  # the system call
    "down_write_killable()": ("v4.7-rc1", None),  # rwsem operations
    "up_write()": ("v2.6.12", None),
    # large folios: THP came with 2.6.38; names below v5.7 with "v5.7" were read in v5.7's
    # code (the model names no older release) and not traced further back
    "do_huge_pmd_anonymous_page()": ("v2.6.38-rc1", None),
    "do_huge_pmd_wp_page()": ("v2.6.38-rc1", None),
    "copy_huge_pmd()": ("v2.6.38-rc1", None),
    "zap_huge_pmd()": ("v2.6.38-rc1", None),
    "pmdp_set_wrprotect()": ("v2.6.38-rc1", None),
    "split_huge_page()": ("v2.6.38-rc1", None),
    "collapse_huge_page()": ("v2.6.38-rc1", None),
    "__split_huge_pmd()": ("v4.5-rc1", None),  # the THP refcounting rework
    "change_huge_pmd()": ("v5.7", None),
    "hugetlb_no_page()": ("v5.7", None),
    "copy_hugetlb_page_range()": ("v5.7", None),
    "huge_ptep_set_wrprotect()": ("v5.7", None),
    "do_read_fault()": ("v5.7", None),
    "do_cow_fault()": ("v5.7", None),
    "try_to_unmap()": ("v2.6.12", None),
    "madvise_collapse()": ("v6.1-rc1", None),  # 7d8faaf15545
    "madvise_cold_or_pageout_pte_range()": ("v5.4-rc1", None),  # with madvise_pageout()
    "__wp_can_reuse_large_anon_folio()": ("v6.15-rc1", None),  # 1da190f4d0a6
    "madvise()": ("v2.6.12", None),  # the system calls
    "mremap()": ("v2.6.12", None),
    # words the notes use that are not calls
    "mmap_sem": ("v2.6.12", "v5.8-rc1"),  # renamed mmap_lock by the locking API series
    "write_protect_seq": ("v5.11-rc1", None),  # 57efa1fe5957
    "PageAnonExclusive": ("v5.19-rc1", None),  # 6c287605fd56
    "FAULT_FLAG_UNSHARE": ("v5.19-rc1", None),  # c89357e27f20
    "FOLL_PIN": ("v5.6-rc1", None),  # eddb1c228f79
    "FOLL_GET": ("v2.6.12", None),
    "FOLL_WRITE": ("v2.6.12", None),
    "FAULT_FLAG_WRITE": ("v2.6.12", None),
}


@functools.lru_cache(maxsize=256)
def version_key(tag: str) -> tuple[int, ...]:
    """'v5.9-rc4' -> (5, 9, 0, 4); 'v5.9' and '5.9' -> (5, 9, 0, 1000): rcs come first."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:-rc(\d+))?", tag)
    if m is None:
        raise BadArgument(f"{tag!r} is not a release (like 5.9 or v5.9-rc4)")
    major, minor, patch, rc = m.groups()
    return (int(major), int(minor), int(patch or 0), int(rc) if rc else 1000)


def era_name(key: str, era: str) -> str:
    """The name the kernel of release era used for key (key itself if never renamed).

    A policy may combine a release with a behaviour that came later (linux-5.11 with
    PageAnonExclusive switched on): then the name the behaviour arrived with is used.
    """
    chain = RENAMED.get(key)
    if chain is None:
        return key
    now = version_key(era)
    found = [n.text for n in chain if version_key(n.since) <= now]
    return found[-1] if found else chain[0].text


def exists(name: str, era: str) -> bool:
    """Did release era have this name (a STABLE name, or a name of a RENAMED chain)?"""
    now = version_key(era)
    if name in STABLE:
        first, gone = STABLE[name]
        return version_key(first) <= now and (gone is None or now < version_key(gone))
    for chain in RENAMED.values():
        for i, n in enumerate(chain):
            if n.text == name:
                nxt = chain[i + 1].since if i + 1 < len(chain) else None
                if version_key(n.since) <= now and (nxt is None or now < version_key(nxt)):
                    return True
    return False
