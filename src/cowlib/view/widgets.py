"""The live stepper (needs a running kernel and ipywidgets): choose a preset, turn
Linus's rules off one by one, append operations, and watch the trace change.

    from cowlib.view.widgets import Stepper
    Stepper("S2", preset="linux-5.11")     # then untick rule1: the leak comes back

ipywidgets is imported here only, so `import cowlib` and the other views stay light.
An action the kernel refuses (a CowError) is reported in the widget, never raised, with
its line breaks. Like the HTML player, the Stepper opens at step 0; appending moves to
the new last step, and changing the preset or a rule keeps the step shown. Its diagram
takes JupyterLab's theme colours (light or dark) through the views' CSS variables.
"""

from __future__ import annotations

from html import escape

import ipywidgets as w

from ..actions import split_actions
from ..errors import CowError
from ..kernel import Kernel
from ..policy import PRESETS, RULES, Policy, get_policy
from ..replay import Run, Source, replay, resolve, summary
from ..scenarios import Outcome
from .draw import THEME
from .player import INTERVAL_MS
from .svg import Diagram
from .text import render_step


class Stepper:
    """A scenario, action list, Kernel or trace as live widgets; None starts empty."""

    def __init__(
        self, scenario_or_actions: Source | None = None, preset: str | Policy | None = None
    ) -> None:
        self.actions, title = resolve(scenario_or_actions) if scenario_or_actions else ([], "")
        self.base = get_policy(preset)
        self.kernel = Kernel(self.base)
        self.error: str | None = None
        self.preset = w.Dropdown(
            options=list(PRESETS),
            description="preset",
            value=self.base.name if self.base.name in PRESETS else None,
        )
        self.rules = {
            name: w.Checkbox(
                value=True,
                description=f"{name}: {rule.summary}",
                indent=False,
                layout=w.Layout(width="auto"),
            )
            for name, rule in RULES.items()
        }
        self.slider = w.IntSlider(min=0, max=0, description="step", continuous_update=True)
        self.play = w.Play(min=0, max=0, interval=INTERVAL_MS)
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.prev = w.Button(description="\u25c0 Prev")
        self.next = w.Button(description="Next \u25b6")
        self.action = w.Text(
            placeholder="P:write 0 Z   (Enter to append)",
            continuous_update=False,
            layout=w.Layout(width="22em"),
        )
        self.add, self.undo = w.Button(description="append"), w.Button(description="undo last")
        self.message = w.HTML()
        self.outcome = w.HTML()
        self.frame = w.HTML()
        self.text = w.HTML()
        self._wire()
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{escape(title)}</b>") if title else w.HTML(),
                w.HBox([self.preset, self.prev, self.play, self.next, self.slider]),
                w.HBox(list(self.rules.values()), layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.action, self.add, self.undo]),
                self.message,
                self.outcome,
                self.frame,
                w.Accordion([self.text], titles=("text view of this step",)),
            ]
        )
        self.rerun()

    def _wire(self) -> None:
        self.preset.observe(lambda _: self.rerun(), "value")
        for box in self.rules.values():
            box.observe(lambda _: self.rerun(), "value")
        self.slider.observe(lambda _: self.show(), "value")
        self.prev.on_click(lambda _: self._move(-1))
        self.next.on_click(lambda _: self._move(+1))
        self.add.on_click(lambda _: self.append(self.action.value))
        self.action.observe(lambda change: self.append(change["new"]), "value")
        self.undo.on_click(lambda _: self.undo_last())

    def policy(self) -> Policy:
        """The chosen preset without the rules that are unticked."""
        off = [name for name, box in self.rules.items() if not box.value]
        base = PRESETS[self.preset.value] if self.preset.value else self.base
        return base.without(*off) if off else base

    def rerun(self) -> None:
        """Replay every action under the current policy; the step shown stays."""
        self.kernel = Kernel(self.policy())
        self.error = replay(self.kernel, self.actions)
        self.message.value = self._note(f"stopped: {self.error}") if self.error else ""
        self._at(self.slider.value)

    def append(self, text: str) -> bool:
        """Run more actions (cowlib action language) and keep those the kernel accepts."""
        if self.error:
            self.message.value = self._note("the run has stopped; undo the last action first")
            return False
        try:
            actions = split_actions(text)
        except CowError as e:
            self.message.value = self._note(str(e))
            return False
        for action in actions:
            error = replay(self.kernel, [action])
            if error:  # refused, so not kept: the state is as before (CowError contract)
                self.message.value = self._note(error)
                self._at(len(self.kernel.trace) - 1)
                return False
            self.actions.append(action)
        self.action.value, self.message.value = "", ""
        self._at(len(self.kernel.trace) - 1)
        return bool(actions)

    def undo_last(self) -> None:
        if self.actions:
            self.actions.pop()
            self.rerun()

    def _move(self, delta: int) -> None:
        self.slider.value = min(max(self.slider.value + delta, 0), self.slider.max)

    def _at(self, step: int) -> None:
        """Show step (clamped to the trace) and the run's outcome."""
        last = max(len(self.kernel.trace) - 1, 0)
        self.slider.max = self.play.max = last
        step = min(max(step, 0), last)
        if self.slider.value == step:
            self.show()
        self.slider.value = step
        run = Run(self.kernel.policy, tuple(self.kernel.trace), Outcome.of(self.kernel), self.error)
        self.outcome.value = f"<b>{escape(run.policy.name)}</b>: {escape(summary(run))}"

    def show(self) -> None:
        """Draw the step the slider points at."""
        trace = self.kernel.trace
        if not trace:
            self.frame.value = "<i>no steps yet: append an action, e.g. P:mmap 1</i>"
            self.text.value = ""
            return
        i = min(self.slider.value, len(trace) - 1)
        self.frame.value = Diagram(trace, i).html()
        self.text.value = f"<pre>{escape(render_step(trace[i]))}</pre>"

    @staticmethod
    def _note(text: str) -> str:
        """An error in the theme's colour, its lines kept (white-space: pre-wrap)."""
        return (
            f'<div class="cow-note"><style>{THEME}</style><div style="color:var(--cow-c-bad);'
            f'white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace)">'
            f"\u2716 {escape(text)}</div></div>"
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)
