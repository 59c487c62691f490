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
    NOT_PRESENT,
    SWAPPED,
    DirectWrite,
    Exit,
    Experiment,
    Fork,
    Look,
    Observation,
    Op,
    Pageout,
    PipeRead,
    Read,
    RegisterBuffers,
    ScriptStep,
    Shared,
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

    region: syscalls.Region
    scratch: str
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
                path = os.path.join(self.scratch, f"dio-{os.getpid()}")
                return syscalls.direct_write(path, region.page_addr(page)), []
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


class KernelRun:
    """One experiment on real processes; collects observations in script order."""

    def __init__(self, experiment: Experiment, scratch: str, alarm: int) -> None:
        self.experiment = experiment
        self.alarm = alarm
        self.memory = Actor(syscalls.Region(experiment.pages), scratch)
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

    def probe(self, step: ScriptStep, probe: Look | Shared) -> None:
        match probe:
            case Look(who=who, page=page):
                identity, exclusive, detail = self.look(who, page)
                self.record(step, who, page, "page", identity, detail)
                if identity not in NOT_PRESENT:
                    self.record(step, who, page, "anon_exclusive", exclusive)
            case Shared(who=who, other=other):
                value = shared_summary(self.identities(who), self.identities(other))
                self.record(step, who, None, "shared", value, f"with {other}")

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
        return identity, frame.anon_exclusive, detail

    @staticmethod
    def identity(entry: pagemap.PagemapEntry) -> object:
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
