"""The kernel's COW selftest, tools/testing/selftests/mm/cow.c, run on the model.

    results = run("linux-6.x")            # one Result per cow.c instance, in cow.c's order
    print(tap(results))                   # TAP like cow.c's, ending with its totals line

cow.c (David Hildenbrand) has three groups: anonymous memory (7dad331be781 added its
hugetlb variants, c0f79103322c the multi-size THP sizes), anonymous THP collapse with
MADV_COLLAPSE (7d8faaf15545), and non-anonymous pages in private mappings (f8664f3c4a08,
with the R/O long-term pin cases of 97713a3abe33). Each case runs on each memory
variant, with cow.c's own names for both. The sizes are those of the project's machine:
THP 16 kB to 2048 kB (the PMD size) and hugetlb 2048 kB and 1048576 kB, with liburing
(the two io_uring cases run) and without CONFIG_GUP_TEST (the R/O pin cases skip,
"gup_test not available", unless gup_test=True asks what they would show).

Stand-ins: the model runs every case with smaller folios than it names, because what
decides COW here is whether a folio is large, PMD-mapped or hugetlb, not its size: the
PMD size is order 5 (pmd_order=5: 32 pages stand for 512), 16 kB and 32 kB THPs are
orders 2 and 3, 64 kB to 1024 kB are order 4, hugetlb 2048 kB is order 5 and 1048576 kB
order 6 (STAND_INS). A case fails when the model's reads show what cow.c checks for: a
leak (the other process or a pipe sees a later write), a pin that no longer sees the
page (R/W or R/O pin not reliable), another mapping modified. cow.c marks the hugetlb
vmsplice() cases XFAIL (4bf6a4ebc592): hugetlb still reuses by mapcount (cowlib.hugetlb).

cow.c itself first shipped in 6.2 (the series of 7dad331be781); under older presets the
table is the model's prediction of what those kernels would have reported.

Skips are cow.c's own, where the model shares the reason: no MADV_COLLAPSE before 6.1,
a THP that could not be populated, MADV_PAGEOUT that swapped nothing out. Under presets
older than 6.8 the smaller THP sizes show that release's COW logic on a folio it could
not allocate (multi-size THP came with 6.8).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .kernel import Kernel, Process
from .mm_types import PAGE_SIZE
from .policy import PRESETS, Policy, get_policy

THP_KB = (16, 32, 64, 128, 256, 512, 1024, 2048)
PMD_KB = 2048
HUGETLB_KB = (2048, 1048576)
MODEL_PMD_ORDER = 5
STAND_INS = {
    "thp": {16: 2, 32: 3, 64: 4, 128: 4, 256: 4, 512: 4, 1024: 4, 2048: MODEL_PMD_ORDER},
    "hugetlb": {2048: 5, 1048576: 6},
}
"""The folio order the model uses for each size cow.c names, by kind."""

RESULTS = ("pass", "fail", "xfail", "skip")


@dataclass(frozen=True)
class Result:
    """One instance of cow.c run on the model: its case, variant, preset and outcome."""

    case: str
    variant: str  # cow.c's variant name ("" for the THP collapse cases, which have none)
    preset: str
    result: str  # pass | fail | xfail | skip
    why: str  # the model's explanation of the deciding step

    @property
    def name(self) -> str:
        """The test name cow.c prints: 'case ... variant' (the case alone if no variant)."""
        return f"{self.case} ... {self.variant}" if self.variant else self.case


class Skip(Exception):
    """cow.c skips this instance (the message is its reason)."""


# -- memory variants: each returns (process, mem address, pages, is_hugetlb) -----------
def _thp(k: Kernel, kb: int, run: str) -> tuple[Process, int, int, bool]:
    """do_run_with_thp(): an aligned THP populated by one write, then prepared."""
    order = STAND_INS["thp"][kb]
    nr = 1 << order
    p = k.spawn("P")
    mem = p.mmap(pages=nr, thp=order)
    p.write(mem, "1")
    if p.pfn(mem + (nr - 1) * PAGE_SIZE) is None:
        raise Skip("Did not get a THP populated")
    p.memset(mem, nr, "1")
    size = nr
    if run in ("pte", "pte-swap"):
        p.mprotect(mem + PAGE_SIZE, 1, write=False)
        p.mprotect(mem + PAGE_SIZE, 1, write=True)
    elif run in ("single", "single-swap"):
        p.madvise(mem + PAGE_SIZE, nr - 1, "dontneed")
        size = 1
    elif run == "mremap":
        p.mremap(mem + nr // 2 * PAGE_SIZE, nr // 2)
        size = nr // 2
    elif run == "shared":
        p.madvise(mem + PAGE_SIZE, nr - 1, "dontfork")
        p.fork("C0").exit()
        p.madvise(mem + PAGE_SIZE, nr - 1, "dofork")
    if run.endswith("swap"):
        k.pageout(p, mem, size) if size > 1 else k.pageout(p, mem)
        if not all(p.swapped(mem + i * PAGE_SIZE) for i in range(size)):
            raise Skip("MADV_PAGEOUT did not work, is swap enabled?")
    return p, mem, size, False


def _base(k: Kernel, swap: bool) -> tuple[Process, int, int, bool]:
    p = k.spawn("P")
    mem = p.mmap(pages=1)
    p.memset(mem, 1, "1")
    if swap and not k.pageout(p, mem):
        raise Skip("MADV_PAGEOUT did not work, is swap enabled?")
    return p, mem, 1, False


def _hugetlb(k: Kernel, kb: int) -> tuple[Process, int, int, bool]:
    order = STAND_INS["hugetlb"][kb]
    p = k.spawn("P")
    mem = p.mmap(pages=1 << order, hugetlb=order)
    p.memset(mem, 1 << order, "1")
    return p, mem, 1 << order, True


def anon_variants() -> list[tuple[str, Callable[[Kernel], tuple]]]:
    """run_anon_test_case(): every memory variant of an anonymous case, in cow.c's order."""
    out = [
        ("with base page", lambda k: _base(k, False)),
        ("with swapped out base page", lambda k: _base(k, True)),
    ]
    for kb in THP_KB:
        runs = [("THP", "pmd"), ("swapped-out THP", "pmd-swap")] if kb == PMD_KB else []
        runs += [
            ("PTE-mapped THP", "pte"),
            ("swapped-out, PTE-mapped THP", "pte-swap"),
            ("single PTE of THP", "single"),
            ("single PTE of swapped-out THP", "single-swap"),
            ("partially mremap()'ed THP", "mremap"),
            ("partially shared THP", "shared"),
        ]
        out += [
            (f"with {label} ({kb} kB)", lambda k, kb=kb, run=run: _thp(k, kb, run))
            for label, run in runs
        ]
    out += [(f"with hugetlb ({kb} kB)", lambda k, kb=kb: _hugetlb(k, kb)) for kb in HUGETLB_KB]
    return out


# -- the anonymous cases ----------------------------------------------------------------
def _pages(mem: int, size: int) -> list[int]:
    return [mem + i * PAGE_SIZE for i in range(size)]


def _reads(p: Process, addrs: list[int]) -> list[str]:
    return [p.read(a) for a in addrs]


def cow_in_parent(k, p, mem, size, hugetlb, mprotect=False, vmsplice=False):
    """do_test_cow_in_parent(): the child keeps the old data (or vmsplice()s it and
    unmaps); the parent writes; the child (or its pipe) must still see the old data."""
    addrs = _pages(mem, size)
    c = p.fork("C")
    old = _reads(c, addrs)
    if vmsplice:
        pipes = [c.vmsplice(a) for a in addrs]
        c.munmap(mem, size)
    if mprotect:
        p.mprotect(mem, size, write=False)
        p.mprotect(mem, size, write=True)
    p.memset(mem, size, "ff")
    new = [h.read() for h in pipes] if vmsplice else _reads(c, addrs)
    return old == new, "Leak from parent into child", vmsplice and hugetlb


def vmsplice_in_parent(k, p, mem, size, hugetlb, before_fork):
    """do_test_vmsplice_in_parent(): vmsplice() before or after fork(), unmap in the
    parent, the child writes; the parent's pipe must still show the old data."""
    addrs = _pages(mem, size)
    old = _reads(p, addrs)
    pipes = [p.vmsplice(a) for a in addrs] if before_fork else []
    c = p.fork("C")
    if not before_fork:
        pipes = [p.vmsplice(a) for a in addrs]
    p.munmap(mem, size)
    c.memset(mem, size, "ff")
    c.exit()
    return old == [h.read() for h in pipes], "Leak from child into parent", hugetlb


def iouring(k, p, mem, size, hugetlb, use_fork):
    """do_test_iouring(): a R/W long-term pin (io_uring fixed buffer); fork() (child kept
    alive) or mprotect() R/O and back; the parent writes; the pin must see the writes."""
    addrs = _pages(mem, size)
    pins = [p.pin(a, write=True, longterm=True) for a in addrs]
    if use_fork:
        p.fork("C")
    else:
        p.mprotect(mem, size, write=False)
        p.mprotect(mem, size, write=True)
    p.memset(mem, size, "ff")
    return [h.read() for h in pins] == _reads(p, addrs), "Longterm R/W pin is not reliable", False


def ro_pin(k, p, mem, size, hugetlb, test, fast, gup_test):
    """do_test_ro_pin(): a R/O long-term pin on a shared, previously shared or R/O-mapped
    exclusive page; the parent writes; the pin must see the writes."""
    if not gup_test:
        raise Skip(NO_GUP_TEST)
    addrs = _pages(mem, size)
    if test in ("shared", "previously"):
        c = p.fork("C")
        if test == "previously":
            c.exit()
    elif test == "exclusive":
        p.mprotect(mem, size, write=False)
        p.mprotect(mem, size, write=True)
    pins = [p.pin(a, write=False, longterm=True, fast=fast) for a in addrs]
    p.memset(mem, size, "ff")
    return [h.read() for h in pins] == _reads(p, addrs), "Longterm R/O pin is not reliable", False


ANON_CASES = [
    ("Basic COW after fork()", lambda *a, **o: cow_in_parent(*a)),
    (
        "Basic COW after fork() with mprotect() optimization",
        lambda *a, **o: cow_in_parent(*a, mprotect=True),
    ),
    ("vmsplice() + unmap in child", lambda *a, **o: cow_in_parent(*a, vmsplice=True)),
    (
        "vmsplice() + unmap in child with mprotect() optimization",
        lambda *a, **o: cow_in_parent(*a, mprotect=True, vmsplice=True),
    ),
    (
        "vmsplice() before fork(), unmap in parent after fork()",
        lambda *a, **o: vmsplice_in_parent(*a, True),
    ),
    ("vmsplice() + unmap in parent after fork()", lambda *a, **o: vmsplice_in_parent(*a, False)),
    (
        "R/O-mapping a page registered as iouring fixed buffer",
        lambda *a, **o: iouring(*a, False),
    ),
    ("fork() with an iouring fixed buffer", lambda *a, **o: iouring(*a, True)),
    ("R/O GUP pin on R/O-mapped shared page", lambda *a, **o: ro_pin(*a, "shared", False, **o)),
    ("R/O GUP-fast pin on R/O-mapped shared page", lambda *a, **o: ro_pin(*a, "shared", True, **o)),
    (
        "R/O GUP pin on R/O-mapped previously-shared page",
        lambda *a, **o: ro_pin(*a, "previously", False, **o),
    ),
    (
        "R/O GUP-fast pin on R/O-mapped previously-shared page",
        lambda *a, **o: ro_pin(*a, "previously", True, **o),
    ),
    (
        "R/O GUP pin on R/O-mapped exclusive page",
        lambda *a, **o: ro_pin(*a, "exclusive", False, **o),
    ),
    (
        "R/O GUP-fast pin on R/O-mapped exclusive page",
        lambda *a, **o: ro_pin(*a, "exclusive", True, **o),
    ),
]


# -- the anonymous THP collapse cases ---------------------------------------------------
def thp_collapse(k: Kernel, test: str) -> tuple[bool, str, bool]:
    """do_test_anon_thp_collapse(): PTE-map a THP, share it (or parts) with a child,
    MADV_COLLAPSE before or after fork(), write in the parent; no leak into the child."""
    p, mem, size, _ = _thp(k, PMD_KB, "pmd")
    half = size // 2
    p.mprotect(mem + PAGE_SIZE, 1, write=False)
    p.mprotect(mem + PAGE_SIZE, 1, write=True)
    if test == "unshared" and not p.madvise(mem, size, "collapse"):
        raise Skip("MADV_COLLAPSE failed")
    if test == "lower":
        p.madvise(mem + half * PAGE_SIZE, half, "dontfork")
    elif test == "upper":
        p.madvise(mem, half, "dontfork")
    c = p.fork("C")
    lo, n = {"lower": (mem, half), "upper": (mem + half * PAGE_SIZE, half)}.get(test, (mem, size))
    old = _reads(c, _pages(lo, n))
    if test in ("lower", "upper"):
        p.madvise(mem, size, "dofork")
    if test != "unshared" and not p.madvise(mem, size, "collapse"):
        raise Skip("MADV_COLLAPSE failed")
    p.memset(mem, size, "ff")
    return old == _reads(c, _pages(lo, n)), "Leak from parent into child", False


THP_CASES = [
    ("Basic COW after fork() when collapsing before fork()", "unshared"),
    ("Basic COW after fork() when collapsing after fork() (fully shared)", "fully"),
    ("Basic COW after fork() when collapsing after fork() (lower shared)", "lower"),
    ("Basic COW after fork() when collapsing after fork() (upper shared)", "upper"),
]


# -- the non-anonymous cases ------------------------------------------------------------
def _zeropage(k: Kernel) -> tuple[Process, int, int, int]:
    p = k.spawn("P")
    mem, smem = p.mmap(1), p.mmap(1, write=False)
    p.read(mem)
    p.read(smem)
    return p, mem, smem, 1


def _file(k: Kernel, name: str, kb: int = 0) -> tuple[Process, int, int, int]:
    order = STAND_INS["hugetlb"][kb] if kb else 0
    p = k.spawn("P")
    k.memfd(name, 1 << order, hugetlb=order)
    mem = p.mmap(1 << order, file=name)
    smem = p.mmap(1 << order, file=name, shared=True, write=False)
    p.read(mem)
    p.read(smem)
    return p, mem, smem, 1 << order


def _huge_zeropage(k: Kernel) -> tuple[Process, int, int, int]:
    nr = 1 << MODEL_PMD_ORDER
    p = k.spawn("P")
    mem = p.mmap(nr, thp=MODEL_PMD_ORDER)
    smem = p.mmap(nr, thp=MODEL_PMD_ORDER, write=False)
    p.read(mem)
    p.read(smem)
    if p.pfn(mem + PAGE_SIZE) is None or p.pfn(smem + PAGE_SIZE) is None:
        raise Skip("Did not get THPs populated")
    return p, mem, smem, nr


def non_anon_variants() -> list[tuple[str, Callable[[Kernel], tuple]]]:
    out = [
        ("with shared zeropage", _zeropage),
        ("with memfd", lambda k: _file(k, "memfd")),
        ("with tmpfile", lambda k: _file(k, "tmpfile")),
        ("with huge zeropage", _huge_zeropage),
    ]
    return out + [
        (f"with memfd hugetlb ({kb} kB)", lambda k, kb=kb: _file(k, "hugetlbfs", kb))
        for kb in HUGETLB_KB
    ]


def test_cow(k, p, mem, smem, size, gup_test):
    """test_cow(): write the private mapping; the other mapping must not change."""
    old = _reads(p, _pages(smem, size))
    p.memset(mem, size, "ff")
    return old == _reads(p, _pages(smem, size)), "Other mapping modified", False


def test_ro_pin(k, p, mem, smem, size, gup_test, fast):
    if not gup_test:
        raise Skip(NO_GUP_TEST)
    pins = [p.pin(a, write=False, longterm=True, fast=fast) for a in _pages(mem, size)]
    p.memset(mem, size, "ff")
    ok = [h.read() for h in pins] == _reads(p, _pages(mem, size))
    return ok, "Longterm R/O pin is not reliable", False


NON_ANON_CASES = [
    ("Basic COW", test_cow),
    ("R/O longterm GUP pin", lambda *a: test_ro_pin(*a, False)),
    ("R/O longterm GUP-fast pin", lambda *a: test_ro_pin(*a, True)),
]


# -- running ----------------------------------------------------------------------------
NO_GUP_TEST = "gup_test not available"


def _instance(
    policy: Policy, case: str, variant: str, body: Callable[..., tuple], gup_test: bool
) -> Result:
    """Run one instance. A case this machine skips for want of CONFIG_GUP_TEST is skipped,
    and its why says what the model predicts it would show with gup_test."""
    k = Kernel(policy, pmd_order=MODEL_PMD_ORDER, snapshots=False)
    try:
        ok, failure, xfail = body(k, gup_test)
    except Skip as e:
        why = str(e)
        if why == NO_GUP_TEST:
            would = _instance(policy, case, variant, body, True)
            why += f"; with CONFIG_GUP_TEST the model predicts {would.result}: {would.why}"
        return Result(case, variant, policy.name, "skip", why)
    if ok:
        return Result(case, variant, policy.name, "pass", _why(k, False))
    why = f"{failure}: {_why(k, True)}"
    return Result(case, variant, policy.name, "xfail" if xfail else "fail", why)


def _short(line: str) -> str:
    """A verdict line with a long list of other users cut to the first three."""
    head, sep, users = line.strip().partition("(other users: ")
    names = users.rstrip(")").split(", ")
    if not sep or len(names) <= 3:
        return line.strip()
    return f"{head}{sep}{', '.join(names[:3])} and {len(names) - 3} more)"


DECIDERS = ("do_wp_page", "do_huge_pmd_wp_page", "hugetlb_", "copy_huge_pmd", "copy_present")


def _why(k: Kernel, failed: bool) -> str:
    """The deciding step: for a failure the COW decision that leaked (a missed or wrong
    copy) and what the oracle saw; else the first COW decision of the last write."""
    lines = [line for s in k.trace for line in s.explain.splitlines()]
    if failed:
        for i, line in enumerate(lines):
            if line.strip().startswith("oracle:") and ("missed" in line or "wrong" in line):
                seen = f"; {k.violations[0].message}" if k.violations else ""
                return f"{lines[i - 1].strip()} ({_short(line)}){seen}"
        for line in lines:
            if "copy_present" in line or "copy_huge_pmd" in line or "copy_hugetlb" in line:
                return line.strip() + (f"; {k.violations[0].message}" if k.violations else "")
        return k.violations[0].message if k.violations else "the reads differ"
    last = next((s for s in reversed(k.trace) if "memset" in s.op), None)
    for line in last.explain.splitlines() if last else []:
        if any(d in line for d in DECIDERS) and "->" in line:
            return line.strip()
    for line in reversed(lines):  # no fault on the write: the step that made it so
        if any(d in line for d in (*DECIDERS, "collapse_huge_page", "writable now")):
            return "no write fault; " + line.strip()
    return "no COW decision: every page stayed the writer's own"


def instances() -> list[tuple[str, str, Callable[..., tuple]]]:
    """Every (case, variant, body(kernel, gup_test)) of cow.c, in its order."""
    out = []
    for case, fn in ANON_CASES:
        for variant, make in anon_variants():

            def body(k, gup_test, fn=fn, make=make):
                return fn(k, *make(k), gup_test=gup_test)

            out.append((case, variant, body))
    for case, test in THP_CASES:
        out.append((case, "", lambda k, gup_test, test=test: thp_collapse(k, test)))
    for case, fn in NON_ANON_CASES:
        for variant, make in non_anon_variants():
            out.append(
                (case, variant, lambda k, gup_test, fn=fn, make=make: fn(k, *make(k), gup_test))
            )
    return out


def run(policy: str | Policy | None = None, gup_test: bool = False) -> list[Result]:
    """Every cow.c instance under policy (default linux-6.x); gup_test: run the R/O pin
    cases as a kernel with CONFIG_GUP_TEST would (this machine skips them)."""
    pol = get_policy(policy)
    return [_instance(pol, c, v, body, gup_test) for c, v, body in instances()]


def totals(results: list[Result]) -> dict[str, int]:
    return {r: sum(x.result == r for x in results) for r in RESULTS}


GROUPS = {
    ANON_CASES[0][0]: "# [INFO] Anonymous memory tests in private mappings",
    THP_CASES[0][0]: "# [INFO] Anonymous THP tests",
    NON_ANON_CASES[0][0]: "# [RUN] Non-anonymous memory tests in private mappings",
}
"""The line cow.c prints before the first case of each group."""


def tap(results: list[Result]) -> str:
    """TAP as cow.c prints it (its headers and [RUN] lines, one result per instance, a
    skip's reason, the totals), with the model's why as a "# model:" line."""
    lines = ["TAP version 13", f"# [INFO] model preset: {results[0].preset}" if results else ""]
    lines += [f"# [INFO] detected PMD size: {PMD_KB} KiB"]
    lines += [f"# [INFO] detected THP size: {kb} KiB" for kb in THP_KB]
    lines += [f"# [INFO] detected hugetlb page size: {kb} KiB" for kb in HUGETLB_KB]
    lines.append(f"1..{len(results)}")
    seen = set()
    for n, r in enumerate(results, 1):
        if r.case in GROUPS and r.case not in seen:
            seen.add(r.case)
            lines.append(GROUPS[r.case])
        lines.append(f"# [RUN] {r.name}")
        reason, _, model = r.why.partition("; ") if r.result == "skip" else ("", "", r.why)
        lines += [f"# {reason}"] * bool(reason) + [f"# model: {model}"] * bool(model)
        lines.append(
            {
                "pass": f"ok {n} {r.name}",
                "fail": f"not ok {n} {r.name}",
                "xfail": f"ok {n} # XFAIL {r.name}",
                "skip": f"ok {n} # SKIP {r.name}",
            }[r.result]
        )
    t = totals(results)
    if t["skip"]:
        lines.append(
            f"# {t['skip']} skipped test(s) detected. Consider enabling relevant config "
            "options to improve coverage."
        )
    lines.append(
        f"# Totals: pass:{t['pass']} fail:{t['fail']} xfail:{t['xfail']} xpass:0 "
        f"skip:{t['skip']} error:0"
    )
    return "\n".join(line for line in lines if line)


def to_json(results: list[Result]) -> str:
    return json.dumps([asdict(r) for r in results], indent=1)


def run_all(gup_test: bool = False) -> list[Result]:
    """Every preset, oldest first."""
    return [r for name in PRESETS for r in run(name, gup_test)]
