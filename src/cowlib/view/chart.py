"""A matplotlib Figure that shows in HTML as inline SVG in the page's theme, light or dark.

    fig = Chart(figsize=(8, 3.6))       # draw into fig.subplots() with INK and PAPER
    fig.narrow = Figure(figsize=(3.6, 5))  # optional: the same chart laid out for a phone
    fig.alt = "what the chart shows, as text"

In a notebook a Chart is stored as PNG (opaque white) for a front end that shows no
HTML, and as HTML for those that do (the book, JupyterLab): the SVG of the chart with INK and
PAPER replaced by the views' colour variables (cowlib.view.draw.THEME), so text, axes
and background follow the book's or JupyterLab's theme. With a narrow figure the HTML
holds both pictures and a container query shows the narrow one below 600 px, where the
wide one would shrink its text below a readable size. Its text/plain is alt, which is
also the picture's accessible name. Imports matplotlib: cowlib.view.plots loads this
module only when it draws.
"""

from __future__ import annotations

import hashlib
import io
import re
from html import escape

import matplotlib
from matplotlib.figure import Figure

from .draw import THEME

INK, PAPER = "#222222", "#ffffff"  # draw with these: the HTML swaps them for the theme's
NARROW_BELOW = 600  # px of the container: below it the narrow figure shows

CHART_CSS = (
    ".cow-chart{container-type:inline-size;margin:.5em 0}"
    ".cow-chart svg{display:block;max-width:100%;height:auto}"
    ".cow-chart .cow-narrow{display:none}"
    f"@container (max-width:{NARROW_BELOW}px){{.cow-chart .cow-wide{{display:none}}"
    ".cow-chart .cow-narrow{display:block}}"
)


def themed_svg(fig: Figure) -> str:
    """fig as an inline <svg>: deterministic, hidden from assistive technology (the
    chart's container carries the text), INK and PAPER as theme colours, and ids
    prefixed so that several charts (and both layouts of one) can share a page."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "cowlib", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor=PAPER)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    prefix = "c" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', svg)
    svg = svg.replace(INK, "var(--cow-c-fg)").replace(PAPER, "var(--cow-c-bg)")
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return re.sub(r"\s*\n\s*", " ", re.sub(r">\s+<", "><", svg)).strip()


class Chart(Figure):
    """A Figure with a theme-following HTML form, an optional narrow layout, and alt text."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.narrow: Figure | None = None
        self.alt = ""

    def html(self) -> str:
        pictures = f'<div class="cow-wide">{themed_svg(self)}</div>'
        if self.narrow is not None:
            pictures += f'<div class="cow-narrow">{themed_svg(self.narrow)}</div>'
        return (
            f'<div class="cow-chart" role="img" aria-label="{escape(self.alt)}">'
            f"<style>{THEME}{CHART_CSS}</style>{pictures}</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_png_(self) -> bytes:
        """For a front end that shows no HTML (the wide layout, on white)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", facecolor=PAPER)
        return buf.getvalue()

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython's text/plain
        p.text(self.alt or repr(self))
