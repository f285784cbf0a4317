"""The waiting-room display and the citizen's ticket page: server-rendered, then kept current by a small script."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from babel.dates import format_date
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
    """The display's texts in one language; the {placeholders} are filled in on the server and by its script."""
    t = i18n.translations(language)
    return {
        "lang": language,
        "now_calling": t.gettext("Now calling"),
        "go_to": t.pgettext("waiting-room display", "Please go to"),
        "number": t.pgettext("waiting-room display", "Number"),
        "counter": t.pgettext("waiting-room display", "Counter"),
        "next": t.pgettext("waiting-room display", "Next"),
        "closed": t.pgettext("waiting-room display", "Closed"),
        "opens_next": t.pgettext("waiting-room display", "We open again on {day} at {time}."),
        "wait": t.gettext("Walk-in wait about {minutes} min"),
        "offline": t.gettext("Reconnecting …"),
        "announce": t.pgettext("spoken announcement", "Number {number}, please go to {counter}."),
    }


def control_texts(language: str) -> dict[str, str]:
    """The sound controls' texts, in the display's main language only (they are for staff setting it up)."""
    t = i18n.translations(language)
    return {
        "sound": t.pgettext("waiting-room display", "Sound"),
        "chime": t.pgettext("waiting-room display", "Chime on every call"),
        "speak": t.pgettext("waiting-room display", "Spoken announcement"),
        "enable": t.pgettext("waiting-room display", "Enable sound"),
        "enable_hint": t.pgettext(
            "waiting-room display", "The browser plays sound only after someone has pressed this button once."
        ),
    }


def opening_text(opens_next: str | None, language: str) -> str:
    """When a closed office opens again, as a date and time in `language` (the script formats later changes)."""
    if opens_next is None:
        return ""
    instant = datetime.fromisoformat(opens_next)
    day = format_date(instant.date(), "full", locale=i18n.babel_locale(language))
    return board_texts(language)["opens_next"].format(day=day, time=f"{instant:%H:%M}")


def _sound_choice(value: str | None) -> bool | None:
    """A sound switched on or off by a query parameter; None leaves it to the choice kept on the device."""
    if value is None:
        return None
    return value.lower() in {"1", "on", "yes", "true"}


def board(data: bytes, *, events: str, language: str, chime: str | None, speak: str | None) -> Template:
    """The display page with the board's current content, in every offered language (`language` first).

    `chime` and `speak` (query parameters) switch the sounds on; the page's own control can change them too.
    """
    others = [x for x in i18n.languages() if x != language]
    languages = [board_texts(x) for x in (language, *others)]
    content = json.loads(data)
    for texts in languages:
        texts["opening"] = opening_text(content["opens_next"], texts["lang"])
    script = {
        "events": events,
        "languages": languages,
        "chime": _sound_choice(chime),
        "speak": _sound_choice(speak),
    }
    names: list[dict[str, str]] = []
    for texts in languages:
        name = content.get(f"office_name_{texts['lang']}") or content["office_name_de"]
        if name not in (n["name"] for n in names):
            names.append({"lang": texts["lang"], "name": name})
    return Template(
        "queue/board.html.j2",
        context={
            "board": content,
            "names": names,
            "languages": languages,
            "controls": control_texts(language),
            "script": script,
        },
    )


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
