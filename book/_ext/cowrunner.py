"""Sphinx extension: the "Edit and run" runner beside every player of the HTML book.

Every page loads _static/cow-runner.js (and its style sheet) with a small inline config:
the presets, the rules and where the playground is. Nothing else is fetched until the
reader presses Run; then _static/cow-worker.mjs starts Pyodide in a module Web Worker
from _runtime/, which this extension fills at the end of every HTML build:

    _runtime/pyodide.mjs, pyodide.asm.mjs, pyodide.asm.wasm, python_stdlib.zip,
             pyodide-lock.json          from node_modules/pyodide (npm ci, package-lock.json)
    _runtime/cowlib-<version>-py3-none-any.whl   built from src/ by pip during this build
    _runtime/files.json                 {"wheel": name, "sizes": {runtime file: bytes}}
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from cowlib import PRESETS, RULES

RUNTIME = "_runtime"
RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
PLAYGROUND = "book/playground"
SERVE = "python3 -m http.server -d _build/html"
# What the wheel is built from: the package and the files pyproject.toml names.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "src")


def runner_config() -> dict:
    """The inline config every page gets (window.cowRunner)."""
    return {
        "presets": list(PRESETS),
        "rules": {name: rule.summary for name, rule in RULES.items()},
        "playground": f"{PLAYGROUND}.html",
        "serve": SERVE,
    }


def build_wheel(root: Path, out: Path) -> Path:
    """The cowlib wheel, built by pip from a copy of the sources (no build/ in the tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in WHEEL_SOURCES:
            source, copy = root / name, Path(tmp, name)
            if source.is_dir():
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, copy)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--disable-pip-version-check",
                "--quiet",
                "--wheel-dir",
                str(out),
                tmp,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    wheels = sorted(out.glob("cowlib-*.whl"))
    if done.returncode or len(wheels) != 1:
        raise ExtensionError(f"pip wheel failed to build cowlib:\n{done.stdout}{done.stderr}")
    return wheels[0]


def copy_runtime(app: Sphinx, exception: Exception | None) -> None:
    """Fill _runtime/ in the built site (see the module docstring)."""
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    pyodide = root / "node_modules" / "pyodide"
    missing = [name for name in RUNTIME_FILES if not (pyodide / name).is_file()]
    if missing:
        raise ExtensionError(f"{pyodide} lacks {', '.join(missing)}: run npm ci (make does)")
    out = Path(app.outdir) / RUNTIME
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in RUNTIME_FILES:
        shutil.copy2(pyodide / name, out / name)
    wheel = build_wheel(root, out)
    sizes = {name: (out / name).stat().st_size for name in RUNTIME_FILES}
    (out / "files.json").write_text(json.dumps({"wheel": wheel.name, "sizes": sizes}))


def setup(app: Sphinx) -> dict:
    config = json.dumps(runner_config()).replace("</", "<\\/")
    app.add_js_file(None, body=f"window.cowRunner = {config};")
    app.add_js_file("cow-runner.js", loading_method="defer")
    app.add_css_file("cow-runner.css")
    app.connect("build-finished", copy_runtime)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
