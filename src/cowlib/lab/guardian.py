"""The guardian: whatever the lab changes on the machine is undone when the lab dies.

The lab changes two system-wide settings, briefly: it enables a swapfile
(``swap-pin``) and reserves huge pages through ``/proc/sys/vm/nr_hugepages``
(``hugetlb-vmsplice``). Both belong to a *state directory*
``/var/tmp/cowlib-lab-<pid>-<start time>-*`` that a small guardian process
creates and watches:

- :class:`Guardian` (in the lab) starts ``python guardian.py LAB_PID BASE`` in a
  session of its own, with a pipe on its stdin. The guardian first sweeps the
  state directories of labs that are gone (:func:`sweep`), then creates this
  lab's directory and prints its path.
- The lab puts its swapfile in that directory and swaps it off itself when the
  experiment ends. It asks the guardian to raise and lower ``nr_hugepages``
  (one request line each): a kill of the lab can then never land in the
  middle of such a write.
- The guardian reads its stdin until EOF. EOF comes when the lab closes the
  pipe, or when the kernel closes it because the lab died, SIGKILL included.
  Then :func:`undo` restores ``nr_hugepages`` from the directory's record,
  swaps off every swap area in the directory and removes the directory.

Every undo is idempotent, so the lab, its guardian and a later lab's sweep
may meet on the same directory. ``nr_hugepages`` is changed only under an
exclusive flock on the sysctl file and by relative amounts (other labs may
hold pages too), with a record written *before* each write that says how to
finish or revert it: if the guardian itself is killed during a write, the sweep
of the next lab completes it. This module uses the standard library only: it
runs as a script (``python -I -S``), without cowlib on the path.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

BASE = "/var/tmp"
PREFIX = "cowlib-lab-"
NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"
RECORD = "hugepages.json"
START_TIMEOUT = 30.0


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), None if ``pid`` is gone.

    A pid plus its start time names one process for good: a later process that
    reuses the pid starts later.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def owner(name: str) -> tuple[int, int] | None:
    """(pid, start time) of the lab a state directory belongs to, from its name."""
    if not name.startswith(PREFIX):
        return None
    try:
        pid, start = name[len(PREFIX) :].split("-")[:2]
        return int(pid), int(start)
    except ValueError:
        return None


def owner_alive(name: str) -> bool:
    found = owner(name)
    return found is not None and start_time(found[0]) == found[1]


def sweep(base: str = BASE) -> list[str]:
    """Undo the state directories under ``base`` whose lab is gone; return their paths."""
    swept = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if owner(name) and not owner_alive(name) and os.path.isdir(path):
            undo(path)
            swept.append(path)
    return swept


def undo(state: str) -> None:
    """Restore nr_hugepages, swap off every swap area in ``state``, remove ``state``.

    A swapfile that cannot be swapped off is left in place (unlinking an
    active swapfile would keep it active, out of reach): the directory then
    stays, and the next sweep tries again.
    """
    release_hugepages(state)
    stuck = []
    for area in swaps_in(state):
        try:
            swapoff(area)
        except OSError as e:
            if area in swaps_in(state):
                stuck.append(f"{area}: {e.strerror}")
    if stuck:
        raise OSError(f"undo: swapoff failed, {state} kept: {'; '.join(stuck)}")
    shutil.rmtree(state, ignore_errors=True)


# Swap areas ----------------------------------------------------------------------------


def active_swaps() -> list[str]:
    """The swap areas /proc/swaps lists now (an unlinked file shows ' (deleted)')."""
    with open("/proc/swaps") as f:
        return [line.split()[0] for line in f.readlines()[1:]]


def swaps_in(directory: str) -> list[str]:
    inside = directory.rstrip("/") + "/"
    return [area for area in active_swaps() if area.startswith(inside)]


def swapoff(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.swapoff(path.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)


# Huge pages ----------------------------------------------------------------------------


@contextmanager
def locked(path: str) -> Iterator[None]:
    """An exclusive flock on ``path`` (the sysctl file itself): one changer at a time."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_count(path: str) -> int:
    with open(path) as f:
        return int(f.read())


def write_count(path: str, count: int) -> None:
    with open(path, "w") as f:
        f.write(f"{count}\n")


def read_record(state: str) -> dict | None:
    try:
        with open(os.path.join(state, RECORD)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def write_record(state: str, record: dict) -> None:
    """Replace the record atomically: a reader sees the old record or the new one."""
    path = os.path.join(state, RECORD)
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.replace(path + ".tmp", path)


def reserve_hugepages(state: str, count: int, path: str = NR_HUGEPAGES) -> int:
    """Raise ``path`` by ``count`` pages; return how many the kernel added (maybe fewer).

    The record names the value to go back to before the write happens; once
    the kernel has answered it holds the number actually added.
    """
    with locked(path):
        old = read_count(path)
        write_record(state, {"path": path, "old": old, "raising_to": old + count})
        try:
            write_count(path, old + count)
        finally:
            added = read_count(path) - old
            write_record(state, {"path": path, "added": added})
    return added


def release_hugepages(state: str) -> None:
    """Take back what the record of ``state`` says was added; a no-op without a record.

    Under the lock a record is in one of three states: ``raising_to`` (its
    writer died during the write: go back to ``old``), ``added`` (subtract it
    from today's value, which other labs may have raised meanwhile), or
    ``restoring_to`` (a release died during its write: write the target again).
    """
    record = read_record(state)
    if record is None:
        return
    with locked(record["path"]):
        record = read_record(state)  # another undo may have finished meanwhile
        if record is None:
            return
        path = record["path"]
        if "restoring_to" in record:
            target = record["restoring_to"]
        elif "raising_to" in record:
            target = record["old"]
        else:
            target = max(read_count(path) - record["added"], 0)
        write_record(state, {"path": path, "restoring_to": target})
        write_count(path, target)
        os.unlink(os.path.join(state, RECORD))


# The guardian process and the lab's handle on it ---------------------------------------


class Guardian:
    """The lab's side: start the guardian, get the state directory, close the pipe.

    ``with Guardian() as g:`` makes changes under ``g.state``; leaving the
    block (or dying) closes the guardian's stdin, and the guardian undoes
    what is left. Leaving the block waits until it has.
    """

    def __init__(self, base: str = BASE) -> None:
        self.base = base
        self.proc: subprocess.Popen | None = None
        self.state = ""

    def __enter__(self) -> Guardian:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), str(os.getpid()), self.base],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal's ^C or a group kill spares it
        )
        self.state = self.proc.stdout.readline().strip()
        if not self.state:
            self.close()
            raise OSError(f"the lab's guardian did not start: {self.errors()}")
        return self

    def ask(self, request: str) -> str:
        """Send one request line; return the guardian's answer (OSError if it failed)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        status, _, text = answer.partition(" ")
        if status != "ok":
            raise OSError(text or f"the lab's guardian died: {self.errors()}")
        return text

    def reserve_hugepages(self, count: int) -> int:
        """The guardian raises nr_hugepages by ``count``; return how many it got."""
        return int(self.ask(f"reserve {count}"))

    def release_hugepages(self) -> None:
        self.ask("release")

    def errors(self) -> str:
        return (self.proc.stderr.read() if self.proc and self.proc.poll() is not None else "")[
            -500:
        ]

    def close(self) -> None:
        """EOF to the guardian; wait until it has undone everything and exited."""
        assert self.proc is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        self.close()
        if self.proc.returncode != 0:
            raise OSError(f"the lab's guardian failed to clean up: {self.errors()}")


def serve(state: str) -> None:
    """Answer the lab's requests until EOF; the lab may be gone before an answer."""
    requests = {
        "reserve": lambda n: str(reserve_hugepages(state, int(n))),
        "release": lambda: release_hugepages(state) or "",
    }
    while line := sys.stdin.readline():
        verb, *args = line.split()
        try:
            answer = "ok " + requests[verb](*args)
        except (OSError, ValueError, KeyError, TypeError) as e:
            answer = f"error {type(e).__name__}: {e}"
        try:
            print(answer, flush=True)
        except BrokenPipeError:
            return  # the lab died waiting; EOF follows


def main(argv: list[str]) -> int:
    """The guardian: sweep orphans, create the lab's state directory, undo it at EOF.

    It changes nr_hugepages itself, on request: the lab may be SIGKILLed at
    any instant, but not in the middle of a write the guardian makes.
    """
    lab, base = int(argv[0]), argv[1]
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # only the pipe decides when to clean up
    started = start_time(lab)
    if os.getppid() != lab or started is None:
        return 1  # the lab is already gone: change nothing
    sweep(base)
    state = tempfile.mkdtemp(dir=base, prefix=f"{PREFIX}{lab}-{started}-")
    try:
        print(state, flush=True)
        serve(state)
    except BrokenPipeError:
        pass  # the lab died before it read the path
    finally:
        undo(state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
