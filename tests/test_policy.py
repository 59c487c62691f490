"""Policies: every switch does something, presets resolve leniently, metadata is complete."""

import pytest

from cowlib import PRESETS, RULES, SWITCHES, BadArgument, Policy, UnknownPreset
from cowlib.memory import REUSE_TESTS
from cowlib.policy import get_policy
from cowlib.scenarios import SCENARIOS, Outcome


def flip_base(switch: str) -> Policy:
    """linux-5.11, or linux-6.x for a switch that needs one 5.11 has off."""
    needs = SWITCHES[switch].requires
    return PRESETS[
        "linux-6.x" if needs and not getattr(PRESETS["linux-5.11"], needs) else "linux-5.11"
    ]


FLIPS = [(s, v) for s, sw in SWITCHES.items() for v in sw.values if getattr(flip_base(s), s) != v]


def changed_scenarios(base: Policy, policy: Policy) -> list[str]:
    return [
        name
        for name, s in SCENARIOS.items()
        if Outcome.of(s.run(policy)) != Outcome.of(s.run(base))
    ]


@pytest.mark.parametrize(("switch", "value"), FLIPS, ids=[f"{s}={v}" for s, v in FLIPS])
def test_flipping_one_switch_on_5_11_changes_some_scenario(switch, value):
    """Catches a dead switch: each value, set alone on linux-5.11, changes an outcome.

    A switch that requires another (mprotect_upgrade needs PageAnonExclusive) is flipped
    on linux-6.x, where the switch it needs is on."""
    base = flip_base(switch)
    assert changed_scenarios(base, base.replace(**{switch: value}))


def test_every_switch_is_flipped():
    assert {s for s, _ in FLIPS} == set(SWITCHES)


def test_every_policy_field_is_a_switch_with_metadata():
    assert set(PRESETS["linux-6.x"].switches()) == set(SWITCHES)
    for name, switch in SWITCHES.items():
        for preset in PRESETS.values():
            assert getattr(preset, name) in switch.values
        for choice in switch.values.values():
            assert choice.behaviour


def test_reuse_tests_are_the_reuse_test_values():
    assert set(REUSE_TESTS) == set(SWITCHES["reuse_test"].values)


def test_rules_turn_off_switches_with_metadata():
    for rule in RULES.values():
        for switch, value in rule.switches.items():
            assert value in SWITCHES[switch].values
            assert SWITCHES[switch].rule in (None, *RULES), switch


def test_bad_switch_value_names_the_choices():
    with pytest.raises(BadArgument, match=r"reuse_test must be one of \('mapcount'"):
        Policy("x", reuse_test="refcount")
    with pytest.raises(BadArgument, match="anon_exclusive must be one of"):
        Policy("x", anon_exclusive=1)


@pytest.mark.parametrize(
    ("given", "preset"),
    [
        ("5.7", "linux-5.7"),
        ("LINUX-6.X", "linux-6.x"),
        ("6.x", "linux-6.x"),
        ("5.9", "linux-5.9-rc4"),
    ],
)
def test_short_and_differently_cased_preset_names(given, preset):
    assert get_policy(given).name == preset


def test_ambiguous_and_unknown_preset_names():
    with pytest.raises(UnknownPreset, match="ambiguous: linux-5.11, linux-5.18"):
        get_policy("5.1")
    with pytest.raises(UnknownPreset, match="valid presets: linux-5.7"):
        get_policy("4.19")
