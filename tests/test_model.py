"""Unit tests of the fault paths, fork, GUP, reclaim and the oracle."""

import pytest

from cowlib import GUP_PIN_COUNTING_BIAS, PAGE_SIZE, PRESETS, Kernel
from cowlib.oracle import accounting_problems
from cowlib.trace import trace_to_json


def setup(policy="linux-6.x", pages=1):
    k = Kernel(policy)
    p = k.spawn("P")
    a = p.mmap(pages=pages)
    return k, p, a


def page_at(k, p, a):
    """The page p maps at a, as the snapshot shows it now."""
    return k.snapshot().page(p.pfn(a))


def pte_at(k, p, a):
    return next(pte for pte in k.snapshot().proc(p.name).ptes if pte.addr == a)


def has_pinned(k, p):
    return k.snapshot().proc(p.name).has_pinned


def test_read_of_untouched_memory_maps_the_zero_page():
    k, p, a = setup()
    assert p.read(a) == ""
    assert p.pfn(a) == 0
    p.write(a, "X")
    assert p.pfn(a) != 0 and p.read(a) == "X"
    assert "zero page is never reused" in k.trace[-2].explain


def test_write_fault_allocates_exclusive_page_in_lru_batch():
    k, p, a = setup()
    p.write(a, "X")
    page = page_at(k, p, a)
    assert (page.refcount, page.mapcount, page.anon_exclusive, page.lru) == (2, 1, True, False)
    assert page.lru_batch
    k.lru_drain()
    page = page_at(k, p, a)
    assert (page.refcount, page.lru, page.lru_batch) == (1, True, False)


def test_fork_write_protects_both_and_clears_anon_exclusive():
    k, p, a = setup()
    p.write(a, "X")
    c = p.fork("C")
    page = page_at(k, p, a)
    assert p.pfn(a) == c.pfn(a)
    assert not pte_at(k, p, a).write and not pte_at(k, c, a).write
    assert (page.mapcount, page.anon_exclusive) == (2, False)


def test_child_write_copies_and_parent_keeps_its_page():
    k, p, a = setup()
    p.write(a, "X")
    c = p.fork("C")
    old = p.pfn(a)
    c.write(a, "Y")
    assert c.pfn(a) != old and p.pfn(a) == old
    assert (p.read(a), c.read(a)) == ("X", "Y")
    assert k.violations == []


def test_pin_adds_the_bias_and_unpin_removes_it():
    k, p, a = setup()
    p.write(a, "X")
    k.lru_drain()
    pin = p.pin(a)
    page = page_at(k, p, a)
    assert page.refcount == 1 + GUP_PIN_COUNTING_BIAS and page.pincount == 1
    assert page.maybe_pinned and has_pinned(k, p)
    pin.unpin()
    page = page_at(k, p, a)
    assert page.refcount == 1 and page.pincount == 0 and not page.maybe_pinned


def test_has_pinned_does_not_exist_before_5_9():
    k, p, a = setup("linux-5.7")
    p.write(a, "X")
    p.pin(a)
    assert not has_pinned(k, p)


def test_device_write_through_pin_is_seen_by_the_process():
    k, p, a = setup()
    p.write(a, "X")
    pin = p.pin(a)
    pin.write("dma")
    assert p.read(a) == "dma"
    assert k.violations == []


def test_pageout_swaps_out_and_swapin_restores_exclusive_in_6x():
    k, p, a = setup()
    p.write(a, "X")
    assert k.pageout(p, a) is True
    assert p.swapped(a) and k.stats["swapouts"] == 1
    assert p.read(a) == "X"
    assert p.anon_exclusive(a) and not pte_at(k, p, a).write
    assert k.stats["swapins"] == 1


def test_pageout_skips_a_shared_page():
    k, p, a = setup()
    p.write(a, "X")
    p.fork("C")
    assert k.pageout(p, a) is False
    assert "mapcount 2 != 1 (shared) -> skip" in k.trace[-1].explain


def test_6x_unmap_refuses_a_pinned_page_even_without_rule4():
    k, p, a = setup(PRESETS["linux-6.x"].without("rule4"))
    p.write(a, "X")
    p.pin(a)
    assert k.pageout(p, a) is False
    assert "folio_try_share_anon_rmap_pte() fails" in k.trace[-1].explain
    assert not p.swapped(a)


def test_gup_write_on_shared_page_breaks_cow_at_pin_time():
    k, p, a = setup()
    p.write(a, "X")
    c = p.fork("C")
    shared = p.pfn(a)
    pin = p.pin(a, write=True)
    assert p.pfn(a) != shared == c.pfn(a)
    assert pin.pfn == p.pfn(a)


def test_ro_pin_unshares_in_6x_but_vmsplice_does_not():
    k, p, a = setup()
    p.write(a, "X")
    c = p.fork("C")
    shared = p.pfn(a)
    c.vmsplice(a)
    assert c.pfn(a) == shared
    p.pin(a, write=False)
    assert p.pfn(a) != shared and k.stats["unshares"] == 1
    assert not pte_at(k, p, a).write and p.anon_exclusive(a)


def test_gup_forces_cow_in_5_8_only():
    for preset, copies in (("linux-5.8", 1), ("linux-5.7", 0), ("linux-5.9-rc4", 0)):
        k, p, a = setup(preset)
        p.write(a, "X")
        c = p.fork("C")
        c.vmsplice(a)
        assert (c.pfn(a) != p.pfn(a)) == bool(copies), preset


def test_mprotect_read_only_then_write_segfaults_and_state_is_unchanged():
    from cowlib import SegFault

    k, p, a = setup()
    p.write(a, "X")
    p.mprotect(a, write=False)
    before = k.snapshot()
    with pytest.raises(SegFault, match="read-only"):
        p.write(a, "Y")
    assert k.snapshot() == before
    p.mprotect(a, write=True)
    p.write(a, "Y")
    assert p.read(a) == "Y"


def test_mprotect_splits_the_vma():
    k, p, a = setup(pages=3)
    p.mprotect(a + PAGE_SIZE, pages=1, write=False)
    vmas = k.snapshot().proc("P").vmas
    pages = [
        ((start - a) // PAGE_SIZE, (end - a) // PAGE_SIZE, write) for start, end, write in vmas
    ]
    assert pages == [(0, 1, True), (1, 2, False), (2, 3, True)]


def test_munmap_of_one_page_keeps_the_rest():
    k, p, a = setup(pages=2)
    p.write(a, "X")
    p.write(a + PAGE_SIZE, "Y")
    p.munmap(a)
    assert p.read(a + PAGE_SIZE) == "Y"
    assert k.snapshot().proc("P").vmas == ((a + PAGE_SIZE, a + 2 * PAGE_SIZE, True),)


def test_exit_frees_everything_once_handles_are_released():
    k, p, a = setup(pages=2)
    p.write(a, "X")
    p.write(a + PAGE_SIZE, "Y")
    c = p.fork("C")
    pipe = c.vmsplice(a)
    pin = p.pin(a + PAGE_SIZE)
    k.pageout(c, a + PAGE_SIZE)
    c.exit()
    p.exit()
    assert pipe.read() == "X"
    pipe.close()
    pin.unpin()
    k.lru_drain()
    snap = k.snapshot()
    assert [page.pfn for page in snap.pages] == [] and snap.swap == ()
    assert accounting_problems(k.machine) == []


def test_swap_entries_are_shared_by_fork_and_freed_by_exit():
    k, p, a = setup("linux-5.11")
    p.write(a, "X")
    k.pageout(p, a)
    c = p.fork("C")
    slot = pte_at(k, p, a).target
    assert pte_at(k, c, a) == pte_at(k, p, a) and pte_at(k, p, a).kind == "swap"
    assert k.snapshot().swap[0].slot == slot and k.snapshot().swap[0].count == 2
    c.exit()
    assert k.snapshot().swap[0].count == 1
    assert p.read(a) == "X"


def test_lru_batch_drains_itself_when_full():
    k, p, a = setup(pages=20)
    for i in range(15):
        p.write(a + i * PAGE_SIZE, "v")
    pages = [page_at(k, p, a + i * PAGE_SIZE) for i in range(15)]
    assert all(page.lru and not page.lru_batch for page in pages)


def test_trace_is_frozen_and_exports_json():
    k, p, a = setup()
    p.write(a, "X")
    step = k.trace[-1]
    with pytest.raises(AttributeError):
        step.op = "changed"
    data = trace_to_json(k.trace, policy=k.policy.name)
    assert '"policy": "linux-6.x"' in data and "P:write 0 X" in data


def test_every_step_explains_itself_in_kernel_terms():
    k, p, a = setup("linux-5.11")
    p.write(a, "X")
    c = p.fork("C")
    p.write(a, "Y")
    assert "do_wp_page(P, 0x10000): page_count()=3 != 1 -> copy" in k.trace[-1].explain
    assert "oracle: needed copy (other users: C's PTE)" in k.trace[-1].explain
    assert c.read(a) == "X"


def test_false_positive_maybe_pinned_makes_fork_copy():
    """S15: 1024 ordinary references look like a pin to page_maybe_dma_pinned()."""
    k, p, a = setup("linux-5.11")
    p.write(a, "X")
    k.lru_drain()
    p.pin(a + 0, write=True).unpin()  # MMF_HAS_PINNED is sticky
    refs = [p.get(a) for _ in range(GUP_PIN_COUNTING_BIAS)]
    p.fork("C")
    assert k.stats["fork_copies"] == 1
    for ref in refs:
        ref.put()
    assert accounting_problems(k.machine) == []
