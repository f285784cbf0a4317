"""Twilio webhooks: delivery receipts (StatusCallback) and inbound SMS, both signed with X-Twilio-Signature."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.datastructures import State
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from rathaus.errors import RathausError
from rathaus.notify import inbound, service
from rathaus.waitlist.deps import waitlist_context
from rathaus.web import DbSession, Now, runtime_of
from rathaus.web_input import database_id


async def verified_form(request: Request[Any, Any, Any], state: State) -> dict[str, str]:
    """The posted form if Twilio signed it with our auth token, else 403 (and nothing is read further)."""
    settings = runtime_of(state).settings
    token = settings.twilio.auth_token
    form = await request.form()
    if not token:
        raise RathausError("forbidden")
    # The URL Twilio called, as configured: behind a TLS-terminating proxy request.url would be wrong.
    query = request.url.query
    url = settings.public_base_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(token).validate(url, form, signature):
        raise RathausError("forbidden")
    return {key: str(value) for key, value in form.items()}


def _twiml(message: str | None = None) -> Response[str]:
    reply = MessagingResponse()
    if message:
        reply.message(message)
    return Response(str(reply), media_type="application/xml")


class TwilioController(Controller):
    path = "/twilio"
    tags = ["webhooks"]
    include_in_schema = False

    @post("/status", status_code=204)
    async def status(self, request: Request[Any, Any, Any], state: State, db_session: DbSession, now: Now) -> None:
        """A delivery receipt for one of our messages (?n=<outbox id>): status only moves forward."""
        form = await verified_form(request, state)
        outbox_id = database_id(request.query_params.get("n", ""))
        if outbox_id is None:
            return
        await service.record_provider_status(
            db_session,
            outbox_id=outbox_id,
            provider_id=form.get("MessageSid", form.get("SmsSid", "")),
            provider_status=form.get("MessageStatus", form.get("SmsStatus", "")).lower(),
            error_code=form.get("ErrorCode") or None,
            now=now,
        )

    @post("/inbound")
    async def inbound(
        self, request: Request[Any, Any, Any], state: State, db_session: DbSession, now: Now
    ) -> Response[str]:
        """An SMS from a citizen: STOP/START, CANCEL for their next appointment, ACCEPT/DECLINE for an offer."""
        form = await verified_form(request, state)
        result = await inbound.inbound_sms(
            db_session,
            ctx=waitlist_context(runtime_of(state)),
            phone=form.get("From", ""),
            body=form.get("Body", ""),
            opt_out_type=form.get("OptOutType") or None,
            now=now,
        )
        return _twiml(result.reply)
