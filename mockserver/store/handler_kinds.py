"""Alert handler kinds: the option structs each kind decodes, and how the server decodes them.

The real server decodes a handler's `options` map into a per-kind Go struct with mapstructure
(`ErrorUnused`, so unknown keys fail) and then builds the handler, which may reject the result
(relative log path, unknown Kafka cluster, bad template). Clients see those failures verbatim in
`failed to create handler: ...`, so both steps are reproduced here: field names, Go type names,
mapstructure's error texts and ordering, and the constructors' checks. Template checks cover the
common `text/template` syntax errors, not the whole grammar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mockserver.errors import MockError
from mockserver.gotext import go_quote
from mockserver.store.config_values import go_kind_name, go_type_name

# ---- Go type descriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class GoType:
    """A Go type as mapstructure sees it: its reflect kind and its printed name."""

    kind: str  # string bool int uint float slice map struct any opaque
    name: str
    elem: GoType | None = None
    fields: tuple[tuple[str, GoType], ...] = ()
    #: encoding.TextUnmarshaler: converts a string or raises ValueError(Go's error text).
    text: Callable[[str], Any] | None = field(default=None, compare=False)


STRING = GoType("string", "string")
BOOL = GoType("bool", "bool")
INT64 = GoType("int", "int64")
DURATION = GoType("int", "time.Duration")
ANY = GoType("any", "interface {}")
STRINGS = GoType("slice", "[]string", STRING)
ANY_MAP = GoType("map", "map[string]interface {}", ANY)
STRING_MAP = GoType("map", "map[string]string", STRING)
FILE_MODE = GoType("uint", "fs.FileMode")


def _qos(text: str) -> int:
    levels = {"at-most-once": 0, "at-least-once": 1, "exactly-one": 2}  # sic: the server's spelling
    if text not in levels:
        raise ValueError("invalid QoS")
    return levels[text]


QOS = GoType("uint", "mqtt.QoSLevel", text=_qos)
#: `*text.Template`: a struct with no settable fields a JSON map could name.
TEMPLATE_PTR = GoType("opaque", "template.Template")


def struct(name: str, *fields: tuple[str, GoType]) -> GoType:
    return GoType("struct", name, fields=tuple(fields))


LINK_TEMPLATE = struct("pagerduty2.LinkTemplate", ("href", STRING), ("text", STRING))
SNMP_DATA = struct("snmptrap.Data", ("oid", STRING), ("type", STRING), ("value", STRING))


@dataclass(frozen=True)
class Kind:
    """One handler kind: the options struct (None: options are never decoded) and its checks."""

    name: str
    config: GoType | None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    check: Callable[[dict[str, Any]], None] | None = None
    since: tuple[int, int] = (0, 0)
    #: Option fields added after the kind itself (absent, hence unknown keys, in older releases).
    field_since: Mapping[str, tuple[int, int]] = field(default_factory=dict)


class HandlerBuildError(MockError):
    """A handler the server refuses to build; `str()` is the server's text (after `failed to ...: `)."""


# ---- mapstructure ---------------------------------------------------------------------------------

_UNSET = object()


def go_format_float(value: float) -> str:
    """strconv shortest formatting of a float64 as `%v` (fmt) prints it."""
    f = float(value)
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign, digits, exponent = Decimal(repr(f)).normalize().as_tuple()
    assert isinstance(exponent, int)
    ds = "".join(map(str, digits))
    nd = len(ds)
    dp = nd + exponent  # position of the decimal point relative to the digits
    exp = dp - 1
    out: str
    if exp < -4 or exp >= 6:
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        out = f"{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    elif dp <= 0:
        out = "0." + "0" * (-dp) + ds
    elif dp >= nd:
        out = ds + "0" * (dp - nd)
    else:
        out = ds[:dp] + "." + ds[dp:]
    return ("-" if sign else "") + out


def go_format_v(value: Any) -> str:
    """fmt's `%v` of a value decoded from JSON into interface{} (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(go_format_v(v) for v in value) + "]"
    return "map[" + " ".join(f"{k}:{go_format_v(value[k])}" for k in sorted(value)) + "]"


def _fold_equal(a: str, b: str) -> bool:
    """strings.EqualFold (simple case folding, rune by rune)."""
    if len(a) != len(b):
        return False
    return all(x == y or x.lower() == y.lower() or x.upper() == y.upper() for x, y in zip(a, b, strict=True))


def _unconvertible(name: str, target: GoType, data: Any) -> str:
    return (
        f"'{name}' expected type '{target.name}', got unconvertible type '{go_type_name(data)}', "
        f"value: '{go_format_v(data)}'"
    )


class _Decoder:
    """mapstructure's Decoder with ErrorUnused and the server's string→TextUnmarshaler hook."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def decode(self, name: str, data: Any, target: GoType) -> Any:
        if data is None:
            return _UNSET
        if target.text is not None and isinstance(data, str):
            try:
                return target.text(data)
            except ValueError as exc:
                self.errors.append(f"error decoding '{name}': {exc}")
                return _UNSET
        kind = target.kind
        if kind == "any":
            return data
        if kind == "string":
            if isinstance(data, str):
                return data
        elif kind == "bool":
            if isinstance(data, bool):
                return data
        elif kind in ("int", "uint", "float"):
            if isinstance(data, (int, float)) and not isinstance(data, bool):
                if kind == "uint" and data < 0:
                    self.errors.append(f"cannot parse '{name}', {float(data):f} overflows uint")
                    return _UNSET
                return float(data) if kind == "float" else int(data)
        elif kind == "slice":
            if not isinstance(data, list):
                self.errors.append(f"'{name}': source data must be an array or slice, got {go_kind_name(data)}")
                return _UNSET
            assert target.elem is not None
            return [self.decode(f"{name}[{i}]", item, target.elem) for i, item in enumerate(data)]
        elif kind == "map":
            if not isinstance(data, dict):
                self.errors.append(f"'{name}' expected a map, got '{go_kind_name(data)}'")
                return _UNSET
            assert target.elem is not None
            return {k: self.decode(f"{name}[{k}]", v, target.elem) for k, v in data.items()}
        elif kind in ("struct", "opaque"):
            if not isinstance(data, dict):
                self.errors.append(f"'{name}' expected a map, got '{go_kind_name(data)}'")
                return _UNSET
            return self.struct_from_map(name, data, target.fields)
        else:  # pragma: no cover - schema error
            raise AssertionError(kind)
        self.errors.append(_unconvertible(name, target, data))
        return _UNSET

    def struct_from_map(
        self, name: str, data: dict[str, Any], fields: tuple[tuple[str, GoType], ...]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        used: set[str] = set()
        for fname, ftype in fields:
            key: str | None = fname if fname in data else None
            if key is None:
                # Go picks among case-insensitive matches in map order; the mock takes the first.
                key = next((k for k in data if _fold_equal(k, fname)), None)
            if key is None:
                continue
            used.add(key)
            value = self.decode(f"{name}.{fname}" if name else fname, data[key], ftype)
            if value is not _UNSET:
                out[fname] = value
        unused = sorted(k for k in data if k not in used)
        if unused:
            self.errors.append(f"'{name}' has invalid keys: {', '.join(unused)}")
        return out


def decode_options(kind: Kind, options: dict[str, Any] | None, version: tuple[int, ...] = (99, 0)) -> dict[str, Any]:
    """Decode like `decodeOptions`: returns the struct's fields (defaults applied) or raises."""
    assert kind.config is not None
    values = dict(kind.defaults)
    if options is None:
        return values
    fields = tuple(f for f in kind.config.fields if version >= kind.field_since.get(f[0], (0, 0)))
    decoder = _Decoder()
    values.update(decoder.struct_from_map("", options, fields))
    if decoder.errors:
        points = sorted(f"* {e}" for e in decoder.errors)
        detail = f"{len(points)} error(s) decoding:\n\n" + "\n".join(points)
        raise HandlerBuildError(f"failed to decode options into *{kind.config.name}: {detail}")
    return values


# ---- text/template syntax check -------------------------------------------------------------------

_BUILTINS = frozenset(
    {"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
     "eq", "ge", "gt", "le", "lt", "ne"}
)  # fmt: skip
_OPENERS = frozenset({"if", "range", "with", "define", "block"})


class _TemplateError(MockError):
    pass


def template_error(name: str, text: str, funcs: frozenset[str] = frozenset()) -> str | None:
    """The error `template.New(name).Parse(text)` returns (common cases), or None if it parses."""
    try:
        _check_template(text, _BUILTINS | funcs)
    except _TemplateError as exc:
        line, msg = exc.args
        return f"template: {name}:{line}: {msg}"
    return None


def _check_template(text: str, funcs: frozenset[str]) -> None:
    stack: list[str] = []
    i = 0
    while True:
        start = text.find("{{", i)
        if start < 0:
            break
        j = start + 2
        if (
            text.startswith("- ", j)
            or text.startswith("-\t", j)
            or text.startswith("-\n", j)
            or text.startswith("-\r", j)
        ):
            j += 2
        line = text.count("\n", 0, start) + 1
        if text.startswith("/*", j):
            end = text.find("*/", j + 2)
            if end < 0:
                raise _TemplateError(line, "unclosed comment")
            k = end + 2
            if not (text.startswith("}}", k) or (text.startswith(" -}}", k))):
                raise _TemplateError(line, "comment ends before closing delimiter")
            i = k + (2 if text.startswith("}}", k) else 4)
            continue
        tokens, i = _lex_action(text, j, line)
        _parse_action(tokens, stack, funcs, line)
    if stack:
        raise _TemplateError(text.count("\n") + 1, "unexpected EOF")


def _quoted_end(text: str, i: int, line: int, unterminated: str) -> int:
    """Where the quoted token opening at `i` ends (after its closing quote); backslash escapes,
    and a newline or the end of the text before the closing quote is an error."""
    quote, k, n = text[i], i + 1, len(text)
    while k < n and text[k] != quote:
        if text[k] == "\\":
            k += 1
        if k >= n or text[k] == "\n":
            raise _TemplateError(line, unterminated)
        k += 1
    if k >= n:
        raise _TemplateError(line, unterminated)
    return k + 1


def _lex_action(text: str, i: int, line: int) -> tuple[list[str], int]:
    tokens: list[str] = []
    n = len(text)
    while True:
        if i >= n:
            raise _TemplateError(text.count("\n") + 1, "unclosed action")
        if text.startswith("}}", i):
            return tokens, i + 2
        if text.startswith(" -}}", i) or text.startswith("\t-}}", i) or text.startswith("\n-}}", i):
            return tokens, i + 4
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == '"':
            i = _quoted_end(text, i, line, "unterminated quoted string")
            tokens.append('"')
        elif c == "`":
            k = text.find("`", i + 1)
            if k < 0:
                raise _TemplateError(line, "unterminated raw quoted string")
            tokens.append('"')
            i = k + 1
        elif c == "'":
            i = _quoted_end(text, i, line, "unterminated character constant")
            tokens.append("'")
        elif c in "|(),=":
            tokens.append(c)
            i += 1
        elif text.startswith(":=", i):
            tokens.append(":=")
            i += 2
        elif c.isalnum() or c in "._$+-":
            k = i + 1
            while k < n and (text[k].isalnum() or text[k] in "._"):
                k += 1
            tokens.append(text[i:k])
            i = k
        else:
            raise _TemplateError(line, f"unrecognized character in action: U+{ord(c):04X} {_quote_rune(c)}")


def _quote_rune(c: str) -> str:
    return "'" + (c if c.isprintable() else c.encode("unicode_escape").decode("ascii")) + "'"


def _parse_action(tokens: list[str], stack: list[str], funcs: frozenset[str], line: int) -> None:
    if not tokens:
        raise _TemplateError(line, "missing value for command")
    head = tokens[0]
    if head in _OPENERS:
        if len(tokens) == 1:
            raise _TemplateError(line, f"missing value for {head}")
        stack.append(head)
        _check_pipeline(tokens[1:], funcs, line)
        return
    if head == "end":
        if not stack:
            raise _TemplateError(line, "unexpected {{end}}")
        stack.pop()
        return
    if head == "else":
        if not stack or stack[-1] not in ("if", "range", "with"):
            raise _TemplateError(line, "unexpected {{else}}")
        if len(tokens) > 1:
            _check_pipeline(tokens[2:] if tokens[1] in ("if", "with") else tokens[1:], funcs, line)
        return
    if head in ("template", "break", "continue"):
        return
    _check_pipeline(tokens, funcs, line)


def _check_pipeline(tokens: list[str], funcs: frozenset[str], line: int) -> None:
    command: list[str] = []
    for tok in [*tokens, "|"]:
        if tok == "|":
            if not command:
                raise _TemplateError(line, "missing value for command")
            command = []
            continue
        command.append(tok)
        if (tok[0].isalpha() or tok[0] == "_") and tok not in funcs and tok not in ("nil", "true", "false"):
            raise _TemplateError(line, f"function {go_quote(tok)} not defined")


def _templates(*pairs: tuple[str, Any], wrap: str = "", funcs: frozenset[str] = frozenset()) -> None:
    for name, value in pairs:
        if isinstance(value, str):
            err = template_error(name, value, funcs)
            if err is not None:
                raise HandlerBuildError(wrap + err)


# ---- constructor checks ---------------------------------------------------------------------------

KAFKA_CLUSTERS = frozenset({"default"})
HTTPPOST_ENDPOINTS = frozenset({"example"})


def _file_mode_string(mode: int) -> str:
    """os.FileMode.String()."""
    mode &= 0xFFFFFFFF
    letters = "dalTLDpSugct?"
    out = "".join(c for i, c in enumerate(letters) if mode & (1 << (31 - i)))
    out = out or "-"
    rwx = "rwxrwxrwx"
    return out + "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate(rwx))


def _check_log(c: dict[str, Any]) -> None:
    mode = c.get("mode", 0o600) & 0xFFFFFFFF
    if mode & 0o777 & 0o200 == 0:
        raise HandlerBuildError(f"invalid file mode {_file_mode_string(mode)}, must be user writable")
    path = c.get("path", "")
    if not path.startswith("/"):
        raise HandlerBuildError(f"log path must be absolute: {path} is not absolute")


def _check_aggregate(c: dict[str, Any]) -> None:
    _templates(("message", c.get("message", "")))


def _check_alerta(c: dict[str, Any]) -> None:
    _templates(*((n, c.get(n, "")) for n in ("resource", "event", "environment", "group", "value")))
    _templates(*(("service", s) for s in c.get("service", []) or []))
    _templates(*(("correlate", s) for s in c.get("correlate", []) or []))
    attrs = c.get("attributes") or {}
    _templates(*((k, v) for k, v in attrs.items()))


def _check_discord(c: dict[str, Any]) -> None:
    _templates(("embedTitle", c.get("embed-title", "")))


def _check_kafka(c: dict[str, Any]) -> None:
    cluster = c.get("cluster", "")
    if cluster not in KAFKA_CLUSTERS:
        raise HandlerBuildError(f"unknown cluster {go_quote(cluster)}")
    if c.get("template"):
        _templates(("kafka alert template", c["template"]), wrap="failed to parse template: ")


def _check_mqtt(c: dict[str, Any]) -> None:
    _templates(("topic", c.get("topic", "")))


def _check_pagerduty2(c: dict[str, Any]) -> None:
    for link in c.get("links", []) or []:
        if not isinstance(link, dict):
            continue
        _templates(("href", link.get("href", "")))
        if link.get("text"):
            _templates(("text", link["text"]))


def _check_post(c: dict[str, Any]) -> None:
    if c.get("endpoint", "") in HTTPPOST_ENDPOINTS:
        return
    url = c.get("url", "")
    if not url:
        raise HandlerBuildError("An appropriately formatted url must be specified if an endpoint is not specified")
    _templates(("body", url), wrap="failed to parse template: ", funcs=frozenset({"json", "jsonCompact"}))


def _check_sensu(c: dict[str, Any]) -> None:
    _templates(("source", c.get("source", "")))


def _check_snmptrap(c: dict[str, Any]) -> None:
    for item in c.get("data-list", []) or []:
        if isinstance(item, dict):
            _templates(("data", item.get("value", "")))


def _k(name: str, go_name: str | None, *fields: tuple[str, GoType], **kw: Any) -> Kind:
    return Kind(name, struct(go_name, *fields) if go_name else None, **kw)


S = STRING
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _k("aggregate", "alert.AggregateHandlerConfig", ("id", S), ("interval", DURATION), ("topic", S), ("message", S),
           defaults={"message": "Received {{ .Count }} events in the last {{.Interval}}."}, check=_check_aggregate),
        _k("alerta", "alerta.HandlerConfig", ("token", S), ("token-prefix", S), ("resource", S), ("event", S),
           ("environment", S), ("group", S), ("value", S), ("origin", S), ("service", STRINGS),
           ("correlate", STRINGS), ("attributes", ANY_MAP), ("timeout", DURATION),
           defaults={"resource": "{{ .Name }}", "event": "{{ .ID }}", "group": "{{ .Group }}"}, check=_check_alerta,
           field_since={"attributes": (1, 6)}),
        _k("bigpanda", "bigpanda.HandlerConfig", ("app-key", S), ("url", S), ("host", S), ("primary-property", S),
           ("secondary-property", S), ("attributes", ANY_MAP), field_since={"host": (1, 6), "attributes": (1, 6)}),
        _k("discord", "discord.HandlerConfig", ("workspace", S), ("username", S), ("avatar-url", S),
           ("embed-title", S), check=_check_discord),
        _k("exec", "alert.ExecHandlerConfig", ("prog", S), ("args", STRINGS)),
        _k("hipchat", "hipchat.HandlerConfig", ("room", S), ("token", S)),
        _k("kafka", "kafka.HandlerConfig", ("cluster", S), ("topic", S), ("template", S),
           ("disablePartitionById", BOOL), ("partitionAlgorithm", S), check=_check_kafka,
           field_since={"disablePartitionById": (1, 6), "partitionAlgorithm": (1, 6)}),
        _k("log", "alert.LogHandlerConfig", ("path", S), ("mode", FILE_MODE), defaults={"mode": 0o600},
           check=_check_log),
        _k("mqtt", "mqtt.HandlerConfig", ("broker-name", S), ("topic", S), ("qos", QOS), ("retained", BOOL),
           ("topic-template", TEMPLATE_PTR), check=_check_mqtt),
        _k("opsgenie", "opsgenie.HandlerConfig", ("teams-list", STRINGS), ("recipients-list", STRINGS)),
        _k("opsgenie2", "opsgenie2.HandlerConfig", ("teams-list", STRINGS), ("recipients-list", STRINGS),
           ("recovery_action", S)),
        _k("pagerduty", "pagerduty.HandlerConfig", ("service-key", S)),
        _k("pagerduty2", "pagerduty2.HandlerConfig", ("routing-key", S),
           ("links", GoType("slice", "[]pagerduty2.LinkTemplate", LINK_TEMPLATE)), check=_check_pagerduty2),
        _k("pushover", "pushover.HandlerConfig", ("device", S), ("title", S), ("url", S), ("url-title", S),
           ("sound", S), ("user-key", S)),
        _k("post", "httppost.HandlerConfig", ("url", S), ("endpoint", S), ("headers", STRING_MAP),
           ("capture-response", BOOL), ("timeout", DURATION), ("skip-ssl-verification", BOOL), check=_check_post),
        _k("publish", "alert.PublishHandlerConfig", ("topics", STRINGS)),
        _k("sensu", "sensu.HandlerConfig", ("source", S), ("handlers", STRINGS), ("metadata", ANY_MAP),
           check=_check_sensu),
        # Fields without a mapstructure tag are matched by their Go field name (case-insensitively).
        _k("servicenow", "servicenow.HandlerConfig", ("url", S), ("username", S), ("password", S), ("source", S),
           ("Node", S), ("Type", S), ("Resource", S), ("MetricName", S), ("MessageKey", S),
           ("additional_info", ANY_MAP)),
        _k("slack", "slack.HandlerConfig", ("workspace", S), ("channel", S), ("username", S), ("icon-emoji", S)),
        _k("smtp", "smtp.HandlerConfig", ("to", STRINGS), ("to-field", STRINGS), field_since={"to-field": (1, 6)}),
        _k("snmptrap", "snmptrap.HandlerConfig", ("trap-oid", S),
           ("data-list", GoType("slice", "[]snmptrap.Data", SNMP_DATA)), check=_check_snmptrap),
        _k("talk", None),
        _k("tcp", "alert.TCPHandlerConfig", ("address", S)),
        _k("teams", "teams.HandlerConfig", ("channel-url", S)),
        _k("telegram", "telegram.HandlerConfig", ("chat-id", S), ("parse-mode", S),
           ("disable-web-page-preview", BOOL), ("disable-notification", BOOL)),
        _k("victorops", "victorops.HandlerConfig", ("routing-key", S)),
        _k("zenoss", "zenoss.HandlerConfig", ("action", S), ("method", S), ("type", S), ("tid", INT64),
           ("Summary", S), ("Device", S), ("Component", S), ("EventClassKey", S), ("EventClass", S),
           ("Collector", S), ("Message", S), ("customField", ANY_MAP), since=(1, 6)),
    )
}  # fmt: skip


def build_handler(kind_name: str, options: dict[str, Any] | None, version: tuple[int, ...]) -> None:
    """`createHandlerFromSpec` minus the match expression: raise HandlerBuildError like the server."""
    kind = KINDS.get(kind_name)
    if kind is None or version < kind.since:
        raise HandlerBuildError(f"unsupported action kind {go_quote(kind_name)}")
    if kind.config is None:
        return
    values = decode_options(kind, options, version)
    if kind.check is not None:
        kind.check(values)
