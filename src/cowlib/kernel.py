"""The facade: a Kernel owns the pages, processes, swap, GUP handles, oracle and trace.

Every public operation runs through Kernel._op(): it validates first (a CowError leaves
the state untouched), runs the kernel paths, lets the oracle check the new state, and
appends a Step with a frozen Snapshot.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

from . import gup, memory, vmscan
from .errors import BadAddress, BadArgument, Busy, ProcessExited, SegFault
from .mm import MMAP_BASE, Mm, Vma
from .oracle import CLASSES, Oracle
from .page import PAGE_SIZE, PAGEVEC_SIZE, ZERO_PFN, ZERO_TOKEN, Page, Token
from .policy import Policy, get_policy
from .trace import HolderView, PageView, ProcView, PteView, SlotView, Snapshot, Step, Violation
from .vmscan import SwapDevice

PROC_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")
HANDLE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
STAT_KEYS = CLASSES + ("fork_copies", "unshares", "swapouts", "swapins")


class Kernel:
    """A simulated Linux kernel of one era: Kernel("linux-5.11") or Kernel(policy)."""

    def __init__(self, policy: str | Policy | None = None) -> None:
        self.policy = get_policy(policy)
        self.pages: dict[int, Page] = {ZERO_PFN: Page(ZERO_PFN, ZERO_TOKEN, lru=True)}
        self.procs: dict[str, Process] = {}
        self.swap = SwapDevice()
        self.lru_batch: list[int] = []
        self.handles: dict[str, gup.Handle] = {}
        self.oracle = Oracle(self)
        self.trace: list[Step] = []
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self._next_pfn = 1
        self._seq = 0
        self._notes: list[str] = []
        self._decisions: list[str] = []

    # -- public operations ----------------------------------------------------------
    def spawn(self, name: str) -> Process:
        """A new process with an empty address space."""
        self._check_new_name(name)
        return self._op(f"spawn({name!r})", f"K:spawn {name}", lambda: self._spawn(name))

    def pageout(self, proc: Process, addr: int) -> bool:
        """madvise(MADV_PAGEOUT) of one page of proc; True if it was swapped out."""
        proc._usable()
        proc._mapped(addr)
        return self._op(f"pageout({proc.name}, {addr:#x})",
                        f"K:pageout {proc.name} {proc._index(addr)}",
                        lambda: vmscan.madvise_pageout(self, proc, addr))

    def lru_drain(self) -> None:
        """lru_add_drain(): move this CPU's LRU-add batch to the LRU, dropping its refs."""
        self._op("lru_drain()", "K:drain", self.lru_add_drain)

    @property
    def violations(self) -> list[Violation]:
        """Every violation the oracle found, in step order."""
        return [v for step in self.trace for v in step.violations]

    def process(self, name: str) -> Process:
        """The process called name (CowError listing the processes if there is none)."""
        try:
            return self.procs[name]
        except KeyError:
            raise BadArgument(f"no process {name!r}; processes: {', '.join(self.procs)}") from None

    def handle(self, name: str) -> gup.Handle:
        """The pipe, pin or ref called name (pipe1, pin1, ref1, ...)."""
        try:
            return self.handles[name]
        except KeyError:
            raise BadArgument(f"no pipe, pin or ref {name!r}; handles: "
                              f"{', '.join(self.handles) or 'none'}") from None

    # -- helpers the kernel paths use -----------------------------------------------
    def note(self, line: str) -> None:
        self._notes.append(line)

    def decide(self, proc: Process, addr: int, page: Page, reuse: bool, unshare: bool) -> str:
        """Record one COW decision; returns the oracle's verdict line to note after it."""
        cls, foreign = self.oracle.classify(proc, addr, page.pfn, page.swapcache, reuse)
        self.stats[cls] += 1
        self._decisions.append(cls)
        users = f" (other users: {', '.join(foreign)})" if foreign else ""
        return f"  oracle: {'unshare ' if unshare else ''}{cls}{users}"

    def alloc_page(self, data: Token) -> Page:
        page = Page(self._next_pfn, data)
        self._next_pfn += 1
        self.pages[page.pfn] = page
        return page

    def put_page(self, page: Page, nr: int = 1) -> None:
        """put_page(): drop nr references; the last one frees the page."""
        page.refcount -= nr
        if page.refcount == 0:
            del self.pages[page.pfn]

    def lru_cache_add(self, page: Page) -> None:
        """folio_add_lru(): the per-CPU batch holds a reference until drained."""
        page.refcount += 1
        self.lru_batch.append(page.pfn)
        if len(self.lru_batch) >= PAGEVEC_SIZE:
            self.lru_add_drain(quiet=True)

    def lru_add_drain(self, quiet: bool = False) -> None:
        drained = list(self.lru_batch)
        self.lru_batch.clear()
        for pfn in drained:
            page = self.pages[pfn]
            page.lru = True
            self.put_page(page)
        if not quiet:
            self.note("lru_add_drain(): " + (f"pfns {drained} now on the LRU, batch "
                                              "references dropped" if drained else "batch empty"))

    def new_token(self, value: str, writer: str) -> Token:
        self._seq += 1
        return Token(value, writer, self._seq)

    def live_procs(self) -> list[Process]:
        return [p for p in self.procs.values() if p.alive]

    def live_handles(self) -> list[gup.Handle]:
        return [h for h in self.handles.values() if not h.released]

    def snapshot(self) -> Snapshot:
        """The whole visible state, frozen."""
        procs = tuple(p._view() for p in self.procs.values())
        used = {pte.target for p in procs for pte in p.ptes if pte.kind == "zero"}
        used |= {h.pfn for h in self.live_handles()}
        batch = set(self.lru_batch)
        pages = tuple(
            PageView(pg.pfn, pg.value, pg.refcount, pg.mapcount, pg.pincount,
                     pg.anon_exclusive, pg.swapcache, pg.lru, pg.pfn in batch, pg.zero)
            for pfn, pg in sorted(self.pages.items()) if not pg.zero or pfn in used)
        holders = tuple(HolderView(h.name, h.kind, h.owner.name, h.addr, h.pfn, h.writable,
                                   h.owner.alive) for h in self.live_handles())
        swap = tuple(SlotView(n, s.count, s.data.value, s.cache)
                     for n, s in sorted(self.swap.slots.items()))
        return Snapshot(self.policy.name, procs, pages, holders, swap)

    # -- internals --------------------------------------------------------------------
    def _op(self, op: str, action: str, fn: Callable[[], Any]) -> Any:
        self._notes, self._decisions, self.oracle.found = [], [], []
        result = fn()
        self.oracle.check_pins()
        self.oracle.check_accounting()
        shown = _show(result)
        self.trace.append(Step(
            index=len(self.trace), op=op + (f" -> {shown}" if shown else ""), action=action,
            explain="\n".join(self._notes), snapshot=self.snapshot(),
            violations=tuple(self.oracle.found), decisions=tuple(self._decisions),
            result=result if isinstance(result, str) else None))
        return result

    def _check_new_name(self, name: str) -> None:
        if not isinstance(name, str) or not PROC_NAME.match(name):
            raise BadArgument(f"process name {name!r} must start with a capital letter "
                              "(letters, digits, _)")
        if name in self.procs:
            raise BadArgument(f"there is already a process {name!r}")

    def _check_value(self, value: object) -> None:
        if not isinstance(value, str):
            raise BadArgument(f"a page holds a str value, not {type(value).__name__}")

    def _new_handle(self, kind: str, owner: Process, addr: int, name: str | None,
                    **kw: Any) -> gup.Handle:
        if name is None:
            n = 1 + sum(h.kind == kind for h in self.handles.values())
            name = f"{kind}{n}"
            while name in self.handles:
                n += 1
                name = f"{kind}{n}"
        elif not isinstance(name, str) or not HANDLE_NAME.match(name) or name in self.handles:
            raise BadArgument(f"handle name {name!r} must be new and lower-case")
        return gup.HANDLE_CLASSES[kind](self, kind, name, owner, addr, **kw)

    def _spawn(self, name: str) -> Process:
        proc = Process(self, name, len(self.procs) + 1)
        self.procs[name] = proc
        self.oracle.spawn(proc)
        self.note(f"{name} (pid {proc.pid}) created with an empty mm")
        return proc


class Process:
    """A process (one mm); its methods are the system calls and memory accesses."""

    def __init__(self, k: Kernel, name: str, pid: int) -> None:
        self.k, self.name, self.pid = k, name, pid
        self.mm = Mm()
        self.alive = True
        self.fork_child: Process | None = None  # set while this process is in fork()
        self.fork_pending: dict[int, str] = {}  # addr -> "check" | "share"
        self.forked_by: Process | None = None  # set while this child is being built
        self.gup_fast: gup.GupFast | None = None

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid}{'' if self.alive else ' exited'}>"

    # -- memory accesses ------------------------------------------------------------
    def mmap(self, pages: int = 1) -> int:
        """mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE); returns the address."""
        self._usable()
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise BadArgument(f"mmap needs pages >= 1, got {pages!r}")
        return self.k._op(f"{self.name}.mmap(pages={pages})", f"{self.name}:mmap {pages}",
                          lambda: self._mmap(pages))

    def write(self, addr: int, value: str) -> None:
        """Store value into the page at addr, faulting as the kernel would."""
        self._usable()
        self.k._check_value(value)
        vma = self._vma_or_segv(addr, "write")
        if not vma.write:
            raise SegFault(f"{self.name}: write to read-only mapping at {addr:#x} (SIGSEGV)")
        self.k._op(f"{self.name}.write({addr:#x}, {value!r})",
                   f"{self.name}:write {self._index(addr)} {shlex.quote(value)}",
                   lambda: self._write(addr, value))

    def read(self, addr: int) -> str:
        """Load the value at addr, faulting as the kernel would."""
        self._usable()
        self._vma_or_segv(addr, "read")
        return self.k._op(f"{self.name}.read({addr:#x})", f"{self.name}:read {self._index(addr)}",
                          lambda: self._read(addr))

    # -- system calls ---------------------------------------------------------------
    def fork(self, name: str) -> Process:
        """fork(): dup_mmap() copies every PTE under write_protect_seq."""
        self._usable()
        self.k._check_new_name(name)

        def run() -> Process:
            child = self._fork_begin(name)
            self._fork_end()
            return child
        return self.k._op(f"{self.name}.fork({name!r})", f"{self.name}:fork {name}", run)

    def exit(self) -> None:
        """exit(): unmap everything. Pins, pipes and refs stay until released."""
        self._usable()
        self.k._op(f"{self.name}.exit()", f"{self.name}:exit", self._exit)

    def munmap(self, addr: int, pages: int = 1) -> None:
        """munmap(): zap the PTEs and drop the VMA range."""
        addrs = self._range(addr, pages)
        self.k._op(f"{self.name}.munmap({addr:#x}, pages={pages})",
                   f"{self.name}:munmap {self._index(addr)} {pages}",
                   lambda: self._munmap(addrs))

    def mprotect(self, addr: int, pages: int = 1, write: bool = False) -> None:
        """mprotect(): PROT_READ (write=False) or PROT_READ|PROT_WRITE."""
        addrs = self._range(addr, pages)
        self.k._op(f"{self.name}.mprotect({addr:#x}, pages={pages}, write={write})",
                   f"{self.name}:mprotect {self._index(addr)} {pages} {'rw' if write else 'r'}",
                   lambda: self._mprotect(addrs, bool(write)))

    def vmsplice(self, addr: int, name: str | None = None) -> gup.Pipe:
        """vmsplice() the page into a pipe: GUP-fast FOLL_GET, read-only."""
        self._usable()
        self._mapped(addr)
        handle = self.k._new_handle("pipe", self, addr, name)
        return self.k._op(f"{self.name}.vmsplice({addr:#x})",
                          f"{self.name}:vmsplice {self._index(addr)} {handle.name}",
                          lambda: self._gup(handle, pin=False, write=False, fast=True))

    def get(self, addr: int, name: str | None = None) -> gup.Ref:
        """get_user_pages(FOLL_GET), read-only."""
        self._usable()
        self._mapped(addr)
        handle = self.k._new_handle("ref", self, addr, name)
        return self.k._op(f"{self.name}.get({addr:#x})",
                          f"{self.name}:get {self._index(addr)} {handle.name}",
                          lambda: self._gup(handle, pin=False, write=False, fast=False))

    def pin(self, addr: int, write: bool = True, longterm: bool = True, fast: bool = False,
            name: str | None = None) -> gup.Pin:
        """``pin_user_pages(FOLL_PIN [|FOLL_WRITE] [|FOLL_LONGTERM])``, or the _fast variant."""
        self._usable()
        vma = self._mapped(addr)
        if write and not vma.write:
            raise BadAddress(f"{self.name}: FOLL_WRITE pin of read-only mapping {addr:#x} "
                             "(EFAULT)")
        handle = self.k._new_handle("pin", self, addr, name, writable=bool(write),
                                    longterm=bool(longterm))
        flags = ["rw" if write else "ro", "long" if longterm else "short"]
        return self.k._op(
            f"{self.name}.pin({addr:#x}, write={write}, longterm={longterm}, fast={fast})",
            f"{self.name}:pin {self._index(addr)} {' '.join(flags)}"
            + (" fast" if fast else "") + f" {handle.name}",
            lambda: self._gup(handle, pin=True, write=bool(write), fast=fast))

    # -- the fork / GUP-fast race, one step at a time --------------------------------
    def fork_begin(self, name: str) -> Process:
        """fork() up to the PTE copy: mmap_lock taken, write_protect_seq made odd."""
        self._usable()
        self.k._check_new_name(name)
        return self.k._op(f"{self.name}.fork_begin({name!r})", f"{self.name}:fork_begin {name}",
                          lambda: self._fork_begin(name))

    def fork_check(self, addr: int) -> None:
        """copy_present_pte() for addr up to its decision (copy now, or share)."""
        self._forking(addr, "check")
        self.k._op(f"{self.name}.fork_check({addr:#x})",
                   f"{self.name}:fork_check {self._index(addr)}", lambda: self._fork_check(addr))

    def fork_share(self, addr: int) -> None:
        """The rest of copy_present_pte(): write-protect and map in the child."""
        self._forking(addr, "share")
        self.k._op(f"{self.name}.fork_share({addr:#x})",
                   f"{self.name}:fork_share {self._index(addr)}", lambda: self._fork_share(addr))

    def fork_end(self) -> None:
        """Copy the remaining PTEs, end write_protect_seq, drop mmap_lock."""
        self._forking(None, None)
        self.k._op(f"{self.name}.fork_end()", f"{self.name}:fork_end", self._fork_end)

    def gupf(self, addr: int, write: bool = True, longterm: bool = True,
             name: str | None = None) -> gup.Pin:
        """Another thread starts pin_user_pages_fast(): sample the seqcount, read the PTE."""
        self._alive()
        if self.gup_fast is not None:
            raise Busy(f"{self.name} already has a GUP-fast in flight "
                       f"({self.gup_fast.handle.name})")
        vma = self._mapped(addr)
        if write and not vma.write:
            raise BadAddress(f"{self.name}: FOLL_WRITE pin of read-only mapping {addr:#x}")
        handle = self.k._new_handle("pin", self, addr, name, writable=bool(write),
                                    longterm=bool(longterm))

        def run() -> gup.Pin:
            self.k.handles[handle.name] = handle
            handle.allowed = self.k.oracle.allowed(self, addr)
            self.gup_fast = gup.gupf_begin(self.k, self, handle)
            return handle
        return self.k._op(f"{self.name}.gupf({addr:#x}, write={write})",
                          f"{self.name}:gupf {self._index(addr)} {'rw' if write else 'ro'} "
                          f"{handle.name}", run)

    def gupf_pin(self) -> None:
        """GUP-fast grabs the page it read (try_grab_folio)."""
        g = self._gupf()
        self.k._op(f"{self.name}.gupf_pin()", f"{self.name}:gupf_pin",
                   lambda: gup.gupf_pin(self.k, self, g))

    def gupf_check(self) -> None:
        """GUP-fast re-checks the PTE and the seqcount; backs off if either moved."""
        g = self._gupf()
        self.k._op(f"{self.name}.gupf_check()", f"{self.name}:gupf_check",
                   lambda: gup.gupf_check(self.k, self, g))

    def gupf_slow(self) -> None:
        """GUP-fast's fallback to slow GUP, which needs mmap_lock (waits for fork)."""
        g = self._gupf()
        if g.stage in ("read", "pinned"):
            raise Busy(f"GUP-fast of {g.handle.name} must "
                       f"{'pin' if g.stage == 'read' else 're-check'} first "
                       f"({'gupf_pin' if g.stage == 'read' else 'gupf_check'})")
        if g.stage == "fallback" and self.fork_child is not None:
            raise Busy(f"slow GUP needs {self.name}'s mmap_lock, held by fork()")

        def run() -> None:
            gup.gupf_slow(self.k, self, g)
            self.gup_fast = None
        self.k._op(f"{self.name}.gupf_slow()", f"{self.name}:gupf_slow", run)

    # -- observables (no trace step) -------------------------------------------------
    def pfn(self, addr: int) -> int | None:
        """PFN of the present page at addr (as /proc/PID/pagemap shows), else None."""
        pte = self.mm.ptes.get(addr)
        return pte.pfn if pte is not None and pte.present else None

    def swapped(self, addr: int) -> bool:
        """True if addr holds a swap entry (pagemap bit 62)."""
        pte = self.mm.ptes.get(addr)
        return pte is not None and not pte.present

    def anon_exclusive(self, addr: int) -> bool:
        """PG_anon_exclusive of the mapped page (kpageflags bit 34 on 6.18)."""
        pfn = self.pfn(addr)
        return pfn is not None and self.k.pages[pfn].anon_exclusive

    # -- checks ---------------------------------------------------------------------
    def _alive(self) -> None:
        if not self.alive:
            raise ProcessExited(f"{self.name} has exited")
        if self.forked_by is not None:
            raise Busy(f"{self.name} is still being created by {self.forked_by.name}'s fork()")

    def _usable(self) -> None:
        self._alive()
        if self.fork_child is not None:
            raise Busy(f"{self.name} is in fork(): mmap_lock is held; only fork and GUP-fast "
                       "steps can run")

    def _aligned(self, addr: object) -> int:
        if not isinstance(addr, int) or isinstance(addr, bool) or addr % PAGE_SIZE:
            raise BadAddress(f"address {addr!r} is not a page-aligned int")
        return addr

    def _mapped(self, addr: int) -> Vma:
        vma = self.mm.find_vma(self._aligned(addr))
        if vma is None:
            raise BadAddress(f"{self.name}: {addr:#x} is not mapped; mapped: {self._maps()}")
        return vma

    def _vma_or_segv(self, addr: int, what: str) -> Vma:
        vma = self.mm.find_vma(self._aligned(addr))
        if vma is None:
            raise SegFault(f"{self.name}: {what} of unmapped address {addr:#x} (SIGSEGV); "
                           f"mapped: {self._maps()}")
        return vma

    def _range(self, addr: int, pages: int) -> list[int]:
        self._usable()
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise BadArgument(f"pages must be >= 1, got {pages!r}")
        addrs = [self._aligned(addr) + i * PAGE_SIZE for i in range(pages)]
        for a in addrs:
            self._mapped(a)
        return addrs

    def _maps(self) -> str:
        return ", ".join(f"{v.start:#x}-{v.end:#x}" for v in self.mm.vmas) or "nothing"

    def _index(self, addr: int) -> str:
        return str((addr - MMAP_BASE) // PAGE_SIZE)

    def _forking(self, addr: int | None, step: str | None) -> None:
        self._alive()
        if self.fork_child is None:
            raise Busy(f"{self.name} is not in fork(); call fork_begin first")
        if addr is not None:
            self._mapped(addr)
            want = self.fork_pending.get(addr)
            if want != step:
                raise Busy(f"fork_{step}({addr:#x}) out of order: "
                           + (f"next is fork_{want}" if want else "already copied"))

    def _gupf(self) -> gup.GupFast:
        self._alive()
        if self.gup_fast is None:
            raise Busy(f"{self.name} has no GUP-fast in flight; start one with gupf")
        return self.gup_fast

    # -- implementations ------------------------------------------------------------
    def _mmap(self, pages: int) -> int:
        addr = self.mm.next_addr
        self.mm.next_addr += pages * PAGE_SIZE
        self.mm.vmas.append(Vma(addr, self.mm.next_addr, True))
        self.k.oracle.mmap(self, [addr + i * PAGE_SIZE for i in range(pages)])
        self.k.note(f"{self.name}: new private anonymous VMA {addr:#x}-{self.mm.next_addr:#x} "
                    "rw-p, no PTEs yet")
        return addr

    def _write(self, addr: int, value: str) -> None:
        memory.handle_mm_fault(self.k, self, addr, write=True)
        pte = self.mm.ptes[addr]
        token = self.k.new_token(value, self.name)
        self.k.pages[pte.pfn].data = token
        self.k.oracle.write(self, addr, token)
        self.k.note(f"{self.name} stores {value!r} into pfn {pte.pfn}")

    def _read(self, addr: int) -> str:
        memory.handle_mm_fault(self.k, self, addr, write=False)
        pte = self.mm.ptes[addr]
        token = self.k.pages[pte.pfn].data
        self.k.oracle.observe(self, addr, token)
        self.k.note(f"{self.name} loads {token.value!r} from pfn {pte.pfn}")
        return token.value

    def _fork_begin(self, name: str) -> Process:
        child = self.k._spawn(name)
        child.mm.vmas = [Vma(v.start, v.end, v.write) for v in self.mm.vmas]
        child.mm.next_addr = self.mm.next_addr
        child.forked_by = self
        self.fork_child = child
        self.fork_pending = dict.fromkeys(sorted(self.mm.ptes), "check")
        self.k.oracle.fork(self, child)
        if self.k.policy.write_protect_seq:
            self.mm.write_protect_seq += 1
            self.k.note(f"dup_mmap({self.name}->{name}): mmap_write_lock, "
                        f"write_seqcount_begin(write_protect_seq) -> {self.mm.write_protect_seq}")
        else:
            self.k.note(f"dup_mmap({self.name}->{name}): mmap_write_lock (no write_protect_seq)")
        return child

    def _fork_check(self, addr: int) -> None:
        done = memory.copy_present_pte_check(self.k, self, self.fork_child, addr)
        if done:
            del self.fork_pending[addr]
        else:
            self.fork_pending[addr] = "share"

    def _fork_share(self, addr: int) -> None:
        memory.fork_share(self.k, self, self.fork_child, addr)
        del self.fork_pending[addr]

    def _fork_end(self) -> None:
        for addr, step in list(self.fork_pending.items()):
            if step == "check":
                self._fork_check(addr)
            if addr in self.fork_pending:
                self._fork_share(addr)
        child, self.fork_child = self.fork_child, None
        child.forked_by = None
        if self.k.policy.write_protect_seq:
            self.mm.write_protect_seq += 1
            self.k.note(f"dup_mmap({self.name}->{child.name}): write_seqcount_end -> "
                        f"{self.mm.write_protect_seq}, mmap_write_unlock")

    def _exit(self) -> None:
        for addr in sorted(self.mm.ptes):
            memory.zap_pte(self.k, self, addr)
        self.mm.vmas.clear()
        self.alive = False
        self.k.oracle.exit(self)
        self.k.note(f"{self.name}: exit_mmap() unmapped everything")

    def _munmap(self, addrs: list[int]) -> None:
        for addr in addrs:
            pte = self.mm.ptes.get(addr)
            what = ("nothing mapped" if pte is None else
                    f"swap entry slot {pte.swap}" if not pte.present else f"pfn {pte.pfn}")
            memory.zap_pte(self.k, self, addr)
            self.k.note(f"zap_pte_range({self.name}, {addr:#x}): {what} unmapped")
        gone = {id(v) for v in self.mm.split_vmas(addrs[0], addrs[-1] + PAGE_SIZE)}
        self.mm.vmas[:] = [v for v in self.mm.vmas if id(v) not in gone]
        self.k.oracle.munmap(self, addrs)

    def _mprotect(self, addrs: list[int], write: bool) -> None:
        for vma in self.mm.split_vmas(addrs[0], addrs[-1] + PAGE_SIZE):
            vma.write = write
        for addr in addrs:
            pte = self.mm.ptes.get(addr)
            if pte is None or not pte.present:
                continue
            page = self.k.pages[pte.pfn]
            if not write:
                pte.write = False
            elif (self.k.policy.mprotect_upgrade and not page.zero and page.anon_exclusive
                  and not pte.write):
                pte.write = True
                self.k.note(f"change_pte_range({self.name}, {addr:#x}): "
                            "can_change_pte_writable(): PageAnonExclusive -> writable now")
        self.k.note(f"mprotect({self.name}): {'rw-p' if write else 'r--p'}"
                    + ("" if write else ", PTEs write-protected"))

    def _gup(self, handle: gup.Handle, pin: bool, write: bool, fast: bool) -> gup.Handle:
        self.k.handles[handle.name] = handle
        handle.allowed = self.k.oracle.allowed(self, handle.addr)
        if fast:
            self.gup_fast = g = gup.gupf_begin(self.k, self, handle) if pin else None
            if pin:
                gup.gupf_pin(self.k, self, g)
                gup.gupf_check(self.k, self, g)
                gup.gupf_slow(self.k, self, g)
                self.gup_fast = None
                return handle
            page, why = gup.gup_fast_pte(self.k, self, handle.addr, pin, write, handle.longterm)
            if page is not None:
                gup.try_grab_page(page, pin)
                handle.pfn = page.pfn
                self.k.note(f"get_user_pages_fast({self.name}, {handle.addr:#x}): {why} -> "
                            f"FOLL_GET, refcount {page.refcount}")
                return handle
            self.k.note(f"get_user_pages_fast({self.name}, {handle.addr:#x}): {why} -> "
                        "slow GUP")
        page = gup.get_user_pages(self.k, self, handle.addr, pin, write, handle.longterm)
        handle.pfn = page.pfn
        return handle

    def _view(self) -> ProcView:
        ptes = []
        for addr, pte in sorted(self.mm.ptes.items()):
            if not pte.present:
                ptes.append(PteView(addr, "swap", pte.swap, False, pte.swp_exclusive))
            else:
                kind = "zero" if pte.pfn == ZERO_PFN else "present"
                ptes.append(PteView(addr, kind, pte.pfn, pte.write))
        return ProcView(self.name, self.pid, self.alive, self.fork_child is not None,
                        self.mm.has_pinned, self.mm.write_protect_seq,
                        tuple((v.start, v.end, v.write) for v in self.mm.vmas), tuple(ptes))


def _show(result: object) -> str:
    if isinstance(result, str):
        return repr(result)
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, int):
        return f"{result:#x}"
    if isinstance(result, (Process, gup.Handle)):
        return result.name
    return ""
