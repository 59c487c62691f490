"""Model figures: `import cowlib` overhead, and one 20-operation scenario with full trace.

Budgets (issue 2): import adds <= 50 ms over a bare interpreter; a 20-operation run <= 5 ms
median under one preset.
"""

import statistics
import subprocess
import sys
import time

from cowlib import PRESETS
from cowlib.actions import run_actions
from cowlib.moves import random_actions


def interpreter_ms(code: str, runs: int = 21) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    bare = interpreter_ms("pass")
    with_cowlib = interpreter_ms("import cowlib")
    print(
        f"python -c pass: {bare:.1f} ms; python -c 'import cowlib': {with_cowlib:.1f} ms; "
        f"import adds {with_cowlib - bare:.1f} ms (budget 50 ms)"
    )
    probe = (
        "import cowlib, sys; print(sorted(m for m in ('matplotlib', 'ipywidgets', "
        "'numpy') if m in sys.modules))"
    )
    heavy = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"heavy modules imported by 'import cowlib': {heavy}")
    actions = random_actions(7, length=20, pages=2)
    for name in PRESETS:
        times = []
        for _ in range(200):
            start = time.perf_counter()
            k = run_actions(actions, name)
            times.append(time.perf_counter() - start)
        print(
            f"{name:<14} {len(k.trace)}-step trace (20 operations): "
            f"{statistics.median(times) * 1000:.2f} ms median (budget 5 ms)"
        )


if __name__ == "__main__":
    main()
