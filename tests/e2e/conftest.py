"""The browser tests: the built web app (``make test`` builds ui/dist first) on the Serve
deployment, driven by Playwright in the system Chromium (browsers cannot be downloaded here).

Each main page is checked with axe-core (no serious or critical violation) and saved as a
screenshot at desktop and phone width under ``ui/test-results/screenshots/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from scraping.browser import DEFAULT_CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "ui" / "dist" / "index.html"
AXE = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "ui" / "test-results" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 780}
# Bound on any one wait for the page (a real service on a loaded 2-core machine).
WAIT_MS = 30_000
PASSWORD = "correct-horse-battery"

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def web_app_built() -> Path:
    assert BUILD.exists(), "the web app is not built: run `make test` (it runs the Vite build)"
    assert AXE.exists(), "ui/node_modules is missing: run `make test` (it runs npm ci)"
    return BUILD


@pytest.fixture(scope="session")
async def browser(web_app_built: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=DEFAULT_CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser, served_url: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=served_url, viewport=DESKTOP)  # type: ignore[arg-type]
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield tab
    assert not problems, "the page reported: " + "; ".join(problems)


async def sign_up(page: Page, email: str, *, workspace: str, name: str = "Mia") -> None:
    """Register through the sign-up page and land on the dashboard."""
    await page.goto("/signup")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Workspace name").fill(workspace)
    await page.get_by_role("button", name=re.compile("sign up|create account", re.I)).click()
    await expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


async def sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name=re.compile("^(sign|log) in$", re.I)).click()
    await expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (run through the
    DevTools protocol, which the app's CSP does not govern)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({"
        "id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target)})))"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def check_page(page: Page, name: str) -> None:
    """No serious accessibility violation, at desktop and at phone width; a screenshot of each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)  # type: ignore[arg-type]
        await page.wait_for_load_state("networkidle")
        violations = await serious_violations(page)
        assert not violations, f"{name} ({label}): " + json.dumps(violations, indent=1)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
