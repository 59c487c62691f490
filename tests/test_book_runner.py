"""The in-page runner: the built site's runtime, and "Edit and run" in headless Chromium.

The browser tests share one rule 1 page (Python starts once, on the first Run, in its
module worker) and run in file order; every host but 127.0.0.1 is blocked.
"""

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, expect

from booktoc import ROOT
from cowlib.scenarios import SCENARIOS
from offline import BrowserPage, recording_page
from test_book_browser import check_player

S2 = SCENARIOS["S2"].actions
S8 = SCENARIOS["S8"].actions
PYTHON_STARTS_MS = 60_000  # generous: CI shares 2 cores; the benchmark holds the 5 s budget
SERVE = "python3 -m http.server -d _build/html"


# --- the built site ------------------------------------------------------------------


def test_runtime_is_the_locked_pyodide(built_book: Path):
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/pyodide"]
    assert pinned["integrity"].startswith("sha512-")
    runtime = built_book / "_runtime"
    files = json.loads((runtime / "files.json").read_text())
    installed = ROOT / "node_modules" / "pyodide"
    assert json.loads((installed / "package.json").read_text())["version"] == pinned["version"]
    for name, size in files["sizes"].items():
        assert (runtime / name).read_bytes() == (installed / name).read_bytes()
        assert (runtime / name).stat().st_size == size
    assert set(files["sizes"]) == {
        "pyodide.mjs",
        "pyodide.asm.mjs",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
    }


def test_wheel_holds_the_cowlib_the_book_was_built_from(built_book: Path):
    runtime = built_book / "_runtime"
    wheel = runtime / json.loads((runtime / "files.json").read_text())["wheel"]
    src = ROOT / "src"
    sources = {p.relative_to(src).as_posix() for p in (src / "cowlib").rglob("*.py")}
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if name.endswith(".py")}
        assert packaged == sources
        for name in sources:
            assert archive.read(name) == (src / name).read_bytes(), name


def test_no_page_loads_the_runtime(built_book: Path):
    pages = [p for p in built_book.rglob("*.html") if "_runtime/" in p.read_text("utf-8")]
    assert not pages


# --- the runner in a browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def rule1(browser, http_server: str) -> Iterator[BrowserPage]:
    with recording_page(browser) as recorded:
        recorded.page.goto(f"{http_server}/book/rule1.html", wait_until="networkidle")
        yield recorded


def runner_of(page) -> Locator:
    runner = page.locator(".cow-runner").first
    if not runner.evaluate("details => details.open"):
        runner.get_by_text("Edit and run").click()
    return runner


def player_before(runner: Locator) -> Locator:
    return runner.locator("xpath=preceding-sibling::div[contains(@class, 'cow-player')][1]")


def settled(player: Locator) -> None:
    """Wait for the theme to give the player's text blocks their tab stops (tabindex 0 if
    they scroll, else -1): it does so a little after a new player appears (later on a
    busy machine), which would otherwise look like a change to the player."""
    player.locator(".cow-text:not([tabindex])").first.wait_for(state="detached")


def set_scenario(runner: Locator, actions: str, preset: str, off: tuple[str, ...] = ()) -> None:
    runner.get_by_label("actions").fill(actions)
    runner.get_by_label("preset").select_option(preset)
    for rule in ("rule1", "rule2", "rule3", "rule4"):
        runner.get_by_label(rule).set_checked(rule not in off)


def run(runner: Locator, actions: str, preset: str, off: tuple[str, ...] = ()) -> None:
    """Fill the runner, press Run and wait for cowlib's answer (a player or an error)."""
    set_scenario(runner, actions, preset, off)
    runner.evaluate("details => delete details.dataset.runMs")
    runner.get_by_role("button", name="Run").click()
    expect(runner).to_have_attribute("data-run-ms", re.compile("."), timeout=PYTHON_STARTS_MS)


def outcome(player: Locator, preset: str) -> str:
    return player.locator(f'.cow-outcomes tr:has(th button:text-is("{preset}"))').inner_text()


def test_reading_the_page_fetches_none_of_the_runtime(rule1: BrowserPage):
    runner = runner_of(rule1.page)
    assert runner.get_by_label("actions").input_value() == S2
    options = runner.get_by_label("preset").locator("option").all_inner_texts()
    assert options == [
        "linux-5.7",
        "linux-5.8",
        "linux-5.9-rc4",
        "linux-5.11",
        "linux-5.18",
        "linux-6.x",
    ]
    expect(runner.locator("output[aria-live]")).to_have_count(1)
    fetched = [url for url in rule1.requests if "_runtime/" in url or "cow-worker" in url]
    assert not fetched


def test_first_run_shows_progress_and_s2_leaks_at_step_7_under_linux_5_7(rule1: BrowserPage):
    runner = runner_of(rule1.page)
    runner.locator("output").evaluate(
        """status => { window.statuses = [];
            new MutationObserver(() => window.statuses.push(status.textContent))
                .observe(status, {childList: true, characterData: true, subtree: true}); }"""
    )
    run(runner, S2, "linux-5.7")
    assert "leak at step 7" in outcome(player_before(runner), "linux-5.7")
    statuses = rule1.page.evaluate("window.statuses")
    stages = ["fetching the Python runtime", "starting Python", "loading cowlib", "ran in"]
    firsts = [next(i for i, s in enumerate(statuses) if s.startswith(stage)) for stage in stages]
    assert firsts == sorted(firsts), statuses
    assert any(re.search(r"of [\d.]+ MB \(\d+%\)", s) for s in statuses)
    assert int(runner.get_attribute("data-ready-ms")) > 0


def test_s2_under_linux_5_9_rc4_has_no_violation(rule1: BrowserPage):
    runner = runner_of(rule1.page)
    run(runner, S2, "linux-5.9-rc4")
    assert "no violation" in outcome(player_before(runner), "linux-5.9-rc4")
    expect(runner.locator("output")).to_contain_text("linux-5.9-rc4 \u2714 no violation")


def test_s8_under_linux_5_11_without_rule4_has_a_stale_pin_and_steps(rule1: BrowserPage):
    runner = runner_of(rule1.page)
    run(runner, S8, "linux-5.11", off=("rule4",))
    player = player_before(runner)
    assert "stale-pin at step 6" in outcome(player, "linux-5.11 without rule4")
    assert "no violation" in outcome(player, "linux-5.11")
    expect(player.locator("select.cow-preset")).to_have_value("linux-5.11 without rule4")
    check_player(player)


@pytest.mark.parametrize(
    "typo, message",
    [
        ("P:mmap 1; P:wrte 0 X", "unknown process verb 'wrte'"),
        ("P:mmap 1; P write 0 X", "expected SUBJECT:VERB ARGS"),
        ("P:mmap 1; P:write 3 X", "'P:write 3 X': P: write of unmapped address"),
    ],
)
def test_bad_input_shows_the_error_inline_and_keeps_the_player(rule1, typo, message):
    runner = runner_of(rule1.page)
    settled(player_before(runner))
    before = player_before(runner).evaluate("player => player.outerHTML")
    run(runner, typo, "linux-6.x")
    error = runner.locator(".cow-run-error")
    expect(error.locator("strong")).to_contain_text(message)
    expect(runner.get_by_label("actions")).to_have_attribute("aria-invalid", "true")
    assert player_before(runner).evaluate("player => player.outerHTML") == before

    run(runner, S2, "linux-6.x")
    expect(error).to_be_empty()
    assert "no violation" in outcome(player_before(runner), "linux-6.x")


def test_runs_stayed_on_the_site_without_console_errors(rule1: BrowserPage):
    assert any(url.endswith("_runtime/pyodide.asm.wasm") for url in rule1.requests), (
        "the worker's requests did not go through the test's network filter"
    )
    hosts = {urlsplit(url).hostname for url in rule1.requests}
    assert hosts == {"127.0.0.1"}, "requests to other hosts"
    assert not rule1.blocked
    assert not rule1.errors, "JavaScript errors"


def test_the_link_to_a_scenario_restores_and_runs_it_on_the_playground(rule1: BrowserPage):
    runner = runner_of(rule1.page)
    set_scenario(runner, S8, "linux-5.11", off=("rule4",))
    link = runner.get_by_role("link", name="link to this scenario").get_attribute("href")
    assert urlsplit(link).path.endswith("/book/playground.html")

    rule1.page.goto(link)
    runner = rule1.page.locator(".cow-runner").first
    expect(runner).to_have_attribute("data-run-ms", re.compile("."), timeout=PYTHON_STARTS_MS)
    assert runner.get_by_label("actions").input_value() == S8
    assert runner.get_by_label("preset").input_value() == "linux-5.11"
    assert not runner.get_by_label("rule4").is_checked()
    assert runner.get_by_label("rule1").is_checked()
    assert "stale-pin at step 6" in outcome(player_before(runner), "linux-5.11 without rule4")
    assert not rule1.blocked and not rule1.errors


def test_from_file_the_runner_says_how_to_serve_the_book(built_book: Path, browser):
    with recording_page(browser) as recorded:
        recorded.page.goto((built_book / "book" / "rule1.html").resolve().as_uri())
        runner = runner_of(recorded.page)
        runner.get_by_role("button", name="Run").click()
        expect(runner.locator(".cow-run-error")).to_contain_text(SERVE)
        assert not any("cow-worker" in url for url in recorded.requests)


def test_a_wheel_that_does_not_load_is_reported_and_run_stays_usable(http_server, browser):
    """loadPackage only logs a missing wheel: the worker must notice and say so."""
    with recording_page(browser) as recorded:
        recorded.page.route("**/_runtime/cowlib-*.whl", lambda route: route.fulfill(status=404))
        recorded.page.goto(f"{http_server}/book/rule1.html")
        runner = runner_of(recorded.page)
        runner.get_by_role("button", name="Run").click()
        status = runner.locator("output")
        expect(status).to_contain_text("Python could not start", timeout=PYTHON_STARTS_MS)
        expect(status).to_contain_text("cowlib")
        expect(runner.get_by_role("button", name="Run")).to_be_enabled()
        assert not recorded.blocked
