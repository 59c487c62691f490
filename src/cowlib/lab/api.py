"""The lab's front door: run experiments, compare with the model, measure costs.

Everything that changes the system lives here, in the caller, under a
guardian process (``guardian.py``): the temporary swapfile and the huge page
reservation are made just before the runner starts and undone as soon as
it ended, however it ended; if this process dies first, SIGKILL included, the
guardian undoes them. SIGTERM is turned into an exception meanwhile, so that
the normal cleanup runs. The runner dies with this process (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from . import sandbox, swapfile, twin
from .errors import RunnerError, Unavailable
from .experiments import EXPERIMENTS
from .features import SCRATCH_DIR, Feature, available
from .guardian import Guardian
from .script import Observation
from .timing import FaultCosts, ForkPinCost
from .verdicts import Result, compare

TIMEOUT = 30.0
LAB_TRIALS = 11
HUGETLB_PAGES = 2  # P's page and room for one copy, as cow.c reserves
CHANGES = {"swap", "hugetlb"}  # the features whose experiments change the machine


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
    gap = twin.model_gap(experiment)
    model, model_error = ([], None) if gap else twin.run_model(experiment, preset)
    features = available() if features is None else features
    common = {
        "preset": preset,
        "model_error": model_error,
        "kernel_release": os.uname().release,
        "no_model": gap,
    }
    skipped = missing(experiment.needs, features)
    if skipped:
        return compare(experiment, model, None, skipped=skipped, **common)
    scratch = SCRATCH_DIR if "odirect" in experiment.needs else None  # unnamed files only
    request = {"job": "experiment", "name": name, "scratch": scratch, "trials": LAB_TRIALS}
    try:
        with sigterm_raises(), ExitStack() as stack:
            if CHANGES & set(experiment.needs):
                guardian = stack.enter_context(Guardian())
                if "swap" in experiment.needs:
                    stack.enter_context(swapfile.temporary_swap(guardian.state))
                if "hugetlb" in experiment.needs:
                    stack.enter_context(reserved_hugepages(guardian, HUGETLB_PAGES))
            answer = sandbox.launch(request, timeout)
    except Unavailable as e:
        return compare(experiment, model, None, skipped=str(e), **common)
    except (RunnerError, OSError) as e:
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


@contextmanager
def reserved_hugepages(guardian: Guardian, count: int) -> Iterator[None]:
    """``count`` more huge pages in the pool for the block; Unavailable if refused."""
    try:
        try:
            added = guardian.reserve_hugepages(count)
        except OSError as e:
            raise Unavailable(f"nr_hugepages refused: {e}") from e
        if added < count:
            raise Unavailable(f"huge page allocation refused: the kernel added {added} of {count}")
        yield
    finally:
        guardian.release_hugepages()


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
