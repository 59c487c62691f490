"""cowlib.web, the Python the in-page runner calls: a player, or the parser's or model's error."""

import json
import re
import subprocess
import sys
from html import unescape

import pytest

from cowlib import PRESETS, RULES
from cowlib.actions import split_actions
from cowlib.scenarios import SCENARIOS
from cowlib.view.player import Player
from cowlib.web import build, policy_for

S2 = SCENARIOS["S2"].actions
S8 = SCENARIOS["S8"].actions


def player_data(html: str) -> dict:
    (data,) = re.findall(r'<script type="application/json" class="cow-data">(.*?)</script>', html)
    return json.loads(data)


def outcome_rows(html: str) -> list[str]:
    rows = re.findall(r'<tr data-preset="\d+"[^>]*>(.*?)</tr>', html)
    return [unescape(re.sub(r"<[^>]+>", " ", row)) for row in rows]


def test_s2_under_linux_5_7_leaks_at_step_7():
    result = build(S2, "linux-5.7")
    (row,) = outcome_rows(result["html"])
    assert "leak at step 7" in row


def test_s2_under_linux_5_9_rc4_has_no_violation():
    (row,) = outcome_rows(build(S2, "linux-5.9-rc4")["html"])
    assert "no violation" in row


def test_rules_off_show_the_preset_beside_it_and_start_without_them():
    html = build(S8, "linux-5.11", ["rule4"])["html"]
    names = [p["name"] for p in player_data(html)["presets"]]
    assert names == ["linux-5.11", "linux-5.11 without rule4"]
    intact, without = outcome_rows(html)
    assert "no violation" in intact and "stale-pin at step 6" in without
    assert '<option value="linux-5.11 without rule4" selected>' in html


def test_the_player_is_the_books_player_for_those_actions():
    html = build(S2, "linux-5.7")["html"]
    assert html == Player(S2, presets=["linux-5.7"]).html()


def test_the_player_carries_its_actions_for_the_runner():
    actions = "P:mmap 1; P:write 0 'two words; a semicolon'; P:read 0"
    html = build(actions, "linux-6.x")["html"]
    (carried,) = re.findall(r'data-actions="([^"]*)"', html)
    assert split_actions(unescape(carried)) == split_actions(actions)


def test_rules_off_in_any_order_name_one_policy():
    assert policy_for("linux-6.x", ["rule4", "rule1", "rule4"]) == PRESETS["linux-6.x"].without(
        "rule1", "rule4"
    )


@pytest.mark.parametrize(
    "actions, preset, off, message",
    [
        ("P:mmap 1; P:wrte 0 X", "linux-6.x", [], "unknown process verb 'wrte'"),
        ("P:mmap 1; P write 0 X", "linux-6.x", [], "expected SUBJECT:VERB ARGS"),
        ("P:mmap 1; P:write 'X", "linux-6.x", [], "cannot parse actions"),
        ("P:mmap 1; P:write 3 X", "linux-6.x", [], "'P:write 3 X': P: write of unmapped"),
        ("P:mmap 1; pin9:read", "linux-6.x", [], "no pipe, pin or ref 'pin9'"),
        ("", "linux-6.x", [], "no actions to show"),
        ("P:mmap 1", "linux-4.0", [], "unknown preset 'linux-4.0'"),
        ("P:mmap 1", "linux-6.x", ["rule5"], "unknown rule 'rule5'"),
    ],
)
def test_bad_input_returns_the_parsers_or_models_message(actions, preset, off, message):
    result = build(actions, preset, off)
    assert list(result) == ["error"]
    assert message in result["error"].split("\n")[0]


def test_every_rule_can_be_turned_off_on_every_preset():
    for preset in PRESETS:
        for rule in RULES:
            assert "html" in build(S2, preset, [rule])


def test_web_needs_neither_ipywidgets_nor_matplotlib():
    """Pyodide has only the standard library: the runner's import must need nothing else."""
    code = (
        "import sys, cowlib.web; cowlib.web.build('P:mmap 1', 'linux-6.x');"
        "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'numpy', 'IPython')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
