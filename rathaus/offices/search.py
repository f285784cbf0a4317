"""Finding services and life events by what citizens type: any offered language, typos tolerated.

The catalogue has tens of entries, so every query scores each of them in memory: each query word against
each word of the names (all languages) and keywords, by prefix or by `difflib`'s similarity ratio.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from rathaus.offices.catalog import BundleRule, CatalogSnapshot
from rathaus.offices.rules import ServiceRule

# How similar a query word must be to a word of an entry ("ummelden" ~ "anmelden" is 0.75).
MATCH = 0.74
# Query words shorter than this only match as a prefix (two letters would be "similar" to too much).
_FUZZY_FROM = 4
DESCRIPTION_WEIGHT = 0.9
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True, slots=True)
class Hit:
    score: float
    service: ServiceRule | None = None
    bundle: BundleRule | None = None


def words(text: str) -> list[str]:
    """Lower-case words with umlauts spelled out and accents dropped ("Führungs-Zeugnis" → fuehrungs, zeugnis)."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


@lru_cache(maxsize=4096)
def _similarity(wanted: str, word: str) -> float:
    if word.startswith(wanted) or (len(wanted) >= _FUZZY_FROM and wanted in word):
        return 1.0
    if len(wanted) < _FUZZY_FROM:
        return 0.0
    # Compounds ("Wohnsitzanmeldung") hold the word people type near their start or end.
    candidates = {word, word[: len(wanted)], word[-len(wanted) :]}
    return max(SequenceMatcher(None, wanted, candidate).ratio() for candidate in candidates)


def score(query: list[str], texts: Iterable[str]) -> float:
    """How well an entry described by `texts` answers the query words: the mean of each word's best match."""
    vocabulary = {word for text in texts for word in words(text)}
    if not query or not vocabulary:
        return 0.0
    best = [max(_similarity(wanted, word) for word in vocabulary) for wanted in query]
    return 0.0 if min(best) < MATCH else sum(best) / len(best)


def _service_texts(service: ServiceRule) -> list[str]:
    return [*service.name.as_dict().values(), *(word for ws in service.keywords.values() for word in ws)]


def _bundle_score(query: list[str], bundle: BundleRule) -> float:
    # A word found only in the longer description counts for less than one in the name.
    by_name = score(query, bundle.name.as_dict().values())
    return max(by_name, DESCRIPTION_WEIGHT * score(query, bundle.description.as_dict().values()))


def search(snapshot: CatalogSnapshot, query: str, *, limit: int = 20) -> list[Hit]:
    """Services and life events matching `query` in any language, best first (ties: services first)."""
    wanted = words(query)[:8]
    hits = [Hit(_bundle_score(wanted, b), bundle=b) for b in snapshot.bundles.values()]
    hits += [Hit(score(wanted, _service_texts(s)), service=s) for s in snapshot.services.values()]
    found = [hit for hit in hits if hit.score > 0]
    found.sort(key=lambda hit: (-hit.score, hit.service is None))
    return found[:limit]
