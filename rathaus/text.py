"""Text that people typed: what counts as visible."""

from __future__ import annotations

import unicodedata

# Control, format (zero-width and direction marks), separator, unassigned and private-use characters, and
# combining marks on their own: a text made only of these shows nothing.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})


def visible(text: str) -> str:
    """`text` with its whitespace collapsed, or "" when no character of it can be seen."""
    collapsed = " ".join(text.split())
    if not any(unicodedata.category(char) not in _INVISIBLE for char in collapsed):
        return ""
    return collapsed
