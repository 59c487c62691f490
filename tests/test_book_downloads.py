"""Every chapter notebook can be downloaded from its page as an executed .ipynb."""

from pathlib import Path

import nbformat
import pytest

from booktoc import ROOT, toc_docnames

NOTEBOOK_DOCS = [name for name in toc_docnames() if (ROOT / f"{name}.ipynb").is_file()]


@pytest.mark.parametrize("doc", NOTEBOOK_DOCS)
def test_chapter_page_offers_its_executed_notebook(doc: str, built_book: Path):
    page = (built_book / f"{doc}.html").read_text(encoding="utf-8")
    assert f"_sources/{doc}.ipynb" in page, "no .ipynb download link on the page"
    download = nbformat.read(built_book / "_sources" / f"{doc}.ipynb", as_version=4)
    code = [c for c in download.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.execution_count for c in code)
    assert any(c.outputs for c in code), "the downloadable notebook has no outputs"
