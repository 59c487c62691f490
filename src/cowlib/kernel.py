"""The facade: a Kernel of one era, its processes (the system-call API) and GUP handles.

Every public operation runs through Kernel._op(): it validates first (a CowError leaves
the state untouched), runs the kernel paths on the machine, lets the oracle check the
new state, and, when recording, appends a Step with a frozen Snapshot. Below this
module nothing knows about Kernel or Process: the kernel paths are functions over
(machine, mm).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fork as fork_c
from . import gup, khugepaged, madvise, memory, mmap, mprotect, mremap
from .errors import BadAddress, BadArgument, Busy, HandleReleased, ProcessExited, SegFault
from .grammar import HANDLE_NAME, PROC_NAME, format_action, index_of
from .machine import Holder, Machine, check_order
from .mm_types import HPAGE_PMD_ORDER, PAGE_SIZE, ZERO_PFN, Mm, Vma
from .oracle import Oracle
from .policy import Policy, get_policy
from .swap import lru_add_drain
from .trace import HolderView, PageView, ProcView, PteView, SlotView, Snapshot, Step, Violation


class Kernel:
    """A simulated Linux kernel of one era: Kernel("linux-5.11") or Kernel(policy).

    With record=False (the explorer's mode) it keeps no trace and no explanations;
    violations are still found and kept in k.violations. With snapshots=False the trace
    keeps every step's explanation but no snapshot (Step.snapshot is None: nothing to
    draw), for batch runs such as cowlib selftest.
    """

    def __init__(
        self,
        policy: str | Policy | None = None,
        record: bool = True,
        pmd_order: int = HPAGE_PMD_ORDER,
        snapshots: bool = True,
    ) -> None:
        self.policy = get_policy(policy)
        self.record = record
        self.snapshots = snapshots
        if check_order(pmd_order) < 2:
            raise BadArgument(f"pmd_order must be >= 2, not {pmd_order}")
        self.machine = Machine(self.policy, explain=record, pmd_order=pmd_order)
        self.oracle = Oracle(self.machine)
        self.procs: dict[str, Process] = {}
        self.handles: dict[str, Handle] = {}
        self.trace: list[Step] = []
        self.violations: list[Violation] = []
        """Every violation the oracle found, in step order."""
        self.steps = 0

    @property
    def stats(self) -> dict[str, int]:
        """COW decisions counted by class, and fork_copies, unshares, swapouts, swapins."""
        return self.machine.stats

    # -- public operations ----------------------------------------------------------
    def spawn(self, name: str) -> Process:
        """A new process with an empty address space."""
        self._check_new_name(name)
        return self._op(
            f"spawn({name!r})", format_action("K", "spawn", name), lambda: self._spawn(name)
        )

    def pageout(self, proc: Process, addr: int, pages: int = 1) -> bool:
        """madvise(MADV_PAGEOUT) of pages of proc; True if all were swapped out. A large
        folio wholly in the range is swapped out as one."""
        if pages == 1:
            proc._usable()
            proc._mapped(addr)
            return self._op(
                f"pageout({proc.name}, {addr:#x})",
                format_action("K", "pageout", proc.name, index_of(addr)),
                lambda: madvise.madvise_pageout(self.machine, proc.mm, addr),
            )
        addrs = proc._range(addr, pages)
        return self._op(
            f"pageout({proc.name}, {addr:#x}, pages={pages})",
            format_action("K", "pageout", proc.name, index_of(addr), pages),
            lambda: madvise.madvise_pageout_range(self.machine, proc.mm, addrs),
        )

    def memfd(self, name: str, pages: int = 1, hugetlb: int = 0) -> str:
        """memfd_create(name) + fallocate(): a file of zeroed pages (hugetlb: of hugetlb
        folios of that order, MFD_HUGETLB) to mmap(file=name). A tmpfile() behaves the
        same for COW; the model does not tell them apart."""
        if not isinstance(name, str) or not HANDLE_NAME.match(name) or name in self.machine.files:
            raise BadArgument(f"file name {name!r} must be new and lower-case")
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise BadArgument(f"memfd needs pages >= 1, got {pages!r}")
        if hugetlb and (check_order(hugetlb) < 2 or pages % (1 << hugetlb)):
            raise BadArgument(f"a hugetlb file holds whole huge pages of {1 << hugetlb} pages")
        return self._op(
            f"memfd({name!r}, pages={pages}" + (f", hugetlb={hugetlb})" if hugetlb else ")"),
            format_action("K", "memfd", name, pages, *([hugetlb] if hugetlb else [])),
            lambda: mmap.create_file(self.machine, name, pages, hugetlb) or name,
        )

    def lru_drain(self) -> None:
        """lru_add_drain(): move this CPU's LRU-add batch to the LRU, dropping its refs."""
        self._op("lru_drain()", format_action("K", "drain"), lambda: lru_add_drain(self.machine))

    def process(self, name: str) -> Process:
        """The process called name (CowError listing the processes if there is none)."""
        try:
            return self.procs[name]
        except KeyError:
            raise BadArgument(f"no process {name!r}; processes: {', '.join(self.procs)}") from None

    def handle(self, name: str) -> Handle:
        """The pipe, pin or ref called name (pipe1, pin1, ref1, ...)."""
        try:
            return self.handles[name]
        except KeyError:
            raise BadArgument(
                f"no pipe, pin or ref {name!r}; handles: {', '.join(self.handles) or 'none'}"
            ) from None

    def live_procs(self) -> list[Process]:
        return [p for p in self.procs.values() if p.alive]

    def live_handles(self) -> list[Handle]:
        return [h for h in self.handles.values() if not h.released]

    def snapshot(self) -> Snapshot:
        """The whole visible state, frozen."""
        m = self.machine
        procs = tuple(p._view() for p in self.procs.values())
        used = {pte.target for p in procs for pte in p.ptes if pte.kind == "zero"}
        used |= {h.pfn for h in m.live_holders()}
        batch = set(m.lru_batch)
        used |= {pfn for p in procs for a, head, nr, w in p.pmds for pfn in range(head, head + nr)}
        pages = tuple(
            PageView(
                pg.pfn, pg.value, pg.refcount, pg.mapcount, pg.pincount,
                pg.anon_exclusive, pg.swapcache, pg.lru, pg.pfn in batch, pg.zero,
            )
            if pg.folio is None and pg.mapping is None else _folio_page_view(pg)
            for pfn, pg in sorted(m.pages.items())
            if not pg.zero or pfn in used
        )  # fmt: skip
        holders = tuple(
            HolderView(h.name, h.kind, h.mm.owner, h.addr, h.pfn, h.writable, h.mm.live)
            for h in m.live_holders()
        )
        swap = tuple(
            SlotView(n, s.count, s.data.value, s.cache) for n, s in sorted(m.swap.slots.items())
        )
        return Snapshot(self.policy.name, procs, pages, holders, swap)

    # -- internals --------------------------------------------------------------------
    def _op(self, op: str, action: str, fn: Callable[[], Any]) -> Any:
        m = self.machine
        m.notes, m.decisions, self.oracle.found = [], [], []
        self.oracle.step = self.steps
        result = fn()
        self.oracle.check_pins()
        self.oracle.check_accounting()
        found = tuple(self.oracle.found)
        self.violations += found
        if self.record:
            shown = _show(result)
            self.trace.append(
                Step(
                    index=self.steps,
                    op=op + (f" -> {shown}" if shown else ""),
                    action=action,
                    explain="\n".join(m.notes),
                    snapshot=self.snapshot() if self.snapshots else None,
                    violations=found,
                    decisions=tuple(m.decisions),
                    result=result if isinstance(result, str) else None,
                )
            )
        self.steps += 1
        return result

    def _check_new_name(self, name: str) -> None:
        if not isinstance(name, str) or not PROC_NAME.match(name) or name == "K":
            raise BadArgument(
                f"process name {name!r} must start with a capital letter (letters, digits, _)"
                + ("; K is the kernel" if name == "K" else "")
            )
        if name in self.procs:
            raise BadArgument(f"there is already a process {name!r}")

    def _check_value(self, value: object) -> None:
        if not isinstance(value, str):
            raise BadArgument(f"a page holds a str value, not {type(value).__name__}")

    def _new_handle(
        self, kind: str, owner: Process, addr: int, name: str | None, **kw: Any
    ) -> Handle:
        if name is None:
            n = 1 + sum(h.kind == kind for h in self.handles.values())
            name = f"{kind}{n}"
            while name in self.handles:
                n += 1
                name = f"{kind}{n}"
        elif not isinstance(name, str) or not HANDLE_NAME.match(name) or name in self.handles:
            raise BadArgument(f"handle name {name!r} must be new and lower-case")
        return HANDLE_CLASSES[kind](self, owner, Holder(kind, name, owner.mm, addr, **kw))

    def _register(self, handle: Handle) -> None:
        """The handle exists from this step on; its taker's history is what it may show."""
        self.handles[handle.name] = handle
        self.machine.holders.append(handle.holder)
        handle.holder.allowed = self.oracle.allowed(handle.owner.mm, handle.addr)

    def _spawn(self, name: str) -> Process:
        proc = Process(self, name, len(self.procs) + 1)
        self.procs[name] = proc
        self.machine.mms.append(proc.mm)
        self.oracle.spawn(proc.mm)
        self.machine.note(f"{name} (pid {proc.pid}) created with an empty mm")
        return proc


class Process:
    """A process (one mm); its methods are the system calls and memory accesses."""

    def __init__(self, k: Kernel, name: str, pid: int) -> None:
        self.k, self.name, self.pid = k, name, pid
        self.mm = Mm(name)
        self.gup_fast: gup.GupFast | None = None  # another thread's GUP-fast in flight

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid}{'' if self.alive else ' exited'}>"

    @property
    def alive(self) -> bool:
        return self.mm.live

    # -- memory accesses ------------------------------------------------------------
    def mmap(
        self,
        pages: int = 1,
        thp: int = 0,
        hugetlb: int = 0,
        file: str | None = None,
        shared: bool = False,
        write: bool = True,
    ) -> int:
        """mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE); returns the address.

        thp=K: then madvise(MADV_HUGEPAGE) with THP order K enabled (K == the PMD order:
        PMD-mapped THPs; smaller: multi-size THP); hugetlb=K: MAP_HUGETLB of huge pages of
        order K; file=name: a mapping of that memfd (private, or shared=True, which must
        be read-only); write=False: PROT_READ.
        """
        self._usable()
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise BadArgument(f"mmap needs pages >= 1, got {pages!r}")
        kind = self._mmap_kind(pages, thp, hugetlb, file, shared, write)

        def run() -> int:
            addr = mmap.do_mmap(self.k.machine, self.mm, pages, **kind)
            self.k.oracle.mmap(self.mm, [addr + i * PAGE_SIZE for i in range(pages)])
            return addr

        if not kind:
            return self.k._op(
                f"{self.name}.mmap(pages={pages})", format_action(self.name, "mmap", pages), run
            )
        args = ", ".join(f"{k}={v!r}" for k, v in kind.items())
        words = [f"{k}={v}" for k, v in kind.items() if k in ("thp", "hugetlb", "file")]
        words += ["shared"] * shared + ["ro"] * (not write)
        return self.k._op(
            f"{self.name}.mmap(pages={pages}, {args})",
            format_action(self.name, "mmap", pages, *words),
            run,
        )

    def _mmap_kind(self, pages, thp, hugetlb, file, shared, write) -> dict:
        kind: dict = {}
        if thp:
            kind["thp"] = check_order(thp)
        if hugetlb:
            kind["hugetlb"] = check_order(hugetlb)
            if pages % (1 << hugetlb):
                raise BadArgument(f"a hugetlb mapping is whole huge pages of {1 << hugetlb} pages")
        if file is not None:
            files = self.k.machine.files
            if file not in files:
                raise BadArgument(f"no file {file!r}; files: {', '.join(files) or 'none'}")
            folio = self.k.machine.pages[files[file][0]].folio
            if folio is not None:
                kind["hugetlb"] = folio.order
            if pages > len(files[file]):
                raise BadArgument(f"{file} has {len(files[file])} pages, not {pages}")
            kind["file"] = file
        if thp and (hugetlb or file):
            raise BadArgument("thp is for private anonymous memory only")
        if shared:
            if file is None or write:
                raise BadArgument("the model maps only files shared, and only read-only")
            kind["shared"] = True
        if not write:
            kind["write"] = False
        return kind

    def memset(self, addr: int, pages: int, value: str) -> None:
        """memset() of pages from addr with value: one write per page, in one step."""
        addrs = self._range(addr, pages)
        self.k._check_value(value)
        for a in addrs:
            if not self.mm.find_vma(a).write:
                raise SegFault(f"{self.name}: write to read-only mapping at {a:#x} (SIGSEGV)")
        self.k._op(
            f"{self.name}.memset({addr:#x}, pages={pages}, {value!r})",
            format_action(self.name, "memset", index_of(addr), pages, value),
            lambda: [self._write(a, value) for a in addrs] and None,
        )

    def madvise(self, addr: int, pages: int, advice: str, order: int = 0) -> bool | None:
        """madvise(): "hugepage" (MADV_HUGEPAGE with THP order `order` enabled),
        "dontneed", "dontfork", "dofork", "pageout" (True if all swapped out) or
        "collapse" (MADV_COLLAPSE, 6.1+: True if it collapsed)."""
        addrs = self._range(addr, pages)
        if advice not in ADVICE:
            raise BadArgument(f"unknown advice {advice!r}; advice: {', '.join(ADVICE)}")
        m, mm = self.k.machine, self.mm
        hugetlb = any(self.mm.find_vma(a).hugetlb for a in addrs)
        if hugetlb and advice != "dontfork" and advice != "dofork":
            raise BadArgument(f"madvise {advice} of a hugetlb mapping is not modelled")
        if advice == "hugepage":
            check_order(order)
        words = [order] if advice == "hugepage" else []
        if advice == "pageout":
            return self.k.pageout(self, addr, pages) if pages > 1 else self.k.pageout(self, addr)

        def run() -> bool | None:
            if advice == "hugepage":
                return madvise.madvise_vma_flag(m, mm, addrs, thp=order)
            if advice in ("dontfork", "dofork"):
                return madvise.madvise_vma_flag(m, mm, addrs, dontfork=advice == "dontfork")
            if advice == "dontneed":
                madvise.madvise_dontneed(m, mm, addrs)
                self.k.oracle.dontneed(mm, addrs)
                return None
            if not m.policy.since("madv_collapse"):
                m.note("madvise(MADV_COLLAPSE): EINVAL, no MADV_COLLAPSE in this release")
                return False
            return khugepaged.madvise_collapse(m, mm, addrs[0], addrs[-1] + PAGE_SIZE)

        return self.k._op(
            f"{self.name}.madvise({addr:#x}, pages={pages}, {advice!r})",
            format_action(self.name, "madvise", index_of(addr), pages, advice, *words),
            run,
        )

    def mremap(self, addr: int, pages: int) -> int:
        """mremap(MREMAP_MAYMOVE) of pages from addr to a new address (returned)."""
        addrs = self._range(addr, pages)
        if any(self.mm.find_vma(a).hugetlb for a in addrs):
            raise BadArgument("mremap of a hugetlb mapping is not modelled")

        def run() -> int:
            new = mremap.move_vma(self.k.machine, self.mm, addrs)
            self.k.oracle.mremap(self.mm, addrs, new)
            return new

        return self.k._op(
            f"{self.name}.mremap({addr:#x}, pages={pages})",
            format_action(self.name, "mremap", index_of(addr), pages),
            run,
        )

    def write(self, addr: int, value: str) -> None:
        """Store value into the page at addr, faulting as the kernel would."""
        self._usable()
        self.k._check_value(value)
        vma = self._vma_or_segv(addr, "write")
        if not vma.write:
            raise SegFault(f"{self.name}: write to read-only mapping at {addr:#x} (SIGSEGV)")
        self.k._op(
            f"{self.name}.write({addr:#x}, {value!r})",
            format_action(self.name, "write", index_of(addr), value),
            lambda: self._write(addr, value),
        )

    def read(self, addr: int) -> str:
        """Load the value at addr, faulting as the kernel would."""
        self._usable()
        self._vma_or_segv(addr, "read")
        return self.k._op(
            f"{self.name}.read({addr:#x})",
            format_action(self.name, "read", index_of(addr)),
            lambda: self._read(addr),
        )

    # -- system calls ---------------------------------------------------------------
    def fork(self, name: str) -> Process:
        """fork(): dup_mmap() copies every PTE under write_protect_seq."""
        self._usable()
        self.k._check_new_name(name)

        def run() -> Process:
            child = self._fork_begin(name)
            fork_c.dup_mmap_end(self.k.machine, self.mm)
            return child

        return self.k._op(
            f"{self.name}.fork({name!r})", format_action(self.name, "fork", name), run
        )

    def exit(self) -> None:
        """exit(): unmap everything. Pins, pipes and refs stay until released."""
        self._usable()

        def run() -> None:
            mmap.exit_mmap(self.k.machine, self.mm)
            self.k.oracle.exit(self.mm)

        self.k._op(f"{self.name}.exit()", format_action(self.name, "exit"), run)

    def munmap(self, addr: int, pages: int = 1) -> None:
        """munmap(): zap the PTEs and drop the VMA range."""
        addrs = self._range(addr, pages)
        self._whole_huge_pages(addrs)

        def run() -> None:
            mmap.do_munmap(self.k.machine, self.mm, addrs)
            self.k.oracle.munmap(self.mm, addrs)

        self.k._op(
            f"{self.name}.munmap({addr:#x}, pages={pages})",
            format_action(self.name, "munmap", index_of(addr), pages),
            run,
        )

    def mprotect(self, addr: int, pages: int = 1, write: bool = False) -> None:
        """mprotect(): PROT_READ (write=False) or PROT_READ|PROT_WRITE."""
        addrs = self._range(addr, pages)
        self._whole_huge_pages(addrs)
        if write and any(self.mm.find_vma(a).shared for a in addrs):
            raise BadArgument("the model maps files shared only read-only")
        self.k._op(
            f"{self.name}.mprotect({addr:#x}, pages={pages}, write={write})",
            format_action(self.name, "mprotect", index_of(addr), pages, "rw" if write else "r"),
            lambda: mprotect.mprotect_fixup(self.k.machine, self.mm, addrs, bool(write)),
        )

    def vmsplice(self, addr: int, name: str | None = None) -> Pipe:
        """vmsplice() the page into a pipe: GUP-fast FOLL_GET, read-only."""
        self._usable()
        self._mapped(addr)
        handle = self.k._new_handle("pipe", self, addr, name)
        return self.k._op(
            f"{self.name}.vmsplice({addr:#x})",
            format_action(self.name, "vmsplice", index_of(addr), handle.name),
            lambda: self._gup(handle, fast=True),
        )

    def get(self, addr: int, name: str | None = None) -> Ref:
        """get_user_pages(FOLL_GET), read-only."""
        self._usable()
        self._mapped(addr)
        handle = self.k._new_handle("ref", self, addr, name)
        return self.k._op(
            f"{self.name}.get({addr:#x})",
            format_action(self.name, "get", index_of(addr), handle.name),
            lambda: self._gup(handle, fast=False),
        )

    def pin(
        self,
        addr: int,
        write: bool = True,
        longterm: bool = True,
        fast: bool = False,
        name: str | None = None,
    ) -> Pin:
        """``pin_user_pages(FOLL_PIN [|FOLL_WRITE] [|FOLL_LONGTERM])``, or the _fast variant."""
        self._usable()
        vma = self._mapped(addr)
        if write and not vma.write:
            raise BadAddress(f"{self.name}: FOLL_WRITE pin of read-only mapping {addr:#x} (EFAULT)")
        handle = self.k._new_handle(
            "pin", self, addr, name, writable=bool(write), longterm=bool(longterm)
        )
        flags = ["rw" if write else "ro", "long" if longterm else "short"] + ["fast"] * bool(fast)
        return self.k._op(
            f"{self.name}.pin({addr:#x}, write={write}, longterm={longterm}, fast={fast})",
            format_action(self.name, "pin", index_of(addr), *flags, handle.name),
            lambda: self._gup(handle, fast=bool(fast)),
        )

    # -- the fork / GUP-fast race, one step at a time --------------------------------
    def fork_begin(self, name: str) -> Process:
        """fork() up to the PTE copy: mmap_lock taken, write_protect_seq made odd."""
        self._usable()
        self.k._check_new_name(name)
        return self.k._op(
            f"{self.name}.fork_begin({name!r})",
            format_action(self.name, "fork_begin", name),
            lambda: self._fork_begin(name),
        )

    def fork_check(self, addr: int) -> None:
        """copy_present_pte() for addr up to its decision (copy now, or share)."""
        self._forking(addr, "check")
        self.k._op(
            f"{self.name}.fork_check({addr:#x})",
            format_action(self.name, "fork_check", index_of(addr)),
            lambda: fork_c.dup_mmap_check(self.k.machine, self.mm, addr),
        )

    def fork_share(self, addr: int) -> None:
        """The rest of copy_present_pte(): write-protect and map in the child."""
        self._forking(addr, "share")
        self.k._op(
            f"{self.name}.fork_share({addr:#x})",
            format_action(self.name, "fork_share", index_of(addr)),
            lambda: fork_c.dup_mmap_share(self.k.machine, self.mm, addr),
        )

    def fork_end(self) -> None:
        """Copy the remaining PTEs, end write_protect_seq, drop mmap_lock."""
        self._forking(None, None)
        self.k._op(
            f"{self.name}.fork_end()",
            format_action(self.name, "fork_end"),
            lambda: fork_c.dup_mmap_end(self.k.machine, self.mm),
        )

    def gupf(
        self, addr: int, write: bool = True, longterm: bool = True, name: str | None = None
    ) -> Pin:
        """Another thread starts pin_user_pages_fast(): sample the seqcount, read the PTE."""
        self._alive()
        if self.gup_fast is not None:
            raise Busy(
                f"{self.name} already has a GUP-fast in flight ({self.gup_fast.holder.name})"
            )
        vma = self._mapped(addr)
        if write and not vma.write:
            raise BadAddress(f"{self.name}: FOLL_WRITE pin of read-only mapping {addr:#x}")
        handle = self.k._new_handle(
            "pin", self, addr, name, writable=bool(write), longterm=bool(longterm)
        )

        def run() -> Pin:
            self.k._register(handle)
            self.gup_fast = gup.gupf_begin(self.k.machine, self.mm, handle.holder)
            return handle

        return self.k._op(
            f"{self.name}.gupf({addr:#x}, write={write})",
            format_action(self.name, "gupf", index_of(addr), "rw" if write else "ro", handle.name),
            run,
        )

    def gupf_pin(self) -> None:
        """GUP-fast grabs the page it read (try_grab_folio)."""
        g = self._gupf()
        self.k._op(
            f"{self.name}.gupf_pin()",
            format_action(self.name, "gupf_pin"),
            lambda: gup.gupf_pin(self.k.machine, self.mm, g),
        )

    def gupf_check(self) -> None:
        """GUP-fast re-checks the PTE and the seqcount; backs off if either moved."""
        g = self._gupf()
        self.k._op(
            f"{self.name}.gupf_check()",
            format_action(self.name, "gupf_check"),
            lambda: gup.gupf_check(self.k.machine, self.mm, g),
        )

    def gupf_slow(self) -> None:
        """GUP-fast's fallback to slow GUP, which needs mmap_lock (waits for fork)."""
        g = self._gupf()
        if g.stage in ("read", "pinned"):
            raise Busy(
                f"GUP-fast of {g.holder.name} must "
                f"{'pin' if g.stage == 'read' else 're-check'} first "
                f"({'gupf_pin' if g.stage == 'read' else 'gupf_check'})"
            )
        if g.stage == "fallback" and self.mm.fork_child is not None:
            raise Busy(f"slow GUP needs {self.name}'s mmap_lock, held by fork()")

        def run() -> None:
            gup.gupf_slow(self.k.machine, self.mm, g)
            self.gup_fast = None

        self.k._op(f"{self.name}.gupf_slow()", format_action(self.name, "gupf_slow"), run)

    # -- observables (no trace step) -------------------------------------------------
    def pfn(self, addr: int) -> int | None:
        """PFN of the present page at addr (as /proc/PID/pagemap shows), else None."""
        pte = self.mm.entry(addr)
        return pte.pfn if pte is not None and pte.present else None

    def swapped(self, addr: int) -> bool:
        """True if addr holds a swap entry (pagemap bit 62)."""
        pte = self.mm.entry(addr)
        return pte is not None and not pte.present

    def anon_exclusive(self, addr: int) -> bool:
        """PG_anon_exclusive of the mapped page (kpageflags bit 34 on 6.18)."""
        pfn = self.pfn(addr)
        return pfn is not None and self.k.machine.pages[pfn].anon_exclusive

    def pmd_mapped(self, addr: int) -> bool:
        """True if a PMD (or a hugetlb entry) maps addr (kpageflags THP, one entry)."""
        return self.mm.pmd_at(addr) is not None

    # -- checks ---------------------------------------------------------------------
    def _alive(self) -> None:
        if not self.alive:
            raise ProcessExited(f"{self.name} has exited")
        if self.mm.forked_by is not None:
            raise Busy(f"{self.name} is still being created by {self.mm.forked_by.owner}'s fork()")

    def _usable(self) -> None:
        self._alive()
        if self.mm.fork_child is not None:
            raise Busy(
                f"{self.name} is in fork(): mmap_lock is held; only fork and GUP-fast steps can run"
            )

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
            raise SegFault(
                f"{self.name}: {what} of unmapped address {addr:#x} (SIGSEGV); "
                f"mapped: {self._maps()}"
            )
        return vma

    def _range(self, addr: int, pages: int) -> list[int]:
        self._usable()
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            raise BadArgument(f"pages must be >= 1, got {pages!r}")
        addrs = [self._aligned(addr) + i * PAGE_SIZE for i in range(pages)]
        for a in addrs:
            self._mapped(a)
        return addrs

    def _whole_huge_pages(self, addrs: list[int]) -> None:
        """hugetlb ranges must be whole huge pages (EINVAL otherwise)."""
        for a in (addrs[0], addrs[-1] + PAGE_SIZE):
            vma = self.mm.find_vma(a) or self.mm.find_vma(a - PAGE_SIZE)
            if vma.hugetlb and (a - vma.start) % (PAGE_SIZE << vma.hugetlb):
                raise BadArgument(f"{a:#x} is inside a huge page of the hugetlb mapping (EINVAL)")

    def _maps(self) -> str:
        return ", ".join(f"{v.start:#x}-{v.end:#x}" for v in self.mm.vmas) or "nothing"

    def _forking(self, addr: int | None, step: str | None) -> None:
        self._alive()
        if self.mm.fork_child is None:
            raise Busy(f"{self.name} is not in fork(); call fork_begin first")
        if addr is not None:
            self._mapped(addr)
            want = self.mm.fork_pending.get(addr)
            if want != step:
                raise Busy(
                    f"fork_{step}({addr:#x}) out of order: "
                    + (f"next is fork_{want}" if want else "already copied")
                )

    def _gupf(self) -> gup.GupFast:
        self._alive()
        if self.gup_fast is None:
            raise Busy(f"{self.name} has no GUP-fast in flight; start one with gupf")
        return self.gup_fast

    # -- implementations ------------------------------------------------------------
    def _write(self, addr: int, value: str) -> None:
        m = self.k.machine
        memory.handle_mm_fault(m, self.mm, addr, write=True)
        pte = self.mm.entry(addr)
        token = m.new_token(value, self.name)
        m.pages[pte.pfn].data = token
        self.k.oracle.write(self.mm, addr, token)
        m.note(f"{self.name} stores {value!r} into pfn {pte.pfn}")

    def _read(self, addr: int) -> str:
        m = self.k.machine
        memory.handle_mm_fault(m, self.mm, addr, write=False)
        pte = self.mm.entry(addr)
        token = m.pages[pte.pfn].data
        self.k.oracle.observe(self.mm, addr, token)
        m.note(f"{self.name} loads {token.value!r} from pfn {pte.pfn}")
        return token.value

    def _fork_begin(self, name: str) -> Process:
        child = self.k._spawn(name)
        fork_c.dup_mmap_begin(self.k.machine, self.mm, child.mm)
        self.k.oracle.fork(self.mm, child.mm)
        return child

    def _gup(self, handle: Handle, fast: bool) -> Handle:
        self.k._register(handle)
        gup.take(self.k.machine, self.mm, handle.holder, fast)
        return handle

    def _view(self) -> ProcView:
        ptes = []
        for addr, pte in sorted(self.mm.ptes.items()):
            if not pte.present:
                ptes.append(PteView(addr, "swap", pte.swap, False, pte.swp_exclusive))
            else:
                kind = "zero" if pte.pfn == ZERO_PFN else "present"
                ptes.append(PteView(addr, kind, pte.pfn, pte.write))
        mm = self.mm
        return ProcView(
            self.name,
            self.pid,
            self.alive,
            mm.fork_child is not None,
            mm.has_pinned,
            mm.write_protect_seq,
            tuple((v.start, v.end, v.write) for v in mm.vmas),
            tuple(ptes),
            tuple((a, pmd.pfn, pmd.nr, pmd.write) for a, pmd in sorted(mm.pmds.items())),
        )


class Handle:
    """A reference a GUP user holds (a machine.Holder), as the reader uses it."""

    kind = ""
    release_verb = ""

    def __init__(self, k: Kernel, owner: Process, holder: Holder) -> None:
        self.k, self.owner, self.holder = k, owner, holder

    def __repr__(self) -> str:
        state = "released" if self.released else f"pfn {self.pfn}"
        return f"<{type(self).__name__} {self.name} of {self.owner.name}: {state}>"

    name = property(lambda self: self.holder.name, doc="pipe1, pin1, ref1, ...")
    addr = property(lambda self: self.holder.addr, doc="the address it was taken at")
    pfn = property(lambda self: self.holder.pfn, doc="the page it holds (None while in flight)")
    writable = property(lambda self: self.holder.writable, doc="a FOLL_WRITE pin")
    longterm = property(lambda self: self.holder.longterm, doc="a FOLL_LONGTERM pin")
    released = property(lambda self: self.holder.released, doc="dropped already")

    @property
    def pin(self) -> bool:
        return self.holder.pin

    def _check(self, verb: str) -> None:
        if self.released:
            raise HandleReleased(f"{self.name} was already released; cannot {verb} it")
        if self.pfn is None or self.holder.in_flight:
            raise Busy(
                f"{self.name} is not usable yet: its GUP-fast has not finished "
                f"(run gupf_pin / gupf_check / gupf_slow)"
            )

    def read(self) -> str:
        """What the device or pipe reader sees now through this reference."""
        self._check("read")

        def run() -> str:
            token = gup.read_through(self.k.machine, self.holder)
            self.k.oracle.observe_handle(self.holder, token)
            return token.value

        return self.k._op(f"{self.name}.read()", format_action(self.name, "read"), run)

    def release(self) -> None:
        """Drop the reference the way this kind of holder does (close, put, unpin)."""
        verb = self.release_verb
        self._check(verb)
        self.k._op(
            f"{self.name}.{verb}()",
            format_action(self.name, verb),
            lambda: gup.release(self.k.machine, self.holder),
        )


class Pipe(Handle):
    """A pipe buffer holding a vmsplice()d page (FOLL_GET, read-only)."""

    kind, release_verb = "pipe", "close"

    def close(self) -> None:
        """Close the pipe: its buffer drops the page reference."""
        self.release()


class Ref(Handle):
    """A plain FOLL_GET reference (get_user_pages)."""

    kind, release_verb = "ref", "put"

    def put(self) -> None:
        """put_page(): drop the reference. A second put raises HandleReleased."""
        self.release()


class Pin(Handle):
    """A FOLL_PIN pin: the device's view of the page (io_uring, RDMA, VFIO)."""

    kind, release_verb = "pin", "unpin"

    def write(self, value: str) -> None:
        """DMA from the device into the pinned page (needs a write pin)."""
        self._check("write through")
        self.k._check_value(value)
        if not self.writable:
            raise BadArgument(f"{self.name} is a read-only pin; the device cannot write")

        def run() -> None:
            token = gup.dma_write(self.k.machine, self.holder, value)
            self.k.oracle.device_write(self.holder, token)

        self.k._op(f"{self.name}.write({value!r})", format_action(self.name, "write", value), run)

    def unpin(self) -> None:
        """unpin_user_page(). A second unpin raises HandleReleased."""
        self.release()


HANDLE_CLASSES: dict[str, type[Handle]] = {c.kind: c for c in (Pipe, Ref, Pin)}
ADVICE = ("hugepage", "dontneed", "dontfork", "dofork", "pageout", "collapse")


def _folio_page_view(pg) -> PageView:
    """The PageView of a subpage of a large folio, or of a page cache page."""
    f = pg.folio
    if f is None:
        return PageView(
            pg.pfn, pg.value, pg.refcount, pg.mapcount, pg.pincount, pg.anon_exclusive,
            pg.swapcache, pg.lru, False, False, None, 0, 0, 0, "file",
        )  # fmt: skip
    return PageView(
        pg.pfn, pg.data.value, f.refcount, pg.mapcount, f.pincount, pg.anon_exclusive,
        None, True, False, f.kind == "huge-zero", f.pfn, f.order, pg.index,
        f.entire_mapcount, f.kind,
    )  # fmt: skip


def _show(result: object) -> str:
    if isinstance(result, str):
        return repr(result)
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, int):
        return f"{result:#x}"
    if isinstance(result, (Process, Handle)):
        return result.name
    return ""
