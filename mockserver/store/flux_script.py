"""What the mock reads of a Flux script: the `option task = {...}` statement (scanned, not parsed),
its durations and cron, their validation errors, and in-place edits of that statement.

The mock has no Flux engine; the rest of a script is stored verbatim. Errors are the InfluxDB 2
platform errors the task service reports for the same scripts.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mockserver.gotext import go_quote
from mockserver.store.flux_errors import GoError

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
