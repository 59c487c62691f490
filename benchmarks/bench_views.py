"""Views: one SVG frame, a whole player precomputed, and a player's HTML weight.

Budgets (issue 3): one frame at most 5 ms median; a 12-step scenario under all six
presets with every frame at most 0.5 s; that player's HTML at most 400 KB. No named
scenario has exactly 12 steps, so S7 (13, the longest) stands for it, with a random
12-action run over three processes and two pages as a busier case. Exits 1 when a
budget is exceeded.
    python benchmarks/bench_views.py
"""

import statistics
import sys
import time

from cowlib import PRESETS
from cowlib.moves import random_actions
from cowlib.scenarios import SCENARIOS
from cowlib.view.player import Player
from cowlib.view.svg import render_svg

FRAME_MS, PLAYER_S, PLAYER_KB = 5.0, 0.5, 400


def frame_times() -> list[float]:
    """Milliseconds per render_svg over every step of every scenario under every preset."""
    times = []
    for scenario in SCENARIOS.values():
        for preset in PRESETS:
            trace = scenario.run(preset).trace
            for i, step in enumerate(trace):
                start = time.perf_counter()
                render_svg(step, trace[i - 1] if i else None)
                times.append((time.perf_counter() - start) * 1000)
    return times


def player_cost(source: object, repeat: int = 5) -> tuple[float, int, int]:
    """Best-of-repeat seconds to build and render a six-preset player; its bytes; steps."""
    best, html, steps = float("inf"), "", 0
    for _ in range(repeat):
        start = time.perf_counter()
        player = Player(source)
        html = player.html()
        best = min(best, time.perf_counter() - start)
        steps = player.steps
    return best, len(html.encode()), steps


def main() -> int:
    frame_times()  # warm up imports and caches
    times = frame_times()
    median, p95 = statistics.median(times), sorted(times)[int(0.95 * len(times))]
    ok = median <= FRAME_MS
    print(
        f"svg frame: median {median:.2f} ms, p95 {p95:.2f} ms over {len(times)} frames "
        f"(budget {FRAME_MS} ms) {'ok' if ok else 'OVER'}"
    )
    for label, source in (("S7", "S7"), ("random 12 actions", random_actions(7, 12, 2))):
        seconds, size, steps = player_cost(source)
        fits = seconds <= PLAYER_S and size <= PLAYER_KB * 1000
        ok = ok and fits
        print(
            f"player {label} ({steps} steps x {len(PRESETS)} presets): {seconds * 1000:.0f} ms "
            f"(budget {PLAYER_S * 1000:.0f} ms), {size / 1000:.0f} KB (budget {PLAYER_KB} KB) "
            f"{'ok' if fits else 'OVER'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
