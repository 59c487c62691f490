"""The guardian's bookkeeping: huge page records, the orphan sweep, the process itself.

A regular file stands in for /proc/sys/vm/nr_hugepages and a temporary
directory for /var/tmp, so these tests need neither root nor hugetlb; the
tests that kill a real lab are in test_lab_kill.py.
"""

import os
import subprocess
import sys
import time

import pytest

from cowlib.lab import guardian

linux = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")


@pytest.fixture
def sysctl(tmp_path):
    path = tmp_path / "nr_hugepages"
    path.write_text("3\n")
    return str(path)


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state"
    path.mkdir()
    return str(path)


def count(path: str) -> int:
    return guardian.read_count(path)


def test_reserve_adds_and_release_takes_back_only_what_was_added(sysctl, state):
    assert guardian.reserve_hugepages(state, 2, sysctl) == 2
    assert count(sysctl) == 5
    assert guardian.read_record(state) == {"path": sysctl, "added": 2}
    guardian.write_count(sysctl, 9)  # another lab reserved 4 more meanwhile
    guardian.release_hugepages(state)
    assert count(sysctl) == 7
    assert guardian.read_record(state) is None


def test_release_is_idempotent_and_a_no_op_without_a_record(sysctl, state):
    guardian.release_hugepages(state)
    guardian.reserve_hugepages(state, 2, sysctl)
    guardian.release_hugepages(state)
    guardian.release_hugepages(state)
    assert count(sysctl) == 3


def test_a_raise_interrupted_mid_write_is_reverted_to_the_old_value(sysctl, state):
    guardian.write_record(state, {"path": sysctl, "old": 3, "raising_to": 5})
    guardian.write_count(sysctl, 4)  # the kernel had found one page when the writer died
    guardian.release_hugepages(state)
    assert count(sysctl) == 3 and guardian.read_record(state) is None


def test_a_release_interrupted_mid_write_is_completed(sysctl, state):
    guardian.write_record(state, {"path": sysctl, "restoring_to": 1})
    guardian.release_hugepages(state)
    assert count(sysctl) == 1 and guardian.read_record(state) is None


def test_a_refused_write_leaves_a_record_of_nothing_added(sysctl, state, monkeypatch):
    def refuse(path: str, value: int) -> None:
        raise PermissionError(13, "Permission denied (simulated)")

    monkeypatch.setattr(guardian, "write_count", refuse)
    with pytest.raises(PermissionError):
        guardian.reserve_hugepages(state, 2, sysctl)
    assert guardian.read_record(state) == {"path": sysctl, "added": 0}


def test_state_directory_names_their_lab_by_pid_and_start_time():
    me = os.getpid()
    name = f"{guardian.PREFIX}{me}-{guardian.start_time(me)}-abc123"
    assert guardian.owner(name) == (me, guardian.start_time(me))
    assert guardian.owner_alive(name)
    assert not guardian.owner_alive(f"{guardian.PREFIX}{me}-1-abc123")  # a reused pid
    assert guardian.owner("cowlib-swap-12-x") is None
    assert guardian.owner(f"{guardian.PREFIX}x-y") is None


@linux
def test_sweep_undoes_the_directories_of_dead_labs_and_keeps_live_ones(tmp_path, sysctl):
    dead = subprocess.Popen(["sleep", "0"])
    dead_start = guardian.start_time(dead.pid)  # readable until it is reaped
    dead.wait()
    me = os.getpid()
    orphan = tmp_path / f"{guardian.PREFIX}{dead.pid}-{dead_start}-x"
    live = tmp_path / f"{guardian.PREFIX}{me}-{guardian.start_time(me)}-y"
    for d in (orphan, live):
        d.mkdir()
    (orphan / "scratch").write_text("left behind")
    guardian.write_record(str(orphan), {"path": sysctl, "added": 2})
    (tmp_path / "unrelated").mkdir()
    assert guardian.sweep(str(tmp_path)) == [str(orphan)]
    assert not orphan.exists() and live.exists() and (tmp_path / "unrelated").exists()
    assert count(sysctl) == 1


def test_undo_keeps_a_directory_whose_swapfile_cannot_be_swapped_off(state, monkeypatch):
    area = os.path.join(state, "swapfile")
    monkeypatch.setattr(guardian, "active_swaps", lambda: [area])

    def refuse(path: str) -> None:
        raise OSError(12, "Cannot allocate memory (simulated)")

    monkeypatch.setattr(guardian, "swapoff", refuse)
    with pytest.raises(OSError, match="swapoff failed"):
        guardian.undo(state)
    assert os.path.isdir(state)


@linux
def test_guardian_creates_the_state_directory_and_removes_it_at_eof(tmp_path):
    with guardian.Guardian(str(tmp_path)) as g:
        assert os.path.isdir(g.state)
        assert guardian.owner(os.path.basename(g.state))[0] == os.getpid()
        with open(os.path.join(g.state, "scratch"), "w") as f:
            f.write("x")
    assert os.listdir(tmp_path) == []
    assert g.proc.returncode == 0


@linux
def test_guardian_of_a_sigkilled_lab_removes_its_state_directory(tmp_path):
    code = (
        "import os, sys; from cowlib.lab.guardian import Guardian\n"
        "g = Guardian(sys.argv[1]).__enter__()\n"
        "open(os.path.join(g.state, 'scratch'), 'w').close()\n"
        "print(g.state, flush=True); os.kill(os.getpid(), 9)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    assert proc.returncode == -9, proc.stderr
    deadline = time.monotonic() + 10
    while os.listdir(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert os.listdir(tmp_path) == []


def test_guardian_answers_an_unknown_request_with_an_error(tmp_path):
    with guardian.Guardian(str(tmp_path)) as g:
        with pytest.raises(OSError, match="KeyError"):
            g.ask("frobnicate")
        with pytest.raises(OSError, match="TypeError"):
            g.ask("release now")
        g.release_hugepages()  # still serving: nothing reserved, nothing to release
    assert os.listdir(tmp_path) == []
