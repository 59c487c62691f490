"""Fault and fork costs on the real kernel, per page, as medians of trials.

The method of real-kernel-lab.md section 6: one byte written per page of a
``pages``-page mapping in a plain Python loop timed with ``perf_counter_ns``,
GC disabled, and the loop's own cost (a pass that takes no fault) subtracted.
These functions fork: run them in a lab runner process (``sandbox.py``), not in
a notebook kernel.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from statistics import median

from . import procs, syscalls
from .pagemap import PAGE_SIZE

CHILD_ALARM = 60


@dataclass(frozen=True)
class FaultCosts:
    """Per-page pass times in ns, one value per trial, loop overhead included.

    The ``*_ns`` medians subtract the median no-fault pass (``loop``): one
    disturbed loop pass then cannot distort a single trial's fault cost.
    """

    pages: int
    first_touch: list[float]  # do_anonymous_page: zero-filled page
    copy: list[float]  # do_wp_page -> wp_page_copy: a child still maps the page
    reuse: list[float]  # do_wp_page -> wp_page_reuse: the child has exited
    loop: list[float]  # the same writes, no fault: the Python loop alone

    @property
    def loop_ns(self) -> float:
        return median(self.loop)

    @property
    def first_touch_ns(self) -> float:
        return median(self.first_touch) - self.loop_ns

    @property
    def copy_ns(self) -> float:
        return median(self.copy) - self.loop_ns

    @property
    def reuse_ns(self) -> float:
        return median(self.reuse) - self.loop_ns

    @property
    def spurious_cow_ns(self) -> float:
        """What an unneeded copy costs over a reuse, per page (Rule 2's price)."""
        return self.copy_ns - self.reuse_ns

    def to_dict(self) -> dict:
        return asdict(self) | {
            "first_touch_ns": self.first_touch_ns,
            "copy_ns": self.copy_ns,
            "reuse_ns": self.reuse_ns,
            "loop_ns": self.loop_ns,
            "spurious_cow_ns": self.spurious_cow_ns,
        }


@dataclass(frozen=True)
class ForkPinCost:
    """fork() durations in ns with the mapping unpinned and io_uring-pinned."""

    pages: int
    plain: list[float]
    pinned: list[float]

    @property
    def plain_ns(self) -> float:
        return median(self.plain)

    @property
    def pinned_ns(self) -> float:
        return median(self.pinned)

    @property
    def extra_per_page_ns(self) -> float:
        """The eager copy fork makes of each maybe-pinned page (copy_present_page)."""
        return (self.pinned_ns - self.plain_ns) / self.pages

    def to_dict(self) -> dict:
        return asdict(self) | {
            "plain_ns": self.plain_ns,
            "pinned_ns": self.pinned_ns,
            "extra_per_page_ns": self.extra_per_page_ns,
        }


@contextmanager
def gc_disabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_pass(region: syscalls.Region) -> int:
    """Write one byte to every page; return the elapsed ns."""
    mem = region.mem
    offsets = range(0, region.pages * PAGE_SIZE, PAGE_SIZE)
    start = time.perf_counter_ns()
    for off in offsets:
        mem[off] = 1
    return time.perf_counter_ns() - start


@contextmanager
def child_alive() -> Iterator[None]:
    """A forked child that maps everything and touches nothing until the block ends."""
    read_end, write_end = os.pipe()

    def wait_for_eof() -> None:
        os.close(write_end)
        os.read(read_end, 1)

    pid = procs.fork_child(wait_for_eof, CHILD_ALARM)
    os.close(read_end)
    try:
        yield
    finally:
        os.close(write_end)
        procs.reap(pid, CHILD_ALARM)


def fork_and_exit() -> int:
    """Fork a child that exits at once; return the parent's fork() duration in ns."""
    start = time.perf_counter_ns()
    pid = procs.fork_child(lambda: None, CHILD_ALARM)
    elapsed = time.perf_counter_ns() - start
    procs.reap(pid, CHILD_ALARM)
    return elapsed


def fault_trial(pages: int) -> tuple[float, float, float, float]:
    """One trial on a fresh mapping: first touch, copy, reuse and no-fault ns per page."""
    region = syscalls.Region(pages)
    try:
        first_touch = write_pass(region)
        loop = write_pass(region)
        with child_alive():
            copy = write_pass(region)
        procs.reap(procs.fork_child(lambda: None, CHILD_ALARM), CHILD_ALARM)
        reuse = write_pass(region)
    finally:
        region.close()
    return tuple(t / pages for t in (first_touch, copy, reuse, loop))


def measure_fault_costs(pages: int, trials: int) -> FaultCosts:
    with gc_disabled():
        results = [fault_trial(pages) for _ in range(trials)]
    first_touch, copy, reuse, loop = (list(column) for column in zip(*results, strict=True))
    return FaultCosts(pages, first_touch, copy, reuse, loop)


def measure_fork_pin_cost(pages: int, trials: int) -> ForkPinCost:
    """Alternate plain and pinned forks of one ``pages``-page mapping."""
    region = syscalls.Region(pages)
    plain, pinned = [], []
    try:
        write_pass(region)
        with gc_disabled():
            for _ in range(trials):
                plain.append(fork_and_exit())
                ring = syscalls.FixedBuffers([(region.addr, pages * PAGE_SIZE)])
                try:
                    pinned.append(fork_and_exit())
                finally:
                    ring.unregister()
    finally:
        region.close()
    return ForkPinCost(pages, plain, pinned)
