"""Each chapter page, as a reader downloads it, stays under 2 MB; the icons need no script.

A page's weight is benchmarks/bench_book.py's figure: the HTML, every local file it loads
directly, and every file its style sheets load in turn (@import, images, and each declared
font face, whether or not the page uses it). pydata-sphinx-theme's scripts/fontawesome.js
alone was 1.5 MB; book/_templates/static/webpack-macros.html leaves it out, and the icons
come from the Font Awesome font that the theme's own style sheet declares.
"""

import importlib.util
from pathlib import Path

import pytest
from playwright.sync_api import expect

from booktoc import ROOT, toc_docnames

LIMIT = 2_000_000  # bytes: "each chapter page at most 2 MB including its assets"


def _bench_book():
    spec = importlib.util.spec_from_file_location(
        "bench_book", ROOT / "benchmarks" / "bench_book.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


page_sizes = _bench_book().page_sizes


@pytest.mark.parametrize("name", toc_docnames())
def test_page_with_assets_under_2_mb(name: str, built_book: Path):
    html_dir = built_book.resolve()
    html, total, count = page_sizes(html_dir, html_dir / f"{name}.html")
    assert total <= LIMIT, f"{name}: {total:,} bytes in the page and its {count} assets"


def test_no_page_loads_fontawesome_js(built_book: Path):
    pages = [
        path.relative_to(built_book).as_posix()
        for path in built_book.rglob("*.html")
        if not path.relative_to(built_book).parts[0].startswith("_")
        and "fontawesome.js" in path.read_text(encoding="utf-8")
    ]
    assert not pages


def test_icons_render_from_local_font(http_server: str, browser_page):
    """The header's icons show glyphs of the theme's Font Awesome font, fetched locally."""
    page = browser_page.page
    page.goto(f"{http_server}/{toc_docnames()[0]}.html", wait_until="networkidle")
    for icon in (".fa-download", ".fa-expand", ".theme-switch-button .theme-switch:visible"):
        expect(page.locator(f".bd-header-article {icon}").first).to_be_visible()
    faces = page.evaluate(
        """() => document.fonts.ready.then(fonts => [...fonts]
            .filter(face => face.status === "loaded")
            .map(face => `${face.family.replaceAll('"', "")} ${face.weight}`))"""
    )
    assert "Font Awesome 6 Free 900" in faces
    glyph = page.locator(".bd-header-article .fa-download").evaluate(
        "icon => getComputedStyle(icon, '::before').content"
    )
    assert glyph not in ("", "none", "normal")
    assert not browser_page.blocked, "requests to other hosts"
    assert not browser_page.errors, "JavaScript errors"
