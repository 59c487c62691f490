"""The chapters the scenario index scans: the table of contents' documents, in order."""

import json
from pathlib import Path

import pytest

from cowlib.errors import BadArgument
from cowlib.view.chapters import chapters, title, toc_files

ROOT = Path(__file__).resolve().parent.parent


def notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {"cells": [{"cell_type": kind, "source": [src], "metadata": {}} for kind, src in cells]}
    )


def test_chapters_in_toc_order_with_sources_not_outputs(tmp_path: Path):
    book = tmp_path / "book"
    book.mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: X\n    chapters:\n"
        "      - file: book/b\n      - file: book/a\n      - file: book/index\n"
    )
    (book / "intro.md").write_text("---\nx: 1\n---\n# Intro\nS1\n")
    (book / "b.ipynb").write_text(notebook([("markdown", "# Rule 9: a rule"), ("code", "S2")]))
    (book / "a.md").write_text("# Alpha `beta`\n")
    (book / "index.ipynb").write_text(notebook([("markdown", "# Index")]))
    found = chapters(book, tmp_path / "_toc.yml", skip=("index",))
    assert list(found) == ["[Intro](intro.md)", "[Rule 9](b.ipynb)", "[Alpha beta](a.md)"]
    assert "S2" in found["[Rule 9](b.ipynb)"]
    (book / "a.md").unlink()
    with pytest.raises(BadArgument, match="book/a"):
        chapters(book, tmp_path / "_toc.yml")


def test_title_needs_a_heading():
    assert title("intro\n# Why: because") == "Why"
    with pytest.raises(BadArgument):
        title("## only a section")


def test_the_books_toc_starts_at_the_intro_and_lists_the_index():
    files = toc_files(ROOT / "_toc.yml")
    assert files[0] == "book/intro" and "book/scenarios" in files and "book/background" in files
