"""`rathaus worker` (the dispatcher on its own) and `rathaus notify test` (check a provider configuration)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable

import click

from rathaus import i18n
from rathaus.contact import normalise_email, normalise_mobile
from rathaus.errors import RathausError
from rathaus.notify.channels import OutgoingEmail, OutgoingSms, SendFailure, Sent, channels_from_settings
from rathaus.notify.render import render
from rathaus.runtime import launcher


@click.command()
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--idle", default=2.0, show_default=True, help="Seconds between looks at the outbox when idle.")
def worker(once: bool, idle: float) -> None:
    """Run the notification dispatcher alone (any number may run on one database)."""
    from rathaus.notify.dispatcher import Dispatcher, DispatchStats

    start = launcher()
    settings = start.settings()

    async def run() -> None:
        runtime = start.build(settings)
        dispatcher = Dispatcher(runtime)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"rathaus worker {dispatcher.worker_id}: dispatching", err=True)
        total = 0

        async def dispatch() -> None:
            nonlocal total
            while not dispatcher.stopping:
                try:
                    stats = await dispatcher.dispatch()
                except Exception as error:  # the database went away for a moment: the next pass retries
                    click.echo(f"rathaus worker: dispatch failed: {type(error).__name__}", err=True)
                    stats = DispatchStats()
                total += stats.claimed - stats.released
                if once:
                    return
                if not stats.claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), await dispatcher.next_look(within=idle))

        work = asyncio.create_task(dispatch())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                # Sends on the wire finish within the grace; claimed rows not yet sent go back to the outbox.
                click.echo(f"rathaus worker: stopping (grace {settings.shutdown_grace_seconds} s)", err=True)
                await dispatcher.stop(grace=settings.shutdown_grace_seconds)
            with contextlib.suppress(asyncio.CancelledError):  # a pass cut off at the end of the grace
                await work
        finally:
            stopped.cancel()
            await dispatcher.channels.close()
            await runtime.dispose()
        click.echo(f"rathaus worker: {total} message(s) handled", err=True)

    asyncio.run(run())


@click.group()
def notify() -> None:
    """Notifications."""


@notify.command("test")
@click.option("--sms", "phone", help="Send a test SMS to this number (E.164, e.g. +4915112345678).")
@click.option("--email", "address", help="Send a test e-mail to this address.")
@click.option("--language", default=i18n.DEFAULT_LANGUAGE, show_default=True, help="One of the offered languages.")
def test_message(phone: str | None, address: str | None, language: str) -> None:
    """Send a test message through the configured providers (not through the outbox)."""
    if not phone and not address:
        raise click.UsageError("give --sms and/or --email")
    try:  # the same checks a citizen's number and address get
        phone = normalise_mobile(phone) if phone else None
        address = normalise_email(address) if address else None
    except RathausError as error:
        raise click.UsageError(error.message("en")) from None
    settings = launcher().settings()
    if not i18n.offers(language):
        raise click.UsageError(f"--language must be one of {', '.join(i18n.languages())}")
    rendered = render("test", language, {"office_name": "rathaus", "office_address": ""})

    async def run() -> list[str]:
        channels = channels_from_settings(settings)
        lines: list[str] = []
        try:
            from rathaus.clock import SystemClock

            now = SystemClock().now()
            if address:
                email = OutgoingEmail(
                    0, f"test:{now.isoformat()}", address, rendered.subject, rendered.text, rendered.html
                )
                lines.append(await _try("e-mail", channels.email.send(email, now=now), type(channels.email).__name__))
            if phone:
                sms = OutgoingSms(0, phone, rendered.sms)
                lines.append(await _try("SMS", channels.sms.send(sms, now=now), type(channels.sms).__name__))
        finally:
            await channels.close()
        return lines

    lines = asyncio.run(run())
    for line in lines:
        click.echo(line)
    if any(" failed" in line for line in lines):
        raise SystemExit(1)


async def _try(what: str, sending: Awaitable[Sent], channel: str) -> str:
    try:
        sent = await sending
    except SendFailure as failure:
        kind = "permanent" if failure.permanent else "transient"
        return f"{what} via {channel} failed ({kind}): {failure.detail}"
    return f"{what} via {channel}: {sent.provider_status} ({sent.provider_id})"
