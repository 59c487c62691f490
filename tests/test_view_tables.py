"""The chapters' tables: one Table with a Markdown and a text form, built from runs."""

import re

import pytest

from cowlib import PRESETS, history
from cowlib.actions import run_actions
from cowlib.kernel_names import version_key
from cowlib.scenarios import SCENARIOS
from cowlib.view.tables import (
    Table,
    follow_page,
    meaning_table,
    outcomes,
    preset_table,
    switch_table,
    violation_matrix,
)
from cowlib.view.text import explain, wrap


def test_table_markdown_escapes_pipes_and_text_aligns_without_markup():
    t = Table(["a", "b"], [["`x|y`", "**z**"], [1, 22]])
    assert t.markdown().splitlines() == [
        "| a | b |",
        "|---|---|",
        "| `x\\|y` | **z** |",
        "| 1 | 22 |",
    ]
    assert repr(t).splitlines() == ["a    b", "---  --", "x|y  z", "1    22"]
    with pytest.raises(ValueError, match="2 cells"):
        Table(["a"], [[1, 2]])


def test_outcomes_per_kernel_with_a_stats_column():
    t = outcomes("S6", ["linux-5.9-rc4", "linux-5.11"], "fork_copies")
    assert t.header == ["kernel", "violations", "COW decisions", "fork copies", "reads"]
    assert t.rows == [
        ["`linux-5.9-rc4`", "lost-write, stale-pin", "wrong copy", "0", "X, Y"],
        ["`linux-5.11`", "none", "-", "1", "Y, Z"],
    ]
    with pytest.raises(ValueError, match="unknown stats"):
        outcomes("S6", ["linux-5.11"], "copies")


def test_violation_matrix_bolds_what_the_newer_kernel_fixed():
    t = violation_matrix(
        [SCENARIOS["S1"], SCENARIOS["S10"]], PRESETS, fixed=("linux-5.11", "linux-6.x")
    )
    assert t.rows[0][0] == "S1" and t.rows[1][0] == "**S10**"
    assert t.rows[1][2:] == [
        "**stale-pin**",
        "ok",
        "**stale-pin**",
        "**stale-pin**",
        "**stale-pin**",
        "ok",
    ]


def test_follow_page_shows_the_pte_and_counters_after_each_step():
    k = SCENARIOS["S8"].run(PRESETS["linux-5.11"].without("rule4"))
    t = follow_page(k.trace, pfn=1)
    assert t.rows[2][:4] == ["`K:pageout P 0`", "swap slot 0", "1025", "0"]


def test_version_map_tables_cover_every_switch_and_preset():
    assert [row[0] for row in switch_table().rows][0] == "`reuse_test`"
    assert len(preset_table().rows) == len(PRESETS)
    assert any("feb889fb40fa" in row[2] for row in meaning_table().rows)


def test_meaning_table_gives_each_commit_its_first_tag_from_the_registry():
    cells = {row[0]: row[2] for row in meaning_table().rows}
    assert cells["`swap_skips_pinned` = yes (rule4)"] == "feb889fb40fa (v5.11-rc4)"
    # an unverified record says so, and the commit that ended a behaviour has its tag too
    assert cells["`reuse_test` = `mapcount` (rule1)"] == (
        "c475a8ab625d (v2.6.13-rc1, unverified); until 09854ba94c6a (v5.9-rc4)"
    )
    for cell in cells.values():
        for id in re.findall(r"\b[0-9a-f]{12}\b", cell):
            assert f"{id} ({history.commit(id).tag}" in cell


def test_preset_table_lists_no_commit_newer_than_the_preset_s_release():
    for row, policy in zip(preset_table().rows, PRESETS.values(), strict=True):
        assert row[1] == policy.era
        tags = re.findall(r"\((v[\d.]+(?:-rc\d+)?)", row[3])
        assert tags and all(version_key(t) <= version_key(policy.era) for t in tags), row
        assert [version_key(t) for t in tags] == sorted(version_key(t) for t in tags)


def test_wrap_keeps_indentation_and_explain_folds_a_step():
    assert wrap("  | " + "word " * 30, 40).splitlines()[1].startswith("        ")
    step = run_actions("P:mmap 1; P:write 0 X").trace[-1]
    assert explain(step, 50).splitlines()[0] == "[2] P.write(0x10000, 'X')"


def test_mentions_finds_whole_scenario_names_only():
    from cowlib.scenarios import mentions

    found = mentions({"a": "S13 and S1's story", "b": "S130, xS2, S2-like, (R2)", "c": ""})
    assert found["S1"] == ["a"] and found["S13"] == ["a"]
    assert found["S2"] == [] and found["R2"] == ["b"] and found["S3"] == []
    assert list(found) == list(SCENARIOS)


def test_scenario_index_is_computed_from_runs_and_chapters():
    from cowlib.view.tables import scenario_index

    t = scenario_index({"[One](one.md)": "S2 then S12", "[Two](two.md)": "S2"})
    assert t.header == [
        "scenario", "what it shows", "wrong under", "spurious copy under",
        "5.11 breaks without", "in the book",
    ]  # fmt: skip
    rows = {r[0].strip("*"): r for r in t.rows}
    assert list(rows) == list(SCENARIOS)
    assert rows["S2"][1:] == [
        SCENARIOS["S2"].title, "5.7 (leak)", "none", "rule1 (leak)",
        "[One](one.md), [Two](two.md)",
    ]  # fmt: skip
    assert rows["S12"][3] == "5.9-rc4, 5.11" and rows["S12"][5] == "[One](one.md)"
    assert rows["R2"][2] == "none" and rows["R2"][4] == "rule2 (leak)"
    assert rows["S3"][4] == "wrong on 5.11 already" and rows["S1"][5] == "-"
    # each rule's own scenario (RULE_BREAKERS) breaks on 5.11 without that rule
    from cowlib.scenarios import RULE_BREAKERS

    for rule, (name, _) in RULE_BREAKERS.items():
        assert rule in rows[name][4]


def test_scenario_index_of_two_presets_only():
    from cowlib.view.tables import scenario_index

    t = scenario_index({}, ["linux-5.11", "linux-6.x"])
    rows = {r[0].strip("*"): r for r in t.rows}
    assert rows["S2"][2] == "none" and rows["S9"][2] == "5.11 (stale-pin)"
