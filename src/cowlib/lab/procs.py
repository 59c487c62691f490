"""Child processes that cannot outlive the lab.

Every child gets an ``alarm()`` watchdog and PR_SET_PDEATHSIG, and leaves
only through ``os._exit``, so it never runs its parent's cleanup code (a
forked pytest or notebook must not continue in two processes).
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections.abc import Callable

from . import syscalls


def fork_child(body: Callable[[], None], alarm: int) -> int:
    """Fork a child that runs ``body`` under an ``alarm`` watchdog, then exits."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        signal.alarm(alarm)
        syscalls.die_with_parent()
        if os.getppid() == parent:
            body()
            status = 0
    except BaseException:  # noqa: BLE001 - a child must never unwind into its parent's code
        traceback.print_exc()
    finally:
        os._exit(status)


def reap(pid: int, timeout: float) -> int:
    """Wait for ``pid`` up to ``timeout`` seconds, then SIGKILL it; return its wait status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.0005)
    return kill(pid)


def kill(pid: int) -> int:
    """SIGKILL ``pid`` and reap it (no-op if it is already gone)."""
    try:
        os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    except (ProcessLookupError, ChildProcessError):
        return 0
