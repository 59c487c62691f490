"""Cold book build time, and the size of each chapter page as a reader downloads it.

"with assets" adds every local file the page's HTML loads directly (scripts, style sheets,
preloads, images); files named inside style sheets are not followed.
"""

import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


class _Assets(HTMLParser):
    ATTRS = {"script": "src", "link": "href", "img": "src", "source": "src"}

    def __init__(self):
        super().__init__()
        self.urls: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and not {"stylesheet", "preload", "icon"} & set(attrs["rel"].split()):
            return
        url = attrs.get(self.ATTRS.get(tag, ""))
        if url and not urlsplit(url).scheme:
            self.urls.add(urlsplit(url).path)


def page_sizes(html_dir: Path, page: Path) -> tuple[int, int, int]:
    """(html bytes, html + assets bytes, number of assets) of one built page."""
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    assets = {(page.parent / url).resolve() for url in parser.urls}
    assets = {path for path in assets if path.is_file() and html_dir in path.parents}
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
