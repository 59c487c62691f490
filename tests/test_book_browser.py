"""The built book in headless Chromium: offline, free of JavaScript errors, players step.

A player is the self-contained HTML/JS stepper that chapters embed for each scenario.
These tests hold every element matching .cow-player to this contract:

    button.cow-prev, button.cow-next, button.cow-play
    input[type=range].cow-slider    one position per step of the trace
    select.cow-preset               one option per kernel preset (at least two)
    .cow-frame[data-step]           exactly one; shows the current step: data-step and
                                    content change with every step and with the preset
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from booktoc import HTML, toc_docnames

SPECIAL_PAGES = {"index.html", "genindex.html", "search.html", "py-modindex.html"}


def built_pages() -> list[str]:
    """Chapter pages in _build/html, relative to it (empty when the book is not built)."""
    pages = (path.relative_to(HTML) for path in HTML.rglob("*.html"))
    return sorted(
        page.as_posix()
        for page in pages
        if not page.parts[0].startswith("_") and page.as_posix() not in SPECIAL_PAGES
    )


def test_built_pages_are_the_toc(built_book: Path):
    assert built_pages() == sorted(f"{name}.html" for name in toc_docnames())


class _ExternalAssets(HTMLParser):
    """Collects script, style, image and frame addresses that point at another host."""

    ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        url = dict(attrs).get(self.ATTRS.get(tag, ""))
        if url and url.startswith(("http:", "https:", "//")):
            if tag != "link" or "canonical" not in (dict(attrs).get("rel") or ""):
                self.found.append(f"<{tag}> {url}")


def test_no_external_assets_in_html(built_book: Path):
    found = {}
    for path in built_book.rglob("*.html"):
        parser = _ExternalAssets()
        parser.feed(path.read_text(encoding="utf-8"))
        if parser.found:
            found[path.relative_to(built_book).as_posix()] = parser.found
    assert not found


def frame_state(player: Locator) -> tuple[str, str]:
    frame = player.locator(".cow-frame")
    expect(frame).to_be_visible()
    return frame.get_attribute("data-step"), frame.inner_html()


def slide_to(player: Locator, end: str) -> None:
    """Move the slider to its "min" or "max" as a user would, firing input and change."""
    player.locator("input[type=range].cow-slider").evaluate(
        """(slider, end) => {
            slider.value = end === "min" ? (slider.min || "0") : (slider.max || "100");
            slider.dispatchEvent(new Event("input", {bubbles: true}));
            slider.dispatchEvent(new Event("change", {bubbles: true}));
        }""",
        end,
    )


def check_player(player: Locator) -> None:
    slide_to(player, "min")
    first = frame_state(player)

    player.locator("button.cow-next").click()
    second = frame_state(player)
    assert second[0] != first[0] and second[1] != first[1], "Next did not change the frame"
    player.locator("button.cow-prev").click()
    assert frame_state(player) == first, "Prev did not go back to the first frame"

    slide_to(player, "max")
    last = frame_state(player)
    assert last[0] != first[0] and last[1] != first[1], "the slider did not change the frame"

    preset = player.locator("select.cow-preset")
    chosen = preset.input_value()
    others = preset.locator("option").evaluate_all("options => options.map(o => o.value)")
    others.remove(chosen)
    assert others, "the preset selector offers a single preset"
    changed = []
    for value in others:
        preset.select_option(value)
        changed.append(frame_state(player) != last)
        preset.select_option(chosen)
    assert any(changed), "no other preset changed the last frame"

    slide_to(player, "min")
    player.locator("button.cow-play").click()
    frame = player.locator(".cow-frame")
    expect(frame, "Play did not advance the step").not_to_have_attribute("data-step", first[0])


@pytest.mark.parametrize("page", built_pages())
def test_page_works_offline(page: str, http_server: str, browser_page):
    browser_page.page.goto(f"{http_server}/{page}", wait_until="networkidle")
    players = browser_page.page.locator(".cow-player")
    for index in range(players.count()):
        check_player(players.nth(index))
    assert not browser_page.blocked, "requests to other hosts"
    assert not browser_page.errors, "JavaScript errors"


def test_search_finds_page_count(http_server: str, browser_page):
    browser_page.page.goto(f"{http_server}/search.html?q=page_count", wait_until="networkidle")
    expect(browser_page.page.locator("#search-results ul.search li").first).to_be_visible()
    assert not browser_page.blocked, "requests to other hosts"
    assert not browser_page.errors, "JavaScript errors"
