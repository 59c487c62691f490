"""Readers for the kernel's page-frame interfaces: pagemap, kpageflags, kpagecount.

``/proc/PID/pagemap`` (fs/proc/task_mmu.c, ``pagemap_read``) holds one 64-bit
entry per virtual page: bit 63 present, bit 62 swapped, bit 56 "exclusively
mapped" (a *mapcount* test, not PageAnonExclusive), bits 0-54 the PFN, which
reads as zero without CAP_SYS_ADMIN. ``/proc/kpageflags`` and
``/proc/kpagecount`` (fs/proc/page.c) are indexed by PFN and readable by root
only; kpagecount is the precise *mapcount*, so pipe references and pin biases
never show there.

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


def frames_readable() -> bool:
    """True when /proc/kpageflags and /proc/kpagecount can be read (root)."""
    try:
        frames([0])
    except OSError:
        return False
    return True
