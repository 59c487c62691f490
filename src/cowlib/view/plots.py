"""Charts (matplotlib, imported here only when a chart is drawn).

    from cowlib.view import plots
    from cowlib.moves import random_workload
    from cowlib.replay import count_classes
    plots.plot_classes(count_classes(random_workload(200)))   # COW classes per preset
    plots.plot_fault_costs(lab.fault_costs(), lab.fork_pin_cost())  # real-kernel costs

The write-fault classes are David Hildenbrand's (cowlib.CLASSES): reuse, needed copy,
unneeded copy, wrong copy and missed copy. A plot drawn into a new figure is a
cowlib.view.chart.Chart: as PNG opaque white; in HTML (the book, JupyterLab) inline SVG
whose text, axes and background follow the theme, light or dark, with a second layout
for narrow screens (horizontal bars, panels stacked, text >= 11 px on a phone); as text,
the figures it shows.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..trace import CLASSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..lab.timing import FaultCosts, ForkPinCost
    from .chart import Chart

# Okabe-Ito colours (colour-blind safe) plus a hatch per class, so print and grey work.
STYLE = {
    "reuse": ("#009E73", ""),
    "needed copy": ("#0072B2", "//"),
    "unneeded copy": ("#E69F00", "--"),  # not "..": its dots weigh 70 kB in SVG
    "wrong copy": ("#CC79A7", "xx"),
    "missed copy": ("#D55E00", "\\\\"),
}
# Sizes in inches (96 CSS px each in HTML) and fonts in points: the narrow layout is
# shown at about its natural size on a 390 px phone, so 9 pt text stays 12 px there.
WIDE_FONT, NARROW_FONT = 9, 9.5
NARROW_WIDTH = 3.6
MIN_FONT = {"wide": WIDE_FONT - 1, "narrow": NARROW_FONT - 1}  # pt: the bars' figures


def _style_axes(ax: Axes, ink: str, paper: str, title: str, horizontal: bool, font: float) -> None:
    """Colours, spines, the title (wrapped on the narrow layout) and bar order."""
    ax.set_title(textwrap.fill(title, 40) if horizontal else title, color=ink, fontsize=font + 1)
    ax.set_facecolor(paper)
    ax.tick_params(colors=ink)
    for spine in ax.spines.values():
        spine.set_color(ink)
    ax.spines[["top", "right"]].set_visible(False)
    if horizontal:
        ax.invert_yaxis()  # the first bar on top, as it is read


def _class_bars(
    ax: Axes, counts: Mapping[str, Counter], title: str, horizontal: bool, font: float
) -> None:
    """The grouped bars of plot_classes: a group per preset, a bar per class."""
    from .chart import INK, PAPER

    names = list(counts)
    width = 0.8 / len(CLASSES)
    for j, cls in enumerate(CLASSES):
        colour, hatch = STYLE[cls]
        xs = [i + (j - (len(CLASSES) - 1) / 2) * width for i in range(len(names))]
        values = [counts[n][cls] for n in names]
        draw = ax.barh if horizontal else ax.bar
        bars = draw(
            xs, values, width, label=cls, color=colour, hatch=hatch, edgecolor=INK, linewidth=0.5
        )
        ax.bar_label(bars, fontsize=font - 1, color=INK, padding=1)
    ticks = ax.set_yticks if horizontal else ax.set_xticks
    ticks(range(len(names)), names, color=INK, fontsize=font)
    (ax.set_xlabel if horizontal else ax.set_ylabel)("write faults", color=INK, fontsize=font)
    _style_axes(ax, INK, PAPER, title, horizontal, font)
    legend = ax.legend(
        ncols=2 if horizontal else len(CLASSES),
        fontsize=font,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1 if horizontal else -0.12),
    )
    for text in legend.get_texts():
        text.set_color(INK)


def _classes_alt(counts: dict[str, Counter], title: str) -> str:
    lines = [f"{title}, per preset:"]
    for name, counted in counts.items():
        lines.append(f"  {name}: " + ", ".join(f"{cls} {counted[cls]}" for cls in CLASSES))
    return "\n".join(lines)


def _new_chart(wide: tuple[float, float], narrow: tuple[float, float]) -> Chart:
    from matplotlib.figure import Figure

    from .chart import PAPER, Chart

    fig = Chart(figsize=wide, dpi=100, facecolor=PAPER)
    fig.narrow = Figure(figsize=narrow, dpi=100, facecolor=PAPER)
    for f in (fig, fig.narrow):
        f.patch.set_alpha(1.0)  # opaque, so the PNG reads the same on a dark page
    return fig


def plot_classes(
    counts: Mapping[str, Counter],
    ax: Axes | None = None,
    title: str = "Write faults by COW decision",
) -> Figure:
    """Grouped bars: for each preset, how many write faults fell in each class.

    counts is cowlib.replay.count_classes() of a workload: per preset name, a Counter of
    the COW decision classes. With ax, draws there and returns its figure; else a new Chart
    (see the module doc).
    """
    if ax is not None:
        _class_bars(ax, counts, title, False, WIDE_FONT)
        ax.figure.tight_layout()
        return ax.figure
    fig = _new_chart((8, 3.8), (NARROW_WIDTH, 1.6 + 0.95 * len(counts)))
    _class_bars(fig.subplots(), counts, title, False, WIDE_FONT)
    _class_bars(fig.narrow.subplots(), counts, title, True, NARROW_FONT)
    for f in (fig, fig.narrow):
        f.tight_layout()
    fig.alt = _classes_alt(counts, title)
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
    horizontal: bool = False,
    font: float = WIDE_FONT,
) -> None:
    """One bar per median and one dot per trial, all in microseconds."""
    from .chart import INK, PAPER

    for i, (height, values, (colour, hatch)) in enumerate(
        zip(heights, trials, styles, strict=True)
    ):
        style = {"color": colour, "hatch": hatch, "edgecolor": INK, "linewidth": 0.6}
        dots = [i + 0.42] * len(values)
        if horizontal:
            ax.barh(i, height, 0.6, **style)
            ax.plot(values, dots, "o", ms=3, color=INK, alpha=0.5)
            where, offset, align = (height, i), (3, 0), {"ha": "left", "va": "center"}
        else:
            ax.bar(i, height, 0.6, **style)
            ax.plot(dots, values, "o", ms=3, color=INK, alpha=0.5)
            where, offset, align = (i, height), (0, 3), {"ha": "center"}
        ax.annotate(
            f"{height:.2f}",
            where,
            xytext=offset,
            textcoords="offset points",
            color=INK,
            fontsize=font,
            **align,
        )
    (ax.set_yticks if horizontal else ax.set_xticks)(
        range(len(labels)), labels, color=INK, fontsize=font
    )
    (ax.set_xlabel if horizontal else ax.set_ylabel)("µs per page", color=INK, fontsize=font)
    _style_axes(ax, INK, PAPER, title, horizontal, font)
    if horizontal:
        ax.margins(x=0.18)  # room for the figure at the end of the longest bar


def _costs_alt(labels: Sequence[str], heights: Sequence[float], title: str) -> str:
    pairs = zip(labels, heights, strict=True)
    figures = (f"{' '.join(label.split())} {h:.2f}" for label, h in pairs)
    return f"{title}, µs per page: " + ", ".join(figures)


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
    single Axes, or a pair for both); by default a new Chart (see the module doc), its
    narrow layout with the panels stacked.
    """
    panels = []
    if costs is not None:
        loop = costs.loop_ns
        panels.append(
            (
                FAULT_LABELS,
                [costs.first_touch_ns / 1000, costs.reuse_ns / 1000, costs.copy_ns / 1000],
                [
                    [(t - loop) / 1000 for t in column]
                    for column in (costs.first_touch, costs.reuse, costs.copy)
                ],
                [(GREY, ""), STYLE["reuse"], STYLE["unneeded copy"]],
                f"One write fault per page ({costs.pages} pages, median of {len(costs.copy)})",
            )
        )
    if fork is not None:
        per_page = fork.pages * 1000
        plain = [t / per_page for t in fork.plain]
        pinned = [t / per_page for t in fork.pinned]
        panels.append(
            (
                FORK_LABELS,
                [
                    fork.plain_ns / per_page,
                    fork.pinned_ns / per_page,
                    fork.extra_per_page_ns / 1000,
                ],
                [plain, pinned, [b - a for a, b in zip(plain, pinned, strict=False)]],
                [(GREY, ""), (STYLE["needed copy"][0], ""), STYLE["needed copy"]],
                f"fork() of {fork.pages} pages (median of {len(fork.plain)})",
            )
        )
    if not panels:
        raise ValueError("plot_fault_costs needs fault costs, fork costs or both")
    if ax is not None:
        axes = [ax] if not isinstance(ax, Sequence) else list(ax)
        if len(axes) != len(panels):
            raise ValueError(f"{len(panels)} panels to draw, {len(axes)} Axes given")
        for a, panel in zip(axes, panels, strict=True):
            _cost_bars(a, *panel)
        axes[0].figure.tight_layout()
        return axes[0].figure
    two = len(panels) == 2
    fig = _new_chart((9 if two else 5.4, 3.6), (NARROW_WIDTH, 2.6 * len(panels)))
    wide = fig.subplots(1, len(panels), width_ratios=[3, 2] if two else None, squeeze=False)
    narrow = fig.narrow.subplots(len(panels), 1, squeeze=False)
    for a, b, panel in zip(wide[0], narrow[:, 0], panels, strict=True):
        _cost_bars(a, *panel)
        _cost_bars(b, *panel, horizontal=True, font=NARROW_FONT)
    for f in (fig, fig.narrow):
        f.tight_layout()
    fig.alt = "\n".join(_costs_alt(labels, heights, title) for labels, heights, *_, title in panels)
    return fig
