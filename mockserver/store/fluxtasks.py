"""Flux tasks, runs and logs (served only with --flux-tasks): the task service stack without HTTP.

Kapacitor serves this API from InfluxDB 2's task code: a key/value task service wrapped by an
"analytical storage" layer (completed runs are kept and listed) and a coordinating middleware
(the task must exist before runs are forced or retried; a forced run is executed before the
request returns). The mock has no Flux engine, so:

* only the `option task = {...}` statement of a script is read (a small scanner, not a parser);
  the rest of the script is stored verbatim and never checked;
* a manual run (POST .../runs, retry) executes at once and always succeeds, with the executor's
  log lines ("Started task from script: ...", "Completed(success)"); scheduled runs are never
  executed;
* an option update rewrites the `option task` object in place instead of reformatting the whole
  script as the Flux formatter does.

Errors are InfluxDB 2 platform errors (code + message chain); the HTTP layer renders them.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from mockserver.gotext import go_quote
from mockserver.gotime import format_ns, now_ns

# ---- platform errors ------------------------------------------------------------------------------

E_INTERNAL = "internal error"
E_NOT_FOUND = "not found"
E_CONFLICT = "conflict"
E_INVALID = "invalid"
E_UNPROCESSABLE = "unprocessable entity"

STATUS_BY_CODE = {
    E_INTERNAL: 500,
    "not implemented": 501,
    E_INVALID: 400,
    E_UNPROCESSABLE: 422,
    "empty value": 400,
    E_CONFLICT: 422,
    E_NOT_FOUND: 404,
    "unavailable": 503,
    "forbidden": 403,
    "too many requests": 429,
    "unauthorized": 401,
    "method not allowed": 405,
    "request too large": 413,
}


class GoError(Exception):
    """A plain Go error (not a platform error): its code is `internal error`."""


class PlatformError(Exception):
    """InfluxDB 2's errors.Error: a code, a message and an optional wrapped error."""

    def __init__(self, code: str = "", msg: str = "", err: Exception | None = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.err = err
        self.origin: PlatformError = self

    def fresh(self) -> PlatformError:
        """A raisable copy of a sentinel: raising the shared instance would pin its traceback
        (and the request frames in it) for the life of the process."""
        copy = PlatformError(self.code, self.msg, self.err)
        copy.origin = self.origin
        return copy

    def is_(self, sentinel: PlatformError) -> bool:
        """Go's `err == ErrX` for sentinels."""
        return self.origin is sentinel

    def __str__(self) -> str:
        if self.msg and self.err is not None:
            return f"{self.msg}: {self.err}"
        if self.msg:
            return self.msg
        if self.err is not None:
            return str(self.err)
        return f"<{self.code}>"


def error_code(err: Exception) -> str:
    """The first code found walking the chain from the outside in (`internal error` if none)."""
    if not isinstance(err, PlatformError):
        return E_INTERNAL
    if err.code:
        return err.code
    if err.err is not None:
        return error_code(err.err)
    return E_INTERNAL


def error_message(err: Exception) -> str:
    """Platform errors print their chain; anything else is hidden behind a generic text."""
    return str(err) if isinstance(err, PlatformError) else "An internal error has occurred"


TASK_NOT_FOUND = PlatformError(E_NOT_FOUND, "task not found")
RUN_NOT_FOUND = PlatformError(E_NOT_FOUND, "run not found")
NO_RUNS_FOUND = PlatformError(E_NOT_FOUND, "no matching runs found")
RUN_ALREADY_QUEUED = PlatformError(E_CONFLICT, "run already queued")
OUT_OF_BOUNDS_LIMIT = PlatformError(E_UNPROCESSABLE, "run limit is out of bounds, must be between 1 and 500")
INVALID_ID = PlatformError(E_INVALID, "invalid ID")
INVALID_ID_LENGTH = PlatformError(E_INVALID, "id must have a length of 16 bytes")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
STATUS_ACTIVE = "active"
STATUS_INACTIVE = "inactive"
SYSTEM_TYPE = "system"


def decode_id(text: str) -> int:
    """platform.ID from its 16-hex-digit form (any case; zero is invalid)."""
    if len(text.encode("utf-8", "surrogatepass")) != 16:
        raise INVALID_ID_LENGTH.fresh()
    if not all(c in "0123456789abcdefABCDEF" for c in text):
        raise INVALID_ID.fresh()
    value = int(text, 16)
    if value == 0:
        raise INVALID_ID.fresh()
    return value


def encode_id(value: int) -> str:
    return f"{value:016x}"


# ---- durations ------------------------------------------------------------------------------------

#: Flux duration units (longest first so `mo`/`ms` win over `m`).
FLUX_UNITS = ("mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s")
_FIXED_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
#: Units Go's time.ParseDuration accepts (the offset goes through it).
_GO_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}

Duration = list[tuple[int, str]]


def parse_signed_duration(text: str) -> Duration:
    """The task options' ParseSignedDuration: `[-]<int><unit>...`; units are not checked here."""
    sign = 1
    if text.startswith("-"):
        sign, text = -1, text[1:]
    values: Duration = []
    rest = text
    while rest:
        n = 0
        while n < len(rest) and rest[n].isdigit():
            n += 1
        if n == 0:
            raise GoError(f"invalid duration {rest}")
        digits = rest[:n]
        if not digits.isascii():
            raise GoError(f"strconv.ParseInt: parsing {go_quote(digits)}: invalid syntax")
        magnitude = int(digits)
        if magnitude >= 2**63:
            raise GoError(f"strconv.ParseInt: parsing {go_quote(digits)}: value out of range")
        rest = rest[n:]
        n = 0
        while n < len(rest) and rest[n].isalpha():
            n += 1
        if n == 0:
            raise GoError(f"duration is missing a unit: {rest}")
        unit = rest[:n]
        values.append((sign * magnitude, "us" if unit == "µs" else unit))
        rest = rest[n:]
    return values


def format_duration(values: Duration) -> str:
    """Flux's duration formatting: the literal's parts, one sign in front."""
    if not values:
        return ""
    sign = "-" if values[0][0] < 0 else ""
    return sign + "".join(f"{abs(m)}{u}" for m, u in values)


def is_zero(values: Duration) -> bool:
    return all(m == 0 for m, _u in values)


def duration_ns(values: Duration, now: int) -> int:
    """ast.DurationFrom: fixed units add up; months and years are calendar steps from `now`."""
    months = 0
    total = 0
    for magnitude, unit in values:
        if unit == "mo":
            months += magnitude
        elif unit == "y":
            months += 12 * magnitude
        elif unit in _FIXED_NS:
            total += magnitude * _FIXED_NS[unit]
        else:
            raise GoError(f"unknown duration unit {unit}")
    if months:
        start = datetime.fromtimestamp(now // 10**9, tz=timezone.utc)
        year, month0 = divmod(start.month - 1 + months, 12)
        year += start.year
        day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
        target = start.replace(year=year, month=month0 + 1, day=day)
        total += int((target - start).total_seconds()) * 10**9
    return total


def go_parse_duration(text: str) -> int:
    """Go's time.ParseDuration (the subset task offsets need), with its error texts."""
    original = text
    quoted = go_quote(original)
    sign = 1
    if text[:1] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise GoError(f"time: invalid duration {quoted}")
    total = 0.0
    while text:
        i = 0
        while i < len(text) and text[i] in "0123456789.":
            i += 1
        number = text[:i]
        if not number or number == "." or number.count(".") > 1:
            raise GoError(f"time: invalid duration {quoted}")
        text = text[i:]
        j = 0
        while j < len(text) and text[j] not in "0123456789.":
            j += 1
        unit = text[:j]
        text = text[j:]
        if not unit:
            raise GoError(f"time: missing unit in duration {quoted}")
        if unit not in _GO_UNITS:
            raise GoError(f"time: unknown unit {go_quote(unit)} in duration {quoted}")
        total += float(number) * _GO_UNITS[unit]
    return sign * int(total)


def render_offset(ns: int) -> str:
    """The HTTP layer's own duration format: hours, minutes, seconds (sub-seconds dropped)."""
    out = ""
    if ns < 0:
        out, ns = "-", -ns
    hours, rest = divmod(ns, 3_600_000_000_000)
    if hours:
        out += f"{hours}h"
    if rest == 0:
        return out
    minutes, rest = divmod(rest, 60_000_000_000)
    if minutes:
        out += f"{minutes}m"
    if rest == 0:
        return out
    seconds = rest // 1_000_000_000
    if seconds:
        out += f"{seconds}s"
    return out


# ---- the `option task` scanner ----------------------------------------------------------------------


class FluxSyntaxError(GoError):
    pass


@dataclass
class Token:
    kind: str  # ident, string, int, float, duration, punct
    text: str
    start: int
    end: int
    value: Any = None


def _position(source: str, offset: int) -> str:
    line = source.count("\n", 0, offset) + 1
    col = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def _syntax_error(source: str, offset: int, what: str) -> FluxSyntaxError:
    pos = _position(source, offset)
    return FluxSyntaxError(f"error @{pos}-{pos}: {what}")


def _scan_units(source: str, i: int) -> tuple[str, int] | None:
    for unit in FLUX_UNITS:
        if source.startswith(unit, i):
            return unit, i + len(unit)
    return None


def tokenize(source: str) -> list[Token]:
    """Enough of Flux's lexer to find statements and literals; unknown characters are punctuation."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in " \t\r\n":
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif c == '"':
            i = _scan_string(source, i, tokens)
        elif c.isdigit() and c.isascii():
            i = _scan_number(source, i, tokens)
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (source[j].isalnum() or source[j] == "_"):
                j += 1
            tokens.append(Token("ident", source[i:j], i, j))
            i = j
        else:
            tokens.append(Token("punct", c, i, i + 1))
            i += 1
    return tokens


def _scan_string(source: str, i: int, tokens: list[Token]) -> int:
    start, n = i, len(source)
    i += 1
    out = []
    while i < n:
        c = source[i]
        if c == "\\":
            if i + 1 >= n:
                break
            nxt = source[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            i += 2
        elif c == '"':
            tokens.append(Token("string", source[start : i + 1], start, i + 1, "".join(out)))
            return i + 1
        elif source.startswith("${", i):
            depth, i = 1, i + 2
            while i < n and depth:
                depth += {"{": 1, "}": -1}.get(source[i], 0)
                i += 1
            out.append("${...}")
        else:
            out.append(c)
            i += 1
    raise _syntax_error(source, start, "got unexpected EOF in string literal")


def _scan_number(source: str, i: int, tokens: list[Token]) -> int:
    start, n = i, len(source)
    while i < n and source[i].isdigit() and source[i].isascii():
        i += 1
    if i < n and source[i] == "." and i + 1 < n and source[i + 1].isdigit():
        i += 1
        while i < n and source[i].isdigit() and source[i].isascii():
            i += 1
        tokens.append(Token("float", source[start:i], start, i))
        return i
    if i < n and (source[i].isalpha() or source[i] == "µ"):
        values: Duration = []
        j = start
        while True:
            k = j
            while k < n and source[k].isdigit() and source[k].isascii():
                k += 1
            if k == j:
                break
            unit = _scan_units(source, k)
            if unit is None:
                raise _syntax_error(source, k, "invalid duration unit")
            values.append((int(source[j:k]), "us" if unit[0] == "µs" else unit[0]))
            j = unit[1]
        if j < n and (source[j].isalpha() or source[j] == "_"):
            raise _syntax_error(source, j, "invalid duration unit")
        tokens.append(Token("duration", source[start:j], start, j, values))
        return j
    tokens.append(Token("int", source[start:i], start, i, int(source[start:i])))
    return i


@dataclass
class Property:
    key: str
    key_text: str
    kind: str  # string, duration, unary, int, other
    value: Any
    value_text: str


@dataclass
class TaskOption:
    """The `option task = ...` statement: the object's properties and where its value sits."""

    start: int  # offset of the value expression
    end: int
    properties: list[Property] | None  # None when the value is not an object literal
    value_type: str = "ObjectExpression"

    def get(self, key: str) -> Property | None:
        for prop in self.properties or ():
            if prop.key == key:
                return prop
        return None


_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def find_task_options(source: str) -> list[TaskOption]:
    tokens = tokenize(source)
    stack: list[tuple[str, int]] = []
    found: list[TaskOption] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "punct" and tok.text in _CLOSERS:
            stack.append((_CLOSERS[tok.text], tok.start))
        elif tok.kind == "punct" and tok.text in ")]}":
            if not stack or stack[-1][0] != tok.text:
                raise _syntax_error(source, tok.start, f"unexpected token {tok.text}")
            stack.pop()
        elif (
            not stack
            and tok.kind == "ident"
            and tok.text == "option"
            and i + 2 < len(tokens)
            and tokens[i + 1].text == "task"
            and tokens[i + 2].text == "="
            and not (i + 3 < len(tokens) and tokens[i + 3].text == "=" and tokens[i + 3].start == tokens[i + 2].end)
        ):
            found.append(_parse_option_value(source, tokens, i + 3))
    if stack:
        raise _syntax_error(source, stack[-1][1], f"expected {_name(stack[-1][0])}, got EOF")
    return found


def _name(closer: str) -> str:
    return {")": "RPAREN", "]": "RBRACK", "}": "RBRACE"}[closer]


def _parse_option_value(source: str, tokens: list[Token], i: int) -> TaskOption:
    if i >= len(tokens):
        raise _syntax_error(source, len(source), "expected an expression, got EOF")
    first = tokens[i]
    if first.text != "{" or first.kind != "punct":
        kinds = {
            "ident": "Identifier",
            "string": "StringLiteral",
            "int": "IntegerLiteral",
            "duration": "DurationLiteral",
        }
        return TaskOption(first.start, first.end, None, kinds.get(first.kind, "Expression"))
    j = i + 1
    if j + 1 < len(tokens) and tokens[j].kind == "ident" and tokens[j + 1].text == "with":
        j += 2
    props: list[Property] = []
    while j < len(tokens) and tokens[j].text != "}":
        key_tok = tokens[j]
        if key_tok.kind not in ("ident", "string") or j + 1 >= len(tokens) or tokens[j + 1].text != ":":
            raise _syntax_error(source, key_tok.start, "expected a property key")
        key = key_tok.value if key_tok.kind == "string" else key_tok.text
        k = j + 2
        end = k
        depth = 0
        while end < len(tokens):
            t = tokens[end]
            if t.kind == "punct" and t.text in "([{":
                depth += 1
            elif t.kind == "punct" and t.text in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif t.kind == "punct" and t.text == "," and depth == 0:
                break
            end += 1
        value_tokens = tokens[k:end]
        if not value_tokens:
            raise _syntax_error(source, tokens[k - 1].end, "expected an expression")
        props.append(_property(source, key, key_tok.text, value_tokens))
        j = end + 1 if end < len(tokens) and tokens[end].text == "," else end
    if j >= len(tokens):
        raise _syntax_error(source, len(source), "expected RBRACE, got EOF")
    return TaskOption(first.start, tokens[j].end, props)


def _property(source: str, key: str, key_text: str, toks: list[Token]) -> Property:
    text = source[toks[0].start : toks[-1].end]
    if len(toks) == 1:
        t = toks[0]
        if t.kind == "string":
            return Property(key, key_text, "string", t.value, text)
        if t.kind == "duration":
            return Property(key, key_text, "duration", t.value, text)
        if t.kind == "int":
            return Property(key, key_text, "int", t.value, text)
    if len(toks) == 2 and toks[0].text == "-" and toks[1].kind == "duration":
        return Property(key, key_text, "unary", [(-m, u) for m, u in toks[1].value], text)
    return Property(key, key_text, "other", None, text)


# ---- option extraction and validation --------------------------------------------------------------


@dataclass
class Options:
    name: str = ""
    cron: str = ""
    every: Duration = field(default_factory=list)
    offset: Duration | None = None
    concurrency: int | None = 1
    retry: int | None = 1


def _field_error(name: str) -> GoError:
    return GoError(f"failed to parse field '{name}' in task options")


def options_from_script(script: str, now: int) -> Options:
    """FromScriptAST: the task options of a script, or the error the server reports."""
    found = find_task_options(script)
    if len(found) > 1:
        raise GoError("multiple task options defined")
    if not found:
        raise GoError("no task options defined")
    option = found[0]
    if option.properties is None:
        # The server formats the type of a nil object literal here, hence always "ObjectExpression".
        raise GoError('task option expected to be object literal, but found "ObjectExpression"')
    opts = Options()
    name = option.get("name")
    if name is None:
        raise GoError("missing required option: name")
    if name.kind != "string":
        raise _field_error("name")
    opts.name = name.value
    cron, every = option.get("cron"), option.get("every")
    if cron is not None and every is not None:
        raise GoError("cannot use both cron and every in task options")
    if cron is None and every is None:
        raise GoError("missing required option: cron or every")
    if cron is not None:
        if cron.kind != "string":
            raise _field_error("cron")
        opts.cron = cron.value
    if every is not None:
        if every.kind != "duration":
            raise _field_error("every")
        opts.every = every.value
    offset = option.get("offset")
    if offset is not None:
        if offset.kind not in ("duration", "unary"):
            raise _field_error("offset")
        opts.offset = offset.value
    for key in ("concurrency", "retry"):
        prop = option.get(key)
        if prop is not None:
            if prop.kind != "int":
                raise _field_error(key)
            setattr(opts, key, prop.value)
    _validate(opts, now)
    return opts


def _validate(opts: Options, now: int) -> None:
    errs = []
    if opts.name == "":
        errs.append("name required")
    cron_present = opts.cron != ""
    every_present = not is_zero(opts.every)
    if cron_present == every_present:
        errs.append("must specify exactly one of either cron or every")
    elif cron_present:
        problem = cron_problem(opts.cron)
        if problem:
            errs.append("cron invalid: " + problem)
    else:
        every = duration_ns(opts.every, now)
        if every < 1_000_000_000:
            errs.append("every option must be at least 1 second")
        elif every % 1_000_000_000:
            errs.append("every option must be expressible as whole seconds")
    if opts.offset is not None and duration_ns(opts.offset, now) % 1_000_000_000:
        errs.append("offset option must be expressible as whole seconds")
    if opts.concurrency is not None:
        if opts.concurrency < 1:
            errs.append("concurrency must be at least 1")
        elif opts.concurrency > 100:
            errs.append("concurrency exceeded max of 100")
    if opts.retry is not None:
        if opts.retry < 1:
            errs.append("retry must be at least 1")
        elif opts.retry > 10:
            errs.append("retry exceeded max of 10")
    if errs:
        raise GoError("invalid options: " + ", ".join(errs))


_CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly")


def cron_problem(expr: str) -> str:
    """A light check of the cron syntax the scheduler accepts (5 to 7 fields or a descriptor)."""
    text = expr.strip()
    if text.startswith("@every "):
        try:
            values = parse_signed_duration(text[len("@every ") :].strip())
        except GoError as exc:
            return str(exc)
        return "" if values and not is_zero(values) else "invalid @every duration"
    if text.startswith("@"):
        return "" if text in _CRON_DESCRIPTORS else f"unknown descriptor {text}"
    parts = text.split()
    if not 5 <= len(parts) <= 7:
        return f"cron expression must have 5 to 7 fields, got {len(parts)}"
    allowed = set("0123456789*/,-?LW#") | set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    for part in parts:
        if not part or not set(part) <= allowed:
            return f"invalid cron field {part}"
    return ""


def flux_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def edit_task_option(source: str, *, name: str, every: Duration, cron: str, offset: Duration | None) -> str | None:
    """TaskUpdate.UpdateFlux: the script with option overrides put into its `option task`
    object, or None when there is nothing to override (the script is still checked)."""
    found = find_task_options(source)
    if not is_zero(every) and cron:
        raise GoError("cannot specify both cron and every")
    ops: dict[str, str] = {}
    if name:
        ops["name"] = flux_string(name)
    if not is_zero(every):
        ops["every"] = format_duration(every)
    if cron:
        ops["cron"] = flux_string(cron)
    delete_offset = False
    if offset is not None:
        if is_zero(offset):
            delete_offset = True
        else:
            ops["offset"] = format_duration(offset)
    if not ops and not delete_offset:
        return None
    if not found:
        raise GoError("unable to edit option")
    option = found[0]
    if option.properties is None:
        raise GoError(f"value is is {option.value_type}, not an object expression")
    props = [(p.key_text, p.value_text, p.key) for p in option.properties]
    out: list[tuple[str, str]] = []
    for key_text, value_text, key in props:
        if key == "offset" and delete_offset:
            continue
        if key == "name" and "name" in ops:
            value_text = ops.pop("name")
        elif key == "offset" and "offset" in ops:
            value_text = ops.pop("offset")
        elif key == "every":
            if "every" in ops:
                value_text = ops.pop("every")
            elif "cron" in ops:
                key_text, value_text = "cron", ops.pop("cron")
        elif key == "cron":
            if "cron" in ops:
                value_text = ops.pop("cron")
            elif "every" in ops:
                key_text, value_text = "every", ops.pop("every")
        out.append((key_text, value_text))
    out.extend(ops.items())
    rendered = "{" + ", ".join(f"{k}: {v}" for k, v in out) + "}"
    return source[: option.start] + rendered + source[option.end :]


# ---- models ---------------------------------------------------------------------------------------


@dataclass
class LogEvent:
    run_id: int
    time: str
    message: str


@dataclass
class FluxRun:
    id: int
    task_id: int
    status: str
    scheduled_for: int  # ns
    started_at: int | None = None
    finished_at: int | None = None
    requested_at: int | None = None
    log: list[LogEvent] = field(default_factory=list)


@dataclass
class FluxTask:
    id: int
    owner: str
    name: str
    description: str
    status: str
    flux: str
    every: str
    cron: str
    offset: int  # ns
    created_at: int  # ns, whole seconds
    updated_at: int | None = None
    latest_completed: int | None = None
    latest_scheduled: int | None = None
    latest_success: int | None = None
    latest_failure: int | None = None
    last_run_status: str = ""
    last_run_error: str = ""
    type: str = SYSTEM_TYPE


@dataclass
class TaskFilter:
    after: int | None = None
    user: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    status: str | None = None
    name: str | None = None


@dataclass
class TaskUpdate:
    flux: str | None = None
    status: str | None = None
    description: str | None = None
    name: str = ""
    cron: str = ""
    every: Duration = field(default_factory=list)
    offset: Duration | None = None
    concurrency: int | None = None
    retry: int | None = None

    def options_zero(self) -> bool:
        return (
            self.name == ""
            and self.cron == ""
            and is_zero(self.every)
            and (self.offset is None or is_zero(self.offset))
            and self.concurrency is None
            and self.retry is None
        )

    def validate(self) -> None:
        """TaskUpdate.Validate: only the first matching rule is checked."""
        every_set = not is_zero(self.every)
        if every_set and self.cron:
            raise GoError("cannot specify both every and cron")
        if every_set:
            return
        if self.offset is not None and not is_zero(self.offset):
            text = format_duration(self.offset)
            try:
                go_parse_duration(text)
            except GoError as exc:
                raise GoError(f"offset: {text}, {exc} is invalid, the largest unit supported is h") from None
            return
        if self.flux is None and self.status is None and self.options_zero():
            raise GoError("cannot update task without content")
        if self.status is not None and self.status not in (STATUS_ACTIVE, STATUS_INACTIVE):
            raise GoError(f"invalid task status: {go_quote(self.status)}")


def _truncate_s(ns: int) -> int:
    return ns - ns % 1_000_000_000


def _quote_flux(text: str) -> str:
    return go_quote(text)


class FluxTaskStore:
    """Tasks keyed by numeric ID (listed in ID order), manual run queues, runs and run history."""

    def __init__(self, state: Any, *, clock: Callable[[], int] | None = None) -> None:
        self.state = state
        self._lock = state.lock
        self._clock: Callable[[], int] = clock or getattr(state, "clock", None) or now_ns
        self.tasks: dict[int, FluxTask] = {}
        self.manual: dict[int, list[FluxRun]] = {}
        self.running: dict[tuple[int, int], FluxRun] = {}
        self.history: dict[int, list[FluxRun]] = {}
        self._last_id = 0

    # ---- ids --------------------------------------------------------------------------------------

    def _next_id(self) -> int:
        """Snowflake-style: milliseconds in the high bits, so IDs grow with time."""
        ms = self._clock() // 1_000_000
        candidate = (ms << 22) & (2**63 - 1)
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    # ---- tasks ------------------------------------------------------------------------------------

    def find_task(self, task_id: int) -> FluxTask:
        task = self.tasks.get(task_id)
        if task is None:
            raise TASK_NOT_FOUND.fresh()
        if task.latest_completed is None:
            return replace(task, latest_completed=task.created_at)
        return task

    def find_tasks(self, f: TaskFilter) -> list[FluxTask]:
        with self._lock:
            out = []
            for task_id in sorted(self.tasks):
                if f.after is not None and task_id <= f.after:
                    continue
                task = self.tasks[task_id]
                if f.name is not None and task.name != f.name:
                    continue
                if f.status is not None and task.status != f.status:
                    continue
                if f.user is not None and task.owner != f.user:
                    continue
                out.append(task)
                if len(out) >= f.limit:
                    break
            return out

    def create_task(self, flux: str, description: str, status: str, owner: str) -> FluxTask:
        with self._lock:
            now = self._clock()
            try:
                opts = options_from_script(flux, now)
            except GoError as exc:
                raise PlatformError(E_INVALID, "invalid options", exc) from None
            created = _truncate_s(now)
            offset = 0
            if opts.offset is not None:
                try:
                    offset = go_parse_duration(format_duration(opts.offset))
                except GoError as exc:
                    raise PlatformError(E_INTERNAL, "unexpected error parsing time", exc) from None
            task = FluxTask(
                id=self._next_id(),
                owner=owner,
                name=opts.name,
                description=description,
                status=status or STATUS_ACTIVE,
                flux=flux,
                every=format_duration(opts.every),
                cron=opts.cron,
                offset=offset,
                created_at=created,
                latest_completed=created,
                latest_scheduled=created,
            )
            self.tasks[task.id] = task
            return task

    def update_task(self, task_id: int, upd: TaskUpdate) -> FluxTask:
        with self._lock:
            task = replace(self.find_task(task_id))
            now = self._clock()
            if not upd.options_zero() or upd.flux is not None:
                base = upd.flux if upd.flux else task.flux
                edited = edit_task_option(base, name=upd.name, every=upd.every, cron=upd.cron, offset=upd.offset)
                # Without overrides the given text is stored as is (even ""), then checked.
                flux = edited if edited is not None else (upd.flux if upd.flux is not None else task.flux)
                try:
                    opts = options_from_script(flux, now)
                except GoError as exc:
                    raise PlatformError(E_INVALID, "invalid options", exc) from None
                task.flux = flux
                task.name = opts.name
                task.every = format_duration(opts.every)
                task.cron = opts.cron
                offset = 0
                if opts.offset is not None:
                    try:
                        offset = go_parse_duration(format_duration(opts.offset))
                    except GoError as exc:
                        raise PlatformError(E_INTERNAL, "unexpected error parsing time", exc) from None
                task.offset = offset
                task.updated_at = now
            if upd.description is not None:
                task.description = upd.description
                task.updated_at = now
            if upd.status is not None and task.status != upd.status:
                task.status = upd.status
                task.updated_at = now
                if task.status == STATUS_ACTIVE:
                    task.latest_completed = task.latest_scheduled = _truncate_s(now)
            self.tasks[task_id] = task
            return task

    def delete_task(self, task_id: int) -> None:
        """Runs go with the task; completed-run history stays (it lives in InfluxDB on a server)."""
        with self._lock:
            self.find_task(task_id)
            del self.tasks[task_id]
            self.manual.pop(task_id, None)
            for key in [k for k in self.running if k[0] == task_id]:
                del self.running[key]

    # ---- runs -------------------------------------------------------------------------------------

    def _current_runs(self, task_id: int) -> list[FluxRun]:
        return [*self.manual.get(task_id, []), *(r for (t, _), r in sorted(self.running.items()) if t == task_id)]

    def find_runs(
        self,
        task_id: int,
        *,
        after: int | None = None,
        limit: int = 0,
        after_time: int | None = None,
        before_time: int | None = None,
    ) -> list[FluxRun]:
        """Open runs (queued, running) first, then completed runs newest first."""
        if limit == 0:
            limit = DEFAULT_PAGE_SIZE
        if limit < 0 or limit > MAX_PAGE_SIZE:
            raise OUT_OF_BOUNDS_LIMIT.fresh()
        with self._lock:
            now = self._clock()
            lower = after_time if after_time is not None else -(2**63)
            upper = before_time if before_time is not None else now
            runs: list[FluxRun] = []
            for run in self._current_runs(task_id):
                if lower < run.scheduled_for < upper:
                    runs.append(run)
                if len(runs) >= limit:
                    return runs
            done = sorted(self.history.get(task_id, []), key=lambda r: (r.scheduled_for, r.id), reverse=True)
            if after is not None:
                done = [r for r in done if r.id > after]
            if after_time is not None or before_time is not None:
                done = [r for r in done if lower < r.scheduled_for < upper]
            done = done[: limit - len(runs)]
            ids = {r.id for r in done}
            return [r for r in runs if r.id not in ids] + done

    def find_run(self, task_id: int, run_id: int) -> FluxRun:
        with self._lock:
            run = self.running.get((task_id, run_id))
            if run is not None:
                return run
            matches = [r for r in self.history.get(task_id, []) if r.id == run_id]
            if not matches:
                raise RUN_NOT_FOUND.fresh()
            return matches[-1]

    def find_logs(self, task_id: int, run_id: int | None) -> list[LogEvent] | None:
        """None stands for Go's nil slice (`"events": null`)."""
        with self._lock:
            if run_id is not None:
                return list(self.find_run(task_id, run_id).log)
            logs: list[LogEvent] | None = None
            for run in self.find_runs(task_id):
                for event in run.log:
                    logs = logs or []
                    logs.append(event)
            return logs

    def force_run(self, task_id: int, scheduled_for_s: int) -> FluxRun:
        with self._lock:
            task = self.find_task(task_id)
            run = self._queue(task_id, scheduled_for_s * 1_000_000_000)
            self._execute(task, run.id)
            return run

    def retry_run(self, task_id: int, run_id: int) -> FluxRun:
        with self._lock:
            task = self.find_task(task_id)
            original = self.running.get((task_id, run_id))
            if original is not None and task_id in self.manual:
                run = replace(original, id=self._next_id(), status="scheduled", started_at=None,
                              finished_at=None, requested_at=None, log=list(original.log))  # fmt: skip
                self.manual[task_id].append(run)
            else:
                original = self.find_run(task_id, run_id)
                run = self._queue(task_id, _truncate_s(original.scheduled_for))
            snapshot = replace(run, log=list(run.log))
            self._execute(task, run.id)
            return snapshot

    def cancel_run(self, task_id: int, run_id: int) -> None:
        with self._lock:
            run = self.running.get((task_id, run_id))
            if run is None:
                raise RUN_NOT_FOUND.fresh()
            run.status = "canceled"

    def _queue(self, task_id: int, scheduled_for: int) -> FluxRun:
        queue = self.manual.setdefault(task_id, [])
        if any(r.scheduled_for == scheduled_for for r in queue):
            raise RUN_ALREADY_QUEUED.fresh()
        run = FluxRun(
            id=self._next_id(),
            task_id=task_id,
            status="scheduled",
            scheduled_for=scheduled_for,
            requested_at=self._clock(),
        )
        queue.append(run)
        return replace(run, log=[])

    def _execute(self, task: FluxTask, run_id: int) -> None:
        """The executor picks the run from the queue, runs it (always successfully) and finishes it."""
        queue = self.manual.get(task.id, [])
        run = next(r for r in queue if r.id == run_id)
        queue.remove(run)
        self.running[(task.id, run.id)] = run
        self._log(run, f"Started task from script: {_quote_flux(task.flux)}")
        run.status = "started"
        run.started_at = self._clock()
        self._log(run, "Completed(success)")
        run.status = "success"
        run.finished_at = self._clock()
        del self.running[(task.id, run.id)]
        current = self.tasks.get(task.id)
        if current is not None:
            if current.latest_completed is None or run.scheduled_for > current.latest_completed:
                current.latest_completed = run.scheduled_for
            if current.latest_success is None or run.scheduled_for > current.latest_success:
                current.latest_success = run.scheduled_for
            current.last_run_status = run.status
            current.last_run_error = ""
        self.history.setdefault(task.id, []).append(run)

    def _log(self, run: FluxRun, message: str) -> None:
        run.log.append(LogEvent(run.id, format_ns(self._clock()), message))

    # ---- backup -----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "last_id": self._last_id,
                "tasks": [_task_to_json(t) for _, t in sorted(self.tasks.items())],
                "manual": {encode_id(k): [_run_to_json(r) for r in v] for k, v in sorted(self.manual.items())},
                "running": [_run_to_json(r) for _, r in sorted(self.running.items())],
                "history": {encode_id(k): [_run_to_json(r) for r in v] for k, v in sorted(self.history.items())},
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._last_id = int(data.get("last_id", 0))
            self.tasks = {}
            for raw in data.get("tasks", []):
                task = _task_from_json(raw)
                self.tasks[task.id] = task
            self.manual = {int(k, 16): [_run_from_json(r) for r in v] for k, v in (data.get("manual") or {}).items()}
            self.running = {}
            for raw in data.get("running", []):
                run = _run_from_json(raw)
                self.running[(run.task_id, run.id)] = run
            self.history = {int(k, 16): [_run_from_json(r) for r in v] for k, v in (data.get("history") or {}).items()}


_TASK_KEYS = (
    "owner", "name", "description", "status", "flux", "every", "cron", "offset", "created_at", "updated_at",
    "latest_completed", "latest_scheduled", "latest_success", "latest_failure", "last_run_status",
    "last_run_error", "type",
)  # fmt: skip


def _task_to_json(task: FluxTask) -> dict[str, Any]:
    return {"id": encode_id(task.id), **{k: getattr(task, k) for k in _TASK_KEYS}}


def _task_from_json(raw: dict[str, Any]) -> FluxTask:
    return FluxTask(id=int(raw["id"], 16), **{k: raw[k] for k in _TASK_KEYS if k in raw})


def _run_to_json(run: FluxRun) -> dict[str, Any]:
    return {
        "id": encode_id(run.id),
        "task_id": encode_id(run.task_id),
        "status": run.status,
        "scheduled_for": run.scheduled_for,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "requested_at": run.requested_at,
        "log": [[encode_id(e.run_id), e.time, e.message] for e in run.log],
    }


def _run_from_json(raw: dict[str, Any]) -> FluxRun:
    return FluxRun(
        id=int(raw["id"], 16),
        task_id=int(raw["task_id"], 16),
        status=raw["status"],
        scheduled_for=raw["scheduled_for"],
        started_at=raw.get("started_at"),
        finished_at=raw.get("finished_at"),
        requested_at=raw.get("requested_at"),
        log=[LogEvent(int(r, 16), t, m) for r, t, m in raw.get("log", [])],
    )
