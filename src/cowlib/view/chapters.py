"""The book's chapters as text, in reading order: what the scenario index scans.

chapters(Path("."), Path("../_toc.yml"))   # from book/: {"[Rule 1](rule1.ipynb)": text}
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BadArgument


def toc_files(toc: Path) -> list[str]:
    """Every document of a Jupyter Book _toc.yml, root first, in reading order ("book/why")."""
    import yaml  # only the book's own notebooks need it

    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(yaml.safe_load(toc.read_text()))
    return found


def source_text(path: Path) -> str:
    """A page's Markdown, or a notebook's Markdown and code cells (not their outputs)."""
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] != "raw")


def title(text: str) -> str:
    """The first '# ' heading, up to a colon: "Rule 1: reuse only when ..." -> "Rule 1"."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].split(":")[0].strip().replace("`", "")
    raise BadArgument("no '# ' heading")


def chapters(book: Path, toc: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Each chapter under book listed in toc (but not those named in skip, "scenarios"),
    in reading order, as {"[Title](file)": text}: a Markdown link relative to book."""
    out = {}
    for entry in toc_files(toc):
        stem = (toc.parent / entry).name
        candidates = [book / f"{stem}{ext}" for ext in (".ipynb", ".md")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise BadArgument(f"{entry} is in {toc} but not in {book}")
        if stem in skip:
            continue
        text = source_text(path)
        out[f"[{title(text)}]({path.name})"] = text
    return out
