"""COW decision classes per preset, counted and drawn."""

import re
from collections import Counter

import pytest

from cowlib import CLASSES, PRESETS
from cowlib.moves import random_workload
from cowlib.replay import count_classes
from cowlib.scenarios import SCENARIOS, scenario_workload
from cowlib.view import plots


def test_scenario_counts_are_the_sum_of_the_expected_decisions():
    counts = count_classes(scenario_workload())
    assert list(counts) == list(PRESETS)
    for preset, counted in counts.items():
        expected = Counter(dict.fromkeys(CLASSES, 0))
        for s in SCENARIOS.values():
            expected.update(s.expected(preset).decisions)
        assert counted == expected, preset


def test_random_workload_is_reproducible():
    assert random_workload(5, seed=3) == random_workload(5, seed=3)
    assert random_workload(5, seed=3) != random_workload(5, seed=4)


def test_class_chart_has_a_bar_per_class_per_preset_on_an_opaque_background():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    presets = ["linux-5.7", "linux-6.x"]
    counts = count_classes(scenario_workload(), presets)
    fig = plots.plot_classes(counts)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == presets
    heights = [round(bar.get_height()) for bar in ax.patches]
    assert heights == [counts[p][c] for c in CLASSES for p in presets]
    assert fig.patch.get_alpha() == 1.0 and fig.patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(CLASSES)


def fabricated_costs():
    """FaultCosts and ForkPinCost as the lab returns them, with made-up ns figures."""
    from cowlib.lab.timing import FaultCosts, ForkPinCost

    faults = FaultCosts(
        pages=1000,
        first_touch=[2100.0, 1900.0, 2000.0],
        copy=[2800.0, 2600.0, 2700.0],
        reuse=[1000.0, 1100.0, 900.0],
        loop=[110.0, 100.0, 90.0],
    )
    forks = ForkPinCost(pages=1000, plain=[1.2e6, 1.3e6, 1.4e6], pinned=[13e6, 14e6, 13.5e6])
    return faults, forks


def test_cost_chart_draws_the_lab_medians_with_a_dot_per_trial_on_an_opaque_background():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    faults, forks = fabricated_costs()
    fig = plots.plot_fault_costs(faults, forks)
    left, right = fig.axes
    assert [round(bar.get_height(), 6) for bar in left.patches] == [1.9, 0.9, 2.6]
    assert [bar.get_height() for bar in left.patches] == pytest.approx(
        [faults.first_touch_ns / 1000, faults.reuse_ns / 1000, faults.copy_ns / 1000]
    )
    assert [bar.get_height() for bar in right.patches] == pytest.approx(
        [1.3, 13.5, forks.extra_per_page_ns / 1000]
    )
    assert forks.extra_per_page_ns / 1000 == pytest.approx(12.2)
    assert [t.get_text() for t in left.get_xticklabels()] == list(plots.FAULT_LABELS)
    assert [t.get_text() for t in right.get_xticklabels()] == list(plots.FORK_LABELS)
    assert left.get_ylabel() == right.get_ylabel() == "µs per page"
    assert "1000 pages" in left.get_title() and "fork()" in right.get_title()
    # one dot per trial, loop subtracted: the copy fault's trials
    copy_dots = left.lines[2].get_ydata()
    assert list(copy_dots) == pytest.approx([2.7, 2.5, 2.6])
    assert [len(line.get_ydata()) for line in left.lines + right.lines] == [3] * 6
    assert [t.get_text() for t in left.texts] == ["1.90", "0.90", "2.60"]
    assert fig.patch.get_alpha() == 1.0 and fig.patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    for ax in fig.axes:
        assert ax.get_facecolor()[:3] == (1.0, 1.0, 1.0)


def test_cost_chart_draws_one_panel_when_fork_costs_are_missing():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    faults, forks = fabricated_costs()
    (ax,) = plots.plot_fault_costs(faults).axes
    assert len(ax.patches) == 3
    (ax,) = plots.plot_fault_costs(fork=forks).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == list(plots.FORK_LABELS)
    with pytest.raises(ValueError):
        plots.plot_fault_costs()


def test_cost_chart_draws_into_given_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faults, forks = fabricated_costs()
    fig, (a, b) = plt.subplots(1, 2)
    try:
        assert plots.plot_fault_costs(faults, forks, ax=(a, b)) is fig
        assert len(a.patches) == len(b.patches) == 3
        with pytest.raises(ValueError):
            plots.plot_fault_costs(faults, forks, ax=a)
    finally:
        plt.close(fig)


def test_chart_html_is_inline_svg_in_the_theme_colours_with_a_phone_layout():
    pytest.importorskip("matplotlib")
    from IPython.lib.pretty import pretty

    from cowlib.view.chart import INK, PAPER

    presets = ["linux-5.7", "linux-6.x"]
    counts = count_classes(scenario_workload(), presets)
    fig = plots.plot_classes(counts)
    html = fig._repr_html_()
    assert html.count("<svg") == 2 and 'class="cow-wide"' in html and 'class="cow-narrow"' in html
    assert INK not in html and PAPER not in html  # drawn in the theme's colours instead
    assert "fill: var(--cow-c-fg)" in html and "var(--jp-layout-color0" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # both layouts (and other charts) share a page
    assert html == plots.plot_classes(counts)._repr_html_()  # stable stored output
    text = pretty(fig)
    assert text.splitlines()[1] == "  linux-5.7: " + ", ".join(
        f"{c} {counts['linux-5.7'][c]}" for c in CLASSES
    )
    assert f'aria-label="{text.splitlines()[0]}' in html
    (narrow,) = fig.narrow.axes
    assert [t.get_text() for t in narrow.get_yticklabels()] == presets  # horizontal bars


def test_cost_chart_text_gives_every_median():
    pytest.importorskip("matplotlib")
    from IPython.lib.pretty import pretty

    faults, forks = fabricated_costs()
    text = pretty(plots.plot_fault_costs(faults, forks))
    assert "first touch (zero-filled page) 1.90, reuse fault (wp_page_reuse) 0.90" in text
    assert "extra per pinned page 12.20" in text
    assert len(plots.plot_fault_costs(faults).narrow.axes) == 1


def test_chart_has_a_png_for_front_ends_without_html():
    pytest.importorskip("matplotlib")
    png = plots.plot_classes(count_classes(scenario_workload(), ["linux-6.x"]))._repr_png_()
    assert png.startswith(b"\x89PNG")
