"""Every chapter links the first use of each background term to its definition.

A term is one of the kernel notions the background chapter explains (TERMS: the glossary
entry, and how chapters write it). In each chapter's prose (the .md pages and the
notebooks' Markdown cells, in order) the first use of the term must be a {term} role or a
link into the background chapter or the glossary. A use is the term in running text, or a
code span that is exactly the term (`trylock_page()`, `write_protect_seq`). Not uses:
code blocks, headings, block quotes, quoted titles ("..."), HTML, and the text of a link
that goes elsewhere. Not checked: the glossary, the background chapter itself, the API
appendix (its `rmap` or `swap` are module names) and the explorer chapter (another owner
adds its links).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from booktoc import book_sources

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "book" / "glossary.md"
NOT_CHECKED = {"glossary", "background", "api"}

# glossary term -> the forms chapters write; (?i:...) where the word is not an acronym
TERMS = {
    "seqcount": r"(?i:seqcounts?)",
    "write_protect_seq": r"write_protect_seq",
    "mmap_lock": r"(?i:mmap[_ ]lock|mmap_sem)",
    "page lock": r"(?i:page lock)",
    "trylock_page()": r"trylock_page(?:\(\))?|folio_trylock(?:\(\))?",
    "rmap": r"rmap|(?i:reverse mapping)",
    "anon_vma": r"anon_vma",
    "KSM": r"KSM",
    "THP": r"THPs?|(?i:transparent huge pages?)",
    "PMD": r"PMD-mapped|PMDs?",
    "folio": r"(?i:(?:large )?folios?)",
    "hugetlb": r"hugetlb",
    "uffd-wp": r"uffd-wp|userfaultfd(?:-WP)?",
    "DAX": r"DAX|pmem",
    "RCU GUP-fast": r"RCU(?: GUP-fast)?",
    "memory barrier": r"(?i:memory barriers?)",
    "clear_refs": r"clear_refs|(?i:soft[- ]dirty)",
    "page_count()": r"page_count(?:\(\))?|(?i:refcount)",
    "mapcount": r"(?i:mapcount|page_mapcount(?:\(\))?)",
    "GUP": r"GUP|get_user_pages(?:\(\))?",
    "GUP-fast": r"GUP-fast",
    "FOLL_PIN": r"FOLL_PIN",
    "swap cache": r"(?i:swap cache)",
    "LRU-add batch": r"(?i:LRU(?:-add)? batch)",
}
BOUNDED = {t: re.compile(rf"(?<![\w/])(?:{p})(?![\w-])") for t, p in TERMS.items()}
WHOLE = {t: re.compile(rf"(?:{p})") for t, p in TERMS.items()}

# what is not prose: masked (replaced by spaces) before looking for terms
NOT_PROSE = [
    re.compile(r"^(`{3,}|~{3,}).*?^\1\s*$", re.M | re.S),  # code blocks
    re.compile(r"^:{3,}.*$|^:\w[\w-]*:.*$", re.M),  # directive fences and options
    re.compile(r"^#{1,6} .*$", re.M),  # headings
    re.compile(r"^ {0,3}>.*$", re.M),  # block quotes
    re.compile(r"<!--.*?-->|<[^>\n]+>(?!`)", re.S),  # HTML (not a role's <target>`)
    re.compile(r"^\([\w-]+\)=\s*$", re.M),  # MyST labels
]
INLINE = re.compile(
    r"\{(?P<role>\w+)\}`(?P<rtext>[^`]*)`"  # a role
    r"|\[(?P<ltext>[^\]\n]*)\]\((?P<target>[^)\s]*)\)"  # a link
    r"|`(?P<code>[^`]+)`"  # a code span (it may wrap lines)
    r'|"(?P<quote>[^"]{1,300})"'  # a quotation (a commit or mail title)
)
DEFINITIONS = re.compile(r"^(?:background|glossary)(?:\.md)?(?:#|$)")


@dataclass(frozen=True)
class Use:
    cell: int
    start: int
    end: int
    text: str
    kind: str  # "text", "code", or "linked"


def cells(path: Path) -> list[str]:
    if path.suffix == ".md":
        return [path.read_text()]
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) if c["cell_type"] == "markdown" else "" for c in nb["cells"]]


def mask(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def links_to_definition(role: str | None, target: str) -> bool:
    if role == "term":
        return True
    if role in ("ref", "doc"):
        inner = re.search(r"<([^>]+)>\s*$", target)
        target = (inner.group(1) if inner else target).strip()
        return (
            target.startswith("bg-")
            or DEFINITIONS.match(target.lstrip("/").removeprefix("book/")) is not None
        )
    return role is None and DEFINITIONS.match(target) is not None


def uses(text: str, term: str, cell: int = 0) -> list[Use]:
    """Every use of term in one cell's Markdown, in order."""
    for pattern in NOT_PROSE:
        for m in pattern.finditer(text):
            text = mask(text, m.start(), m.end())
    found = []
    plain = text
    for m in INLINE.finditer(text):
        plain = mask(plain, m.start(), m.end())
        inner = m.group("rtext") if m.group("role") else m.group("ltext")
        if m.group("code") is not None:
            if WHOLE[term].fullmatch(m.group("code")):
                found.append(Use(cell, m.start(), m.end(), m.group("code"), "code"))
        elif inner is not None and BOUNDED[term].search(re.sub(r"\s*<[^>]*>\s*$", "", inner)):
            target = m.group("rtext") if m.group("role") else m.group("target")
            if links_to_definition(m.group("role"), target):
                found.append(Use(cell, m.start(), m.end(), inner, "linked"))
    for m in BOUNDED[term].finditer(plain):
        found.append(Use(cell, m.start(), m.end(), m.group(0), "text"))
    return sorted(found, key=lambda u: u.start)


def first_use(path: Path, term: str) -> Use | None:
    for i, text in enumerate(cells(path)):
        found = uses(text, term, i)
        if found:
            return found[0]
    return None


def glossary_terms() -> set[str]:
    block = GLOSSARY.read_text().split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return {line.strip().lower() for line in block.splitlines() if re.match(r"^\S", line)}


CHECKED = [p for p in book_sources() if p.stem not in NOT_CHECKED]


def test_every_term_is_in_the_glossary():
    assert {t.lower() for t in TERMS} <= glossary_terms()


def test_the_finder_sees_uses_and_links_and_skips_the_rest():
    text = (
        "# About THP\n\nA `THP` and {term}`KSM`. See [rmap](background.md#bg-rmap) and\n"
        '"mm/thp: a THP title". > no\n```\nKSM\n```\n[KSM](rule1.ipynb) PMD-mapped, '
        "GUP-fast, mm/rmap.c, `page_count() == 1`."
    )
    assert [(u.text, u.kind) for u in uses(text, "THP")] == [("THP", "code")]
    assert [u.kind for u in uses(text, "KSM")] == ["linked"]
    assert [u.kind for u in uses(text, "rmap")] == ["linked"]
    assert [u.text for u in uses(text, "PMD")] == ["PMD-mapped"]
    assert uses(text, "GUP") == [] and uses(text, "page_count()") == []
    assert [u.kind for u in uses("{ref}`the chapter <bg-ksm>` KSM", "KSM")] == ["text"]
    assert [u.kind for u in uses("{ref}`KSM <bg-ksm>` KSM", "KSM")] == ["linked", "text"]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.stem)
def test_the_first_use_of_each_background_term_links_to_its_definition(path: Path):
    unlinked = {}
    for term in TERMS:
        use = first_use(path, term)
        if use and use.kind != "linked":
            unlinked[term] = use.text
    assert not unlinked, f"{path.name}: first use not linked: {unlinked}"


def test_the_checked_chapters_include_the_rules_and_not_the_glossary():
    stems = {p.stem for p in CHECKED}
    assert {"rule1", "rule4", "model", "after", "intro"} <= stems
    assert not stems & NOT_CHECKED
