"""Where every box and arrow of a snapshot diagram goes.

Three tiers, top to bottom: processes with one cell per page of their VMAs (the PTEs);
physical pages, each followed by the swap slot that caches it; holders (pipes,
references, pins). Arrows only run between adjacent tiers, so they cross the empty
gaps and never a label. Pages sit under the PTEs that map them and holders under
their pages, which keeps most arrows vertical.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..mm_types import PAGE_SIZE
from ..trace import Snapshot
from . import folios
from .folios import Cell, Where, subpage_x
from .parts import Line

FONT = 12  # px, monospace
CHAR = 0.61 * FONT  # width of one character (DejaVu Sans Mono, Menlo: 0.60 em)
LINE = 15  # line height
PAD = 7  # inside a box
MARGIN = 12  # around the picture
GAP = 14  # between boxes of a tier
CACHE_GAP = 22  # between a page and the swap slot that caches it
CELL_GAP = 4
TIER_GAP = (46, 40)  # processes -> pages, pages -> holders
MIN_WIDTH = 580  # the book's text column: most diagrams show at 1:1 there

Key = tuple  # ("proc", name) | ("pte", name, addr) | ("page", pfn) | ("folio", head pfn)
# | ("slot", n) | ("holder", name)


@dataclass
class Box:
    """A rectangle with its text; x, y is the top left corner."""

    key: Key
    x: float
    y: float
    w: float
    h: float
    lines: list[Line] = field(default_factory=list)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(frozen=True)
class Arrow:
    """From (x1, y1) to (x2, y2); kind: rw, ro (PTEs), swap, pin, get (holders), cache."""

    kind: str
    src: Key
    dst: Key
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class Layout:
    """A whole diagram below its header: size, boxes, VMA brackets and arrows."""

    width: float
    height: float
    boxes: list[Box]
    vmas: list[tuple[float, float, float, str]]  # x1, x2, y, label
    arrows: list[Arrow]
    runs: dict[Key, int] = field(default_factory=dict)  # PTE cells that stand for n pages


def text_width(lines: list[Line]) -> float:
    """Width of the widest line, with a two-character gap before a right-hand text."""
    return max((len(ln.text) + (len(ln.right) + 2 if ln.right else 0)) * CHAR for ln in lines)


def box_height(n_lines: int) -> float:
    return 2 * PAD + n_lines * LINE


def _place(widths: list[float], desired: list[float], lo: float, hi: float) -> list[float]:
    """Left edges for boxes kept in this order, each centred as near as it can be to its
    desired x: boxes that would overlap form a cluster centred on their mean wish. The
    caller makes sure everything fits in [lo, hi]."""
    clusters: list[list[float]] = []  # [first index, last index, left edge, sum of wishes]
    for i, (w, d) in enumerate(zip(widths, desired, strict=True)):
        clusters.append([i, i, d - w / 2, d - w / 2])
        while len(clusters) > 1:
            a, b = clusters[-2], clusters[-1]
            width_a = sum(widths[a[0] : a[1] + 1]) + GAP * (a[1] - a[0])
            if a[2] + width_a + GAP <= b[2]:
                break
            # each box's wish for the cluster's left edge is its wish minus its offset
            wish = a[3] + b[3] - (b[1] - b[0] + 1) * (width_a + GAP)
            n = b[1] - a[0] + 1
            clusters[-2:] = [[a[0], b[1], wish / n, wish]]
    lefts = []
    for first, last, left, _ in clusters:
        for i in range(first, last + 1):
            lefts.append(left)
            left += widths[i] + GAP
    for i in range(len(lefts)):  # clamp: first push right of lo, then left of hi
        lefts[i] = max(lefts[i], lo if i == 0 else lefts[i - 1] + widths[i - 1] + GAP)
    for i in reversed(range(len(lefts))):
        ceiling = hi if i == len(lefts) - 1 else lefts[i + 1] - GAP
        lefts[i] = min(lefts[i], ceiling - widths[i])
    return lefts


def _row_width(widths: list[float]) -> float:
    return sum(widths) + GAP * max(len(widths) - 1, 0)


class _Builder:
    """Builds one Layout; lines maps each box key to its text."""

    def __init__(self, snap: Snapshot, lines: dict[Key, list[Line]], min_width: float) -> None:
        self.snap, self.lines, self.min_width = snap, lines, min_width
        self.boxes: dict[Key, Box] = {}
        self.arrows: list[Arrow] = []
        self.vmas: list[tuple[float, float, float, str]] = []
        self.where = Where(snap)
        self.cells: dict[str, list[Cell]] = {}
        self.cell_of: dict[tuple[str, int], int] = {}  # (process, addr) -> its cell's addr
        self.runs: dict[Key, int] = {}

    def build(self) -> Layout:
        procs = self.snap.procs
        cells = {p.name: folios.cells(p, self.where) for p in procs}
        self.cells = cells
        cell_w = max([text_width(v) for k, v in self.lines.items() if k[0] == "pte"] + [60])
        cell_w += 2 * PAD - 4
        proc_w = [
            max(
                text_width(self.lines["proc", p.name]),
                len(cells[p.name]) * (cell_w + CELL_GAP) - CELL_GAP,
            )
            + 2 * PAD
            for p in procs
        ]
        units = self._units()
        unit_w = [self._unit_width(u) for u in units]
        holder_w = self._kind_width("holder")
        n_holders = len(self.snap.holders)
        natural = max(_row_width(proc_w), _row_width(unit_w), _row_width([holder_w] * n_holders))
        width = max(self.min_width, natural + 2 * MARGIN)
        y = 0.0
        if procs:
            y = self._procs(proc_w, cells, cell_w, width) + TIER_GAP[0]
        if units:
            y = self._pages(units, unit_w, y, width) + TIER_GAP[1]
        if n_holders:
            y = self._holders(holder_w, y, width) + TIER_GAP[1]
        self._pte_arrows()
        return Layout(
            width,
            max(y - TIER_GAP[1], 0),
            list(self.boxes.values()),
            self.vmas,
            self.arrows,
            self.runs,
        )

    # -- tier 1: processes and their PTE cells ---------------------------------------
    def _procs(
        self, widths: list[float], cells: dict[str, list[Cell]], cell_w: float, width: float
    ) -> float:
        head = max(len(self.lines["proc", p.name]) for p in self.snap.procs)
        cell_h = box_height(3) - 4
        cy = PAD + head * LINE + LINE + 7  # a row for the VMA brackets, then the cells
        height = cy + cell_h + PAD if any(cells.values()) else box_height(head)
        x = (width - _row_width(widths)) / 2
        for p, w in zip(self.snap.procs, widths, strict=True):
            own = height if cells[p.name] else box_height(len(self.lines["proc", p.name]))
            self._box(("proc", p.name), x, 0, w, own)
            for i, cell in enumerate(cells[p.name]):
                key = ("pte", p.name, cell.addr)
                self._box(key, x + PAD + i * (cell_w + CELL_GAP), cy, cell_w, cell_h)
                for n in range(cell.n):
                    self.cell_of[p.name, cell.addr + n * PAGE_SIZE] = cell.addr
                if cell.n > 1:
                    self.runs[key] = cell.n
            for start, end, write in p.vmas:
                xs = [
                    self.boxes["pte", p.name, c.addr]
                    for c in cells[p.name]
                    if start <= c.addr < end
                ]
                self.vmas.append(
                    (xs[0].x, xs[-1].x + xs[-1].w, cy - 4, f"vma {'rw-p' if write else 'r--p'}")
                )
            x += w + GAP
        return height

    # -- tier 2: pages and swap slots -----------------------------------------------
    def _units(self) -> list[list[Key]]:
        """Pages, each with the swap slot caching it right after; then lone slots."""
        cached = {s.cache: s.slot for s in self.snap.swap if s.cache is not None}
        units = [
            [("page", pg.pfn)] + ([("slot", cached[pg.pfn])] if pg.pfn in cached else [])
            if pg.folio is None
            else [("folio", pg.folio)]
            for pg in self.snap.pages
            if pg.folio is None or pg.index == 0
        ]
        in_units = {k for u in units for k in u}
        lone = [
            [self.where.slot_key(s.slot)]
            for s in self.snap.swap
            if ("slot", s.slot) not in in_units
            and self.where.slot_first.get(s.slot, s.slot) == s.slot
        ]
        return units + lone

    def _kind_width(self, kind: str) -> float:
        return max([text_width(v) for k, v in self.lines.items() if k[0] == kind] + [0]) + 2 * PAD

    def _unit_width(self, unit: list[Key]) -> float:
        return sum(self._kind_width(k[0]) for k in unit) + CACHE_GAP * (len(unit) - 1)

    def _anchor(self, key: Key) -> list[tuple[float, float]]:
        """(x, weight) of everything in tier 1 that will point at key: PTEs directly,
        holders' processes at half weight (holders are placed after pages, under them)."""
        xs = []
        for p in self.snap.procs:
            for pte in p.ptes:
                swap = pte.kind == "swap"
                dst = self.where.slot_key(pte.target) if swap else self.where.key(pte.target)
                if dst == key:
                    xs.append((self.boxes["pte", p.name, self.cell_of[p.name, pte.addr]].cx, 1.0))
            for addr, head, _, _ in p.pmds:
                if ("folio", head) == key:
                    xs.append((self.boxes["pte", p.name, addr].cx, 1.0))
        for h in self.snap.holders:
            if h.pfn is not None and self.where.key(h.pfn) == key:
                cell = self.boxes.get(
                    ("pte", h.owner, self.cell_of.get((h.owner, h.addr), h.addr))
                ) or self.boxes.get(("proc", h.owner))
                if cell is not None:
                    xs.append((cell.cx, 0.5))
        return xs

    def _pages(
        self, units: list[list[Key]], widths: list[float], top: float, width: float
    ) -> float:
        height = max(box_height(len(self.lines[k])) for u in units for k in u)
        desired = []
        for u, w in zip(units, widths, strict=True):
            anchors = [self._anchor(k) for k in u]
            if len(u) == 2 and all(anchors) and _mean(anchors[1]) < _mean(anchors[0]):
                u.reverse()  # the slot's PTEs are further left than the page's
            xs = [x for a in anchors for x in a]
            desired.append(_mean(xs) if xs else width + w)
        order = sorted(range(len(units)), key=lambda i: (desired[i], units[i]))
        lefts = _place(
            [widths[i] for i in order], [desired[i] for i in order], MARGIN, width - MARGIN
        )
        for i, left in zip(order, lefts, strict=True):
            x = left
            for k in units[i]:
                w = self._kind_width(k[0])
                self._box(k, x, top, w, height)
                x += w + CACHE_GAP
            if len(units[i]) == 2:
                page, slot = sorted((self.boxes[k] for k in units[i]), key=lambda b: b.key)
                mid = top + height / 2
                right = page.x < slot.x  # the arrow runs from the slot to the page
                self.arrows.append(
                    Arrow(
                        "cache",
                        slot.key,
                        page.key,
                        slot.x if right else slot.x + slot.w,
                        mid,
                        page.x + page.w if right else page.x,
                        mid,
                    )
                )
        return top + height

    # -- tier 3: holders --------------------------------------------------------------
    def _holders(self, w: float, top: float, width: float) -> float:
        holders = self.snap.holders
        height = max(box_height(len(self.lines["holder", h.name])) for h in holders)
        desired = []
        for h in holders:
            page = self.boxes.get(self.where.key(h.pfn)) if h.pfn is not None else None
            target = page or self.boxes.get(
                ("pte", h.owner, self.cell_of.get((h.owner, h.addr), h.addr))
            )
            desired.append(self._x_of(h.pfn, page) if page else target.cx if target else width / 2)
        order = sorted(range(len(holders)), key=lambda i: (desired[i], holders[i].name))
        lefts = _place([w] * len(order), [desired[i] for i in order], MARGIN, width - MARGIN)
        ups: dict[Key, list[tuple[Box, str]]] = {}
        for i, left in zip(order, lefts, strict=True):
            h = holders[i]
            box = self._box(("holder", h.name), left, top, w, height)
            if h.pfn is not None:
                ups.setdefault(self.where.key(h.pfn), []).append(
                    (box, "pin" if h.kind == "pin" else "get", h.pfn)
                )
        for key, sources in ups.items():
            page = self.boxes.get(key)
            if page is None:
                continue  # a holder of a freed page: the oracle reports it (accounting)
            xs = (
                [self._x_of(pfn, page) for _, _, pfn in sources]
                if key[0] == "folio"
                else _spread(page, [s.cx for s, _, _ in sources])
            )
            for (src, kind, _), x in zip(sources, xs, strict=True):
                self.arrows.append(Arrow(kind, src.key, key, src.cx, top, x, page.y + page.h))
        return top + height

    # -- arrows from PTE cells --------------------------------------------------------
    def _pte_arrows(self) -> None:
        downs: dict[Key, list[tuple[Box, str, int | None]]] = {}
        for p in self.snap.procs:
            for c in self.cells[p.name]:
                cell = self.boxes["pte", p.name, c.addr]
                if c.pmd is not None:
                    dst, target = ("folio", c.pmd[1]), None
                elif c.slot is not None:
                    dst, target = self.where.slot_key(c.slot), None
                elif c.first is not None:
                    dst, target = self.where.key(c.first), c.first + c.n // 2
                elif c.pte is not None:
                    pte = c.pte
                    swap = pte.kind == "swap"
                    dst = self.where.slot_key(pte.target) if swap else self.where.key(pte.target)
                    target = pte.target
                else:
                    continue
                swapped = c.slot is not None or (c.pte is not None and c.pte.kind == "swap")
                kind = "swap" if swapped else "rw" if c.write else "ro"
                downs.setdefault(dst, []).append((cell, kind, target))
        for dst, sources in downs.items():
            box = self.boxes.get(dst)
            if box is None:
                continue  # a PTE to a freed page or slot: the oracle reports it (accounting)
            sources.sort(key=lambda s: s[0].cx)
            xs = (
                [self._x_of(t, box) for _, _, t in sources]
                if dst[0] == "folio"
                else _spread(box, [c.cx for c, _, _ in sources])
            )
            for (cell, kind, _), x in zip(sources, xs, strict=True):
                self.arrows.append(Arrow(kind, cell.key, dst, cell.cx, cell.y + cell.h, x, box.y))

    def _x_of(self, pfn: int | None, box: Box) -> float:
        """Where an arrow to pfn meets its box: the subpage's column in a folio box."""
        if box.key[0] != "folio" or pfn is None:
            return box.cx
        pages = self.where.folios[box.key[1]]
        return subpage_x(box.x, PAD, CHAR, self.where.index[pfn], len(pages), box.w)

    def _box(self, key: Key, x: float, y: float, w: float, h: float) -> Box:
        box = Box(key, round(x, 1), round(y, 1), round(w, 1), round(h, 1), self.lines.get(key, []))
        self.boxes[key] = box
        return box


def _mean(xs: list[tuple[float, float]]) -> float:
    """Weighted mean of (x, weight) pairs."""
    return sum(x * w for x, w in xs) / sum(w for _, w in xs)


def _spread(box: Box, xs: list[float]) -> list[float]:
    """Where arrows from sources at xs (sorted) meet box's edge: straight down when
    there is one, spread evenly over the edge when there are several."""
    inset = min(16.0, box.w / 4)
    lo, hi = box.x + inset, box.x + box.w - inset
    if len(xs) == 1:
        return [min(max(xs[0], lo), hi)]
    step = (hi - lo) / (len(xs) - 1)
    return [lo + i * step for i in range(len(xs))]


def layout(snap: Snapshot, lines: dict[Key, list[Line]], min_width: float = MIN_WIDTH) -> Layout:
    """Positions for every part of snap; lines holds each box's text (see parts). The
    picture is min_width wide, or wider when the boxes need it."""
    return _Builder(snap, lines, min_width).build()
