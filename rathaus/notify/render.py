"""Message texts from Jinja templates (rathaus/templates/notify/<lang>/<kind>.txt and .html), per language."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notify"
# GSM 03.38 basic character set: an SMS of these characters holds 160 of them (else 70 UCS-2 characters).
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


@cache
def environment() -> Environment:
    """The notification template environment: HTML autoescaped, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    """Subject, plain text, HTML and SMS text of one message kind in `language` (de or en)."""
    env = environment()
    lang = "en" if language == "en" else "de"
    text_template = env.get_template(f"{lang}/{kind}.txt")
    ctx = text_template.new_context(dict(context))

    def block(name: str) -> str:
        return "".join(text_template.blocks[name](ctx)).strip()

    html = env.get_template(f"{lang}/{kind}.html").render(context)
    sms = " ".join(block("sms").split())
    return Rendered(subject=" ".join(block("subject").split()), text=block("body") + "\n", html=html, sms=sms)


def sms_units(text: str) -> tuple[str, int]:
    """("gsm7", septets) if the text fits the GSM-7 alphabet, else ("ucs2", characters)."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        return "gsm7", sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    return "ucs2", len(text)


def when(instant: datetime, tz: ZoneInfo, language: str) -> str:
    """An appointment time as people read it, in the office's time zone."""
    local = instant.astimezone(tz)
    if language == "en":
        return f"{format_date(local.date(), 'EEE d MMM y', locale='en_GB')}, {local:%H:%M}"
    return f"{format_date(local.date(), 'EEE, d.M.y', locale='de_DE')}, {local:%H:%M} Uhr"


def qr_png(data: str, *, scale: int = 6, border: int = 4) -> bytes:
    """A QR code of `data` as a black-and-white PNG (no imaging library needed)."""
    # A fixed mask: choosing the best of eight costs most of the time and readers decode every mask.
    code = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    rows = []
    for row in matrix:
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        rows.extend([b"\x00" + line] * scale)
    size = len(matrix) * scale

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
