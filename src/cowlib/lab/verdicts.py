"""Model beside kernel, step by step: every row says whether they agree.

PFNs mean nothing across the two worlds, so page identities are relabelled
``#1, #2, ...`` in order of first appearance on each side: the model and the
kernel agree when the same actors share, keep or lose the same pages.
A frame freed and reallocated inside one experiment would pass for the old
page, so no script allocates after freeing a page it looked at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from .script import HIDDEN, Experiment, Observation

AGREE = "agree"
DISAGREE = "DISAGREE"
NOT_OBSERVED = "hidden"  # the kernel hides the value without root
KERNEL_ONLY = "kernel only"
NO_MODEL = "no model"
SKIPPED = "skipped"
NO_KERNEL = "kernel error"
FINE = {AGREE, NOT_OBSERVED, KERNEL_ONLY, SKIPPED}

COLUMNS = ("who", "page", "what", "model", "kernel", "verdict", "detail")
SHORT = {"mapcount": "mc", "swapcache": "sc"}  # detail keys, shortened in tables


@dataclass(frozen=True)
class Row:
    step: str
    text: str
    who: str
    page: int | None
    what: str
    model: object
    kernel: object
    verdict: str
    detail: str = ""


@dataclass(frozen=True)
class Result:
    """One experiment: the model's prediction beside the kernel's observation."""

    name: str
    title: str
    explain: str
    preset: str
    kernel_release: str
    rows: tuple[Row, ...]
    skipped: str | None = None
    error: str | None = None
    no_model: str | None = None  # why the model cannot run this experiment yet

    @property
    def disagreements(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == DISAGREE]

    @property
    def agrees(self) -> bool:
        """True when the experiment ran and no row contradicts the model."""
        return (
            self.skipped is None
            and self.error is None
            and all(r.verdict in FINE for r in self.rows)
        )

    def verdict(self) -> str:
        """One line: agrees on how many rows (and how many the kernel hid), or why not."""
        if self.skipped:
            return f"skipped: {self.skipped}"
        if self.error:
            return "error: " + self.error.strip().splitlines()[-1]
        if self.disagreements:
            return f"DISAGREES in {_rows(len(self.disagreements))}"
        if self.no_model:
            return f"kernel only ({_rows(len(self.rows))}): {self.no_model}"
        compared = sum(r.verdict == AGREE for r in self.rows)
        hidden = sum(r.verdict == NOT_OBSERVED for r in self.rows)
        return f"agrees on {_rows(compared)}" + (
            f", {_rows(hidden)} hidden (need root)" if hidden else ""
        )

    def row(self, step: str, who: str = "P", what: str = "page", page: int | None = 0) -> Row:
        for r in self.rows:
            if (r.step, r.who, r.what, r.page) == (step, who, what, page):
                return r
        raise KeyError(f"Result.row: no {what} of {who} page {page} at step {step!r}")

    def table(self, width: int = 88) -> str:
        """The experiment narrowly: a line per step, then its observations, model beside
        kernel; a page row and its anon_exclusive row are one row ("#1 AE=1")."""
        if self.skipped:
            status = f"SKIPPED: {self.skipped}"
        elif self.disagreements:
            status = f"{len(self.disagreements)} rows DISAGREE"
        elif self.no_model:
            status = f"kernel only: {self.no_model}"
        else:
            status = "model and kernel agree" if self.agrees else "INCOMPLETE"
        header = [
            textwrap.fill(f"{self.name}: {self.title}", width),
            f"model {self.preset}, kernel {self.kernel_release or '-'}: {status}",
        ]
        if self.error:
            header.append(f"error: {self.error.strip().splitlines()[-1]}")
        lines, previous = [(None, COLUMNS)], None
        for step, text, cells in self._merged():
            lines.append((text if step != previous else None, cells))
            previous = step
        widths = [max(len(cells[i]) for _, cells in lines) for i in range(len(COLUMNS))]
        out = []
        for text, cells in lines:
            if text:
                out.append(text)
            out.append(
                "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
            )
        return "\n".join(header + out)

    def _merged(self) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        """(step, its text, cells) per row, each page row merged with its AE row."""
        seen: dict[str, set] = {"model": set(), "kernel": set()}
        rows = list(self.rows)
        for i, row in enumerate(rows):
            if row.what == "anon_exclusive":
                continue
            values = [show(row, side, getattr(row, side), seen) for side in ("model", "kernel")]
            verdicts = [row.verdict]
            nxt = rows[i + 1] if i + 1 < len(rows) else None
            if row.what == "page" and nxt and nxt.what == "anon_exclusive" and nxt.page == row.page:
                for j, side in enumerate(("model", "kernel")):
                    flag = getattr(nxt, side)
                    if values[j] != NOT_OBSERVED and flag is not None:
                        values[j] += " AE=" + (str(int(flag)) if isinstance(flag, bool) else flag)
                verdicts.append(nxt.verdict)
            verdict = next(
                (v for v in (DISAGREE, NOT_OBSERVED, SKIPPED) if v in verdicts), verdicts[0]
            )
            text, detail = row.text, row.detail
            if "=" in detail:
                detail = " ".join(
                    f"{SHORT.get(k, k)}={v}" for k, v in (f.split("=") for f in detail.split())
                )
            if ", median of " in detail:  # a timing: the trials go on the step's line
                detail, trials = detail.split(", median of ")
                text = f"median of {trials}"
            page = "all" if row.page is None else str(row.page)
            yield row.step, text, (row.who, page, row.what, *values, verdict, detail)

    __str__ = table

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        """IPython and Jupyter show the table, not the dataclass fields."""
        printer.text(self.table())

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "explain": self.explain,
            "preset": self.preset,
            "kernel_release": self.kernel_release,
            "agrees": self.agrees,
            "skipped": self.skipped,
            "error": self.error,
            "no_model": self.no_model,
            "rows": [asdict(r) for r in self.rows],
        }


def _rows(n: int) -> str:
    return f"{n} row" + ("" if n == 1 else "s")


def show(row: Row, side: str, value: object, seen: dict[str, set]) -> str:
    """A cell: '-' for nothing, and 'new' the first time a page label appears."""
    if value is None:
        return "-"
    folio = str(value).split("+")[0]  # '#1+5' is subpage 5 of folio #1
    if row.what == "page" and folio.startswith("#") and folio not in seen[side]:
        seen[side].add(folio)
        return f"{value} new"
    return str(value)


def relabel(observations: list[Observation]) -> list[Observation]:
    """Replace raw page frame numbers by #1, #2, ... in order of first appearance.

    A subpage of a large folio, ``[head PFN, index]``, reads ``#n+index``
    after its folio's label (``#n`` itself for the head page).
    """
    labels: dict[int, str] = {}
    out = []
    for o in observations:
        head, index = o.value if isinstance(o.value, (list, tuple)) else (o.value, 0)
        if o.what == "page" and isinstance(head, int):
            label = labels.setdefault(head, f"#{len(labels) + 1}")
            label += f"+{index}" if index else ""
            o = Observation(o.step, o.who, o.page, o.what, label, o.detail)
        out.append(o)
    return out


def verdict(
    model: Observation | None, kernel: Observation | None, *, measured: bool, skipped: bool
) -> str:
    """Why a row agrees or not; a kernel measurement has no model side by design."""
    if kernel is None:
        return SKIPPED if skipped else NO_KERNEL
    if model is None:
        return KERNEL_ONLY if measured else NO_MODEL
    if kernel.value == HIDDEN:
        return NOT_OBSERVED
    return AGREE if model.value == kernel.value else DISAGREE


def compare(
    experiment: Experiment,
    model: list[Observation],
    kernel: list[Observation] | None,
    *,
    preset: str,
    kernel_release: str = "",
    model_error: str | None = None,
    skipped: str | None = None,
    error: str | None = None,
    no_model: str | None = None,
) -> Result:
    """Pair observations by (step, who, page, what), in the order they were made."""
    texts = {s.id: s.text for s in experiment.steps}
    model_by_key = {o.key: o for o in relabel(model)}
    kernel_obs = relabel(kernel or [])
    kernel_by_key = {o.key: o for o in kernel_obs}
    keys = [o.key for o in kernel_obs] + [k for k in model_by_key if k not in kernel_by_key]
    rows = []
    for key in keys:
        m, k = model_by_key.get(key), kernel_by_key.get(key)
        step, who, page, what = key
        rows.append(
            Row(
                step=step,
                text=texts.get(step, step),
                who=who,
                page=page,
                what=what,
                model=m.value if m else None,
                kernel=k.value if k else None,
                verdict=verdict(m, k, measured=step not in texts, skipped=skipped is not None),
                detail=k.detail if k else "",
            )
        )
    errors = [f"model: {model_error}" if model_error else "", f"kernel: {error}" if error else ""]
    return Result(
        name=experiment.name,
        title=experiment.title,
        explain=experiment.explain,
        preset=preset,
        kernel_release=kernel_release,
        rows=tuple(rows),
        skipped=skipped,
        error="\n".join(filter(None, errors)) or None,
        no_model=no_model,
    )
