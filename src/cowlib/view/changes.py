"""What changed between two snapshots: the parts a diagram highlights for one step.

Parts are named by stable keys, so the layout and the change set agree on identity:
a process by name, a PTE by (process, address), a page by pfn, a holder by name,
a swap slot by number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..trace import PageView, Snapshot

PAGE_COUNTERS = ("refcount", "mapcount", "pincount")


@dataclass(frozen=True)
class Changes:
    """The keys of every part that is new or different, and what disappeared."""

    procs: frozenset[str] = frozenset()
    ptes: frozenset[tuple[str, int]] = frozenset()
    pages: frozenset[int] = frozenset()
    holders: frozenset[str] = frozenset()
    slots: frozenset[int] = frozenset()
    # counter -> (pfn -> change), e.g. {"refcount": {1: +1}}; only pages that existed before
    deltas: dict[str, dict[int, int]] = field(default_factory=dict)
    # page fields other than counters that changed, per pfn ("value", "anon_exclusive", ...)
    fields: dict[int, frozenset[str]] = field(default_factory=dict)
    gone: tuple[str, ...] = ()  # "pfn 1 freed", "C 0x10000 unmapped", ...


def _page_fields(old: PageView, new: PageView) -> frozenset[str]:
    names = ("value", "anon_exclusive", "swapcache", "lru", "lru_batch")
    return frozenset(n for n in names if getattr(old, n) != getattr(new, n))


def diff(old: Snapshot | None, new: Snapshot) -> Changes:
    """Changes from old to new; with no old snapshot nothing counts as changed."""
    if old is None:
        return Changes()
    old_procs = {p.name: p for p in old.procs}
    procs, ptes, gone = set(), set(), []
    for p in new.procs:
        before = old_procs.get(p.name)
        if before is None or (
            before.alive,
            before.forking,
            before.has_pinned,
            before.write_protect_seq,
            before.vmas,
        ) != (p.alive, p.forking, p.has_pinned, p.write_protect_seq, p.vmas):
            procs.add(p.name)
        old_ptes = {pte.addr: pte for pte in before.ptes} if before else {}
        ptes |= {(p.name, pte.addr) for pte in p.ptes if old_ptes.get(pte.addr) != pte}
        now = {pte.addr for pte in p.ptes}
        unmapped = [a for a in sorted(old_ptes) if a not in now]
        if len(unmapped) > 4:  # a large folio's PTEs, said once
            gone.append(
                f"{p.name} {len(unmapped)} PTEs {unmapped[0]:#x}..{unmapped[-1]:#x} unmapped"
            )
        else:
            gone += [f"{p.name} {a:#x} unmapped" for a in unmapped]
        old_pmds = set(before.pmds) if before else set()
        ptes |= {(p.name, pmd[0]) for pmd in p.pmds if pmd not in old_pmds}
        now_pmds = {pmd[0] for pmd in p.pmds}
        gone += [f"{p.name} PMD {pmd[0]:#x} unmapped" for pmd in old_pmds if pmd[0] not in now_pmds]
    old_pages = {pg.pfn: pg for pg in old.pages}
    new_pfns = {pg.pfn for pg in new.pages}
    pages, fields = set(), {}
    deltas: dict[str, dict[int, int]] = {name: {} for name in PAGE_COUNTERS}
    for pg in new.pages:
        before = old_pages.get(pg.pfn)
        if before is None:
            pages.add(pg.pfn)
            continue
        for name in PAGE_COUNTERS:
            if getattr(pg, name) != getattr(before, name):
                deltas[name][pg.pfn] = getattr(pg, name) - getattr(before, name)
        changed = _page_fields(before, pg)
        if changed:
            fields[pg.pfn] = changed
        if changed or any(pg.pfn in d for d in deltas.values()):
            pages.add(pg.pfn)
    pages |= {pg.folio for pg in new.pages if pg.folio is not None and pg.pfn in pages}
    freed_folios = sorted(
        {pg.folio for pfn, pg in old_pages.items() if pg.folio is not None and pfn not in new_pfns}
    )
    gone += [
        f"pfn {pfn} freed"
        for pfn in sorted(old_pages)
        if pfn not in new_pfns and old_pages[pfn].folio is None
    ]
    gone += [f"folio pfn {head} freed" for head in freed_folios]
    old_holders = {h.name: h for h in old.holders}
    holders = {h.name for h in new.holders if old_holders.get(h.name) != h}
    now_holders = {h.name for h in new.holders}
    gone += [f"{name} released" for name in old_holders if name not in now_holders]
    old_slots = {s.slot: s for s in old.swap}
    slots = {s.slot for s in new.swap if old_slots.get(s.slot) != s}
    now_slots = {s.slot for s in new.swap}
    gone += [f"swap slot {n} freed" for n in sorted(old_slots) if n not in now_slots]
    return Changes(
        frozenset(procs),
        frozenset(ptes),
        frozenset(pages),
        frozenset(holders),
        frozenset(slots),
        {k: v for k, v in deltas.items() if v},
        fields,
        tuple(gone),
    )
