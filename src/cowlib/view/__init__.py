"""Views render a trace; they never compute. Heavy dependencies load lazily per module.

text: fixed-width tables (deterministic, used by the CLI and nbval).
svg: one step as a diagram (render_svg, Diagram).
player: a self-contained HTML/JS stepper over every preset (Player).
comparison: presets side by side, steps aligned, divergence marked (compare).
widgets: the live ipywidgets stepper (Stepper); imports ipywidgets.
plots: matplotlib charts of COW decision classes; imports matplotlib when drawing.
chart: the Figure those charts are (themed inline SVG in HTML, a phone layout, alt text).
"""

from .comparison import Comparison, compare
from .player import Player
from .svg import Diagram, render_svg

__all__ = ["Comparison", "Diagram", "Player", "compare", "render_svg"]
