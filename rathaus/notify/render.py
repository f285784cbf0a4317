"""Message texts from Jinja templates (rathaus/templates/notify/<kind>.txt and .html), in the recipient's language."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
from babel.dates import format_date

from rathaus import i18n, templating
from rathaus.i18n import N_

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


def render(kind: str, language: str, context: dict[str, Any]) -> Rendered:
    """Subject, plain text, HTML and SMS text of one message kind in `language`."""
    env = templating.environment()
    with i18n.speaking(language):
        text_template = env.get_template(f"notify/{kind}.txt")
        ctx = text_template.new_context(dict(context))

        def block(name: str) -> str:
            return "".join(text_template.blocks[name](ctx)).strip()

        html = env.get_template(f"notify/{kind}.html").render(context)
        return Rendered(
            subject=" ".join(block("subject").split()),
            text=block("body") + "\n",
            html=html,
            sms=" ".join(block("sms").split()),
        )


def sms_units(text: str) -> tuple[str, int]:
    """("gsm7", septets) if the text fits the GSM-7 alphabet, else ("ucs2", characters)."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        return "gsm7", sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    return "ucs2", len(text)


# Translators: the date of an appointment as a CLDR pattern (EEE weekday, d day, M/MMM month, y year),
# e.g. "Mon 29 Mar 2027"; see https://cldr.unicode.org/translation/date-time/date-time-patterns
_DATE_PATTERN = N_("EEE d MMM y")
# Translators: an appointment's date and time of day, e.g. "Mon 29 Mar 2027, 10:00".
_DATE_AND_TIME = N_("{date}, {time}")


def when(instant: datetime, tz: ZoneInfo, language: str) -> str:
    """An appointment time as people read it, in the office's time zone."""
    local = instant.astimezone(tz)
    language = i18n.choose(language)
    pattern = i18n.translations(language).gettext(_DATE_PATTERN)
    day = format_date(local.date(), pattern, locale=i18n.babel_locale(language))
    return i18n.translate(language, _DATE_AND_TIME, date=day, time=f"{local:%H:%M}")


def qr_png(data: str, *, scale: int = 6, border: int = 4) -> bytes:
    """A QR code of `data` as a black-and-white PNG (no imaging library needed)."""
    # A fixed mask: choosing the best of eight costs most of the time and readers decode every mask.
    code = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    dark, light = b"\x00" * scale, b"\xff" * scale
    rows = []
    for row in matrix:
        line = b"\x00" + b"".join(dark if module else light for module in row)
        rows.extend([line] * scale)
    size = len(matrix) * scale

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + chunk(b"IEND", b"")
    )
