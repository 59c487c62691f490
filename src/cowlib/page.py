"""struct page for small anonymous pages (include/linux/mm_types.h, include/linux/mm.h).

Only order-0 pages are modelled: a pin adds GUP_PIN_COUNTING_BIAS to the refcount and
page_maybe_dma_pinned() is the refcount test of mm/gup.c ("mm/gup: track FOLL_PIN pages", 5.7).
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 4096
GUP_PIN_COUNTING_BIAS = 1024  # include/linux/mm.h
PAGEVEC_SIZE = 15  # per-CPU LRU-add batch capacity (include/linux/pagevec.h)
ZERO_PFN = 0  # the shared zero page: never refcounted, never freed


@dataclass(frozen=True)
class Token:
    """One written value, unique per write, so the oracle can tell who wrote what."""

    value: str
    writer: str
    seq: int


ZERO_TOKEN = Token("", "", 0)


@dataclass(eq=False)
class Page:
    """A physical page: data plus the counters and flags the COW decision reads."""

    pfn: int
    data: Token
    refcount: int = 0  # page_count(): mappings + GUP refs + pin bias + swap cache + LRU batch
    mapcount: int = 0  # page_mapcount(): number of PTEs that map it
    pincount: int = 0  # FOLL_PIN holders (the kernel only sees them through the bias)
    anon_exclusive: bool = False  # PG_anon_exclusive (5.19+)
    swapcache: int | None = None  # swap slot while PageSwapCache
    lru: bool = False  # PageLRU; a fresh page sits in the per-CPU LRU-add batch first

    @property
    def zero(self) -> bool:
        return self.pfn == ZERO_PFN

    @property
    def value(self) -> str:
        return self.data.value


def page_maybe_dma_pinned(page: Page) -> bool:
    """page_maybe_dma_pinned(): refcount >= GUP_PIN_COUNTING_BIAS.

    "Maybe": 1024 ordinary references look like a pin (false positive, S15); a
    real pin is never missed.
    """
    return page.refcount >= GUP_PIN_COUNTING_BIAS
