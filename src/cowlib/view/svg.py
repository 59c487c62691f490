"""One step of a trace as an SVG diagram.

    from cowlib.view.svg import render_svg
    k = cowlib.scenarios.SCENARIOS["S2"].run("linux-5.7")
    render_svg(k.trace[7], k.trace[6])     # the leak, with what step 7 changed

On top, the operation and the kernel's explanation of every decision; a violation is a
banner (colour, a cross and the word: LEAK, STALE-PIN, ...) and marks the part it is
about. Below, processes with their PTEs, the physical pages, swap slots and holders.
Parts that this step created or changed carry the class cow-changed. Colours are the
book's CSS variables (book/_static/cow.css) with light fallbacks, so a diagram reads in
light and dark mode and outside the book; the viewBox lets it shrink on narrow screens.
"""

from __future__ import annotations

from html import escape

from ..mm_types import PAGE_SIZE
from ..trace import Snapshot, Step, Violation
from .changes import Changes, diff
from .draw import (
    BAD_MARK,
    LEGEND_CSS,
    STYLE,
    TITLE,
    indented,
    legend,
    legend_html,
    num,
    svg_doc,
    text_el,
    wrap,
)
from .folios import Where, cell_lines, cells, folio_lines, slot_run_lines
from .layout import LINE, MARGIN, MIN_WIDTH, PAD, Arrow, Box, Key, Layout, layout
from .parts import Line, holder_lines, page_lines, proc_lines, slot_lines
from .text import render_step

BUGS = ("missed copy", "wrong copy")  # the oracle lines that explain a violation


def violation_subjects(v: Violation, snap: Snapshot) -> list[Key]:
    """The part a violation is about: its message starts with a process or holder name
    ("pipe1 (taken by C) shows ...", "P reads ..."), or with "pfn N" or "slot N"."""
    words = v.message.replace(":", " ").split()
    if not words:
        return []
    if words[0] in ("pfn", "slot") and len(words) > 1 and words[1].isdigit():
        return [("page" if words[0] == "pfn" else "slot", int(words[1]))]
    if any(h.name == words[0] for h in snap.holders):
        return [("holder", words[0])]
    if snap.proc(words[0]) is not None:
        return [("proc", words[0])]
    return []


def box_lines(step: Step, changes: Changes) -> dict[Key, list[Line]]:
    """The text of every box of step's diagram, with violation marks appended."""
    snap = step.snapshot
    lines: dict[Key, list[Line]] = {}
    where = Where(snap)
    for p in snap.procs:
        lines["proc", p.name] = proc_lines(p)
        for cell in cells(p, where):
            lines["pte", p.name, cell.addr] = cell_lines(cell, where)
    for pg in snap.pages:
        if pg.folio is None:
            lines["page", pg.pfn] = page_lines(pg, changes)
    for head, pages in where.folios.items():
        lines["folio", head] = folio_lines(pages, changes)
    for s in snap.swap:
        if s.slot not in where.slot_first:
            lines["slot", s.slot] = slot_lines(s)
    for first, slots in where.slot_runs.items():
        lines["slot", first] = slot_run_lines(slots)
    for h in snap.holders:
        lines["holder", h.name] = holder_lines(h)
    for v in step.violations:
        for key in violation_subjects(v, snap):
            if key in lines:
                lines[key].append(Line(f"{BAD_MARK} {v.kind.upper()}", "bad"))
    return lines


def _changed(key: Key, changes: Changes, runs: dict[Key, int] | None = None) -> bool:
    kind, rest = key[0], key[1:]
    if kind == "pte":
        n = (runs or {}).get(key, 1)
        return any((rest[0], rest[1] + i * PAGE_SIZE) in changes.ptes for i in range(n))
    group = {
        "proc": changes.procs,
        "page": changes.pages,
        "folio": changes.pages,
        "holder": changes.holders,
        "slot": changes.slots,
    }[kind]
    return rest[0] in group


def _box(box: Box, classes: list[str]) -> str:
    kind = box.key[0]
    out = [
        f'<g class="{" ".join(["cow-" + kind, *classes])}">',
        f'<rect class="bx" x="{num(box.x)}" y="{num(box.y)}" width="{num(box.w)}" '
        f'height="{num(box.h)}" rx="{3 if kind == "pte" else 5}"/>',
    ]
    inset = PAD - 3 if kind == "pte" else PAD
    for i, ln in enumerate(box.lines):
        y = box.y + inset + (i + 1) * LINE - 3
        if ln.text:
            out.append(text_el(box.x + inset, y, ln.text, ln.cls))
        if ln.right:
            out.append(text_el(box.x + box.w - inset, y, ln.right, ln.right_cls, "end"))
    out.append("</g>")
    return "".join(out)


def _arrow(a: Arrow, changed: bool) -> str:
    """A curve with vertical ends (horizontal for the swap cache) and a drawn head."""
    head = 7.0
    if a.kind == "cache":
        sign = 1 if a.x2 > a.x1 else -1
        d = f"M{num(a.x1)} {num(a.y1)}H{num(a.x2 - sign * head)}"
        tip = f"M{num(a.x2)} {num(a.y2)}l{num(-sign * head)} -4v8z"
    else:
        sign = 1 if a.y2 > a.y1 else -1
        end = a.y2 - sign * head
        mid = (a.y1 + end) / 2
        d = (
            f"M{num(a.x1)} {num(a.y1)}C{num(a.x1)} {num(mid)} {num(a.x2)} {num(mid)} "
            f"{num(a.x2)} {num(end)}"
        )
        tip = f"M{num(a.x2)} {num(a.y2)}l-4 {num(-sign * head)}h8z"
    cls = a.kind + (" cow-changed" if changed else "")
    return f'<g class="{cls}"><path class="ar" d="{d}"/><path class="ah" d="{tip}"/></g>'


def _diagram(lay: Layout, snap: Snapshot, changes: Changes, bad: set[Key]) -> list[str]:
    """Arrows first, so boxes cover their ends; then boxes; then VMA brackets."""
    out = []
    for a in lay.arrows:
        # an arrow is new when its PTE or holder is; the swap cache's when its page is
        changed = _changed(a.src, changes, lay.runs) or (
            a.kind == "cache" and _changed(a.dst, changes)
        )
        out.append(_arrow(a, changed))
    exited = {("proc", p.name) for p in snap.procs if not p.alive}
    for box in lay.boxes:
        classes = (
            (["cow-changed"] if _changed(box.key, changes, lay.runs) else [])
            + (["cow-bad"] if box.key in bad else [])
            + (["cow-exited"] if box.key in exited else [])
        )
        out.append(_box(box, classes))
    for x1, x2, y, label in lay.vmas:
        out.append(f'<path class="vm" d="M{num(x1)} {num(y)}v-4H{num(x2)}v4"/>')
        out.append(text_el((x1 + x2) / 2, y - 6, label, "vl", "middle"))
    return out


def _header(step: Step, changes: Changes, width: float) -> tuple[list[str], float]:
    """Operation, explanation, violation banners and what went away; returns height."""
    out = [text_el(MARGIN, MARGIN + TITLE, f"step {step.index}  {step.op}", "hd")]
    y = MARGIN + TITLE + 6
    for line in step.explain.splitlines():
        oracle = line.lstrip().startswith("oracle:")
        cls = "bad" if oracle and any(b in line for b in BUGS) else "m" if oracle else ""
        for part in wrap(line, width):
            y += LINE
            out.append(indented(y, part, cls))
    for v in step.violations:
        label = f"{BAD_MARK} {v.kind.upper()}: "
        parts = wrap(label + v.message, width - 16)
        top = y + 8
        out.append(
            f'<rect class="vb" x="{MARGIN}" y="{num(top)}" '
            f'width="{num(width - 2 * MARGIN)}" height="{num(len(parts) * LINE + 8)}" '
            'rx="4"/>'
        )
        y = top + 2
        for i, part in enumerate(parts):
            y += LINE
            if i == 0:
                out.append(
                    f'<text x="{MARGIN + 8}" y="{num(y)}"><tspan class="bad">'
                    f"{escape(label.rstrip(), quote=False)}</tspan> "
                    f"{escape(part[len(label) :], quote=False)}</text>"
                )
            else:
                out.append(indented(y, part, "", MARGIN + 8))
        y += 6
    if changes.gone:
        for part in wrap("gone: " + ", ".join(changes.gone), width):
            y += LINE
            out.append(text_el(MARGIN, y, part, "m"))
    return out, y + 24


def _laid_out(step: Step, prev: Step | None, width: float) -> tuple[Changes, Layout]:
    changes = diff(prev.snapshot if prev is not None else None, step.snapshot)
    return changes, layout(step.snapshot, box_lines(step, changes), width)


def render_svg(
    step: Step, prev: Step | None = None, *, standalone: bool = True, width: float = MIN_WIDTH
) -> str:
    """The diagram of one step; prev (the step before) decides what is highlighted.

    The picture is width wide, or wider when its boxes need it (diagram_width).
    standalone=False leaves out the <style> and the legend, for a page (the player)
    that provides them once for many frames.
    """
    changes, lay = _laid_out(step, prev, width)
    bad = {k for v in step.violations for k in violation_subjects(v, step.snapshot)}
    head, top = _header(step, changes, lay.width)
    height = top + lay.height + MARGIN
    body = [
        *head,
        f'<g transform="translate(0 {num(top)})">',
        *_diagram(lay, step.snapshot, changes, bad),
        "</g>",
    ]
    if standalone:
        parts, y = legend(height + LINE - 8, lay.width)
        body += parts
        height = y + MARGIN
    return svg_doc(lay.width, height, f"step {step.index}: {step.op}", body, standalone)


def diagram_width(step: Step, prev: Step | None = None) -> float:
    """How wide render_svg(step, prev) is: MIN_WIDTH unless the boxes need more."""
    return _laid_out(step, prev, MIN_WIDTH)[1].width


class Diagram:
    """A step of a trace as a picture in a notebook: Diagram(k.trace, 7).

    In HTML the picture (which scales down to the width it is given) and the legend as
    text; as text, the step's text view (render_step), which says what the picture shows.
    """

    def __init__(self, trace: list[Step], index: int = -1) -> None:
        self.index = index % len(trace)
        self.step = trace[self.index]
        prev = trace[self.index - 1] if self.index else None
        self.svg = render_svg(self.step, prev)
        self._frame = render_svg(self.step, prev, standalone=False)

    def html(self) -> str:
        return (
            f'<div class="cow-diagram"><style>{STYLE}{LEGEND_CSS}</style>{self._frame}'
            f"{legend_html()}</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def text(self) -> str:
        return render_step(self.step)

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython's text/plain
        p.text(self.text())

    def __repr__(self) -> str:
        return f"<Diagram of step {self.index}>"
