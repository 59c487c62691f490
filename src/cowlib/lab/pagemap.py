"""Readers for the kernel's page-frame interfaces: pagemap, kpageflags, kpagecount.

``/proc/PID/pagemap`` (fs/proc/task_mmu.c, ``pagemap_read``) holds one 64-bit
entry per virtual page: bit 63 present, bit 62 swapped, bit 56 "exclusively
mapped" (a *mapcount* test, not PageAnonExclusive), bits 0-54 the PFN, which
reads as zero without CAP_SYS_ADMIN. ``/proc/kpageflags`` and
``/proc/kpagecount`` (fs/proc/page.c) are indexed by PFN and readable by root
only; kpagecount is the precise *mapcount*, so pipe references and pin biases
never show there. kpageflags gives every frame of a large folio the folio's
flags (its head page's), so a tail page's bit 34 is the head's
PageAnonExclusive, not its own. Whether a THP is mapped by a PMD or by PTEs
shows nowhere per page; ``/proc/PID/smaps`` counts PMD-mapped THP memory
per mapping (``AnonHugePages``).

A freed PFN is reused within microseconds, so :func:`frames` must only be
called for PFNs that a live, stopped process still maps.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

PM_PRESENT = 1 << 63
PM_SWAPPED = 1 << 62
PM_MMAP_EXCLUSIVE = 1 << 56
PM_PFN_MASK = (1 << 55) - 1

KPF_COMPOUND_HEAD = 15
KPF_COMPOUND_TAIL = 16
KPF_HUGE = 17  # a hugetlb folio
KPF_THP = 22  # a transparent huge page (any large anonymous folio)
KPF_SWAPCACHE = 13
# PG_anon_exclusive is an alias of PG_owner_2 on 6.18, exported as KPF_OWNER_2 (bit 34).
KPF_ANON_EXCLUSIVE = 34


@dataclass(frozen=True)
class PagemapEntry:
    """One pagemap entry. ``pfn`` is None when absent, swapped, or hidden (no root)."""

    present: bool
    swapped: bool
    mapped_exclusively: bool
    pfn: int | None


@dataclass(frozen=True)
class Frame:
    """The kpageflags word and kpagecount (mapcount) of one page frame."""

    pfn: int
    flags: int
    mapcount: int

    def has(self, bit: int) -> bool:
        return bool(self.flags >> bit & 1)

    @property
    def anon_exclusive(self) -> bool:
        return self.has(KPF_ANON_EXCLUSIVE)

    @property
    def swapcache(self) -> bool:
        return self.has(KPF_SWAPCACHE)

    @property
    def compound(self) -> str:
        """'head', 'tail' or '' (a small folio)."""
        if self.has(KPF_COMPOUND_HEAD):
            return "head"
        return "tail" if self.has(KPF_COMPOUND_TAIL) else ""

    @property
    def large_kind(self) -> str:
        """'hugetlb', 'THP' or '' for the folio this frame belongs to."""
        if self.has(KPF_HUGE):
            return "hugetlb"
        return "THP" if self.has(KPF_THP) else ""


def decode(word: int) -> PagemapEntry:
    """Decode a pagemap word; a present entry with PFN 0 means the PFN is hidden."""
    present = bool(word & PM_PRESENT)
    pfn = word & PM_PFN_MASK if present else 0
    return PagemapEntry(
        present=present,
        swapped=bool(word & PM_SWAPPED),
        mapped_exclusively=bool(word & PM_MMAP_EXCLUSIVE),
        pfn=pfn or None,
    )


def read_pagemap(pid: int, addr: int, count: int = 1) -> list[PagemapEntry]:
    """Read ``count`` consecutive pagemap entries of process ``pid`` from ``addr``."""
    fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
    try:
        raw = os.pread(fd, 8 * count, addr // PAGE_SIZE * 8)
    finally:
        os.close(fd)
    if len(raw) != 8 * count:
        raise OSError(f"read_pagemap: short read of /proc/{pid}/pagemap at {addr:#x}")
    return [decode(w) for w in struct.unpack(f"<{count}Q", raw)]


def _read_words(path: str, pfns: list[int]) -> list[int]:
    fd = os.open(path, os.O_RDONLY)
    try:
        return [struct.unpack("<Q", os.pread(fd, 8, pfn * 8))[0] for pfn in pfns]
    finally:
        os.close(fd)


def frames(pfns: list[int]) -> list[Frame]:
    """Read the flags and mapcounts of ``pfns``; the caller must keep the pages mapped."""
    flags = _read_words("/proc/kpageflags", pfns)
    counts = _read_words("/proc/kpagecount", pfns)
    return [Frame(*f) for f in zip(pfns, flags, counts, strict=True)]


def folio_extent(pfn: int, limit: int) -> tuple[int, int]:
    """(head PFN, number of frames) of the folio holding ``pfn``, at most ``limit`` frames.

    kpageflags marks a large folio's first frame COMPOUND_HEAD and the others
    COMPOUND_TAIL; a small folio is its own head, one frame long. The caller
    must keep the folio mapped, as for :func:`frames`.
    """
    first = max(pfn - limit + 1, 0)
    words = _read_range("/proc/kpageflags", first, pfn + limit - first)
    flags = dict(zip(range(first, first + len(words)), words, strict=True))
    tail, head = 1 << KPF_COMPOUND_TAIL, 1 << KPF_COMPOUND_HEAD
    start = pfn
    while flags[start] & tail and not flags[start] & head and start > first:
        start -= 1
    if not flags[start] & head:
        return pfn, 1
    end = start + 1
    while end in flags and flags[end] & tail:
        end += 1
    return start, end - start


def _read_range(path: str, first: int, count: int) -> list[int]:
    fd = os.open(path, os.O_RDONLY)
    try:
        raw = os.pread(fd, 8 * count, first * 8)
    finally:
        os.close(fd)
    return list(struct.unpack(f"<{len(raw) // 8}Q", raw))


def vma_fields(pid: int, addr: int) -> dict[str, int]:
    """The kB fields of /proc/PID/smaps for the mapping that holds ``addr``.

    ``AnonHugePages`` counts the anonymous memory the mapping maps with PMDs
    (PMD-mapped THPs), ``Private_Hugetlb`` its private hugetlb pages, and
    ``KernelPageSize`` the size of its page table entries (2048 kB for a
    2 MiB hugetlb mapping).
    """
    fields: dict[str, int] | None = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split(maxsplit=1)[0]
            if not head.endswith(":"):  # a mapping's first line: start-end perms ...
                if fields is not None:
                    break
                start, end = (int(x, 16) for x in head.split("-"))
                if start <= addr < end:
                    fields = {}
            elif fields is not None and line.rstrip().endswith(" kB"):
                fields[head[:-1]] = int(line.split()[1])
    if fields is None:
        raise OSError(f"vma_fields: {addr:#x} is not mapped in process {pid}")
    return fields


def frames_readable() -> bool:
    """True when /proc/kpageflags and /proc/kpagecount can be read (root)."""
    try:
        frames([0])
    except OSError:
        return False
    return True
