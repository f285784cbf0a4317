"""The waiting-room display and the citizen's ticket page: server-rendered, then kept current by a small script."""

from __future__ import annotations

import json
from typing import Any

from litestar.response import Template

from rathaus import i18n


def ticket_texts(language: str) -> dict[str, str]:
    """The ticket page's texts; {position}, {minutes}, {counter} are filled in on the server and by its script."""
    t = i18n.translations(language)
    return {
        "title": t.gettext("Your ticket"),
        "waiting": t.gettext("You are number {position} in the queue."),
        "estimate": t.gettext("Estimated wait: about {minutes} minutes."),
        "no_estimate": t.gettext("The wait cannot be estimated right now."),
        "called": t.gettext("Please go to {counter} now."),
        "completed": t.gettext("Done. Thank you for your visit!"),
        "no_show": t.gettext("Your number was called and you were not there. Please ask at the front desk."),
        "closed": t.gettext("The queue is closed for today."),
        "services": t.gettext("Services"),
        "live": t.gettext("This page updates itself."),
        "offline": t.gettext("Connection lost - trying again …"),
    }


def board_texts(language: str) -> dict[str, str]:
    """The display's texts in one language; {minutes} is filled in on the server and by its script."""
    t = i18n.translations(language)
    return {
        "lang": language,
        "now_calling": t.gettext("Now calling"),
        "go_to": t.pgettext("waiting-room display", "Please go to"),
        "number": t.pgettext("waiting-room display", "Number"),
        "counter": t.pgettext("waiting-room display", "Counter"),
        "next": t.pgettext("waiting-room display", "Next"),
        "closed": t.pgettext("waiting-room display", "Closed"),
        "wait": t.gettext("Walk-in wait about {minutes} min"),
        "offline": t.gettext("Reconnecting …"),
    }


def ticket_message(view: dict[str, Any], texts: dict[str, str]) -> tuple[str, str]:
    """The main sentence and the estimate line for a ticket's status."""
    status = view["status"]
    if status == "waiting":
        minutes = view.get("estimated_wait_minutes")
        estimate = texts["no_estimate"] if minutes is None else texts["estimate"].format(minutes=minutes)
        return texts["waiting"].format(position=view.get("position") or "-"), estimate
    if status == "called":
        return texts["called"].format(counter=view.get("counter") or ""), ""
    return texts.get(status, status), ""


def board(data: bytes, *, events: str) -> Template:
    """The display page with the board's current content, in every offered language (the default one first)."""
    languages = [board_texts(x) for x in i18n.languages()]
    return Template(
        "queue/board.html.j2",
        # `live`: what the page's script reads (from a JSON data block: the page runs no inline script).
        context={"board": json.loads(data), "languages": languages, "live": {"languages": languages, "events": events}},
    )


def ticket(data: bytes, *, language: str, events: str, public_id: str) -> Template:
    """The ticket page with the ticket's current state, linking to itself in the other offered languages."""
    view = json.loads(data)
    texts = ticket_texts(language)
    message, estimate = ticket_message(view, texts)
    switches = [
        {"lang": other, "name": i18n.language_name(other), "url": f"/tickets/{public_id}?lang={other}"}
        for other in i18n.languages()
        if other != language
    ]
    return Template(
        "queue/ticket.html.j2",
        context={
            "view": view,
            "texts": texts,
            "message": message,
            "estimate": estimate,
            "live": {"texts": texts, "events": f"{events}?lang={language}"},
            "switches": switches,
        },
    )
