"""Charts (matplotlib, imported here only when a chart is drawn).

    from cowlib.view import plots
    from cowlib.moves import random_workload
    from cowlib.replay import count_classes
    plots.plot_classes(count_classes(random_workload(200)))   # COW classes per preset
    plots.plot_fault_costs(lab.fault_costs(), lab.fork_pin_cost())  # real-kernel costs

The write-fault classes are David Hildenbrand's (cowlib.CLASSES): reuse, needed copy,
unneeded copy, wrong copy and missed copy. Figures have an opaque white background,
so they read the same in the book's light and dark mode.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..trace import CLASSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..lab.timing import FaultCosts, ForkPinCost

# Okabe-Ito colours (colour-blind safe) plus a hatch per class, so print and grey work.
STYLE = {
    "reuse": ("#009E73", ""),
    "needed copy": ("#0072B2", "//"),
    "unneeded copy": ("#E69F00", ".."),
    "wrong copy": ("#CC79A7", "xx"),
    "missed copy": ("#D55E00", "\\\\"),
}
INK, PAPER = "#222222", "#ffffff"


def plot_classes(
    counts: Mapping[str, Counter],
    ax: Axes | None = None,
    title: str = "Write faults by COW decision",
) -> Figure:
    """Grouped bars: for each preset, how many write faults fell in each class.

    counts is cowlib.replay.count_classes() of a workload: per preset name, a Counter of
    the COW decision classes.
    """
    import matplotlib.pyplot as plt

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


FAULT_LABELS = (
    "first touch\n(zero-filled page)",
    "reuse fault\n(wp_page_reuse)",
    "copy fault\n(wp_page_copy)",
)
FORK_LABELS = ("fork, per\nmapped page", "fork, per\npinned page", "extra per\npinned page")
GREY = "#bbbbbb"


def _cost_bars(
    ax: Axes,
    labels: Sequence[str],
    heights: Sequence[float],
    trials: Sequence[Sequence[float]],
    styles: Sequence[tuple[str, str]],
    title: str,
) -> None:
    """One bar per median and one dot per trial, all in microseconds."""
    for i, (height, values, (colour, hatch)) in enumerate(
        zip(heights, trials, styles, strict=True)
    ):
        ax.bar(i, height, 0.6, color=colour, hatch=hatch, edgecolor=INK, linewidth=0.6)
        ax.plot([i + 0.42] * len(values), values, "o", ms=3, color=INK, alpha=0.5)
        ax.annotate(
            f"{height:.2f}",
            (i, height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            color=INK,
            fontsize=9,
        )
    ax.set_xticks(range(len(labels)), labels, color=INK, fontsize=9)
    ax.set_ylabel("µs per page", color=INK)
    ax.set_title(title, color=INK, fontsize=10)
    ax.set_facecolor(PAPER)
    ax.tick_params(colors=INK)
    for spine in ax.spines.values():
        spine.set_color(INK)
    ax.spines[["top", "right"]].set_visible(False)


def plot_fault_costs(
    costs: FaultCosts | None = None,
    fork: ForkPinCost | None = None,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Real-kernel costs per page: a bar per median, a dot per trial, in µs.

    costs is a cowlib.lab.FaultCosts (lab.fault_costs()): first touch, reuse fault and
    copy fault, each the lab's median with the loop's own cost subtracted
    (``first_touch_ns``, ``reuse_ns``, ``copy_ns``); copy minus reuse is the price of a
    spurious COW. fork is a cowlib.lab.ForkPinCost (lab.fork_pin_cost()): fork() per
    mapped page unpinned (``plain_ns / pages``), pinned (``pinned_ns / pages``) and the
    difference (``extra_per_page_ns``, rule 3's eager copy); its dots pair each plain fork
    with the pinned fork that followed it. Either may be None (say, no io_uring here),
    not both; with both the figure has two panels. ax is one Axes per panel drawn (a
    single Axes, or a pair for both); by default a new Figure, opaque white, is made.
    """
    import matplotlib.pyplot as plt

    panels = [p for p in (costs, fork) if p is not None]
    if not panels:
        raise ValueError("plot_fault_costs needs fault costs, fork costs or both")
    if ax is None:
        fig, axes = plt.subplots(
            1,
            len(panels),
            figsize=(9 if len(panels) == 2 else 5.4, 3.6),
            dpi=100,
            width_ratios=[3, 2] if len(panels) == 2 else None,
            squeeze=False,
        )
        axes = list(axes[0])
        plt.close(fig)  # returned, not shown twice by the inline backend
    else:
        axes = [ax] if not isinstance(ax, Sequence) else list(ax)
        if len(axes) != len(panels):
            raise ValueError(f"{len(panels)} panels to draw, {len(axes)} Axes given")
        fig = axes[0].figure
    fig.patch.set_facecolor(PAPER)
    fig.patch.set_alpha(1.0)
    axes_left = iter(axes)
    if costs is not None:
        loop = costs.loop_ns
        _cost_bars(
            next(axes_left),
            FAULT_LABELS,
            [costs.first_touch_ns / 1000, costs.reuse_ns / 1000, costs.copy_ns / 1000],
            [
                [(t - loop) / 1000 for t in column]
                for column in (costs.first_touch, costs.reuse, costs.copy)
            ],
            [(GREY, ""), STYLE["reuse"], STYLE["unneeded copy"]],
            f"One write fault per page ({costs.pages} pages, median of {len(costs.copy)})",
        )
    if fork is not None:
        per_page = fork.pages * 1000
        plain = [t / per_page for t in fork.plain]
        pinned = [t / per_page for t in fork.pinned]
        _cost_bars(
            next(axes_left),
            FORK_LABELS,
            [fork.plain_ns / per_page, fork.pinned_ns / per_page, fork.extra_per_page_ns / 1000],
            [plain, pinned, [b - a for a, b in zip(plain, pinned, strict=False)]],
            [(GREY, ""), (STYLE["needed copy"][0], ""), STYLE["needed copy"]],
            f"fork() of {fork.pages} pages (median of {len(fork.plain)})",
        )
    fig.tight_layout()
    return fig
