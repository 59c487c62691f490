"""Each kernel run happens in a fresh Python process, killed as a group on timeout.

The caller may be a notebook kernel or pytest, with threads and large
mappings: forking it would be unsafe and slow. :func:`launch` starts
``python -c`` in a new session with a JSON request on stdin; :func:`serve`
is that process: one CPU (so the per-CPU LRU batch is the one MADV_PAGEOUT
drains), an ``alarm()`` watchdog, PR_SET_PDEATHSIG (it dies with its caller),
and a JSON answer on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import traceback
from dataclasses import asdict
from pathlib import Path

from . import syscalls, timing
from .errors import RunnerError, Unavailable
from .experiments import EXPERIMENTS
from .real import KernelRun
from .script import Observation

RUNNER_CODE = "from cowlib.lab.sandbox import serve; raise SystemExit(serve())"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def launch(request: dict, timeout: float) -> dict:
    """Run ``request`` in a fresh runner; on timeout or interrupt kill its whole group."""
    path = os.environ.get("PYTHONPATH")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_ROOT, path]))}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER_CODE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        ask = request | {"alarm": int(timeout) + 1, "parent": os.getpid()}
        out, err = proc.communicate(json.dumps(ask), timeout)
    except BaseException as e:
        os.killpg(proc.pid, signal.SIGKILL)  # the unreaped leader keeps its group id ours
        proc.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            raise RunnerError(f"lab runner timed out after {timeout:g} s and was killed") from e
        raise
    if proc.returncode != 0:
        raise RunnerError(f"lab runner exited with {proc.returncode}: {err.strip()[-2000:]}")
    return json.loads(out)


def serve() -> int:
    request = json.load(sys.stdin)
    signal.alarm(request["alarm"])
    syscalls.die_with_parent()  # the lab's caller died: nothing to report to, stop
    if os.getppid() != request["parent"]:
        return 1  # it died before prctl() could take effect
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        answer = JOBS[request["job"]](request)
    except Unavailable as e:
        answer = {"skipped": str(e)}
    json.dump(answer, sys.stdout)
    return 0


def run_experiment(request: dict) -> dict:
    """The kernel side of one experiment; a failure keeps the observations made so far."""
    experiment = EXPERIMENTS[request["name"]]
    run = KernelRun(experiment, request["scratch"], request["alarm"])
    answer: dict = {}
    try:
        run.run()
        if experiment.measure:
            run.observations += MEASURES[experiment.measure](experiment.pages, request["trials"])
    except Unavailable:
        raise
    except Exception:  # noqa: BLE001 - reported beside the partial observations
        answer["error"] = traceback.format_exc()
    answer["observations"] = [asdict(o) for o in run.observations]
    return answer


def cost(what: str, ns: float, text: str) -> Observation:
    return Observation("median", "P", None, what, round(ns), text)


def fault_cost_observations(pages: int, trials: int) -> list[Observation]:
    c = timing.measure_fault_costs(pages, trials)
    per = f"ns/page, median of {trials} trials of {pages} pages"
    return [
        cost("first touch", c.first_touch_ns, per),
        cost("reuse fault", c.reuse_ns, per),
        cost("copy fault", c.copy_ns, per),
        cost("spurious COW", c.spurious_cow_ns, "copy - reuse, " + per),
    ]


def fork_pin_observations(pages: int, trials: int) -> list[Observation]:
    c = timing.measure_fork_pin_cost(pages, trials)
    per = f"median of {trials} forks of {pages} pages"
    return [
        cost("fork, unpinned", c.plain_ns, "ns, " + per),
        cost("fork, pinned", c.pinned_ns, "ns, " + per),
        cost("fork per pinned page", c.extra_per_page_ns, "extra ns/page, " + per),
    ]


MEASURES = {"fault_costs": fault_cost_observations, "fork_pin_cost": fork_pin_observations}

JOBS = {
    "experiment": run_experiment,
    "fault_costs": lambda r: timing.measure_fault_costs(r["pages"], r["trials"]).to_dict(),
    "fork_pin_cost": lambda r: timing.measure_fork_pin_cost(r["pages"], r["trials"]).to_dict(),
}
