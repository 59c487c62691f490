"""Kernel eras as sets of independent rule switches.

Each switch models one commit (or a short series); a preset is the set of switches a
kernel release had. Linus's four rules (LKML, 18 Dec 2021) map onto switches as RULES
says, so a rule can be turned off on any preset: PRESETS["linux-5.11"].without("rule4").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import BadArgument, UnknownPreset

REUSE_TESTS = ("mapcount", "page_count", "page_count_drain")
SWAPIN_TESTS = ("mapcount", "page_count")


@dataclass(frozen=True)
class Policy:
    """A kernel's COW behaviour. Field docs name the commit each switch models."""

    name: str
    # do_wp_page() reuse test for pages not known to be exclusive:
    #   "mapcount": reuse_swap_page(): mapcount + swapcount <= 1 (c475a8ab625d, 2005 .. 5.8)
    #   "page_count": page_count() == 1 (09854ba94c6a, 5.9-rc4): rule 1
    #   "page_count_drain": page_count, after draining the local LRU batch and freeing
    #       the swap cache (d4c470970d45, 53a05ad9f21d, 5.18)
    reuse_test: str = "page_count_drain"
    # do_swap_page() reuse test on a write fault:
    #   "mapcount": reuse_swap_page() (until 5.17); "page_count": c145e0b47c77 (5.18)
    swapin_test: str = "page_count"
    # PG_anon_exclusive (6c287605fd56, 5.19): exclusive pages are reused without looking
    # at counts; fork clears it (page_try_dup_anon_rmap, refused when maybe pinned);
    # unmap for swap refuses pinned pages (page_try_share_anon_rmap) and the swap PTE
    # remembers exclusivity (pte_swp_exclusive).
    anon_exclusive: bool = True
    # 17839856fd58 (5.8): GUP with FOLL_GET/FOLL_PIN on a COW mapping acts as FOLL_WRITE,
    # and GUP-fast only takes writable PTEs. Reverted by a308c71bf1e6 (5.9-rc4).
    gup_forces_cow: bool = False
    # 70e806e4e645 + 008cfe4418b3 (5.9): fork copies a maybe-pinned page for the child
    # (copy_present_page) instead of write-protecting it: rule 3.
    fork_copies_pinned: bool = True
    # 57efa1fe5957 (5.11): fork writes mm->write_protect_seq; GUP-fast samples and
    # re-checks it and backs off to slow GUP: rule 3.
    write_protect_seq: bool = True
    # feb889fb40fa (5.11): shrink_page_list(): page_maybe_dma_pinned() -> keep_locked,
    # before add_to_swap(): rule 4.
    swap_skips_pinned: bool = True
    # a7f226604170 + c89357e27f20 (5.19): a R/O FOLL_PIN on a possibly shared anon page
    # triggers FAULT_FLAG_UNSHARE (gup_must_unshare).
    ro_pin_unshares: bool = True
    # 64fe24a3e05e (likely 6.0): mprotect(PROT_WRITE) maps exclusive anon pages writable at once
    # (can_change_pte_writable) instead of leaving a write fault for later.
    mprotect_upgrade: bool = True
    # Rule 2, "a spurious COW is safe": when unsure, copy. False models the rejected
    # alternative of exempting maybe-pinned pages from COW in do_wp_page (floated in the
    # Sept 2020 RDMA thread; feb889fb40fa's message explains why a heuristic must not
    # decide reuse).
    copy_when_unsure: bool = True

    def __post_init__(self) -> None:
        if self.reuse_test not in REUSE_TESTS:
            raise BadArgument(f"reuse_test must be one of {REUSE_TESTS}, not {self.reuse_test!r}")
        if self.swapin_test not in SWAPIN_TESTS:
            raise BadArgument(
                f"swapin_test must be one of {SWAPIN_TESTS}, not {self.swapin_test!r}")

    def replace(self, **changes: object) -> Policy:
        """A copy with some switches changed; the name records the change."""
        names = {f.name for f in fields(self)} - {"name"}
        unknown = set(changes) - names - {"name"}
        if unknown:
            raise BadArgument(f"unknown switch {sorted(unknown)}; switches: {sorted(names)}")
        if "name" not in changes:
            changes["name"] = self.name + "".join(
                f" {k}={v}" for k, v in sorted(changes.items()))
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
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


@dataclass(frozen=True)
class Rule:
    """One of Linus's four rules and the switches that turn it off."""

    number: int
    summary: str
    switches: dict


RULES = {
    "rule1": Rule(1, "reuse a COW page only when page_count() == 1",
                  {"reuse_test": "mapcount", "swapin_test": "mapcount"}),
    "rule2": Rule(2, "a spurious COW is safe: when unsure, copy",
                  {"copy_when_unsure": False}),
    "rule3": Rule(3, "don't mark pinned pages for COW (fork copies; write_protect_seq)",
                  {"fork_copies_pinned": False, "write_protect_seq": False}),
    "rule4": Rule(4, "no swap cache for pinned pages (feb889fb40fa)",
                  {"swap_skips_pinned": False}),
}

_MAPCOUNT_ERA = dict(reuse_test="mapcount", swapin_test="mapcount", anon_exclusive=False,
                     fork_copies_pinned=False, write_protect_seq=False,
                     swap_skips_pinned=False, ro_pin_unshares=False, mprotect_upgrade=False)

PRESETS: dict[str, Policy] = {p.name: p for p in (
    Policy("linux-5.7", **_MAPCOUNT_ERA),
    Policy("linux-5.8", **_MAPCOUNT_ERA, gup_forces_cow=True),
    Policy("linux-5.9-rc4", **{**_MAPCOUNT_ERA, "reuse_test": "page_count"}),
    Policy("linux-5.11", reuse_test="page_count", swapin_test="mapcount",
           anon_exclusive=False, ro_pin_unshares=False, mprotect_upgrade=False),
    Policy("linux-5.18", reuse_test="page_count_drain", swapin_test="page_count",
           anon_exclusive=False, ro_pin_unshares=False, mprotect_upgrade=False),
    Policy("linux-6.x"),
)}

NEWEST = "linux-6.x"


def get_policy(policy: str | Policy | None) -> Policy:
    """A preset by name (None = the newest), or a Policy as given."""
    if policy is None:
        return PRESETS[NEWEST]
    if isinstance(policy, Policy):
        return policy
    try:
        return PRESETS[policy]
    except (KeyError, TypeError):
        raise UnknownPreset(
            f"unknown preset {policy!r}; valid presets: {', '.join(PRESETS)}") from None
