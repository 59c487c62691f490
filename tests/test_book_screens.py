"""Every page of the built book on a phone (390x844) and a desktop (1280x900), light and dark.

On each screen: the page is no wider than the viewport (nothing scrolls sideways), no
player's content is wider than the player, the legends are at least 11 px and a chart's
text on a phone too; axe-core (bundled by axe-playwright-python) finds no serious or
critical violation in either theme. The theme is switched as a reader's system does it,
through prefers-color-scheme (the book's theme mode is "auto"), and the test checks that
the theme followed. Then: the search box shows the whole query, on the search page and
in the Ctrl+K dialog; the keyboard steps a player.

To stay fast, the four screens (phone and desktop, light and dark) are four browser pages
kept for the whole module, and axe runs on all four at once: each page has its own
renderer process, so the audits share the machine's cores.
"""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from booktoc import HTML
from cowlib.view.plots import MIN_FONT

HOST = "127.0.0.1"  # the only host a page may reach (the local server, as in conftest)
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
MODES = ("light", "dark")
READABLE_PX = 11
AXE_SCRIPT = Axe().axe_script


def every_page() -> list[str]:
    """Every page a reader can open: the chapters and Sphinx's index, search and module pages."""
    pages = (path.relative_to(HTML) for path in HTML.rglob("*.html"))
    return sorted(p.as_posix() for p in pages if not p.parts[0].startswith("_"))


class Screen:
    """One browser page of a given size, kept for the whole module, offline, recording errors."""

    def __init__(self, browser: Browser, size: tuple[int, int], mode: str) -> None:
        self.mode = mode
        self.context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, color_scheme=mode
        )
        self.page: Page = self.context.new_page()
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message: ConsoleMessage) -> None:
        # headless Chromium asks for /favicon.ico, which the book does not have
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            self.errors.append(f"{message.text} ({message.location['url']})")

    def _only_local(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == HOST:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, url: str) -> None:
        """Load url and wait until the theme shows this screen's mode (the reader's
        prefers-color-scheme) and no colour transition is still running."""
        self.blocked.clear()
        self.errors.clear()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(
            """mode => document.documentElement.dataset.theme === mode
                && !document.getAnimations().some(
                    a => a instanceof CSSTransition && a.playState === "running")""",
            arg=self.mode,
        )

    def start_axe(self) -> None:
        """Start axe and return at once (it runs after this task), so that the other
        screen's axe can run at the same time."""
        if not self.page.evaluate("() => 'axe' in window"):
            self.page.evaluate(AXE_SCRIPT)
        self.page.evaluate(
            """() => { window.__cowAxe = null; setTimeout(() => {
                // preload: false, or axe fetches theme.css's @import against the wrong base
                window.__cowAxe = axe.run(document, {resultTypes: ["violations"], preload: false})
                .then(r => r.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3)
                        .map(n => n.target.join(" ") + " " + n.failureSummary).join(" | ")));
            }); }"""
        )

    def axe_violations(self) -> list[str]:
        self.page.wait_for_function("() => window.__cowAxe !== null")
        return self.page.evaluate("() => window.__cowAxe")


@pytest.fixture(scope="module")
def screens(browser: Browser) -> Iterator[dict[str, Screen]]:
    """ "phone, light", "phone, dark", "desktop, light", "desktop, dark"."""
    opened = {
        f"{size}, {mode}": Screen(browser, SIZES[size], mode) for size in SIZES for mode in MODES
    }
    yield opened
    for screen in opened.values():
        screen.context.close()


LAYOUT = """() => {
    const de = document.documentElement, out = [];
    if (de.scrollWidth > de.clientWidth)
        out.push(`the page is ${de.scrollWidth - de.clientWidth} px wider than the viewport`);
    for (const player of document.querySelectorAll(".cow-player")) {
        const box = player.getBoundingClientRect();
        let widest = player.scrollWidth - player.clientWidth;
        for (const el of player.querySelectorAll("*")) {
            const r = el.getBoundingClientRect();
            if (r.width > 0) widest = Math.max(widest, r.right - box.right, box.left - r.left);
        }
        if (widest > 1) out.push(`${player.id}: content ${Math.round(widest)} px wider`);
    }
    for (const item of document.querySelectorAll(".cow-legend li")) {
        const px = parseFloat(getComputedStyle(item).fontSize);
        if (item.getClientRects().length && px < 11) out.push(`legend text ${px} px`);
    }
    return out;
}"""

CHART_SCALES = """() => [...document.querySelectorAll(".cow-chart svg")]
    .filter(svg => svg.getClientRects().length)
    .map(svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)"""


@pytest.mark.parametrize("name", every_page())
def test_page_fits_every_screen_and_passes_axe_light_and_dark(
    name: str, http_server: str, screens: dict[str, Screen]
):
    problems = []
    for screen in screens.values():
        screen.open(f"{http_server}/{name}")
        screen.start_axe()
    for where, screen in screens.items():
        problems += [f"{where}: {p}" for p in screen.page.evaluate(LAYOUT)]
    for scale in screens["phone, light"].page.evaluate(CHART_SCALES):
        # the SVG's units are points: its smallest text, in CSS px as shown
        if MIN_FONT["narrow"] * scale < READABLE_PX:
            problems.append(f"phone: chart text {MIN_FONT['narrow'] * scale:.1f} px")
    for where, screen in screens.items():
        problems += [f"{where}: axe: {v}" for v in screen.axe_violations()]
        problems += [f"{where}: request to another host: {url}" for url in screen.blocked]
        problems += [f"{where}: JavaScript error: {e}" for e in screen.errors]
    assert not problems


def test_every_chapter_is_checked(built_book: Path):
    checked = every_page()
    assert "book/rule1.html" in checked and "search.html" in checked and len(checked) > 10


def search_box_problem(page: Page, form: str) -> str | None:
    """Where the query's text starts in the box, and where its magnifier icon ends."""
    return page.evaluate(
        """form => {
            const f = document.querySelector(form), input = f.querySelector("input"),
                icon = f.querySelector(".fa-magnifying-glass");
            const s = getComputedStyle(input), box = input.getBoundingClientRect(),
                text = box.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft),
                i = icon.getBoundingClientRect();
            if (!box.width || !i.width) return "search box or icon not shown";
            return i.right <= text + 0.5 || i.left >= box.right ? null
                : `icon ends at ${i.right.toFixed(1)}, text starts at ${text.toFixed(1)}`;
        }""",
        form,
    )


@pytest.mark.parametrize("where", ["phone, light", "desktop, dark"])
def test_search_query_is_not_under_the_icon(where: str, http_server: str, screens):
    screen = screens[where]
    screen.open(f"{http_server}/search.html?q=page_count")
    page = screen.page
    expect(page.locator(".bd-search-container input")).to_have_value("page_count")
    assert search_box_problem(page, ".bd-search-container form.bd-search") is None
    screen.open(f"{http_server}/book/rule1.html")
    page.keyboard.press("Control+k")
    dialog = page.locator("#pst-search-dialog input")
    expect(dialog).to_be_focused()
    page.keyboard.type("page_count")
    assert search_box_problem(page, "#pst-search-dialog form.bd-search") is None
    assert not screen.errors


def test_keys_step_a_player_in_the_book(http_server: str, screens):
    screen = screens["desktop, light"]
    screen.open(f"{http_server}/book/rule1.html")
    player = screen.page.locator(".cow-player").first
    frame = player.locator(".cow-frame")
    last = player.locator("input.cow-slider").get_attribute("max")
    player.focus()
    for key, step in (
        ("ArrowRight", "1"),
        ("ArrowRight", "2"),
        ("ArrowLeft", "1"),
        ("End", last),
        ("Home", "0"),
    ):
        screen.page.keyboard.press(key)
        expect(frame).to_have_attribute("data-step", step)
    outline = player.evaluate("p => getComputedStyle(p).outlineStyle")
    assert outline != "none", "the focused player shows no focus ring"
    assert not screen.errors


@pytest.mark.parametrize("where", ["phone, light", "desktop, dark"])
def test_version_map_opens_at_the_newest_kernel_with_a_cue_when_it_scrolls(
    where: str, http_server: str, screens
):
    screen = screens[where]
    screen.open(f"{http_server}/book/versions.html")
    box = screen.page.locator("#presets-and-their-switches .pst-scrollable-table-container")
    seen = box.evaluate(
        """box => {
            const view = box.getBoundingClientRect(), heads = [...box.querySelectorAll("th")];
            const shown = th => { const r = th.getBoundingClientRect();
                return r.left >= view.left - 1 && r.right <= view.right + 1; };
            return {first: shown(heads[0]), last: heads.at(-1).textContent.trim(),
                lastShown: shown(heads.at(-1)), scrolls: box.scrollWidth > box.clientWidth,
                cue: parseFloat(getComputedStyle(box, "::before").height)};
        }"""
    )
    assert seen["last"] == "6.x" and seen["lastShown"], "the newest kernel is not in view"
    assert seen["first"], "the row names are not in view"
    if seen["scrolls"]:
        assert seen["cue"] > 0, "the table scrolls but shows no cue"
