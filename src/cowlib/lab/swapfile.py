"""A temporary swapfile: the lab's only system-wide change, always undone.

The file is written in full (no holes, as swapon requires), given the
header ``mkswap`` would write (include/linux/swap.h, ``union swap_header``),
enabled with swapon(2), and on every exit path disabled with swapoff(2),
unlinked, and checked gone from /proc/swaps. Only a SIGKILL of the caller
can skip that; the next run then removes the orphan.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from . import syscalls
from .errors import Unavailable
from .pagemap import PAGE_SIZE

SWAPFILE_BYTES = 16 << 20
PREFIX = "cowlib-swap-"
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


def remove_swap(tmp: str) -> None:
    """swapoff (if active), unlink and rmdir; a failing swapoff leaves the file in place."""
    path = os.path.join(tmp, "swapfile")
    if path in active_swaps():
        syscalls.swapoff(path)
    if os.path.exists(path):
        os.unlink(path)
    os.rmdir(tmp)
    if any(area.startswith(path) for area in active_swaps()):
        raise RuntimeError(f"remove_swap: {path} is still listed in /proc/swaps")


def remove_orphans(directory: str) -> None:
    """Remove the swapfiles of lab runs that were SIGKILLed before their cleanup ran."""
    for name in os.listdir(directory):
        if name.startswith(PREFIX) and not pid_alive(int(name[len(PREFIX) :].split("-")[0])):
            remove_swap(os.path.join(directory, name))


def pid_alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


@contextmanager
def temporary_swap(directory: str, size: int = SWAPFILE_BYTES) -> Iterator[str]:
    """Enable a swapfile in a fresh directory under ``directory`` for the block's duration.

    The directory name carries this process's pid, so a later run can remove
    the swapfile of a run that was killed before its ``finally`` ran.
    """
    remove_orphans(directory)
    tmp = tempfile.mkdtemp(dir=directory, prefix=f"{PREFIX}{os.getpid()}-")
    path = os.path.join(tmp, "swapfile")
    try:
        write_swapfile(path, size)
        try:
            syscalls.swapon(path)
        except OSError as e:
            raise Unavailable(f"swapon refused: {e.strerror}") from e
        yield path
    finally:
        remove_swap(tmp)
