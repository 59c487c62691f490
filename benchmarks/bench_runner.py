"""The in-page runner in headless Chromium: what it fetches, how soon Python is ready, Run, step.

Serves the built book (_build/html: run make first) on 127.0.0.1 and opens the rule 1 page:
bytes fetched by the page, then by the first Run (the Pyodide runtime and the cowlib wheel,
uncompressed as python's http.server sends them); the time from the first click to Python
ready, and to the first player; the median of later Runs (S2 and S8 under every preset,
wall time from the click to the new player, and cowlib's own time in the worker); the
median step (a Next click and the layout it causes). Budgets (issue 10, 2 cores, headless):
ready <= 5 s, Run <= 100 ms median, step <= 1 ms. They are printed, never enforced: a busy
machine is slow, not wrong.
    python benchmarks/bench_runner.py
"""

import statistics
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from cowlib import PRESETS
from cowlib.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from offline import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

HTML = ROOT / "_build" / "html"
READY_S, RUN_MS, STEP_MS = 5.0, 100.0, 1.0
RUNS = [(SCENARIOS[name].actions, preset) for name in ("S2", "S8") for preset in PRESETS]

# Fill the first runner, press Run, resolve when its answer is in: wall times in ms.
RUN_JS = """async ([actions, preset]) => {
    const runner = document.querySelector(".cow-runner");
    runner.open = true;
    runner.querySelector("textarea").value = actions;
    runner.querySelector("select").value = preset;
    delete runner.dataset.runMs;
    const start = performance.now();
    let ready = null;
    const statuses = [], status = runner.querySelector("output");
    const seen = new MutationObserver(() =>
        statuses.push([performance.now() - start, status.textContent]));
    seen.observe(status, {childList: true, characterData: true, subtree: true});
    const done = new Promise((resolve) => new MutationObserver((_, observer) => {
        if (ready === null && runner.dataset.readyMs) ready = performance.now() - start;
        if (runner.dataset.runMs) { observer.disconnect(); seen.disconnect(); resolve(); }
    }).observe(runner, {attributes: true}));
    runner.querySelector("button[type=submit]").click();
    await done;
    return {wall: performance.now() - start, ready, cowlib: +runner.dataset.runMs, statuses,
            error: runner.querySelector(".cow-run-error").textContent};
}"""
STAGES = ("fetching the Python runtime", "starting Python", "loading cowlib")

# Step the first player with Next from its first step to its last: ms per step, for the
# click handler alone and with the style and layout of the new frame.
STEP_JS = """() => {
    const player = document.querySelector(".cow-player");
    const next = player.querySelector(".cow-next"), frame = player.querySelector(".cow-frame");
    const slider = player.querySelector(".cow-slider");
    const handler = [], layout = [];
    for (let round = 0; round < 20; round++) {
        slider.value = "0"; slider.dispatchEvent(new Event("input", {bubbles: true}));
        frame.getBoundingClientRect();
        while (!next.disabled) {
            const start = performance.now();
            next.click();
            const clicked = performance.now();
            frame.getBoundingClientRect();
            handler.push(clicked - start);
            layout.push(performance.now() - start);
        }
    }
    return {handler, layout};
}"""


def verdict(value: float, budget: float) -> str:
    return f"(budget {budget:g}) {'ok' if value <= budget else 'OVER'}"


def main() -> int:
    if not (HTML / "_runtime" / "files.json").is_file():
        print(f"no built book with its runtime in {HTML}: run make first")
        return 1
    with serve(HTML) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        fetched: list[int] = []
        page.on("requestfinished", lambda r: fetched.append(r.sizes()["responseBodySize"]))
        page.goto(f"{site}/book/rule1.html", wait_until="networkidle")
        before = sum(fetched)

        first = page.evaluate(RUN_JS, RUNS[0])
        after = sum(fetched)
        later = [page.evaluate(RUN_JS, run) for run in RUNS[1:] * 2]
        errors = [r["error"] for r in [first, *later] if r["error"]]
        steps = page.evaluate(STEP_JS)
        browser.close()

    if errors:
        print(f"runs failed: {errors[:3]}")
        return 1
    ready_s = first["ready"] / 1000
    run_ms = statistics.median(r["wall"] for r in later)
    cowlib_ms = statistics.median(r["cowlib"] for r in later)
    step_ms = statistics.median(steps["handler"])
    layout_ms = statistics.median(steps["layout"])
    print(f"bytes fetched reading the rule 1 page: {before:,}")
    print(f"bytes fetched by the first Run:        {after - before:,} (total {after:,})")
    print(f"first click to Python ready: {ready_s:.2f} s {verdict(ready_s, READY_S)}")
    starts = [
        next((ms for ms, text in first["statuses"] if text.startswith(stage)), None)
        for stage in STAGES
    ]
    print(
        "  stages from the click: "
        + ", ".join(
            f"{stage} {ms / 1000:.2f} s"
            for stage, ms in zip(STAGES, starts, strict=True)
            if ms is not None
        )
    )
    print(f"first click to the first player: {first['wall'] / 1000:.2f} s")
    print(
        f"Run, median of {len(later)} (S2, S8 under every preset): {run_ms:.1f} ms click to "
        f"player, {cowlib_ms:.1f} ms in cowlib {verdict(run_ms, RUN_MS)}"
    )
    print(
        f"step, median of {len(steps['handler'])} Next clicks: {step_ms:.3f} ms "
        f"{verdict(step_ms, STEP_MS)}; with the new frame's layout {layout_ms:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
