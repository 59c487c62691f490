"""``cowlib lab [EXPERIMENT] [--json]``: run the lab, print model beside kernel.

Echoes its parameters first (OSTEP style). Exit status: 0 when nothing
disagrees (skips included), 1 when an experiment disagrees or fails, 2 for
a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import api
from .experiments import EXPERIMENTS
from .features import available
from .twin import PRESET


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cowlib lab",
        description="Run copy-on-write experiments on this machine's kernel and in the model.",
        epilog="experiments: " + ", ".join(EXPERIMENTS),
    )
    p.add_argument(
        "experiment",
        nargs="?",
        choices=list(EXPERIMENTS),
        metavar="EXPERIMENT",
        help="one experiment (default: all)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    params = {"experiment": args.experiment or "all", "json": args.json, "preset": PRESET}
    features = available()
    names = [args.experiment] if args.experiment else api.experiment_names()
    if not args.json:
        print(" ".join(f"{k}={v}" for k, v in params.items()))
        print("\n".join(str(f) for f in features.values()))
    results = []
    for name in names:
        results.append(api.run(name, features=features))
        if not args.json:
            print(f"\n{results[-1].table()}", flush=True)
    if args.json:
        doc = {
            "parameters": params,
            "features": {n: {"ok": f.ok, "reason": f.reason} for n, f in features.items()},
            "results": [r.to_dict() for r in results],
        }
        json.dump(doc, sys.stdout, indent=1)
        print()
    failed = [r for r in results if r.disagreements or r.error]
    return 1 if failed else 0
