"""The specification: what a private mapping must contain, whatever the kernel does.

The oracle keeps each process's logical memory under POSIX fork semantics (one unique
Token per write) and checks every observation against it:

* leak: a process, or a pipe/ref it created, sees a value it never had (someone else
  wrote it after they diverged): a missed COW.
* lost-write: a process sees an older value of its own instead of the current one.
* stale-pin: a live pin and its process's page table reach different pages: a wrong COW.
  (A short-term R/O pin of the shared zero page is exempt: the kernel makes only long-term
  R/O pins of it reliable, since 6.2.)
* accounting: refcount, mapcount, pincount, swap counts and the LRU batch disagree
  with who actually holds the page (a model bug, never expected).

It also classifies every COW decision in David Hildenbrand's terms (LKML, 18 Dec 2021).
The oracle reads the machine (pages, mms, holders); it never changes the kernel's state.
"""

from __future__ import annotations

from collections import defaultdict

from .machine import Holder, Machine
from .mm_types import GUP_PIN_COUNTING_BIAS, ZERO_PFN, ZERO_TOKEN, Mm, Page, Token
from .trace import MISSED, NEEDED, REUSE, UNNEEDED, WRONG, Violation


class Oracle:
    """Logical memory per process, the checks, and the COW classifier (machine.classify)."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.logical: dict[str, dict[int, Token]] = {}
        self.history: dict[str, dict[int, set[Token]]] = {}
        self.stale: set[str] = set()  # pins already reported stale
        self.detached: set[str] = set()  # holders whose page MADV_DONTNEED took away
        self.found: list[Violation] = []  # violations of the step being run
        self.step = 0  # index of the step being run
        m.classify = self.classify

    # -- logical memory -------------------------------------------------------------
    def spawn(self, mm: Mm) -> None:
        self.logical[mm.owner] = {}
        self.history[mm.owner] = {}

    def mmap(self, mm: Mm, addrs: list[int]) -> None:
        for addr in addrs:
            self.logical[mm.owner][addr] = ZERO_TOKEN
            self.history[mm.owner][addr] = {ZERO_TOKEN}

    def munmap(self, mm: Mm, addrs: list[int]) -> None:
        for addr in addrs:
            self.logical[mm.owner].pop(addr, None)
            self.history[mm.owner].pop(addr, None)

    def exit(self, mm: Mm) -> None:
        self.munmap(mm, list(self.logical[mm.owner]))

    def fork(self, parent: Mm, child: Mm) -> None:
        self.logical[child.owner] = dict(self.logical[parent.owner])
        self.history[child.owner] = {a: set(h) for a, h in self.history[parent.owner].items()}
        if any(v.dontfork for v in parent.vmas):  # MADV_DONTFORK ranges are not inherited
            self.munmap(child, [a for a in self.logical[child.owner] if not child.find_vma(a)])

    def dontneed(self, mm: Mm, addrs: list[int]) -> None:
        """MADV_DONTNEED: private memory reads zeroes (the file's data, for a file) again.
        A pin or reference taken there no longer aliases the process's memory (as after
        munmap): the program threw the page away, not the kernel."""
        for addr in addrs:
            self.write(mm, addr, ZERO_TOKEN)
        gone = set(addrs)
        self.detached |= {h.name for h in self.m.live_holders() if h.mm is mm and h.addr in gone}

    def mremap(self, mm: Mm, addrs: list[int], new: int) -> None:
        """The memory moves with its mapping."""
        logical, history = self.logical[mm.owner], self.history[mm.owner]
        for addr in addrs:
            logical[addr - addrs[0] + new] = logical.pop(addr)
            history[addr - addrs[0] + new] = history.pop(addr)
        moved = set(addrs)
        for h in self.m.live_holders():  # a pin keeps aliasing the memory where it went
            if h.mm is mm and h.addr in moved:
                h.addr = h.addr - addrs[0] + new

    def write(self, mm: Mm, addr: int, token: Token) -> None:
        self.logical[mm.owner][addr] = token
        self.history[mm.owner][addr].add(token)

    def allowed(self, mm: Mm, addr: int) -> set[Token]:
        """The creator's history at addr: a pipe or ref may show any of these values."""
        return self.history[mm.owner][addr]

    def device_write(self, pin: Holder, token: Token) -> None:
        """A device write through a pin is a write to the owner's memory."""
        pin.allowed.add(token)
        if pin.name not in self.detached and pin.addr in self.logical.get(pin.mm.owner, {}):
            self.write(pin.mm, pin.addr, token)

    # -- observations ---------------------------------------------------------------
    def flag(self, kind: str, message: str) -> None:
        self.found.append(Violation(kind, self.step, message))

    def observe(self, mm: Mm, addr: int, token: Token) -> None:
        expected = self.logical[mm.owner][addr]
        if token == expected:
            return
        if token in self.history[mm.owner][addr]:
            self.flag(
                "lost-write",
                f"{mm.owner} reads {token.value!r} at {addr:#x} but last "
                f"wrote {expected.value!r}: the write was lost",
            )
        else:
            self.flag(
                "leak",
                f"{mm.owner} reads {token.value!r} at {addr:#x}, written by "
                f"{token.writer} after they diverged; it should read {expected.value!r}",
            )

    def observe_handle(self, h: Holder, token: Token) -> None:
        if token not in h.allowed:
            self.flag(
                "leak",
                f"{h.name} (taken by {h.mm.owner}) shows "
                f"{token.value!r}, written by {token.writer}, which "
                f"{h.mm.owner} never had at {h.addr:#x}",
            )

    # -- COW classification -----------------------------------------------------------
    def classify(
        self, mm: Mm, addr: int, page: Page, reuse: bool, whole: bool = False
    ) -> tuple[str, list[str]]:
        """Reuse, or needed / unneeded / wrong copy, or a missed copy (a leaking reuse).

        Foreign users of the page are other processes' PTEs, PMDs and swap PTEs, and
        pipes, refs and pins taken by another process. Our own pin makes a copy wrong.
        With whole, the decision is about every subpage of the page's folio (a PMD-mapped
        THP or a hugetlb folio), and addr is where mm's entry for it starts.
        """
        pfn, swapcache = page.pfn, page.swapcache
        pfns = {s.pfn for s in page.folio.pages} if whole else {pfn}
        foreign, own_pin = [], False
        for q in self.m.live_mms():
            for a, pte in q.ptes.items():
                if q is mm and a == addr:
                    continue
                if pte.pfn in pfns or (pte.swap is not None and pte.swap == swapcache):
                    foreign.append(f"{q.owner}'s PTE")
            for a, pmd in q.pmds.items():
                if (q is not mm or a != addr) and pmd.pfn <= pfn < pmd.pfn + pmd.nr:
                    foreign.append(f"{q.owner}'s PMD")
        for h in self.m.live_holders():
            if h.pfn not in pfns:
                continue
            if h.mm is mm and h.pin:
                own_pin = True
            elif h.mm is not mm:
                foreign.append(f"{h.name} of {h.mm.owner}")
        if reuse:
            return (MISSED if foreign else REUSE), foreign
        if own_pin:
            return WRONG, foreign
        return (NEEDED if foreign else UNNEEDED), foreign

    # -- state checks -----------------------------------------------------------------
    def check_pins(self) -> None:
        for h in self.m.live_holders():
            if not h.pin or h.pfn is None or not h.mm.live:
                continue
            if h.pfn == ZERO_PFN and not h.longterm:
                continue  # only long-term R/O pins of the zero page are reliable (6.2)
            if h.in_flight or h.name in self.detached:
                continue  # GUP-fast has not returned it yet (its re-check may still back
                # off), or MADV_DONTNEED took the page away from under it
            pte = h.mm.entry(h.addr)
            if pte is None:
                continue  # unmapped: the pin no longer aliases process memory
            cached = pte.swap is not None and self.m.swap.slots[pte.swap].cache == h.pfn
            if pte.pfn == h.pfn or cached:
                self.stale.discard(h.name)
                continue
            if h.name not in self.stale:
                self.stale.add(h.name)
                now = f"pfn {pte.pfn}" if pte.present else f"swap slot {pte.swap}"
                self.flag(
                    "stale-pin",
                    f"{h.name} holds pfn {h.pfn} but {h.mm.owner} maps "
                    f"{now} at {h.addr:#x}: device and CPU no longer share memory",
                )

    def check_accounting(self) -> None:
        for problem in accounting_problems(self.m):
            self.flag("accounting", problem)


def accounting_problems(m: Machine) -> list[str]:
    """Every way the counters disagree with the holders (empty when consistent)."""
    problems = []
    maps, swaprefs, gets = defaultdict(int), defaultdict(int), defaultdict(int)
    pins, pmds = defaultdict(int), defaultdict(int)  # each 0 where absent
    for q in m.live_mms():
        for addr, pte in q.ptes.items():
            if not pte.present:
                swaprefs[pte.swap] += 1
                continue
            page = m.pages.get(pte.pfn)
            if page is None:
                problems.append(f"{q.owner} {addr:#x} maps freed pfn {pte.pfn}")
                continue
            maps[pte.pfn] += 1
            if q.fork_pending.get(addr) == "share":
                continue  # inside copy_present_pte(): dup'ed, not yet write-protected
            if pte.write and (page.zero or (m.policy.anon_exclusive and not page.anon_exclusive)):
                problems.append(
                    f"{q.owner} {addr:#x}: writable PTE to non-exclusive pfn {page.pfn}"
                )
        for addr, pmd in q.pmds.items():
            page = m.pages.get(pmd.pfn)
            if page is None or page.folio is None or page.folio.nr != pmd.nr:
                problems.append(f"{q.owner} {addr:#x}: PMD to pfn {pmd.pfn}, not a folio")
                continue
            pmds[pmd.pfn] += 1
            if pmd.write and (
                page.zero or (m.policy.anon_exclusive and page.anon and not page.anon_exclusive)
            ):
                problems.append(f"{q.owner} {addr:#x}: writable PMD to non-exclusive folio")
    for h in m.live_holders():
        if h.pfn is None:
            continue
        if h.pfn not in m.pages:
            problems.append(f"{h.name} holds freed pfn {h.pfn}")
        (pins if h.pin else gets)[h.pfn] += 1
    batch = set(m.lru_batch)
    folios = {}
    for pfn, page in m.pages.items():
        if page.zero:
            continue
        if page.folio is not None:
            folios[page.folio.pfn] = page.folio
            if page.mapcount != maps[pfn]:
                problems.append(f"pfn {pfn}: mapcount {page.mapcount}, PTEs {maps[pfn]}")
            continue
        expected = (
            maps[pfn]
            + gets[pfn]
            + GUP_PIN_COUNTING_BIAS * pins[pfn]
            + (page.swapcache is not None)
            + (pfn in batch)
            + (page.mapping is not None)
        )
        if page.refcount != expected or expected == 0:
            problems.append(
                f"pfn {pfn}: refcount {page.refcount}, holders add up to {expected} "
                f"(maps {maps[pfn]}, gets {gets[pfn]}, pins {pins[pfn]}, swapcache "
                f"{int(page.swapcache is not None)}, lru batch {int(pfn in batch)})"
            )
        if page.mapcount != maps[pfn]:
            problems.append(f"pfn {pfn}: mapcount {page.mapcount}, PTEs {maps[pfn]}")
        if page.pincount != pins[pfn]:
            problems.append(f"pfn {pfn}: pincount {page.pincount}, pins {pins[pfn]}")
        if (pfn in batch) == page.lru:
            problems.append(f"pfn {pfn}: PageLRU {page.lru} but in LRU batch {pfn in batch}")
        if page.swapcache is not None and m.swap.slots.get(page.swapcache, None) is None:
            problems.append(f"pfn {pfn}: swap cache slot {page.swapcache} does not exist")
    for head, folio in folios.items():
        subs = [s.pfn for s in folio.pages]
        npins = sum(pins[p] for p in subs)
        expected = (
            sum(maps[p] + gets[p] for p in subs) + npins + pmds[head] + (folio.mapping is not None)
        )
        if folio.refcount != expected or expected == 0:
            problems.append(
                f"folio {head}: refcount {folio.refcount}, holders add up to {expected} "
                f"(PTE maps {sum(maps[p] for p in subs)}, PMD maps {pmds[head]}, gets "
                f"{sum(gets[p] for p in subs)}, pins {npins})"
            )
        if folio.entire_mapcount != pmds[head]:
            problems.append(
                f"folio {head}: entire mapcount {folio.entire_mapcount}, PMDs {pmds[head]}"
            )
        if folio.pincount != npins:
            problems.append(f"folio {head}: pincount {folio.pincount}, pins {npins}")
    for slot, s in m.swap.slots.items():
        if s.count != swaprefs[slot]:
            problems.append(f"slot {slot}: swap count {s.count}, swap PTEs {swaprefs[slot]}")
        if s.count == 0 and s.cache is None:
            problems.append(f"slot {slot}: allocated but unused")
        if s.cache is not None and m.pages.get(s.cache) is None:
            problems.append(f"slot {slot}: cache pfn {s.cache} was freed")
    for slot in set(swaprefs) - set(m.swap.slots):
        problems.append(f"swap PTE to freed slot {slot}")
    return problems
