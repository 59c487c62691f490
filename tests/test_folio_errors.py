"""Impossible requests on large folios raise a CowError naming the problem, state intact."""

import pytest

from cowlib import BadAddress, BadArgument, Kernel, SegFault


def unchanged(k, fn, error, match):
    before, steps = k.snapshot(), len(k.trace)
    with pytest.raises(error, match=match):
        fn()
    assert k.snapshot() == before and len(k.trace) == steps


@pytest.fixture
def k():
    k = Kernel("linux-6.x", pmd_order=4)
    p = k.spawn("P")
    a = p.mmap(pages=16, thp=4)
    p.write(a, "X")
    k.memfd("mfd", 2)
    return k


def test_unsupported_folio_orders(k):
    p = k.procs["P"]
    for order in (1, 19, -2, "9", True):
        unchanged(k, lambda o=order: p.mmap(pages=16, thp=o), BadArgument, "unsupported folio")
    unchanged(k, lambda: p.mmap(pages=4, hugetlb=1), BadArgument, "unsupported folio order 1")
    with pytest.raises(BadArgument, match="unsupported folio order"):
        Kernel(pmd_order=1)


def test_mremap_and_madvise_of_unmapped_ranges(k):
    p = k.procs["P"]
    unchanged(k, lambda: p.mremap(0x900000, 2), BadAddress, "not mapped")
    unchanged(k, lambda: p.madvise(0x900000, 1, "dontneed"), BadAddress, "not mapped")
    unchanged(k, lambda: p.madvise(0x10000, 1, "sideways"), BadArgument, "unknown advice")
    unchanged(k, lambda: k.pageout(p, 0x900000, 4), BadAddress, "not mapped")


def test_hugetlb_ranges_are_whole_huge_pages(k):
    p = k.procs["P"]
    h = p.mmap(pages=8, hugetlb=2)
    unchanged(k, lambda: p.munmap(h + 4096, 1), BadArgument, "inside a huge page")
    unchanged(k, lambda: p.mprotect(h, 2), BadArgument, "inside a huge page")
    unchanged(k, lambda: p.mmap(pages=6, hugetlb=2), BadArgument, "whole huge pages")
    unchanged(k, lambda: p.mremap(h, 4), BadArgument, "hugetlb")


def test_files(k):
    p = k.procs["P"]
    unchanged(k, lambda: p.mmap(pages=1, file="nope"), BadArgument, "no file 'nope'")
    unchanged(k, lambda: p.mmap(pages=3, file="mfd"), BadArgument, "has 2 pages")
    unchanged(k, lambda: p.mmap(pages=1, file="mfd", shared=True), BadArgument, "read-only")
    unchanged(k, lambda: k.memfd("mfd", 1), BadArgument, "must be new")
    unchanged(k, lambda: k.memfd("big", 3, hugetlb=2), BadArgument, "whole huge pages")
    s = p.mmap(pages=1, file="mfd", shared=True, write=False)
    unchanged(k, lambda: p.memset(s, 1, "Y"), SegFault, "read-only")
