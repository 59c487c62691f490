"""A temporary swapfile: the lab's only system-wide change, always undone.

The file is written in full (no holes, as swapon requires), given the
header ``mkswap`` would write (include/linux/swap.h, ``union swap_header``),
enabled with swapon(2), and on every exit path disabled with swapoff(2),
unlinked, and checked gone from /proc/swaps.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from cowlib.lab import syscalls
from cowlib.lab.errors import Unavailable
from cowlib.lab.pagemap import PAGE_SIZE

SWAPFILE_BYTES = 16 << 20
SWAP_MAGIC = b"SWAPSPACE2"
SWAP_VERSION = 1


def swap_header(size: int) -> bytes:
    """Page 0 of a swap area: bootbits, version, last_page, nr_badpages, magic."""
    info = struct.pack("<III", SWAP_VERSION, size // PAGE_SIZE - 1, 0)
    header = bytearray(PAGE_SIZE)
    header[1024 : 1024 + len(info)] = info
    header[-len(SWAP_MAGIC) :] = SWAP_MAGIC
    return bytes(header)


def write_swapfile(path: str, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, swap_header(size))
        chunk = bytes(1 << 20)
        for offset in range(PAGE_SIZE, size, len(chunk)):
            os.write(fd, chunk[: size - offset])
        os.fsync(fd)
    finally:
        os.close(fd)


def active_swaps() -> list[str]:
    """The swap areas /proc/swaps lists now."""
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.readlines()[1:]]


@contextmanager
def temporary_swap(directory: str, size: int = SWAPFILE_BYTES) -> Iterator[str]:
    """Enable a swapfile in a fresh directory under ``directory`` for the block's duration."""
    tmp = tempfile.mkdtemp(dir=directory, prefix="cowlib-swap-")
    path = os.path.join(tmp, "swapfile")
    enabled = False
    try:
        write_swapfile(path, size)
        try:
            syscalls.swapon(path)
        except OSError as e:
            raise Unavailable(f"swapon refused: {e.strerror}") from e
        enabled = True
        yield path
    finally:
        if enabled:
            syscalls.swapoff(path)  # if this raises, the file stays for a manual swapoff
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(tmp)
        if any(area.startswith(path) for area in active_swaps()):
            raise RuntimeError(f"temporary_swap: {path} is still listed in /proc/swaps")
