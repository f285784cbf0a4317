"""Page weight in Chromium (issue 10): bytes transferred for a first and a repeat visit of the booking start.

    .venv/bin/python -m bench.page_weight [--output FILE]

The real app under uvicorn on the demo data; Debian's Chromium through Playwright counts, per page load, every
response's encodedDataLength from the DevTools protocol (Network.loadingFinished: headers and the body as sent,
compressed). A first visit starts with an empty cache; the repeat visit loads the same page again in the same
browser profile, as a citizen coming back does. Goals: first visit <= 150 kB, repeat visit <= 20 kB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.booking_bench import servers_running
from bench.feed_bench import DEMO, prepare
from tests.browser import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
# The pages a citizen starts booking on: the home page and the booking path's first step.
PAGES = ("/", "/book")
GOALS = {"first": 150_000, "repeat": 20_000}


@dataclass
class Load:
    """The responses of one page load: URL -> (bytes transferred, status, served from the browser's cache)."""

    responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def transferred(self) -> int:
        return sum(r["bytes"] for r in self.responses.values())


async def visit(page: Any, cdp: Any, url: str) -> Load:
    """Load `url` and count what came over the network for it."""
    load = Load()
    urls: dict[str, str] = {}

    def response(event: dict[str, Any]) -> None:
        answer = event["response"]
        urls[event["requestId"]] = answer["url"]
        load.responses[answer["url"]] = {
            "bytes": 0,
            "status": answer["status"],
            "from_cache": answer.get("fromDiskCache", False) or answer.get("fromMemoryCache", False),
            "encoding": {k.lower(): v for k, v in answer.get("headers", {}).items()}.get("content-encoding", ""),
        }

    def finished(event: dict[str, Any]) -> None:
        found = urls.get(event["requestId"])
        if found is not None:
            load.responses[found]["bytes"] = int(event["encodedDataLength"])

    cdp.on("Network.responseReceived", response)
    cdp.on("Network.loadingFinished", finished)
    try:
        await page.goto(url, wait_until="networkidle")
    finally:
        cdp.remove_listener("Network.responseReceived", response)
        cdp.remove_listener("Network.loadingFinished", finished)
    return load


async def measure(base: str, chromium: str) -> dict[str, Any]:
    """First and repeat visit of each start page, each first visit in a fresh browser profile."""
    from playwright.async_api import async_playwright

    results: dict[str, Any] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for path in PAGES:
                context = await browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
                page = await context.new_page()
                cdp = await context.new_cdp_session(page)
                await cdp.send("Network.enable")
                first = await visit(page, cdp, base + path)
                repeat = await visit(page, cdp, base + path)
                results[path] = {
                    "first": {"bytes": first.transferred, "responses": first.responses},
                    "repeat": {"bytes": repeat.transferred, "responses": repeat.responses},
                }
                await context.close()
        finally:
            await browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Chromium is needed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        url = f"sqlite+aiosqlite:///{tmp / 'weight.db'}"
        asyncio.run(prepare(url, DEMO))
        with servers_running([("weight", url, True)], tmp) as servers:
            results = asyncio.run(measure(servers["weight"].url, chromium))
    met = True
    for path, visits in results.items():
        for kind in ("first", "repeat"):
            size, goal = visits[kind]["bytes"], GOALS[kind]
            met &= size <= goal
            print(f"{path:<6} {kind:<7} {size / 1000:>7.1f} kB (goal <= {goal / 1000:.0f} kB)")
            for name, r in visits[kind]["responses"].items():
                where = "cache" if r["from_cache"] else r["encoding"] or "identity"
                print(f"         {r['bytes'] / 1000:>7.1f} kB  {r['status']}  {where:<8} {name.split('/', 3)[-1]}")
    output = args.output or (ROOT / "bench" / "results" / "page_weight.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"goals": GOALS, "pages": results, "met": met}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
