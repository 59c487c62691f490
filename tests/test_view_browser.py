"""Players in headless Chromium, offline: they render, step, switch presets, raise nothing.

A small page holds two players and a comparison, with the book's cow.css, served
from a temporary folder on 127.0.0.1 (the browser_page fixture blocks every other host).
"""

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from booktoc import BOOK
from cowlib import PRESETS
from cowlib.view import compare
from cowlib.view.player import Player
from test_book_browser import check_player


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """URL of a page with the S2 player, a rule-4 player and an S2 comparison."""
    root = tmp_path_factory.mktemp("site")
    shutil.copy(BOOK / "_static" / "cow.css", root / "cow.css")
    rule4 = Player("S8", presets=[PRESETS["linux-5.11"], PRESETS["linux-5.11"].without("rule4")])
    body = "".join(
        [Player("S2").html(), rule4.html(), compare("S2", ["linux-5.7", "linux-6.x"]).html()]
    )
    (root / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" '
        f'href="cow.css"></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    handler = functools.partial(_Quiet, directory=root)
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}/index.html"
        server.shutdown()
        thread.join()


def test_players_step_and_switch_presets_offline(site, browser_page):
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    players = page.locator(".cow-player")
    assert players.count() == 2
    for index in range(players.count()):
        check_player(players.nth(index))
    assert page.locator(".cow-compare tr.cow-diverge").count() == 2
    assert not browser_page.blocked, "requests to other hosts"
    assert not browser_page.errors, "JavaScript errors"


def test_a_violation_in_the_outcome_line_jumps_to_its_step(site, browser_page):
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    player = page.locator(".cow-player").first
    player.get_by_role("button", name="leak at step 7").click()
    frame = player.locator(".cow-frame")
    expect(frame).to_have_attribute("data-step", "7")
    expect(frame).to_have_attribute("data-preset", "linux-5.7")
    expect(frame.locator("svg .cow-bad")).to_contain_text("LEAK")
    expect(player.locator("tr.cow-current")).to_have_attribute("data-preset", "0")
    expect(player.locator("button.cow-next")).to_be_disabled()
    assert not browser_page.errors


def test_text_view_follows_the_step_and_keys_step_too(site, browser_page):
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    player = page.locator(".cow-player").first
    player.locator("summary").click()
    text = player.locator("pre.cow-text")
    expect(text).to_be_visible()
    expect(text).to_contain_text("[0] spawn('P')")
    player.locator("button.cow-next").click()
    expect(text).to_contain_text("[1] P.mmap(pages=1)")
    page.keyboard.press("ArrowRight")
    expect(player.locator(".cow-frame")).to_have_attribute("data-step", "2")
    expect(player.locator(".cow-pos")).to_have_text("step 2 / 7")
    assert not browser_page.errors


def test_keys_step_and_jump_and_escape_pauses_play(site, browser_page):
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    player = page.locator(".cow-player").first
    frame = player.locator(".cow-frame")
    player.focus()
    outline = player.evaluate("p => getComputedStyle(p).outlineStyle")
    assert outline != "none", "focus is not visible"
    for key, step in (("ArrowRight", "1"), ("End", "7"), ("ArrowLeft", "6"), ("Home", "0")):
        page.keyboard.press(key)
        expect(frame).to_have_attribute("data-step", step)
    play = player.locator("button.cow-play")
    play.click()
    expect(play).to_have_accessible_name("Pause")
    expect(frame).not_to_have_attribute("data-step", "0")
    page.keyboard.press("Escape")
    expect(play).to_have_accessible_name("Play")
    paused = frame.get_attribute("data-step")
    page.wait_for_timeout(1500)  # longer than a Play interval (1200 ms)
    assert frame.get_attribute("data-step") == paused, "Play went on after Escape"
    assert not browser_page.errors


def test_live_region_says_the_current_step(site, browser_page):
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    player = page.locator(".cow-player").first
    live = player.locator(".cow-live")
    first = live.text_content()
    assert first.startswith("step 0 of 7, linux-5.7: [0] spawn('P')")
    player.get_by_role("button", name="leak at step 7").click()
    expect(live).to_contain_text("step 7 of 7, linux-5.7: [7] pipe1.read()")
    expect(live).to_contain_text("!! LEAK: pipe1 (taken by C)")
    expect(live).not_to_contain_text("processes and PTEs")  # the step, not its tables
    player.locator("button.cow-prev").click()
    page.keyboard.press("Home")
    expect(live).to_have_text(first)  # what the script says is what the HTML said
    assert not browser_page.errors


def test_a_player_inserted_later_starts_when_its_script_runs(site, browser_page):
    """As JupyterLab or an "Edit and run" control inserts output: HTML first, then the
    script re-created so that it runs; twice, so the second has the same id as the first."""
    page = browser_page.page
    page.goto(site, wait_until="networkidle")
    html = Player("S1", presets=["linux-5.7", "linux-6.x"]).html()
    for _ in range(2):
        page.evaluate(
            """html => {
                const box = document.createElement("div");
                box.className = "later";
                box.innerHTML = html;
                document.body.append(box);
                const old = box.querySelector("script:not([type])");
                const fresh = document.createElement("script");
                fresh.textContent = old.textContent;
                old.replaceWith(fresh);
            }""",
            html,
        )
    later = page.locator(".later .cow-player")
    assert later.count() == 2
    for index in range(2):
        player = later.nth(index)
        player.locator("button.cow-next").click()
        expect(player.locator(".cow-frame")).to_have_attribute("data-step", "1")
    assert not browser_page.errors


def test_a_diagram_takes_jupyterlab_dark_theme_colours(browser_page):
    """In JupyterLab (no cow.css) the views' colours come from JupyterLab's variables."""
    from cowlib.scenarios import SCENARIOS
    from cowlib.view.svg import Diagram

    dark = ":root{--jp-layout-color0:#111111;--jp-content-font-color1:#eeeeee}"
    html = Diagram(SCENARIOS["S2"].run("linux-5.7").trace, 7).html()
    page = browser_page.page
    page.set_content(f"<!doctype html><style>{dark}</style>{html}")
    colours = page.evaluate(
        """() => [getComputedStyle(document.querySelector(".cow-svg .bg")).fill,
                  getComputedStyle(document.querySelector(".cow-svg text")).fill]"""
    )
    assert colours == ["rgb(17, 17, 17)", "rgb(238, 238, 238)"]
