"""The real kernel lab on this machine: every experiment runs and agrees with the model.

Each test pins down the kernel behaviour the experiment is about with the
kernel's own observations (page labels #1, #2 are PFN identities in order of
first appearance), and then checks that the linux-6.x model predicted it.
"""

import os

import pytest

from cowlib import lab
from cowlib.lab import guardian
from cowlib.lab.features import SCRATCH_DIR

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/pagemap"), reason="needs Linux")


NR_HUGEPAGES_BEFORE = (
    guardian.read_count(guardian.NR_HUGEPAGES) if os.path.exists(guardian.NR_HUGEPAGES) else None
)


@pytest.fixture(scope="module")
def results() -> dict[str, lab.Result]:
    return {r.name: r for r in lab.run_all()}


def ran(results: dict[str, lab.Result], name: str) -> lab.Result:
    result = results[name]
    if result.skipped:
        pytest.skip(result.skipped)
    assert result.error is None, result.error
    return result


def kernel(result: lab.Result, step: str, who: str = "P", what: str = "page", page=0):
    return result.row(step, who, what, page).kernel


def test_every_experiment_runs_as_root_on_linux(results):
    if os.geteuid() != 0:
        pytest.skip("the full lab needs root")
    assert {name: r.skipped for name, r in results.items() if r.skipped} == {}


@pytest.mark.parametrize("name", lab.experiment_names())
def test_kernel_agrees_with_linux_6x_model(results, name):
    result = ran(results, name)
    assert result.disagreements == [], result.table()
    if result.no_model:
        assert {r.verdict for r in result.rows} == {"no model"}
        pytest.skip(f"{name}: {result.no_model}")
    assert result.agrees
    assert {r.verdict for r in result.rows} <= {"agree", "kernel only", "hidden"}


def test_fork_cow_child_write_copies_and_parent_keeps_the_page(results):
    r = ran(results, "fork-cow")
    assert kernel(r, "fork", "P", "anon_exclusive") is False
    assert kernel(r, "c-writes", "C", "fault") == "copy"
    assert kernel(r, "c-writes", "C") == "#2"
    assert kernel(r, "c-writes", "P") == "#1"
    assert kernel(r, "p-reads", "P", "content") == "P-1"
    assert kernel(r, "c-reads", "C", "content") == "C-1"


def test_fork_cow_last_mapper_reuses_and_first_writer_copies(results):
    r = ran(results, "fork-cow")
    assert kernel(r, "p-writes-again", "P", "fault") == "reuse"
    assert kernel(r, "p-writes-again", "P", "anon_exclusive") is True
    assert kernel(r, "p-writes-first", "P", "fault") == "copy"
    assert kernel(r, "p-writes-first", "P") == "#3"
    assert kernel(r, "p-writes-first", "C2") == "#1"
    assert kernel(r, "c2-reads", "C2", "content") == "P-2"


def test_reuse_after_exit_keeps_the_pfn_and_sets_anon_exclusive_again(results):
    r = ran(results, "reuse-after-exit")
    assert kernel(r, "c-exits") == "#1"
    assert kernel(r, "c-exits", what="anon_exclusive") is False
    assert "mapcount=1" in r.row("c-exits").detail
    assert kernel(r, "p-writes-again", what="fault") == "reuse"
    assert kernel(r, "p-writes-again") == "#1"
    assert kernel(r, "p-writes-again", what="anon_exclusive") is True


def test_vmsplice_pipe_returns_the_pre_write_data_and_parent_pfn_changes(results):
    r = ran(results, "vmsplice")
    assert kernel(r, "c-vmsplices", "C") == "#1"  # FOLL_GET: no unshare
    assert kernel(r, "p-writes-again", what="fault") == "copy"
    assert kernel(r, "p-writes-again") == "#2"
    assert kernel(r, "pipe-read", what="pipe", page=None) == "SECRET-A"
    assert kernel(r, "p-reads", what="content") == "SECRET-B"


def test_iouring_pinned_pages_are_copied_for_the_child_at_fork(results):
    r = ran(results, "iouring-fork")
    assert [kernel(r, "fork", "P", page=p) for p in range(4)] == ["#1", "#2", "#3", "#4"]
    assert [kernel(r, "fork", "C", page=p) for p in range(4)] == ["#5", "#6", "#3", "#4"]
    assert kernel(r, "fork", "P", "anon_exclusive", 0) is True
    assert kernel(r, "fork", "P", "anon_exclusive", 2) is False
    assert kernel(r, "c-reads", "C", "content") == "FORK-TIME"


def test_iouring_parent_writes_its_pinned_page_in_place(results):
    r = ran(results, "iouring-fork")
    assert kernel(r, "p-writes-pinned", what="fault") == "in place"
    assert kernel(r, "p-writes-pinned") == "#1"
    assert kernel(r, "p-writes-unpinned", what="fault", page=2) == "copy"
    assert kernel(r, "p-writes-unpinned", "C", page=2) == "#3"


def test_pin_after_fork_breaks_cow_at_pin_time(results):
    r = ran(results, "pin-after-fork")
    assert kernel(r, "fork") == kernel(r, "fork", "C") == "#1"
    assert kernel(r, "pin") == "#2"
    assert kernel(r, "pin", what="anon_exclusive") is True
    assert kernel(r, "pin", "C") == "#1"
    assert kernel(r, "p-writes-again", what="fault") == "in place"
    assert kernel(r, "c-reads", "C", "content") == "P-1"


def test_odirect_write_from_a_shared_page_unshares_it(results):
    r = ran(results, "odirect-unshare")
    assert kernel(r, "dio-write", what="file") == "P-1"
    assert kernel(r, "dio-write") == "#2"
    assert kernel(r, "dio-write", what="anon_exclusive") is True
    assert kernel(r, "dio-write", "C") == "#1"


def test_swap_normal_page_swaps_and_pinned_page_never_enters_swap_cache(results):
    r = ran(results, "swap-pin")
    assert kernel(r, "pageout-normal", what="pageout", page=1) == "swapped"
    assert kernel(r, "pageout-normal", page=1) == "swapped"
    assert kernel(r, "pageout-pinned", what="pageout") == "kept"
    assert kernel(r, "pageout-pinned") == "#1"
    pinned = [row for row in r.rows if row.what == "page" and row.page == 0 and row.detail]
    assert pinned and all("swapcache=0" in row.detail for row in pinned)
    assert kernel(r, "read-normal", what="content", page=1) == "NORMAL"
    assert kernel(r, "read-pinned", what="content") == "PINNED"
    assert kernel(r, "pageout-unpinned", what="pageout") == "swapped"
    assert kernel(r, "read-unpinned", what="content") == "PINNED"


def test_swapfile_and_state_directory_are_gone_after_the_lab(results):
    ran(results, "swap-pin")
    ours = f"{guardian.PREFIX}{os.getpid()}-"  # other sessions may run the lab meanwhile
    assert not [a for a in guardian.active_swaps() if ours in a]
    assert not [d for d in os.listdir(SCRATCH_DIR) if d.startswith(ours)]


def test_pmd_mapped_thp_cow_splits_the_writers_pmd_and_copies_one_subpage(results):
    r = ran(results, "thp-cow")
    assert kernel(r, "p-writes", what="folio") == "THP"
    assert "size=2048kB" in r.row("p-writes", what="folio").detail
    assert kernel(r, "p-writes", what="mapped") == "PMD"
    assert kernel(r, "p-writes-5", what="fault", page=5) == "in place"
    assert kernel(r, "fork", "C") == "#1" and kernel(r, "fork", "C", "mapped") == "PMD"
    assert kernel(r, "fork", what="anon_exclusive") is False
    assert kernel(r, "c-writes", "C", "fault", 5) == "copy"
    assert kernel(r, "c-writes", "C", page=5) == "#2"
    assert kernel(r, "c-writes", "C", "folio", 5) == "small"
    assert kernel(r, "c-writes", "C", "mapped") == "PTE"  # C's PMD was split
    assert kernel(r, "c-writes", "P", "mapped") == "PMD"  # P's was not
    assert kernel(r, "c-writes", "C", "shared", None) == "shared except page 5"
    assert kernel(r, "c-reads", "C", "content", 5) == "C-5"
    assert kernel(r, "p-reads", "P", "content", 5) == "P-5"


def test_pmd_mapped_thp_is_reused_whole_by_the_last_mapper(results):
    r = ran(results, "thp-cow")
    assert kernel(r, "p-writes-again", what="fault", page=7) == "reuse"
    assert kernel(r, "p-writes-again", page=7) == "#1+7"
    assert kernel(r, "p-writes-again", what="anon_exclusive") is True
    assert kernel(r, "p-writes-again", what="mapped") == "PMD"


def test_mprotect_of_one_subpage_leaves_the_thp_one_folio_mapped_by_ptes(results):
    r = ran(results, "thp-pte-cow")
    assert kernel(r, "p-writes", what="mapped") == "PMD"
    assert kernel(r, "p-protects", what="mapped") == "PTE"
    assert kernel(r, "p-unprotects", what="mapped") == "PTE"
    assert kernel(r, "p-unprotects", what="folio") == "THP"
    assert kernel(r, "p-protects") == "#1"  # the same folio, split only in the page table
    assert kernel(r, "c-writes", "C", "fault", 5) == "copy"
    assert kernel(r, "c-writes", "C", "shared", None) == "shared except page 5"


def test_pte_mapped_thp_is_reused_and_kpageflags_shows_the_heads_exclusive_flag(results):
    r = ran(results, "thp-pte-cow")
    assert kernel(r, "p-writes-7", what="fault", page=7) == "reuse"  # 6.15+: not copied
    assert kernel(r, "p-writes-7", page=7) == "#1+7"
    # subpage 7 is now PageAnonExclusive, but kpageflags reports the head page's flag
    assert kernel(r, "p-writes-7", what="anon_exclusive", page=7) is False
    assert kernel(r, "p-writes-0", what="fault") == "reuse"
    assert kernel(r, "p-writes-0", what="anon_exclusive", page=7) is True


def test_hugetlb_vmsplice_leaks_the_parents_write_into_the_pipe(results):
    r = ran(results, "hugetlb-vmsplice")
    assert kernel(r, "p-writes", what="folio") == "hugetlb"
    assert kernel(r, "c-vmsplices", "C") == "#1"
    assert kernel(r, "c-unmaps", "C") == "absent"
    assert "mapcount=1" in r.row("c-unmaps").detail
    assert kernel(r, "p-writes-again", what="fault") == "reuse"  # by mapcount: the pipe's ref
    assert kernel(r, "p-writes-again") == "#1"
    assert kernel(r, "pipe-read", what="pipe", page=None) == "SECRET-B"  # the leak
    assert kernel(r, "p-reads", what="content") == "SECRET-B"


def test_hugetlb_reservation_is_returned_after_the_lab(results):
    ran(results, "hugetlb-vmsplice")
    ours = f"{guardian.PREFIX}{os.getpid()}-"
    assert not [d for d in os.listdir(SCRATCH_DIR) if d.startswith(ours)]
    assert guardian.read_count(guardian.NR_HUGEPAGES) == NR_HUGEPAGES_BEFORE


def test_fault_cost_copies_every_page_with_a_child_and_reuses_after_exit(results):
    r = ran(results, "fault-cost")
    assert kernel(r, "fork", "C", "shared", None) == "all shared"
    assert kernel(r, "copy", what="fault", page=None) == "copy (all pages)"
    assert kernel(r, "reuse", what="fault", page=None) == "reuse (all pages)"
    for what in ("first touch", "reuse fault", "copy fault"):
        assert kernel(r, "median", what=what, page=None) > 0


def test_fork_pin_cost_child_shares_nothing_pinned_and_everything_unpinned(results):
    r = ran(results, "fork-pin-cost")
    assert kernel(r, "fork", "C", "shared", None) == "none shared"
    assert kernel(r, "fork-2", "C2", "shared", None) == "all shared"
    assert kernel(r, "median", what="fork, pinned", page=None) > 0
