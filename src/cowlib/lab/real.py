"""Run a script on the real kernel: P is this process, every other actor a forked child.

Actors perform their own memory operations (a write must fault in the writer's
page table); this process reads every actor's pagemap from outside while the
actor waits for its next command, so the page being looked at stays mapped
while its flags are read. Children take commands over a SOCK_SEQPACKET
socketpair, which also carries pipe file descriptors back (SCM_RIGHTS).
"""

from __future__ import annotations

import os
import pickle
import socket
import time
from dataclasses import dataclass, field

from . import pagemap, procs, syscalls
from .errors import Unavailable
from .pagemap import PAGE_SIZE
from .script import (
    ABSENT,
    HIDDEN,
    HUGETLB,
    NOT_PRESENT,
    SMALL,
    SWAPPED,
    THP,
    DirectWrite,
    Exit,
    Experiment,
    Folio,
    Fork,
    Look,
    Mprotect,
    Observation,
    Op,
    Pageout,
    PipeRead,
    Read,
    RegisterBuffers,
    ScriptStep,
    Shared,
    Unmap,
    UnregisterBuffers,
    Vmsplice,
    Write,
    WriteAll,
    classify,
    shared_summary,
    summarize,
)

PAGEOUT_TRIES = 5
MESSAGE_SIZE = 1 << 16


@dataclass
class Actor:
    """One actor's view of the shared mapping and the pins it holds."""

    region: syscalls.Region | syscalls.LargeRegion
    scratch: str | None
    rings: dict[str, syscalls.FixedBuffers] = field(default_factory=dict)

    def do(self, op: Op) -> tuple[object, list[int]]:
        """Perform ``op`` in this process; return its value and any fds it created."""
        region = self.region
        match op:
            case Write(page=page, value=value):
                region.write(page, value)
            case WriteAll(value=value):
                for page in range(region.pages):
                    region.write(page, value)
            case Read(page=page):
                return region.read(page), []
            case Unmap():
                region.close()
            case Mprotect(pages=pages, write=write):
                region.protect(pages, write)
            case Vmsplice(page=page):
                read_end, write_end = os.pipe()
                try:
                    syscalls.vmsplice(write_end, region.page_addr(page), PAGE_SIZE)
                finally:
                    os.close(write_end)
                return None, [read_end]
            case RegisterBuffers(pages=pages, name=name):
                self.rings[name] = self.pin(pages)
            case UnregisterBuffers(name=name):
                self.rings.pop(name).unregister()
            case DirectWrite(page=page):
                if self.scratch is None:
                    raise Unavailable("DirectWrite: no directory for O_DIRECT files")
                return syscalls.direct_write(self.scratch, region.page_addr(page)), []
            case Pageout(page=page):
                return self.pageout(page), []
            case _:
                raise TypeError(f"Actor.do: {op!r} is not a memory operation")
        return None, []

    def pin(self, pages: tuple[int, ...] | None) -> syscalls.FixedBuffers:
        region = self.region
        if pages is None:
            spans = [(region.addr, region.pages * PAGE_SIZE)]
        else:
            spans = [(region.page_addr(p), PAGE_SIZE) for p in pages]
        return syscalls.FixedBuffers(spans)

    def pageout(self, page: int) -> str:
        """MADV_PAGEOUT, retried: a fresh page may still sit in a per-CPU LRU batch."""
        addr = self.region.page_addr(page)
        for attempt in range(PAGEOUT_TRIES):
            self.region.pageout(page)
            if pagemap.read_pagemap(os.getpid(), addr)[0].swapped:
                return "swapped"
            time.sleep(0.002 * (attempt + 1))
        return "kept"

    def release(self) -> None:
        """Unregister every ring this actor still holds (IORING_UNREGISTER_BUFFERS)."""
        while self.rings:
            self.rings.popitem()[1].unregister()


class Child:
    """A forked actor serving commands until told to exit."""

    def __init__(self, memory: Actor, alarm: int, siblings: list[Child]) -> None:
        self.alarm = alarm
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def serve() -> None:
            ours.close()
            for sibling in siblings:
                sibling.sock.close()
            memory.rings = {}  # the parent's pins are not this child's to release
            serve_commands(theirs, memory)

        self.pid = procs.fork_child(serve, alarm)
        theirs.close()
        self.sock = ours
        self.sock.settimeout(alarm)

    def call(self, op: Op) -> tuple[object, list[int]]:
        self.sock.send(pickle.dumps(op))
        data, fds, _, _ = socket.recv_fds(self.sock, MESSAGE_SIZE, 4)
        if not data:
            raise RuntimeError(f"Child.call: actor {self.pid} died during {op!r}")
        ok, value = pickle.loads(data)
        if ok:
            return value, fds
        if isinstance(value, Unavailable):
            raise value
        raise RuntimeError(f"Child.call: actor {self.pid} failed {op!r}: {value}")

    def exit(self) -> None:
        self.sock.send(pickle.dumps(Exit("")))
        procs.reap(self.pid, self.alarm)
        self.sock.close()

    def kill(self) -> None:
        procs.kill(self.pid)
        self.sock.close()


def serve_commands(sock: socket.socket, memory: Actor) -> None:
    """The child's loop: perform each received op and answer (ok, value) plus fds."""
    while data := sock.recv(MESSAGE_SIZE):
        op = pickle.loads(data)
        if isinstance(op, Exit):
            return
        try:
            value, fds = memory.do(op)
            reply = (True, value)
        except Unavailable as e:
            value, fds, reply = None, [], (False, e)
        except Exception as e:  # noqa: BLE001 - reported to the parent, which raises
            value, fds, reply = None, [], (False, f"{type(e).__name__}: {e}")
        socket.send_fds(sock, [pickle.dumps(reply)], fds)
        for fd in fds:
            os.close(fd)


def map_memory(experiment: Experiment) -> syscalls.Region | syscalls.LargeRegion:
    if experiment.memory == SMALL:
        return syscalls.Region(experiment.pages)
    return syscalls.LargeRegion(experiment.pages, hugetlb=experiment.memory == HUGETLB)


class KernelRun:
    """One experiment on real processes; collects observations in script order."""

    def __init__(self, experiment: Experiment, scratch: str | None, alarm: int) -> None:
        self.experiment = experiment
        self.alarm = alarm
        self.memory = Actor(map_memory(experiment), scratch)
        self.children: dict[str, Child] = {}
        self.pipes: dict[str, int] = {}
        self.frames_readable = pagemap.frames_readable()
        self.observations: list[Observation] = []

    def run(self) -> list[Observation]:
        try:
            for step in self.experiment.steps:
                self.step(step)
        finally:
            self.close()
        return self.observations

    def close(self) -> None:
        """Kill children, unpin, close pipes and the mapping, on every path."""
        try:
            for child in self.children.values():
                child.kill()
            self.memory.release()
        finally:
            self.children.clear()
            for fd in self.pipes.values():
                os.close(fd)
            self.pipes.clear()
            self.memory.region.close()

    def pid(self, who: str) -> int:
        return os.getpid() if who == "P" else self.children[who].pid

    def call(self, who: str, op: Op) -> tuple[object, list[int]]:
        return self.memory.do(op) if who == "P" else self.children[who].call(op)

    def record(
        self,
        step: ScriptStep,
        who: str,
        page: int | None,
        what: str,
        value: object,
        detail: str = "",
    ) -> None:
        self.observations.append(Observation(step.id, who, page, what, value, detail))

    def step(self, step: ScriptStep) -> None:
        op = step.op
        match op:
            case Write(who=who, page=page):
                before, exclusive, _ = self.look(who, page)
                self.call(who, op)
                if before == ABSENT and self.experiment.memory == THP:
                    self.require_thp(who, page)
                after = self.look(who, page)[0]
                self.record(step, who, page, "fault", classify(before, exclusive, after))
            case WriteAll(who=who):
                before = self.identities(who)
                exclusive = self.exclusive_flags(before)
                self.call(who, op)
                after = self.identities(who)
                outcomes = map(classify, before, exclusive, after)
                self.record(step, who, None, "fault", summarize(list(outcomes)))
            case Fork(who="P", child=child):
                self.children[child] = Child(self.memory, self.alarm, list(self.children.values()))
            case Exit(who=who):
                self.children.pop(who).exit()
            case Read(who=who, page=page):
                self.record(step, who, page, "content", self.call(who, op)[0])
            case Unmap(who=who) | Mprotect(who=who):
                self.call(who, op)
            case Vmsplice(who=who, pipe=pipe):
                self.pipes[pipe] = self.call(who, op)[1][0]
            case PipeRead(pipe=pipe):
                fd = self.pipes.pop(pipe)
                os.set_blocking(fd, False)
                try:
                    data = os.read(fd, PAGE_SIZE)
                finally:
                    os.close(fd)
                self.record(step, "P", None, "pipe", syscalls.decode_value(data))
            case RegisterBuffers(who="P") | UnregisterBuffers():
                self.memory.do(op)
            case DirectWrite(who=who, page=page):
                self.record(step, who, page, "file", self.call(who, op)[0])
            case Pageout(who=who, page=page):
                self.record(step, who, page, "pageout", self.call(who, op)[0])
            case _:
                raise ValueError(f"KernelRun.step: cannot run {op!r}")
        for probe in step.look:
            self.probe(step, probe)

    def probe(self, step: ScriptStep, probe: Look | Shared | Folio) -> None:
        match probe:
            case Look(who=who, page=page):
                identity, exclusive, detail = self.look(who, page)
                self.record(step, who, page, "page", identity, detail)
                if identity not in NOT_PRESENT:
                    self.record(step, who, page, "anon_exclusive", exclusive)
            case Shared(who=who, other=other):
                value = shared_summary(self.identities(who), self.identities(other))
                self.record(step, who, None, "shared", value, f"with {other}")
            case Folio(who=who, page=page):
                kind, detail = self.folio(who, page)
                self.record(step, who, page, "folio", kind, detail)
                self.record(step, who, page, "mapped", self.mapped(who, page))

    def look(self, who: str, page: int) -> tuple[object, object, str]:
        """Page identity, AnonExclusive and kernel-only detail of ``who``'s ``page``."""
        entry = pagemap.read_pagemap(self.pid(who), self.memory.region.page_addr(page))[0]
        identity = self.identity(entry)
        if not isinstance(identity, int):
            return identity, HIDDEN if identity == HIDDEN else None, ""
        if not self.frames_readable:
            return identity, HIDDEN, ""
        (frame,) = pagemap.frames([identity])
        detail = (
            f"mapcount={frame.mapcount} swapcache={int(frame.swapcache)} "
            f"pm56={int(entry.mapped_exclusively)}"
        )
        if frame.compound:  # a subpage of a large folio: [head PFN, index]
            head, _ = pagemap.folio_extent(identity, self.experiment.pages)
            detail += f" flags={frame.large_kind},{frame.compound.upper()}"
            return [head, identity - head], frame.anon_exclusive, detail
        return identity, frame.anon_exclusive, detail

    def folio(self, who: str, page: int) -> tuple[str, str]:
        """The kind of folio behind ``who``'s ``page`` ('small', 'THP', 'hugetlb'), and its size."""
        entry = pagemap.read_pagemap(self.pid(who), self.memory.region.page_addr(page))[0]
        identity = self.identity(entry)
        if identity in NOT_PRESENT:
            return str(identity), ""
        if identity == HIDDEN or not self.frames_readable:
            return HIDDEN, ""
        (frame,) = pagemap.frames([identity])
        _, frames = pagemap.folio_extent(identity, self.experiment.pages)
        return frame.large_kind or SMALL, f"size={frames * PAGE_SIZE // 1024}kB"

    def mapped(self, who: str, page: int) -> str:
        """'PMD' if one entry maps the whole folio, from /proc/PID/smaps, else 'PTE'.

        AnonHugePages counts a mapping's PMD-mapped THP memory; a 2 MiB hugetlb
        mapping has 2048 kB page table entries (x86-64 PMDs). The lab's large
        mappings each hold exactly one folio, so the mapping's figure is the folio's.
        """
        fields = pagemap.vma_fields(self.pid(who), self.memory.region.page_addr(page))
        huge = fields.get("AnonHugePages", 0) > 0 or fields.get("KernelPageSize", 0) == 2048
        return "PMD" if huge else "PTE"

    def require_thp(self, who: str, page: int) -> None:
        """A THP experiment means nothing on 4 KiB pages: skip when none was allocated."""
        if self.mapped(who, page) != "PMD":
            raise Unavailable(
                "no THP: the first write faulted in a 4 KiB page "
                "(THP allocation failed, or THP is disabled for this process)"
            )

    @staticmethod
    def identity(entry: pagemap.PagemapEntry) -> object:
        """A raw PFN, or HIDDEN, SWAPPED, ABSENT; ``look`` turns subpages into [head, index]."""
        if entry.present:
            return entry.pfn if entry.pfn is not None else HIDDEN
        return SWAPPED if entry.swapped else ABSENT

    def identities(self, who: str) -> list[object]:
        region = self.memory.region
        entries = pagemap.read_pagemap(self.pid(who), region.addr, region.pages)
        return [self.identity(e) for e in entries]

    def exclusive_flags(self, identities: list[object]) -> list[object]:
        """AnonExclusive of every present frame; read while the actor keeps them mapped."""
        pfns = [i for i in identities if isinstance(i, int)]
        flags: dict[object, bool] = {}
        if pfns and self.frames_readable:
            flags = {f.pfn: f.anon_exclusive for f in pagemap.frames(pfns)}
        return [None if i in NOT_PRESENT else flags.get(i, HIDDEN) for i in identities]
