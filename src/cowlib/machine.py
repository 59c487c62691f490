"""The machine: the kernel's global state that every kernel path works on.

A Machine holds the policy (the kernel era), every physical page and the allocator, the
per-CPU LRU-add batch, the swap device, the live mm_structs, the references GUP users
hold, the statistics, and the explanation of the step being run. Kernel paths are
functions over (machine, mm) in modules named after the kernel files they model; they
explain each decision with note() and report each COW decision through decide(), the
hook through which the oracle (a layer above) classifies it.

Layers, bottom up (a module may import only from layers below it):
mm_types, errors, history -> policy -> trace -> machine -> kernel paths (swap, swapfile,
rmap, memory, gup, vmscan, madvise, mmap, mprotect, fork) -> oracle -> kernel (the facade)
-> grammar users above it (actions, scenarios, moves, explore, view, cli).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import BadArgument
from .kernel_names import era_name
from .mm_types import (
    HPAGE_PMD_ORDER,
    MAX_FOLIO_ORDER,
    ZERO_PFN,
    ZERO_TOKEN,
    Folio,
    Mm,
    Page,
    Subpage,
    Token,
)
from .policy import Policy
from .trace import CLASSES

STAT_KEYS = CLASSES + ("fork_copies", "unshares", "swapouts", "swapins")

Classifier = Callable[[Mm, int, "Page", bool, bool], tuple[str, list[str]]]
"""(mm, addr, page, reuse, whole) -> (class, the page's other users): the oracle's verdict
(whole: the decision is about the page's whole folio, a PMD-mapped THP or hugetlb)."""


@dataclass
class SwapSlot:
    """One swap slot: swap_map count (swap PTEs) plus the swap cache page, if any."""

    data: Token
    count: int = 0
    cache: int | None = None  # pfn of the swap cache page (SWAP_HAS_CACHE)


@dataclass
class SwapDevice:
    """The swap device: its slots (swap_info_struct's swap_map and the swap cache)."""

    slots: dict[int, SwapSlot] = field(default_factory=dict)
    next_slot: int = 0


@dataclass(eq=False)
class Holder:
    """A reference a GUP user keeps outside the page tables: a pipe buffer, a ref or a pin.

    Not a kernel structure: the kernel only sees the raised refcount; the model keeps
    who holds it so the oracle can check it. A holder outlives its mm; released when
    the user drops it.
    """

    kind: str  # "pipe" | "ref" | "pin"
    name: str
    mm: Mm  # the mm it was taken from
    addr: int
    writable: bool = False
    longterm: bool = False
    pfn: int | None = None  # None until GUP has handed out the page
    released: bool = False
    allowed: set[Token] = field(default_factory=set)  # values its taker may see through it
    in_flight: bool = False  # a GUP-fast that has not returned it yet

    @property
    def pin(self) -> bool:
        return self.kind == "pin"


class Machine:
    """Pages, allocator, LRU batch, swap, live mms, holders, stats and notes of one kernel."""

    def __init__(
        self, policy: Policy, explain: bool = True, pmd_order: int = HPAGE_PMD_ORDER
    ) -> None:
        self.policy = policy
        self.pmd_order = pmd_order  # HPAGE_PMD_ORDER (a smaller one only as a stand-in)
        self.huge_zero: Folio | None = None  # allocated on first use, never freed
        self.files: dict[str, list[int]] = {}  # page cache: file -> pfn of each page
        self.pages: dict[int, Page] = {ZERO_PFN: Page(ZERO_PFN, ZERO_TOKEN, lru=True)}
        self.next_pfn = 1
        self.lru_batch: list[int] = []
        self.swap = SwapDevice()
        self.mms: list[Mm] = []
        self.holders: list[Holder] = []
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)
        self.explain = explain
        self.notes: list[str] = []
        self.decisions: list[str] = []
        self.classify: Classifier | None = None
        self.seq = 0

    def note(self, line: str) -> None:
        """One line of the step's explanation, in kernel terms."""
        if self.explain:
            self.notes.append(line)

    def fn(self, key: str) -> str:
        """The kernel's name for key in this policy's release (cowlib.kernel_names)."""
        return era_name(key, self.policy.era)

    def call(self, key: str, args: str) -> str:
        """fn(key) written as a call: call("copy_present_pte", "P->C") -> copy_one_pte(P->C)."""
        name = self.fn(key)
        return f"{name.removesuffix('()')}({args})"

    def decide(
        self, mm: Mm, addr: int, page: Page, reuse: bool, unshare: bool, whole: bool = False
    ) -> str:
        """Record one COW decision; returns the oracle's verdict line to note after it."""
        cls, foreign = self.classify(mm, addr, page, reuse, whole)
        self.stats[cls] += 1
        self.decisions.append(cls)
        users = f" (other users: {', '.join(foreign)})" if foreign else ""
        return f"  oracle: {'unshare ' if unshare else ''}{cls}{users}"

    def alloc_page(self, data: Token) -> Page:
        """alloc_page(): a new page holding data, with no references yet."""
        page = Page(self.next_pfn, data)
        self.next_pfn += 1
        self.pages[page.pfn] = page
        return page

    def alloc_folio(self, order: int, kind: str = "anon", data: Token = ZERO_TOKEN) -> Folio:
        """folio_alloc() / alloc_hugetlb_folio(): 2**order contiguous pfns, no references."""
        check_order(order)
        folio = Folio(self.next_pfn, order, kind)
        folio.pages = [Subpage(folio.pfn + i, folio, i, data) for i in range(folio.nr)]
        self.next_pfn += folio.nr
        for sub in folio.pages:
            self.pages[sub.pfn] = sub
        return folio

    def put_page(self, page: Page | Subpage, nr: int = 1) -> None:
        """put_page() / folio_put_refs(): drop nr references; the last one frees the folio."""
        page.refcount -= nr
        if page.refcount == 0:
            if page.folio is None:
                del self.pages[page.pfn]
            else:
                for sub in page.folio.pages:
                    del self.pages[sub.pfn]

    def new_token(self, value: str, writer: str) -> Token:
        self.seq += 1
        return Token(value, writer, self.seq)

    def live_mms(self) -> list[Mm]:
        return [mm for mm in self.mms if mm.live]

    def live_holders(self) -> list[Holder]:
        return [h for h in self.holders if not h.released]


def check_order(order: object) -> int:
    """A folio order the model builds: 0, or 2 .. MAX_FOLIO_ORDER (anonymous THP has no
    order-1 folios, and a pin count needs a folio of order >= 2)."""
    if not isinstance(order, int) or isinstance(order, bool) or order == 1:
        raise BadArgument(f"unsupported folio order {order!r}: use 0 or 2..{MAX_FOLIO_ORDER}")
    if not 0 <= order <= MAX_FOLIO_ORDER:
        raise BadArgument(f"unsupported folio order {order!r}: use 0 or 2..{MAX_FOLIO_ORDER}")
    return order
