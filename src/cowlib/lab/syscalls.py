"""The system calls the lab needs, through ctypes: no compiler, no extension module.

Each wrapper names the kernel path it drives: vmsplice takes FOLL_GET
references (fs/splice.c), io_uring fixed buffers take FOLL_PIN|FOLL_LONGTERM
pins (io_uring/rsrc.c), an O_DIRECT write takes a short-term read-only
FOLL_PIN (fs/iomap/direct-io.c), MADV_PAGEOUT asks reclaim for one range
(mm/madvise.c, ``madvise_pageout``).
"""

from __future__ import annotations

import ctypes
import errno
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

MADV_NOHUGEPAGE = 15
MADV_PAGEOUT = 21
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

    def close(self) -> None:
        self.mem.close()


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


def direct_write(path: str, addr: int) -> str:
    """Write one page from ``addr`` to ``path`` with O_DIRECT; return what the file holds.

    The block layer reads the page through a short-term, read-only FOLL_PIN,
    the pin that must unshare a page other processes still map.
    """
    pwrite = _libc(
        "pwrite", ctypes.c_ssize_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long
    )
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o600)
    try:
        written = _check(pwrite(fd, addr, PAGE_SIZE, 0), "pwrite(O_DIRECT)")
        if written != PAGE_SIZE:
            raise OSError(errno.EIO, f"direct_write: short write of {written} bytes")
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        return decode_value(f.read(PAGE_SIZE))


def swapon(path: str) -> None:
    _check(_libc("swapon", ctypes.c_int)(path.encode(), 0), f"swapon {path}")


def swapoff(path: str) -> None:
    _check(_libc("swapoff", ctypes.c_int)(path.encode()), f"swapoff {path}")


def die_with_parent() -> None:
    """PR_SET_PDEATHSIG: the kernel sends SIGKILL to this process when its parent dies."""
    _check(
        _libc("prctl", ctypes.c_int)(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0),
        "prctl(PR_SET_PDEATHSIG)",
    )
