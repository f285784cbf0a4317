"""A third language is a catalogue and a setting: error answers, messages and pages speak it, German fills its gaps."""

# ruff: noqa: RUF001 (Turkish: its dotless i is meant)

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from rathaus import i18n
from rathaus.clock import ManualClock
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.inbound import cancel_words
from rathaus.settings import NotifySettings
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio

# A few msgids translated; everything else is left to German.
TURKISH = r"""
msgid ""
msgstr ""
"Language: tr\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"
"Content-Type: text/plain; charset=utf-8\n"

msgid "Sorry, that slot has just been taken. Please choose another one."
msgstr "Üzgünüz, bu saat az önce alındı. Lütfen başka bir saat seçin."

msgid "Language must be {languages}"
msgstr "Dil {languages} olmalıdır"

msgid "Appointment confirmed: %(office)s, %(when)s"
msgstr "Randevu onaylandı: %(office)s, %(when)s"

msgid "Hello,"
msgstr "Merhaba,"

msgid "EEE d MMM y"
msgstr "d MMMM y EEEE"

msgid "{date}, {time}"
msgstr "{date} saat {time}"

msgid "Now calling"
msgstr "Sıradaki"

msgid "Your ticket"
msgstr "Sıra numaranız"

msgctxt "SMS keyword"
msgid "CANCEL"
msgstr "IPTAL"

# A broken translation (its placeholder is misspelt) is ignored rather than failing when filled in.
msgid "There is no office called {office}"
msgstr "{ofis} adında bir daire yok"
"""


@pytest.fixture
def turkish(tmp_path: Path) -> Iterator[Path]:
    """A locale directory with a Turkish catalogue; the process's languages are restored afterwards."""
    catalogue = tmp_path / "locale" / "tr" / "LC_MESSAGES" / "messages.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text(TURKISH)
    yield tmp_path / "locale"
    i18n.configure()


@pytest.fixture
async def harness_tr(sqlite_url: str, clock: ManualClock, turkish: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    """The app offering de, en and tr (RATHAUS_LANGUAGES, RATHAUS_LOCALE_DIRS), writing messages to files."""
    outbox = NotifySettings(dir=tmp_path / "outbox")
    async with open_harness(sqlite_url, clock, languages="de,en,tr", locale_dirs=str(turkish), notify=outbox) as h:
        await h.load(make_config())
        yield h


async def test_error_answers_speak_the_third_language_and_fall_back_to_german(harness_tr: Harness) -> None:
    h = harness_tr
    assert i18n.languages() == ("de", "en", "tr")
    start = "2027-01-12T09:00:00+01:00"
    assert (await h.client.post("/api/v1/bookings", json=booking_body(start))).status_code == 201

    taken = await h.client.post("/api/v1/bookings?lang=tr", json=booking_body(start))
    assert taken.status_code == 409
    assert taken.json()["detail"] == "Üzgünüz, bu saat az önce alındı. Lütfen başka bir saat seçin."
    by_header = await h.client.post(
        "/api/v1/bookings", json=booking_body(start), headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"}
    )
    assert by_header.json()["detail"] == taken.json()["detail"]

    untranslated = await h.client.post("/api/v1/bookings?lang=tr", json={**booking_body(start), "email": None})
    assert (
        untranslated.json()["detail"]
        == "Bitte eine E-Mail-Adresse oder Mobilnummer angeben, damit wir Sie erreichen können"
    )
    broken = await h.client.post("/api/v1/bookings?lang=tr", json={**booking_body(start), "office": "nirgends"})
    assert broken.json()["detail"] == "Dieses Amt gibt es nicht: nirgends"

    french = await h.client.post("/api/v1/bookings?lang=tr", json=booking_body(start, language="fr"))
    assert french.json() == {"detail": "Dil de, en veya tr olmalıdır", "code": "invalid_language"}
    english = await h.client.post("/api/v1/bookings?lang=en", json=booking_body(start, language="fr"))
    assert english.json()["detail"] == "Language must be de, en, or tr"


async def test_a_booking_in_the_third_language_gets_its_messages_in_it(harness_tr: Harness, tmp_path: Path) -> None:
    h = harness_tr
    booking = booking_body("2027-01-12T09:00:00+01:00", language="tr", phone="+4915112345678")
    answer = await h.client.post("/api/v1/bookings", json=booking)
    assert answer.status_code == 201, answer.text
    dispatcher = Dispatcher(h.runtime, worker_id="test-worker")
    try:
        assert (await dispatcher.dispatch()).outcomes == {"sent": 2}
    finally:
        await dispatcher.channels.close()

    [eml] = (tmp_path / "outbox").glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == "Randevu onaylandı: Testamt, 12 Ocak 2027 Salı saat 09:00"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().startswith("Merhaba,\n\nIhr Termin ist gebucht.\n")  # the second line untranslated
    assert '<html lang="tr">' in html.get_content()

    [sms] = (tmp_path / "outbox").glob("*.sms.json")
    body = json.loads(sms.read_text())["body"]
    assert body.startswith("Termin bestätigt: Testamt, 12 Ocak 2027 Salı saat 09:00.")  # German, with Turkish dates
    # The Turkish cancel word cancels by SMS as the German and English ones do.
    assert cancel_words() == {"STORNO": "de", "IPTAL": "tr", "CANCEL": "en", "ABSAGEN": "de"}


async def test_pages_offer_the_third_language(harness_tr: Harness) -> None:
    h = harness_tr
    board = (await h.client.get("/offices/amt/board")).text
    assert 'Aufruf · <span lang="en">Now calling</span> · <span lang="tr">Sıradaki</span>' in board
    snippet = (await h.client.get("/feeds/amt/embed.html?lang=tr")).text
    assert 'lang="tr"' in snippet and "Öffnungszeiten" in snippet and "Pazartesi" in snippet


async def test_catalogue_content_in_the_third_language_is_configuration_not_a_migration(harness_tr: Harness) -> None:
    h = harness_tr
    services = [
        {
            "slug": "a",
            "name": {"de": "Dienst A", "en": "Service A", "tr": "Hizmet A"},
            "duration_minutes": 15,
            "bring": {"de": "Ausweis", "tr": "Kimlik kartı"},
            "walk_ins": False,
        },
        {"slug": "b", "name": {"de": "Dienst B", "en": "Service B"}, "duration_minutes": 30},
    ]
    await h.load(make_config(services=services, name={"de": "Testamt", "en": "Test office", "tr": "Test dairesi"}))

    listed = {s["slug"]: s for s in (await h.client.get("/api/v1/services?lang=tr")).json()}
    assert (listed["a"]["name"], listed["a"]["what_to_bring"]) == ("Hizmet A", "Kimlik kartı")
    assert listed["b"]["name"] == "Dienst B"  # no Turkish name given: German
    assert (await h.client.get("/api/v1/offices/amt?lang=tr")).json()["name"] == "Test dairesi"
    english = {s["slug"]: s for s in (await h.client.get("/api/v1/services?lang=en")).json()}
    assert english["a"]["what_to_bring"] == "Ausweis"  # no English text: German

    # Catalogue content inside a message follows the reader's language too.
    token = await staff_token(h, "desk", role="desk")
    refused = await h.client.post(
        "/api/v1/offices/amt/queue/walk-ins?lang=tr",
        json={"services": ["a"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 409 and "Hizmet A" in refused.json()["detail"]
    refused_en = await h.client.post(
        "/api/v1/offices/amt/queue/walk-ins?lang=en",
        json={"services": ["a"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "Service A" in refused_en.json()["detail"] and "Dienst A" not in refused_en.json()["detail"]
