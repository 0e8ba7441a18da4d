"""Hypothesis strategies for Kapacitor IDs.

Validity is decided by `spec.ids` (the Go RE2 rule, shared with the spec), never re-implemented
here. Characters are drawn only where every Go version agrees with Python: their general category
is the same in Unicode 3.2 and in Python's current database, so a server built with an older Go
(older Unicode tables) judges them the same way.
"""

from __future__ import annotations

import functools
import unicodedata

from hypothesis import strategies as st

#: Letters from many scripts (all \p{L}): Latin, Greek, Cyrillic, Arabic, Hebrew, CJK, Hangul,
#: Devanagari, Thai, kana, titlecase and modifier letters.
LETTERS = [*list("aZéßǅΩλжЯبאק中字한क़กあカʰ"), "ǅ", "ʰ"]
#: Characters the rule rejects although Python's str methods call some of them letters/digits.
MARKS = ["\u0301", "\u0903", "\u20dd"]  # Mn, Mc, Me
NON_ASCII_DIGITS = ["١", "٣", "५", "０"]  # Nd outside 0-9
OTHER_NUMBERS = ["²", "½", "Ⅻ", "ⅻ"]  # No / Nl
PUNCT = [*list(" :*/?#%!@+,;=~'\"\\\t"), "\x00", "\xa0", "\u2028"]
ALLOWED_ASCII = list("-._0123456789abcXYZ")


def stable(ch: str) -> bool:
    """Same general category in Unicode 3.2 as today (and assigned back then)."""
    try:
        old = unicodedata.ucd_3_2_0.category(ch)
    except (TypeError, ValueError):
        return False
    return old != "Cn" and old == unicodedata.category(ch) and not 0xD800 <= ord(ch) <= 0xDFFF


@functools.lru_cache(maxsize=1)
def interesting() -> list[str]:
    chars = LETTERS + MARKS + NON_ASCII_DIGITS + OTHER_NUMBERS + PUNCT + ALLOWED_ASCII
    return [c for c in dict.fromkeys(chars) if stable(c)]


def id_chars() -> st.SearchStrategy[str]:
    """Mostly hand-picked interesting characters, sometimes any stable code point."""
    return st.one_of(
        st.sampled_from(interesting()),
        st.sampled_from(ALLOWED_ASCII),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cn", "Co")).filter(stable),
    )


def id_suffixes(max_size: int = 10) -> st.SearchStrategy[str]:
    """Suffixes appended to the run prefix; sometimes with a trailing newline (Go `$` = end of text)."""
    body = st.text(id_chars(), min_size=1, max_size=max_size)
    return st.one_of(body, body.map(lambda s: s + "\n"))
