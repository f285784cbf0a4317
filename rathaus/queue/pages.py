"""The waiting-room display and the citizen's ticket page: server-rendered, then kept current by a small script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates" / "queue"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)

# {position}, {minutes}, {counter} are filled in on the server and by the page's script alike.
TICKET_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Ihre Wartenummer",
        "waiting": "Sie sind Nr. {position} in der Warteschlange.",
        "estimate": "Geschätzte Wartezeit: etwa {minutes} Minuten.",
        "no_estimate": "Die Wartezeit lässt sich gerade nicht schätzen.",
        "called": "Bitte kommen Sie jetzt zu {counter}.",
        "completed": "Erledigt. Vielen Dank für Ihren Besuch!",
        "no_show": "Ihre Nummer wurde aufgerufen, Sie waren nicht da. Bitte melden Sie sich am Empfang.",
        "closed": "Die Warteschlange ist für heute geschlossen.",
        "services": "Anliegen",
        "live": "Diese Seite aktualisiert sich von selbst.",
        "offline": "Verbindung unterbrochen - neuer Versuch läuft …",
        "switch": "English",
    },
    "en": {
        "title": "Your ticket",
        "waiting": "You are number {position} in the queue.",
        "estimate": "Estimated wait: about {minutes} minutes.",
        "no_estimate": "The wait cannot be estimated right now.",
        "called": "Please go to {counter} now.",
        "completed": "Done. Thank you for your visit!",
        "no_show": "Your number was called and you were not there. Please ask at the front desk.",
        "closed": "The queue is closed for today.",
        "services": "Services",
        "live": "This page updates itself.",
        "offline": "Connection lost - trying again …",
        "switch": "Deutsch",
    },
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


def board(data: bytes, *, language: str, events: str) -> str:
    """The display page with the board's current content."""
    return _templates.get_template("board.html.j2").render(board=json.loads(data), language=language, events=events)


def ticket(data: bytes, *, language: str, events: str, public_id: str) -> str:
    """The ticket page with the ticket's current state."""
    view = json.loads(data)
    texts = TICKET_TEXTS[language]
    message, estimate = ticket_message(view, texts)
    other = "en" if language == "de" else "de"
    return _templates.get_template("ticket.html.j2").render(
        view=view,
        texts=texts,
        message=message,
        estimate=estimate,
        language=language,
        events=f"{events}?lang={language}",
        switch_url=f"/tickets/{public_id}?lang={other}",
        switch_lang=other,
    )
