"""Static files under fingerprinted names: our own CSS, and front-end packages that the install step takes from npm.

A file's URL carries a hash of its content, so browsers may keep it for a year and still never see a stale one.
The npm packages are never copied into the repository: `make` runs `npm ci`, and this module reads them from
`node_modules` next to the package. Without them the pages still work, unstyled
by KERN; a warning says so once.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

log = logging.getLogger("rathaus.assets")

PACKAGE = Path(__file__).resolve().parent
NODE_MODULES = PACKAGE.parent / "node_modules"
# logical name -> where the file comes from
SOURCES = {
    "kern.css": NODE_MODULES / "@kern-ux" / "native" / "dist" / "kern.min.css",
    "rathaus.css": PACKAGE / "static" / "rathaus.css",
    "office-wait.js": PACKAGE / "static" / "office-wait.js",
    "device.js": PACKAGE / "static" / "device.js",
    "board.css": PACKAGE / "static" / "board.css",
    "board.js": PACKAGE / "static" / "board.js",
    "figures.css": PACKAGE / "static" / "figures.css",
    "staff.css": PACKAGE / "static" / "staff.css",
    "queue-ticket.js": PACKAGE / "static" / "queue-ticket.js",
    "queue-ticket.css": PACKAGE / "static" / "queue-ticket.css",
    "admin.css": PACKAGE / "static" / "admin.css",
    "desk.js": PACKAGE / "static" / "desk.js",
    "counter.js": PACKAGE / "static" / "counter.js",
    "html5-qrcode.js": NODE_MODULES / "html5-qrcode" / "html5-qrcode.min.js",
    # The proof-of-work widget in its build for a strict CSP (styles and workers as files of their own; its UMD
    # variant would still insert a <style> element), its German texts (English is built in), the worker that solves
    # SHA-256 challenges, and our line that registers it.
    "altcha.js": NODE_MODULES / "altcha" / "dist" / "external" / "altcha.min.js",
    "altcha.css": NODE_MODULES / "altcha" / "dist" / "external" / "altcha.css",
    "altcha-de.js": NODE_MODULES / "altcha" / "dist" / "i18n" / "de.umd.cjs",
    "altcha-sha.js": NODE_MODULES / "altcha" / "dist" / "workers" / "sha.js",
    "altcha-setup.js": PACKAGE / "static" / "altcha-setup.js",
}
PREFIX = "/static/"
_YEAR = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    body: bytes
    media_type: str


@cache
def manifest() -> dict[str, Asset]:
    """Every asset that exists, by logical name, read once."""
    found: dict[str, Asset] = {}
    for name, path in SOURCES.items():
        if not path.is_file():
            log.warning("static file %s is missing (run `make` or `npm ci`); pages go without it", name)
            continue
        body = path.read_bytes()
        stem, _, suffix = name.rpartition(".")
        digest = hashlib.sha256(body).hexdigest()[:12]
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        found[name] = Asset(f"{PREFIX}{stem}.{digest}.{suffix}", body, media_type)
    return found


def asset_url(name: str) -> str | None:
    """The fingerprinted URL of an asset, or None when it is missing."""
    asset = manifest().get(name)
    return None if asset is None else asset.url


@cache
def _by_url() -> dict[str, Asset]:
    return {asset.url.removeprefix(PREFIX): asset for asset in manifest().values()}


@get(f"{PREFIX}{{name:str}}", include_in_schema=False, sync_to_thread=False)
def static_file(name: FromPath[str]) -> Response[bytes]:
    """A fingerprinted static file, cacheable for a year."""
    asset = _by_url().get(name)
    if asset is None:
        raise NotFoundException()
    return Response(asset.body, media_type=asset.media_type, headers={"Cache-Control": _YEAR})
