"""The ``studio`` fixture: a live ``headwater serve`` plus a logged-in Playwright page on Chromium.

``studio.page`` (a Playwright ``Page``, logged in with an admin token's session cookie),
``studio.server`` (the :class:`~tests.server.conftest.LiveServer`: ``.url``, ``.ws``, ``.token(scope)``,
``.headers(scope)``), ``studio.ws``, ``studio.url(path)`` (absolute URL of a studio path),
``studio.goto(path)`` (open it; returns the response), ``studio.new_page(scope)`` (another page,
logged in with a token of ``scope``, or not at all with ``scope=None``; closed at teardown) and
``studio.screenshot(name)`` (with ``HEADWATER_SCREENSHOTS=1``, writes ``docs/images/studio-{name}.png``).
``demo_project``: a project folder (the current directory) with the sources of
:mod:`tests.studio.pipelines` and a ledger (``HW_TEST_LEDGER``).

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$HEADWATER_CHROMIUM``), one per test
session, with a fresh context per page; tests using it are marked slow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import LiveServer, live_server, wait_until  # noqa: F401  (fixtures shared with server)

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "Studio", "wait_until"]

CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, for the whole test session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-test-services.sh (or set HEADWATER_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Studio:
    """A live server and browser pages logged in to its studio."""

    def __init__(self, server: LiveServer, browser: Any) -> None:
        self.server = server
        self.ws = server.ws
        self._browser = browser
        self._contexts: list[Any] = []
        self.page = self.new_page("admin")

    def url(self, path: str = "/studio/") -> str:
        """The absolute URL of a studio path."""
        return self.server.url.rstrip("/") + path

    def new_page(self, scope: str | None = "read", width: int = 1280, height: int = 800) -> Any:
        """A page in a fresh browser context, logged in with a token of ``scope`` (None: not logged in)."""
        from urllib.parse import urlencode

        context = self._browser.new_context(viewport={"width": width, "height": height})
        self._contexts.append(context)
        context.set_default_timeout(30_000)
        page = context.new_page()
        if scope is not None:
            query = urlencode({"token": self.server.token(scope), "next": "/studio/"})
            page.goto(self.url(f"/studio/login?{query}"))
        return page

    def goto(self, path: str) -> Any:
        """Open a studio path in :attr:`page`; returns Playwright's response."""
        return self.page.goto(self.url(path))

    def screenshot(self, name: str, page: Any = None, full_page: bool = True) -> Path | None:
        """With ``HEADWATER_SCREENSHOTS=1``, save the page as ``docs/images/studio-{name}.png``."""
        if os.environ.get("HEADWATER_SCREENSHOTS") != "1":
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"studio-{name}.png"
        (page or self.page).screenshot(path=str(target), full_page=full_page)
        return target

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()


@pytest.fixture
def demo_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sources of :mod:`tests.studio.pipelines` in the current directory, and the ledger."""
    from tests.studio.pipelines import make_sources

    root = make_sources(tmp_path / "project")
    ledger = tmp_path / "ledger.txt"
    ledger.write_text("")
    monkeypatch.setenv("HW_TEST_LEDGER", str(ledger))
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def studio(live_server: LiveServer, chromium: Any) -> Iterator[Studio]:  # noqa: F811
    """A live server and a Chromium page logged in to its studio (see the module's docstring)."""
    session = Studio(live_server, chromium)
    try:
        yield session
    finally:
        session.close()
