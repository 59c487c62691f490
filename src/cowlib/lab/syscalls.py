"""The system calls the lab needs, through ctypes: no compiler, no extension module.

Each wrapper names the kernel path it drives: vmsplice takes FOLL_GET
references (fs/splice.c), io_uring fixed buffers take FOLL_PIN|FOLL_LONGTERM
pins (io_uring/rsrc.c), an O_DIRECT write takes a short-term read-only
FOLL_PIN (fs/iomap/direct-io.c), MADV_PAGEOUT asks reclaim for one range
(mm/madvise.c, ``madvise_pageout``), MADV_HUGEPAGE on a PMD-aligned range
lets the first write fault in a THP, MAP_HUGETLB takes a page from the
hugetlb pool, and mprotect() of part of a THP splits its PMD mapping.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import signal

from .errors import Unavailable
from .pagemap import PAGE_SIZE

libc = ctypes.CDLL(None, use_errno=True)

SYS_io_uring_setup = 425
SYS_io_uring_register = 427
IORING_REGISTER_BUFFERS = 0
IORING_UNREGISTER_BUFFERS = 1
IO_URING_PARAMS_SIZE = 120

MADV_HUGEPAGE = 14
MADV_NOHUGEPAGE = 15
MADV_PAGEOUT = 21
MAP_HUGETLB = 0x40000
MAP_FAILED = ctypes.c_void_p(-1).value
PR_SET_PDEATHSIG = 1


class iovec(ctypes.Structure):  # noqa: N801 - the kernel's struct name
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def _libc(name: str, restype: type, *argtypes: type) -> ctypes._CFuncPtr:
    """A typed libc function, looked up on use so the module imports off Linux too."""
    fn = getattr(libc, name)
    fn.restype = restype
    if argtypes:
        fn.argtypes = list(argtypes)
    return fn


def _syscall(*args: ctypes._SimpleCData | ctypes.Array | None) -> int:
    return _libc("syscall", ctypes.c_long)(*args)


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), what)
    return ret


class Region:
    """A private anonymous mapping of ``pages`` pages, addressed like C memory.

    MADV_NOHUGEPAGE keeps every page a 4 KiB folio whatever the THP setting,
    so one write is one fault on one page.
    """

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.mem = mmap.mmap(-1, pages * PAGE_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.mem.madvise(MADV_NOHUGEPAGE)
        anchor = ctypes.c_char.from_buffer(self.mem)
        self.addr = ctypes.addressof(anchor)
        del anchor

    def page_addr(self, page: int) -> int:
        return self.addr + page * PAGE_SIZE

    def write(self, page: int, value: str) -> None:
        """Store ``value`` NUL-terminated at the start of ``page``: one write fault."""
        data = value.encode() + b"\0"
        self.mem[page * PAGE_SIZE : page * PAGE_SIZE + len(data)] = data

    def read(self, page: int) -> str:
        """The NUL-terminated value at the start of ``page`` (a read fault if absent)."""
        return decode_value(self.mem[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])

    def pageout(self, page: int) -> None:
        self.mem.madvise(MADV_PAGEOUT, page * PAGE_SIZE, PAGE_SIZE)

    def protect(self, pages: tuple[int, ...] | None, write: bool) -> None:
        mprotect(self.addr, self.pages, pages, write)

    def close(self) -> None:
        self.mem.close()


class LargeRegion:
    """One private anonymous huge page's worth of memory, aligned to its size.

    With ``hugetlb`` it is a MAP_HUGETLB mapping (the default huge page size,
    from the pool that nr_hugepages fills); otherwise an ordinary mapping
    aligned to the PMD size and marked MADV_HUGEPAGE, so that the first write
    faults in a PMD-mapped THP (do_huge_pmd_anonymous_page) when one can be
    allocated. Same interface as :class:`Region`.
    """

    def __init__(self, pages: int, hugetlb: bool) -> None:
        self.pages = pages
        self.size = pages * PAGE_SIZE
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        if hugetlb:
            try:
                self.addr = _mmap(self.size, flags | MAP_HUGETLB)
            except OSError as e:
                raise Unavailable(f"no free huge page: mmap(MAP_HUGETLB): {e.strerror}") from e
        else:
            raw = _mmap(2 * self.size, flags)
            self.addr = -(-raw // self.size) * self.size
            _munmap(raw, self.addr - raw)
            _munmap(self.addr + self.size, raw + self.size - self.addr)
            madvise = _libc("madvise", ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
            _check(madvise(self.addr, self.size, MADV_HUGEPAGE), "madvise(MADV_HUGEPAGE)")
        self.mapped = True

    def page_addr(self, page: int) -> int:
        return self.addr + page * PAGE_SIZE

    def write(self, page: int, value: str) -> None:
        data = value.encode() + b"\0"
        ctypes.memmove(self.page_addr(page), data, len(data))

    def read(self, page: int) -> str:
        return decode_value(ctypes.string_at(self.page_addr(page), PAGE_SIZE))

    def pageout(self, page: int) -> None:
        madvise = _libc("madvise", ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        _check(madvise(self.page_addr(page), PAGE_SIZE, MADV_PAGEOUT), "madvise(MADV_PAGEOUT)")

    def protect(self, pages: tuple[int, ...] | None, write: bool) -> None:
        mprotect(self.addr, self.pages, pages, write)

    def close(self) -> None:
        if self.mapped:
            self.mapped = False
            _munmap(self.addr, self.size)


def _mmap(length: int, flags: int) -> int:
    fn = _libc(
        "mmap",
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    )
    addr = fn(None, length, mmap.PROT_READ | mmap.PROT_WRITE, flags, -1, 0)
    if addr in (None, MAP_FAILED):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), "mmap")
    return addr


def _munmap(addr: int, length: int) -> None:
    if length:
        munmap = _libc("munmap", ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
        _check(munmap(addr, length), "munmap")


def mprotect(addr: int, size: int, pages: tuple[int, ...] | None, write: bool) -> None:
    """mprotect ``pages`` of a ``size``-page mapping at ``addr`` (None: all of it).

    Changing one page of a PMD-mapped THP splits the VMA, and with it the PMD
    mapping (__split_huge_pmd): the THP stays one folio, now mapped by PTEs.
    """
    fn = _libc("mprotect", ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if write else 0)
    spans = [(0, size)] if pages is None else [(page, 1) for page in pages]
    for first, count in spans:
        _check(fn(addr + first * PAGE_SIZE, count * PAGE_SIZE, prot), "mprotect")


def decode_value(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode(errors="replace")


def vmsplice(fd: int, addr: int, length: int) -> int:
    """Splice user memory into a pipe: the pipe keeps FOLL_GET page references."""
    iov = iovec(addr, length)
    vmsplice_fn = _libc(
        "vmsplice", ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint
    )
    return _check(vmsplice_fn(fd, ctypes.byref(iov), 1, 0), "vmsplice")


class FixedBuffers:
    """An io_uring instance whose registered buffers long-term pin user pages.

    Registration (IORING_REGISTER_BUFFERS) pins with FOLL_WRITE|FOLL_LONGTERM;
    :meth:`unregister` unpins at once. Closing the ring alone would unpin
    later, from the asynchronous ``iou_exit`` worker. A refused setup or
    registration (io_uring disabled, RLIMIT_MEMLOCK) raises Unavailable.
    """

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.registered = False
        try:
            self.fd = io_uring_setup(4)
        except OSError as e:
            raise Unavailable(f"io_uring_setup refused: {e.strerror}") from e
        iovs = (iovec * len(spans))(*(iovec(a, n) for a, n in spans))
        try:
            self._register(IORING_REGISTER_BUFFERS, iovs, len(spans))
        except OSError as e:
            os.close(self.fd)
            raise Unavailable(f"io_uring buffer registration refused: {e.strerror}") from e
        self.registered = True

    def _register(self, opcode: int, arg: ctypes.Array | None, nr: int) -> None:
        ret = _syscall(
            ctypes.c_long(SYS_io_uring_register),
            ctypes.c_int(self.fd),
            ctypes.c_uint(opcode),
            arg,
            ctypes.c_uint(nr),
        )
        _check(ret, "io_uring_register")

    def unregister(self) -> None:
        """IORING_UNREGISTER_BUFFERS then close: the pins are dropped before this returns."""
        try:
            if self.registered:
                self.registered = False
                self._register(IORING_UNREGISTER_BUFFERS, None, 0)
        finally:
            os.close(self.fd)


def io_uring_setup(entries: int) -> int:
    """A ring fd; the submission and completion rings are never mmapped."""
    params = ctypes.create_string_buffer(IO_URING_PARAMS_SIZE)
    ret = _syscall(ctypes.c_long(SYS_io_uring_setup), ctypes.c_uint(entries), params)
    return _check(ret, "io_uring_setup")


def direct_write(directory: str, addr: int) -> str:
    """Write one page from ``addr`` with O_DIRECT to a new file; return what the file holds.

    The block layer reads the page through a short-term, read-only FOLL_PIN,
    the pin that must unshare a page other processes still map. The file is
    an O_TMPFILE in ``directory``: it has no name, so nothing is left behind
    even if the process is killed.
    """
    pwrite = _libc(
        "pwrite", ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long
    )
    fd = os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_DIRECT, 0o600)
    try:
        written = _check(pwrite(fd, addr, PAGE_SIZE, 0), "pwrite(O_DIRECT)")
        if written != PAGE_SIZE:
            raise OSError(errno.EIO, f"direct_write: short write of {written} bytes")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT)
        return decode_value(os.pread(fd, PAGE_SIZE, 0))  # a buffered read of the file
    finally:
        os.close(fd)


def swapon(path: str) -> None:
    _check(_libc("swapon", ctypes.c_int)(path.encode(), 0), f"swapon {path}")


def die_with_parent() -> None:
    """PR_SET_PDEATHSIG: the kernel sends SIGKILL to this process when its parent dies."""
    _check(
        _libc("prctl", ctypes.c_int)(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0),
        "prctl(PR_SET_PDEATHSIG)",
    )
