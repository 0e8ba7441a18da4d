"""Kapacitor's ID rules with Go RE2 semantics, shared by the mock, the spec formats and the suite.

Go's `^[-\\._\\p{L}0-9]+$` differs from a naive Python port in three ways: `\\p{L}` is every Unicode
letter, `0-9` is ASCII only (so `²`, `Ⅻ` and Arabic-Indic digits are rejected) and `$` is the end
of text (so a trailing newline is rejected). The `regex` package gives `\\p{L}`; `fullmatch` gives
the end-of-text anchor.
"""

from __future__ import annotations

import regex

#: The raw RE2 ID pattern exactly as the server declares it (and quotes it in some error texts); the
#: OpenAPI document keeps every ID pattern verbatim in `x-re2-pattern`.
ID_PATTERN = r"^[-\._\p{L}0-9]+$"

_ID = regex.compile(r"[-._\p{L}0-9]+", regex.V0)
_TOPIC_ID = regex.compile(r"[-:._\p{L}0-9]+", regex.V0)
_USERNAME = regex.compile(r"[-._\p{L}0-9@]+", regex.V0)
_CONFIG_NAME = regex.compile(r"[-A-Za-z0-9_+]+", regex.V0)


def is_valid_id(value: str) -> bool:
    """Task, template, recording, replay and alert-handler IDs."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_valid_topic_id(value: str) -> bool:
    """Alert topic IDs also allow `:` (anonymous topics are `main:<task>:<node>`)."""
    return isinstance(value, str) and _TOPIC_ID.fullmatch(value) is not None


def is_valid_username(value: str) -> bool:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def is_valid_config_name(value: str) -> bool:
    """Config section and element names: Go `\\w` is ASCII-only."""
    return isinstance(value, str) and _CONFIG_NAME.fullmatch(value) is not None


#: OpenAPI `format` names used in the document, mapped to their predicates.
FORMATS = {
    "kapacitor-id": is_valid_id,
    "kapacitor-topic-id": is_valid_topic_id,
    "kapacitor-username": is_valid_username,
    "kapacitor-config-name": is_valid_config_name,
}
