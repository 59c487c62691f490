"""SVG drawing primitives shared by the diagram, the player and the comparison.

Text is monospace with a known character width, so lines can be measured and wrapped
in Python; colours come from the book's CSS variables (book/_static/cow.css), each
with a light fallback for use outside the book.
"""

from __future__ import annotations

import textwrap
from html import escape

from .layout import CHAR, FONT, LINE, MARGIN, MIN_WIDTH

MONO = "ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace"
TITLE = 13  # px, the operation line
LEGEND_FONT = 11
BAD_MARK = "\u2716"  # heavy multiplication x: with the word, never colour alone

STYLE = (
    ".cow-svg{max-width:100%;height:auto}"
    f".cow-svg text{{font:{FONT}px {MONO};fill:var(--cow-fg,#222)}}"
    ".cow-svg .bg{fill:var(--cow-bg,#fff)}"
    ".cow-svg .bx{fill:var(--cow-bg,#fff);stroke:var(--cow-muted,#6b7280);stroke-width:1}"
    ".cow-svg .cow-proc>.bx,.cow-svg .cow-page>.bx{stroke:var(--cow-fg,#222)}"
    ".cow-svg .cow-exited>.bx{stroke-dasharray:4 3}"
    ".cow-svg .t{font-weight:bold}"
    ".cow-svg .m,.cow-svg .vl{fill:var(--cow-muted,#6b7280)}"
    ".cow-svg .a{fill:var(--cow-accent,#1d4ed8)}"
    f".cow-svg .hd{{font-size:{TITLE}px;font-weight:bold}}"
    ".cow-svg .bad{fill:var(--cow-bad,#c62828);font-weight:bold}"
    ".cow-svg .cow-changed>.bx,.cow-svg .lc{stroke:var(--cow-changed,#f59e0b);stroke-width:2.5;"
    "fill:color-mix(in srgb,var(--cow-changed,#f59e0b) 10%,var(--cow-bg,#fff))}"
    ".cow-svg .cow-bad>.bx,.cow-svg .vb,.cow-svg .lb{stroke:var(--cow-bad,#c62828);stroke-width:3;"
    "fill:color-mix(in srgb,var(--cow-bad,#c62828) 12%,var(--cow-bg,#fff))}"
    ".cow-svg .ar{fill:none;stroke:var(--cow-fg,#222);stroke-width:1.4}"
    ".cow-svg .ah{fill:var(--cow-fg,#222)}"
    ".cow-svg .ro>.ar{stroke-dasharray:6 3}"
    ".cow-svg .swap>.ar{stroke:var(--cow-muted,#6b7280);stroke-dasharray:2 3}"
    ".cow-svg .swap>.ah,.cow-svg .cache>.ah{fill:var(--cow-muted,#6b7280)}"
    ".cow-svg .cache>.ar{stroke:var(--cow-muted,#6b7280)}"
    ".cow-svg .pin>.ar{stroke:var(--cow-accent,#1d4ed8);stroke-width:2.5}"
    ".cow-svg .pin>.ah{fill:var(--cow-accent,#1d4ed8)}"
    ".cow-svg .cow-changed>.ar{stroke:var(--cow-changed,#f59e0b);stroke-width:2.5}"
    ".cow-svg .cow-changed>.ah{fill:var(--cow-changed,#f59e0b)}"
    ".cow-svg .vm{fill:none;stroke:var(--cow-muted,#6b7280)}"
    ".cow-svg .vl{font-size:10px}"
    f".cow-svg .lg{{font-size:{LEGEND_FONT}px;fill:var(--cow-muted,#6b7280)}}"
)
"""Scoped to .cow-svg; the player includes it once for all its frames."""

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
    """The legend alone, for a page that shows frames without one."""
    parts, y = legend(LINE + 2, width)
    return svg_doc(width, y + 6, "legend", parts, standalone=False)


def notice_svg(title: str, text: str, width: float = MIN_WIDTH) -> str:
    """A frame with a message instead of a diagram (a run that stopped early)."""
    parts = [text_el(MARGIN, MARGIN + TITLE, title, "hd")]
    y = MARGIN + TITLE + 6
    for part in wrap(text, width):
        y += LINE
        parts.append(indented(y, part, ""))
    return svg_doc(width, y + MARGIN, title, parts, standalone=False)
