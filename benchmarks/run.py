"""Run the benchmarks: every benchmarks/bench_*.py, or those whose name contains an argument.

Each bench is a script that prints its own figures; this runner runs each in its own
process from the repository root and prints how long it took.
    python benchmarks/run.py            # all
    python benchmarks/run.py book       # bench_book.py only
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    benches = sorted(
        path
        for path in HERE.glob("bench_*.py")
        if not names or any(name in path.stem for name in names)
    )
    failed = []
    for bench in benches:
        print(f"== {bench.stem}", flush=True)
        start = time.perf_counter()
        returncode = subprocess.run([sys.executable, bench], cwd=HERE.parent).returncode
        status = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        print(f"== {bench.stem}: {time.perf_counter() - start:.1f} s, {status}\n", flush=True)
        if returncode:
            failed.append(bench.stem)
    if not benches:
        print(f"no benchmarks/bench_*.py matches {names}")
    return 1 if failed or not benches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
