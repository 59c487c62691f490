"""One scenario under two or more policies, side by side, steps aligned.

    from cowlib.view import compare
    compare("S2", ["linux-5.7", "linux-5.9-rc4"])

One row per step: the operation, then what each kernel did (its explanation, COW
decision, read result and violations). A row where the outcome differs (decision,
violation or value read) is marked "diverges"; one where only the kernel's reasoning
differs is marked "differs". Rows that differ open to the diagrams side by side;
the first divergence is open. Static HTML: no script, so it reads the same in the
book, in JupyterLab and in an untrusted notebook.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..errors import BadArgument
from ..policy import Policy
from ..replay import Run, Source, policies, resolve, run, summary
from ..trace import Step
from .draw import STYLE
from .player import player_id
from .svg import render_svg

COMPARE_CSS = (
    ".cow-compare{margin:1em 0;color:var(--cow-c-fg);background:var(--cow-c-bg);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}"
    ".cow-compare .cow-title{font-weight:600}"
    ".cow-compare .cow-scroll{overflow-x:auto}"
    ".cow-compare table{border-collapse:collapse;font-size:12px;width:100%;display:table;"
    "border:0;margin:6px 0}"
    ".cow-compare th,.cow-compare td{border:1px solid var(--cow-c-muted);padding:3px 6px;"
    "text-align:left;vertical-align:top;background:none}"
    ".cow-compare td.cow-k{min-width:170px}"
    ".cow-compare .cow-x,.cow-compare .cow-op{white-space:pre-wrap;"
    "font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace}"
    ".cow-compare .cow-x{overflow-wrap:anywhere}"
    ".cow-compare tr.cow-diverge>td{border-top:3px solid var(--cow-c-bad)}"
    ".cow-compare .cow-mark{font-weight:600;white-space:nowrap}"
    ".cow-compare .cow-bad{color:var(--cow-c-bad);font-weight:600}"
    ".cow-compare .cow-m{color:var(--cow-c-muted)}"
    ".cow-compare .cow-pics{display:flex;flex-wrap:wrap;gap:8px}"
    ".cow-compare .cow-pic{flex:1 1 480px;min-width:0}"
    ".cow-compare summary{cursor:pointer;color:var(--cow-c-muted)}"
)


def _outcome(s: Step) -> tuple:
    return s.decisions, tuple(v.kind for v in s.violations), s.result


def _cell(s: Step | None, r: Run) -> str:
    """What one kernel did in one step."""
    if s is None:
        return f'<span class="cow-m">stopped: {escape(r.error or "")}</span>'
    parts = [f'<div class="cow-x">{escape(s.explain)}</div>']
    if s.decisions:
        parts.append(f"<div>COW: {escape(', '.join(s.decisions))}</div>")
    if s.result is not None:
        parts.append(f"<div>read: {escape(repr(s.result))}</div>")
    parts += [
        f'<div class="cow-bad">\u2716 {escape(v.kind.upper())}: {escape(v.message)}</div>'
        for v in s.violations
    ]
    return "".join(parts)


class Comparison:
    """The aligned steps of one source under several policies (see the module doc)."""

    def __init__(self, source: Source, presets: Iterable[str | Policy] | None = None) -> None:
        self.actions, self.title = resolve(source)
        self.runs = [run(self.actions, p) for p in policies(presets)]
        if len(self.runs) < 2:
            raise BadArgument("compare needs at least two presets")
        self.steps = max(len(r.trace) for r in self.runs)
        self.divergent = [i for i in range(self.steps) if len(set(self._outcomes(i))) > 1]
        self.differing = [
            i for i in range(self.steps) if len(set(self._explains(i))) > 1 or i in self.divergent
        ]

    def _step(self, r: Run, i: int) -> Step | None:
        return r.trace[i] if i < len(r.trace) else None

    def _outcomes(self, i: int) -> list[tuple | None]:
        return [(_outcome(s) if (s := self._step(r, i)) else None) for r in self.runs]

    def _explains(self, i: int) -> list[str | None]:
        return [(s.explain if (s := self._step(r, i)) else None) for r in self.runs]

    @property
    def first_divergence(self) -> int | None:
        return self.divergent[0] if self.divergent else None

    def _row(self, i: int) -> str:
        steps = [self._step(r, i) for r in self.runs]
        op = next(s for s in steps if s is not None).op.split(" -> ")[0]
        if i in self.divergent:
            mark, cls = '<div class="cow-mark cow-bad">\u2260 diverges</div>', "cow-diverge"
        elif i in self.differing:
            mark, cls = '<div class="cow-mark cow-m">differs</div>', "cow-differ"
        else:
            mark, cls = "", "cow-same"
        head = (
            f'<tr class="{cls}" data-step="{i}"><td>{i}{mark}</td><td class="cow-op">{escape(op)}'
        )
        if i not in self.differing:
            return (
                f'{head}</td><td class="cow-k" colspan="{len(self.runs)}">'
                f'{_cell(steps[0], self.runs[0])}<div class="cow-m">same under every '
                "preset</div></td></tr>"
            )
        cells = "".join(
            f'<td class="cow-k">{_cell(s, r)}</td>' for s, r in zip(steps, self.runs, strict=True)
        )
        pics = "".join(
            f'<div class="cow-pic"><div class="cow-x">{escape(r.policy.name)}</div>'
            f"{render_svg(s, self._step(r, i - 1) if i else None, standalone=False)}</div>"
            for s, r in zip(steps, self.runs, strict=True)
            if s is not None
        )
        opened = " open" if i == self.first_divergence else ""
        return (
            f'{head}</td>{cells}</tr><tr><td colspan="{len(self.runs) + 2}">'
            f"<details{opened}><summary>diagrams of step {i}</summary>"
            f'<div class="cow-pics">{pics}</div></details></td></tr>'
        )

    def html(self) -> str:
        names = [r.policy.name for r in self.runs]
        first = self.first_divergence
        lead = (
            f"The outcomes first diverge at step {first}."
            if first is not None
            else "The outcomes are the same under every preset."
        )
        outcomes = "".join(
            f"<li><b>{escape(r.policy.name)}</b>: {escape(summary(r))}</li>" for r in self.runs
        )
        head = "".join(f"<th>{escape(n)}</th>" for n in names)
        rows = "".join(self._row(i) for i in range(self.steps))
        cid = player_id(self.actions, names).replace("player", "compare")
        return (
            f'<div class="cow-compare" id="{cid}"><style>{COMPARE_CSS}{STYLE}</style>'
            f'<div class="cow-title">{escape(self.title)}</div><p>{lead}</p>'
            f'<ul>{outcomes}</ul><div class="cow-scroll"><table><thead><tr><th>step</th>'
            f"<th>operation</th>{head}</tr></thead><tbody>{rows}</tbody></table></div></div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        names = ", ".join(r.policy.name for r in self.runs)
        return f"<Comparison {self.title!r} under {names}: diverges at {self.divergent}>"


def compare(
    scenario_or_actions: Source, presets: Iterable[str | Policy] | None = None
) -> Comparison:
    """Side by side, steps aligned, divergence marked: compare("S2", ["linux-5.7", "linux-6.x"])."""
    return Comparison(scenario_or_actions, presets)
