"""The experiment language: one script, run by the real kernel and by the model.

A script is a list of steps; each step performs one operation by one actor
("P", "C", ...) on a page of the shared mapping and then looks at some pages.
Both interpreters (``real.py`` on real processes, ``twin.py`` on cowlib)
turn a script into the same sequence of :class:`Observation`, so a comparison
is a zip. Page identities are raw PFNs here, or ``[head PFN, index]`` for a
subpage of a large folio (a THP or hugetlb page); ``verdicts.py`` relabels
them ``#1``, ``#1+5``, ...
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# Page identity values besides a PFN.
SWAPPED = "swapped"
ABSENT = "absent"
HIDDEN = "hidden"  # present, but the PFN or flags need root
NOT_PRESENT = (ABSENT, SWAPPED)

# The memory an experiment maps: 4 KiB folios only, one PMD-sized THP, one hugetlb page.
SMALL = "small"
THP = "THP"
HUGETLB = "hugetlb"


@dataclass(frozen=True)
class Write:
    """Store ``value`` in ``page``; observed as the write fault's outcome."""

    who: str
    page: int
    value: str


@dataclass(frozen=True)
class WriteAll:
    """Store ``value`` in every page; observed as a count of fault outcomes."""

    who: str
    value: str


@dataclass(frozen=True)
class Read:
    who: str
    page: int


@dataclass(frozen=True)
class Fork:
    who: str
    child: str


@dataclass(frozen=True)
class Exit:
    who: str


@dataclass(frozen=True)
class Vmsplice:
    """Splice ``page`` into a new pipe named ``pipe`` (FOLL_GET, read-only)."""

    who: str
    page: int
    pipe: str


@dataclass(frozen=True)
class Unmap:
    """munmap the whole mapping in ``who`` (the actor lives on without it)."""

    who: str


@dataclass(frozen=True)
class Mprotect:
    """mprotect ``pages`` (None: the whole mapping) read-only, or read-write with ``write``."""

    who: str
    pages: tuple[int, ...] | None
    write: bool


@dataclass(frozen=True)
class PipeRead:
    pipe: str


@dataclass(frozen=True)
class RegisterBuffers:
    """Register ``pages`` (None: the whole mapping) as io_uring fixed buffers.

    Registration pins with FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE.
    """

    who: str
    pages: tuple[int, ...] | None
    name: str


@dataclass(frozen=True)
class UnregisterBuffers:
    name: str


@dataclass(frozen=True)
class DirectWrite:
    """O_DIRECT write from ``page`` to a file: a short-term read-only FOLL_PIN."""

    who: str
    page: int


@dataclass(frozen=True)
class Pageout:
    """MADV_PAGEOUT on ``page`` (retried, the LRU batch drained); observed as swapped/kept."""

    who: str
    page: int


Op = (
    Write
    | WriteAll
    | Read
    | Fork
    | Exit
    | Unmap
    | Mprotect
    | Vmsplice
    | PipeRead
    | RegisterBuffers
    | UnregisterBuffers
    | DirectWrite
    | Pageout
)


@dataclass(frozen=True)
class Look:
    """Observe ``who``'s page identity and AnonExclusive flag at ``page``."""

    who: str
    page: int


@dataclass(frozen=True)
class Shared:
    """Count the pages ``who`` maps at the same page frame as ``other``."""

    who: str
    other: str


@dataclass(frozen=True)
class Folio:
    """Observe the folio behind ``who``'s ``page``: its kind and how it is mapped.

    Two observations: ``folio`` ("small", "THP" or "hugetlb") and ``mapped``
    ("PMD" when one page-table entry maps the whole folio, else "PTE").
    """

    who: str
    page: int


Probe = Look | Shared | Folio


@dataclass(frozen=True)
class ScriptStep:
    id: str
    text: str
    op: Op
    look: tuple[Probe, ...] = ()


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    explain: str
    needs: tuple[str, ...]
    pages: int
    steps: tuple[ScriptStep, ...]
    memory: str = SMALL  # SMALL, THP (one PMD-sized THP) or HUGETLB (one huge page)
    model_pages: int | None = None  # the twin's mapping size when the kernel's is too big
    measure: str | None = None  # a kernel-only timing job appended to the observations


@dataclass(frozen=True)
class Observation:
    step: str
    who: str
    page: int | None
    what: str
    value: object
    detail: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, int | None, str]:
        return (self.step, self.who, self.page, self.what)


def looks(*who: str, pages: tuple[int, ...] = (0,)) -> tuple[Look, ...]:
    return tuple(Look(w, p) for w in who for p in pages)


def classify(before: object, exclusive_before: object, after: object) -> str:
    """Name a write fault by the page identities around it.

    A new frame is a copy; the same frame was reused if it was not
    AnonExclusive before (``wp_can_reuse_anon_folio`` said yes), else the
    write needed no COW decision at all.
    """
    if before in NOT_PRESENT:
        return "fault-in"
    if HIDDEN in (before, after) or exclusive_before == HIDDEN:
        return HIDDEN
    if after != before:
        return "copy"
    return "in place" if exclusive_before else "reuse"


def summarize(outcomes: list[str]) -> str:
    """'copy (all pages)' when every page agrees, else the counts."""
    counts = Counter(outcomes)
    if HIDDEN in counts:
        return HIDDEN  # without root some pages cannot be told apart
    if len(counts) == 1:
        return f"{outcomes[0]} (all pages)"
    return "mixed: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def shared_summary(mine: list[object], theirs: list[object]) -> str:
    """'all shared', 'none shared', 'shared except page 5', or 'N of M shared'."""
    same = [a == b and a not in NOT_PRESENT for a, b in zip(mine, theirs, strict=True)]
    if HIDDEN in mine:
        return HIDDEN
    if all(same):
        return "all shared"
    if not any(same):
        return "none shared"
    others = [str(page) for page, shared in enumerate(same) if not shared]
    if len(others) <= 3:
        return f"shared except page{'s' if len(others) > 1 else ''} {', '.join(others)}"
    return f"{sum(same)} of {len(mine)} shared"
