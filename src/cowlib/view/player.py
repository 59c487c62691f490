"""A self-contained HTML/JS stepper: every step under every preset, precomputed.

    from cowlib.view.player import Player
    Player("S2")                                    # a named scenario, all six presets
    Player("P:mmap 1; P:write 0 X; P:fork C", presets=["linux-5.7", "linux-6.x"])
    Player(k)                                       # a Kernel's trace
    Player("S8", presets=[PRESETS["linux-5.11"], PRESETS["linux-5.11"].without("rule4")])

Displaying a Player gives one HTML fragment: Prev / Play / Next, a slider, a preset
selector, one line per preset with its outcome, the diagram (.cow-frame), its legend and
the text view of the current step. Frames are inline SVG stored once each as JSON
strings and the script is inline: it steps in the built book with no kernel and no
network. The id is a hash of the actions and presets, so stored outputs are stable.

For a screen reader, the player is a focusable group whose description is a live
region saying the current step (operation, explanation, violations); as text
(text/plain, the notebook's text form) it is each preset's outcome and the steps that
decided it: every COW decision and every violation, with the kernel's explanation.
The root's data-actions holds the actions as one line, for the book's in-page runner
(cowlib.web).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from html import escape

from ..errors import BadArgument
from ..policy import Policy, get_policy
from ..replay import Source, policies, resolve, run, summary
from .assets import PLAYER_CSS, PLAYER_JS
from .draw import LEGEND_CSS, STYLE, legend_html, notice_svg
from .layout import MIN_WIDTH
from .svg import diagram_width, render_svg
from .text import render_head, render_step

INTERVAL_MS = 1200


def _json(data: object) -> str:
    """JSON that cannot end the <script> element holding it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def player_id(actions: list[str], names: list[str]) -> str:
    digest = hashlib.sha1(json.dumps([actions, names]).encode()).hexdigest()
    return f"cow-player-{digest[:12]}"


class _Table:
    """Strings stored once; each use is an index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, item: str) -> int:
        if item not in self._index:
            self._index[item] = len(self.items)
            self.items.append(item)
        return self._index[item]


class Player:
    """The stepper for a scenario, action list, Kernel or trace (see the module doc)."""

    def __init__(
        self,
        scenario_or_actions: Source,
        presets: Iterable[str | Policy] | None = None,
        title: str | None = None,
        start_preset: str | Policy | None = None,
    ) -> None:
        self.actions, default_title = resolve(scenario_or_actions)
        self.title = default_title if title is None else title
        self.policies = policies(presets)
        names = [p.name for p in self.policies]
        start = get_policy(start_preset).name if start_preset is not None else names[0]
        if start not in names:
            raise BadArgument(f"start_preset {start!r} is not one of {', '.join(names)}")
        self.start = names.index(start)
        self.runs = [run(self.actions, p) for p in self.policies]
        self.id = player_id(self.actions, names)
        self.steps = max(len(r.trace) + bool(r.error) for r in self.runs)
        # every frame as wide as the widest, so the picture keeps its scale while stepping
        self.width = max(
            [
                diagram_width(s, r.trace[i - 1] if i else None)
                for r in self.runs
                for i, s in enumerate(r.trace)
            ]
            + [MIN_WIDTH]
        )
        self.data = self._precompute()

    def _precompute(self) -> dict:
        frames, texts = _Table(), _Table()
        presets = []
        for r in self.runs:
            f = [
                frames.add(
                    render_svg(s, r.trace[i - 1] if i else None, standalone=False, width=self.width)
                )
                for i, s in enumerate(r.trace)
            ]
            t = [texts.add(render_step(s)) for s in r.trace]
            if r.error:
                stop = notice_svg(f"{r.policy.name} stopped here", r.error, self.width)
                f.append(frames.add(stop))
                t.append(texts.add(f"stopped: {r.error}"))
            presets.append({"name": r.policy.name, "frames": f, "texts": t})
        return {
            "steps": self.steps,
            "interval": INTERVAL_MS,
            "frames": frames.items,
            "texts": texts.items,
            "presets": presets,
        }

    def _outcomes(self) -> str:
        rows = []
        for j, r in enumerate(self.runs):
            bad = [
                f'<button type="button" data-preset="{j}" data-step="{v.step}">'
                f"{escape(v.kind)} at step {v.step}</button>"
                for s in r.trace
                for v in s.violations
            ]
            verdict = (
                f'<span class="cow-bad">\u2716 {", ".join(bad)}</span>'
                if bad
                else "\u2714 no violation"
            )
            line = escape(summary(r).split("; ", 1)[1])
            current = ' class="cow-current"' if j == self.start else ""
            rows.append(
                f'<tr data-preset="{j}"{current}><th class="cow-name">'
                f'<button type="button" data-preset="{j}">{escape(r.policy.name)}</button>'
                f"</th><td>{verdict}</td><td>{line}</td></tr>"
            )
        return f'<table class="cow-outcomes">{"".join(rows)}</table>'

    def _controls(self) -> str:
        options = "".join(
            f'<option value="{escape(r.policy.name)}"{" selected" if j == self.start else ""}>'
            f"{escape(r.policy.name)}</option>"
            for j, r in enumerate(self.runs)
        )
        last = self.steps - 1
        return (
            '<div class="cow-controls">'
            '<button type="button" class="cow-prev"><span aria-hidden="true">\u25c0</span> '
            "Prev</button>"
            '<button type="button" class="cow-play"><span aria-hidden="true">\u25b6</span> '
            "Play</button>"
            '<button type="button" class="cow-next">Next <span aria-hidden="true">\u25b6'
            "</span></button>"
            f'<input type="range" class="cow-slider" min="0" max="{last}" value="0" '
            f'step="1" aria-label="step" aria-valuetext="step 0 of {last}">'
            f'<span class="cow-pos">step 0 / {last}</span>'
            f'<label>preset <select class="cow-preset">{options}</select></label></div>'
        )

    def html(self) -> str:
        first = self.data["presets"][self.start]
        frame = self.data["frames"][first["frames"][0]]
        text = self.data["texts"][first["texts"][0]]
        now = f"step 0 of {self.steps - 1}, {first['name']}: " + render_head(
            self.runs[self.start].trace[0]
        )
        return "".join(
            [
                f'<div class="cow-player" id="{self.id}" tabindex="0" role="group" '
                f'aria-label="{escape(self.title)}: step by step" '
                f'aria-describedby="{self.id}-now" '
                f'data-actions="{escape("; ".join(self.actions))}">',
                f"<style>{PLAYER_CSS.replace(chr(10), '')}{STYLE}{LEGEND_CSS}</style>",
                f'<div class="cow-title">{escape(self.title)}</div>',
                self._controls(),
                self._outcomes(),
                f'<div class="cow-frame" data-step="0" data-preset="{escape(first["name"])}">'
                f"{frame}</div>",
                legend_html(),
                f'<div class="cow-live" id="{self.id}-now" aria-live="polite" aria-atomic="true">'
                f"{escape(now)}</div>",
                '<details class="cow-textview"><summary>text view of this step</summary>'
                f'<pre class="cow-text">{escape(text)}</pre></details>',
                f'<script type="application/json" class="cow-data">{_json(self.data)}</script>',
                f"<script>{PLAYER_JS.replace('__ID__', self.id)}</script></div>",
            ]
        )

    def _repr_html_(self) -> str:
        return self.html()

    def text(self) -> str:
        """The player as text: per preset, its outcome and the steps that decided it
        (each COW decision and each violation, with the kernel's explanation)."""
        names = ", ".join(r.policy.name for r in self.runs)
        lines = [
            self.title,
            f"{self.steps} steps under {names}; the steps that decide, per preset:",
        ]
        for r in self.runs:
            lines.append(f"{r.policy.name}: {summary(r)}")
            for s in r.trace:
                if s.decisions or s.violations:
                    lines += ["    " + line for line in render_head(s).splitlines()]
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython's text/plain
        p.text(self.text())

    def __repr__(self) -> str:
        names = ", ".join(r.policy.name for r in self.runs)
        return f"<Player {self.title!r}: {self.steps} steps under {names}>"
