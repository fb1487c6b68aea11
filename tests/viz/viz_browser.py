"""A real headless Chromium (Debian's package) driven by Playwright, for the report and dashboard.

Every request the page makes is recorded; any that would leave the machine (not
``file:``, ``data:``, ``blob:`` or loopback) is aborted and reported by the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from viz_support import chromium

LOCAL_SCHEMES = {"file", "data", "blob", "about"}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class Page:
    """A page and what it did: console errors, page errors, requests that left the machine."""

    page: Any
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _local(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOOPBACK


@contextmanager
def open_page(url: str | None = None) -> Iterator[Page]:
    """A new headless Chromium page (skips the test only when Debian's chromium is absent)."""
    binary = chromium()
    if binary is None:
        pytest.skip(
            "Debian's chromium is not installed here; .ci/run installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            context = browser.new_context()
            result = Page(context.new_page())

            def route(r: Any) -> None:
                result.requests.append(r.request.url)
                if _local(r.request.url):
                    r.continue_()
                else:
                    result.outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            result.page.on(
                "console", lambda m: result.errors.append(m.text) if m.type == "error" else None
            )
            result.page.on("pageerror", lambda e: result.errors.append(str(e)))
            if url is not None:
                result.page.goto(url)
            yield result
        finally:
            browser.close()


def rendered_plots(page: Any) -> int:
    """How many plotly figures drew an SVG with at least one trace."""
    return int(
        page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".filter(d => d.querySelector('.main-svg') && d.data && d.data.length > 0).length"
        )
    )
