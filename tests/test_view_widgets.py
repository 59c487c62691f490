"""The live stepper, driven from Python as the widgets' callbacks would drive it."""

import pytest

pytest.importorskip("ipywidgets")

from cowlib.view.widgets import Stepper  # noqa: E402


def test_stepper_opens_on_step_0_like_the_html_player():
    s = Stepper("S2", preset="linux-5.7")
    assert s.slider.value == 0 and s.slider.max == 7 == s.play.max
    assert "step 0  spawn('P')" in s.frame.value
    assert "leak at step 7" in s.outcome.value
    assert "[0] spawn(&#x27;P&#x27;)" in s.text.value
    s.slider.value = 7
    assert "step 7  pipe1.read()" in s.frame.value and "LEAK" in s.frame.value


def test_changing_the_preset_keeps_the_step_shown():
    s = Stepper("S2", preset="linux-5.7")
    s.slider.value = 6
    s.preset.value = "linux-6.x"
    assert s.slider.value == 6 and "step 6  P.write" in s.frame.value


def test_diagram_takes_jupyterlab_theme_colours():
    s = Stepper("S2", preset="linux-5.7")
    for name in ("--jp-layout-color0", "--jp-content-font-color1", "--jp-error-color1"):
        assert name in s.frame.value, name
    assert ".bg{fill:var(--cow-c-bg)}" in s.frame.value


def test_an_error_keeps_its_line_breaks():
    s = Stepper("S2")
    assert not s.append("P:write 0 'unclosed")
    note = s._note("cannot parse 'x'\n  expected: P:write N VALUE")
    assert "white-space:pre-wrap" in note and "&#x27;x&#x27;\n  expected:" in note


def test_unticking_rule1_brings_back_the_leak():
    s = Stepper("S2", preset="linux-5.11")
    assert "no violation" in s.outcome.value
    s.rules["rule1"].value = False
    assert s.policy().name == "linux-5.11 without rule1"
    assert "leak at step 7" in s.outcome.value
    s.rules["rule1"].value = True
    assert "no violation" in s.outcome.value


def test_preset_dropdown_reruns_the_same_actions():
    s = Stepper("S6", preset="linux-6.x")
    s.preset.value = "linux-5.9-rc4"
    assert s.kernel.policy.name == "linux-5.9-rc4"
    assert "stale-pin at step 6" in s.outcome.value


def test_buttons_and_slider_move_through_the_steps():
    s = Stepper("S2")
    s.slider.value = 7
    s.prev.click()
    assert s.slider.value == 6 and "step 6  P.write" in s.frame.value
    s.next.click()
    s.next.click()
    assert s.slider.value == 7
    s.slider.value = 0
    assert "step 0  spawn('P')" in s.frame.value


def test_appended_actions_run_and_are_kept():
    s = Stepper("S2", preset="linux-5.7")
    assert s.append("P:write 0 Z; pipe1:read")
    assert s.actions[-2:] == ["P:write 0 Z", "pipe1:read"]
    assert s.slider.value == 9 and "pipe1.read() -&gt; &#x27;Z&#x27;" in s.text.value


def test_a_refused_action_is_reported_in_the_widget_and_not_kept():
    s = Stepper("S2")
    before = list(s.actions)
    for bad, said in (
        ("C:write 0 Q", "C:write 0 Q"),
        ("Z:frobnicate", "unknown process verb &#x27;frobnicate&#x27;"),
        ("Z:write 0 X", "named &#x27;Z&#x27;"),
        ("P:write 0 'unclosed", "cannot parse"),
    ):
        assert not s.append(bad)
        assert "\u2716" in s.message.value and said in s.message.value
    assert s.actions == before and s.slider.max == 7


def test_an_empty_stepper_grows_one_action_at_a_time():
    s = Stepper()
    assert "no steps yet" in s.frame.value
    s.action.value = "P:mmap 1"  # Enter (or leaving the box) appends
    assert s.slider.max == 1 and s.action.value == ""
    s.add.click()  # nothing left to append
    assert s.slider.max == 1
    s.undo.click()
    assert s.actions == [] and "no steps yet" in s.frame.value


def test_stepper_displays_as_a_widget():
    bundle = Stepper("S1")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
