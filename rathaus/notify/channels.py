"""Delivery channels: SMTP e-mail (aiosmtplib), Twilio SMS, and a file channel for development.

A channel either returns what the provider said (`Sent`) or raises `SendFailure`, which says whether trying
again may help. Nothing here logs recipients or texts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol

import aiosmtplib
from aiohttp import ClientError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from rathaus.settings import Settings

log = logging.getLogger("rathaus.notify")

# Twilio error codes after which the same request can never succeed (https://www.twilio.com/docs/api/errors).
TWILIO_PERMANENT = frozenset({21211, 21408, 21610, 21612, 21614, 21635, 21606, 21659})
TWILIO_OPTED_OUT = 21610


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    outbox_id: int
    dedupe_key: str
    to: str
    subject: str
    text: str
    html: str
    ics: bytes | None = None
    ics_method: str = "REQUEST"
    qr_png: bytes | None = None
    qr_cid: str = ""


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    outbox_id: int
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class Sent:
    provider_id: str | None
    provider_status: str


class SendFailure(Exception):
    """A send that failed; `permanent` failures are not retried, `code` is the provider's error code."""

    def __init__(self, detail: str, *, permanent: bool, code: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code


class EmailChannel(Protocol):
    async def send(self, email: OutgoingEmail, *, now: datetime) -> Sent:
        """Send one e-mail."""
        ...


class SmsChannel(Protocol):
    async def send(self, sms: OutgoingSms, *, now: datetime) -> Sent:
        """Send one SMS."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


# --- e-mail --------------------------------------------------------------------------------------------


def sender_domain(settings: Settings) -> str:
    """The domain of Message-IDs and of the SMTP greeting (never looked up in DNS: getfqdn can stall)."""
    address = parseaddr(settings.smtp.mail_from)[1]
    return settings.smtp.domain or address.rpartition("@")[2] or "localhost"


def message_id(email: OutgoingEmail, domain: str) -> str:
    """The same Message-ID for every attempt at one outbox row, so receivers can drop a copy resent after a crash."""
    digest = hashlib.sha256(email.dedupe_key.encode()).hexdigest()[:16]
    return f"<rathaus.{email.outbox_id}.{digest}@{domain}>"


def build_email(email: OutgoingEmail, *, sender: str, domain: str, now: datetime) -> EmailMessage:
    """mixed[alternative[text, related[html, qr.png], text/calendar], termin.ics] as mail clients expect."""
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = sender
    msg["To"] = email.to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(email, domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    if email.qr_png is not None:
        html_part = msg.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(email.qr_png, maintype="image", subtype="png", cid=f"<{email.qr_cid}>", filename="qr.png")
    if email.ics is not None:
        msg.add_alternative(
            email.ics, maintype="text", subtype="calendar", params={"method": email.ics_method, "charset": "utf-8"}
        )
        msg.make_mixed()
        msg.add_attachment(email.ics, maintype="application", subtype="ics", filename="termin.ics")
    return msg


class SmtpChannel:
    """SMTP submission with STARTTLS (port 587) or implicit TLS (465); a new connection per message."""

    def __init__(self, settings: Settings) -> None:
        smtp = settings.smtp
        self.host = smtp.host
        self.use_tls = smtp.security == "tls"
        self.start_tls = smtp.security == "starttls"
        self.port = smtp.submission_port
        self.username = smtp.username or None
        self.password = smtp.password or None
        self.timeout = smtp.timeout
        self.sender = smtp.mail_from
        self.domain = sender_domain(settings)
        self.tls_context = ssl.create_default_context(cafile=smtp.cafile) if smtp.cafile else None

    async def send(self, email: OutgoingEmail, *, now: datetime) -> Sent:
        """Hand one message to the SMTP server; 5xx answers are permanent, everything else is retried."""
        msg = build_email(email, sender=self.sender, domain=self.domain, now=now)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                tls_context=self.tls_context,
                timeout=self.timeout,
                local_hostname=self.domain,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [e.code for e in error.recipients]
            permanent = bool(codes) and all(500 <= c < 600 for c in codes)
            raise SendFailure(f"recipient refused ({codes})", permanent=permanent, code=str(codes[0])) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            raise SendFailure(f"SMTP authentication failed ({error.code})", permanent=False) from None
        except aiosmtplib.SMTPResponseException as error:
            raise SendFailure(
                f"SMTP server answered {error.code}", permanent=500 <= error.code < 600, code=str(error.code)
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendFailure(f"SMTP unavailable: {type(error).__name__}", permanent=False) from None
        return Sent(msg["Message-ID"], "accepted")


# --- SMS -----------------------------------------------------------------------------------------------


class TwilioChannel:
    """SMS through the official twilio client on its aiohttp-based async HTTP client."""

    def __init__(self, settings: Settings) -> None:
        twilio = settings.twilio
        self.account_sid = twilio.account_sid
        self.auth_token = twilio.auth_token
        self.sender = twilio.sender
        self.messaging_service_sid = twilio.messaging_service_sid or None
        self.api_base = twilio.api_base or None
        self.timeout = twilio.timeout
        self.status_callback_base = settings.public_base_url.rstrip("/") + "/twilio/status"
        self._client: Any = None
        self._http: Any = None

    def _ensure_client(self) -> Any:
        # Created inside the running loop: the http client builds an aiohttp session.
        if self._client is None:
            self._http = _HeaderAuthHttpClient(timeout=self.timeout)
            self._client = Client(self.account_sid, self.auth_token, http_client=self._http)
            if self.api_base:
                self._client.api.base_url = self.api_base.rstrip("/")
        return self._client

    async def send(self, sms: OutgoingSms, *, now: datetime) -> Sent:
        """Create the message at Twilio; its status arrives later at /twilio/status?n=<outbox id>."""
        client = self._ensure_client()
        sender: dict[str, str] = (
            {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.sender}
        )
        try:
            # The library ignores its own timeout (twilio/twilio-python#925).
            message = await asyncio.wait_for(
                client.messages.create_async(
                    to=sms.to,
                    body=sms.body,
                    status_callback=f"{self.status_callback_base}?n={sms.outbox_id}",
                    **sender,
                ),
                self.timeout,
            )
        except TwilioRestException as error:
            code = int(error.code or 0)
            permanent = code in TWILIO_PERMANENT or (400 <= error.status < 500 and error.status not in {401, 429})
            raise SendFailure(f"Twilio {error.status} error {code}", permanent=permanent, code=str(code)) from None
        except (TimeoutError, ClientError, OSError) as error:
            raise SendFailure(f"Twilio unavailable: {type(error).__name__}", permanent=False) from None
        return Sent(str(message.sid), str(message.status or "queued"))

    async def close(self) -> None:
        """Close the aiohttp session."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None


class _HeaderAuthHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Sends the credentials as a header: aiohttp deprecates the BasicAuth object the library would pass."""

    async def request(self, method: str, url: str, *args: Any, auth: Any = None, **kwargs: Any) -> Any:
        """The library's request, with `auth` turned into an Authorization header."""
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, *args, **kwargs)


# --- development ---------------------------------------------------------------------------------------


class FileChannel:
    """Writes each message as a file (e-mail as .eml, SMS as .json) for development; nothing leaves the machine."""

    def __init__(self, settings: Settings) -> None:
        self.directory = settings.notify.dir
        self.domain = sender_domain(settings)
        self.sender = settings.smtp.mail_from

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.directory / name)

    async def send(self, message: OutgoingEmail | OutgoingSms, *, now: datetime) -> Sent:
        """Write the message; the file name carries the outbox id, so a resend overwrites its first copy."""
        if isinstance(message, OutgoingEmail):
            msg = build_email(message, sender=self.sender, domain=self.domain, now=now)
            await asyncio.to_thread(self._write, f"{message.outbox_id}.eml", bytes(msg))
        else:
            body = json.dumps({"to": message.to, "body": message.body, "at": now.isoformat()}, ensure_ascii=False)
            await asyncio.to_thread(self._write, f"{message.outbox_id}.sms.json", body.encode())
        log.info("message %s written to %s (%s)", message.outbox_id, self.directory, type(message).__name__)
        return Sent(f"file:{message.outbox_id}", "written")

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class Channels:
    email: EmailChannel
    sms: SmsChannel

    async def close(self) -> None:
        """Release provider connections."""
        await self.sms.close()


def channels_from_settings(settings: Settings) -> Channels:
    """SMTP and Twilio when configured (or chosen by RATHAUS_EMAIL_CHANNEL / RATHAUS_SMS_CHANNEL); files otherwise."""
    files = FileChannel(settings)
    email: EmailChannel = SmtpChannel(settings) if settings.uses_smtp else files
    sms: SmsChannel = TwilioChannel(settings) if settings.uses_twilio else files
    return Channels(email, sms)
