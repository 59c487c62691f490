"""The self-contained player: its HTML contract, precomputed frames, size and stability."""

import json
import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser

import pytest
from IPython.lib.pretty import pretty

from cowlib import PRESETS, BadArgument, UnknownPreset
from cowlib.scenarios import SCENARIOS
from cowlib.view.player import Player
from cowlib.view.text import render_step


class _Tags(HTMLParser):
    """Start tags with their attributes, and the text of <script> elements."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)

    def handle_data(self, data):
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None


def parse(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    return tags


def with_class(tags: _Tags, cls: str) -> list[tuple[str, dict]]:
    return [(t, a) for t, a in tags.tags if cls in (a.get("class") or "").split()]


def data_of(player: Player) -> dict:
    (data,) = [
        text
        for attrs, text in parse(player.html()).scripts
        if attrs.get("type") == "application/json"
    ]
    return json.loads(data)


def test_player_html_has_every_control_of_the_contract():
    player = Player("S2")
    tags = parse(player.html())
    (root,) = with_class(tags, "cow-player")
    assert root[0] == "div" and re.fullmatch(r"cow-player-[0-9a-f]{12}", root[1]["id"])
    for cls in ("cow-prev", "cow-next", "cow-play"):
        assert [t for t, _ in with_class(tags, cls)] == ["button"], cls
    ((tag, slider),) = with_class(tags, "cow-slider")
    assert (tag, slider["type"], slider["min"], slider["max"]) == ("input", "range", "0", "7")
    assert [t for t, _ in with_class(tags, "cow-preset")] == ["select"]
    assert [a["value"] for t, a in tags.tags if t == "option"] == list(PRESETS)
    ((_, frame),) = with_class(tags, "cow-frame")
    assert frame["data-step"] == "0"
    assert not [a for t, a in tags.tags if a.get("src") or a.get("href")]


def test_player_has_one_frame_and_text_per_step_per_preset():
    player = Player("S7")
    data = data_of(player)
    assert data["steps"] == 13 and [p["name"] for p in data["presets"]] == list(PRESETS)
    for preset, r in zip(data["presets"], player.runs, strict=True):
        assert len(preset["frames"]) == len(preset["texts"]) == 13
        assert [data["texts"][i] for i in preset["texts"]] == [render_step(s) for s in r.trace]
        assert all(f"step {i} " in data["frames"][f] for i, f in enumerate(preset["frames"]))


def test_identical_frames_are_stored_once():
    data = data_of(Player("S2"))
    uses = [f for p in data["presets"] for f in p["frames"]]
    assert len(data["frames"]) == len(set(uses)) < len(uses)
    assert len({p["frames"][0] for p in data["presets"]}) == 1  # spawn looks the same


def test_outcome_line_names_each_presets_violation_and_step():
    html = Player("S2").html()
    rows = re.findall(r'<tr data-preset="\d"[^>]*>(.*?)</tr>', html)
    assert len(rows) == 6
    assert "leak at step 7" in rows[0] and "missed copy" in rows[0]
    assert all("no violation" in row and "needed copy" in row for row in rows[2:])


def test_policy_objects_are_presets_too():
    without = PRESETS["linux-5.11"].without("rule4")
    player = Player("S8", presets=["linux-5.11", without], start_preset=without)
    html = player.html()
    assert f'<option value="{without.name}" selected>' in html
    assert [bool(r.outcome.violations) for r in player.runs] == [False, True]
    assert "stale-pin at step" in html


def test_initial_frame_and_text_are_those_of_the_start_preset():
    player = Player("S2", start_preset="linux-6.x")
    data = data_of(player)
    html = player.html()
    start = data["presets"][-1]
    assert data["frames"][start["frames"][0]] in html
    assert escape(render_step(SCENARIOS["S2"].run("linux-6.x").trace[0])) in html


def test_id_is_a_hash_of_actions_and_presets():
    assert Player("S2").id == Player(SCENARIOS["S2"].actions).id
    assert Player("S2").id != Player("S2", presets=["linux-5.7", "linux-6.x"]).id
    assert Player("S2").id != Player("S3").id


def test_output_is_the_same_in_every_process():
    code = (
        "import hashlib; from cowlib.view.player import Player; "
        "print(hashlib.sha256(Player('S3').html().encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_a_run_the_kernel_refuses_stops_with_the_reason():
    player = Player(
        "P:mmap 1; P:write 0 X; P:mprotect 0 1 r; P:write 0 Y; P:read 0",
        presets=["linux-5.7", "linux-6.x"],
    )
    data = data_of(player)
    assert data["steps"] == 5  # spawn, mmap, write, mprotect, then the refusal
    last = data["frames"][data["presets"][0]["frames"][-1]]
    assert "stopped here" in last and "SIGSEGV" in last
    assert "stopped:" in player.html()


def test_page_values_cannot_end_the_script_element():
    html = Player(
        "P:mmap 1; P:write 0 '</script><script>alert(1)</script>'",
        presets=["linux-6.x", "linux-5.7"],
    ).html()
    assert html.count("</script>") == 2 and "alert(1)</script>" not in html
    assert json.loads(data_of_text(html))["steps"] == 3


def data_of_text(html: str) -> str:
    (data,) = [t for a, t in parse(html).scripts if a.get("type") == "application/json"]
    return data


def test_weight_of_a_long_scenario_under_six_presets_is_under_400_kb():
    assert len(Player("S7").html().encode()) < 400_000


def test_bad_arguments_are_cow_errors():
    with pytest.raises(BadArgument):
        Player("S2", presets=["linux-5.7"], start_preset="linux-6.x")
    with pytest.raises(UnknownPreset):
        Player("S2", presets=["linux-4.0"])
    with pytest.raises(BadArgument):
        Player("")


def test_text_form_gives_each_presets_outcome_and_deciding_steps():
    player = Player("S2", presets=["linux-5.7", "linux-6.x"])
    text = player.text()
    assert pretty(player) == text  # IPython's text/plain, stored in the notebook
    lines = text.splitlines()
    assert lines[0] == "S2: CVE-2020-29374: vmsplice in the child, child unmaps, parent writes"
    assert "linux-5.7: \u2716 leak at step 7; COW decisions: missed copy" in lines
    assert "linux-6.x: \u2714 no violation; COW decisions: needed copy" in lines
    # the write fault that decided (its explanation) and the step that leaked
    assert text.count("[6] P.write(0x10000, 'Y')") == 2
    assert "-> wp_page_reuse (pfn 1)" in text and "-> wp_page_copy (pfn 1 -> new pfn 2)" in text
    assert "!! LEAK: pipe1 (taken by C) shows 'Y'" in text
    assert "[3] P.fork" not in text  # a step that decides nothing is left out
    assert repr(player).startswith("<Player ")  # repr() stays short, for debugging


def test_player_is_a_described_focusable_group_with_a_live_step():
    player = Player("S2")
    tags = parse(player.html())
    ((_, root),) = with_class(tags, "cow-player")
    assert root["tabindex"] == "0" and root["role"] == "group"
    assert root["aria-label"].startswith("S2: CVE-2020-29374")
    ((_, live),) = with_class(tags, "cow-live")
    assert live["aria-live"] == "polite" and root["aria-describedby"] == live["id"]
    assert f'id="{live["id"]}"' in player.html()
    assert "step 0 of 7, linux-5.7: [0] spawn(&#x27;P&#x27;)" in player.html()
    ((tag, _),) = with_class(tags, "cow-legend")
    assert tag == "ul" and "writable PTE</li>" in player.html()  # text, not a picture
