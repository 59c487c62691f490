"""Large-folio figures: one operation on a 512-page folio, and `cowlib selftest` per preset.

Budgets (issue 13): one operation on a 512-page (2048 kB) folio <= 5 ms median; the whole
selftest (778 instances) for one preset <= 10 s.
"""

import statistics
import time

from cowlib import PRESETS, Kernel, selftest


def populated(shared: bool):
    k = Kernel("linux-6.x")
    p = k.spawn("P")
    a = p.mmap(pages=512, thp=9)
    p.write(a, "X")
    if shared:
        p.fork("C")
    return k, p, a


OPERATIONS = {
    "write fault on a PMD-mapped THP (reuse)": (False, lambda k, p, a: p.write(a, "Y")),
    "fork of a PMD-mapped THP": (False, lambda k, p, a: p.fork("D")),
    "write fault on a shared THP (split + copy)": (True, lambda k, p, a: p.write(a, "Y")),
    "mprotect of one subpage (PMD split)": (False, lambda k, p, a: p.mprotect(a + 4096, 1)),
    "MADV_PAGEOUT of the whole THP": (False, lambda k, p, a: k.pageout(p, a, 512)),
}


def main() -> None:
    for name, (shared, op) in OPERATIONS.items():
        times = []
        for _ in range(30):
            k, p, a = populated(shared)
            start = time.perf_counter()
            op(k, p, a)
            times.append(time.perf_counter() - start)
        print(f"{name:<44} {statistics.median(times) * 1000:.2f} ms median (budget 5 ms)")
    for preset in PRESETS:
        start = time.perf_counter()
        results = selftest.run(preset)
        took = time.perf_counter() - start
        print(
            f"cowlib selftest -p {preset:<14} {len(results)} instances: {took:.2f} s (budget 10 s)"
        )


if __name__ == "__main__":
    main()
