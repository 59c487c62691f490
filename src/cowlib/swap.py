"""mm/swap.c: the per-CPU LRU-add batch (pagevec, later folio_batch).

A freshly faulted page is not on the LRU yet: the batch holds a reference to it until
lru_add_drain() moves it there. While it does, page_count() is one higher than the
mappings explain, which made 5.9 - 5.17 copy pages nobody shared (S13, rule 2).
"""

from __future__ import annotations

from .machine import Machine
from .mm_types import PAGEVEC_SIZE, Page


def lru_cache_add(m: Machine, page: Page) -> None:
    """lru_cache_add() / folio_add_lru(): the per-CPU batch holds a reference until drained."""
    page.refcount += 1
    m.lru_batch.append(page.pfn)
    if len(m.lru_batch) >= PAGEVEC_SIZE:
        lru_add_drain(m, quiet=True)


def lru_add_drain(m: Machine, quiet: bool = False) -> None:
    """lru_add_drain(): move this CPU's batch to the LRU, dropping the batch's references."""
    drained = list(m.lru_batch)
    m.lru_batch.clear()
    for pfn in drained:
        page = m.pages[pfn]
        page.lru = True
        m.put_page(page)
    if not quiet:
        m.note(
            "lru_add_drain(): "
            + (
                f"pfns {drained} now on the LRU, batch references dropped"
                if drained
                else "batch empty"
            )
        )
