"""The lab's experiments: each a script the kernel and the model both run.

Every script reproduces a case measured in real-kernel-lab.md on Linux 6.18;
the ``explain`` text says which kernel path decides the outcome.
"""

from __future__ import annotations

from .script import (
    HUGETLB,
    THP,
    DirectWrite,
    Exit,
    Experiment,
    Folio,
    Fork,
    Look,
    Mprotect,
    Pageout,
    PipeRead,
    Read,
    RegisterBuffers,
    ScriptStep,
    Shared,
    Unmap,
    UnregisterBuffers,
    Vmsplice,
    Write,
    WriteAll,
    looks,
)

TIMING_PAGES = 10_000
HUGE_PAGES = 512  # one 2 MiB THP or hugetlb page, in 4 KiB pages (x86-64)

FORK_COW = Experiment(
    name="fork-cow",
    title="Basic COW after fork: whoever writes first gets the new page",
    explain=(
        "fork() write-protects the page in both processes and clears AnonExclusive. "
        "The first writer takes do_wp_page -> wp_page_copy; the last mapper left then "
        "reuses the old page (wp_can_reuse_anon_folio sees refcount 1)."
    ),
    needs=("linux",),
    pages=1,
    steps=(
        ScriptStep("p-writes", "P writes 'P-1'", Write("P", 0, "P-1"), looks("P")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep(
            "c-writes", "C writes 'C-1' (C is not exclusive)", Write("C", 0, "C-1"), looks("P", "C")
        ),
        ScriptStep("p-reads", "P reads", Read("P", 0)),
        ScriptStep("c-reads", "C reads", Read("C", 0)),
        ScriptStep(
            "p-writes-again",
            "P writes 'P-2' (P is the only mapper)",
            Write("P", 0, "P-2"),
            looks("P"),
        ),
        ScriptStep("fork-2", "P forks C2", Fork("P", "C2"), looks("P", "C2")),
        ScriptStep(
            "p-writes-first",
            "P writes 'P-3' while C2 lives",
            Write("P", 0, "P-3"),
            looks("P", "C2"),
        ),
        ScriptStep("c2-reads", "C2 reads (keeps the fork-time data)", Read("C2", 0)),
        # Children exit last: a frame freed earlier could be reallocated to a later
        # copy and pass for the old page (verdicts.py labels frames by PFN).
        ScriptStep("c2-exits", "C2 exits", Exit("C2")),
        ScriptStep("c-exits", "C exits", Exit("C")),
    ),
)

REUSE_AFTER_EXIT = Experiment(
    name="reuse-after-exit",
    title="Reuse after the child exits: no copy, AnonExclusive set again",
    explain=(
        "After the child exits the page has mapcount 1 but is still not AnonExclusive; "
        "the write fault checks the refcount (wp_can_reuse_anon_folio), reuses the page "
        "and sets AnonExclusive again."
    ),
    needs=("linux",),
    pages=1,
    steps=(
        ScriptStep("p-writes", "P writes 'P-1'", Write("P", 0, "P-1"), looks("P")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep("c-exits", "C exits without writing", Exit("C"), looks("P")),
        ScriptStep("p-writes-again", "P writes 'P-2'", Write("P", 0, "P-2"), looks("P")),
        ScriptStep("p-reads", "P reads", Read("P", 0)),
    ),
)

VMSPLICE = Experiment(
    name="vmsplice",
    title="vmsplice after fork (CVE-2020-29374): the pipe keeps the old data",
    explain=(
        "The child's vmsplice takes a FOLL_GET reference and no unshare. After the child "
        "exits the parent's page has mapcount 1 but refcount 2 (the pipe), so the parent's "
        "write copies; the pipe still returns the fork-time data."
    ),
    needs=("linux",),
    pages=1,
    steps=(
        ScriptStep("p-writes", "P writes 'SECRET-A'", Write("P", 0, "SECRET-A"), looks("P")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep(
            "c-vmsplices",
            "C vmsplices the page into a pipe",
            Vmsplice("C", 0, "pipe"),
            looks("P", "C"),
        ),
        ScriptStep("c-exits", "C exits; the pipe keeps its reference", Exit("C"), looks("P")),
        ScriptStep("p-writes-again", "P writes 'SECRET-B'", Write("P", 0, "SECRET-B"), looks("P")),
        ScriptStep("pipe-read", "the pipe is drained", PipeRead("pipe")),
        ScriptStep("p-reads", "P reads", Read("P", 0)),
    ),
)

IOURING_FORK = Experiment(
    name="iouring-fork",
    title="io_uring fixed buffers, then fork: the child gets an eager copy",
    explain=(
        "copy_present_pte() finds the pinned pages maybe-DMA-pinned and gives the child "
        "a copy at fork (Rule 3, 70e806e4e645); the parent keeps its pinned pages "
        "exclusive and later writes them in place. Unpinned pages are shared as usual."
    ),
    needs=("linux", "io_uring"),
    pages=4,
    steps=(
        ScriptStep("p-writes", "P writes 'FORK-TIME' to pages 0-3", WriteAll("P", "FORK-TIME")),
        ScriptStep(
            "pin",
            "P registers pages 0-1 as io_uring fixed buffers",
            RegisterBuffers("P", (0, 1), "ring"),
            looks("P", pages=(0, 1, 2, 3)),
        ),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C", pages=(0, 1, 2, 3))),
        ScriptStep(
            "p-writes-pinned",
            "P writes 'P-NEW' to pinned page 0",
            Write("P", 0, "P-NEW"),
            looks("P"),
        ),
        ScriptStep(
            "p-writes-unpinned",
            "P writes 'P-NEW' to unpinned page 2",
            Write("P", 2, "P-NEW"),
            looks("P", "C", pages=(2,)),
        ),
        ScriptStep("c-reads", "C reads page 0 (its fork-time copy)", Read("C", 0)),
        ScriptStep("unpin", "P unregisters the buffers", UnregisterBuffers("ring")),
        ScriptStep("c-exits", "C exits", Exit("C")),
    ),
)

PIN_AFTER_FORK = Experiment(
    name="pin-after-fork",
    title="RegisterBuffers after fork: a write pin breaks COW at pin time",
    explain=(
        "Pinning a shared page for write goes through a write fault (FOLL_WRITE) in GUP: "
        "the parent gets its own copy before the pin is taken, so the pin and the page "
        "table agree; the child keeps the old page."
    ),
    needs=("linux", "io_uring"),
    pages=1,
    steps=(
        ScriptStep("p-writes", "P writes 'P-1'", Write("P", 0, "P-1"), looks("P")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep(
            "pin",
            "P registers page 0 as an io_uring fixed buffer",
            RegisterBuffers("P", (0,), "ring"),
            looks("P", "C"),
        ),
        ScriptStep("p-writes-again", "P writes 'P-2'", Write("P", 0, "P-2"), looks("P")),
        ScriptStep("c-reads", "C reads", Read("C", 0)),
        ScriptStep("unpin", "P unregisters the buffer", UnregisterBuffers("ring")),
        ScriptStep("c-exits", "C exits", Exit("C")),
    ),
)

ODIRECT_UNSHARE = Experiment(
    name="odirect-unshare",
    title="A read-only short-term pin on a shared page unshares it (O_DIRECT write)",
    explain=(
        "An O_DIRECT write only reads the page, but a FOLL_PIN of a page that is not "
        "AnonExclusive triggers a GUP unshare fault (FAULT_FLAG_UNSHARE, 5.19): the "
        "parent gets its own copy although nobody wrote."
    ),
    needs=("linux", "odirect"),
    pages=1,
    steps=(
        ScriptStep("p-writes", "P writes 'P-1'", Write("P", 0, "P-1"), looks("P")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep(
            "dio-write",
            "P writes page 0 to a file with O_DIRECT",
            DirectWrite("P", 0),
            looks("P", "C"),
        ),
        ScriptStep("c-reads", "C reads", Read("C", 0)),
        ScriptStep("c-exits", "C exits", Exit("C")),
    ),
)

SWAP_PIN = Experiment(
    name="swap-pin",
    title="Swap-out of a normal page vs a pinned page",
    explain=(
        "shrink_folio_list() keeps a maybe-DMA-pinned folio before allocating a swap "
        "slot (Rule 4, feb889fb40fa): the pinned page never enters the swap cache. "
        "After unpinning it swaps like any other page."
    ),
    needs=("linux", "root", "swap", "io_uring"),
    pages=2,
    steps=(
        ScriptStep("p-writes-0", "P writes 'PINNED' to page 0", Write("P", 0, "PINNED")),
        ScriptStep("p-writes-1", "P writes 'NORMAL' to page 1", Write("P", 1, "NORMAL")),
        ScriptStep(
            "pin",
            "P pins page 0 (io_uring fixed buffer)",
            RegisterBuffers("P", (0,), "ring"),
            looks("P", pages=(0, 1)),
        ),
        ScriptStep(
            "pageout-normal", "MADV_PAGEOUT page 1", Pageout("P", 1), looks("P", pages=(1,))
        ),
        ScriptStep(
            "pageout-pinned", "MADV_PAGEOUT pinned page 0", Pageout("P", 0), looks("P", pages=(0,))
        ),
        ScriptStep("read-normal", "P reads page 1 (swap-in)", Read("P", 1)),
        ScriptStep("read-pinned", "P reads page 0", Read("P", 0)),
        ScriptStep("unpin", "P unregisters the buffer", UnregisterBuffers("ring")),
        ScriptStep(
            "pageout-unpinned", "MADV_PAGEOUT page 0 again", Pageout("P", 0), looks("P", pages=(0,))
        ),
        ScriptStep("read-unpinned", "P reads page 0 (swap-in)", Read("P", 0)),
    ),
)

THP_COW = Experiment(
    name="thp-cow",
    title="COW of a PMD-mapped THP after fork: the writer's PMD is split, one subpage copied",
    explain=(
        "fork() shares the THP: both processes map it with one PMD, write-protected, with "
        "AnonExclusive cleared. A write to a shared PMD-mapped THP (do_huge_pmd_wp_page) "
        "cannot reuse it, so it splits the writer's PMD and the PTE fault that follows copies "
        "only the 4 KiB subpage written. Once the other process is gone, the last mapper's "
        "write reuses the whole THP (folio refcount 1), still mapped by one PMD."
    ),
    needs=("linux", "thp"),
    pages=HUGE_PAGES,
    memory=THP,
    steps=(
        ScriptStep(
            "p-writes",
            "P writes 'P-1' to page 0: the fault maps a whole THP",
            Write("P", 0, "P-1"),
            (Look("P", 0), Folio("P", 0)),
        ),
        ScriptStep(
            "p-writes-5", "P writes 'P-5' to page 5 of its THP", Write("P", 5, "P-5"), looks("P")
        ),
        ScriptStep(
            "fork",
            "P forks C",
            Fork("P", "C"),
            (*looks("P", "C"), Folio("C", 0), Shared("C", "P")),
        ),
        ScriptStep(
            "c-writes",
            "C writes 'C-5' to page 5",
            Write("C", 5, "C-5"),
            (Look("C", 5), Folio("C", 5), Folio("C", 0), Folio("P", 0), Shared("C", "P")),
        ),
        ScriptStep("c-reads", "C reads page 5", Read("C", 5)),
        ScriptStep("p-reads", "P reads page 5 (C's write stayed in C's copy)", Read("P", 5)),
        ScriptStep("c-exits", "C exits", Exit("C"), (Look("P", 0), Folio("P", 0))),
        ScriptStep(
            "p-writes-again",
            "P writes 'P-7' to page 7 (P is the only mapper)",
            Write("P", 7, "P-7"),
            (*looks("P", pages=(0, 7)), Folio("P", 0)),
        ),
    ),
)

THP_PTE_COW = Experiment(
    name="thp-pte-cow",
    title="COW of a PTE-mapped THP after fork: one subpage copied, the rest reused",
    explain=(
        "mprotect() of one subpage splits the VMA and with it the PMD: the THP stays one "
        "folio, mapped by 512 PTEs, each PTE holding a folio reference. After fork the "
        "child's write copies one subpage (the folio is mapped by two processes). After the "
        "child exits, 6.15's wp_can_reuse_anon_folio() reuses a large folio mapped only by "
        "this process when every reference is a mapping (1da190f4d0a6); before, the folio "
        "refcount of 512 made every such write copy."
    ),
    needs=("linux", "thp"),
    pages=HUGE_PAGES,
    memory=THP,
    steps=(
        ScriptStep(
            "p-writes",
            "P writes 'P-1' to page 0: the fault maps a whole THP",
            Write("P", 0, "P-1"),
            (Look("P", 0), Folio("P", 0)),
        ),
        ScriptStep(
            "p-protects",
            "P makes page 1 read-only: the PMD is split",
            Mprotect("P", (1,), write=False),
            (Look("P", 0), Folio("P", 0)),
        ),
        ScriptStep(
            "p-unprotects",
            "P makes all pages writable again: the THP stays PTE-mapped",
            Mprotect("P", None, write=True),
            (Folio("P", 0),),
        ),
        ScriptStep(
            "fork",
            "P forks C",
            Fork("P", "C"),
            (*looks("P", "C"), Folio("C", 0), Shared("C", "P")),
        ),
        ScriptStep(
            "c-writes",
            "C writes 'C-5' to page 5",
            Write("C", 5, "C-5"),
            (Look("C", 5), Folio("C", 5), Shared("C", "P")),
        ),
        ScriptStep("c-exits", "C exits", Exit("C"), looks("P")),
        ScriptStep(
            "p-writes-7",
            "P writes 'P-7' to page 7 (P is the only mapper)",
            Write("P", 7, "P-7"),
            looks("P", pages=(0, 7)),
        ),
        ScriptStep(
            "p-writes-0",
            "P writes 'P-2' to page 0, the folio's head page",
            Write("P", 0, "P-2"),
            (*looks("P", pages=(0, 7)), Folio("P", 0)),
        ),
    ),
)

HUGETLB_VMSPLICE = Experiment(
    name="hugetlb-vmsplice",
    title="vmsplice on a private hugetlb page: the pipe shows the parent's new data",
    explain=(
        "The child's vmsplice takes a FOLL_GET reference on the huge page, then the child "
        "unmaps it. hugetlb_wp() still decides reuse by folio_mapcount() (b8a2528835b3 "
        "documents why), so P's write reuses the page the pipe still holds: the pipe returns "
        "SECRET-B, written after the fork. The kernel's own COW selftest marks this XFAIL "
        "(4bf6a4ebc592): the CVE-2020-29374 leak, still open for hugetlb."
    ),
    needs=("linux", "hugetlb"),
    pages=HUGE_PAGES,
    memory=HUGETLB,
    steps=(
        ScriptStep(
            "p-writes",
            "P writes 'SECRET-A' to its huge page",
            Write("P", 0, "SECRET-A"),
            (Look("P", 0), Folio("P", 0)),
        ),
        ScriptStep("fork", "P forks C", Fork("P", "C"), looks("P", "C")),
        ScriptStep(
            "c-vmsplices",
            "C vmsplices page 0 into a pipe",
            Vmsplice("C", 0, "pipe"),
            looks("P", "C"),
        ),
        ScriptStep(
            "c-unmaps",
            "C unmaps the huge page; the pipe keeps its reference",
            Unmap("C"),
            looks("P", "C"),
        ),
        ScriptStep("p-writes-again", "P writes 'SECRET-B'", Write("P", 0, "SECRET-B"), looks("P")),
        ScriptStep("pipe-read", "the pipe is drained", PipeRead("pipe")),
        ScriptStep("p-reads", "P reads", Read("P", 0)),
        ScriptStep("c-exits", "C exits", Exit("C")),
    ),
)

FAULT_COST = Experiment(
    name="fault-cost",
    title="The price of a spurious COW: copy fault vs reuse fault, per page",
    explain=(
        "Each page is written once: with the child alive every write copies "
        "(wp_page_copy), after it exited every write reuses (wp_page_reuse). The "
        "difference is what an unneeded copy costs (Rule 2: slower, never wrong)."
    ),
    needs=("linux",),
    pages=TIMING_PAGES,
    model_pages=4,
    measure="fault_costs",
    steps=(
        ScriptStep("touch", "P writes every page", WriteAll("P", "A")),
        ScriptStep("fork", "P forks C", Fork("P", "C"), (Shared("C", "P"),)),
        ScriptStep("copy", "P writes every page while C lives", WriteAll("P", "B")),
        ScriptStep("c-exits", "C exits", Exit("C")),
        ScriptStep("fork-2", "P forks C2", Fork("P", "C2")),
        ScriptStep("c2-exits", "C2 exits", Exit("C2")),
        ScriptStep("reuse", "P writes every page, C2 gone", WriteAll("P", "C")),
    ),
)

FORK_PIN_COST = Experiment(
    name="fork-pin-cost",
    title="The fork cost of pinned pages: one eager copy per pinned page",
    explain=(
        "fork() copies every maybe-pinned page for the child instead of sharing it "
        "(copy_present_page), so each pinned page adds a page copy to fork."
    ),
    needs=("linux", "io_uring"),
    pages=TIMING_PAGES,
    model_pages=4,
    measure="fork_pin_cost",
    steps=(
        ScriptStep("touch", "P writes every page", WriteAll("P", "A")),
        ScriptStep(
            "pin",
            "P registers every page as an io_uring fixed buffer",
            RegisterBuffers("P", None, "ring"),
        ),
        ScriptStep("fork", "P forks C", Fork("P", "C"), (Shared("C", "P"),)),
        ScriptStep("c-exits", "C exits", Exit("C")),
        ScriptStep("unpin", "P unregisters the buffers", UnregisterBuffers("ring")),
        ScriptStep("fork-2", "P forks C2", Fork("P", "C2"), (Shared("C2", "P"),)),
        ScriptStep("c2-exits", "C2 exits", Exit("C2")),
    ),
)

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        FORK_COW,
        REUSE_AFTER_EXIT,
        VMSPLICE,
        IOURING_FORK,
        PIN_AFTER_FORK,
        ODIRECT_UNSHARE,
        SWAP_PIN,
        THP_COW,
        THP_PTE_COW,
        HUGETLB_VMSPLICE,
        FAULT_COST,
        FORK_PIN_COST,
    )
}
