"""Fixtures for the browser tests: the built book, a local server, an offline Chromium page."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from booktoc import HTML
from offline import CHROMIUM, CHROMIUM_ARGS, BrowserPage, recording_page, serve


@pytest.fixture(scope="session")
def built_book() -> Path:
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book in {HTML}: run make book first", pytrace=False)
    return HTML


@pytest.fixture(scope="session")
def http_server(built_book: Path) -> Iterator[str]:
    """Base URL of the built book, served from a thread on a free port."""
    with serve(built_book) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: make setup installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh page that may only reach 127.0.0.1 and records what went wrong."""
    with recording_page(browser) as recorded:
        yield recorded


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """How pytest-xdist (`make test` runs `-n auto`) shares the tests out: by file (a
    notebook's cells share one kernel, a module's fixtures are made once), with the lab's
    test files and its chapter as one unit, so that two of them never swap on, reserve
    huge pages or sweep the lab's state directories at the same time; and the screen
    tests one by one (each page on its own, the longest file by far)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFileLabTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            name = path.rsplit("/", 1)[-1]
            if name == "test_book_screens.py":
                return nodeid
            return "lab" if name.startswith("test_lab") or name == "lab.ipynb" else path

    return ByFileLabTogether(config, log)
