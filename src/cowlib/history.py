"""The history registry: every kernel commit and mail the book and the model cite.

One record per commit (``COMMITS``, by 12-hex id) and per notable mail (``MAILS``, by a
short key). The book's tables, the version map and every "commit X (version)" the
chapters print read from here, so a title, author or release is written once.

How a record was checked (the ``source`` field says where):

- **Title and author** come from the commit itself as a primary source shows it: a
  release-candidate announcement's shortlog (``Author (n):`` then the subjects, exactly as
  committed), a subsystem pull request's shortlog, a stable backport ("commit <40 hex>
  upstream" under the original ``From:``), or the patch mail.
- **First tag.** A commit listed in the shortlog of Linus's "Linux X.Y-rcN" announcement
  is in vX.Y-rcN (the shortlog lists what is new since the previous rc). A commit in a
  merge-window pull request that pr-tracker-bot reports merged into torvalds/linux before
  the rc1 tag is in vX.Y-rc1. For Andrew Morton's emailed (quilt) batches, which Linus
  applied himself, the mainline hash showing up in a kernel.org linux-next push during the
  merge window puts the commit in vX.Y-rc1 (linux-next only carries Linus's hash after
  Linus has applied the patch).
- ``verified`` is True only when title, author and tag were each read in such a source.
  Otherwise ``note`` says exactly what could not be established and why; the book may say
  "likely" only beside such a record.

Mails are cited by Message-ID, with the date and time zone as sent. ``established`` says
what the mail settled, in paraphrase.

The module is plain data (stdlib and ``cowlib.errors`` only) so that it sits at the bottom
of the model's layers and imports fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadArgument

ID_PATTERN = re.compile(r"[0-9a-f]{12}")
# 2.6.x tags have three numbers: v2.6.13-rc1.
TAG_PATTERN = re.compile(r"v\d+\.\d+(?:\.\d+)?(?:-rc\d+)?")
SOURCE_SEPARATOR = " ; "


@dataclass(frozen=True)
class Commit:
    """One upstream commit: its exact subject, author and the first tag that contains it."""

    id: str  # 12 lower-case hex digits
    title: str  # exact subject line, as committed
    author: str  # the commit's author (not the poster, not the committer)
    tag: str  # first tag of torvalds/linux that contains it: 'v5.9-rc4', 'v5.18-rc1'
    source: str  # where it was checked: URLs or '<Message-ID>'s, separated by ' ; '
    verified: bool  # title, author and tag each read in a primary source
    summary: str  # one plain sentence: what the commit does
    note: str = ""  # if not verified: what could not be established, and why

    @property
    def release(self) -> str:
        """The release the tag belongs to: 'v5.11-rc5' -> '5.11', 'v2.6.13-rc1' -> '2.6.13'."""
        return self.tag.removeprefix("v").split("-rc")[0]


@dataclass(frozen=True)
class Mail:
    """One mail (or report) the book relies on, and what it established."""

    key: str  # short stable key: 'torvalds-2021-12-18a'
    date: str  # ISO date, with time and zone where known
    author: str
    subject: str
    message_id: str  # '<...>'; empty only for a report that is not a mail
    established: str  # one sentence: what this mail established
    source: str  # URL or archive where read
    verified: bool
    note: str = ""  # if not verified: what could not be established, and why


# Sources used by several records.
_RC4_5_9 = "<CAHk-=wgdq1XfoECVoZyr5+j+LM7oG31DhEhSoju=DQFBdSvEsw@mail.gmail.com>"
_RC7_5_9 = "<CAHk-=wj1SJmva5pQxT-XZkMREOa+iJuy0K8-zua0K=vF-Jz7zw@mail.gmail.com>"
_PETERX_0_4 = "<20200821234958.7896-1-peterx@redhat.com>"
_PETERX_FORK_V2 = "<20200925222600.6832-1-peterx@redhat.com>"
_RC4_5_11 = "'Linux 5.11-rc4' announcement shortlog (LKML, 17 Jan 2021)"
_STABLE_FEB889 = "<20210118113358.050858954@linuxfoundation.org>"
_NEXT_20220328 = "<164844315460.14467.14855886353516736313@gitolite.kernel.org>"
_COW1_V3 = "<20220131162940.210846-1-david@redhat.com>"
_PR_5_19 = "<20220525114208.223f45e4b361d99b83be0c52@linux-foundation.org>"
_PRBOT_5_19 = "<165360268220.24340.4739282118223603966.pr-tracker-bot@kernel.org>"
_MM_STABLE_20220510 = "<165215247165.7297.907362393104138073@gitolite.kernel.org>"
_PR_6_2 = "<20221213142614.525a9240506119abc3cef6b6@linux-foundation.org>"
_PRBOT_6_2 = "pr-tracker-bot reply of 14 Dec 2022 (merged into torvalds/linux.git)"
# A push of SeongJae Park's tree carrying mm-stable (1 Dec 2022): the two cow.c commits sit
# directly before 8d6a0ac09a16, 84209e87c696 and b40656aa7d55 in one revlist.
_MM_STABLE_20221201 = (
    "<166991603082.18116.8992824735616600009@gitolite.kernel.org> (revlist: '7aca5ca15493 ... "
    "f8664f3c4a08f799122e8f0a8093056a7b3fbc8d ... 97713a3abe338bb6c968e77264edbb68eb8d932a ...', "
    "then 8d6a0ac09a16, 84209e87c696, b40656aa7d55)"
)
_PR_6_15 = (
    "<20250330165732.f4c1493615375623f67e38eb@linux-foundation.org> ('[GIT PULL] MM updates for "
    "6.15-rc1', shortlog: 'David Hildenbrand (42): ... mm/rmap: basic MM owner tracking for "
    "large folios (!hugetlb) / mm: Copy-on-Write (COW) reuse support for PTE-mapped THP')"
)
_PRBOT_6_15 = "pr-tracker-bot reply of 1 Apr 2025 (merged into torvalds/linux.git)"
_MM_STABLE_20250318 = (
    "<174227913492.3724833.12733303881004216334@gitolite.kernel.org> (akpm/mm mm-stable push of "
    "18 Mar 2025: '6af8cb80d3a9a6bbd521d8a7c949b4eafb7dba5d mm/rmap: basic MM owner tracking "
    "...', '1da190f4d0a604ac919e63731441201bd08ef4ac mm: Copy-on-Write (COW) reuse support for "
    "PTE-mapped THP')"
)


def _join(*sources: str) -> str:
    return SOURCE_SEPARATOR.join(sources)


_COMMITS: tuple[Commit, ...] = (
    Commit(
        "c475a8ab625d",
        "[PATCH] can_share_swap_page: use page_mapcount",
        "Hugh Dickins",
        "v2.6.13-rc1",
        _join(
            "<Pine.LNX.4.61.0506062058090.5000@goblin.wat.veritas.com>",
            "linux-mm: Hugh Dickins quoting `git log` (commit c475a8ab625d567e..., "
            "Author: Hugh Dickins, Date: Tue Jun 21 17:15:12 2005 -0700)",
            "LKML: Hugh Dickins's list '2.6.13 21jun05 c475a8ab625d'",
        ),
        False,
        "Makes can_share_swap_page() judge a page exclusive by page_mapcount() plus the "
        "swap count instead of page_count(), so a get_user_pages() reference no longer "
        "makes a write fault copy the page away from its GUP user.",
        "Title, author and date (21 Jun 2005) were read, and Hugh Dickins dates it to "
        "2.6.13; which 2.6.13 tag first held it was not read (no 2005 push log or "
        "rc announcement is stored). The date falls in the 2.6.13 merge window, so rc1 "
        "is inferred.",
    ),
    Commit(
        "f822566165dd",
        "[PATCH] madvise MADV_DONTFORK/MADV_DOFORK",
        "Michael S. Tsirkin",
        "v2.6.16-rc4",
        _join(
            "'Linux 2.6.16-rc4' announcement shortlog <Pine.LNX.4.64.0602171438050.916@g5.osdl.org>"
            " (17 Feb 2006: 'Michael S. Tsirkin: ... madvise MADV_DONTFORK/MADV_DOFORK')",
            "Linus quoting 'commit f822566165dd (\"[PATCH] madvise MADV_DONTFORK/MADV_DOFORK\")'"
            " in <20260305115248.4d972cc7@gandalf.local.home>",
            "https://gerrit-public.fairphone.software/plugins/gitiles/kernel/msm-4.9/+/"
            "f822566165dd46ff5de9bf895cfa6c51f53bb0c4",
        ),
        True,
        "Adds MADV_DONTFORK and MADV_DOFORK, so that a process can keep a range (an RDMA "
        "buffer registered with get_user_pages()) out of its fork children, because COW after "
        "fork 'may change the physical address of a page even if the user requested that the "
        "page is pinned'.",
    ),
    Commit(
        "77bb499bb60f",
        "pagemap: add mmap-exclusive bit for marking pages mapped only here",
        "Konstantin Khlebnikov",
        "v4.3-rc1",
        _join(
            "<20150714153749.29844.81954.stgit@buzz>",
            "0day report blame listing: '77bb499bb60f4b Konstantin Khlebnikov 2015-09-08'",
        ),
        False,
        "Adds pagemap bit 56 (PM_MMAP_EXCLUSIVE), set when the page is mapped by this "
        "process only (page_mapcount() == 1).",
        "Title and author read in the patch mail (v4 5/5, 14 Jul 2015, posted after "
        "v4.2-rc1). The tag was not read: git blame dates the commit 8 Sep 2015, in the "
        "4.3 merge window, while man-pages and the book say 'since Linux 4.2'.",
    ),
    Commit(
        "eddb1c228f79",
        "mm/gup: introduce pin_user_pages*() and FOLL_PIN",
        "John Hubbard",
        "v5.6-rc1",
        _join(
            "Fixes: tag in Vitaly Kuznetsov's pin_user_pages.rst link fix (LKML, 26 May 2020)",
            "NVIDIA driver compat header: 'added ... in v5.6-rc1 (2020-01-30)'",
        ),
        False,
        "Adds pin_user_pages*() and the FOLL_PIN flag, so that callers that will touch a "
        "page's data (DMA) say so.",
        "Title read in Fixes: tags. The author (John Hubbard, who posted the series) and "
        "v5.6-rc1 were not read in a primary source: only a third-party compat header says "
        "v5.6-rc1, and no push log, pull request or patch From: line was found. Rechecked Dec "
        "2026: the corpora name it only in Fixes: tags, downstream compat headers and stable "
        "dependency lists.",
    ),
    Commit(
        "19fed0dae94d",
        "vfio, mm: pin_user_pages (FOLL_PIN) and put_user_page() conversion",
        "John Hubbard",
        "v5.6-rc1",
        _join(
            "<2024022759-crave-busily-bef7@gregkh> (stable 'Possible dependencies' list: id "
            "and title, between eddb1c228f79 and f1f6a7dd9b53)",
            "<20191216222537.491123-20-jhubbard@nvidia.com>",
        ),
        False,
        "Converts VFIO type1's page pinning to pin_user_pages_remote() (FOLL_PIN), so the "
        "pages a device is given show as maybe pinned.",
        "Id and title read in a stable review mail's list of commits, which places it inside "
        "John Hubbard's pin_user_pages() series next to eddb1c228f79. The author (the "
        "series' poster) and the tag were not read in a push log, rc shortlog or From: "
        "line; v5.6-rc1 is inferred from eddb1c228f79's record, itself unverified.",
    ),
    Commit(
        "3faa52c03f44",
        "mm/gup: track FOLL_PIN pages",
        "John Hubbard",
        "v5.7-rc1",
        _join(
            "<20191121071354.456618-18-jhubbard@nvidia.com>",
            "Fixes: tags and Alex Williamson's bisect (24 Apr 2020) naming 3faa52c03f44",
        ),
        False,
        "Makes FOLL_PIN add GUP_PIN_COUNTING_BIAS (1024) to the page count so that "
        "page_maybe_dma_pinned() can tell a maybe-pinned page.",
        "Title read in Fixes: tags and the patch series (John Hubbard, v6 Feb 2020). It "
        "was in mainline by 24 Apr 2020 (a bisect), but whether it arrived in the 5.7 "
        "merge window or in an rc was not read. Rechecked Dec 2026: the corpora give the id only "
        "in Fixes: tags, a bisect and a stable dependency list; no merge-window linux-next push or"
        " pull with it was found.",
    ),
    Commit(
        "17839856fd58",
        'gup: document and work around "COW can break either way" issue',
        "Linus Torvalds",
        "v5.8-rc1",
        _join(
            "<20210421225613.60124-1-surenb@google.com>",
            "<20200611040453.GK12456@shao2-debian>",
            "bisect log: 'Merge tag x86-cleanups-2020-06-01' good, 17839856fd58 bad",
        ),
        True,
        "Makes every GUP with FOLL_GET or FOLL_PIN on a COW mapping act as FOLL_WRITE, so "
        "GUP breaks COW itself and GUP-fast refuses read-only PTEs.",
    ),
    Commit(
        "09854ba94c6a",
        "mm: do_wp_page() simplification",
        "Linus Torvalds",
        "v5.9-rc4",
        _join(
            _RC4_5_9,
            "<20200821234958.7896-2-peterx@redhat.com>",
            "<20200914143829.GA1424636@nvidia.com>",
        ),
        True,
        "Makes do_wp_page() reuse an anonymous page only when page_count() is 1 (and "
        "never sleep on the page lock), instead of asking reuse_swap_page() about mapcounts.",
    ),
    Commit(
        "1a0cf26323c8",
        "mm/ksm: Remove reuse_ksm_page()",
        "Peter Xu",
        "v5.9-rc4",
        _join(_RC4_5_9, _PETERX_0_4),
        True,
        "Removes reuse_ksm_page(), so a KSM page is always copied on a write fault.",
    ),
    Commit(
        "a308c71bf1e6",
        "mm/gup: Remove enfornced COW mechanism",
        "Peter Xu",
        "v5.9-rc4",
        _join(_RC4_5_9, _PETERX_0_4),
        True,
        "Reverts the forced COW break in GUP that 17839856fd58 added.",
    ),
    Commit(
        "798a6b87ecd7",
        "mm: Add PGREUSE counter",
        "Peter Xu",
        "v5.9-rc4",
        _join(_RC4_5_9, _PETERX_0_4),
        True,
        "Adds the pgreuse vmstat counter, incremented each time a write fault reuses a page.",
    ),
    Commit(
        "b25d1dc9474e",
        "Merge branch 'simplify-do_wp_page'",
        "Linus Torvalds",
        "v5.9-rc4",
        _join(
            "https://review.tizen.org/git/?a=commitdiff&h=b25d1dc9474e1f0cefca994885e82be"
            "ea271acfe&p=platform%2Fkernel%2Flinux-starfive.git",
            _RC4_5_9,
        ),
        True,
        "Merges Peter Xu's four emailed patches on 4 Sep 2020, with Linus's note that this "
        'is "horrendously bad timing" after -rc3, justified by the uffd-wp and DAX '
        "breakage of 17839856fd58.",
    ),
    Commit(
        "008cfe4418b3",
        "mm: Introduce mm_struct.has_pinned",
        "Peter Xu",
        "v5.9-rc7",
        _join(_RC7_5_9, _PETERX_FORK_V2),
        True,
        "Adds mm->has_pinned, set for good the first time the process pins a page with FOLL_PIN.",
    ),
    Commit(
        "7a4830c380f3",
        "mm/fork: Pass new vma pointer into copy_page_range()",
        "Peter Xu",
        "v5.9-rc7",
        _join(_RC7_5_9, _PETERX_FORK_V2),
        True,
        "Passes the child's VMA into copy_page_range(), so fork can map a fresh page there.",
    ),
    Commit(
        "70e806e4e645",
        "mm: Do early cow for pinned pages during fork() for ptes",
        "Peter Xu",
        "v5.9-rc7",
        _join(_RC7_5_9, _PETERX_FORK_V2),
        True,
        "Makes fork copy a maybe-pinned anonymous page for the child at once, leaving the "
        "parent's PTE writable, instead of write-protecting it for COW.",
    ),
    Commit(
        "d042035eaf5f",
        "mm/thp: Split huge pmds/puds if they're pinned when fork()",
        "Peter Xu",
        "v5.9-rc7",
        _join(_RC7_5_9, _PETERX_FORK_V2),
        True,
        "Makes fork split a maybe-pinned huge PMD or PUD so that the PTE path can copy it.",
    ),
    Commit(
        "f3c64eda3e50",
        "mm: avoid early COW write protect games during fork()",
        "Linus Torvalds",
        "v5.9",
        _join(
            "'Linux 5.9' announcement shortlog (LKML)",
            "Fixes: tag in Jason Gunthorpe's [PATCH v4 2/2] (10 Nov 2020)",
            "<CAHk-=wgu+6Cx_=U1Vh4Fzm97JA1k76fS905uEAVK-2eJ_1KukQ@mail.gmail.com>",
        ),
        True,
        "Removes the fork series' trick of write-protecting the parent's PTE before the "
        "maybe-pinned check and restoring it after ('It really doesn't work reliably anyway "
        "due to memory ordering', Linus, 28 Sep 2020), which leaves fork racing with a "
        "GUP-fast pin until 57efa1fe5957 ('Fixes: f3c64eda3e50').",
    ),
    Commit(
        "57efa1fe5957",
        "mm/gup: prevent gup_fast from racing with COW during fork",
        "Jason Gunthorpe",
        "v5.11-rc1",
        _join(
            "<2-v4-908497cf359a+4782-gup_fork_jgg@nvidia.com>",
            "<20210525031636.GB7744@xsang-OptiPlex-9020>",
            "<160811152196.25326.18111149015696020218@gitolite.kernel.org>",
        ),
        True,
        "Makes fork hold mm->write_protect_seq while copying page tables and GUP-fast "
        "re-check it, unpinning and falling back to slow GUP if fork ran.",
    ),
    Commit(
        "29a951dfb3c3",
        "mm: fix clear_refs_write locking",
        "Linus Torvalds",
        "v5.11-rc4",
        _join(_RC4_5_11, _STABLE_FEB889),
        True,
        "Fixes the locking of clear_refs_write(), the writer of /proc/PID/clear_refs, "
        "ahead of 9348b73c2e1b.",
    ),
    Commit(
        "9348b73c2e1b",
        "mm: don't play games with pinned pages in clear_page_refs",
        "Linus Torvalds",
        "v5.11-rc4",
        _join(_RC4_5_11, _STABLE_FEB889),
        True,
        "Makes clearing soft-dirty bits (clear_refs) skip write-protecting maybe-pinned "
        "pages in COW mappings.",
    ),
    Commit(
        "feb889fb40fa",
        "mm: don't put pinned pages into the swap cache",
        "Linus Torvalds",
        "v5.11-rc4",
        _join(
            _RC4_5_11,
            _STABLE_FEB889,
            "<CAHk-=wjZ_z9radV3bCC5HH7gDJ9-CZNwqE1JYksUpX6GqPRj+w@mail.gmail.com>",
        ),
        True,
        "Makes shrink_page_list() keep a maybe-pinned anonymous page out of the swap cache "
        "(a two-line check of page_maybe_dma_pinned()).",
    ),
    Commit(
        "a458b76a4171",
        "mm: gup: pack has_pinned in MMF_HAS_PINNED",
        "Andrea Arcangeli",
        "v5.14-rc1",
        _join(
            "<20210506232537.165788-4-peterx@redhat.com>",
            "<162503968266.5357.371046825652831154@gitolite.kernel.org>",
        ),
        True,
        "Replaces the mm->has_pinned field with the MMF_HAS_PINNED bit in mm->flags.",
    ),
    Commit(
        "53a05ad9f21d",
        "mm: optimize do_wp_page() for exclusive pages in the swapcache",
        "David Hildenbrand",
        "v5.18-rc1",
        _join(_COW1_V3, _NEXT_20220328),
        True,
        "Makes do_wp_page() try to free the swap cache of a page it might own, so a page "
        "held only by its mapping and the swap cache can be reused.",
    ),
    Commit(
        "d4c470970d45",
        "mm: optimize do_wp_page() for fresh pages in local LRU pagevecs",
        "David Hildenbrand",
        "v5.18-rc1",
        _join("<20220131162940.210846-3-david@redhat.com>", _NEXT_20220328),
        True,
        "Makes do_wp_page() drain this CPU's LRU-add batch before the count test, so a "
        "freshly faulted page is not copied only because the batch holds it.",
    ),
    Commit(
        "84d60fdd3733",
        "mm: slightly clarify KSM logic in do_swap_page()",
        "David Hildenbrand",
        "v5.18-rc1",
        _join(_COW1_V3, _NEXT_20220328),
        True,
        "Clarifies the KSM check in do_swap_page().",
    ),
    Commit(
        "c145e0b47c77",
        "mm: streamline COW logic in do_swap_page()",
        "David Hildenbrand",
        "v5.18-rc1",
        _join(_COW1_V3, _NEXT_20220328),
        True,
        "Makes do_swap_page() map a page writable on a write fault only under the "
        "page_count() rule, no longer through reuse_swap_page().",
    ),
    Commit(
        "3bff7e3f1f16",
        "mm/huge_memory: streamline COW logic in do_huge_pmd_wp_page()",
        "David Hildenbrand",
        "v5.18-rc1",
        _join(_COW1_V3, _NEXT_20220328),
        True,
        "Makes do_huge_pmd_wp_page() reuse a PMD-mapped THP only under the page_count() "
        "rule, closing the vmsplice leak for THP.",
    ),
    Commit(
        "363106c4cefe",
        "mm/khugepaged: remove reuse_swap_page() usage",
        "David Hildenbrand",
        "v5.18-rc1",
        _join(_COW1_V3, _NEXT_20220328),
        True,
        "Removes khugepaged's use of reuse_swap_page().",
    ),
    Commit(
        "03104c2c5db8",
        "mm/swapfile: remove stale reuse_swap_page()",
        "David Hildenbrand",
        "v5.18-rc1",
        _join("<20220131162940.210846-8-david@redhat.com>", _NEXT_20220328),
        True,
        "Deletes reuse_swap_page(), the mapcount-based reuse test, now that nothing calls it.",
    ),
    Commit(
        "623a1ddfeb23",
        "mm/hugetlb: take src_mm->write_protect_seq in copy_hugetlb_page_range()",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Makes fork of a hugetlb mapping hold write_protect_seq too, as the PTE path does.",
    ),
    Commit(
        "fb3d824d1a46",
        "mm/rmap: split page_dup_rmap() into page_dup_file_rmap() and page_try_dup_anon_rmap()",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Splits page_dup_rmap() so that duplicating an anonymous mapping at fork can fail "
        "(page_try_dup_anon_rmap()), sending a maybe-pinned page to the copy path.",
    ),
    Commit(
        "78fbe906cc90",
        "mm/page-flags: reuse PG_mappedtodisk as PG_anon_exclusive for PageAnon() pages",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Defines the PG_anon_exclusive page flag, sharing the bit of PG_mappedtodisk.",
    ),
    Commit(
        "6c287605fd56",
        "mm: remember exclusively mapped anonymous pages with PG_anon_exclusive",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(
            _PR_5_19,
            _PRBOT_5_19,
            _MM_STABLE_20220510,
            "message of v4 12/17 <20220428083441.37290-13-david@redhat.com>, quoted whole in "
            "Miaohe Lin's reply ('On 2022/4/28 16:34, David Hildenbrand wrote')",
        ),
        True,
        "Marks exclusively mapped anonymous pages PageAnonExclusive, reuses them on a write "
        "fault without further checks, and makes sharing them (fork, KSM, swap-out, "
        "migration) go through page_try_share_anon_rmap(), which fails if the page may be "
        "pinned; for FOLL_GET users 'swapout and fork() are still problematic'.",
    ),
    Commit(
        "c89357e27f20",
        "mm: support GUP-triggered unsharing of anonymous pages",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Adds FAULT_FLAG_UNSHARE: a fault that runs the COW logic for a read-only GUP but "
        "leaves the PTE read-only.",
    ),
    Commit(
        "a7f226604170",
        "mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Makes a read-only FOLL_PIN of an anonymous page that is not PageAnonExclusive "
        "unshare it first (gup_must_unshare()).",
    ),
    Commit(
        "b6a2619c60b4",
        "mm/gup: sanity-check with CONFIG_DEBUG_VM that anonymous pages are "
        "exclusive when (un)pinning",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Adds CONFIG_DEBUG_VM checks that pinned anonymous pages are PageAnonExclusive.",
    ),
    Commit(
        "1493a1913e34",
        "mm/swap: remember PG_anon_exclusive via a swp pte bit",
        "David Hildenbrand",
        "v5.19-rc1",
        _join(_PR_5_19, _PRBOT_5_19, _MM_STABLE_20220510),
        True,
        "Keeps PageAnonExclusive across swap-out in a swap-PTE bit on architectures that "
        "define __HAVE_ARCH_PTE_SWP_EXCLUSIVE, so swap-in can restore it.",
    ),
    Commit(
        "64fe24a3e05e",
        "mm/mprotect: try avoiding write faults for exclusive anonymous "
        "pages when changing protection",
        "David Hildenbrand",
        "v6.0-rc1",
        _join(
            "<20220803133541.18b82ec9344ed0e8b975fe5b@linux-foundation.org>",
            "<165974280408.17862.1430140279382151006.pr-tracker-bot@kernel.org>",
        ),
        True,
        "Makes mprotect(PROT_WRITE) map an exclusive anonymous page writable at once, so "
        "the next write takes no fault.",
    ),
    Commit(
        "088b8aa537c2",
        "mm: fix PageAnonExclusive clearing racing with concurrent RCU GUP-fast",
        "David Hildenbrand",
        "v6.1-rc1",
        _join(
            "<20221008132113.919b9b894426297de78ac00f@linux-foundation.org>",
            "pr-tracker-bot reply of 11 Oct 2022 (merged into torvalds/linux.git)",
        ),
        True,
        "Adds the memory barriers that order clearing PageAnonExclusive against GUP-fast, "
        "which pins without locks.",
    ),
    Commit(
        "8d6a0ac09a16",
        "mm: extend FAULT_FLAG_UNSHARE support to anything in a COW mapping",
        "David Hildenbrand",
        "v6.2-rc1",
        _join(
            _PR_6_2,
            "merge e2ca6ba6ba01 \"Merge tag 'mm-stable-2022-12-13'\" (2022-12-13 19:29:45 -0800)",
        ),
        True,
        "Lets FAULT_FLAG_UNSHARE replace anything mapped in a private mapping (shared zero "
        "page, page-cache page) by an exclusive anonymous copy.",
    ),
    Commit(
        "84209e87c696",
        "mm/gup: reliable R/O long-term pinning in COW mappings",
        "David Hildenbrand",
        "v6.2-rc1",
        _join(
            _PR_6_2,
            "merge e2ca6ba6ba01 \"Merge tag 'mm-stable-2022-12-13'\" (2022-12-13 19:29:45 -0800)",
        ),
        True,
        "Makes a read-only FOLL_LONGTERM pin in a private mapping unshare whatever is not "
        "an exclusive anonymous page before pinning it.",
    ),
    Commit(
        "b40656aa7d55",
        "RDMA/umem: remove FOLL_FORCE usage",
        "David Hildenbrand",
        "v6.2-rc1",
        _join(
            _PR_6_2,
            "merge e2ca6ba6ba01 \"Merge tag 'mm-stable-2022-12-13'\" (2022-12-13 19:29:45 -0800)",
        ),
        True,
        "Drops the FOLL_FORCE|FOLL_WRITE workaround from RDMA's user-memory registration, "
        "now that read-only long-term pins are reliable.",
    ),
    Commit(
        "49b58785b93d",
        "memory: move exclusivity detection in do_wp_page() into wp_can_reuse_anon_folio()",
        "David Hildenbrand",
        "v6.7-rc1",
        _join(
            "<20231002142949.235104-4-david@redhat.com>",
            "<20231101145447.60320c9044e7db4dba2d93e3@linux-foundation.org>",
            "pr-tracker-bot reply of 3 Nov 2023 (merged)",
        ),
        False,
        "Moves do_wp_page()'s reuse test for pages not marked exclusive into "
        "wp_can_reuse_anon_folio().",
        "Title, author and v6.7-rc1 read in the 'MM updates for 6.7-rc1' pull request. The "
        "id was read only in akpm/mm revlists of Oct 2023; that it is the mainline hash "
        "was not confirmed by a Fixes: tag or a torvalds/linux push. Rechecked Dec 2026: the four "
        "push logs with the full id (17 Oct 2023 and later) are mm-everything/mm-unstable "
        "revlists, which still carry '-fix' commits, so they do not settle it.",
    ),
    # Large folios, hugetlb and the COW selftest (issue 13; see the large-folio chapter).
    Commit(
        id="47e29d32afba",
        title="mm/gup: page->hpage_pinned_refcount: exact pin counts for huge pages",
        author="John Hubbard",
        tag="v5.7-rc1",
        source=(
            "<20200207033735.308000-9-jhubbard@nvidia.com> (v5 08/12); Hubbard in the LKP "
            "regression thread: 'that commit happened in April, 2020'"
        ),
        verified=True,
        summary=(
            "Compound pages of order > 1 get an exact pin count in the third struct page "
            "(page_maybe_dma_pinned() = compound_pincount > 0, +1 refcount per pin, no 1024 "
            "bias), so pinning any subpage marks the whole THP or hugetlb folio as pinned."
        ),
    ),
    Commit(
        id="97a7e4733b9b",
        title="mm: introduce page_needs_cow_for_dma() for deciding whether cow",
        author="Peter Xu",
        tag="v5.12-rc3",
        source="gregkh/driver-core push 15 Mar 2021 (revlist lists it before 'Linux 5.12-rc3')",
        verified=True,
        summary=(
            "Factors the fork-time test (MMF_HAS_PINNED and page_maybe_dma_pinned) used for PTEs,"
            " THP and hugetlb into page_needs_cow_for_dma()."
        ),
    ),
    Commit(
        id="4eae4efa2c29",
        title="hugetlb: do early cow when page pinned on src mm",
        author="Peter Xu",
        tag="v5.12-rc3",
        source=(
            "<20210217233547.93892-6-peterx@redhat.com> (v5 5/5); gregkh/driver-core push 15 Mar "
            "2021 (revlist lists it before 'Linux 5.12-rc3')"
        ),
        verified=True,
        summary=(
            "copy_hugetlb_page_range() copies a maybe-pinned private hugetlb page for the child "
            "at fork, so 5.11 still shared pinned hugetlb pages."
        ),
    ),
    Commit(
        id="7dad331be781",
        title="selftests/vm: anon_cow: hugetlb tests",
        author="David Hildenbrand",
        tag="v6.2-rc1",
        source=_join(
            _PR_6_2 + " (shortlog: 'David Hildenbrand (46): ... selftests/vm: anon_cow: hugetlb "
            "tests')",
            _PRBOT_6_2,
            "'commit 7dad331be7816103eba8c12caeb88fbd3599c0b9 / Author: David Hildenbrand / Date: "
            "Tue Sep 27 13:01:17 2022 +0200' with the commit text, quoted by its author in reply to"
            " <ZivScN8-Uoi9eye8@x1n> (Apr 2024)",
        ),
        verified=True,
        summary=(
            "Runs the anonymous COW cases on every hugetlb size and documents that the vmsplice()"
            " cases fail until vmsplice uses FOLL_PIN."
        ),
    ),
    Commit(
        id="7d8faaf15545",
        title="mm/madvise: introduce MADV_COLLAPSE sync hugepage collapse",
        author="Zach O'Keefe",
        tag="v6.1-rc1",
        source=(
            "Zach O'Keefe's madvise.2 man-pages patch: 'Linux 6.1 introduced MADV_COLLAPSE in "
            "upstream commit 7d8faaf15545'"
        ),
        verified=True,
        summary=(
            "madvise(MADV_COLLAPSE) collapses a range into PMD THPs synchronously; for anon "
            "memory it allocates a fresh THP and copies (no in-place collapse)."
        ),
    ),
    Commit(
        id="f8664f3c4a08",
        title="selftests/vm: cow: basic COW tests for non-anonymous pages",
        author="David Hildenbrand",
        tag="v6.2-rc1",
        source=_join(
            _PR_6_2 + " (shortlog: 'David Hildenbrand (46): ... selftests/vm: cow: basic COW tests "
            "for non-anonymous pages')",
            _PRBOT_6_2,
            "Fixes: f8664f3c4a08 in Hao Ge's cow.c fix (2025); Anshuman Khandual's review "
            "naming 'f8664f3c4a08f799 (\"selftests/vm: cow: basic COW tests for non-anonymous "
            "pages\")'",
            _MM_STABLE_20221201,
        ),
        verified=True,
        summary=(
            "Adds cow.c's non-anonymous group (shared zeropage, memfd, tmpfile, huge zeropage, "
            "memfd hugetlb) with 'Basic COW'."
        ),
    ),
    Commit(
        id="97713a3abe33",
        title="selftests/vm: cow: R/O long-term pinning reliability tests for non-anon pages",
        author="David Hildenbrand",
        tag="v6.2-rc1",
        source=_join(
            _PR_6_2 + " (shortlog: 'selftests/vm: cow: R/O long-term pinning reliability tests "
            "for non-an[on] pages', soft-wrapped in the quoted-printable mail)",
            _PRBOT_6_2,
            _MM_STABLE_20221201,
        ),
        verified=True,
        summary=(
            "Adds 'R/O longterm GUP pin' and 'R/O longterm GUP-fast pin' on the non-anon variants."
        ),
    ),
    Commit(
        id="c0f79103322c",
        title="selftests/mm/cow: add tests for anonymous multi-size THP",
        author="Ryan Roberts",
        tag="v6.8-rc1",
        source=_join(
            "<20240108155039.fd2798712a2a93a108b710ce@linux-foundation.org> ('[GIT PULL] MM updates"
            " for 6.8-rc1', shortlog: 'Ryan Roberts (12): ... selftests/mm/cow: add tests for "
            "anonymous multi-size THP')",
            "pr-tracker-bot reply of 9 Jan 2024 (merged into torvalds/linux.git)",
            "<170312196010.16555.16111390456418226691@gitolite.kernel.org> (21 Dec 2023 push of "
            "SeongJae Park's tree; in its mm-stable run, before 'Merge branch mm-stable into "
            "mm-unstable': '00679a183ac6 selftests/mm: factor out thp settings management' ... "
            "'c0f79103322c322ea9342d52c2d81528b7b56232 selftests/mm/cow: add tests for anonymous "
            "multi-size THP'; 00679a183ac6 is the torvalds/linux commit of the stored "
            "tools/testing/selftests/mm/thp_settings.h)",
        ),
        verified=True,
        summary=(
            "cow.c runs the six PTE-level THP variants for every THP size the kernel offers "
            "(hugepages-<size>kB), not only the PMD size."
        ),
    ),
    Commit(
        id="4bf6a4ebc592",
        title="selftests: mm: cow: flag vmsplice() hugetlb tests as XFAIL",
        author="David Hildenbrand",
        tag="v6.10-rc1",
        source=(
            "<20240502085259.103784-2-david@redhat.com>; in mainline by 19 May 2024 (axboe "
            "linux-block push merging master)"
        ),
        verified=True,
        summary=(
            "The four vmsplice() cases report XFAIL instead of fail on hugetlb: '(a) harder to "
            "fix and (b) nobody really cares'."
        ),
    ),
    Commit(
        id="b8a2528835b3",
        title="mm/hugetlb: document why hugetlb uses folio_mapcount() for COW reuse decisions",
        author="David Hildenbrand",
        tag="v6.10-rc1",
        source="<20240502085259.103784-3-david@redhat.com>; same push as 4bf6a4ebc592",
        verified=True,
        summary=(
            "Comments hugetlb_wp(): reuse by folio_mapcount() because copying on unexpected "
            "references could kill fork()+exit() users when hugetlb pages run out, at the price "
            "of leaks with FOLL_GET users."
        ),
    ),
    Commit(
        id="3917c80280c9",
        title="thp: change CoW semantics for anon-THP",
        author="Kirill A. Shutemov",
        tag="v5.8-rc1",
        source=_join(
            "<20200416160026.16538-8-kirill.shutemov@linux.intel.com> ('[PATCHv4 7/8] thp: "
            "Change CoW semantics for anon-THP', 16 Apr 2020)",
            'Fixes: 3917c80280c9 ("thp: change CoW semantics for anon-THP") with \'Cc: '
            "stable@vger.kernel.org # v5.8+' in Gavin Shan's compaction fix (2022)",
            "'Since commit 3917c80280c93a7123f ... THP CoW page fault is rewritten. Now it just "
            "splits pmd then fallback to base page fault' (LKML, a later cleanup)",
        ),
        verified=False,
        summary=(
            "A write fault on a PMD-mapped THP that cannot be reused no longer copies the whole "
            "THP: do_huge_pmd_wp_page() splits the PMD and the PTE fault copies one subpage."
        ),
        note=(
            "title and author read in the patch mail and in Fixes: tags with the full id; the "
            "first tag comes only from a later fix's 'Cc: stable # v5.8+' (the 5.8 merge window "
            "took Andrew Morton's emailed batches), not from a push log or rc shortlog"
        ),
    ),
    Commit(
        id="781a3ca5c345",
        title="mm: prohibit the last subpage from reusing the entire large folio",
        author="Barry Song",
        tag="v6.9-rc1",
        source=_join(
            "<20240308085653.124180-1-21cnbao@gmail.com> (the patch, 8 Mar 2024)",
            "<20240313200532.34e4cff216acd3db8def4637@linux-foundation.org> ('[GIT PULL] MM "
            "updates for 6.9-rc1', shortlog: 'Barry Song (N): ... mm: prohibit the last subpage "
            "from reusing the entire large folio')",
            "pr-tracker-bot reply of 15 Mar 2024 (merged into torvalds/linux.git)",
            "<170995945318.13164.2070426984969518296@gitolite.kernel.org> (akpm/mm mm-unstable "
            "push, 9 Mar 2024: '781a3ca5c345e4d8b54d3bdd7d3c7e983ab08381 mm: prohibit the last "
            "subpage ...')",
        ),
        verified=False,
        summary=(
            "wp_can_reuse_anon_folio() returns false for any large folio, so a write fault on a "
            "non-exclusive subpage of a large folio always copies."
        ),
        note=(
            "title, author and v6.9-rc1 (not v6.10-rc1, as this record said before) read in the "
            "merged 6.9-rc1 MM pull; the id was read only in an mm-unstable push of 9 Mar 2024, "
            "whose hashes can change when patches move to mm-stable, and no Fixes: tag or "
            "mainline listing with it was found, so it is not established as the mainline id"
        ),
    ),
    Commit(
        id="6af8cb80d3a9",
        title="mm/rmap: basic MM owner tracking for large folios (!hugetlb)",
        author="David Hildenbrand",
        tag="v6.15-rc1",
        source=_join(
            "series v3 <20250303163014.1128035-1-david@redhat.com>",
            _PR_6_15,
            _PRBOT_6_15,
            _MM_STABLE_20250318,
        ),
        verified=True,
        summary=(
            "Large folios remember up to two owning MMs and whether they may be mapped shared "
            "(CONFIG_MM_ID)."
        ),
    ),
    Commit(
        id="1da190f4d0a6",
        title="mm: Copy-on-Write (COW) reuse support for PTE-mapped THP",
        author="David Hildenbrand",
        tag="v6.15-rc1",
        source=_join(
            "<20250303163014.1128035-14-david@redhat.com> (v3 13/20)",
            _PR_6_15,
            _PRBOT_6_15,
            _MM_STABLE_20250318,
            'Fixes: 1da190f4d0a6 ("mm: Copy-on-Write (COW) reuse support for PTE-mapped THP") '
            "in later fixes by Kairui Song and David Hildenbrand",
        ),
        verified=True,
        summary=(
            "A write fault on a PTE-mapped large folio reuses it when it is mapped only by this "
            "MM and folio_large_mapcount() == folio_ref_count(); until then PTE-mapped THPs were "
            "never reused after fork."
        ),
    ),
    # Renames the model's explanations follow (cowlib.kernel_names).
    Commit(
        id="9740ca4e95b4",
        title="mmap locking API: initial implementation as rwsem wrappers",
        author="Michel Lespinasse",
        tag="v5.8-rc1",
        source=(
            "NVIDIA open-gpu-kernel-modules conftest.sh: 'Added by commit 9740ca4e95b4 ... in "
            "v5.8-rc1'; git describe v5.7-13149-g9740ca4e95b4 quoted there"
        ),
        verified=False,
        summary="Adds mmap_read_lock() / mmap_write_lock() and friends as wrappers of mmap_sem.",
        note=(
            "title and tag come from a downstream comment, not from an rc shortlog or the patch "
            "mail; the author was not read in a primary source"
        ),
    ),
    Commit(
        id="23babe1934d7",
        title="mm/gup: consistently name GUP-fast functions",
        author="David Hildenbrand",
        tag="v6.10-rc1",
        source=_join(
            "<20240402125516.223131-2-david@redhat.com> (the patch, posted 2 Apr 2024)",
            "<20240517192239.9285edd85f8ef893bb508a61@linux-foundation.org> ('[GIT PULL] MM "
            "updates for 6.10-rc1', shortlog: '... mm/gup: consistently name GUP-fast functions')",
            "pr-tracker-bot reply of 19 May 2024 (merged into torvalds/linux.git)",
            "Christoph Hellwig on linux-mm (2024): 'It got renamed from "
            'internal_get_user_pages_fast in commit 23babe1934d7 ("mm/gup: consistently name '
            "GUP-fast functions\")'",
        ),
        verified=True,
        summary=(
            "Renames the lockless GUP-fast walk: lockless_pages_from_mm() -> gup_fast(), "
            "unpin_user_pages_lockless() -> gup_fast_unpin_user_pages(), gup_pte_range() -> "
            "gup_fast_pte_range()."
        ),
    ),
)

COMMITS: dict[str, Commit] = {c.id: c for c in _COMMITS}


_THREAD = (
    "Re: [PATCH v1 06/11] mm: support GUP-triggered unsharing via FAULT_FLAG_UNSHARE (!hugetlb)"
)
_LKML = "LKML / linux-mm archive (kernel mailing lists)"

_MAILS: tuple[Mail, ...] = (
    Mail(
        "jannh-2020-05-27",
        "2020-05-27",
        "Jann Horn",
        "Project Zero issue 2045 (vmsplice leak, CVE-2020-29374)",
        "",
        "A child can read its parent's writes made after fork through a page it vmsplice()d "
        "and then unmapped.",
        "https://bugs.chromium.org/p/project-zero/issues/detail?id=2045",
        False,
        "The issue page is not in the stored corpora, so its date was not read; that Jann "
        "Horn reported the problem is established by 'Reported-by: Jann Horn' in "
        "17839856fd58.",
    ),
    Mail(
        "peterx-2020-08-21",
        "2020-08-21T19:49:58-04:00",
        "Peter Xu",
        "[PATCH 0/4] mm: Simplfy cow handling",
        _PETERX_0_4,
        "Posts Linus's 'mm: Trial do_wp_page() simplification' (From: Linus, with a subject "
        "prefix added by Peter) with Peter's three patches: ksm, gup revert, PGREUSE.",
        _LKML,
        True,
    ),
    Mail(
        "jgg-2020-09-14",
        "2020-09-14T11:38:29-03:00",
        "Jason Gunthorpe",
        "Re: [PATCH 1/4] mm: Trial do_wp_page() simplification",
        "<20200914143829.GA1424636@nvidia.com>",
        "RDMA tests fail with 09854ba94c6a and pass with it reverted: 'the process is not "
        "seeing DMA'd data to a pin_user_pages()'.",
        _LKML,
        True,
    ),
    Mail(
        "torvalds-2020-09-14",
        "2020-09-14T10:32:11-07:00",
        "Linus Torvalds",
        "Re: [PATCH 1/4] mm: Trial do_wp_page() simplification",
        "<CAHk-=wj1EDd3dUGz_992_oRqvsy3LGDvxvyQBvutLhBqkYqgcQ@mail.gmail.com>",
        "Linus's first answer to the RDMA regression: 'redo the \"enforced COW mechanism\"' "
        "of 17839856fd58 for FOLL_PIN only, and a request to Peter Xu to look at it.",
        "LKML, quoted in <20200915155605.GI1221970@ziepe.ca>",
        True,
    ),
    Mail(
        "jgg-2020-09-15",
        "2020-09-15T12:56:05-03:00",
        "Jason Gunthorpe",
        "Re: [PATCH 1/4] mm: Trial do_wp_page() simplification",
        "<20200915155605.GI1221970@ziepe.ca>",
        "Peter Xu's test patch that forces COW for FOLL_PIN does not help; the failing tests "
        "are the ones that fork: 'fork and COW seem very likely to be the issue'.",
        _LKML,
        True,
    ),
    Mail(
        "peterx-2020-09-21",
        "2020-09-21",
        "Peter Xu",
        "[PATCH 0/5] mm: Break COW for pinned pages during fork()",
        "<20200921211744.24758-1-peterx@redhat.com>",
        "Posts the approach that was merged: fork copies a maybe-pinned page for the child "
        "instead of write-protecting it.",
        _LKML,
        True,
    ),
    Mail(
        "torvalds-2020-09-27",
        "2020-09-27T12:35:59-07:00",
        "Linus Torvalds",
        "Re: [PATCH v2 0/4] mm: Break COW for pinned pages during fork()",
        "<CAHk-=whWyUg0x72nVQaCjq2xvy=S=x0=_9EuV6Qp4pTarGiaeg@mail.gmail.com>",
        "Peter Xu's fork series is in Linus's tree, with his changes, two hours before the "
        "v5.9-rc7 commit.",
        _LKML,
        True,
    ),
    Mail(
        "torvalds-2020-09-28",
        "2020-09-28T12:36:24-07:00",
        "Linus Torvalds",
        "Re: [PATCH 1/5] mm: Introduce mm_struct.has_pinned",
        "<CAHk-=wgu+6Cx_=U1Vh4Fzm97JA1k76fS905uEAVK-2eJ_1KukQ@mail.gmail.com>",
        "Answering Jason Gunthorpe's proposal of a sequence count around fork and GUP-fast, "
        "Linus removes the 'write protect early trick' ('It really doesn't work reliably "
        "anyway due to memory ordering') and asks for the sequence count approach.",
        _LKML,
        True,
    ),
    Mail(
        "leonro-2020-09-29",
        "2020-09-29T14:02:19+03:00",
        "Leon Romanovsky",
        "Re: [PATCH v2 0/4] mm: Break COW for pinned pages during fork()",
        "<20200929110219.GF3094@unreal>",
        "RDMA tests pass on Linus's tree up to fb0155a09b02, which has the fork series.",
        _LKML,
        True,
    ),
    Mail(
        "raiber-2021-01-08",
        "2021-01-08T23:39Z",
        "Martin Raiber",
        "Fixed buffers have out-dated content",
        "<01020176e45e6c4d-c15dc1e2-6a6a-407c-a32d-24be51a1b3f8-000000@eu-west-1.amazonses.com>",
        "io_uring fixed buffers read stale data under memory pressure with swap on "
        "5.9.16 and 5.10.5; on 14 Jan 2021 he found that reverting 09854ba94c6a cures it.",
        "io-uring list, quoted in <25f75e49-9d5e-fcab-e24b-8ad908254c2e@gmail.com>",
        True,
    ),
    Mail(
        "torvalds-2021-01-17",
        "2021-01-17T12:14:21-08:00",
        "Linus Torvalds",
        "Re: Fixed buffers have out-dated content",
        "<CAHk-=wjZ_z9radV3bCC5HH7gDJ9-CZNwqE1JYksUpX6GqPRj+w@mail.gmail.com>",
        "feb889fb40fa is committed, with Martin Raiber's Tested-by added just before rc4.",
        "io-uring list",
        True,
    ),
    Mail(
        "lkp-2021-05-25",
        "2021-05-25",
        "kernel test robot (Oliver Sang)",
        "[mm/gup] 57efa1fe59: will-it-scale.per_thread_ops -9.2% regression",
        "<20210525031636.GB7744@xsang-OptiPlex-9020>",
        "will-it-scale per_thread_ops drops 9.2% at 57efa1fe5957; Feng Tang traced it to "
        "mmap_lock's cache-line placement after write_protect_seq was added.",
        _LKML,
        True,
    ),
    Mail(
        "nadav-2021-10-13",
        "2021-10-13T15:42:08-07:00",
        "Nadav Amit",
        "mm: unnecessary COW phenomenon",
        "<FFA0057D-1A17-4DF4-9550-A8CDEE9E0CE0@gmail.com>",
        "A page faulted in read-only and written soon after is copied, because the per-CPU "
        "LRU-add batch still holds a reference (page_count 2).",
        "LKML, quoted in <0480D692-D9B2-429A-9A88-9BBA1331AC3A@gmail.com>",
        True,
    ),
    Mail(
        "nadav-2021-11-10",
        "2021-11-10T02:47:33-08:00",
        "Nadav Amit",
        "Re: mm: unnecessary COW phenomenon",
        "<0480D692-D9B2-429A-9A88-9BBA1331AC3A@gmail.com>",
        "His reproducer (swap on emulated pmem, read then write after MADV_PAGEOUT) shows "
        "the write fault about 6.5 times slower than on v5.8, with extra TLB shootdowns.",
        _LKML,
        True,
    ),
    Mail(
        "torvalds-2021-12-17a",
        "2021-12-17T11:04:47-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wgL5u3XMgfUN6BOqVO0OvPx3-LEri1ju-1TW4dFhHQO4g@mail.gmail.com>",
        "First objection: a COW needs exclusive access to the page, and that is the page "
        "reference count, not the mapcount.",
        "linux-kselftest / LKML archive",
        True,
    ),
    Mail(
        # 'd' because a-c were keyed first; by time this one sits between a and b.
        "torvalds-2021-12-17d",
        "2021-12-17T11:22:47-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wgKft6E_EeLA1GnEXcQBA9vu8m2B-M-U7PuiNa0+9gpHA@mail.gmail.com>",
        "Shows how little 'mapcount == 1' means: take a read-only reference to a private "
        "page (through FAULT_FLAG_UNSHARE), fork, unmap in the original, and the child has "
        "mapcount 1 but an elevated refcount and 'HAS TO COW before writing'.",
        "LKML / linux-kselftest archive",
        True,
    ),
    Mail(
        "torvalds-2021-12-17b",
        "2021-12-17T12:51:22-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wghsZByyzCqb5EbKzZtAbrFvQCViD+jK9HQL4viqUb6Ow@mail.gmail.com>",
        "mapcount == 1 is not special: other references, e.g. from vmsplice(), may be about "
        "to be mapped into another address space.",
        _LKML,
        True,
    ),
    Mail(
        "torvalds-2021-12-17c",
        "2021-12-17T13:36:41-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wiFhVXZH_ht_dYQ_g2WNuhvWVrv8MjZ8B8_g6Kz2cZrHw@mail.gmail.com>",
        "The two GUP rules: (a) GUP only looks up pages that can be shared with this VM, "
        "breaking COW with a past fork if needed; (b) it marks them so later work (fork, "
        "swap-cache creation) does not make them COW again.",
        "linux-kselftest / LKML archive",
        True,
    ),
    Mail(
        "torvalds-2021-12-17e",
        "2021-12-17T18:17:47-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wjjNx2Ch2j7P+7vDceK39PpmrOqby3gXuTY4aj62dowFw@mail.gmail.com>",
        "do_huge_pmd_wp_page() still reuses a THP when reuse_swap_page() says so, and "
        '\'the problem is literally that reuse_swap_page() uses that "page_mapcount()" '
        "logic, and doesn't take into account that the page is actually used by a GUP "
        "reference'.",
        "linux-doc / LKML archive",
        True,
    ),
    Mail(
        "david-2021-12-18",
        "2021-12-18T10:57:54+01:00",
        "David Hildenbrand",
        _THREAD,
        "<40e7e0ab-0828-b2e7-339f-35f68a228b3d@redhat.com>",
        "Names the three failure classes, numbered 1) Missed COW (security), 2) Unnecessary "
        "COW (overhead) and 3) Wrong COW (memory corruption of a GUP user), and says 3) "
        "matters more than 2) and 'gives me nightmares'.",
        "linux-kselftest / LKML archive",
        True,
    ),
    Mail(
        "torvalds-2021-12-18a",
        "2021-12-18T11:21:34-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wg95CiyT45ZOxtnWQ7cdKmejXcOydEyJcTTNnp5-nd+xg@mail.gmail.com>",
        "Answers David's classes point by point: (1) is 'about the worst there is' and only "
        "page_count() prevents it, (2) is harmless, (3) is fixed by not marking pinned "
        "pages for COW (fork copies; no swap cache for pinned pages).",
        "linux-kselftest / LKML archive; /work/shared/linus-2021-12-18.txt",
        True,
    ),
    Mail(
        "torvalds-2021-12-18b",
        "2021-12-18T11:52:41-08:00",
        "Linus Torvalds",
        _THREAD,
        "<CAHk-=wjevjeL44qafYd8=cJHZgNUOUuWVJ28vkS4U4v_Af-xaQ@mail.gmail.com>",
        "Explains points (1)-(3) in a couple of sentences each ('Copying the page is always "
        "safe'; 'don't mark it for COW') and cites feb889fb40fa's message as the spirit.",
        "LKML archive; /work/shared/linus-2021-12-18.txt",
        True,
    ),
    Mail(
        "david-2021-12-19",
        "2021-12-19T09:43:27+01:00",
        "David Hildenbrand",
        _THREAD,
        "<b8297279-594f-9294-4482-dcac7463091b@redhat.com>",
        "Proposes 'a mixture of the unsharing approach and your approach' (the idea behind "
        "PageAnonExclusive) and ranks his concern: he cares 'especially' about 3) Wrong "
        "COW, then 1) Missed COW, and 'not too much' about 2).",
        _LKML,
        True,
    ),
    Mail(
        "david-2022-01-21",
        "2022-01-21T13:04:09+01:00",
        "David Hildenbrand",
        "Re: [RFC][PATCH v2 1/5] mm: Avoid unmapping pinned pages",
        "<7744b904-4803-1c8e-3a1c-eebd30f2da91@redhat.com>",
        "Restates the three cases with the numbering of his 18 Dec 2021 mail, (1) Missed "
        'CoW, (2) Unnecessary CoW, (3) Wrong CoW, and ranks their "criticality" (1), (3), '
        "(2): a missed COW first, an unnecessary one last.",
        "linux-api / LKML archive",
        True,
    ),
    Mail(
        "david-2022-01-31",
        "2022-01-31T17:29:32+01:00",
        "David Hildenbrand",
        "[PATCH v3 0/9] mm: COW fixes part 1: fix the COW security issue for THP and swap",
        _COW1_V3,
        "Posts the series that applies the page_count() rule to swap-in and THP and drains "
        "the LRU batch and swap cache before copying (merged for 5.18).",
        _LKML,
        True,
    ),
    Mail(
        "david-2022-04-28",
        "2022-04-28T10:34:24+02:00",
        "David Hildenbrand",
        "[PATCH v4 00/17] mm: COW fixes part 2: reliable GUP pins of anonymous pages",
        "<20220428083441.37290-1-david@redhat.com>",
        "Posts PageAnonExclusive and FAULT_FLAG_UNSHARE for anonymous pages ('roughly what "
        "we have in -mm and -next'), the series merged for 5.19.",
        _LKML,
        True,
    ),
    Mail(
        "dhowells-2023-01-23",
        "2023-01-23T17:30:04+00:00",
        "David Howells",
        "[PATCH v8 07/10] block: Switch to pinning pages.",
        "<20230123173007.325544-8-dhowells@redhat.com>",
        "The name the book uses is this patch's subject; by 27 Jan 2023 the series had "
        "renamed it 'block: Add BIO_PAGE_PINNED and associated infrastructure'.",
        "LKML / linux-block archive",
        True,
    ),
    Mail(
        "axboe-2023-06-25",
        "2023-06-25T20:39:13-06:00",
        "Jens Axboe",
        "[GIT PULL] Block updates for 6.5",
        "<f1ee5428-1302-ecaf-e87f-43bdabebfaea@kernel.dk>",
        "Brings 'Use page pinning in the block layer for dio (David)', including David "
        "Howells's 'block: Add BIO_PAGE_PINNED and associated infrastructure' and 'block: "
        "Convert bio_iov_iter_get_pages to use iov_iter_extract_pages'; pr-tracker-bot "
        "reports it merged on 26 Jun 2023, so block-layer O_DIRECT pins from v6.5-rc1.",
        "linux-block archive ; <168780975858.7651.16649543652658091422.pr-tracker-bot@kernel.org>",
        True,
    ),
    Mail(
        "david-2024-03-01",
        "2024-03-01T12:16:54+01:00",
        "David Hildenbrand",
        "Re: folio_mmapped",
        "<d8e6c848-e26a-4014-b0c2-f3a21fb4e636@redhat.com>",
        "FOLL_GET users remain: 'Most of O_DIRECT should be using it nowadays', but of "
        "vmsplice() he writes 'I don't think it was fixed yet to use FOLL_PIN'.",
        "kvm / linux-mm archive",
        True,
    ),
    Mail(
        "david-2024-04-26",
        "2024-04-26T19:28:31+02:00",
        "David Hildenbrand",
        "Re: [PATCH v1 1/3] mm/gup: consistently name GUP-fast functions",
        "<8b42a24d-caf0-46ef-9e15-0f88d47d2f21@redhat.com>",
        "Why hugetlb keeps the mapcount test: hugetlb pages are scarce and cannot be "
        "overcommitted, a COW after fork() may find no second page and would have to crash "
        "the program, and hugetlb_fault() holds its own folio reference, so a refcount test "
        "would always copy; the vmsplice() leak stays until vmsplice() uses FOLL_PIN.",
        "linux-mm / linux-mips archive",
        True,
    ),
    Mail(
        "jannh-2025-06-03",
        "2025-06-03",
        "Jann Horn",
        "[PATCH 1/2] mm/memory: ensure fork child sees coherent memory snapshot",
        "",
        "Shows that fork's copy of a maybe-pinned page can race with a parent thread's "
        "writes and give the child a snapshot no parent state ever had.",
        "LKML, replies of 3-6 Jun 2025 (e.g. <CAG48ez36t3ZaG7DsDCw1xLpdOhKVWQMjcH-hwP66Cbd8p"
        "4eTAA@mail.gmail.com>)",
        False,
        "Only the cover letter's text and the replies were read, not the patch mail's own "
        "headers, so its Message-ID and exact date are not recorded; whether it was merged, "
        "and in which release, was not established.",
    ),
    Mail(
        "torvalds-2026-03-05",
        "2026-03-05T08:44:27-08:00",
        "Linus Torvalds",
        "Re: [GIT PULL] tracing: Fixes for 7.0",
        "<CAHk-=wggaToeRYv6B5L9ob=wBdVW9_gFudYxH_WJDTuhyX_Ueg@mail.gmail.com>",
        "MADV_DONTFORK 'was added two decades ago when as a hack for the rdma people who "
        "wanted to mix fork (with COW) and concurrent DMA', which page pinning has made "
        "unnecessary; he suggests limiting or removing MADV_{DO,DONT}FORK.",
        "linux-rdma / linux-mm, quoted in <20260305115248.4d972cc7@gandalf.local.home>",
        True,
    ),
    Mail(
        "safinaskar-2026-05-31",
        "2026-05-31",
        "Askar Safin",
        "[PATCH 0/3] vmsplice: make vmsplice a trivial wrapper for preadv2/pwritev2",
        "<20260531010107.1953702-1-safinaskar@gmail.com>",
        "Proposes that vmsplice() copy like preadv2()/pwritev2() instead of handing user "
        "pages to the pipe; the series was in linux-next in June 2026 (an s390 selftest "
        "report names its linux-next commit) and still under discussion on 24 Jun 2026.",
        "linux-api / linux-mm: replies <20260601173325.GH2636677@ZenIV>, "
        "<20260616003659.4002764-1-safinaskar@gmail.com>, "
        "<20260624071226.2272209-1-safinaskar@gmail.com>",
        False,
        "Only replies were read, not the cover letter: its Message-ID is the first entry of "
        "the replies' References, its date is taken from that Message-ID, and whether the "
        "series reached mainline was not established.",
    ),
)

MAILS: dict[str, Mail] = {m.key: m for m in _MAILS}


def commit(id: str) -> Commit:
    """The record of commit ``id`` (12 or more hex digits); BadArgument names an unknown id."""
    key = id.strip().lower()[:12]
    if not ID_PATTERN.fullmatch(key) or key not in COMMITS:
        raise BadArgument(f"no history record for commit {id!r}")
    return COMMITS[key]


def mail(key: str) -> Mail:
    """The record of mail ``key``; BadArgument names an unknown key."""
    if key not in MAILS:
        raise BadArgument(f"no history record for mail {key!r}")
    return MAILS[key]


def cite(id: str) -> str:
    """The book's citation: '09854ba94c6a ("mm: do_wp_page() simplification", v5.9-rc4)'."""
    c = commit(id)
    return f'{c.id} ("{c.title}", {c.tag})'
