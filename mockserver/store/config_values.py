"""How the override code turns JSON into Go config values (weakCopyValue, mapstructure, json.Number),
with the exact conversion errors clients see inside `failed to override configuration ...`."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from mockserver.errors import MockError
from mockserver.gotext import go_quote
from mockserver.gotime import parse_go_duration as _parse_go_duration
from mockserver.store import config_sections as cs


class StoredNumber(str):
    """A JSON number read back from the override store (Go `json.Number`: a string type)."""

    __slots__ = ()


def go_float_text(value: float) -> str:
    """How Go's encoding/json writes a float64."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = repr(value)
        mantissa, _, exp = text.partition("e")
        sign = exp[0] if exp[:1] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        if len(digits) < 2 and sign == "+":
            digits = digits.zfill(2)
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def float_to_int64(number: float) -> int:
    """Go's float64 → int conversion on amd64: truncation; out of range or NaN gives MinInt64."""
    try:
        value = float(number)
    except OverflowError:  # an int beyond float64 (the JSON decoder refuses those; backups may not)
        return -(2**63)
    if math.isnan(value) or not -(2**63) <= value < 2**63:
        return -(2**63)
    return int(value)


def go_type_name(value: Any) -> str:
    """`%T` of a value decoded into `interface{}` (numbers are float64, stored ones json.Number)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, StoredNumber):
        return "json.Number"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def go_kind_name(value: Any) -> str:
    """reflect.Kind.String() of such a value (`invalid` for nil)."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, list):
        return "slice"
    return "map"


def parse_go_duration(text: str) -> int | None:
    """Go's `time.ParseDuration`; None where Go returns an error."""
    try:
        return _parse_go_duration(text)
    except ValueError:
        return None


class ConversionError(MockError):
    pass


_ZERO_VALUE_TYPE = "reflect: call of reflect.Value.Type on zero Value"


def convert(kind: str, current: Any, src: Any) -> Any:
    """Convert a JSON value into an option of `kind`, as the server's override code does."""
    src_kind = go_kind_name(src)
    dst_kind = cs.GO_KIND[kind]
    if src_kind == dst_kind:
        if dst_kind == "map":
            elem = cs.ELEMENT_KIND[kind]
            out = {}
            for key, item in src.items():
                try:
                    out[key] = convert(elem, cs.zero_value(elem), item)
                except ConversionError as exc:
                    raise ConversionError(f"failed to copy map value: {exc}") from None
            return out
        if dst_kind == "slice":
            elem = cs.ELEMENT_KIND[kind]
            out_list = []
            for item in src:
                try:
                    out_list.append(convert(elem, cs.zero_value(elem), item))
                except ConversionError as exc:
                    raise ConversionError(f"failed to copy slice value: {exc}") from None
            return out_list
        if isinstance(src, StoredNumber):
            raise ConversionError("cannot copy mismatched types got json.Number exp string")
        return src
    if dst_kind == "ptr":
        # The nil pointer has no addressable target: reflect panics, the server reports the panic.
        raise ConversionError(_ZERO_VALUE_TYPE)
    if kind in cs.TEXT_KINDS:
        if src_kind == "invalid":
            raise ConversionError(_ZERO_VALUE_TYPE)
        if src_kind != "string":
            raise ConversionError(f"cannot unmarshal {src_kind} into {dst_kind}")
        return _unmarshal_text(kind, current, str(src))
    if dst_kind in ("int", "int64"):
        if src_kind == "float64":
            return float_to_int64(src)
        if src_kind == "invalid":
            raise ConversionError(_ZERO_VALUE_TYPE)
        if src_kind == "string":
            text = str(src)
            if re.fullmatch(r"[+-]?[0-9]+", text) and -(2**63) <= int(text) < 2**63:
                return int(text)
            raise ConversionError(f"cannot convert string {go_quote(text)} into {dst_kind}")
        raise ConversionError(f"cannot convert {src_kind} into {dst_kind}")
    if dst_kind == "struct" and src_kind == "map":
        if kind == cs.SEVERITY_MAP:
            return _severity_map(current, src)
        return _map_structure(kind, current, src)
    raise ConversionError(f"wrong kind {src_kind}, expected value of kind {dst_kind}: false")


def _unmarshal_text(kind: str, current: Any, text: str) -> Any:
    """Text-unmarshalled options; the server ignores their errors, keeping the current value."""
    if kind == cs.DURATION:
        if text == "":
            return current
        parsed = parse_go_duration(text)
        return current if parsed is None else parsed
    if text in cs.SUBSCRIPTION_MODES:
        return cs.SUBSCRIPTION_MODES.index(text)
    return current


def _severity_map(current: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in src.items():
        if key not in cs.SEVERITY_KEYS:
            raise ConversionError(f"Unknown field {key} for SeverityMap")
        out[key] = value
    return out


def go_value_text(value: Any) -> str:
    """`%v` of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StoredNumber):
        return str(value)
    if isinstance(value, (int, float)):
        return go_float_text(float(value))
    if isinstance(value, list):
        return "[" + " ".join(go_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _map_structure(kind: str, current: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """mapstructure decoding into a struct option (field names matched case-insensitively)."""
    if kind == cs.BASIC_AUTH:
        fields = [(go_name, json_name, cs.STRING) for go_name, json_name in cs.BASIC_AUTH_FIELDS]
        type_name = "*httppost.BasicAuth"
    else:
        fields = [(go_name, go_name, k) for go_name, k in cs.SASL_FIELDS]
        type_name = "*kafka.SASLAuth"
    out = dict(current)
    errors: list[str] = []
    matched: set[str] = set()
    for go_name, key, field_kind in fields:
        found = [k for k in src if k.lower() == go_name.lower()]
        if not found:
            continue
        matched.update(found)
        value = src[found[-1]]
        if value is None:
            continue
        converted, error = _map_field(go_name, field_kind, value)
        if error:
            errors.append(error)
        else:
            out[key] = converted
    unused = sorted(k for k in src if k not in matched)
    if unused:
        errors.append(f"'' has invalid keys: {', '.join(unused)}")
    if errors:
        points = "\n".join(sorted(f"* {e}" for e in errors))
        raise ConversionError(
            f"failed to decode options into {type_name}: {len(errors)} error(s) decoding:\n\n{points}"
        )
    return out


def _map_field(name: str, kind: str, value: Any) -> tuple[Any, str | None]:
    def bad(expected: str) -> tuple[Any, str]:
        return None, (
            f"'{name}' expected type '{expected}', got unconvertible type '{go_type_name(value)}', "
            f"value: '{go_value_text(value)}'"
        )

    if kind == cs.STRING:
        return (str(value), None) if isinstance(value, str) else bad("string")
    if kind == cs.BOOL:
        return (value, None) if isinstance(value, bool) else bad("bool")
    if kind in ("*int", "time.Duration"):
        if isinstance(value, bool):
            return bad("int" if kind == "*int" else "time.Duration")
        if isinstance(value, (int, float)) and not isinstance(value, StoredNumber):
            return float_to_int64(value), None
        if isinstance(value, str) and kind == "time.Duration" and not isinstance(value, StoredNumber):
            parsed = parse_go_duration(value)
            if parsed is None:
                return None, f"error decoding '{name}': time: invalid duration {go_quote(value)}"
            return parsed, None
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value):
            return int(value), None
        return bad("int" if kind == "*int" else "time.Duration")
    if kind == cs.STRINGS:
        if not isinstance(value, list):
            return bad("[]string")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                return None, (
                    f"'{name}[{i}]' expected type 'string', got unconvertible type '{go_type_name(item)}', "
                    f"value: '{go_value_text(item)}'"
                )
        return [str(v) for v in value], None
    if kind == cs.STRING_MAP:
        if not isinstance(value, dict):
            return bad("map[string]string")
        for key, item in value.items():
            if not isinstance(item, str):
                return None, (
                    f"'{name}[{key}]' expected type 'string', got unconvertible type '{go_type_name(item)}', "
                    f"value: '{go_value_text(item)}'"
                )
        return {k: str(v) for k, v in value.items()}, None
    return value, None
