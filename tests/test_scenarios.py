"""Every named scenario under every preset matches its expected outcome (kernel-facts.md §5)."""

import pytest

from cowlib import PRESETS
from cowlib.scenarios import RULE_BREAKERS, SCENARIOS, Outcome
from cowlib.trace import MISSED, NEEDED, REUSE, UNNEEDED, WRONG

CASES = [(s, p) for s in SCENARIOS for p in PRESETS]


@pytest.mark.parametrize(("name", "preset"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_scenario_matches_expected_outcome(name, preset):
    scenario = SCENARIOS[name]
    k = scenario.run(preset)
    assert Outcome.of(k).mismatches(scenario.expected(preset)) == []
    assert not [v for v in k.violations if v.kind == "accounting"]


def test_every_scenario_has_an_expectation_for_every_preset():
    for scenario in SCENARIOS.values():
        assert set(scenario.expect) == set(PRESETS), scenario.name


@pytest.mark.parametrize("rule", sorted(RULE_BREAKERS))
def test_turning_off_a_rule_on_5_11_breaks_its_scenario(rule):
    name, kinds = RULE_BREAKERS[rule]
    assert not SCENARIOS[name].run("linux-5.11").violations
    broken = SCENARIOS[name].run(PRESETS["linux-5.11"].without(rule))
    assert {v.kind for v in broken.violations} == kinds


def test_vmsplice_child_cannot_see_parent_writes_after_fork_under_page_count():
    k = SCENARIOS["S2"].run("linux-5.9-rc4")
    assert k.trace[-1].result == "X"
    assert k.stats[NEEDED] == 1 and k.stats[MISSED] == 0


def test_mapcount_rule_reuses_the_page_the_pipe_holds():
    k = SCENARIOS["S2"].run("linux-5.7")
    write = next(s for s in k.trace if s.action == "P:write 0 Y")
    assert (
        "mapcount 1 + swapcount 0 = 1 <= 1 -> reuse (page_count()=3 not consulted)" in write.explain
    )
    assert k.trace[-1].result == "Y"
    assert [v.kind for v in k.violations] == ["leak"]


def test_rdma_regression_breaks_the_pin_and_loses_device_writes():
    k = SCENARIOS["S6"].run("linux-5.9-rc4")
    assert k.stats[WRONG] == 1
    assert {v.kind for v in k.violations} == {"stale-pin", "lost-write"}
    fixed = SCENARIOS["S6"].run("linux-5.11")
    assert fixed.stats["fork_copies"] == 1
    assert fixed.trace[-1].result == "Z"


def test_seqcount_makes_gup_fast_back_off_during_fork():
    k = SCENARIOS["S7"].run("linux-5.11")
    check = next(s for s in k.trace if s.action == "P:gupf_check")
    assert "read_seqcount_retry(): write_protect_seq 0 -> 1" in check.explain
    racy = SCENARIOS["S7"].run(PRESETS["linux-5.11"].replace(write_protect_seq=False))
    assert [v.kind for v in racy.violations] == ["stale-pin"]


def test_pinned_page_is_kept_out_of_the_swap_cache():
    k = SCENARIOS["S8"].run("linux-5.11")
    pageout = next(s for s in k.trace if s.action.startswith("K:pageout"))
    assert "page_maybe_dma_pinned() (refcount 1025) -> keep_locked" in pageout.explain
    assert not pageout.snapshot.swap


def test_spurious_cow_counts_by_era():
    counts = {p: SCENARIOS["S12"].run(p).stats[UNNEEDED] for p in PRESETS}
    assert counts == {
        "linux-5.7": 0,
        "linux-5.8": 0,
        "linux-5.9-rc4": 1,
        "linux-5.11": 1,
        "linux-5.18": 0,
        "linux-6.x": 0,
    }
    assert SCENARIOS["S12"].run("linux-5.18").stats[REUSE] == 1
