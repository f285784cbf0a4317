"""One translator for every static text: gettext catalogues per language, German where a catalogue is silent.

Msgids are English and live where they are used (`N_` marks them in tables, templates call `_`); the
translations live in `rathaus/locale/<language>/LC_MESSAGES/messages.po` (`make messages` extracts and updates
them). The `.po` files are compiled in memory when the translator is built, so there is no build step and no
`.mo` file that can fall behind its `.po`.

The offered languages are those with a catalogue (in the package or in extra locale directories), narrowed by
configuration; German is the default and always offered. Templates read the language they speak from a context
variable (`speaking`), so one shared Jinja environment serves every request and every message at once.
"""

from __future__ import annotations

import gettext
import logging
import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from rathaus import localized
from rathaus.localized import Localized

# The language every text has and every reader falls back to (catalogue content shares it).
DEFAULT_LANGUAGE = localized.DEFAULT_LANGUAGE

# The language of the msgids: its catalogue may stay empty, and it never falls back to German.
SOURCE_LANGUAGE = "en"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

log = logging.getLogger("rathaus.i18n")

# {name} for texts formatted in Python (and by the pages' scripts), %(name)s for templates.
_PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)s")
_language: ContextVar[str] = ContextVar("rathaus_language", default=DEFAULT_LANGUAGE)
_NEGOTIATED_MAX = 1024


def N_(message: str) -> str:
    """Mark a msgid where it is defined (extracted by `make messages`); it is translated where it is used."""
    return message


class UnknownLanguage(ValueError):
    """A configured language has no catalogue."""


class LanguageDependent:
    """A message parameter that depends on the reader's language."""

    __slots__ = ()

    def in_language(self, language: str, translations: gettext.NullTranslations) -> str:
        """The parameter as it reads in `language` (whose catalogue is `translations`)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class OneOf(LanguageDependent):
    """Alternatives named in a message, read as "a, b or c" in the reader's language."""

    items: tuple[str, ...]

    def in_language(self, language: str, translations: gettext.NullTranslations) -> str:
        """The alternatives joined the way `language` joins them."""
        return format_list(list(self.items), style="or", locale=babel_locale(language))


@dataclass(frozen=True, slots=True)
class Text(LanguageDependent):
    """A msgid (marked with `N_`) filling a message's placeholder, translated with the message."""

    msgid: str

    def in_language(self, language: str, translations: gettext.NullTranslations) -> str:
        """The msgid in `language`."""
        return translations.gettext(self.msgid)


class Translator:
    """The catalogues of the offered languages, compiled once; the default language fills their gaps."""

    def __init__(self, languages: Sequence[str] | None = None, locale_dirs: Sequence[Path] = (LOCALE_DIR,)) -> None:
        found = _catalogue_files(locale_dirs)
        wanted = list(languages) if languages else sorted(found)
        missing = [language for language in wanted if language not in found]
        if missing:
            raise UnknownLanguage(
                f"no catalogue for {', '.join(missing)} (catalogues: {', '.join(sorted(found)) or 'none'})"
            )
        if DEFAULT_LANGUAGE not in wanted:
            raise UnknownLanguage(f"the default language {DEFAULT_LANGUAGE} must be offered")
        self.languages: tuple[str, ...] = (DEFAULT_LANGUAGE, *dict.fromkeys(x for x in wanted if x != DEFAULT_LANGUAGE))
        default = _chain([_compile(path) for path in found[DEFAULT_LANGUAGE]])
        self._translations: dict[str, gettext.NullTranslations] = {DEFAULT_LANGUAGE: default}
        for language in self.languages[1:]:
            own: list[gettext.NullTranslations] = [_compile(path) for path in found[language]]
            self._translations[language] = _chain(own if language == SOURCE_LANGUAGE else [*own, default])
        self._negotiated: dict[str, str] = {}

    def offers(self, language: str) -> bool:
        """True if `language` is offered."""
        return language in self._translations

    def choose(self, language: str | None) -> str:
        """`language` if it is offered, else the default language."""
        return language if language is not None and language in self._translations else DEFAULT_LANGUAGE

    def negotiate(self, requested: str | None, accept_language: str) -> str:
        """`requested` if offered, else the best offered language of an Accept-Language header, else the default."""
        if requested and requested in self._translations:
            return requested
        found = self._negotiated.get(accept_language)
        if found is None:
            if len(self._negotiated) >= _NEGOTIATED_MAX:  # headers are the client's choice: keep the cache bounded
                self._negotiated.clear()
            found = self._negotiated[accept_language] = self._best_of(accept_language)
        return found

    def _best_of(self, accept_language: str) -> str:
        ranked = []
        for position, part in enumerate(accept_language.split(",")):
            tag, _, weight = part.partition(";")
            quality = 1.0
            if weight.strip().startswith("q="):
                try:
                    quality = float(weight.strip()[2:])
                except ValueError:
                    continue
            if quality > 0:
                ranked.append((-quality, position, tag.strip().split("-")[0].lower()))
        return next((language for _, _, language in sorted(ranked) if language in self._translations), DEFAULT_LANGUAGE)

    def translations(self, language: str) -> gettext.NullTranslations:
        """gettext, ngettext, pgettext … in `language` (the default language's when it is not offered)."""
        return self._translations[self.choose(language)]

    def translate(self, language: str, msgid: str, **params: Any) -> str:
        """The msgid in `language` with its {placeholders} filled in."""
        language = self.choose(language)
        catalogue = self._translations[language]
        values = {name: _in_language(value, language, catalogue) for name, value in params.items()}
        return catalogue.gettext(msgid).format(**values)


def _in_language(value: Any, language: str, catalogue: gettext.NullTranslations) -> Any:
    """A message parameter as `language` reads it: catalogue content (a service's name) in that language too."""
    if isinstance(value, LanguageDependent):
        return value.in_language(language, catalogue)
    if isinstance(value, Localized):
        return value.get(language)
    return value


class _Process:
    translator: Translator | None = None


_process = _Process()


def configure(*, languages: Sequence[str] | None = None, extra_locale_dirs: Iterable[Path] = ()) -> Translator:
    """Make the process translate with these languages (None: every catalogue found) and extra catalogues.

    A catalogue in an extra directory comes before the package's catalogue of the same language, so a
    deployment can add a language or reword single texts without touching the package.
    """
    dirs = (*(Path(d).resolve() for d in extra_locale_dirs), LOCALE_DIR)
    _process.translator = _built(tuple(languages) if languages else None, dirs)
    return _process.translator


def translator() -> Translator:
    """The process's translator (every packaged catalogue until `configure` is called)."""
    if _process.translator is None:
        _process.translator = _built(None, (LOCALE_DIR,))
    return _process.translator


def languages() -> tuple[str, ...]:
    """The offered languages, the default language first."""
    return translator().languages


def offers(language: str) -> bool:
    """True if `language` is offered."""
    return translator().offers(language)


def choose(language: str | None) -> str:
    """`language` if it is offered, else the default language."""
    return translator().choose(language)


def translations(language: str) -> gettext.NullTranslations:
    """gettext, ngettext, pgettext … in `language`."""
    return translator().translations(language)


def translate(language: str, msgid: str, **params: Any) -> str:
    """The msgid in `language` with its {placeholders} filled in."""
    return translator().translate(language, msgid, **params)


def negotiate(requested: str | None, accept_language: str = "") -> str:
    """The language to answer in: `requested` (?lang=) if offered, else the best offered one that the
    Accept-Language header names, else the default language."""
    return translator().negotiate(requested, accept_language)


class speaking:
    """Within the block, templates speak `language` (the default language when it is not offered)."""

    # A class rather than a generator: every request enters one, and this is three times as fast.
    __slots__ = ("_chosen", "_token")

    def __init__(self, language: str) -> None:
        self._chosen = choose(language)

    def __enter__(self) -> str:
        self._token = _language.set(self._chosen)
        return self._chosen

    def __exit__(self, *_: object) -> None:
        _language.reset(self._token)


def current_language() -> str:
    """The language templates speak here (see `speaking`)."""
    return _language.get()


@cache
def babel_locale(language: str) -> Locale:
    """Babel's locale data (dates, lists, names) for `language`; the default language's if Babel has none."""
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LANGUAGE)


def language_name(language: str) -> str:
    """The language's name in itself ("Deutsch", "English", "Türkçe"), for language switches."""
    try:
        name = Locale.parse(language).get_display_name(language) or language
    except (ValueError, UnknownLocaleError):
        name = language
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=16)
def _built(languages: tuple[str, ...] | None, dirs: tuple[Path, ...]) -> Translator:
    # Apps built again with the same configuration (tests, several instances) share the compiled catalogues.
    return Translator(languages, dirs)


def _catalogue_files(dirs: Sequence[Path]) -> dict[str, list[Path]]:
    """language -> its catalogues, the first directory's first."""
    found: dict[str, list[Path]] = {}
    for directory in dirs:
        for po in sorted(Path(directory).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            found.setdefault(po.parent.parent.name, []).append(po)
    return found


def _chain(catalogues: list[gettext.NullTranslations]) -> gettext.NullTranslations:
    for fallback in catalogues[1:]:
        catalogues[0].add_fallback(fallback)
    return catalogues[0]


def _compile(path: Path) -> Translations:
    with path.open("rb") as source:
        catalog = read_po(source, domain=DOMAIN)
    _drop_broken(catalog, path)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _drop_broken(catalog: Catalog, path: Path) -> None:
    """Forget translations whose placeholders differ from the msgid's: they would fail when filled in."""
    for message in catalog:
        if not message.id or not message.string:
            continue
        if _placeholders_differ(message):
            log.warning("%s: translation of %r ignored: its placeholders differ from the msgid's", path, message.id)
            message.string = "" if isinstance(message.string, str) else [""] * len(message.string)


def _placeholders_differ(message: Message) -> bool:
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
    expected = set().union(*(_names(text) for text in ids))
    if len(ids) == 1:
        return any(_names(text) != expected for text in strings if text)
    # Plural forms may leave out the number (e.g. "one ticket").
    return any(not _names(text) <= expected | {"num"} for text in strings if text)


def _names(text: str) -> set[str]:
    return {brace or percent for brace, percent in _PLACEHOLDER.findall(text)}
