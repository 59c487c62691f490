"""import cowlib (and its HTML views) stays light: matplotlib and ipywidgets load on use."""

import subprocess
import sys

HEAVY = ("matplotlib", "ipywidgets", "IPython", "numpy")


def test_importing_cowlib_and_its_html_views_loads_no_heavy_package():
    code = (
        "import sys, cowlib, cowlib.view, cowlib.view.player, cowlib.view.plots; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
