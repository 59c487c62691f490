"""The lab's front door: run experiments, compare with the model, measure costs.

Everything that changes the system or must outlive a crashed runner lives
here, in the caller: the scratch directory and the temporary swapfile are
created before the runner starts and removed after it ended, however it
ended. SIGTERM is turned into an exception meanwhile so that cleanup runs.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from . import sandbox, swapfile, twin
from .errors import RunnerError, Unavailable
from .experiments import EXPERIMENTS
from .features import SCRATCH_DIR, Feature, available
from .script import Observation
from .timing import FaultCosts, ForkPinCost
from .verdicts import Result, compare

TIMEOUT = 30.0
LAB_TRIALS = 11


class Terminated(Exception):
    """SIGTERM arrived during an experiment; raised so every cleanup path runs."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block SIGTERM raises Terminated (only the main thread can catch signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def experiment_names() -> list[str]:
    return list(EXPERIMENTS)


def missing(needs: tuple[str, ...], features: dict[str, Feature]) -> str | None:
    """The reasons of the needed features that are not available, or None."""
    reasons = [f"{features[n].name}: {features[n].reason}" for n in needs if not features[n].ok]
    return "; ".join(reasons) or None


def run(
    name: str,
    *,
    features: dict[str, Feature] | None = None,
    preset: str = twin.PRESET,
    timeout: float = TIMEOUT,
) -> Result:
    """Run experiment ``name`` on this machine's kernel and in the model; compare them."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    experiment = EXPERIMENTS[name]
    model, model_error = twin.run_model(experiment, preset)
    features = available() if features is None else features
    common = {"preset": preset, "model_error": model_error, "kernel_release": os.uname().release}
    skipped = missing(experiment.needs, features)
    if skipped:
        return compare(experiment, model, None, skipped=skipped, **common)
    try:
        with sigterm_raises(), ExitStack() as stack:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(dir=scratch_dir()))
            if "swap" in experiment.needs:
                stack.enter_context(swapfile.temporary_swap(SCRATCH_DIR))
            request = {"job": "experiment", "name": name, "scratch": scratch}
            answer = sandbox.launch(request | {"trials": LAB_TRIALS}, timeout)
    except Unavailable as e:
        return compare(experiment, model, None, skipped=str(e), **common)
    except RunnerError as e:
        return compare(experiment, model, None, error=str(e), **common)
    if "skipped" in answer:
        return compare(experiment, model, None, skipped=answer["skipped"], **common)
    kernel = [Observation(**o) for o in answer["observations"]]
    return compare(experiment, model, kernel, error=answer.get("error"), **common)


def run_all(
    names: list[str] | None = None, *, preset: str = twin.PRESET, timeout: float = TIMEOUT
) -> list[Result]:
    """Run every experiment (or ``names``), detecting the machine's features once."""
    features = available()
    return [
        run(n, features=features, preset=preset, timeout=timeout)
        for n in (names or experiment_names())
    ]


def scratch_dir() -> str | None:
    return SCRATCH_DIR if os.access(SCRATCH_DIR, os.W_OK) else None


def measure(job: str, needs: tuple[str, ...], pages: int, trials: int, timeout: float) -> dict:
    """Run a timing job in a runner; raise Unavailable when a needed feature is missing."""
    reason = missing(needs, available())
    if reason:
        raise Unavailable(reason)
    with sigterm_raises():
        answer = sandbox.launch({"job": job, "pages": pages, "trials": trials}, timeout)
    if "skipped" in answer:
        raise Unavailable(answer["skipped"])
    return answer


def fault_costs(pages: int = 10_000, trials: int = 21, timeout: float = 60.0) -> FaultCosts:
    """Per-page first-touch, copy, reuse and no-fault pass times (ns), in a fresh process."""
    answer = measure("fault_costs", ("linux",), pages, trials, timeout)
    return FaultCosts(
        answer["pages"], answer["first_touch"], answer["copy"], answer["reuse"], answer["loop"]
    )


def fork_pin_cost(pages: int = 10_000, trials: int = 11, timeout: float = 60.0) -> ForkPinCost:
    """fork() with the mapping unpinned and io_uring-pinned; raises Unavailable without io_uring."""
    answer = measure("fork_pin_cost", ("linux", "io_uring"), pages, trials, timeout)
    return ForkPinCost(answer["pages"], answer["plain"], answer["pinned"])
