"""Charts (matplotlib, imported here only when a chart is drawn).

    from cowlib.view import plots
    plots.plot_classes(plots.random_workload(200))      # a Figure: COW classes per preset

The write-fault classes are David Hildenbrand's (cowlib.CLASSES): reuse, needed copy,
unneeded copy, wrong copy and missed copy. Figures have an opaque white background,
so they read the same in the book's light and dark mode.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..actions import random_actions, split_actions
from ..oracle import CLASSES
from ..policy import Policy
from ..scenarios import SCENARIOS
from .runs import policies, run

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe-Ito colours (colour-blind safe) plus a hatch per class, so print and grey work.
STYLE = {
    "reuse": ("#009E73", ""),
    "needed copy": ("#0072B2", "//"),
    "unneeded copy": ("#E69F00", ".."),
    "wrong copy": ("#CC79A7", "xx"),
    "missed copy": ("#D55E00", "\\\\"),
}
INK, PAPER = "#222222", "#ffffff"


def random_workload(
    n: int = 200, length: int = 12, pages: int = 2, seed: int = 0
) -> list[list[str]]:
    """n reproducible random action sequences (cowlib.actions.random_actions)."""
    return [random_actions(seed + i, length, pages) for i in range(n)]


def scenario_workload() -> list[list[str]]:
    """Every named scenario once."""
    return [split_actions(s.actions) for s in SCENARIOS.values()]


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


def plot_classes(
    workload: Iterable[str | list[str]] | None = None,
    presets: Iterable[str | Policy] | None = None,
    ax: Axes | None = None,
    title: str = "Write faults by COW decision",
) -> Figure:
    """Grouped bars: for each preset, how many write faults fell in each class.

    workload defaults to scenario_workload(); pass random_workload(n) for many random runs.
    """
    import matplotlib.pyplot as plt

    counts = count_classes(scenario_workload() if workload is None else workload, presets)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
        plt.close(fig)  # returned, not shown twice by the inline backend
    fig = ax.figure
    fig.patch.set_facecolor(PAPER)
    fig.patch.set_alpha(1.0)
    ax.set_facecolor(PAPER)
    names = list(counts)
    width = 0.8 / len(CLASSES)
    for j, cls in enumerate(CLASSES):
        colour, hatch = STYLE[cls]
        xs = [i + (j - (len(CLASSES) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(
            xs,
            [counts[n][cls] for n in names],
            width,
            label=cls,
            color=colour,
            hatch=hatch,
            edgecolor=INK,
            linewidth=0.5,
        )
        ax.bar_label(bars, fontsize=7, color=INK, padding=1)
    ax.set_xticks(range(len(names)), names, color=INK)
    ax.set_ylabel("write faults", color=INK)
    ax.set_title(title, color=INK)
    ax.tick_params(colors=INK)
    for spine in ax.spines.values():
        spine.set_color(INK)
    ax.spines[["top", "right"]].set_visible(False)
    legend = ax.legend(
        ncols=len(CLASSES),
        fontsize=8,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
    )
    for text in legend.get_texts():
        text.set_color(INK)
    fig.tight_layout()
    return fig
