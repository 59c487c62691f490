"""The types of include/linux/mm_types.h the COW story needs: struct page, mm_struct, VMAs, PTEs.

A Page is an order-0 page. A large folio (a THP or mTHP of order >= 2, or a hugetlb
folio) is a Folio holding one Subpage per struct page: the refcount, the pin count and
the entire (PMD) mapcount are the folio's, shared by its subpages; the PTE mapcount, the
data and PageAnonExclusive are per subpage. page_count() of a subpage is the folio's
refcount, as in the kernel, so every PTE mapping of any subpage raises it.

Most mappings are private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS); a Vma may
instead map a file (memfd, tmpfile: page cache pages) privately or shared, or be a
hugetlb mapping. A private mapping is a COW mapping (is_cow_mapping(): VM_MAYWRITE and
not VM_SHARED). On an order-0 page a pin adds GUP_PIN_COUNTING_BIAS to the refcount, and
page_maybe_dma_pinned() (include/linux/mm.h) is the refcount test of "mm/gup: track
FOLL_PIN pages" (5.7); a large folio counts pins exactly in its own pincount (47e29d32afba)
and a pin adds 1 to its refcount.

This is the bottom layer: it imports nothing of cowlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

PAGE_SIZE = 4096
GUP_PIN_COUNTING_BIAS = 1024  # include/linux/mm.h
PAGEVEC_SIZE = 15  # per-CPU LRU-add batch capacity (include/linux/pagevec.h)
ZERO_PFN = 0  # the shared zero page: never refcounted, never freed
MMAP_BASE = 0x10000  # where the first mmap() of a process lands
HPAGE_PMD_ORDER = 9  # x86-64: a PMD maps 512 pages (2048 kB)
MAX_FOLIO_ORDER = 18  # the largest folio the model builds (a 1 GiB hugetlb folio)


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
    mapping: str | None = None  # page->mapping of a page cache page: the file's name

    folio = None  # an order-0 page is its own folio
    index = 0

    @property
    def zero(self) -> bool:
        return self.pfn == ZERO_PFN

    @property
    def anon(self) -> bool:
        """Whether the page is anonymous, as PageAnon() tests (neither page cache nor zero page)."""
        return self.mapping is None and not self.zero

    @property
    def value(self) -> str:
        return self.data.value


class Subpage:
    """One struct page of a large Folio: its own data, PTE mapcount and PageAnonExclusive;
    refcount, pincount, LRU and swap cache state are the folio's (page_count(page) is
    folio_ref_count(page_folio(page)))."""

    __slots__ = ("pfn", "folio", "index", "data", "mapcount", "anon_exclusive")

    def __init__(self, pfn: int, folio: Folio, index: int, data: Token) -> None:
        self.pfn, self.folio, self.index, self.data = pfn, folio, index, data
        self.mapcount = 0  # PTEs that map this subpage (a PMD mapping counts in the folio)
        self.anon_exclusive = False

    refcount = property(
        lambda self: self.folio.refcount,
        lambda self, n: setattr(self.folio, "refcount", n),
        doc="folio_ref_count() of the folio",
    )
    pincount = property(
        lambda self: self.folio.pincount,
        lambda self, n: setattr(self.folio, "pincount", n),
        doc="the folio's _pincount",
    )
    lru = property(lambda self: True, lambda self, v: None, doc="large folios skip the batch")
    swapcache = property(lambda self: None, lambda self, v: None, doc="see vmscan.pageout_folio")
    mapping = property(lambda self: self.folio.mapping)
    zero = property(lambda self: self.folio.kind == "huge-zero")
    anon = property(lambda self: self.folio.anon)
    value = property(lambda self: self.data.value)

    def __repr__(self) -> str:
        return f"<Subpage {self.index} of folio {self.folio.pfn} (pfn {self.pfn})>"


@dataclass(eq=False)
class Folio:
    """A large folio of 2**order pages: THP/mTHP ("anon"), hugetlb ("hugetlb"), a hugetlb
    page cache folio ("hugetlb-file", mapping names the file) or the huge zero page.

    refcount: every PTE mapping of a subpage, every PMD (entire) mapping, every GUP
    reference and every pin take one reference each (a pin also counts in pincount, so
    folio_maybe_dma_pinned() is exact: 47e29d32afba). entire_mapcount counts PMD (or
    hugetlb) mappings of the whole folio. Large folios never sit in the LRU-add batch
    (folio_add_lru() moves them at once).
    """

    pfn: int  # the head page
    order: int
    kind: str = "anon"
    refcount: int = 0
    pincount: int = 0
    entire_mapcount: int = 0
    mapping: str | None = None
    pages: list[Subpage] = field(default_factory=list)

    @property
    def nr(self) -> int:
        return 1 << self.order

    @property
    def anon(self) -> bool:
        return self.kind in ("anon", "hugetlb")

    @property
    def hugetlb(self) -> bool:
        return self.kind.startswith("hugetlb")

    @property
    def large_mapcount(self) -> int:
        """The whole folio's mapcount as folio_large_mapcount() counts it (PMDs plus PTEs)."""
        return self.entire_mapcount + sum(p.mapcount for p in self.pages)


def page_mapcount(page: Page | Subpage) -> int:
    """page_mapcount(): the PTEs that map this page plus the PMDs that map its folio."""
    folio = page.folio
    return page.mapcount + (folio.entire_mapcount if folio is not None else 0)


def page_maybe_dma_pinned(page: Page | Subpage) -> bool:
    """page_maybe_dma_pinned(): refcount >= GUP_PIN_COUNTING_BIAS for an order-0 page.

    "Maybe": 1024 ordinary references look like a pin (false positive, S15); a
    real pin is never missed. A large folio keeps an exact pin count
    (folio_maybe_dma_pinned(): _pincount > 0, 47e29d32afba): no false positive.
    """
    if page.folio is not None:
        return page.folio.pincount > 0
    return page.refcount >= GUP_PIN_COUNTING_BIAS


@dataclass
class Pte:
    """A page table entry: present (pfn) or a swap entry (slot), never both."""

    pfn: int | None = None
    swap: int | None = None
    write: bool = False
    swp_exclusive: bool = False  # pte_swp_exclusive(): PG_anon_exclusive kept in a swap PTE

    @property
    def present(self) -> bool:
        return self.pfn is not None


@dataclass
class Pmd:
    """A PMD mapping a whole THP, or the huge PTE of a hugetlb mapping (one entry maps
    the whole folio, whatever its size)."""

    pfn: int  # head pfn of the folio
    nr: int  # pages it maps
    write: bool = False


@dataclass(eq=False)
class Vma:
    """A VMA [start, end) with VM_WRITE as its only variable protection bit.

    thp: the folio order a fault may allocate here (MADV_HUGEPAGE with that THP size
    enabled), 0 for none; hugetlb: the order of a hugetlb mapping, 0 for none; file:
    the file a file mapping maps (pgoff: the file page at start), shared: MAP_SHARED;
    dontfork: VM_DONTCOPY (MADV_DONTFORK).
    """

    start: int
    end: int
    write: bool = True
    thp: int = 0
    hugetlb: int = 0
    file: str | None = None
    pgoff: int = 0
    shared: bool = False
    dontfork: bool = False

    @property
    def plain(self) -> bool:
        """Private anonymous memory with nothing special about it."""
        return not (self.thp or self.hugetlb or self.file or self.shared or self.dontfork)


@dataclass(eq=False)
class Mm:
    """The parts of mm_struct the COW story needs, plus a fork that is under way.

    owner names the process (for explanations). While dup_mmap() runs, the parent's mm
    has fork_child set (its mmap_lock is held for writing) and fork_pending lists the
    PTEs copy_pte_range() has still to copy ("check": not looked at yet, "share": decided
    to share, not yet write-protected); the child's mm has forked_by set.
    """

    owner: str
    vmas: list[Vma] = field(default_factory=list)
    ptes: dict[int, Pte] = field(default_factory=dict)
    pmds: dict[int, Pmd] = field(default_factory=dict)  # by the address they start at
    write_protect_seq: int = 0  # seqcount written by fork (57efa1fe5957)
    has_pinned: bool = False  # MMF_HAS_PINNED (008cfe4418b3, a458b76a4171)
    next_addr: int = MMAP_BASE
    live: bool = True  # False once exit_mmap() has torn it down
    fork_child: Mm | None = None
    fork_pending: dict[int, str] = field(default_factory=dict)
    forked_by: Mm | None = None

    def find_vma(self, addr: int) -> Vma | None:
        for vma in self.vmas:
            if vma.start <= addr < vma.end:
                return vma
        return None

    def split_vmas(self, start: int, end: int) -> list[Vma]:
        """Split VMAs at start and end (__split_vma) and return those inside [start, end)."""
        result = []
        for vma in list(self.vmas):
            if vma.end <= start or vma.start >= end:
                continue
            i = next(n for n, v in enumerate(self.vmas) if v is vma)
            pieces = [
                replace(
                    vma,
                    start=max(vma.start, s),
                    end=min(vma.end, e),
                    pgoff=vma.pgoff + (max(vma.start, s) - vma.start) // PAGE_SIZE,
                )
                for s, e in ((vma.start, start), (start, end), (end, vma.end))
                if max(vma.start, s) < min(vma.end, e)
            ]
            self.vmas[i : i + 1] = pieces
            result += [p for p in pieces if start <= p.start and p.end <= end]
        return result

    def pmd_at(self, addr: int) -> tuple[int, Pmd] | None:
        """The PMD (or hugetlb entry) that maps addr, with the address it starts at."""
        for start, pmd in self.pmds.items():
            if start <= addr < start + pmd.nr * PAGE_SIZE:
                return start, pmd
        return None

    def entry(self, addr: int) -> Pte | None:
        """What the page table holds for addr: its PTE, or a PTE-like view of the PMD (or
        hugetlb entry) that maps it (for readers: GUP, the oracle, the views)."""
        pte = self.ptes.get(addr)
        if pte is not None or not self.pmds:
            return pte
        hit = self.pmd_at(addr)
        if hit is None:
            return None
        start, pmd = hit
        return Pte(pfn=pmd.pfn + (addr - start) // PAGE_SIZE, write=pmd.write)
