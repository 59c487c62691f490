"""Fixed-width text view: one table per step, deterministic (the CLI and nbval use it)."""

from __future__ import annotations

from ..trace import PageView, ProcView, Snapshot, Step
from .folios import KINDS, Where, cells


def flags(page: PageView) -> str:
    """Short page flags: AE = PageAnonExclusive, SC = swap cache, LRU / batch, pinned?"""
    out = []
    if page.zero:
        return "zero-page"
    if page.anon_exclusive:
        out.append("AE")
    if page.swapcache is not None:
        out.append(f"SC:{page.swapcache}")
    out.append("batch" if page.lru_batch else "LRU" if page.lru else "")
    if page.maybe_pinned:
        out.append("maybe-pinned")
    return " ".join(f for f in out if f)


def _proc_line(p: ProcView) -> str:
    state = [
        "exited" if not p.alive else "",
        "in fork()" if p.forking else "",
        "MMF_HAS_PINNED" if p.has_pinned else "",
        f"write_protect_seq={p.write_protect_seq}" if p.write_protect_seq else "",
    ]
    return f"  {p.name} (pid {p.pid})" + "".join(f"  [{s}]" for s in state if s)


def _pte(kind: str, target: int, write: bool, swp_exclusive: bool) -> str:
    if kind == "swap":
        return f"swap slot {target}" + (" (exclusive)" if swp_exclusive else "")
    page = "zero page" if kind == "zero" else f"pfn {target}"
    return f"{page:<10} {'rw' if write else 'r-'}"


def render_snapshot(snap: Snapshot) -> str:
    where = Where(snap)
    lines = ["processes and PTEs"]
    for p in snap.procs:
        lines.append(_proc_line(p))
        for start, end, write in p.vmas:
            lines.append(f"    vma {start:#x}-{end:#x} {'rw-p' if write else 'r--p'}")
        for cell in cells(p, where) if where.folios else []:
            if cell.pmd is not None:
                mode = "rw" if cell.write else "r-"
                entry = (
                    "huge PTE" if where.folios[cell.pmd[1]][0].kind.startswith("hugetlb") else "PMD"
                )
                lines.append(
                    f"    {cell.addr:#x} +{cell.n - 1} -> {entry}: folio {cell.pmd[1]} {mode}"
                )
            elif cell.first is not None:
                last, mode = cell.first + cell.n - 1, "rw" if cell.write else "r-"
                lines.append(f"    {cell.addr:#x} +{cell.n - 1} -> pfn {cell.first}-{last} {mode}")
            elif cell.pte is not None:
                pte = cell.pte
                lines.append(
                    f"    {pte.addr:#x} -> "
                    + _pte(pte.kind, pte.target, pte.write, pte.swp_exclusive)
                )
        for pte in [] if where.folios else p.ptes:
            lines.append(
                f"    {pte.addr:#x} -> " + _pte(pte.kind, pte.target, pte.write, pte.swp_exclusive)
            )
    lines.append("pages")
    lines.append(f"  {'pfn':>4}  {'value':<10} {'ref':>5} {'map':>4} {'pin':>4}  flags")
    for pg in snap.pages:
        if pg.folio is not None:
            if pg.index == 0:
                lines += _folio(where.folios[pg.folio])
            continue
        ref = "-" if pg.zero else str(pg.refcount)
        lines.append(
            f"  {pg.pfn:>4}  {pg.value!r:<10} {ref:>5} {pg.mapcount:>4} "
            f"{pg.pincount:>4}  {flags(pg)}".rstrip()
        )
    if snap.holders:
        lines.append("holders")
        for h in snap.holders:
            target = f"pfn {h.pfn}" if h.pfn is not None else "(GUP-fast in flight)"
            mode = " rw" if h.kind == "pin" and h.write else " ro" if h.kind == "pin" else ""
            lines.append(f"  {h.name:<6} {h.kind}{mode} of {h.owner} @ {h.addr:#x} -> {target}")
    if snap.swap:
        lines.append("swap")
        for s in snap.swap:
            cache = f", swap cache pfn {s.cache}" if s.cache is not None else ""
            lines.append(f"  slot {s.slot}: {s.count} swap PTE(s), holds {s.value!r}{cache}")
    return "\n".join(lines)


def _folio(pages: list[PageView]) -> list[str]:
    """A large folio: one line for the folio, one per run of alike subpages."""
    head = pages[0]
    kind = KINDS.get(head.kind, head.kind)
    if head.kind == "huge-zero":
        return [f"  {head.pfn:>4}  folio: {kind}, order {head.order}, shared read-only"]
    out = [
        f"  {head.pfn:>4}  folio: {kind}, order {head.order}, refcount {head.refcount}, "
        f"entire mapcount {head.entire_mapcount}, pincount {head.pincount}"
        + (" maybe-pinned" if head.pincount else "")
    ]
    start = 0
    for i in range(1, len(pages) + 1):
        a = pages[start]
        if i < len(pages) and (pages[i].value, pages[i].mapcount, pages[i].anon_exclusive) == (
            a.value,
            a.mapcount,
            a.anon_exclusive,
        ):
            continue
        span = f"{a.pfn}" if i - 1 == start else f"{a.pfn}-{pages[i - 1].pfn}"
        out.append(
            f"    {span:>9} {a.value!r:<10} {'':>5} {a.mapcount:>4}       "
            f"{'AE' if a.anon_exclusive else ''}".rstrip()
        )
        start = i
    return out


def render_head(step: Step) -> str:
    """The operation, then "  | " explanation lines and "  !! " violations."""
    head = f"[{step.index}] {step.op}"
    body = [f"  | {line}" for line in step.explain.splitlines()]
    bad = [f"  !! {v.kind.upper()}: {v.message}" for v in step.violations]
    return "\n".join([head, *body, *bad])


def render_step(step: Step) -> str:
    """render_head, then the tables of the snapshot."""
    return render_head(step) + "\n" + render_snapshot(step.snapshot)


def render_trace(trace: list[Step], full: bool = True) -> str:
    """Every step: with full=False only the operations, explanations and violations."""
    if full:
        return "\n\n".join(render_step(s) for s in trace)
    return "\n".join(render_head(s) for s in trace)


def wrap(text: str, width: int = 72) -> str:
    """Fold long trace lines to width, keeping each line's indentation (and its | or !!)."""
    import textwrap

    lines = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip(" |!"))) + "    "
        lines += textwrap.wrap(line, width, subsequent_indent=indent) or [""]
    return "\n".join(lines)


def explain(step: Step, width: int = 72) -> str:
    """A step's operation and its explanation, folded to width."""
    return wrap("\n".join([f"[{step.index}] {step.op}", *step.explain.splitlines()]), width)
