"""Replaying an action list under several policies: what players, comparisons and charts show.

A run replays an action list on a fresh Kernel and stops at the first CowError (an
operation one policy allows and another refuses), keeping the steps it made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .actions import apply
from .errors import BadArgument, CowError
from .grammar import split_actions
from .kernel import Kernel
from .policy import PRESETS, Policy, get_policy
from .scenarios import SCENARIOS, Outcome, Scenario
from .trace import CLASSES, Step

Source = Scenario | str | Iterable[str] | Kernel | Sequence[Step]
"""A scenario (or its name, "S2"), an action string or list, a Kernel, or a trace."""


@dataclass(frozen=True)
class Run:
    """One action list replayed under one policy."""

    policy: Policy
    trace: tuple[Step, ...]
    outcome: Outcome
    error: str | None = None  # the CowError that stopped the run early
    stats: dict[str, int] = field(default_factory=dict)  # the kernel's stats at the end


def resolve(source: Source) -> tuple[list[str], str]:
    """The action list of a source, and a title for it."""
    if isinstance(source, str) and source in SCENARIOS:
        source = SCENARIOS[source]
    if isinstance(source, Scenario):
        return split_actions(source.actions), f"{source.name}: {source.title}"
    if isinstance(source, Kernel):
        source = source.trace
    if isinstance(source, Sequence) and source and isinstance(source[0], Step):
        return [s.action for s in source], "; ".join(s.action for s in source)
    actions = split_actions(source)
    if not actions:
        raise BadArgument("no actions to show")
    return actions, "; ".join(actions)


def policies(presets: Iterable[str | Policy] | None = None) -> list[Policy]:
    """Policies by preset name or as given; None means every preset, oldest first."""
    chosen = [get_policy(p) for p in (PRESETS if presets is None else presets)]
    if not chosen:
        raise BadArgument("no presets to show")
    names = [p.name for p in chosen]
    if len(set(names)) != len(names):
        raise BadArgument(f"a preset appears twice: {names}")
    return chosen


def replay(k: Kernel, actions: Iterable[str]) -> str | None:
    """Apply actions to k until the kernel refuses one; that CowError's message, or None."""
    for action in actions:
        try:
            apply(k, action)
        except CowError as e:
            return str(e)
    return None


def run(actions: list[str], policy: Policy) -> Run:
    """Replay actions on Kernel(policy), stopping at the first one the kernel refuses."""
    k = Kernel(policy)
    error = replay(k, actions)
    return Run(policy, tuple(k.trace), Outcome.of(k), error, dict(k.stats))


def summary(r: Run) -> str:
    """One line: the violations (with their steps) or that there were none, and the
    COW decisions in order."""
    bad = [f"{v.kind} at step {v.step}" for s in r.trace for v in s.violations]
    verdict = "\u2716 " + ", ".join(bad) if bad else "\u2714 no violation"
    cows = ", ".join(r.outcome.decisions) or "none"
    stopped = f"; stopped: {r.error}" if r.error else ""
    return f"{verdict}; COW decisions: {cows}{stopped}"


def count_classes(
    workload: Iterable[str | list[str]], presets: Iterable[str | Policy] | None = None
) -> dict[str, Counter]:
    """Write faults by class, per preset name, over every action sequence of workload."""
    sequences = [split_actions(actions) for actions in workload]
    counts: dict[str, Counter] = {}
    for policy in policies(presets):
        total = Counter(dict.fromkeys(CLASSES, 0))
        for actions in sequences:
            total.update(run(actions, policy).outcome.decisions)
        counts[policy.name] = total
    return counts
