"""A bare Litestar hello-world: the framework's own floor, beside which the app's /health is measured.

uvicorn bench.hello:app    (started by the page benchmark like the app, same uvicorn options)
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/health")
async def health() -> dict[str, str]:
    """The same answer as the app's /health, without the app's middleware, hooks and plugins."""
    return {"status": "ok"}


app = Litestar([health])
