"""Explorer throughput: the default results table, the race search and what dedup saves.

Prints, per row of the default table (every preset and linux-5.11 without each rule,
depth DEPTH, two live processes, one page), the distinct states after deduplication,
the states explored (actions applied) and explored states per second; then the wall
and CPU time of the whole table against its 60 s budget. Exits 1 if over budget.
"""

import os
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

BUDGET = 60.0


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    wall, cpu = time.perf_counter(), cpu_seconds()
    results = table()
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
    verdict = "ok" if wall <= BUDGET else "OVER BUDGET"
    print(
        f"default table: {wall:.1f} s wall, {cpu:.1f} s CPU (budget {BUDGET:.0f} s wall): {verdict}"
    )

    base = PRESETS["linux-5.11"]
    for policy in (base.replace(write_protect_seq=False), base):
        r = explore(policy, RACE_DEPTH, RACE_UNIVERSE)
        print(
            f"race search, {r.policy}, depth {RACE_DEPTH}: stale-pin {r.cell('stale-pin')}, "
            f"{r.states} states, {r.transitions} explored, {r.seconds:.1f} s"
        )

    for dedup in (True, False):
        r = explore(base, 4, UNIVERSE, dedup=dedup)
        print(
            f"dedup {'on ' if dedup else 'off'}: linux-5.11, depth 4: {r.states} states, "
            f"{r.transitions} explored, {r.seconds:.1f} s"
        )
    print(f"(default depth {DEPTH})")
    return 0 if wall <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
