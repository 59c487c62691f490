"""Tables the chapters show: one Table type with a Markdown and a plain-text form.

    outcomes("S2", ["linux-5.7", "linux-5.9-rc4"])        # per kernel: what happened
    outcomes(actions, policies, "fork_copies")            # ... with a stats column
    violation_matrix(SCENARIOS.values(), PRESETS)         # scenario x preset
    follow_page(k.trace, pfn=1)                           # one page, step by step
    scenario_index(chapters)                              # every scenario: who gets it wrong

A Table displays as Markdown in the book and in Jupyter, and as an aligned text table
wherever only text/plain is read (a downloaded notebook, a terminal, a screen reader
reading the source). Tables never run the model: outcomes() and violation_matrix() take
runs made by cowlib.replay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .. import history
from ..kernel_names import version_key
from ..lab.verdicts import Result
from ..policy import CHANGES, ERAS, PRESETS, RULES, SWITCHES, Policy, get_policy
from ..replay import Run, Source, policies, resolve, run
from ..scenarios import SCENARIOS, Scenario, mentions
from ..trace import UNNEEDED, PageView, Step
from .text import flags

STAT_COLUMNS = {
    "fork_copies": "fork copies",
    "unshares": "unshares",
    "swapouts": "swapped out",
    "swapins": "swapped in",
}


class Table:
    """Rows of cells under a header; str() of every cell is shown."""

    def __init__(self, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
        self.header = [str(c) for c in header]
        self.rows = [[str(c) for c in row] for row in rows]
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"row {row} has {len(row)} cells, the header {len(self.header)}")

    def markdown(self) -> str:
        def line(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        return "\n".join(
            [line(self.header), "|" + "---|" * len(self.header), *map(line, self.rows)]
        )

    def text(self) -> str:
        """Aligned columns, Markdown emphasis, code marks and HTML tags removed."""
        plain = [
            [re.sub(r"<[^>]+>", "", c).replace("`", "").replace("**", "") for c in row]
            for row in [self.header, *self.rows]
        ]
        widths = [max(len(row[i]) for row in plain) for i in range(len(self.header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in plain
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return self.text()

    def __add__(self, other: Table) -> Tables:
        return Tables([self, other])


class Tables:
    """Several tables shown one after the other."""

    def __init__(self, tables: list[Table]) -> None:
        self.tables = tables

    def _repr_markdown_(self) -> str:
        return "\n\n".join(t.markdown() for t in self.tables)

    def __repr__(self) -> str:
        return "\n\n".join(t.text() for t in self.tables)

    def __add__(self, other: Table) -> Tables:
        return Tables([*self.tables, other])


def _joined(items: Iterable[str], empty: str) -> str:
    return ", ".join(items) or empty


def outcomes(source: Source, presets: Iterable[str | Policy], *stats: str) -> Table:
    """Per kernel: the violations, the COW decisions, the stats asked for, the reads."""
    actions, _ = resolve(source)
    runs = [run(actions, p) for p in policies(presets)]
    return outcome_table(runs, *stats)


def outcome_table(runs: Iterable[Run], *stats: str) -> Table:
    """The table outcomes() shows, for runs already made."""
    unknown = [s for s in stats if s not in STAT_COLUMNS]
    if unknown:
        raise ValueError(f"unknown stats {unknown}; stats: {', '.join(STAT_COLUMNS)}")
    header = ["kernel", "violations", "COW decisions", *(STAT_COLUMNS[s] for s in stats), "reads"]
    rows = []
    for r in runs:
        o = r.outcome
        rows.append([
            f"`{r.policy.name}`", _joined(sorted(o.violations), "none"),
            _joined(o.decisions, "-"), *(r.stats[s] for s in stats), _joined(o.reads, "-"),
        ])  # fmt: skip
    return Table(header, rows)


def violation_matrix(
    scenarios: Iterable[Scenario],
    presets: Iterable[str | Policy],
    fixed: tuple[str, str] | None = None,
) -> Table:
    """Scenario x preset: the violations each run reports ("ok" if none).

    With fixed = (old, new), the scenarios that preset old gets wrong and preset new
    gets right are set in bold.
    """
    chosen = policies(presets)
    header = ["scenario", "title", *(p.name.removeprefix("linux-") for p in chosen)]
    rows = []
    for s in scenarios:
        found = {p.name: sorted(run(resolve(s)[0], p).outcome.violations) for p in chosen}
        cells = [", ".join(v) or "ok" for v in found.values()]
        name = s.name
        if fixed and found[fixed[0]] and not found[fixed[1]]:
            cells = [f"**{c}**" if c != "ok" else c for c in cells]
            name = f"**{name}**"
        rows.append([name, s.title, *cells])
    return Table(header, rows)


def scenario_index(
    chapters: Mapping[str, str],
    presets: Iterable[str | Policy] | None = None,
    base: str = "linux-5.11",
) -> Table:
    """Every named scenario: what it is, the presets whose run the oracle finds wrong (and
    with what), the presets that copy without need, which of Linus's rules base needs for
    it (each turned off alone; "already" wrong if base is), and the chapters that name it
    (keys of chapters, in their order).
    """
    chosen = policies(presets)
    rules = {rule: get_policy(base).without(rule) for rule in RULES}
    found = mentions(chapters)

    def short(p: Policy) -> str:
        return p.name.removeprefix("linux-")

    rows = []
    for s in SCENARIOS.values():
        actions = resolve(s)[0]
        outcome = {p.name: run(actions, p).outcome for p in chosen}
        wrong = [
            f"{short(p)} ({', '.join(sorted(outcome[p.name].violations))})"
            for p in chosen
            if outcome[p.name].violations
        ]
        spurious = [short(p) for p in chosen if UNNEEDED in outcome[p.name].decisions]
        needs = [
            f"{rule} ({', '.join(sorted(v))})"
            for rule, policy in rules.items()
            if (v := run(actions, policy).outcome.violations)
        ]
        if run(actions, get_policy(base)).outcome.violations:
            needs = [f"wrong on {short(get_policy(base))} already"]
        rows.append([
            f"**{s.name}**", s.title, _joined(wrong, "none"), _joined(spurious, "none"),
            _joined(needs, "none"), _joined(found[s.name], "-"),
        ])  # fmt: skip
    return Table(
        [
            "scenario", "what it shows", "wrong under", "spurious copy under",
            f"{short(get_policy(base))} breaks without", "in the book",
        ],
        rows,
    )  # fmt: skip


def follow_page(trace: Sequence[Step], pfn: int, proc: str = "P", start: int = 2) -> Table:
    """After each step from start on: proc's first PTE, and one page's counters."""
    rows = []
    for step in trace[start:]:
        ptes = step.snapshot.proc(proc).ptes
        pte = (
            "-"
            if not ptes
            else f"swap slot {ptes[0].target}"
            if ptes[0].kind == "swap"
            else f"pfn {ptes[0].target} {'rw' if ptes[0].write else 'r-'}"
        )
        page: PageView | None = step.snapshot.page(pfn)
        counts = (page.refcount, page.mapcount, flags(page)) if page else ("freed", "", "")
        rows.append([f"`{step.action}`", pte, *counts])
    return Table([
        "step", f"{proc}'s PTE", f"pfn {pfn}: refcount", "mapcount", "flags",
    ], rows)  # fmt: skip


def page_pattern(result: Result) -> Table:
    """A lab experiment: the page each actor maps after each step that looked, model beside
    kernel (one label where they agree)."""

    def label(model: object, kernel: object) -> str:
        if model == kernel:
            return f"`{model}`"
        return f"model `{model}`, kernel `{kernel if kernel is not None else '-'}`"

    actors = list(dict.fromkeys(row.who for row in result.rows if row.what == "page"))
    steps: dict[str, dict[str, str]] = {}
    for row in result.rows:
        if row.what == "page":
            steps.setdefault(row.text, {})[row.who] = label(row.model, row.kernel)
    return Table(
        ["after", *actors],
        [[text, *(seen.get(a, "") for a in actors)] for text, seen in steps.items()],
    )


def disagreements(result: Result) -> Table | str:
    """A lab experiment's rows where the model twin and the kernel differ (or why none)."""
    if result.skipped or not result.disagreements:
        return result.verdict()
    return Table(
        ["step", "who", "page", "what", "model", "kernel"],
        [
            [
                r.text,
                r.who,
                "all" if r.page is None else r.page,
                r.what,
                f"`{r.model}`",
                f"`{r.kernel}`",
            ]
            for r in result.disagreements
        ],
    )


def _value(value: object) -> str:
    return {True: "yes", False: "no"}.get(value, f"`{value}`")


def switch_table() -> Table:
    """Switch x preset: each preset's value of each switch (oldest preset first)."""
    return Table(
        ["switch", *(name.removeprefix("linux-") for name in PRESETS)],
        [[f"`{s}`", *(_value(getattr(p, s)) for p in PRESETS.values())] for s in SWITCHES],
    )


def _tagged(id: str) -> str:
    """A commit with the first tag that holds it, from cowlib.history: 'id (v5.9-rc4)'."""
    c = history.commit(id)
    return f"{c.id} ({c.tag}{'' if c.verified else ', unverified'})"


def meaning_table() -> Table:
    """Every value of every switch: what the kernel does, the commits (with their first tags,
    from cowlib.history), the functions."""
    rows = []
    for s in SWITCHES.values():
        for value, choice in s.values.items():
            commits = ", ".join(map(_tagged, choice.commits)) or "-"
            if choice.until:
                commits += f"; until {', '.join(map(_tagged, choice.until))}"
            rule = f" ({s.rule})" if s.rule else ""
            functions = ", ".join(f"`{f}`" for f in choice.functions) or "-"
            rows.append(
                [f"`{s.name}` = {_value(value)}{rule}", choice.behaviour, commits, functions]
            )
    return Table(
        ["switch = value", "kernel behaviour", "commits (first tag)", "kernel functions"], rows
    )


def preset_table() -> Table:
    """Each preset: its release, what it stands for, and the commits of the switch values it
    has, oldest first, each with its first tag (cowlib.history)."""
    rows = []
    for name, policy in PRESETS.items():
        ids = dict.fromkeys(c for s in SWITCHES for c in policy.choice(s).commits)
        ordered = sorted(ids, key=lambda id: version_key(history.commit(id).tag))
        rows.append([f"`{name}`", policy.era, ERAS[name], ", ".join(map(_tagged, ordered)) or "-"])
    return Table(["preset", "release", "what it stands for", "commits in effect"], rows)


def rule_table() -> Table:
    """Linus's rules as the book numbers them, and the switches that turn each off."""
    return Table(
        ["rule", "in one line", "turned off by"],
        [
            [key, rule.summary, ", ".join(f"`{k}={v}`" for k, v in rule.switches.items())]
            for key, rule in RULES.items()
        ],
    )


def change_table() -> Table:
    """The large-folio and hugetlb behaviours that are keyed by release (policy.CHANGES):
    what the kernel does since, the commits with their first tags, and what it did before;
    then which presets have each."""
    return Table(
        ["behaviour", "since", "commits", "before", "presets with it"],
        [
            [
                c.behaviour,
                c.since,
                ", ".join(map(_tagged, c.commits)),
                c.before,
                ", ".join(n.removeprefix("linux-") for n, p in PRESETS.items() if p.since(key))
                or "-",
            ]
            for key, c in CHANGES.items()
        ],
    )
