"""Named checks: small functions that raise a typed failure saying what was expected and why.

Every test in the suite is one *check* with a stable id (e.g. `deletes.missing-204`), a level
(MUST = documented contract, SHOULD = real-server behaviour beyond the docs), an area and a reference
to the doc section (`api#...`) or behaviour-reference section (`behaviour §...`) it enforces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from conformance.target import Exchange

MUST = "MUST"
SHOULD = "SHOULD"
LEVELS = (MUST, SHOULD)

#: Areas that a target may legitimately not serve; they skip cleanly when absent.
OPTIONAL_AREAS = ("users", "flux", "write")
AREAS = (
    "status",
    "ids",
    "pagination",
    "pattern",
    "fields",
    "deletes",
    "errors",
    "headers",
    "links",
    "preview",
    "methods",
    "json",
    "versions",
    "lifecycle",
    "alerts",
    "config",
    "write",
    "users",
    "flux",
    "schema",
    "templates",
    "recordings",
    "replays",
    "services",
    "storage",
    "dataplane",
)


@dataclass(frozen=True)
class CheckSpec:
    """The identity of a check, attached to its test as the `kcheck` marker."""

    id: str
    level: str
    ref: str
    area: str
    mutates: bool = False
    requires: tuple[str, ...] = ()
    title: str = ""


def check(
    check_id: str,
    level: str,
    ref: str,
    *,
    mutates: bool = False,
    requires: Iterable[str] = (),
    area: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a test as the named check. `requires` lists opt-in flags (`writes`, `config-writes`)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    area = area or check_id.split(".", 1)[0]
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r} for check {check_id}")

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        title = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        spec = CheckSpec(check_id, level, ref, area, mutates, tuple(requires), title)
        marks = [
            pytest.mark.kcheck(spec),
            pytest.mark.must if level == MUST else pytest.mark.should,
            pytest.mark.area(area),
        ]
        if mutates:
            marks.append(pytest.mark.mutates)
        for mark in marks:
            func = mark(func)
        return func

    return wrap


class CheckFailure(AssertionError):
    """A departure from the API: what was checked, what was expected, what came back, and why."""

    def __init__(
        self,
        what: str,
        *,
        expected: Any,
        actual: Any,
        ref: str = "",
        exchange: Exchange | None = None,
        hint: str = "",
    ) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        self.ref = ref
        self.exchange = exchange
        self.hint = hint
        super().__init__(self.render())

    @property
    def difference(self) -> str:
        """For two lists: what is missing, what is extra, or where the order first differs."""
        return list_difference(self.expected, self.actual)

    def render(self) -> str:
        lines = [self.what, f"  expected: {_short(self.expected)}", f"  actual:   {_short(self.actual)}"]
        if self.difference:
            lines.append(f"  difference: {self.difference}")
        if self.ref:
            lines.append(f"  reference: {self.ref}")
        if self.hint:
            lines.append(f"  note: {self.hint}")
        if self.exchange is not None:
            lines.append(f"  exchange: {self.exchange.method} {self.exchange.path} -> {self.exchange.status}")
            lines.append(f"  reproduce: {self.exchange.curl()}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
            "ref": self.ref,
            "hint": self.hint,
            "difference": self.difference,
        }


def list_difference(expected: Any, actual: Any, limit: int = 10) -> str:
    """Long lists (IDs of a page, say) are unreadable side by side; name what differs instead."""
    if not isinstance(expected, list) or not isinstance(actual, list) or expected == actual:
        return ""

    def show(items: list[Any]) -> str:
        text = ", ".join(json.dumps(_jsonable(i), ensure_ascii=False) for i in items[:limit])
        return text + (f" (+{len(items) - limit} more)" if len(items) > limit else "")

    try:
        missing = [i for i in expected if i not in actual]
        extra = [i for i in actual if i not in expected]
    except TypeError:  # pragma: no cover - unhashable oddities compare by equality above
        return ""
    parts = [f"{len(expected)} expected, {len(actual)} received"]
    if missing:
        parts.append(f"missing: {show(missing)}")
    if extra:
        parts.append(f"unexpected: {show(extra)}")
    if not missing and not extra:
        pairs = enumerate(zip(expected, actual, strict=False))
        first = next((i for i, (a, b) in pairs if a != b), min(len(expected), len(actual)))
        parts.append(f"same items in another order (or repeated); first difference at index {first}: "
                     f"expected {show(expected[first:first + 1])}, received {show(actual[first:first + 1])}")
    return "; ".join(parts)


def _short(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(_jsonable(value), ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def fail(what: str, *, expected: Any, actual: Any, ref: str = "", exchange: Exchange | None = None,
         hint: str = "") -> NoReturn:
    __tracebackhide__ = True
    raise CheckFailure(what, expected=expected, actual=actual, ref=ref, exchange=exchange, hint=hint)


def expect(cond: bool, what: str, *, expected: Any, actual: Any, ref: str = "",
           exchange: Exchange | None = None, hint: str = "") -> None:
    __tracebackhide__ = True
    if not cond:
        fail(what, expected=expected, actual=actual, ref=ref, exchange=exchange, hint=hint)


def expect_equal(actual: Any, expected: Any, what: str, *, ref: str = "", exchange: Exchange | None = None,
                 hint: str = "") -> None:
    __tracebackhide__ = True
    if actual != expected:
        fail(what, expected=expected, actual=actual, ref=ref, exchange=exchange, hint=hint)


def answered(ex: Exchange, ref: str = "") -> None:
    """The target must answer with HTTP at all (a dropped connection is a failure of its own)."""
    __tracebackhide__ = True
    if ex.error:
        fail(f"{ex.method} {ex.path}: no HTTP response", expected="an HTTP response", actual=ex.error,
             ref=ref, exchange=ex)


def expect_status(ex: Exchange, expected: int | Iterable[int], what: str = "", *, ref: str = "",
                  hint: str = "") -> None:
    __tracebackhide__ = True
    answered(ex, ref)
    allowed = {expected} if isinstance(expected, int) else set(expected)
    if ex.status not in allowed:
        label = what or f"{ex.method} {ex.path}"
        exp: Any = next(iter(allowed)) if len(allowed) == 1 else sorted(allowed)
        body = ex.json_or_none()
        err = body.get("error") if isinstance(body, dict) and ex.status >= 400 else None
        fail(f"{label}: status code", expected=exp, actual=f"{ex.status} ({err})" if err else ex.status,
             ref=ref, exchange=ex, hint=hint)


def expect_json(ex: Exchange, what: str = "", *, ref: str = "") -> Any:
    __tracebackhide__ = True
    answered(ex, ref)
    try:
        return ex.json()
    except ValueError:
        fail(f"{what or ex.method + ' ' + ex.path}: body is JSON", expected="a JSON document",
             actual=ex.text[:300] or "(empty body)", ref=ref, exchange=ex)
    return None  # pragma: no cover


def expect_json_content_type(ex: Exchange, what: str = "", *, ref: str = "api#errors") -> None:
    __tracebackhide__ = True
    ctype = ex.header("Content-Type") or ""
    expect(ctype.split(";")[0].strip().lower() == "application/json",
           f"{what or ex.method + ' ' + ex.path}: Content-Type is JSON",
           expected="application/json; charset=utf-8", actual=ctype or "(absent)", ref=ref, exchange=ex)


def expect_empty_body(ex: Exchange, what: str = "", *, ref: str = "") -> None:
    __tracebackhide__ = True
    expect(ex.body == b"", f"{what or ex.method + ' ' + ex.path}: no body", expected="(empty body)",
           actual=ex.text[:300], ref=ref, exchange=ex)


def error_body(ex: Exchange, *, with_message: bool, message: str | Callable[[str], bool] | None = None,
               what: str = "", ref: str = "api#errors", message_ref: str = "behaviour §1.6") -> str:
    """A 4xx/5xx body must be JSON with an `error` string (and `message` == `error` from 1.6 on)."""
    __tracebackhide__ = True
    label = what or f"{ex.method} {ex.path}"
    body = expect_json(ex, label, ref=ref)
    expect(isinstance(body, dict) and isinstance(body.get("error"), str),
           f"{label}: error body has an 'error' string", expected='{"error": "<message>"}',
           actual=body, ref=ref, exchange=ex)
    err: str = body["error"]
    if with_message:
        expect(body.get("message") == err, f"{label}: error body repeats the text as 'message' (1.6+)",
               expected={"error": err, "message": err}, actual=body, ref=message_ref, exchange=ex)
    if message is not None:
        ok = message(err) if callable(message) else err == message
        expect(ok, f"{label}: error message", expected=message if isinstance(message, str) else "matching message",
               actual=err, ref=ref, exchange=ex)
    return err


def is_catch_all(ex: Exchange) -> bool:
    """The router's catch-all answer: how a target says it does not serve a path at all."""
    if ex.error or ex.status != 404:
        return False
    body = ex.json_or_none()
    return isinstance(body, dict) and body.get("error") == "Not Found"


def id_matches(glob: str, check_id: str, full_id: str) -> bool:
    """Check-id globs: `*` and `?` are wildcards; `[` is literal (parameter ids use brackets)."""
    import fnmatch

    if glob in (check_id, full_id):
        return True
    pat = glob.replace("[", "\x00").replace("]", "[]]").replace("\x00", "[[]")
    return fnmatch.fnmatchcase(check_id, pat) or fnmatch.fnmatchcase(full_id, pat)
