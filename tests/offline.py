"""Headless Chromium that may only reach 127.0.0.1, and a local server for a folder.

Used by the browser fixtures in conftest.py, by tests that need a page of their own for a
whole module, and by benchmarks/bench_runner.py.
"""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Route

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


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Base URL of directory, served from a thread on a free port of 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=directory)
    with ThreadingHTTPServer((HOST, 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://{HOST}:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()


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
