"""Real servers for notification tests and the benchmark: SMTP (aiosmtpd, STARTTLS + AUTH) and Twilio's Messages API.

Both run in their own threads on loopback ports and count what they accepted. A "gate" holds answers after a
number of messages, so a test can kill a client while messages are in flight: a message whose client went away
before the answer was written is not counted (the client never learnt it was accepted).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from rathaus.db import create_engine, create_session_maker
from rathaus.notify.models import OutboxMessage
from rathaus.notify.service import enqueue
from rathaus.settings import SmtpSettings, TwilioSettings

SMTP_USER = "rathaus"
SMTP_PASSWORD = "smtp-test-password"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_FROM = "+15005550006"
# Twilio's test-credential magic numbers (https://www.twilio.com/docs/iam/test-credentials).
MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
_OUTBOX_ID = re.compile(r"<rathaus\.(\d+)\.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made with openssl, and its key."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return cert, key


class Gate:
    """Holds answers after `limit` accepted messages until released; counts what it lets through."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.admitted = 0
        self.held: list[asyncio.BaseTransport] = []

    def hold_after(self, limit: int) -> None:
        self.limit = limit
        self.released.clear()

    def release(self) -> None:
        self.limit = None
        self.released.set()

    def held_connections_closed(self) -> bool:
        """True once every connection whose answer is held has been seen closing by the server."""
        with self.lock:
            return all(transport.is_closing() for transport in self.held)

    async def wait(self, transport: asyncio.BaseTransport | None) -> None:
        """Return when this message may be answered."""
        with self.lock:
            self.admitted += 1
            must_wait = self.limit is not None and self.admitted > self.limit
            if must_wait and transport is not None:
                self.held.append(transport)
        if must_wait:  # the release comes from the test's thread: wait for it without blocking this loop
            await asyncio.to_thread(self.released.wait)


@dataclass
class SmtpServer:
    port: int
    cafile: Path
    messages: list[bytes] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    gate: Gate = field(default_factory=Gate)
    # Seconds the server takes to accept a message: a slow provider (the message counts once accepted).
    delay: float = 0.0
    # True: keep a message whose client went away before the answer, as a real provider does once it has it all.
    keep_abandoned: bool = False
    accepted_at: list[float] = field(default_factory=list)  # time.monotonic() of each accepted message
    # Messages one connection may begin before MAIL FROM is answered 421 (as Exim's smtp_accept_max_per_connection).
    per_connection: int | None = None
    quits: int = 0  # connections the client closed with QUIT
    lock: threading.Lock = field(default_factory=threading.Lock)
    _begun: Counter[int] = field(default_factory=Counter)  # messages begun, by connection
    _open: list[asyncio.BaseTransport] = field(default_factory=list)
    controller: Controller | None = None
    _tls: ssl.SSLContext | None = None

    # aiosmtpd handler hooks
    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        with self.lock:
            if server.transport is not None and server.transport not in self._open:
                self._open.append(server.transport)
            if self.per_connection is not None and self._begun[id(session)] >= self.per_connection:
                return "421 4.7.0 too many messages on this connection"
            self._begun[id(session)] += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.quits += 1
        return "221 Bye"

    def drop_connections(self) -> None:
        """Close every connection that sent MAIL, from the server's side (a restart, an idle timeout)."""
        assert self.controller is not None and self.controller.loop is not None
        done = threading.Event()

        def drop() -> None:
            with self.lock:
                transports, self._open = self._open, []
            for transport in transports:
                transport.close()
            done.set()

        self.controller.loop.call_soon_threadsafe(drop)
        if not done.wait(10):
            raise RuntimeError("the SMTP server did not drop its connections")

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self.gate.wait(server.transport)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.keep_abandoned and (server.transport is None or server.transport.is_closing()):
            return "451 client gone"
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        with self.lock:
            self.messages.append(content)
            self.accepted_at.append(time.monotonic())
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen (again) on the same port."""

        def auth(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                SMTP_USER.encode(),
                SMTP_PASSWORD.encode(),
            )
            return AuthResult(success=ok, handled=False)

        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=self._tls,
            require_starttls=True,
            authenticator=auth,
            auth_require_tls=True,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.gate.release()
            self.controller.stop()
            self.controller = None

    def parsed(self) -> list[EmailMessage]:
        with self.lock:
            raw = list(self.messages)
        parsed = [message_from_bytes(m, policy=policy.default) for m in raw]
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def outbox_ids(self) -> Counter[int]:
        """How often each outbox row arrived (from the Message-ID rathaus gives every row)."""
        return Counter(row for row, _ in self.arrivals())

    def arrivals(self) -> list[tuple[int, float]]:
        """Each accepted message as (outbox row, time.monotonic() of acceptance)."""
        with self.lock:
            raw = list(zip(self.messages, self.accepted_at, strict=True))
        found = []
        for m, at in raw:
            match = _OUTBOX_ID.search(m.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace"))
            if match:
                found.append((int(match.group(1)), at))
        return found

    def settings(self) -> SmtpSettings:
        """Settings that point rathaus at this server."""
        return SmtpSettings(
            host="127.0.0.1",
            port=self.port,
            security="starttls",
            username=SMTP_USER,
            password=SMTP_PASSWORD,
            cafile=self.cafile,
            timeout=5.0,
            mail_from="Testamt <termine@rathaus.test>",
        )

    def env(self) -> dict[str, str]:
        """The same settings as RATHAUS_* variables, for a rathaus process."""
        return {
            "RATHAUS_SMTP_HOST": "127.0.0.1",
            "RATHAUS_SMTP_PORT": str(self.port),
            "RATHAUS_SMTP_SECURITY": "starttls",
            "RATHAUS_SMTP_USERNAME": SMTP_USER,
            "RATHAUS_SMTP_PASSWORD": SMTP_PASSWORD,
            "RATHAUS_SMTP_CAFILE": str(self.cafile),
            "RATHAUS_SMTP_TIMEOUT": "5",
            "RATHAUS_MAIL_FROM": "Testamt <termine@rathaus.test>",
        }


def start_smtp(directory: Path) -> SmtpServer:
    cert, key = self_signed_cert(directory)
    server = SmtpServer(port=free_port(), cafile=cert)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server._tls = context
    server.start()
    return server


@dataclass
class SentSms:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None
    outbox_id: int | None
    at: float = 0.0  # time.monotonic() of acceptance


class TwilioFake:
    """The part of Twilio's REST API rathaus uses: Messages create, with Twilio's JSON answers and error codes."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sent: list[SentSms] = []
        self.requests = 0
        self.fail_next: list[int] = []  # HTTP statuses to answer the next requests with (e.g. [500])
        self.gate = Gate()
        self.delay = 0.0  # seconds before answering a message it accepts: a slow provider
        self.keep_abandoned = False  # as SmtpServer.keep_abandoned
        self.lock = threading.Lock()
        self.callback_base: str | None = None  # where status callbacks go (the app's real address)
        self.callbacks: list[tuple[str, int]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> TwilioSettings:
        """Settings that point rathaus at this fake."""
        return TwilioSettings(
            account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, sender=TWILIO_FROM, api_base=self.url, timeout=5.0
        )

    def env(self) -> dict[str, str]:
        """The same settings as RATHAUS_* variables, for a rathaus process."""
        return {
            "RATHAUS_TWILIO_ACCOUNT_SID": TWILIO_SID,
            "RATHAUS_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "RATHAUS_TWILIO_FROM": TWILIO_FROM,
            "RATHAUS_TWILIO_API_BASE": self.url,
            "RATHAUS_TWILIO_TIMEOUT": "5",
        }

    def outbox_ids(self) -> Counter[int]:
        return Counter(row for row, _ in self.arrivals())

    def arrivals(self) -> list[tuple[int, float]]:
        """Each accepted message as (outbox row, time.monotonic() of acceptance)."""
        with self.lock:
            return [(s.outbox_id, s.at) for s in self.sent if s.outbox_id is not None]

    async def _create(self, request: web.Request) -> web.StreamResponse:
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected or request.match_info["sid"] != TWILIO_SID:
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        with self.lock:
            self.requests += 1
            status = self.fail_next.pop(0) if self.fail_next else None
        if status is not None:
            return _error(status, 20500 if status >= 500 else 20429, "Internal Server Error")
        to = str(form.get("To", ""))
        if to in MAGIC_TO:
            code, message = MAGIC_TO[to]
            return _error(400, code, message)
        if not to.startswith("+"):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        await self.gate.wait(request.transport)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.keep_abandoned and (request.transport is None or request.transport.is_closing()):
            return web.Response(status=499)  # the client went away: it never learns of this message
        callback = str(form["StatusCallback"]) if "StatusCallback" in form else None
        outbox = re.search(r"[?&]n=(\d+)", callback or "")
        sms = SentSms(
            sid="SM" + secrets.token_hex(16),
            to=to,
            sender=str(form.get("From") or form.get("MessagingServiceSid") or ""),
            body=str(form.get("Body", "")),
            status_callback=callback,
            outbox_id=int(outbox.group(1)) if outbox else None,
            at=time.monotonic(),
        )
        with self.lock:
            self.sent.append(sms)
        if self.callback_base and callback:
            asyncio.get_running_loop().create_task(self._deliver(sms))
        return web.json_response(
            {
                "sid": sms.sid,
                "account_sid": TWILIO_SID,
                "to": sms.to,
                "from": sms.sender,
                "body": sms.body,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sms.sid}.json",
            },
            status=201,
        )

    async def _deliver(self, sms: SentSms) -> None:
        """Post signed status callbacks (sent, then delivered) to the app, as Twilio does."""
        assert sms.status_callback and self.callback_base
        # Twilio calls the configured public URL; the fake reaches the app at its real loopback address.
        public_url = sms.status_callback
        path = public_url.split("/twilio/", 1)[1]
        target = f"{self.callback_base}/twilio/{path}"
        async with ClientSession() as client:
            for status in ("sent", "delivered"):
                params = {
                    "MessageSid": sms.sid,
                    "SmsSid": sms.sid,
                    "MessageStatus": status,
                    "AccountSid": TWILIO_SID,
                    "To": sms.to,
                    "From": sms.sender,
                }
                signature = RequestValidator(TWILIO_TOKEN).compute_signature(public_url, params)
                async with client.post(target, data=params, headers={"X-Twilio-Signature": signature}) as answer:
                    with self.lock:
                        self.callbacks.append((status, answer.status))

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Twilio fake did not start")

    def stop(self) -> None:
        self.gate.release()
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll `condition` (a real server's state) with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def fill_outbox(url: str, count: int) -> list[int]:
    """`count` due messages, alternating e-mail and SMS, as the queue or a booking would write them."""
    engine = create_engine(url, pool_size=1)
    now = datetime.now(UTC) - timedelta(minutes=1)
    try:
        async with create_session_maker(engine)() as session:
            for i in range(count):
                email = i % 2 == 0
                enqueue(
                    session,
                    kind="test",
                    channel="email" if email else "sms",
                    recipient=f"citizen{i}@example.org" if email else f"+4915100{i:06d}",
                    language="de" if i % 3 else "en",
                    due_at=now,
                    dedupe_key=f"test:{i}",
                    now=now,
                )
            await session.commit()
            return list((await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))).all())
    finally:
        await engine.dispose()
