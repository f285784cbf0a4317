"""Catalogue content in several languages (a service's name, what to bring, a closure's reason).

Stored as one JSON object per field (`{"de": "…", "en": "…"}`), so a further language needs a translation in
the configuration file, not a migration. German is the language every text must have: the offices write it,
and it is what a reader of any other language sees where a translation is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

DEFAULT_LANGUAGE = "de"


class Localized:
    """An immutable text per language code, read with `get(language)` falling back to German."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str] | None = None, /, **by_language: str) -> None:
        merged = {**(texts or {}), **by_language}
        self._texts: dict[str, str] = {language: text for language, text in sorted(merged.items()) if text}

    def get(self, language: str) -> str:
        """The text in `language`, else in German, else in any language there is, else ""."""
        if language in self._texts:
            return self._texts[language]
        return self._texts.get(DEFAULT_LANGUAGE) or next(iter(self._texts.values()), "")

    def as_dict(self) -> dict[str, str]:
        """The texts as a plain dict (for JSON)."""
        return dict(self._texts)

    def __hash__(self) -> int:
        return hash(tuple(self._texts.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Localized) and self._texts == other._texts

    def __bool__(self) -> bool:
        return bool(self._texts)

    def __repr__(self) -> str:
        return f"Localized({self._texts!r})"


class LocalizedText(TypeDecorator[Localized]):
    """A `Localized` stored as a JSON object of language code to text."""

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: Localized | Mapping[str, str] | None, dialect: Dialect
    ) -> dict[str, str] | None:
        if value is None:
            return None
        return value.as_dict() if isinstance(value, Localized) else Localized(value).as_dict()

    def process_result_value(self, value: Any, dialect: Dialect) -> Localized | None:
        return None if value is None else Localized(value)


def joined(separator: str, texts: Iterable[Localized]) -> Localized:
    """Several texts as one, in every language any of them has (e.g. the names of chosen services)."""
    texts = list(texts)
    languages = {language for text in texts for language in text.as_dict()}
    return Localized({language: separator.join(text.get(language) for text in texts) for language in languages})
