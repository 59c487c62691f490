"""The words in each box of the diagram, in the kernel's vocabulary.

One function per part: a process (mm_struct), one PTE, one struct page, one swap slot
and one holder (a pipe, a FOLL_GET reference or a pin). Each returns Lines; the layout
sizes boxes from them and the SVG writer draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..trace import HolderView, PageView, ProcView, PteView, SlotView
from .changes import Changes

MAX_VALUE = 12  # longer page values are cut with an ellipsis


def shown(value: str) -> str:
    """A page's value as the diagram shows it: quoted, and cut when long."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "\u2026"


@dataclass(frozen=True)
class Line:
    """One text line of a box; cls is "" or a style: t (title), m (muted), a (accent), bad."""

    text: str
    cls: str = ""
    right: str = ""  # a second text, right-aligned on the same line
    right_cls: str = "a"


def proc_lines(p: ProcView) -> list[Line]:
    lines = [Line(p.name, "t", f"pid {p.pid}", "m")]
    if not p.alive:
        lines.append(Line("exited", "m"))
    if p.forking:
        lines.append(Line("in fork(): mmap_lock", "a"))
    if p.has_pinned:
        lines.append(Line("MMF_HAS_PINNED", "a"))
    if p.alive and not p.vmas:
        lines.append(Line("no mappings", "m"))
    if p.write_protect_seq:
        odd = " (odd)" if p.write_protect_seq % 2 else ""
        lines.append(Line(f"write_protect_seq {p.write_protect_seq}{odd}"))
    return lines


def pte_lines(addr: int, pte: PteView | None) -> list[Line]:
    """A PTE cell: the address, what it maps, and its write bit."""
    if pte is None:
        return [Line(f"{addr:#x}", "m"), Line("no PTE", "m"), Line("")]
    if pte.kind == "swap":
        return [
            Line(f"{addr:#x}", "m"),
            Line(f"swap slot {pte.target}"),
            Line("swp_exclusive" if pte.swp_exclusive else "not present", "m"),
        ]
    target = "zero page" if pte.kind == "zero" else f"pfn {pte.target}"
    return [
        Line(f"{addr:#x}", "m"),
        Line(target, "t"),
        Line("writable" if pte.write else "read-only", "" if pte.write else "m"),
    ]


def _counter(name: str, value: int, pfn: int, changes: Changes) -> Line:
    delta = changes.deltas.get(name, {}).get(pfn)
    return Line(f"{name} {value}" + (f" ({delta:+d})" if delta else ""))


def page_lines(pg: PageView, changes: Changes) -> list[Line]:
    """struct page: pfn and contents, the three counters, then the flags that are set."""
    if pg.zero:
        return [
            Line(f"pfn {pg.pfn}", "t", "zero page"),
            Line("shared, read-only", "m"),
            Line("never reused by COW", "m"),
        ]
    lines = [
        Line(f"pfn {pg.pfn}", "t", shown(pg.value)),
        *(
            _counter(n, getattr(pg, n), pg.pfn, changes)
            for n in ("refcount", "mapcount", "pincount")
        ),
    ]
    if pg.kind == "file":
        lines.append(Line("page cache page", "m"))
    if pg.maybe_pinned:
        lines.append(Line("page_maybe_dma_pinned", "a"))
    if pg.anon_exclusive:
        lines.append(Line("PageAnonExclusive"))
    if pg.swapcache is not None:
        lines.append(Line(f"swap cache, slot {pg.swapcache}"))
    if pg.lru_batch:
        lines.append(Line("LRU batch (+1 ref)"))
    elif pg.lru:
        lines.append(Line("on the LRU", "m"))
    return lines


def slot_lines(s: SlotView) -> list[Line]:
    lines = [Line(f"swap slot {s.slot}", "t", shown(s.value)), Line(f"swap count {s.count}")]
    if s.cache is not None:
        lines.append(Line(f"swap cache: pfn {s.cache}"))
    return lines


HOLDER_TITLES = {"pin": "device", "pipe": "pipe", "ref": "reference"}


def holder_lines(h: HolderView) -> list[Line]:
    """A pipe (vmsplice), a FOLL_GET reference, or a device's FOLL_PIN."""
    how = {
        "pin": f"FOLL_PIN {'rw' if h.write else 'ro'}",
        "pipe": "vmsplice: FOLL_GET",
        "ref": "FOLL_GET",
    }[h.kind]
    lines = [
        Line(h.name, "t", HOLDER_TITLES[h.kind]),
        Line(how),
        Line(f"from {h.owner} at {h.addr:#x}", "m"),
    ]
    if h.pfn is None:
        lines.append(Line("GUP-fast in flight", "a"))
    if not h.live:
        lines.append(Line(f"{h.owner} has exited", "m"))
    return lines
