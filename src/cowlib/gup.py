"""mm/gup.c and its users: get_user_pages (FOLL_GET), pin_user_pages (FOLL_PIN), GUP-fast.

The handles a GUP user keeps are Pipe (vmsplice, FOLL_GET via iov_iter_get_pages2),
Ref (a plain FOLL_GET user such as pre-6.3 O_DIRECT) and Pin (FOLL_PIN: io_uring fixed
buffers, RDMA, VFIO). A handle outlives its process; release it explicitly.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import BadArgument, Busy, HandleReleased
from .memory import handle_mm_fault
from .page import GUP_PIN_COUNTING_BIAS, Page, Token

if TYPE_CHECKING:
    from .kernel import Kernel, Process


def gup_must_unshare(k: Kernel, page: Page, pin: bool, write: bool, longterm: bool) -> bool:
    """gup_must_unshare() (a7f226604170, 5.19): a R/O FOLL_PIN needs an exclusive page.

    FOLL_GET never unshares (vmsplice still takes a plain reference). Since 6.2 a R/O
    long-term pin of the shared zero page in a private mapping unshares too.
    """
    if not (k.policy.ro_pin_unshares and pin) or write:
        return False
    return longterm if page.zero else not page.anon_exclusive


def try_grab_page(page: Page, pin: bool) -> None:
    """try_grab_page(): FOLL_GET adds 1, FOLL_PIN adds GUP_PIN_COUNTING_BIAS.

    The zero page is not refcounted in the model.
    """
    if page.zero:
        return
    if pin:
        page.refcount += GUP_PIN_COUNTING_BIAS
        page.pincount += 1
    else:
        page.refcount += 1


def gup_put_page(k: Kernel, page: Page, pin: bool) -> None:
    """put_page() / unpin_user_page(): undo try_grab_page()."""
    if page.zero:
        return
    if pin:
        page.pincount -= 1
        k.put_page(page, GUP_PIN_COUNTING_BIAS)
    else:
        k.put_page(page)


def mm_set_has_pinned_flag(k: Kernel, proc: Process, pin: bool) -> None:
    """MMF_HAS_PINNED (008cfe4418b3): sticky, set by every FOLL_PIN, read by fork."""
    if pin and k.policy.fork_copies_pinned:
        proc.mm.has_pinned = True


def get_user_pages(k: Kernel, proc: Process, addr: int, pin: bool, write: bool,
                   longterm: bool) -> Page:
    """__get_user_pages(): fault until follow_page_pte() may hand out the page, grab it.

    With 17839856fd58 (5.8 only) any FOLL_GET/FOLL_PIN on a COW mapping acts as
    FOLL_WRITE (should_force_cow_break), so GUP itself breaks COW.
    """
    mm_set_has_pinned_flag(k, proc, pin)
    where = f"__get_user_pages({proc.name}, {addr:#x})"
    foll_write = write
    if k.policy.gup_forces_cow and not write:
        foll_write = True
        k.note(f"{where}: should_force_cow_break(): COW mapping -> FOLL_WRITE")
    done: set[str] = set()  # a broken COW is followed once (FOLL_COW), as is an unshare
    while True:
        pte = proc.mm.ptes.get(addr)
        if pte is None or not pte.present:
            k.note(f"{where}: PTE not present -> faultin_page()")
            handle_mm_fault(k, proc, addr, write=foll_write)
            done.add("write" if foll_write else "read")
        elif foll_write and not pte.write and "write" not in done:
            k.note(f"{where}: FOLL_WRITE on a read-only PTE -> faultin_page(FAULT_FLAG_WRITE)")
            handle_mm_fault(k, proc, addr, write=True)
            done.add("write")
        elif gup_must_unshare(k, k.pages[pte.pfn], pin, write, longterm) and "unshare" not in done:
            k.note(f"{where}: gup_must_unshare() -> faultin_page(FAULT_FLAG_UNSHARE)")
            k.stats["unshares"] += 1
            handle_mm_fault(k, proc, addr, write=False, unshare=True)
            done.add("unshare")
        else:
            break
    page = k.pages[pte.pfn]
    try_grab_page(page, pin)
    k.note(f"{where}: {'FOLL_PIN' if pin else 'FOLL_GET'} on pfn {page.pfn}, refcount "
           f"{page.refcount}")
    return page


def gup_fast_pte(k: Kernel, proc: Process, addr: int, pin: bool, write: bool,
                 longterm: bool) -> tuple[Page | None, str]:
    """gup_fast_pte_range() for one PTE: what the lockless walk may take, or why not."""
    pte = proc.mm.ptes.get(addr)
    if pte is None or not pte.present:
        return None, "PTE not present"
    page = k.pages[pte.pfn]
    if page.zero:
        return None, "special PTE (zero page)"
    if (write or k.policy.gup_forces_cow) and not pte.write:
        return None, "read-only PTE and FOLL_WRITE" + (
            " (GUP-fast requires it since 17839856fd58)" if not write else "")
    if not pte.write and gup_must_unshare(k, page, pin, write, longterm):
        return None, "gup_must_unshare()"
    return page, f"PTE to pfn {page.pfn} is usable"


@dataclass(eq=False)
class Handle:
    """A reference some kernel user keeps to a page: a pipe buffer, a ref or a pin."""

    k: Kernel
    kind: str
    name: str
    owner: Process
    addr: int
    writable: bool = False
    longterm: bool = False
    pfn: int | None = None
    released: bool = False
    allowed: set[Token] = field(default_factory=set)  # creator's logical history

    @property
    def pin(self) -> bool:
        return self.kind == "pin"

    def _check(self, verb: str) -> None:
        if self.released:
            raise HandleReleased(f"{self.name} was already released; cannot {verb} it")
        g = self.owner.gup_fast
        if self.pfn is None or (g is not None and g.handle is self):
            raise Busy(f"{self.name} is not usable yet: its GUP-fast has not finished "
                       f"(run gupf_pin / gupf_check / gupf_slow)")

    def read(self) -> str:
        """What the device or pipe reader sees now through this reference."""
        self._check("read")
        return self.k._op(f"{self.name}.read()", f"{self.name}:read", self._read)

    def _read(self) -> str:
        token = self.k.pages[self.pfn].data
        self.k.note(f"{self.name}: reads pfn {self.pfn} -> {token.value!r}")
        self.k.oracle.observe_handle(self, token)
        return token.value

    def release(self) -> None:
        """Drop the reference the way this kind of holder does (close, put, unpin)."""
        verb = RELEASE_VERBS[self.kind]
        self._check(verb)
        self.k._op(f"{self.name}.{verb}()", f"{self.name}:{verb}", self._do_release)

    def _do_release(self) -> None:
        page = self.k.pages[self.pfn]
        self.released = True
        gup_put_page(self.k, page, self.pin)
        self.k.note(f"{self.name}: {'unpin_user_page' if self.pin else 'put_page'}"
                    f"(pfn {page.pfn})")


class Pipe(Handle):
    """A pipe buffer holding a vmsplice()d page (FOLL_GET, read-only)."""

    def close(self) -> None:
        """Close the pipe: its buffer drops the page reference."""
        self.release()


class Ref(Handle):
    """A plain FOLL_GET reference (get_user_pages)."""

    def put(self) -> None:
        """put_page(): drop the reference. A second put raises HandleReleased."""
        self.release()


class Pin(Handle):
    """A FOLL_PIN pin: the device's view of the page (io_uring, RDMA, VFIO)."""

    def write(self, value: str) -> None:
        """DMA from the device into the pinned page (needs a write pin)."""
        self._check("write through")
        self.k._check_value(value)
        if not self.writable:
            raise BadArgument(f"{self.name} is a read-only pin; the device cannot write")
        self.k._op(f"{self.name}.write({value!r})", f"{self.name}:write {shlex.quote(value)}",
                   lambda: self._dma(value))

    def _dma(self, value: str) -> None:
        token = self.k.new_token(value, self.name)
        self.k.pages[self.pfn].data = token
        self.k.oracle.device_write(self, token)
        self.k.note(f"{self.name}: device writes {value!r} into pfn {self.pfn}")

    def unpin(self) -> None:
        """unpin_user_page(). A second unpin raises HandleReleased."""
        self.release()


HANDLE_CLASSES = {"pipe": Pipe, "ref": Ref, "pin": Pin}
RELEASE_VERBS = {"pipe": "close", "ref": "put", "pin": "unpin"}


@dataclass(eq=False)
class GupFast:
    """An in-flight pin_user_pages_fast() of another thread of proc (the rule-3 race).

    Stages: "read" (seqcount sampled, PTE read), "pinned" (page grabbed), "done",
    "fallback" (must take the slow path, which waits for fork's mmap_lock).
    """

    handle: Pin
    seq: int | None
    stage: str
    pte: tuple[int, bool] | None = None


def gupf_begin(k: Kernel, proc: Process, handle: Pin) -> GupFast:
    """lockless_pages_from_mm(): sample write_protect_seq, read the PTE."""
    mm = proc.mm
    mm_set_has_pinned_flag(k, proc, True)
    seq = mm.write_protect_seq if k.policy.write_protect_seq else None
    where = f"gup_fast({proc.name}, {handle.addr:#x})"
    if seq is not None and seq % 2:
        k.note(f"{where}: raw_read_seqcount(write_protect_seq)={seq} is odd (fork running)"
               " -> fall back to slow GUP")
        return GupFast(handle, seq, "fallback")
    page, why = gup_fast_pte(k, proc, handle.addr, True, handle.writable, handle.longterm)
    if page is None:
        k.note(f"{where}: {why} -> fall back to slow GUP")
        return GupFast(handle, seq, "fallback")
    pte = mm.ptes[handle.addr]
    k.note(f"{where}: " + (f"write_protect_seq={seq}, " if seq is not None else "")
           + f"{why} ({'writable' if pte.write else 'read-only'})")
    return GupFast(handle, seq, "read", (pte.pfn, pte.write))


def gupf_pin(k: Kernel, proc: Process, g: GupFast) -> None:
    """try_grab_folio(): take the pin on the page the walk saw."""
    if g.stage != "read":
        k.note(f"gup_fast({proc.name}): nothing to grab ({g.stage})")
        return
    page = k.pages[g.pte[0]]
    try_grab_page(page, True)
    g.handle.pfn = page.pfn
    g.stage = "pinned"
    k.note(f"gup_fast({proc.name}): try_grab_folio(pfn {page.pfn}) -> refcount {page.refcount}")


def gupf_check(k: Kernel, proc: Process, g: GupFast) -> None:
    """Re-check the PTE, and read_seqcount_retry(write_protect_seq) if the era has it."""
    if g.stage != "pinned":
        k.note(f"gup_fast({proc.name}): nothing to re-check ({g.stage})")
        return
    pte = proc.mm.ptes.get(g.handle.addr)
    now = (pte.pfn, pte.write) if pte is not None and pte.present else None
    where = f"gup_fast({proc.name}, {g.handle.addr:#x})"
    if now != g.pte:
        why = "the PTE changed under us"
    elif g.seq is not None and proc.mm.write_protect_seq != g.seq:
        why = (f"read_seqcount_retry(): write_protect_seq {g.seq} -> "
               f"{proc.mm.write_protect_seq}")
    else:
        k.note(f"{where}: PTE unchanged" + (", write_protect_seq unchanged"
                                            if g.seq is not None else "") + " -> pinned")
        g.stage = "done"
        return
    gup_put_page(k, k.pages[g.handle.pfn], True)
    g.handle.pfn = None
    g.stage = "fallback"
    k.note(f"{where}: {why} -> unpin_user_page, fall back to slow GUP")


def gupf_slow(k: Kernel, proc: Process, g: GupFast) -> None:
    """The slow-path fallback: __gup_longterm_locked() under mmap_lock."""
    if g.stage != "fallback":
        k.note(f"gup_fast({proc.name}): no fallback needed ({g.stage})")
        return
    page = get_user_pages(k, proc, g.handle.addr, True, g.handle.writable, g.handle.longterm)
    g.handle.pfn = page.pfn
    g.stage = "done"
