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
