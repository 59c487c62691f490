"""Presets side by side: steps aligned, divergence found and marked."""

import re

import pytest

from cowlib import PRESETS, BadArgument
from cowlib.view import compare


def test_s2_diverges_at_the_parents_write():
    c = compare("S2", ["linux-5.7", "linux-5.9-rc4"])
    assert c.divergent == [6, 7] and c.first_divergence == 6
    html = c.html()
    assert "first diverge at step 6" in html
    marked = re.findall(
        r'<tr class="cow-diverge" data-step="(\d+)"><td>\d+<div[^>]*>'
        r"\u2260 diverges</div>",
        html,
    )
    assert marked == ["6", "7"]
    assert "\u2716 LEAK" in html and "COW: missed copy" in html and "COW: needed copy" in html


def test_diagrams_of_differing_steps_are_side_by_side_and_the_first_divergence_is_open():
    html = compare("S2", ["linux-5.7", "linux-5.9-rc4"]).html()
    # the decision differs at P's write; at fork only the lock's name (mmap_sem in 5.7)
    assert html.count("<details") == 3 and html.count("<details open>") == 1
    opened = html.split("<details open>")[1].split("</details>")[0]
    assert opened.count("<svg") == 2 and "step 6  P.write" in opened


def test_same_outcomes_under_different_reasoning_differ_but_do_not_diverge():
    c = compare("S1", ["linux-5.11", "linux-5.18"])
    assert c.divergent == [] and c.first_divergence is None
    assert "same under every preset" in c.html()
    assert "The outcomes are the same under every preset." in c.html()


def test_compare_takes_actions_and_policies():
    c = compare(
        "P:mmap 1; P:write 0 X; P:pin 0 rw long; K:pageout P 0; P:read 0; P:write 0 Y; pin1:read",
        [PRESETS["linux-5.11"], PRESETS["linux-5.11"].without("rule4")],
    )
    assert c.differing[0] == 4  # pageout: rule 4 keeps the pinned page out of swap
    assert c.first_divergence == 6  # the write: a wrong copy without rule 4
    assert "linux-5.11 without rule4" in c.html()


def test_compare_needs_two_presets():
    with pytest.raises(BadArgument):
        compare("S2", ["linux-5.7"])
