"""Large folios in the diagrams: one box per folio, and runs of PTE cells.

A large folio (a THP, an mTHP, a hugetlb folio, the huge zero page) is one box: its
counters (refcount, entire mapcount, pincount: the folio's) and a strip with one mark
per subpage, 16 to a row in groups of 4: the subpage's PTE mapcount ("·" for none) and,
below it, "E" for PageAnonExclusive. A folio of more than MAX_STRIP pages shows runs of
equal subpages instead. In the process tier, a PMD is one cell, and so is a run of PTEs
that map consecutive subpages of one folio the same way, or (in a VMA with large
folios, or longer than LONG_VMA pages) a run of addresses with no PTE. Order-0 pages
and small VMAs are drawn as before: one box per page, one cell per address.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..mm_types import PAGE_SIZE
from ..trace import PageView, ProcView, PteView, Snapshot
from .changes import Changes
from .parts import Line, pte_lines, shown

STRIP = 16  # subpages per strip row
MAX_STRIP = 64  # larger folios show runs instead of a strip
NBSP = "\u00a0"
SLOT_RUN = 4  # more consecutive swap slots than this are one box
LONG_VMA = 8  # a VMA longer than this shows runs of empty addresses as one cell
KINDS = {
    "anon": "THP",
    "hugetlb": "hugetlb",
    "hugetlb-file": "hugetlbfs page cache",
    "huge-zero": "huge zero page",
}


class Where:
    """Which box a pfn is drawn in: ("page", pfn), or ("folio", head) for a subpage."""

    def __init__(self, snap: Snapshot) -> None:
        self.folios: dict[int, list[PageView]] = {}
        self.head: dict[int, int] = {}
        for pg in snap.pages:
            if pg.folio is not None:
                self.folios.setdefault(pg.folio, []).append(pg)
                self.head[pg.pfn] = pg.folio
        self.index = {pg.pfn: pg.index for pages in self.folios.values() for pg in pages}
        # runs of more than SLOT_RUN consecutive swap slots no page caches (a swapped-out
        # large folio) are one box, keyed by the first slot
        self.slot_runs: dict[int, list] = {}
        self.slot_first: dict[int, int] = {}
        lone = [s for s in snap.swap if s.cache is None]
        run: list = []
        for s in [*lone, None]:
            if s is not None and run and s.slot == run[-1].slot + 1:
                run.append(s)
                continue
            if len(run) > SLOT_RUN:
                self.slot_runs[run[0].slot] = run
                self.slot_first.update({r.slot: run[0].slot for r in run})
            run = [s] if s is not None else []

    def key(self, pfn: int) -> tuple:
        head = self.head.get(pfn)
        return ("page", pfn) if head is None else ("folio", head)

    def slot_key(self, slot: int) -> tuple:
        return ("slot", self.slot_first.get(slot, slot))


@dataclass(frozen=True)
class Cell:
    """One PTE cell of a process: addr, how many pages it stands for, what maps them."""

    addr: int
    n: int = 1
    pte: PteView | None = None  # the PTE of a one-page cell
    pmd: tuple[int, int, int, bool] | None = None  # (addr, head pfn, pages, writable)
    first: int | None = None  # a run of PTEs: the first subpage's pfn
    write: bool = False
    slot: int | None = None  # a run of swap PTEs: the first slot

    @property
    def last(self) -> int:
        return self.addr + (self.n - 1) * PAGE_SIZE


def cells(p: ProcView, where: Where) -> list[Cell]:
    """The cells of p's page table row, in address order (see the module docstring)."""
    ptes = {pte.addr: pte for pte in p.ptes}
    pmds = {start: pmd for pmd in p.pmds for start in [pmd[0]]}
    addrs = sorted({a for s, e, _ in p.vmas for a in range(s, e, PAGE_SIZE)} | set(ptes))
    large = {
        (s, e)
        for s, e, _ in p.vmas
        if (e - s) // PAGE_SIZE > LONG_VMA
        or any(s <= a < e for a in pmds)
        or any(s <= a < e and pte.target in where.head for a, pte in ptes.items())
    }
    starts = {s for s, _, _ in p.vmas}  # a cell never spans two VMAs
    out: list[Cell] = []
    skip_to = 0
    for a in addrs:
        if a < skip_to:
            continue
        if a in pmds:
            pmd = pmds[a]
            out.append(Cell(a, pmd[2], pmd=pmd, write=pmd[3]))
            skip_to = a + pmd[2] * PAGE_SIZE
            continue
        pte = ptes.get(a)
        prev = out[-1] if out and out[-1].last + PAGE_SIZE == a and out[-1].pmd is None else None
        prev = None if a in starts else prev
        run = _run_start(prev, "present", where.head)
        swap = _run_start(prev, "swap", where.slot_first)
        if (
            swap is not None
            and pte is not None
            and pte.kind == "swap"
            and pte.target == swap + prev.n
            and where.slot_first.get(pte.target) == where.slot_first[swap]
        ):
            out[-1] = Cell(prev.addr, prev.n + 1, slot=swap)
        elif (
            run is not None
            and pte is not None
            and pte.kind == "present"
            and where.head.get(pte.target) == where.head[run]
            and pte.target == run + prev.n
            and pte.write == prev.write
        ):
            out[-1] = Cell(prev.addr, prev.n + 1, first=run, write=pte.write)
        elif (
            pte is None
            and prev is not None
            and prev.pte is None
            and prev.first is None
            and prev.slot is None
            and any(s <= a < e for s, e in large)
        ):
            out[-1] = Cell(prev.addr, prev.n + 1)
        else:
            out.append(Cell(a, 1, pte, write=pte.write if pte else False))
    return out


def _run_start(prev: Cell | None, kind: str, known: dict) -> int | None:
    """The first pfn (kind "present") or slot (kind "swap") of the run of PTEs that prev
    is, or starts, if any; known holds the pfns (slots) that may be in a run."""
    if prev is None:
        return None
    start = prev.first if kind == "present" else prev.slot
    if start is not None:
        return start
    pte = prev.pte
    return pte.target if pte is not None and pte.kind == kind and pte.target in known else None


def cell_lines(cell: Cell, where: Where | None = None) -> list[Line]:
    """A cell's text: one PTE as pte_lines() says, or a PMD (a hugetlb entry), a run of
    PTEs into one folio, or a run of addresses with no PTE."""
    if cell.n == 1 and cell.pmd is None:
        return pte_lines(cell.addr, cell.pte)
    mode = "rw" if cell.write else "ro"
    if cell.pmd is not None:
        pages = where.folios.get(cell.pmd[1]) if where is not None else None
        entry = "huge PTE" if pages and pages[0].kind.startswith("hugetlb") else "PMD"
        return [
            Line(f"{cell.addr:#x}", "m"),
            Line(f"folio {cell.pmd[1]}", "t"),
            Line(f"{entry} {mode}"),
        ]
    if cell.slot is not None:
        return [
            Line(f"{cell.addr:#x}", "m"),
            Line(f"slots {cell.slot}-{cell.slot + cell.n - 1}"),
            Line(f"{cell.n} swap PTEs", "m"),
        ]
    if cell.first is not None:
        last = cell.first + cell.n - 1
        return [
            Line(f"{cell.addr:#x}", "m"),
            Line(f"pfn {cell.first}-{last}", "t"),
            Line(f"{cell.n} PTEs {mode}", "" if cell.write else "m"),
        ]
    return [Line(f"{cell.addr:#x}", "m"), Line(f"{cell.n} no PTE", "m"), Line("")]


def folio_lines(pages: list[PageView], changes: Changes) -> list[Line]:
    """The folio box: head pfn and kind, the folio's counters, its flags, its subpages."""
    head = pages[0]
    delta = changes.deltas.get("refcount", {}).get(head.pfn)
    lines = [
        Line(f"folio pfn {head.pfn}", "t", KINDS.get(head.kind, head.kind)),
        Line(f"order {head.order}, {len(pages)} pages", "m"),
    ]
    if head.kind == "huge-zero":
        return lines + [Line("shared, read-only", "m"), Line("never reused by COW", "m")]
    lines += [
        Line(f"refcount {head.refcount}" + (f" ({delta:+d})" if delta else "")),
        Line(f"entire mapcount {head.entire_mapcount}"),
        Line(f"pincount {head.pincount}"),
    ]
    if head.pincount:
        lines.append(Line("folio_maybe_dma_pinned", "a"))
    values = sorted({pg.value for pg in pages}, key=lambda v: [pg.value for pg in pages].index(v))
    lines.append(
        Line("data " + ", ".join(shown(v) for v in values[:3]) + (" \u2026" if values[3:] else ""))
    )
    if len(pages) > MAX_STRIP:
        return lines + _runs(pages)
    lines.append(Line("subpage: PTE mapcount / E", "m"))
    for row in range(0, len(pages), STRIP):
        part = pages[row : row + STRIP]
        label = f"{row:>3} ".replace(" ", NBSP)  # SVG collapses spaces; the columns must hold
        lines.append(Line(label + _groups(_mapmark(pg.mapcount) for pg in part)))
        lines.append(
            Line(NBSP * 4 + _groups("E" if pg.anon_exclusive else "\u00b7" for pg in part))
        )
    return lines


def _mapmark(n: int) -> str:
    return "\u00b7" if n == 0 else str(n) if n < 10 else "+"


def _groups(marks) -> str:
    marks = list(marks)
    return NBSP.join("".join(marks[i : i + 4]) for i in range(0, len(marks), 4))


def _runs(pages: list[PageView]) -> list[Line]:
    """Runs of subpages with the same mapcount and exclusive flag."""
    out, start = [], 0
    for i in range(1, len(pages) + 1):
        if i == len(pages) or (pages[i].mapcount, pages[i].anon_exclusive) != (
            pages[start].mapcount,
            pages[start].anon_exclusive,
        ):
            pg = pages[start]
            flag = ", PageAnonExclusive" if pg.anon_exclusive else ""
            out.append(Line(f"{start}-{i - 1}: mapcount {pg.mapcount}{flag}"))
            start = i
    return out


def subpage_x(box_x: float, pad: float, char: float, index: int, nr: int, width: float) -> float:
    """Where an arrow to subpage index of a folio box meets it: above its strip column
    (the box's centre when the folio shows runs)."""
    if nr > MAX_STRIP:
        return box_x + width / 2
    col = index % STRIP
    return box_x + pad + (4 + col + col // 4 + 0.5) * char


def slot_run_lines(slots: list) -> list[Line]:
    """A run of swap slots (a swapped-out large folio): numbers, counts, values."""
    counts = sorted({s.count for s in slots})
    values = list(dict.fromkeys(s.value for s in slots))
    return [
        Line(f"swap slots {slots[0].slot}-{slots[-1].slot}", "t"),
        Line("swap count " + "/".join(map(str, counts))),
        Line("data " + ", ".join(shown(v) for v in values[:3]) + (" \u2026" if values[3:] else "")),
    ]
