"""Delivery channels: SMTP e-mail (aiosmtplib), Twilio SMS, and a file channel for development.

A channel either returns what the provider said (`Sent`) or raises `SendFailure`, which says whether trying
again may help. Nothing here logs recipients or texts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
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
# compat32 with the line ends SMTP wants.
_COMPAT = policy.compat32.clone(linesep="\r\n")


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

    async def close(self) -> None:
        """Release connections."""
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


def build_email(email: OutgoingEmail, *, sender: str, domain: str, now: datetime) -> bytes:
    """mixed[alternative[text, related[html, qr.png], text/calendar], termin.ics] as mail clients expect, as sent.

    Built with the `email.mime` classes and flattened under compat32: the same structure as `EmailMessage` gives, at
    about a third of its cost (it parses every header it sets). An address outside ASCII needs SMTPUTF8 and raw
    UTF-8 headers, which only the modern policy writes.
    """
    html: MIMEBase = MIMEText(email.html, "html", "utf-8")
    if email.qr_png is not None:
        image = MIMEImage(email.qr_png, "png")
        image["Content-ID"] = f"<{email.qr_cid}>"
        image.add_header("Content-Disposition", "inline", filename="qr.png")
        html = MIMEMultipart("related", _subparts=[html, image])
    body = MIMEMultipart("alternative", _subparts=[MIMEText(email.text, "plain", "utf-8"), html])
    root = body
    if email.ics is not None:
        invitation = MIMEText(email.ics.decode(), "calendar", "utf-8")
        invitation.set_param("method", email.ics_method)
        body.attach(invitation)
        attachment = MIMEApplication(email.ics, "ics")
        attachment.add_header("Content-Disposition", "attachment", filename="termin.ics")
        root = MIMEMultipart("mixed", _subparts=[body, attachment])
    # compat32 writes a header outside ASCII as an RFC 2047 encoded word itself.
    root["Subject"] = email.subject
    root["From"] = formataddr(parseaddr(sender), charset="utf-8")
    root["To"] = email.to
    root["Date"] = format_datetime(now)
    root["Message-ID"] = message_id(email, domain)
    root["Auto-Submitted"] = "auto-generated"
    return root.as_bytes(policy=_COMPAT if email.to.isascii() else policy.SMTPUTF8)


class SmtpChannel:
    """SMTP submission with STARTTLS (port 587) or implicit TLS (465), reusing connections within a pass.

    A connection is taken from the idle ones (or opened) for one message and given back after it; `close()` says
    goodbye to the idle ones (the dispatcher calls it when a pass ends, so nothing is held open while idle). A
    connection the server dropped or closed with 421 is noticed at MAIL FROM, before anything of the message left:
    the message then goes over a new connection. Once RCPT or DATA failed, the connection is dropped and the failure
    reported; the outbox retries (with the same Message-ID), never this channel on its own.
    """

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
        self._idle: list[aiosmtplib.SMTP] = []
        self.connections_opened = 0

    async def send(self, email: OutgoingEmail, *, now: datetime) -> Sent:
        """Hand one message to the SMTP server; 5xx answers are permanent, everything else is retried."""
        data = build_email(email, sender=self.sender, domain=self.domain, now=now)
        try:
            await self._submit(email.to, data)
        except aiosmtplib.SMTPRecipientRefused as error:
            permanent = 500 <= error.code < 600
            raise SendFailure(f"recipient refused ({error.code})", permanent=permanent, code=str(error.code)) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            raise SendFailure(f"SMTP authentication failed ({error.code})", permanent=False) from None
        except aiosmtplib.SMTPResponseException as error:
            raise SendFailure(
                f"SMTP server answered {error.code}", permanent=500 <= error.code < 600, code=str(error.code)
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendFailure(f"SMTP unavailable: {type(error).__name__}", permanent=False) from None
        return Sent(message_id(email, self.domain), "accepted")

    async def _submit(self, to: str, data: bytes) -> None:
        utf8 = not to.isascii()
        client = await self._mail_from(utf8)
        try:
            await client.rcpt(to, encoding="utf-8" if utf8 else "ascii")
            await client.data(data)
        except BaseException:
            client.close()  # after a failure the connection's state is unknown: never reuse it
            raise
        self._idle.append(client)

    async def _mail_from(self, utf8: bool) -> aiosmtplib.SMTP:
        """A connection on which MAIL FROM was accepted: an idle one the server still keeps, or a new one."""
        while self._idle:
            client = self._idle.pop()
            try:
                if client.is_connected:
                    await self._mail(client, utf8)
                    return client
            except (aiosmtplib.SMTPServerDisconnected, OSError):
                pass  # dropped while idle: nothing of this message was sent on it
            except aiosmtplib.SMTPSenderRefused as error:
                if error.code != 421:  # 421: the server ends this connection (too many messages on it, …)
                    client.close()
                    raise
            except BaseException:
                client.close()
                raise
            client.close()
        client = self._client()
        try:
            await client.connect()
            self.connections_opened += 1
            await self._mail(client, utf8)
        except BaseException:
            client.close()
            raise
        return client

    async def _mail(self, client: aiosmtplib.SMTP, utf8: bool) -> None:
        if utf8 and not client.supports_extension("smtputf8"):
            raise SendFailure("the SMTP server does not take international addresses (SMTPUTF8)", permanent=True)
        sender = parseaddr(self.sender)[1] or self.sender
        await client.mail(sender, options=["SMTPUTF8"] if utf8 else [], encoding="utf-8" if utf8 else "ascii")

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
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

    async def close(self) -> None:
        """Say goodbye (QUIT) on every idle connection at once; a server that does not answer soon is left."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(client) for client in idle))

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            if client.is_connected:
                await client.quit(timeout=min(self.timeout, 2.0))
        client.close()


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
            data = build_email(message, sender=self.sender, domain=self.domain, now=now)
            await asyncio.to_thread(self._write, f"{message.outbox_id}.eml", data)
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
        await self.email.close()
        await self.sms.close()


def channels_from_settings(settings: Settings) -> Channels:
    """SMTP and Twilio when configured (or chosen by RATHAUS_EMAIL_CHANNEL / RATHAUS_SMS_CHANNEL); files otherwise."""
    files = FileChannel(settings)
    email: EmailChannel = SmtpChannel(settings) if settings.uses_smtp else files
    sms: SmsChannel = TwilioChannel(settings) if settings.uses_twilio else files
    return Channels(email, sms)
