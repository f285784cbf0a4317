"""Chromium through Playwright and axe-core accessibility checks, shared by the page tests."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from rathaus.clock import ManualClock
from tests.conftest import skip_or_fail

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Every rule of these tags runs; only violations carry all their elements (passes name one each, enough to see
# that rules ran): collecting every passing element took half of axe's time per page.
WCAG_AA = (
    "{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},"
    " resultTypes: ['violations']}"
)


def chromium_or_skip() -> str:
    """The Chromium executable, after checking that axe-core is installed too (else skip, or fail in CI)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        skip_or_fail("BROWSER", "Chromium is needed (apt-get install chromium)")
    if not AXE.exists():
        skip_or_fail("BROWSER", "node_modules/axe-core is needed (npm ci)")
    return str(chromium)


@cache
def _axe_source() -> str:
    return AXE.read_text()


async def axe_violations(page: Any) -> list[tuple[str, list[Any]]]:
    """WCAG 2.2 A/AA violations on the page as (rule, targets); fails if axe ran no check at all."""
    # Evaluated rather than added as a <script>: pages forbid inline scripts, and a test must not lift that.
    await page.evaluate(_axe_source())
    result = await page.evaluate(f"() => axe.run(document, {WCAG_AA})")
    assert result["passes"], "axe ran no checks"
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]


@asynccontextmanager
async def chromium_browser(executable: str, *extra_args: str) -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (with `extra_args`, e.g. a fake camera), closed when the block ends."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            await browser.close()


async def app_context(browser: Any, clock: ManualClock, **options: Any) -> Any:
    """A browser context whose pages see the app's injected time. The proof-of-work widget times its challenge's
    expiry from the browser's clock: a test clock weeks from the real one would have it expire at once (a delay
    past 2**31 ms overflows setTimeout) and show "expired". In production the two clocks agree."""
    context = await browser.new_context(**options)
    await context.clock.set_fixed_time(clock.now())
    return context


SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


async def check_pages(
    browser: Any,
    base_url: str,
    pages: Mapping[str, str],
    *,
    first: Callable[[Any], Awaitable[None]] | None = None,
) -> dict[str, object]:
    """Each page in German and English on a phone and a desktop: the page's language, nothing scrolling sideways
    (WCAG 1.4.10 reflow), a screenshot in test-artifacts/screenshots for people to look at; returns the axe
    findings by page, language and size. `first(page)` runs in each new browser context (e.g. to sign in)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, object] = {}
    for language in ("de", "en"):
        for size, (width, height) in SIZES.items():
            context = await browser.new_context(
                viewport={"width": width, "height": height}, locale=language, bypass_csp=True
            )
            page = await context.new_page()
            if first is not None:
                await first(page)
            for name, path in pages.items():
                await page.goto(f"{base_url}{path}")
                assert await page.locator("html").get_attribute("lang") == language
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, size)
                await page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}-{size}.png"), full_page=True)
                violations = await axe_violations(page)
                if violations:
                    found[f"{name} {language} {size}"] = violations
            await context.close()
    return found
