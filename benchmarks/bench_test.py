"""Wall time of `make test`, the whole test suite as CI runs it (the book already built)."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    subprocess.run(["make", "--quiet", "book"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(["make", "--quiet", "test"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"make test: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
