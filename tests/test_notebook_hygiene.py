"""Every chapter is in the table of contents, and every notebook carries clean stored outputs.

Stored outputs are what the HTML download button hands out and what nbval checks, so they
must come from one clean top-to-bottom run: `make outputs`.
"""

import re
from pathlib import Path

import nbformat
import pytest

from booktoc import ROOT, book_sources, docname, toc_docnames

NOTEBOOKS = [path for path in book_sources() if path.suffix == ".ipynb"]


def test_toc_files_exist():
    missing = [name for name in toc_docnames() if not list(ROOT.glob(f"{name}.*"))]
    assert not missing, "_toc.yml lists files that do not exist"


def test_every_chapter_is_in_toc():
    listed = set(toc_docnames())
    unlisted = [docname(path) for path in book_sources() if docname(path) not in listed]
    assert not unlisted, "book/ has chapters that _toc.yml does not list (so they are not built)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_has_clean_stored_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in notebook.metadata, "widget state is stored: run make outputs"
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), "not one top-to-bottom run: make outputs"
    errors = [cell.source for cell in code if any(o.output_type == "error" for o in cell.outputs)]
    assert not errors, "cells with stored errors"


# A default repr says only what an object is: <Player ...>, <Diagram of step 11>,
# <IPython.core.display.HTML object>, <Figure size 800x360 with 1 Axes>.
BARE_REPR = re.compile(r"<[A-Za-z_][\w.]*(\s[^<>\n]*)?>")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_stored_output_says_something_as_text(path: Path):
    """The text/plain of an output is what a text reader, a terminal or a screen reader
    gets of the notebook: never a bare object repr beside a picture or a table."""
    notebook = nbformat.read(path, as_version=4)
    bare = [
        text
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if (text := "".join(output.get("data", {}).get("text/plain", "")).strip())
        and BARE_REPR.fullmatch(text)
    ]
    assert not bare, "outputs whose text is a bare repr: give the object a text form"


def test_bare_repr_pattern_tells_a_default_repr_from_a_text_form():
    from cowlib.view.player import Player

    for bare in (
        "<Player 'S2: CVE-2020-29374': 8 steps under linux-5.7, linux-6.x>",
        "<Diagram of step 11>",
        "<IPython.core.display.HTML object>",
        "<Figure size 800x360 with 1 Axes>",
    ):
        assert BARE_REPR.fullmatch(bare), bare
    assert not BARE_REPR.fullmatch(Player("S2", presets=["linux-5.7"]).text())
