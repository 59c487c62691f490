"""Kernel eras as sets of independent rule switches, each switch's meaning as data.

Each switch models one commit (or a short series); a preset is the set of switches a
kernel release had. SWITCHES says, for every value of every switch, what the kernel does
then, the commits (ids in cowlib.history) that brought it and the kernel functions
involved: the version map renders it, and tests check every id against the registry.
Linus's four rules (LKML, 18 Dec 2021) map onto switches as RULES says, so a rule can be
turned off on any preset: PRESETS["linux-5.11"].without("rule4").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from . import history
from .errors import BadArgument, UnknownPreset
from .kernel_names import version_key


@dataclass(frozen=True)
class Choice:
    """What one value of a switch stands for in the kernel."""

    behaviour: str
    commits: tuple[str, ...] = ()  # the commits that brought this behaviour
    functions: tuple[str, ...] = ()  # the kernel functions that behave so
    until: tuple[str, ...] = ()  # the commits that ended it


@dataclass(frozen=True)
class Switch:
    """One switch of Policy: its values, and the rule it belongs to (if any)."""

    name: str
    values: dict[object, Choice]
    rule: str | None = None
    requires: str | None = None  # a switch that must be on for this one to matter


_OFF = "not in this era"

SWITCHES: dict[str, Switch] = {
    s.name: s
    for s in (
        Switch(
            "reuse_test",
            {
                "mapcount": Choice(
                    "reuse when mapcount + swapcount <= 1; page_count() is not consulted",
                    ("c475a8ab625d",),
                    ("do_wp_page()", "reuse_swap_page()"),
                    until=("09854ba94c6a",),
                ),
                "page_count": Choice(
                    "reuse only when page_count() == 1",
                    ("09854ba94c6a",),
                    ("do_wp_page()",),
                ),
                "page_count_drain": Choice(
                    "page_count() == 1 after draining the local LRU-add batch and freeing an "
                    "unused swap cache entry",
                    ("d4c470970d45", "53a05ad9f21d"),
                    ("do_wp_page()", "wp_can_reuse_anon_folio()"),
                ),
            },
            rule="rule1",
        ),
        Switch(
            "swapin_test",
            {
                "mapcount": Choice(
                    "a write fault on a swap entry reuses by mapcount + swapcount",
                    ("c475a8ab625d",),
                    ("do_swap_page()", "reuse_swap_page()"),
                    until=("c145e0b47c77",),
                ),
                "page_count": Choice(
                    "a write fault on a swap entry reuses only at page_count() == 1",
                    ("c145e0b47c77",),
                    ("do_swap_page()",),
                ),
            },
            rule="rule1",
        ),
        Switch(
            "anon_exclusive",
            {
                True: Choice(
                    "PageAnonExclusive: exclusive pages are reused without counting; fork "
                    "and swap-out may not clear it while the page may be pinned, and the swap "
                    "PTE remembers it",
                    ("6c287605fd56",),
                    (
                        "do_wp_page()",
                        "page_try_dup_anon_rmap() (folio_try_dup_anon_rmap_pte() from 6.8)",
                        "page_try_share_anon_rmap() (folio_try_share_anon_rmap_pte() from 6.8)",
                        "pte_swp_exclusive()",
                    ),
                ),
                False: Choice(_OFF),
            },
        ),
        Switch(
            "gup_forces_cow",
            {
                True: Choice(
                    "GUP on a COW mapping acts as FOLL_WRITE, so GUP breaks COW itself",
                    ("17839856fd58",),
                    ("should_force_cow_break()",),
                    until=("a308c71bf1e6",),
                ),
                False: Choice("GUP takes the page the PTE maps, shared or not"),
            },
        ),
        Switch(
            "fork_copies_pinned",
            {
                True: Choice(
                    "fork copies a maybe-pinned page for the child instead of sharing it",
                    ("70e806e4e645", "008cfe4418b3"),
                    ("copy_present_pte()", "copy_present_page()", "page_maybe_dma_pinned()"),
                ),
                False: Choice("fork write-protects and shares every anonymous page"),
            },
            rule="rule3",
        ),
        Switch(
            "write_protect_seq",
            {
                True: Choice(
                    "fork writes mm->write_protect_seq; GUP-fast re-checks it and backs off "
                    "to slow GUP",
                    ("57efa1fe5957",),
                    ("copy_page_range()", "lockless_pages_from_mm()"),
                ),
                False: Choice(_OFF),
            },
            rule="rule3",
        ),
        Switch(
            "swap_skips_pinned",
            {
                True: Choice(
                    "reclaim keeps a maybe-pinned page out of the swap cache",
                    ("feb889fb40fa",),
                    ("shrink_page_list()",),
                ),
                False: Choice("reclaim adds pinned pages to the swap cache like any other"),
            },
            rule="rule4",
        ),
        Switch(
            "ro_pin_unshares",
            {
                True: Choice(
                    "a R/O FOLL_PIN on a possibly shared anon page triggers FAULT_FLAG_UNSHARE",
                    ("a7f226604170", "c89357e27f20"),
                    ("gup_must_unshare()", "do_wp_page()"),
                ),
                False: Choice(_OFF),
            },
        ),
        Switch(
            "mprotect_upgrade",
            {
                True: Choice(
                    "mprotect(PROT_WRITE) maps exclusive anon pages writable at once",
                    ("64fe24a3e05e",),
                    ("can_change_pte_writable()",),
                ),
                False: Choice("mprotect(PROT_WRITE) leaves PTEs read-only; the next write faults"),
            },
            requires="anon_exclusive",  # can_change_pte_writable() tests PageAnonExclusive
        ),
        Switch(
            "copy_when_unsure",
            {
                True: Choice("when unsure, copy: a spurious COW is safe", (), ("do_wp_page()",)),
                False: Choice(
                    "do_wp_page() reuses a maybe-pinned page so as not to break its pin: a "
                    "heuristic in the reuse decision, what feb889fb40fa's message calls a "
                    "serious bug",
                    (),
                    ("do_wp_page()",),
                ),
            },
            rule="rule2",
        ),
    )
}


@dataclass(frozen=True)
class Policy:
    """A kernel's COW behaviour: one value per switch (SWITCHES says what each means)."""

    name: str
    reuse_test: str = "page_count_drain"
    swapin_test: str = "page_count"
    anon_exclusive: bool = True
    gup_forces_cow: bool = False
    fork_copies_pinned: bool = True
    write_protect_seq: bool = True
    swap_skips_pinned: bool = True
    ro_pin_unshares: bool = True
    mprotect_upgrade: bool = True
    copy_when_unsure: bool = True
    era: str = "v6.18"  # the release whose function names the explanations use

    def __post_init__(self) -> None:
        version_key(self.era)  # a BadArgument if it is not a release
        for name, value in self.switches().items():
            allowed = list(SWITCHES[name].values)
            if value not in allowed or type(value) is not type(allowed[0]):
                raise BadArgument(f"{name} must be one of {tuple(allowed)}, not {value!r}")

    def replace(self, **changes: object) -> Policy:
        """A copy with some switches changed; the name records the change."""
        names = {f.name for f in fields(self)} - {"name"}  # era included: it may change too
        unknown = set(changes) - names - {"name"}
        if unknown:
            raise BadArgument(f"unknown switch {sorted(unknown)}; switches: {sorted(names)}")
        if "name" not in changes:
            changes["name"] = self.name + "".join(f" {k}={v}" for k, v in sorted(changes.items()))
        return replace(self, **changes)

    def without(self, *rules: str) -> Policy:
        """This policy with some of Linus's rules turned off ("rule1" .. "rule4")."""
        changes: dict[str, object] = {}
        for rule in rules:
            if rule not in RULES:
                raise BadArgument(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
            changes.update(RULES[rule].switches)
        return replace(self, name=f"{self.name} without {'+'.join(rules)}", **changes)

    def switches(self) -> dict[str, object]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("name", "era")
        }

    def since(self, change: str) -> bool:
        """Has this policy's release the behaviour CHANGES[change] describes?"""
        return version_key(self.era) >= version_key(CHANGES[change].since)

    def choice(self, switch: str) -> Choice:
        """What this policy's value of switch stands for."""
        return SWITCHES[switch].values[getattr(self, switch)]


@dataclass(frozen=True)
class Rule:
    """One of Linus's four rules and the switches that turn it off."""

    number: int
    summary: str
    switches: dict


RULES = {
    "rule1": Rule(
        1,
        "reuse a COW page only when page_count() == 1",
        {"reuse_test": "mapcount", "swapin_test": "mapcount"},
    ),
    "rule2": Rule(2, "a spurious COW is safe: when unsure, copy", {"copy_when_unsure": False}),
    "rule3": Rule(
        3,
        "don't mark pinned pages for COW (fork copies; write_protect_seq)",
        {"fork_copies_pinned": False, "write_protect_seq": False},
    ),
    "rule4": Rule(4, "no swap cache for pinned pages (feb889fb40fa)", {"swap_skips_pinned": False}),
}

_MAPCOUNT_ERA = dict(
    reuse_test="mapcount",
    swapin_test="mapcount",
    anon_exclusive=False,
    fork_copies_pinned=False,
    write_protect_seq=False,
    swap_skips_pinned=False,
    ro_pin_unshares=False,
    mprotect_upgrade=False,
)

PRESETS: dict[str, Policy] = {
    p.name: p
    for p in (
        Policy("linux-5.7", **_MAPCOUNT_ERA, era="v5.7"),
        Policy("linux-5.8", **_MAPCOUNT_ERA, gup_forces_cow=True, era="v5.8"),
        Policy("linux-5.9-rc4", **{**_MAPCOUNT_ERA, "reuse_test": "page_count"}, era="v5.9-rc4"),
        Policy(
            "linux-5.11",
            reuse_test="page_count",
            swapin_test="mapcount",
            anon_exclusive=False,
            ro_pin_unshares=False,
            mprotect_upgrade=False,
            era="v5.11",
        ),
        Policy(
            "linux-5.18",
            reuse_test="page_count_drain",
            swapin_test="page_count",
            anon_exclusive=False,
            ro_pin_unshares=False,
            mprotect_upgrade=False,
            era="v5.18",
        ),
        Policy("linux-6.x", era="v6.18"),
    )
}

NEWEST = "linux-6.x"

ERAS: dict[str, str] = {
    "linux-5.7": "the mapcount era, before any of the 2020 fixes",
    "linux-5.8": "5.8 with the forced COW in GUP (17839856fd58)",
    "linux-5.9-rc4": "page_count() == 1 (rule 1) alone; nothing protects pins yet",
    "linux-5.11": "the first release with all four rules, the state Linus describes in Dec 2021",
    "linux-5.18": "COW fixes part 1: page_count everywhere, fewer spurious COWs",
    "linux-6.x": "PageAnonExclusive and reliable R/O pins (its explanations use 6.18's names)",
}
"""What each preset stands for, in one line (the version map shows it)."""


@dataclass(frozen=True)
class Change:
    """A large-folio or hugetlb behaviour that arrived in one release.

    These are not switches: no rule turns them off, and every preset has the behaviour
    its release had (Policy.since()). A reader who wants another release's behaviour sets
    the era: PRESETS["linux-6.x"].replace(era="v6.14").
    """

    behaviour: str
    commits: tuple[str, ...]  # the commits that brought it; the last one's tag is `since`
    functions: tuple[str, ...] = ()
    before: str = ""  # what the kernel did until then

    @property
    def since(self) -> str:
        """The first tag with this behaviour, from the history registry."""
        return history.commit(self.commits[-1]).tag


CHANGES: dict[str, Change] = {
    "thp_page_count": Change(
        "do_huge_pmd_wp_page() reuses a PMD-mapped THP only when its refcount is 1 "
        "(PageAnonExclusive first where the era has it); otherwise it splits the PMD and "
        "do_wp_page() handles the one subpage",
        ("3bff7e3f1f16",),
        ("do_huge_pmd_wp_page()",),
        "reuse_swap_page(): the largest subpage mapcount plus the PMD mappings plus the "
        "swap count <= 1 reuses the whole THP; page_count() is not consulted",
    ),
    "large_last_page": Change(
        "a subpage of a large folio that is not PageAnonExclusive is always copied, even "
        "when it is the folio's last mapped page",
        ("781a3ca5c345",),
        ("wp_can_reuse_anon_folio()",),
        "the small-page test: a large folio with one mapped subpage and no other "
        "reference is reused whole",
    ),
    "large_reuse": Change(
        "wp_can_reuse_anon_folio() reuses a PTE-mapped large folio when every reference "
        "is a mapping and all mappings are in this MM (MM owner tracking)",
        ("6af8cb80d3a9", "1da190f4d0a6"),
        ("wp_can_reuse_anon_folio()", "__wp_can_reuse_large_anon_folio()"),
        "copy (a spurious COW whenever the folio was exclusive after all)",
    ),
    "hugetlb_fork_copies_pinned": Change(
        "copy_hugetlb_page_range() gives the child its own copy of a maybe-pinned hugetlb page",
        ("4eae4efa2c29",),
        ("copy_hugetlb_page_range()",),
        "fork shares every private hugetlb page, pinned or not",
    ),
    "madv_collapse": Change(
        "madvise(MADV_COLLAPSE) collapses a range into a PMD-mapped THP at once",
        ("7d8faaf15545",),
        ("madvise_collapse()",),
        "MADV_COLLAPSE does not exist: madvise() fails with EINVAL",
    ),
}
"""Large-folio and hugetlb behaviour by release (cowlib.view.tables.change_table lists it)."""


def get_policy(policy: str | Policy | None) -> Policy:
    """A preset by name (None = the newest), or a Policy as given.

    A name may omit "linux-" and differ in case ("5.7", "LINUX-6.X"); a prefix that
    fits one preset only is taken ("5.9"); an ambiguous one lists the candidates.
    """
    if policy is None:
        return PRESETS[NEWEST]
    if isinstance(policy, Policy):
        return policy
    if not isinstance(policy, str):
        raise UnknownPreset(f"unknown preset {policy!r}; valid presets: {', '.join(PRESETS)}")
    if policy in PRESETS:
        return PRESETS[policy]
    key = policy.strip().lower()
    key = key if key.startswith("linux-") else f"linux-{key}"
    if key in PRESETS:
        return PRESETS[key]
    matches = [name for name in PRESETS if name.startswith(key)]
    if len(matches) == 1:
        return PRESETS[matches[0]]
    if matches:
        raise UnknownPreset(f"preset {policy!r} is ambiguous: {', '.join(matches)}")
    raise UnknownPreset(f"unknown preset {policy!r}; valid presets: {', '.join(PRESETS)}")
