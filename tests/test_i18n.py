"""One translator: languages from the catalogues, German where a catalogue is silent, catalogues up to date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from rathaus import i18n
from rathaus.errors import ERRORS, RathausError

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)s")


@pytest.fixture
def restore_languages() -> Iterator[None]:
    yield
    i18n.configure()


def catalogue(language: str) -> dict[tuple[str | None, str], str]:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        po = read_po(source)
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in po if m.id}


def test_the_packaged_languages_are_german_first_then_english() -> None:
    assert i18n.languages() == ("de", "en")
    assert i18n.choose("en") == "en" and i18n.choose("fr") == "de" and i18n.choose(None) == "de"


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        ("en", "de", "en"),
        ("fr", "en-GB,en;q=0.9", "en"),
        (None, "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7", "en"),
        (None, "de;q=0.5, en", "en"),  # the weights count, not the order
        (None, "en;q=0, fr", "de"),  # q=0 means "not this one"
        (None, "EN-us", "en"),
        (None, "", "de"),
        (None, "en;q=garbage, de", "de"),
    ],
)
def test_the_reader_language_is_negotiated_among_the_offered_ones(
    requested: str | None, header: str, expected: str
) -> None:
    assert i18n.negotiate(requested, header) == expected


def test_error_messages_come_from_the_catalogue_in_both_languages() -> None:
    error = RathausError("inside_lead_time", minutes=30)
    assert error.status == 422
    assert error.message("de") == "Termine können frühestens 30 Minuten im Voraus gebucht werden"
    assert error.message("en") == str(error) == "Appointments must be booked at least 30 minutes ahead"
    assert error.message("fr") == error.message("de")
    languages = RathausError("invalid_language", languages=i18n.OneOf(i18n.languages()))
    assert languages.message("de") == "Sprache muss de oder en sein"
    assert languages.message("en") == "Language must be de or en"
    three = i18n.OneOf(("de", "en", "tr"))
    assert i18n.translate("de", "Language must be {languages}", languages=three) == "Sprache muss de, en oder tr sein"


def test_a_translatable_parameter_is_translated_with_its_message() -> None:
    error = RathausError("contact_required", channel=i18n.Text("mobile number"))
    assert error.message("de") == "Für die Bestätigung wird Ihre Mobilnummer benötigt"
    assert error.message("en") == "Confirming the booking needs your mobile number"


def test_a_language_without_a_catalogue_is_refused(restore_languages: None) -> None:
    with pytest.raises(i18n.UnknownLanguage, match="no catalogue for xx"):
        i18n.configure(languages=["de", "xx"])
    with pytest.raises(i18n.UnknownLanguage, match="default language de"):
        i18n.configure(languages=["en"])
    assert i18n.configure(languages=["de"]).languages == ("de",)
    assert not i18n.offers("en")


def test_the_catalogues_hold_exactly_the_msgids_of_code_and_templates() -> None:
    """Fails when a text was added or changed without `make messages`."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    extracted = {
        (context, message if isinstance(message, str) else message[0])
        for _, _, message, _, context in extract_from_dir(ROOT / "rathaus", method_map, options_map)
    }
    for language in ("de", "en"):
        assert set(catalogue(language)) == extracted, f"run `make messages` ({language})"


def test_german_translates_every_msgid_with_the_same_placeholders() -> None:
    for (_, msgid), message in catalogue("de").items():
        assert message.string and "fuzzy" not in message.flags, f"untranslated: {msgid!r}"
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), (msgid, text)


def test_every_error_code_has_a_status_and_a_translated_message() -> None:
    german = {msgid for (_, msgid) in catalogue("de")}
    for code, (status, msgid) in ERRORS.items():
        assert 400 <= status < 600 and msgid in german, code
