"""Explorer throughput: linux-6.x deep, the results table, the race universe, what dedup saves.

Prints, per depth, the new distinct states, the states explored (actions applied), the
seconds and explored states per second:

- linux-6.x in the default universe (15 operations, two live processes, one page),
  before (no symmetry, one process, the last depth's states merged: `cowlib explore -p
  linux-6.x -d 6 --no-symmetry -j 1 --leaves`), then with symmetry and the frontier
  split over the cores (`... -d 7 --leaves`), then as the command runs by default, the
  last depth's states checked but not merged (`cowlib explore -p linux-6.x -d 7`),
  against the 60 s goal for depth 7;
- the default results table (`cowlib explore --table -d 6`: every preset and
  linux-5.11 without each rule, rows in parallel, leaves not merged), against the 60 s
  goal for depth 6, and at depth 5 with the leaves merged too, to compare;
- the race universe of find_race() to RACE_DEPTH and twice that, and dedup on and off
  at depth 4.

The load average is printed with each figure: the machine may be shared. These are
figures, not a test: the exit status is 0 whatever the times.
"""

import os
import resource
import sys
import time

from cowlib import PRESETS
from cowlib.explore import (
    DEPTH,
    RACE_DEPTH,
    RACE_UNIVERSE,
    UNIVERSE,
    caption,
    explore,
    render,
    table,
)

GOAL = 60.0
DEEP, TABLE_DEPTH, BEFORE_DEPTH = 7, 6, 6


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def max_rss_mb() -> str:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"max RSS {own:.0f} MB (this process), {children:.0f} MB (largest worker)"


def verdict(seconds: float) -> str:
    return f"{'within' if seconds <= GOAL else 'OVER'} the {GOAL:.0f} s goal"


def search(title: str, command: str, **kw) -> None:
    print(f"\n{title} ({load()} before)\n  {command}", flush=True)
    r = explore("linux-6.x", **kw)
    print(r.per_depth())
    print(
        f"  total: {r.states} distinct states{'' if r.leaves else ' expanded'}, "
        f"{r.transitions} explored in {r.seconds:.1f} s "
        f"({r.transitions / r.seconds:.0f} explored/s), found {sorted(r.found) or 'nothing'}; "
        f"{load()} after"
    )
    if kw["depth"] == DEEP and not kw.get("leaves", True):
        print(f"  depth {DEEP}: {verdict(r.seconds)}; {max_rss_mb()}")


def main() -> int:
    print(f"{os.cpu_count()} CPUs; {load()}")
    jobs = os.cpu_count() or 1
    search(
        "linux-6.x before: no symmetry, one process",
        f"cowlib explore -p linux-6.x -d {BEFORE_DEPTH} --no-symmetry -j 1 --leaves",
        depth=BEFORE_DEPTH,
        symmetry=False,
    )
    search(
        f"linux-6.x: symmetry, {jobs} processes, leaves merged",
        f"cowlib explore -p linux-6.x -d {DEEP} -j {jobs} --leaves",
        depth=DEEP,
        jobs=jobs,
    )
    search(
        f"linux-6.x after: symmetry, {jobs} processes, leaves checked, not merged",
        f"cowlib explore -p linux-6.x -d {DEEP} -j {jobs}",
        depth=DEEP,
        jobs=jobs,
        leaves=False,
    )

    for depth, leaves in ((DEPTH, True), (DEPTH, False), (TABLE_DEPTH, False)):
        print(f"\ndefault table, depth {depth} ({load()} before)")
        print(f"  cowlib explore --table -d {depth}{' --leaves' if leaves else ''}")
        wall, cpu = time.perf_counter(), cpu_seconds()
        results = table(depth, leaves=leaves)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(caption(results))
        print(render(results))
        print(f"\n{'row':<26}{'states':>8}{'explored':>10}{'seconds':>9}{'explored/s':>12}")
        for r in results:
            print(
                f"{r.policy:<26}{r.states:>8}{r.transitions:>10}{r.seconds:>9.1f}"
                f"{r.transitions / r.seconds:>12.0f}"
            )
        states, explored = sum(r.states for r in results), sum(r.transitions for r in results)
        print(f"{'all rows':<26}{states:>8}{explored:>10}{'':>9}{explored / cpu:>12.0f} per CPU s")
        print(
            f"default table, depth {depth}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
            f"{verdict(wall)}; {load()} after"
        )

    base = PRESETS["linux-5.11"]
    print()
    for policy, depth in [
        (base.replace(write_protect_seq=False), RACE_DEPTH),
        (base, RACE_DEPTH),
        (base, 2 * RACE_DEPTH),
    ]:
        r = explore(policy, depth, RACE_UNIVERSE, kinds=("stale-pin",))
        print(
            f"race search, {r.policy}, up to depth {depth}: stale-pin "
            f"{r.cell('stale-pin')}, {r.states} states, {r.transitions} explored, "
            f"{r.seconds:.1f} s; {load()}"
        )
    print(f"  cowlib explore --race -p linux-5.11 -d {2 * RACE_DEPTH}")

    for dedup in (True, False):
        r = explore(base, 4, UNIVERSE, dedup=dedup)
        print(
            f"dedup {'on ' if dedup else 'off'}: linux-5.11, depth 4: {r.states} states, "
            f"{r.transitions} explored, {r.seconds:.1f} s"
        )
    print(f"(default depth {DEPTH}; {max_rss_mb()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
