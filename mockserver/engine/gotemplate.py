"""A careful subset of Go's text/template (and html/template escaping) for alert id/message/details.

Supported: text, `{{ pipeline }}` with `{{-`/`-}}` trimming, fields (`.A.B`, map keys), `$`,
string/number/bool literals, the functions `index`, `json`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`,
`and`, `or`, `not`, `len`, `print`, `printf` (%s %v %d %q), and `if`/`else`/`else if`/`end`.
Values print as Go's `%v` does. Anything else is a parse error, reported as the node's error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mockserver.gotime import go_duration


class TemplateError(Exception):
    pass


class GoTime(int):
    """time.Time (UTC): `%v` prints `2006-01-02 15:04:05.999999999 +0000 UTC`, JSON is RFC 3339."""


class GoDuration(int):
    """time.Duration: `%v` prints its String(), JSON is integer nanoseconds."""


def go_g(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), which is what `%v` prints for a float64."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    _sign, digit_tuple, exponent = Decimal(repr(abs(f))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    nd = len(digits)
    dp = len(digit_tuple) + int(exponent)
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if nd > 1 else "")
        return f"{sign}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= nd:
        return sign + digits + "0" * (dp - nd)
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def format_go_time(ns: int) -> str:
    import time as _time

    secs, frac = divmod(int(ns), 1_000_000_000)
    base = _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(secs))
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + " +0000 UTC"


def go_v(v: Any) -> str:
    """fmt's `%v`."""
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, GoTime):
        return format_go_time(v)
    if isinstance(v, GoDuration):
        return go_duration(int(v))
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return go_g(v)
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return "map[" + " ".join(f"{go_v(k)}:{_inner_v(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_inner_v(x) for x in v) + "]"
    return str(v)


def _inner_v(v: Any) -> str:
    return "<nil>" if v is None else go_v(v)


def to_json(v: Any) -> Any:
    """A template value as Go's encoding/json would see it."""
    if isinstance(v, GoTime):
        from mockserver.gotime import format_ns

        return format_ns(int(v))
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, GoDuration):
        return int(v)
    return v


def go_json_line(v: Any) -> str:
    """json.NewEncoder(w).Encode(v): compact, HTML-escaped, trailing newline."""
    from mockserver.gojson import dumps_compact

    return dumps_compact(to_json(v)).decode("utf-8")


_HTML = {"\0": "\ufffd", '"': "&#34;", "&": "&amp;", "'": "&#39;", "+": "&#43;", "<": "&lt;", ">": "&gt;"}
_HTML_RE = re.compile("[\0\"&'+<>]")


def html_escape(text: str) -> str:
    return _HTML_RE.sub(lambda m: _HTML[m.group(0)], text)


# ---- parsing ----------------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'\s*(?:(\$)|(\.[A-Za-z_][\w.]*|\.)|("(?:[^"\\]|\\.)*"|`[^`]*`)|(-?\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(\|)|(\()|(\)))')

Node = tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"unexpected {text[pos:]!r} in command")
        pos = m.end()
        kinds = ("dollar", "field", "string", "number", "ident", "pipe", "lparen", "rparen")
        for kind, val in zip(kinds, m.groups(), strict=True):
            if val is not None:
                out.append((kind, val))
                break
    return out


def _parse_pipeline(toks: list[tuple[str, str]]) -> Node:
    cmds: list[list[Node]] = [[]]
    i = 0
    while i < len(toks):
        kind, val = toks[i]
        if kind == "pipe":
            cmds.append([])
        elif kind == "lparen":
            depth, j = 1, i + 1
            while j < len(toks) and depth:
                depth += {"lparen": 1, "rparen": -1}.get(toks[j][0], 0)
                j += 1
            if depth:
                raise TemplateError("unclosed left paren")
            cmds[-1].append(_parse_pipeline(toks[i + 1 : j - 1]))
            i = j
            continue
        elif kind == "rparen":
            raise TemplateError("unexpected right paren")
        else:
            cmds[-1].append((kind, val))
        i += 1
    if any(not c for c in cmds):
        raise TemplateError("missing command")
    return ("pipeline", cmds)


def parse(text: str) -> list[Node]:
    """Parse a template into a node list; raises TemplateError."""
    items: list[Any] = []
    pos = 0
    for m in _ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if m.group(1):
            chunk = chunk.rstrip()
        items.append(("text", chunk))
        body = m.group(2).strip()
        items.append(("action", body, bool(m.group(3))))
        pos = m.end()
    items.append(("text", text[pos:]))
    # apply right-trim markers
    cleaned: list[Any] = []
    trim_next = False
    for it in items:
        if it[0] == "text":
            cleaned.append(("text", it[1].lstrip() if trim_next else it[1]))
            trim_next = False
        else:
            cleaned.append(it)
            trim_next = it[2]
    nodes, _rest, end = _block(cleaned, 0)
    if end is not None:
        raise TemplateError(f"unexpected {{{{{end}}}}}")
    return nodes


def _block(items: list[Any], i: int) -> tuple[list[Node], int, str | None]:
    out: list[Node] = []
    while i < len(items):
        it = items[i]
        if it[0] == "text":
            if it[1]:
                out.append(("text", it[1]))
            i += 1
            continue
        body = it[1]
        if body.startswith("/*"):
            i += 1
            continue
        word = body.split(None, 1)[0] if body else ""
        if word in ("end", "else"):
            return out, i, body
        if word == "if":
            node, i = _if(items, i, body[2:])
            out.append(node)
            continue
        if not body:
            raise TemplateError("missing value for command")
        out.append(("out", _parse_pipeline(_tokens(body))))
        i += 1
    return out, i, None


def _if(items: list[Any], i: int, cond_text: str) -> tuple[Node, int]:
    cond = _parse_pipeline(_tokens(cond_text))
    then, i, end = _block(items, i + 1)
    if end is None:
        raise TemplateError("unexpected EOF")
    otherwise: list[Node] = []
    if end.startswith("else"):
        rest = end[4:].strip()
        if rest.startswith("if"):
            node, i = _if(items, i, rest[2:])
            return ("if", cond, then, [node]), i
        otherwise, i, end = _block(items, i + 1)
        if end != "end":
            raise TemplateError("expected end")
    return ("if", cond, then, otherwise), i + 1


# ---- execution ------------------------------------------------------------------------------------


def _truth(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, (bool, int, float, str, dict, list, tuple)):
        return bool(v)
    return True


def _field(v: Any, path: str) -> Any:
    for name in path.split(".")[1:]:
        if not name:
            continue
        if isinstance(v, dict):
            v = v.get(name)
        else:
            try:
                v = getattr(v, name)
            except AttributeError:
                raise TemplateError(f"can't evaluate field {name}") from None
    return v


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _printf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs alert templates use: %s %v %d %f %e %g %q %x %t with flags."""
    it = iter(args)

    def one(m: re.Match[str]) -> str:
        flags, width, prec, verb = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        if verb == "%":
            return "%"
        arg = next(it, None)
        spec = flags.replace("#", "") + width
        if verb in "feEgG" and isinstance(arg, (int, float)) and not isinstance(arg, bool):
            return format(float(arg), f"{spec}{'.' + prec if prec is not None else ('' if verb in 'gG' else '.6')}{verb}")
        if verb in "dxX" and isinstance(arg, int) and not isinstance(arg, bool):
            return format(int(arg), f"{spec}{verb}")
        text = json.dumps(go_v(arg), ensure_ascii=False) if verb == "q" else go_v(arg)
        if prec is not None and verb in "sv":
            text = text[: int(prec)]
        return format(text, f"{'<' if '-' in flags else '>'}{width}") if width else text

    return _VERB.sub(one, fmt)


FUNCS: dict[str, Callable[..., Any]] = {
    "index": lambda m, *keys: _index(m, keys),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "not": lambda a: not _truth(a),
    "len": lambda a: len(a),
    "print": lambda *a: "".join(go_v(x) for x in a),
    "printf": _printf,
    "json": lambda v: _JSONText(go_json_line(v)),
}


class _JSONText(str):
    """The `json` function's html.JS result (escaped like any other value in HTML text)."""


class StringMap(dict[str, str]):
    """A Go map[string]string (an alert's Tags): `index` of a missing key is the zero value "",
    where a map[string]interface{} gives nil ("<no value>")."""


def _index(m: Any, keys: tuple[Any, ...]) -> Any:
    for k in keys:
        if isinstance(m, StringMap):
            m = m.get(k, "")
        elif isinstance(m, dict):
            m = m.get(k)
        elif isinstance(m, (list, tuple)) and isinstance(k, int):
            m = m[k]
        else:
            raise TemplateError("can't index item")
    return m


def _eval_arg(tok: Node, dot: Any, root: Any) -> Any:
    kind = tok[0]
    if kind == "pipeline":
        return _eval_pipeline(tok, dot, root)
    val = tok[1]
    if kind == "field":
        return _field(dot, val)
    if kind == "dollar":
        return root
    if kind == "string":
        return json.loads(val) if val.startswith('"') else val[1:-1]
    if kind == "number":
        return float(val) if "." in val else int(val)
    if val in ("true", "false"):
        return val == "true"
    if val == "nil":
        return None
    fn = FUNCS.get(val)
    if fn is None:
        raise TemplateError(f'function "{val}" not defined')
    return fn()


def _eval_pipeline(pipe: Node, dot: Any, root: Any) -> Any:
    result: Any = _MISSING
    for cmd in pipe[1]:
        head = cmd[0]
        if head[0] == "ident" and head[1] in FUNCS:
            args = [_eval_arg(t, dot, root) for t in cmd[1:]]
            if result is not _MISSING:
                args.append(result)
            try:
                result = FUNCS[head[1]](*args)
            except TemplateError:
                raise
            except Exception as exc:
                raise TemplateError(f"error calling {head[1]}: {exc}") from None
        else:
            if len(cmd) > 1:
                raise TemplateError(f"can't give argument to non-function {head[1]}")
            result = _eval_arg(head, dot, root)
    return result


_MISSING = object()


def execute(nodes: list[Node], data: Any, *, html: bool = False) -> str:
    out: list[str] = []
    _run(nodes, data, out, html)
    return "".join(out)


def _run(nodes: list[Node], dot: Any, out: list[str], html: bool) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "out":
            v = _eval_pipeline(node[1], dot, dot)
            text = v if isinstance(v, str) else go_v(v)
            out.append(html_escape(text) if html else text)
        elif kind == "if":
            branch = node[2] if _truth(_eval_pipeline(node[1], dot, dot)) else node[3]
            _run(branch, dot, out, html)
