"""A temporary swapfile, enabled for one experiment and always undone.

The file is written in full (no holes, as swapon requires), given the
header ``mkswap`` would write (include/linux/swap.h, ``union swap_header``),
enabled with swapon(2), and on every exit path disabled with swapoff(2),
unlinked, and checked gone from /proc/swaps. It lives in the state directory
of the lab's guardian (``guardian.py``), which swaps it off and removes it
if the lab dies first, SIGKILL included.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

from . import guardian, syscalls
from .errors import Unavailable
from .pagemap import PAGE_SIZE

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


@contextmanager
def temporary_swap(state: str, size: int = SWAPFILE_BYTES) -> Iterator[str]:
    """Enable a swapfile in the guardian's directory ``state`` for the block's duration."""
    path = os.path.join(state, "swapfile")
    try:
        write_swapfile(path, size)
        try:
            syscalls.swapon(path)
        except OSError as e:
            raise Unavailable(f"swapon refused: {e.strerror}") from e
        yield path
    finally:
        if path in guardian.active_swaps():
            guardian.swapoff(path)
        if os.path.exists(path):
            os.unlink(path)
        if guardian.swaps_in(state):
            raise RuntimeError(f"temporary_swap: {path} is still listed in /proc/swaps")
