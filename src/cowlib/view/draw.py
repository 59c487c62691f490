"""SVG drawing primitives shared by the diagram, the player and the comparison.

Text is monospace with a known character width, so lines can be measured and wrapped
in Python. Colours are CSS variables resolved once per view (THEME): the book's
(book/_static/cow.css, light and dark), else JupyterLab's theme (light or dark), else a
light fallback, so a picture follows the page it is shown in.
"""

from __future__ import annotations

import textwrap
from html import escape

from .layout import CHAR, FONT, LINE, MARGIN, MIN_WIDTH

MONO = "ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace"
TITLE = 13  # px, the operation line
LEGEND_FONT = 11
BAD_MARK = "\u2716"  # heavy multiplication x: with the word, never colour alone

# A view's colours, each var(--cow-c-NAME): the book's --cow-NAME, else JupyterLab's
# variable, else the light fallback.
COLOURS = {
    "fg": ("--jp-content-font-color1", "#222"),
    "bg": ("--jp-layout-color0", "#fff"),
    "muted": ("--jp-content-font-color2", "#6b7280"),
    "accent": ("--jp-brand-color1", "#1d4ed8"),
    "bad": ("--jp-error-color1", "#c62828"),
    "changed": ("--jp-warn-color1", "#f59e0b"),
}
VIEWS = ".cow-svg,.cow-player,.cow-compare,.cow-legend,.cow-chart,.cow-diagram,.cow-note"


def colour(name: str) -> str:
    """A COLOURS entry as a CSS value: the book's variable, JupyterLab's, the fallback."""
    jp, light = COLOURS[name]
    return f"var(--cow-{name},var({jp},{light}))"


THEME = VIEWS + "{" + ";".join(f"--cow-c-{n}:{colour(n)}" for n in COLOURS) + "}"


STYLE = (
    THEME + ".cow-svg{max-width:100%;height:auto}"
    f".cow-svg text{{font:{FONT}px {MONO};fill:var(--cow-c-fg)}}"
    ".cow-svg .bg{fill:var(--cow-c-bg)}"
    ".cow-svg .bx{fill:var(--cow-c-bg);stroke:var(--cow-c-muted);stroke-width:1}"
    ".cow-svg .cow-proc>.bx,.cow-svg .cow-page>.bx{stroke:var(--cow-c-fg)}"
    ".cow-svg .cow-exited>.bx{stroke-dasharray:4 3}"
    ".cow-svg .t{font-weight:bold}"
    ".cow-svg .m,.cow-svg .vl{fill:var(--cow-c-muted)}"
    ".cow-svg .a{fill:var(--cow-c-accent)}"
    f".cow-svg .hd{{font-size:{TITLE}px;font-weight:bold}}"
    ".cow-svg .bad{fill:var(--cow-c-bad);font-weight:bold}"
    ".cow-svg .cow-changed>.bx,.cow-svg .lc{stroke:var(--cow-c-changed);stroke-width:2.5;"
    "fill:color-mix(in srgb,var(--cow-c-changed) 10%,var(--cow-c-bg))}"
    ".cow-svg .cow-bad>.bx,.cow-svg .vb,.cow-svg .lb{stroke:var(--cow-c-bad);stroke-width:3;"
    "fill:color-mix(in srgb,var(--cow-c-bad) 12%,var(--cow-c-bg))}"
    ".cow-svg .ar{fill:none;stroke:var(--cow-c-fg);stroke-width:1.4}"
    ".cow-svg .ah{fill:var(--cow-c-fg)}"
    ".cow-svg .ro>.ar{stroke-dasharray:6 3}"
    ".cow-svg .swap>.ar{stroke:var(--cow-c-muted);stroke-dasharray:2 3}"
    ".cow-svg .swap>.ah,.cow-svg .cache>.ah{fill:var(--cow-c-muted)}"
    ".cow-svg .cache>.ar{stroke:var(--cow-c-muted)}"
    ".cow-svg .pin>.ar{stroke:var(--cow-c-accent);stroke-width:2.5}"
    ".cow-svg .pin>.ah{fill:var(--cow-c-accent)}"
    ".cow-svg .cow-changed>.ar{stroke:var(--cow-c-changed);stroke-width:2.5}"
    ".cow-svg .cow-changed>.ah{fill:var(--cow-c-changed)}"
    ".cow-svg .vm{fill:none;stroke:var(--cow-c-muted)}"
    ".cow-svg .vl{font-size:10px}"
    f".cow-svg .lg{{font-size:{LEGEND_FONT}px;fill:var(--cow-c-muted)}}"
)
"""Scoped to .cow-svg; the player includes it once for all its frames."""

LEGEND_CSS = (
    ".cow-legend{display:flex;flex-wrap:wrap;gap:2px 14px;list-style:none;margin:6px 0 0;"
    "padding:0;font:12px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "color:var(--cow-c-muted)}"
    ".cow-legend li{margin:0;padding:0;white-space:nowrap;display:flex;align-items:center;gap:4px}"
    ".cow-legend .cow-svg{flex:none}"
)
"""The HTML legend (legend_html): its words wrap into rows and keep their size."""

LEGEND = (("rw", "writable PTE"), ("ro", "read-only PTE"), ("swap", "swap entry"), ("pin", "pin"))


def num(v: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros (smaller frames)."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def text_el(x: float, y: float, text: str, cls: str = "", anchor: str = "") -> str:
    """A <text> element; cls is a class of STYLE, anchor "end" or "middle"."""
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{num(x)}" y="{num(y)}"{attrs}>{escape(text, quote=False)}</text>'


def wrap(text: str, width: float) -> list[str]:
    """Wrap one explanation line to the picture, keeping its indentation."""
    indent = text[: len(text) - len(text.lstrip())]
    chars = max(int((width - 2 * MARGIN) / CHAR), 20)
    return textwrap.wrap(
        text,
        chars,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_on_hyphens=False,
        break_long_words=True,
    ) or [""]


def indented(y: float, text: str, cls: str, x: float = MARGIN) -> str:
    """A text line whose leading spaces move it right (SVG collapses them)."""
    body = text.lstrip(" ")
    return text_el(x + (len(text) - len(body)) * CHAR, y, body, cls)


def legend(y: float, width: float) -> tuple[list[str], float]:
    """Line styles of the arrows, then the two highlights, in rows that fit width;
    returns the parts and the y of the last row."""
    out, x = [], float(MARGIN)
    items = [(kind, label, True) for kind, label in LEGEND] + [
        ("lc", "changed", False),
        ("lb", "violation", False),
    ]
    char = CHAR * LEGEND_FONT / FONT
    for kind, label, line in items:
        sample = 22 if line else 14
        if x > MARGIN and x + sample + 4 + len(label) * char > width - MARGIN:
            x, y = float(MARGIN), y + LINE + 4
        if line:
            out.append(f'<g class="{kind}"><path class="ar" d="M{num(x)} {num(y - 4)}h22"/></g>')
        else:
            out.append(
                f'<rect class="{kind}" x="{num(x)}" y="{num(y - 10)}" width="14" '
                'height="11" rx="2"/>'
            )
        out.append(text_el(x + sample + 4, y, label, "lg"))
        x += sample + 4 + len(label) * char + 10
    return out, y


def svg_doc(width: float, height: float, label: str, parts: list[str], standalone: bool) -> str:
    """The <svg> root: viewBox, accessible label, opaque background, and the style when
    standalone (a page holding many frames provides STYLE once instead)."""
    w, h = num(width), num(height)
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="cow-svg" viewBox="0 0 {w} {h}" '
            f'width="{w}" height="{h}" role="img" aria-label="{escape(label, quote=True)}">',
            f"<style>{STYLE}</style>" if standalone else "",
            f'<rect class="bg" width="{w}" height="{h}"/>',
            *parts,
            "</svg>",
        ]
    )


def legend_svg(width: float = MIN_WIDTH) -> str:
    """The legend alone as one picture, for a page that shows frames without one."""
    parts, y = legend(LINE + 2, width)
    return svg_doc(width, y + 6, "legend", parts, standalone=False)


def legend_html() -> str:
    """The legend as an HTML list (needs STYLE and LEGEND_CSS): a drawn sample per
    item and its words as text, which wraps on a narrow screen instead of shrinking."""
    items = [(kind, label, True) for kind, label in LEGEND] + [
        ("lc", "changed", False),
        ("lb", "violation", False),
    ]
    out = []
    for kind, label, line in items:
        sample = (
            f'<g class="{kind}"><path class="ar" d="M0 6h22"/></g>'
            if line
            else f'<rect class="{kind}" x="1.5" y="1.5" width="13" height="9" rx="2"/>'
        )
        w = 22 if line else 16
        out.append(
            f'<li><svg class="cow-svg" width="{w}" height="12" viewBox="0 0 {w} 12" '
            f'aria-hidden="true">{sample}</svg>{escape(label, quote=False)}</li>'
        )
    return f'<ul class="cow-legend" aria-label="legend">{"".join(out)}</ul>'


def notice_svg(title: str, text: str, width: float = MIN_WIDTH) -> str:
    """A frame with a message instead of a diagram (a run that stopped early)."""
    parts = [text_el(MARGIN, MARGIN + TITLE, title, "hd")]
    y = MARGIN + TITLE + 6
    for part in wrap(text, width):
        y += LINE
        parts.append(indented(y, part, ""))
    return svg_doc(width, y + MARGIN, title, parts, standalone=False)
