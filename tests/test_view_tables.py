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
