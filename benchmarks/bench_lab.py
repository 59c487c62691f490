"""The real kernel lab: whole-lab wall time, fault costs per page, fork cost per pinned page.

    python benchmarks/bench_lab.py

Fails (exit 1) if the lab takes more than 30 s or any experiment disagrees with the model
(an experiment the model cannot run yet is reported as kernel only).
Figures are medians of repeated trials on this machine; other machines will differ.
"""

import os
import sys
import time

from cowlib import lab

BUDGET_S = 30.0
PAGES = 10_000
FAULT_TRIALS = 21
FORK_TRIALS = 21


def whole_lab() -> bool:
    start = time.perf_counter()
    features = lab.available()
    ok = True
    for name in lab.experiment_names():
        t0 = time.perf_counter()
        result = lab.run(name, features=features)
        if result.skipped:
            status = f"skipped: {result.skipped}"
        elif result.no_model and not result.error and not result.disagreements:
            status = f"kernel only ({result.no_model})"
        else:
            status = "agrees" if result.agrees else f"DISAGREES ({len(result.disagreements)})"
            ok = ok and result.agrees
        print(f"  {name:18} {time.perf_counter() - t0:6.2f} s  {status}")
    total = time.perf_counter() - start
    within = total <= BUDGET_S
    print(f"whole lab: {total:.2f} s (budget {BUDGET_S:.0f} s{'' if within else ', EXCEEDED'})")
    return ok and within


def fault_costs() -> None:
    c = lab.fault_costs(pages=PAGES, trials=FAULT_TRIALS)
    print(f"fault costs, ns per page, median of {FAULT_TRIALS} trials of {PAGES} pages:")
    for label, samples, net in (
        ("first touch (zero-fill)", c.first_touch, c.first_touch_ns),
        ("reuse fault", c.reuse, c.reuse_ns),
        ("copy fault", c.copy, c.copy_ns),
    ):
        low, high = min(samples) - c.loop_ns, max(samples) - c.loop_ns
        print(f"  {label:28} {net:8.0f}   (trials {low:.0f} to {high:.0f})")
    print(f"  {'loop overhead (subtracted)':28} {c.loop_ns:8.0f}")
    print(f"  {'spurious COW (copy - reuse)':28} {c.spurious_cow_ns:8.0f}")
    print(f"  copy / reuse: {c.copy_ns / c.reuse_ns:.2f}x")


def fork_pin_cost() -> None:
    try:
        c = lab.fork_pin_cost(pages=PAGES, trials=FORK_TRIALS)
    except lab.Unavailable as e:
        print(f"fork cost per pinned page: skipped ({e})")
        return
    print(f"fork of {PAGES} pages, median of {FORK_TRIALS}:")
    print(f"  unpinned {c.plain_ns / 1e6:7.2f} ms")
    print(f"  pinned   {c.pinned_ns / 1e6:7.2f} ms")
    print(f"  extra per pinned page {c.extra_per_page_ns:7.0f} ns")


def main() -> int:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (a busy machine inflates every median)")
    ok = whole_lab()
    fault_costs()
    fork_pin_cost()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
