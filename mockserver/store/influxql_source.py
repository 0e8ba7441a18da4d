"""Where a recording or replay query reads from, decided before any InfluxDB is asked.

A real server parses the query of `POST /recordings/query` and `POST /replays/query` with InfluxQL
and needs exactly one fully qualified measurement (`db.rp.m`) before it contacts InfluxDB
(services/replay/service.go `execQuery`); anything else fails the recording or replay at once. The
mock has no InfluxDB, so a qualified query keeps its success path; this module only finds the
queries a real server refuses whatever its InfluxDB, and the text it answers. It reads the start of
the statement and its FROM clause, not the whole grammar: a statement it cannot judge gives None.
"""

from __future__ import annotations

import re
from typing import NamedTuple

NOT_QUALIFIED = "could not determine database and retention policy. Is the query fully qualified?"
#: The statements ParseStatement dispatches on, in its error's order.
STATEMENTS = ("SELECT", "DELETE", "SHOW", "CREATE", "DROP", "GRANT", "REVOKE", "ALTER", "SET", "KILL")
#: InfluxQL 1.x keywords (influxql/token.go): a word among them is not an identifier.
_KEYWORD_TEXT = (
    "ALL ALTER ANY AS ASC BEGIN BY CREATE CONTINUOUS DATABASE DATABASES DEFAULT DELETE DESC DESTINATIONS "
    "DIAGNOSTICS DISTINCT DROP DURATION END EVERY EXPLAIN FIELD FOR FROM GRANT GRANTS GROUP GROUPS IN INF "
    "INSERT INTO KEY KEYS KILL LIMIT MEASUREMENT MEASUREMENTS NAME OFFSET ON ORDER PASSWORD POLICY POLICIES "
    "PRIVILEGES QUERIES QUERY READ REPLICATION RESAMPLE RETENTION REVOKE SELECT SERIES SET SHOW SHARD SHARDS "
    "SLIMIT SOFFSET STATS SUBSCRIPTION SUBSCRIPTIONS TAG TO USER USERS VALUES WHERE WITH WRITE"
)
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
MAX_QUERY = 1 << 16  # longer queries are not judged (None)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s*")
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_STRING = re.compile(r"'(?:[^'\\\n]|\\.)*'")
_REGEX = re.compile(r"/(?:[^/\\\n]|\\.)*/")


def _position(query: str, index: int) -> str:
    """InfluxQL's `line L, char C` (both 1-based) of `index`."""
    line = query.count("\n", 0, index)
    char = index - (query.rfind("\n", 0, index) + 1)
    return f"line {line + 1}, char {char + 1}"


def query_error(query: str, version: tuple[int, ...]) -> str | None:
    """The error a real server fails this recording/replay query with before asking InfluxDB, or
    None when it would go on to InfluxDB (or the statement is beyond what is judged here)."""
    if len(query) > MAX_QUERY:
        return None
    start = _SPACE.match(query).end()  # type: ignore[union-attr]
    word = _WORD.match(query, start)
    if word is None:
        return None
    upper = word.group().upper()
    if upper not in KEYWORDS:
        expected = ", ".join(STATEMENTS)
        return f"found {word.group()}, expected {expected} at {_position(query, start)}"
    if upper in STATEMENTS and upper != "SELECT":
        return NOT_QUALIFIED  # no other statement has a measurement source
    if upper != "SELECT":
        return None
    return _from_clause_error(query, word.end(), version)


def _from_clause_error(query: str, index: int, version: tuple[int, ...]) -> str | None:
    found, fields_only = _find_from(query, index)
    if found is not None:
        return _sources_error(query, found, version)
    return f"found EOF, expected FROM at {_position(query, len(query))}" if fields_only else None


def _find_from(query: str, index: int) -> tuple[int | None, bool]:
    """Where the sources of a FROM outside parentheses start (None without one), and, without one,
    whether the statement held only plain fields (a SELECT that misses its FROM)."""
    depth = 0
    plain = True
    while index < len(query):
        char = query[index]
        if char in "\"'":
            found = (_QUOTED if char == '"' else _STRING).match(query, index)
            if found is None:
                return None, False
            index = found.end()
        elif char in "()":
            depth, index = depth + (1 if char == "(" else -1), index + 1
        elif (word := _WORD.match(query, index)) is not None:
            index = word.end()
            if depth == 0 and word.group().upper() == "FROM":
                return index, False
            plain = plain and word.group().upper() not in KEYWORDS
        else:
            index += 1
    return None, plain and depth == 0


class _Source(NamedTuple):
    """One source of a FROM clause: its name segments as written, whether a regex ends it, and
    where a subquery starts instead (-1 for a measurement)."""

    segments: tuple[str, ...]
    regex: bool = False
    subquery_at: int = -1


def _read_sources(query: str, index: int) -> list[_Source] | None:
    """The sources of the FROM clause starting at `index`, up to and including a subquery; None
    where this reader cannot tell (a keyword, something that is no source): left to the real
    parser's rules."""
    sources: list[_Source] = []
    while True:
        index = _SPACE.match(query, index).end()  # type: ignore[union-attr]
        if query.startswith("(", index):
            sources.append(_Source((), subquery_at=index))
            return sources
        segments: list[str] = []
        regex = False
        while True:
            if (found := _REGEX.match(query, index)) is not None:
                regex, index = True, found.end()
                break
            if (found := _QUOTED.match(query, index)) is not None or (found := _WORD.match(query, index)) is not None:
                if found.group()[0] != '"' and found.group().upper() in KEYWORDS:
                    return None
                segments.append(found.group())
                index = found.end()
            elif not query.startswith(".", index):
                break
            else:
                segments.append("")  # db..m: an empty retention policy
            if len(segments) == 3 or not query.startswith(".", index):
                break
            index += 1
        if not segments and not regex:
            return None
        sources.append(_Source(tuple(segments), regex))
        index = _SPACE.match(query, index).end()  # type: ignore[union-attr]
        if not query.startswith(",", index):
            return sources
        index += 1


def _sources_error(query: str, index: int, version: tuple[int, ...]) -> str | None:
    sources = _read_sources(query, index)
    if sources is None:
        return None
    if sources[-1].subquery_at >= 0:
        # 1.5's InfluxQL has no subqueries (parseSource); later parsers accept them.
        at = _position(query, sources[-1].subquery_at)
        return f"found (, expected identifier at {at}" if version < (1, 6) else None
    names = [*sources[0].segments, *(["/"] if sources[0].regex else [])]
    qualified = len(names) == 3 and names[0] not in ("", '""') and names[1] not in ("", '""')
    return None if len(sources) == 1 and qualified else NOT_QUALIFIED


def _unquote(segment: str) -> str:
    if segment.startswith('"'):
        return re.sub(r"\\(.)", r"\1", segment[1:-1])
    return segment


def query_dbrps(query: str) -> list[tuple[str, str]] | None:
    """The (database, retention policy) of each measurement a batch query reads (kapacitor's
    Query.DBRPs: "" for a part not written), or None where this reader cannot tell: the task
    master checks them against the task's dbrps before the first query."""
    if len(query) > MAX_QUERY:
        return None
    start = _SPACE.match(query).end()  # type: ignore[union-attr]
    word = _WORD.match(query, start)
    if word is None or word.group().upper() != "SELECT":
        return None
    index, _ = _find_from(query, word.end())
    sources = _read_sources(query, index) if index is not None else None
    if sources is None or any(src.regex or src.subquery_at >= 0 for src in sources):
        return None  # a regex or a subquery: left to the real parser's rules
    dbrps: list[tuple[str, str]] = []
    for src in sources:
        names = [""] * (3 - len(src.segments)) + [_unquote(segment) for segment in src.segments]
        dbrps.append((names[0], names[1]))
    return dbrps
