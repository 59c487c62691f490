"""Named scenarios S1-S13 of kernel-facts.md section 5, with expected outcomes per preset.

Each scenario is an action string (see cowlib.actions) plus, per preset, the violations
the oracle must find, the COW decisions in order, and the values the reads return.
Outcomes marked "derived" are not stated in kernel-facts.md but follow from the code
paths it describes; the scenario's note says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .actions import run_actions
from .errors import BadArgument
from .grammar import split_actions
from .kernel import Kernel
from .policy import PRESETS, Policy, get_policy
from .trace import MISSED, NEEDED, REUSE, UNNEEDED, WRONG


@dataclass(frozen=True)
class Expect:
    violations: frozenset[str] = frozenset()
    decisions: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a run showed: the same three things an Expect pins down."""

    violations: frozenset[str]
    decisions: tuple[str, ...]
    reads: tuple[str, ...]

    @classmethod
    def of(cls, k: Kernel) -> Outcome:
        return cls(
            frozenset(v.kind for v in k.violations),
            tuple(d for s in k.trace for d in s.decisions),
            tuple(s.result for s in k.trace if s.result is not None),
        )

    def mismatches(self, expect: Expect) -> list[str]:
        return [
            f"{what}: expected {want}, got {got}"
            for what, want, got in (
                ("violations", sorted(expect.violations), sorted(self.violations)),
                ("decisions", expect.decisions, self.decisions),
                ("reads", expect.reads, self.reads),
            )
            if want != got
        ]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    actions: str
    story: str
    expect: dict[str, Expect] = field(repr=False)
    note: str = ""

    def run(self, policy: str | Policy | None = None) -> Kernel:
        return run_actions(self.actions, policy)

    def expected(self, policy: str | Policy) -> Expect | None:
        return self.expect.get(get_policy(policy).name)


def _per_era(
    a: Expect, a2: Expect, b: Expect, c: Expect, c18: Expect, d: Expect
) -> dict[str, Expect]:
    """One expectation per preset, oldest first (test_scenarios checks that none is missing)."""
    return dict(zip(PRESETS, (a, a2, b, c, c18, d), strict=False))


def _e(
    violations: str = "", decisions: tuple[str, ...] = (), reads: tuple[str, ...] = ()
) -> Expect:
    return Expect(frozenset(violations.split()), decisions, reads)


_OK_COPY = _e("", (NEEDED,), ("X",))
_LEAK = _e("leak", (MISSED,), ("Y",))
_STALE = _e("stale-pin", (WRONG,), ("X",))

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "S1",
            "Basic COW after fork",
            "P:mmap 1; P:write 0 X; K:drain; P:fork C; P:write 0 Y; C:read 0; P:read 0; "
            "C:write 0 Z; C:read 0",
            "P writes X and forks. P's write must copy (C still maps the page); C then owns the "
            "old page alone, so C's write reuses it. The drain stands for time passing: the "
            "fresh page has left the per-CPU LRU batch (S13 shows what happens if it has not).",
            {p: _e("", (NEEDED, REUSE), ("X", "Y", "Z")) for p in PRESETS},
        ),
        Scenario(
            "S2",
            "CVE-2020-29374: vmsplice in the child, child unmaps, parent writes",
            "P:mmap 1; P:write 0 X; P:fork C; C:vmsplice 0; C:munmap 0; P:write 0 Y; pipe1:read",
            "C takes a read-only FOLL_GET reference with vmsplice() and unmaps. P's page now has "
            "mapcount 1 but page_count 3 (P, the pipe, the LRU batch). The mapcount rule reuses "
            "it and the pipe shows P's secret Y; page_count() == 1 copies.",
            _per_era(
                _LEAK, _e("", (NEEDED, REUSE), ("X",)), _OK_COPY, _OK_COPY, _OK_COPY, _OK_COPY
            ),
            "linux-5.8: vmsplice's GUP is forced to FOLL_WRITE (17839856fd58), so C copies "
            "first and the pipe holds C's own copy.",
        ),
        Scenario(
            "S3",
            "Swap-in variant of the vmsplice leak",
            "P:mmap 1; P:write 0 X; K:pageout P 0; P:fork C; C:read 0; C:vmsplice 0; "
            "C:munmap 0; P:write 0 Y; pipe1:read",
            "The page is swapped out before fork, so both processes hold swap entries. C reads "
            "it back (read-only, in the swap cache), vmsplices it and unmaps. P's write faults "
            "on its swap entry: reuse_swap_page() sees mapcount 0 + swapcount 1 and reuses the "
            "page the pipe holds, until 5.18 applied page_count to do_swap_page().",
            _per_era(
                _e("leak", (MISSED,), ("X", "Y")),
                _e("", (NEEDED, REUSE), ("X", "X")),
                _e("leak", (MISSED,), ("X", "Y")),
                _e("leak", (MISSED,), ("X", "Y")),
                _e("", (NEEDED,), ("X", "X")),
                _e("", (NEEDED,), ("X", "X")),
            ),
            "linux-5.8 is derived: the forced COW in C's vmsplice gives the pipe C's own copy.",
        ),
        Scenario(
            "S4",
            "vmsplice before fork, parent unmaps, child writes (Linus's counter-example)",
            "P:mmap 1; P:write 0 X; P:vmsplice 0; P:fork C; P:munmap 0; C:write 0 Y; pipe1:read",
            "P holds a read-only reference from before fork. After P unmaps, C's page has "
            "mapcount 1 but an elevated page_count: C must copy, or the pipe shows C's Y. "
            "Forcing COW in GUP (5.8) does not help: P's PTE was writable, nothing to break.",
            _per_era(_LEAK, _LEAK, _OK_COPY, _OK_COPY, _OK_COPY, _OK_COPY),
        ),
        Scenario(
            "S5",
            "vmsplice in the parent after fork, parent unmaps, child writes",
            "P:mmap 1; P:write 0 X; P:fork C; P:vmsplice 0; P:munmap 0; C:write 0 Y; pipe1:read",
            "Like S4, but the reference is taken after fork, on the shared page.",
            _per_era(
                _LEAK, _e("", (NEEDED, REUSE), ("X",)), _OK_COPY, _OK_COPY, _OK_COPY, _OK_COPY
            ),
        ),
        Scenario(
            "S6",
            "RDMA: long-term R/W pin, fork, child exits, parent writes",
            "P:mmap 1; P:write 0 X; P:pin 0 rw long; P:fork C; C:exit; P:write 0 Y; "
            "pin1:read; pin1:write Z; P:read 0",
            "P registers a buffer with a device (FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM) and forks "
            "without MADV_DONTFORK. With page_count but no early copy at fork (5.9-rc4), P's "
            "write copies away from the pinned page: the device and P diverge (Jason "
            "Gunthorpe's regression report, Sept 2020). Since 5.9 fork gives the child a copy.",
            _per_era(
                _e("", (REUSE,), ("Y", "Z")),
                _e("", (REUSE,), ("Y", "Z")),
                _e("stale-pin lost-write", (WRONG,), ("X", "Y")),
                _e("", (), ("Y", "Z")),
                _e("", (), ("Y", "Z")),
                _e("", (), ("Y", "Z")),
            ),
        ),
        Scenario(
            "S7",
            "GUP-fast pin racing with fork in another thread",
            "P:mmap 1; P:write 0 X; P:gupf 0 rw; P:fork_begin C; P:fork_check 0; P:gupf_pin; "
            "P:gupf_check; P:fork_share 0; P:fork_end; P:gupf_slow; P:write 0 Y; pin1:read",
            "A second thread of P runs pin_user_pages_fast() while P forks. fork checks the page "
            "(not pinned yet) and decides to share; GUP-fast pins it through the still-writable "
            "PTE; fork then write-protects it. Without write_protect_seq the pin is now on a "
            "COW-shared page and P's next write breaks it. With it, GUP-fast sees the sequence "
            "count change, unpins, and falls back to slow GUP, which waits for fork and breaks "
            "COW first.",
            _per_era(
                _e("stale-pin", (WRONG,), ("X",)),
                _e("stale-pin", (WRONG,), ("X",)),
                _e("stale-pin", (WRONG,), ("X",)),
                _e("", (NEEDED,), ("Y",)),
                _e("", (NEEDED,), ("Y",)),
                _e("", (NEEDED,), ("Y",)),
            ),
        ),
        Scenario(
            "S8",
            "Pinned buffer under memory pressure (io_uring fixed buffer)",
            "P:mmap 1; P:write 0 X; P:pin 0 rw long; K:pageout P 0; P:read 0; P:write 0 Y; "
            "pin1:read",
            "Reclaim puts the pinned page in the swap cache and unmaps it. P's read maps it back "
            "read-only; P's write then sees page_count = map + swap cache + pin and copies: the "
            "fixed buffer keeps X. feb889fb40fa keeps maybe-pinned pages out of the swap cache.",
            _per_era(
                _e("", (REUSE,), ("X", "Y")),
                _e("", (REUSE,), ("X", "Y")),
                _e("stale-pin", (WRONG,), ("X", "X")),
                _e("", (), ("X", "Y")),
                _e("", (), ("X", "Y")),
                _e("", (), ("X", "Y")),
            ),
        ),
        Scenario(
            "S9",
            "R/W-pinned page mapped read-only in its own process",
            "P:mmap 1; P:write 0 X; P:pin 0 rw long; P:mprotect 0 1 r; P:mprotect 0 1 rw; "
            "P:write 0 Y; pin1:read",
            "No fork at all: mprotect() leaves the PTE read-only, and P's write faults. Under "
            "page_count the pin's bias forces a copy (wrong COW) until PageAnonExclusive (5.19) "
            "says the page is P's alone.",
            _per_era(
                _e("", (REUSE,), ("Y",)),
                _e("", (REUSE,), ("Y",)),
                _STALE,
                _STALE,
                _STALE,
                _e("", (), ("Y",)),
            ),
            "linux-6.x: mprotect maps the exclusive page writable at once (64fe24a3e05e), so "
            "the write does not even fault.",
        ),
        Scenario(
            "S10",
            "R/O pin on a R/O-mapped shared page",
            "P:mmap 1; P:write 0 X; P:fork C; P:pin 0 ro long; P:write 0 Y; pin1:read",
            "A read-only pin does not break COW, so it lands on the page P shares with C; P's "
            "write copies and the pin keeps the old page. 5.19's FAULT_FLAG_UNSHARE gives P an "
            "exclusive copy before pinning.",
            _per_era(
                _STALE,
                _e("", (NEEDED,), ("Y",)),
                _STALE,
                _STALE,
                _STALE,
                _e("", (NEEDED, REUSE), ("Y",)),
            ),
        ),
        Scenario(
            "S11",
            "R/O pin on a previously shared page (child exited)",
            "P:mmap 1; P:write 0 X; P:fork C; C:exit; P:pin 0 ro long; P:write 0 Y; pin1:read",
            "The child is gone but P's PTE is still read-only. The pin's bias makes page_count "
            "> 1, so P's write copies away from the pin. 5.19 unshares in place (reuse) and "
            "marks the page exclusive.",
            _per_era(
                _e("", (REUSE,), ("Y",)),
                _e("", (REUSE,), ("Y",)),
                _STALE,
                _STALE,
                _STALE,
                _e("", (REUSE, REUSE), ("Y",)),
            ),
        ),
        Scenario(
            "S12",
            "Spurious COW: swap-in read, then write",
            "P:mmap 1; P:write 0 X; K:pageout P 0; P:read 0; P:write 0 Y; P:read 0",
            "Nobody shares the page, yet after a swap-in read it is held by the mapping, the "
            "swap cache and the LRU batch: page_count 3. 5.9-5.17 copy (harmless, only slower); "
            "5.18 drains the batch and frees the swap cache, then reuses.",
            _per_era(
                _e("", (REUSE,), ("X", "Y")),
                _e("", (REUSE,), ("X", "Y")),
                _e("", (UNNEEDED,), ("X", "Y")),
                _e("", (UNNEEDED,), ("X", "Y")),
                _e("", (REUSE,), ("X", "Y")),
                _e("", (REUSE,), ("X", "Y")),
            ),
        ),
        Scenario(
            "S13",
            "Spurious COW: a fresh page still in the LRU-add batch",
            "P:mmap 1; P:write 0 X; P:mprotect 0 1 r; P:mprotect 0 1 rw; P:write 0 Y",
            "The page was just faulted in, so the per-CPU LRU-add batch still holds a reference. "
            "A write fault then sees page_count 2 and copies (Nadav Amit's report); 5.18 calls "
            "lru_add_drain() first.",
            _per_era(
                _e("", (REUSE,)),
                _e("", (REUSE,)),
                _e("", (UNNEEDED,)),
                _e("", (UNNEEDED,)),
                _e("", (REUSE,)),
                _e("", ()),
            ),
            "linux-6.x: the page is PageAnonExclusive and mprotect maps it writable at once.",
        ),
        Scenario(
            "R2",
            "Rule 2 turned off: reusing a maybe-pinned page leaks",
            "P:mmap 1; P:write 0 X; P:fork C; C:pin 0 ro long; P:write 0 Y; C:read 0",
            "C takes a read-only pin on the page it shares with P (no unshare before 5.19). If "
            "do_wp_page() spared maybe-pinned pages from COW, P's write would land in the page "
            "C maps and pins. Copying when unsure is always correct.",
            _per_era(
                _e("", (NEEDED,), ("X",)),
                _e("", (NEEDED, REUSE), ("X",)),
                *[_e("", (NEEDED,), ("X",))] * 3,
                _e("", (NEEDED, REUSE), ("X",)),
            ),
            "linux-5.8 and linux-6.x: C's pin breaks COW first (forced FOLL_WRITE; unshare), so "
            "C copies and P's page is P's alone: P reuses it.",
        ),
    )
}


def scenario_workload() -> list[list[str]]:
    """Every named scenario's actions, once each."""
    return [split_actions(s.actions) for s in SCENARIOS.values()]


RULE_BREAKERS: dict[str, tuple[str, frozenset[str]]] = {
    "rule1": ("S2", frozenset({"leak"})),
    "rule2": ("R2", frozenset({"leak"})),
    "rule3": ("S6", frozenset({"stale-pin", "lost-write"})),
    "rule4": ("S8", frozenset({"stale-pin"})),
}
"""For each of Linus's rules, the scenario that breaks on linux-5.11 without it."""


def scenario(name: str) -> Scenario:
    """A scenario by name; the case does not matter ("s2" is S2)."""
    found = SCENARIOS.get(name) or SCENARIOS.get(name.upper()) if isinstance(name, str) else None
    if found is None:
        raise BadArgument(f"unknown scenario {name!r}; scenarios: {', '.join(SCENARIOS)}")
    return found


def mentions(texts: Mapping[str, str]) -> dict[str, list[str]]:
    """For each scenario, the keys of texts (chapters, in their order) that name it.

    A name counts as a whole word: "S1" is not found in "S13" or "S1x", but is in "S1's"
    and "(S1)".
    """
    return {
        name: [key for key, text in texts.items() if re.search(rf"(?<![\w-]){name}(?![\w-])", text)]
        for name in SCENARIOS
    }
