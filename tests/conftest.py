"""Fixtures for the browser tests: the built book, a local server, an offline Chromium page."""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from booktoc import HTML

HOST = "127.0.0.1"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def built_book() -> Path:
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book in {HTML}: run make book first", pytrace=False)
    return HTML


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def http_server(built_book: Path) -> Iterator[str]:
    """Base URL of the built book, served from a thread on a free port."""
    handler = functools.partial(_QuietHandler, directory=built_book)
    with ThreadingHTTPServer((HOST, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://{HOST}:{server.server_port}"
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: make setup installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class BrowserPage:
    page: Page
    blocked: list[str] = field(default_factory=list)  # requests to other hosts, aborted
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every request, workers' included


@contextmanager
def recording_page(browser: Browser) -> Iterator[BrowserPage]:
    """A page in a new context that may only reach 127.0.0.1 (or file://) and records
    every request and what went wrong."""
    context = browser.new_context()
    recorded = BrowserPage(context.new_page())

    def only_local(route: Route) -> None:
        recorded.requests.append(route.request.url)
        url = urlsplit(route.request.url)
        if url.hostname == HOST or url.scheme == "file":  # a file:// page reads this disk
            route.continue_()
        else:
            recorded.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    recorded.page.on(
        "console",
        lambda msg: msg.type == "error" and recorded.errors.append(f"console: {msg.text}"),
    )
    recorded.page.on("pageerror", lambda exc: recorded.errors.append(f"pageerror: {exc}"))
    try:
        yield recorded
    finally:
        context.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[BrowserPage]:
    """A fresh page that may only reach 127.0.0.1 and records what went wrong."""
    with recording_page(browser) as recorded:
        yield recorded
