"""Killing the lab at any moment leaves the machine as it was.

Each test runs ``lab.run_all([experiment])`` in a process of its own, waits
until the lab is at a chosen point (its swapfile active, its huge pages
reserved, its runner busy), sends SIGKILL or SIGTERM to that process only,
and checks that within a few seconds /proc/swaps, nr_hugepages (every huge
page size) and /var/tmp are as before, and that the lab's runner and its
children are gone. The lab's own state directories are told apart from other
sessions' by the pid in their name.
"""

import ctypes
import glob
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from cowlib import lab
from cowlib.lab import guardian
from cowlib.lab.experiments import EXPERIMENTS

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/pagemap"), reason="needs Linux"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab changes the machine only as root"),
]

LAB = "import sys; from cowlib import lab; lab.run_all(sys.argv[1:])"
RUNNER = "cowlib.lab.sandbox"
DEADLINE = 20.0  # to reach a point, and to be clean again after the kill
HUGEPAGE_COUNTS = "/sys/kernel/mm/hugepages/*/nr_hugepages"
PR_SET_CHILD_SUBREAPER = 36


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (zombies included)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True unless ``pid`` is gone or a zombie (killed, not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def runners(lab_pid: int) -> list[int]:
    return [p for p in children(lab_pid) if RUNNER in cmdline(p)]


def state_dirs(lab_pid: int) -> list[str]:
    return glob.glob(os.path.join(guardian.BASE, f"{guardian.PREFIX}{lab_pid}-*"))


def swaps(lab_pid: int) -> list[str]:
    prefix = os.path.join(guardian.BASE, f"{guardian.PREFIX}{lab_pid}-")
    return [area for area in guardian.active_swaps() if area.startswith(prefix)]


def hugepage_counts() -> dict[str, int]:
    return {path: guardian.read_count(path) for path in glob.glob(HUGEPAGE_COUNTS)}


def swap_in_use(lab_pid: int, before: dict[str, int]) -> bool:
    """The runner has pages out on the lab's swapfile (swap-pin's MADV_PAGEOUT ran)."""
    with open("/proc/swaps") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return any(row[0] in swaps(lab_pid) and int(row[3]) > 0 for row in rows)


def hugepage_in_use(lab_pid: int, before: dict[str, int]) -> bool:
    """The pool has grown and the runner has faulted in one of the new huge pages."""
    grown = [p for p, n in hugepage_counts().items() if n > before.get(p, 0)]
    return any(
        guardian.read_count(p.replace("nr_hugepages", "free_hugepages")) < guardian.read_count(p)
        for p in grown
    ) and bool(runners(lab_pid))


def runner_forked(lab_pid: int, before: dict[str, int]) -> bool:
    """The runner is inside the experiment: it has forked the child actor."""
    return any(children(runner) for runner in runners(lab_pid))


POINTS: dict[str, tuple[str, Callable[[int, dict[str, int]], bool]]] = {
    "swap": ("swap-pin", swap_in_use),
    "hugetlb": ("hugetlb-vmsplice", hugepage_in_use),
    "plain": ("fault-cost", runner_forked),
}


def wait_for(condition: Callable[[], bool], what: str, lab_proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if lab_proc.poll() is not None:
            pytest.fail(f"the lab exited ({lab_proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"the lab did not reach {what} within {DEADLINE:g} s")
        time.sleep(0.002)


def leftovers(lab_pid: int, before: dict[str, int], processes: list[int]) -> dict[str, object]:
    """What the killed lab still has changed; empty when the machine is as before.

    Called once its guardian has exited: nothing is left to wait for.
    """
    found = {
        "state directories": state_dirs(lab_pid),
        "swap areas": swaps(lab_pid),
        "nr_hugepages": {p: n for p, n in hugepage_counts().items() if n != before.get(p)},
        "processes": [p for p in processes if alive(p)],
    }
    return {k: v for k, v in found.items() if v}


@contextmanager
def subreaper() -> Iterator[None]:
    """Orphans of the lab become this process's children, so their exit status is seen."""
    set_subreaper = ctypes.CDLL(None, use_errno=True).prctl
    set_subreaper(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        set_subreaper(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def reap(pid: int) -> int | None:
    """The wait status of an orphan now ours; None if the lab had reaped it itself."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        time.sleep(0.005)
    pytest.fail(f"process {pid} ({cmdline(pid)}) still alive {DEADLINE:g} s after the kill")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("point", list(POINTS))
def test_killed_lab_leaves_nothing_changed(point, signum):
    name, reached = POINTS[point]
    reason = lab.api.missing(EXPERIMENTS[name].needs, lab.available())
    if reason:
        pytest.skip(reason)
    before = hugepage_counts()
    with subreaper():
        proc = subprocess.Popen([sys.executable, "-c", LAB, name], stderr=subprocess.PIPE)
        try:
            wait_for(lambda: reached(proc.pid, before), f"the {point} point", proc)
            (runner,) = runners(proc.pid)
            actors = children(runner)
            guardians = [p for p in children(proc.pid) if "guardian.py" in cmdline(p)]
            os.kill(proc.pid, signum)
            proc.wait(DEADLINE)
            statuses = {pid: reap(pid) for pid in [runner, *actors, *guardians]}
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stderr.close()
    assert leftovers(proc.pid, before, list(statuses)) == {}
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        # nobody closed anything: the runner died of its parent-death signal, and the
        # guardian found the pipe's EOF and undid the lab's changes
        assert os.WIFSIGNALED(statuses[runner]) and os.WTERMSIG(statuses[runner]) == 9
        assert [statuses[g] for g in guardians] == [0] * len(guardians)
    else:
        assert proc.returncode == 1  # Terminated raised, every cleanup ran, then the exit
        assert statuses[runner] is None  # the lab killed and reaped its runner itself


def test_a_lab_killed_with_its_guardian_is_swept_by_the_next_lab():
    """Both SIGKILLed: the swapfile stays on and the pages reserved, until the next run."""
    if not (lab.available()["swap"].ok and lab.available()["hugetlb"].ok):
        pytest.skip("needs swap and hugetlb")
    code = (
        "import os; from cowlib.lab import guardian, swapfile\n"
        "g = guardian.Guardian().__enter__()\n"
        "swap = swapfile.temporary_swap(g.state); swap.__enter__()\n"
        "g.reserve_hugepages(2)\n"
        "os.kill(g.proc.pid, 9); g.proc.wait(); os.kill(os.getpid(), 9)"
    )
    before = hugepage_counts()
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == -signal.SIGKILL, err
        (state,) = state_dirs(proc.pid)
        assert swaps(proc.pid) and hugepage_counts() != before  # both outlived the lab
        with guardian.Guardian():
            assert not os.path.exists(state)  # the sweep ran before the guardian's own dir
        assert swaps(proc.pid) == [] and hugepage_counts() == before
    finally:
        for state in state_dirs(proc.pid):
            guardian.undo(state)
