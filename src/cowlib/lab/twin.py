"""The model twin: the same script run through cowlib's ``Kernel``.

Observables come from the model's page tables: ``Process.pfn`` (None when not
present), ``Process.swapped``, ``Process.anon_exclusive`` and ``Process.pmd_mapped``.
Each observation is made at the same point of the script as on the real kernel,
so ``verdicts.py`` can pair them.

A THP experiment maps one PMD-sized THP (``mmap(thp=order)``), a hugetlb one one huge
page (``mmap(hugetlb=order)``), of the experiment's size (512 pages: order 9). A subpage
of a large folio is observed as ``[head PFN, index]``, as ``real.py`` reads it, and its
AnonExclusive as the kernel's observable shows it: /proc/kpageflags reports the folio's
flag (the head page's) for every subpage (fs/proc/page.c reads the folio's flags), so
the twin reports the head page's flag too.
"""

from __future__ import annotations

import traceback

from .script import (
    ABSENT,
    HUGETLB,
    NOT_PRESENT,
    SMALL,
    SWAPPED,
    THP,
    DirectWrite,
    Exit,
    Experiment,
    Folio,
    Fork,
    Look,
    Mprotect,
    Observation,
    Pageout,
    PipeRead,
    Read,
    RegisterBuffers,
    ScriptStep,
    Shared,
    Unmap,
    UnregisterBuffers,
    Vmsplice,
    Write,
    WriteAll,
    classify,
    shared_summary,
    summarize,
)

PRESET = "linux-6.x"


class ModelRun:
    """One experiment on a fresh ``cowlib.Kernel``; P maps the experiment's pages."""

    def __init__(self, experiment: Experiment, preset: str) -> None:
        import cowlib  # the model; imported here so the lab works (and says so) without it

        gap = model_gap(experiment)
        if gap:
            raise ValueError(f"ModelRun: {experiment.name}: {gap}")
        self.experiment = experiment
        self.kernel = cowlib.Kernel(preset)
        self.page_size = cowlib.PAGE_SIZE
        self.procs = {"P": self.kernel.spawn("P")}
        self.pages = experiment.model_pages or experiment.pages
        folio = MEMORY[experiment.memory]
        order = {folio: self.pages.bit_length() - 1} if folio else {}
        self.base = self.procs["P"].mmap(pages=self.pages, **order)
        self.pipes: dict = {}
        self.pins: dict = {}
        self.observations: list[Observation] = []

    def addr(self, page: int) -> int:
        return self.base + page * self.page_size

    def record(
        self, step: ScriptStep, who: str, page: int | None, what: str, value: object
    ) -> None:
        self.observations.append(Observation(step.id, who, page, what, value))

    def look(self, who: str, page: int) -> tuple[object, object]:
        """Page identity ([head, index] for a subpage of a large folio) and AnonExclusive."""
        proc, addr = self.procs[who], self.addr(page)
        pfn = proc.pfn(addr)
        if pfn is None:
            return (SWAPPED if proc.swapped(addr) else ABSENT), None
        folio = getattr(self.kernel.machine.pages[pfn], "folio", None)
        if folio is None or folio.order == 0:
            return pfn, proc.anon_exclusive(addr)
        head = self.kernel.machine.pages[folio.pfn]
        return [folio.pfn, pfn - folio.pfn], head.anon_exclusive

    def folio_kind(self, who: str, page: int) -> str:
        """'small', 'THP' or 'hugetlb' for the folio behind who's page (else absent/swapped)."""
        identity, _ = self.look(who, page)
        if identity in NOT_PRESENT:
            return str(identity)
        if not isinstance(identity, list):
            return SMALL
        folio = self.kernel.machine.pages[identity[0]].folio
        return HUGETLB if folio.hugetlb else THP

    def write(self, who: str, page: int, value: str) -> str:
        before, exclusive = self.look(who, page)
        self.procs[who].write(self.addr(page), value)
        return classify(before, exclusive, self.look(who, page)[0])

    def step(self, step: ScriptStep) -> None:
        op = step.op
        match op:
            case Write(who=who, page=page, value=value):
                self.record(step, who, page, "fault", self.write(who, page, value))
            case WriteAll(who=who, value=value):
                outcomes = [self.write(who, page, value) for page in range(self.pages)]
                self.record(step, who, None, "fault", summarize(outcomes))
            case Fork(who=who, child=child):
                self.procs[child] = self.procs[who].fork(child)
            case Exit(who=who):
                self.procs.pop(who).exit()
            case Read(who=who, page=page):
                self.record(step, who, page, "content", self.procs[who].read(self.addr(page)))
            case Unmap(who=who):
                self.procs[who].munmap(self.base, self.pages)
            case Mprotect(who=who, pages=None, write=write):
                self.procs[who].mprotect(self.base, self.pages, write=write)
            case Mprotect(who=who, pages=pages, write=write):
                for page in pages:
                    self.procs[who].mprotect(self.addr(page), write=write)
            case Vmsplice(who=who, page=page, pipe=pipe):
                self.pipes[pipe] = self.procs[who].vmsplice(self.addr(page))
            case PipeRead(pipe=pipe):
                self.record(step, "P", None, "pipe", self.pipes.pop(pipe).read())
            case RegisterBuffers(who=who, pages=pages, name=name):
                proc = self.procs[who]
                self.pins[name] = [
                    proc.pin(self.addr(p), write=True, longterm=True)
                    for p in (range(self.pages) if pages is None else pages)
                ]
            case UnregisterBuffers(name=name):
                for pin in self.pins.pop(name):
                    pin.unpin()
            case DirectWrite(who=who, page=page):
                pin = self.procs[who].pin(self.addr(page), write=False, longterm=False)
                self.record(step, who, page, "file", pin.read())
                pin.unpin()
            case Pageout(who=who, page=page):
                self.kernel.lru_drain()  # the kernel side retries until the batch is drained
                swapped = self.kernel.pageout(self.procs[who], self.addr(page))
                self.record(step, who, page, "pageout", "swapped" if swapped else "kept")
            case _:
                raise ValueError(f"ModelRun.step: cannot run {op!r}")
        for probe in step.look:
            match probe:
                case Look(who=who, page=page):
                    identity, exclusive = self.look(who, page)
                    self.record(step, who, page, "page", identity)
                    if identity not in NOT_PRESENT:
                        self.record(step, who, page, "anon_exclusive", exclusive)
                case Shared(who=who, other=other):
                    mine, theirs = (
                        [self.look(w, p)[0] for p in range(self.pages)] for w in (who, other)
                    )
                    self.record(step, who, None, "shared", shared_summary(mine, theirs))
                case Folio(who=who, page=page):
                    self.record(step, who, page, "folio", self.folio_kind(who, page))
                    mapped = self.procs[who].pmd_mapped(self.addr(page))
                    self.record(step, who, page, "mapped", "PMD" if mapped else "PTE")


MEMORY = {SMALL: None, THP: "thp", HUGETLB: "hugetlb"}
"""The mmap() argument that gives the model each kind of experiment memory (one folio)."""


def model_gap(experiment: Experiment) -> str | None:
    """Why the model cannot run ``experiment`` (None when it can)."""
    if experiment.memory not in MEMORY:
        return f"no model: cowlib has no {experiment.memory} pages"
    return None


def run_model(experiment: Experiment, preset: str = PRESET) -> tuple[list[Observation], str | None]:
    """The model's observations, and the error that stopped it early (None if it finished)."""
    run = None
    try:
        run = ModelRun(experiment, preset)
        for step in experiment.steps:
            run.step(step)
    except Exception as e:  # noqa: BLE001 - a model failure is shown beside the kernel's run
        where = traceback.extract_tb(e.__traceback__)[-1]
        return (run.observations if run else []), f"{type(e).__name__}: {e} ({where.name})"
    return run.observations, None
