"""Where the book's sources and built pages are, read from _toc.yml."""

from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HTML = ROOT / "_build" / "html"


def toc_docnames() -> list[str]:
    """Every document in _toc.yml, as a path without suffix ("book/intro")."""
    return sorted(parse_toc_yaml(ROOT / "_toc.yml").keys())


def book_sources() -> list[Path]:
    """Every chapter source under book/ (folders starting with _ or . hold assets)."""
    return sorted(
        path
        for pattern in ("*.md", "*.ipynb")
        for path in BOOK.rglob(pattern)
        if not any(part.startswith(("_", ".")) for part in path.relative_to(BOOK).parts)
    )


def docname(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()
