"""mm/gup.c: get_user_pages (FOLL_GET), pin_user_pages (FOLL_PIN) and GUP-fast.

A GUP user keeps what it took as a Holder (machine.py): a pipe buffer (vmsplice,
FOLL_GET via iov_iter_get_pages2), a ref (a plain FOLL_GET user such as pre-6.3
O_DIRECT) or a pin (FOLL_PIN: io_uring fixed buffers, RDMA, VFIO). A holder outlives
its mm; it is released explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .machine import Holder, Machine
from .memory import handle_mm_fault
from .mm_types import GUP_PIN_COUNTING_BIAS, Mm, Page, Token


def gup_must_unshare(m: Machine, page: Page, pin: bool, write: bool, longterm: bool) -> bool:
    """gup_must_unshare() (a7f226604170, 5.19): a R/O FOLL_PIN needs an exclusive page.

    FOLL_GET never unshares (vmsplice still takes a plain reference). Since 6.2 a R/O
    long-term pin of the shared zero page, or of a page cache page, in a private mapping
    unshares too.
    """
    if not (m.policy.ro_pin_unshares and pin) or write:
        return False
    return longterm if not page.anon else not page.anon_exclusive


def try_grab_page(page: Page, pin: bool) -> None:
    """try_grab_page(): FOLL_GET adds 1, FOLL_PIN adds GUP_PIN_COUNTING_BIAS.

    On a large folio FOLL_PIN adds 1 to the refcount and 1 to the folio's own pincount
    (47e29d32afba, try_grab_folio()). The zero pages are not refcounted in the model.
    """
    if page.zero:
        return
    if pin and page.folio is not None:
        page.refcount += 1
        page.pincount += 1
    elif pin:
        page.refcount += GUP_PIN_COUNTING_BIAS
        page.pincount += 1
    else:
        page.refcount += 1


def gup_put_page(m: Machine, page: Page, pin: bool) -> None:
    """put_page() / unpin_user_page(): undo try_grab_page()."""
    if page.zero:
        return
    if pin:
        page.pincount -= 1
        m.put_page(page, 1 if page.folio is not None else GUP_PIN_COUNTING_BIAS)
    else:
        m.put_page(page)


def mm_set_has_pinned_flag(m: Machine, mm: Mm, pin: bool) -> None:
    """MMF_HAS_PINNED (008cfe4418b3): sticky, set by every FOLL_PIN, read by fork."""
    if pin and m.policy.fork_copies_pinned:
        mm.has_pinned = True


def get_user_pages(m: Machine, mm: Mm, addr: int, pin: bool, write: bool, longterm: bool) -> Page:
    """__get_user_pages(): fault until follow_page_pte() may hand out the page, grab it.

    With 17839856fd58 (5.8 only) any FOLL_GET/FOLL_PIN on a COW mapping acts as
    FOLL_WRITE (should_force_cow_break), so GUP itself breaks COW.
    """
    mm_set_has_pinned_flag(m, mm, pin)
    where = f"__get_user_pages({mm.owner}, {addr:#x})"
    foll_write = write
    if m.policy.gup_forces_cow and not write:
        foll_write = True
        m.note(f"{where}: should_force_cow_break(): COW mapping -> FOLL_WRITE")
    done: set[str] = set()  # a broken COW is followed once (FOLL_COW), as is an unshare
    while True:
        pte = mm.entry(addr)
        if pte is None or not pte.present:
            m.note(f"{where}: PTE not present -> faultin_page()")
            handle_mm_fault(m, mm, addr, write=foll_write)
            done.add("write" if foll_write else "read")
        elif foll_write and not pte.write and "write" not in done:
            m.note(f"{where}: FOLL_WRITE on a read-only PTE -> faultin_page(FAULT_FLAG_WRITE)")
            handle_mm_fault(m, mm, addr, write=True)
            done.add("write")
        elif gup_must_unshare(m, m.pages[pte.pfn], pin, write, longterm) and (
            "unshare" not in done
        ):
            m.note(f"{where}: gup_must_unshare() -> faultin_page(FAULT_FLAG_UNSHARE)")
            m.stats["unshares"] += 1
            handle_mm_fault(m, mm, addr, write=False, unshare=True)
            done.add("unshare")
        else:
            break
    page = m.pages[pte.pfn]
    try_grab_page(page, pin)
    m.note(
        f"{where}: {'FOLL_PIN' if pin else 'FOLL_GET'} on pfn {page.pfn}, refcount {page.refcount}"
    )
    return page


def gup_fast_pte(
    m: Machine, mm: Mm, addr: int, pin: bool, write: bool, longterm: bool
) -> tuple[Page | None, str]:
    """gup_fast_pte_range() for one PTE (gup_fast_pmd_leaf() for a PMD): what the
    lockless walk may take, or why not."""
    pte = mm.entry(addr)
    if pte is None or not pte.present:
        return None, "PTE not present"
    page = m.pages[pte.pfn]
    if page.zero:
        return None, "special PTE (zero page)"
    if (write or m.policy.gup_forces_cow) and not pte.write:
        return None, "read-only PTE and FOLL_WRITE" + (
            " (GUP-fast requires it since 17839856fd58)" if not write else ""
        )
    if not pte.write and gup_must_unshare(m, page, pin, write, longterm):
        return None, "gup_must_unshare()"
    return page, f"PTE to pfn {page.pfn} is usable"


def take(m: Machine, mm: Mm, h: Holder, fast: bool) -> Holder:
    """GUP on behalf of h's user: the fast path first if asked, else (or then) slow GUP."""
    if fast and h.pin:
        g = gupf_begin(m, mm, h)
        gupf_pin(m, mm, g)
        gupf_check(m, mm, g)
        gupf_slow(m, mm, g)
        return h
    if fast:
        page, why = gup_fast_pte(m, mm, h.addr, h.pin, h.writable, h.longterm)
        if page is not None:
            try_grab_page(page, h.pin)
            h.pfn = page.pfn
            m.note(
                f"get_user_pages_fast({mm.owner}, {h.addr:#x}): {why} -> "
                f"FOLL_GET, refcount {page.refcount}"
            )
            return h
        m.note(f"get_user_pages_fast({mm.owner}, {h.addr:#x}): {why} -> slow GUP")
    page = get_user_pages(m, mm, h.addr, h.pin, h.writable, h.longterm)
    h.pfn = page.pfn
    return h


def release(m: Machine, h: Holder) -> None:
    """Drop h's reference the way its kind of user does (close a pipe, put, unpin)."""
    page = m.pages[h.pfn]
    h.released = True
    gup_put_page(m, page, h.pin)
    m.note(f"{h.name}: {'unpin_user_page' if h.pin else 'put_page'}(pfn {page.pfn})")


def read_through(m: Machine, h: Holder) -> Token:
    """What the device or the pipe's reader sees now through h."""
    token = m.pages[h.pfn].data
    m.note(f"{h.name}: reads pfn {h.pfn} -> {token.value!r}")
    return token


def dma_write(m: Machine, h: Holder, value: str) -> Token:
    """The device writes value into the pinned page (a write pin)."""
    token = m.new_token(value, h.name)
    m.pages[h.pfn].data = token
    m.note(f"{h.name}: device writes {value!r} into pfn {h.pfn}")
    return token


@dataclass(eq=False)
class GupFast:
    """An in-flight pin_user_pages_fast() of another thread of mm (the rule-3 race).

    Stages: "read" (seqcount sampled, PTE read), "pinned" (page grabbed), "done",
    "fallback" (must take the slow path, which waits for fork's mmap_lock).
    """

    holder: Holder
    seq: int | None
    stage: str
    pte: tuple[int, bool] | None = None


def gupf_begin(m: Machine, mm: Mm, h: Holder) -> GupFast:
    """lockless_pages_from_mm(): sample write_protect_seq, read the PTE."""
    h.in_flight = True
    mm_set_has_pinned_flag(m, mm, True)
    seq = mm.write_protect_seq if m.policy.write_protect_seq else None
    where = m.call("gup_fast", f"{mm.owner}, {h.addr:#x}")
    if seq is not None and seq % 2:
        m.note(f"{where}: write_protect_seq={seq} is odd (fork running) -> fall back to slow GUP")
        return GupFast(h, seq, "fallback")
    page, why = gup_fast_pte(m, mm, h.addr, True, h.writable, h.longterm)
    if page is None:
        m.note(f"{where}: {why} -> fall back to slow GUP")
        return GupFast(h, seq, "fallback")
    pte = mm.entry(h.addr)
    m.note(
        f"{where}: "
        + (f"write_protect_seq={seq}, " if seq is not None else "")
        + f"{why} ({'writable' if pte.write else 'read-only'})"
    )
    return GupFast(h, seq, "read", (pte.pfn, pte.write))


def gupf_pin(m: Machine, mm: Mm, g: GupFast) -> None:
    """try_grab_folio(): take the pin on the page the walk saw."""
    if g.stage != "read":
        m.note(f"{m.call('gup_fast', mm.owner)}: nothing to grab ({g.stage})")
        return
    page = m.pages[g.pte[0]]
    try_grab_page(page, True)
    g.holder.pfn = page.pfn
    g.stage = "pinned"
    grab = m.call("try_grab_folio", f"pfn {page.pfn}")
    m.note(f"{m.call('gup_fast', mm.owner)}: {grab} -> refcount {page.refcount}")


def gupf_check(m: Machine, mm: Mm, g: GupFast) -> None:
    """Re-check the PTE, and read_seqcount_retry(write_protect_seq) if the era has it."""
    if g.stage != "pinned":
        m.note(f"{m.call('gup_fast', mm.owner)}: nothing to re-check ({g.stage})")
        return
    pte = mm.entry(g.holder.addr)
    now = (pte.pfn, pte.write) if pte is not None and pte.present else None
    where = m.call("gup_fast", f"{mm.owner}, {g.holder.addr:#x}")
    if now != g.pte:
        why = "the PTE changed under us"
    elif g.seq is not None and mm.write_protect_seq != g.seq:
        why = f"read_seqcount_retry(): write_protect_seq {g.seq} -> {mm.write_protect_seq}"
    else:
        m.note(
            f"{where}: PTE unchanged"
            + (", write_protect_seq unchanged" if g.seq is not None else "")
            + " -> pinned"
        )
        g.stage = "done"
        return
    gup_put_page(m, m.pages[g.holder.pfn], True)
    g.holder.pfn = None
    g.stage = "fallback"
    m.note(f"{where}: {why} -> {m.fn('gup_fast_unpin_user_pages')}, fall back to slow GUP")


def gupf_slow(m: Machine, mm: Mm, g: GupFast) -> None:
    """The slow-path fallback: __gup_longterm_locked() under mmap_lock; GUP-fast returns."""
    if g.stage != "fallback":
        m.note(f"{m.call('gup_fast', mm.owner)}: no fallback needed ({g.stage})")
    else:
        h = g.holder
        page = get_user_pages(m, mm, h.addr, True, h.writable, h.longterm)
        h.pfn = page.pfn
        g.stage = "done"
    g.holder.in_flight = False
