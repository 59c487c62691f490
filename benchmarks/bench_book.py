"""Cold book build time, and the size of each chapter page as a reader downloads it.

"with assets" adds every local file the page's HTML loads directly (scripts, style sheets,
preloads, images) and every file those style sheets load in turn: @import, url() images and
fonts. Of an @font-face rule only its first source counts (woff2, which every current browser
takes, before the ttf fallback), but every declared face counts, used on the page or not.
"""

import re
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def _local(url: str) -> str | None:
    """The path part of a URL on this site, or None (another host, data:, a #fragment)."""
    parts = urlsplit(url.strip())
    return None if parts.scheme or parts.netloc else unquote(parts.path) or None


class _Assets(HTMLParser):
    ATTRS = {"script": "src", "link": "href", "img": "src", "source": "src"}

    def __init__(self):
        super().__init__()
        self.urls: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = set((attrs.get("rel") or "").split())
        if tag == "link" and not {"stylesheet", "preload", "icon"} & rel:
            return
        if local := _local(attrs.get(self.ATTRS.get(tag, "")) or ""):
            self.urls.add(local)


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)""", re.I)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+?)["']?\s*\)""", re.I)


def _css_urls(css: str) -> list[str]:
    """The URLs a browser fetches for a style sheet (see the module docstring)."""
    css = _CSS_COMMENT.sub("", css)
    urls = _CSS_IMPORT.findall(css) + _CSS_URL.findall(_CSS_FONT_FACE.sub("", css))
    for face in _CSS_FONT_FACE.findall(css):
        urls += _CSS_URL.findall(face)[:1]
    return urls


def page_assets(html_dir: Path, page: Path) -> set[Path]:
    """The local files one built page loads: named in its HTML, or in those style sheets."""
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    todo = [page.parent / url for url in parser.urls]
    assets: set[Path] = set()
    while todo:
        path = todo.pop().resolve()
        if path in assets or not path.is_file() or html_dir not in path.parents:
            continue
        assets.add(path)
        if path.suffix == ".css":
            urls = _css_urls(path.read_text(encoding="utf-8"))
            todo += [path.parent / local for url in urls if (local := _local(url))]
    return assets


def page_sizes(html_dir: Path, page: Path) -> tuple[int, int, int]:
    """(html bytes, html + assets bytes, number of assets) of one built page."""
    assets = page_assets(html_dir, page)
    html = page.stat().st_size
    return html, html + sum(path.stat().st_size for path in assets), len(assets)


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [JUPYTER_BOOK, "build", ROOT, "--path-output", out, "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"cold book build: {time.perf_counter() - start:.1f} s")
        html_dir = Path(out, "_build", "html").resolve()
        print(f"{'page':<32} {'html KiB':>9} {'with assets KiB':>16} {'assets':>7}")
        for name in parse_toc_yaml(ROOT / "_toc.yml"):
            html, total, count = page_sizes(html_dir, html_dir / f"{name}.html")
            print(f"{name:<32} {html / 1024:>9.1f} {total / 1024:>16.1f} {count:>7}")


if __name__ == "__main__":
    main()
