"""COW decision classes per preset, counted and drawn."""

from collections import Counter

import pytest

from cowlib import CLASSES, PRESETS
from cowlib.scenarios import SCENARIOS
from cowlib.view import plots


def test_scenario_counts_are_the_sum_of_the_expected_decisions():
    counts = plots.count_classes(plots.scenario_workload())
    assert list(counts) == list(PRESETS)
    for preset, counted in counts.items():
        expected = Counter(dict.fromkeys(CLASSES, 0))
        for s in SCENARIOS.values():
            expected.update(s.expected(preset).decisions)
        assert counted == expected, preset


def test_random_workload_is_reproducible():
    assert plots.random_workload(5, seed=3) == plots.random_workload(5, seed=3)
    assert plots.random_workload(5, seed=3) != plots.random_workload(5, seed=4)


def test_class_chart_has_a_bar_per_class_per_preset_on_an_opaque_background():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    presets = ["linux-5.7", "linux-6.x"]
    fig = plots.plot_classes(presets=presets)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == presets
    heights = [round(bar.get_height()) for bar in ax.patches]
    counts = plots.count_classes(plots.scenario_workload(), presets)
    assert heights == [counts[p][c] for c in CLASSES for p in presets]
    assert fig.patch.get_alpha() == 1.0 and fig.patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(CLASSES)
