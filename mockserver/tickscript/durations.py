"""InfluxQL durations (`influxql.ParseDuration` / `FormatDuration`), which TICKscript uses for literals
and the API uses for duration vars given as strings. Arithmetic wraps like Go's int64."""

from __future__ import annotations

from mockserver.errors import MockError

_NS = {"u": 1_000, "µ": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
       "h": 3_600_000_000_000, "d": 86_400_000_000_000, "w": 604_800_000_000_000, "ns": 1}
_MASK = (1 << 64) - 1
_SIGN = 1 << 63


class DurationError(MockError, ValueError):
    pass


def _wrap(v: int) -> int:
    v &= _MASK
    return v - (1 << 64) if v & _SIGN else v


def parse_duration(s: str) -> int:
    """Nanoseconds for an InfluxQL duration such as `10s`, `1m30s`, `5ms`, `1u`, `-2h`."""
    if len(s.encode("utf-8", "surrogatepass")) < 2:
        raise DurationError("invalid duration")
    n = len(s)
    i = 0
    negative = False
    if s[0] == "-":
        negative = True
        i = 1
    d = 0
    measure = 0
    unit = ""
    while i < n:
        start = i
        while i < n and "0" <= s[i] <= "9":
            i += 1
        if i >= n or i == start:
            raise DurationError("invalid duration")
        measure = int(s[start:i])
        if measure > (1 << 63) - 1:
            raise DurationError("invalid duration")
        c = s[i]
        unit = c
        if c in "nm" and i + 1 < n and s[i + 1] == "s":
            unit = c + "s"
            d = _wrap(d + _wrap(measure * _NS[unit]))
            i += 2
            continue
        if c == "n" or c not in _NS:
            raise DurationError("invalid duration")
        d = _wrap(d + _wrap(measure * _NS[c]))
        i += 1
    if d < 0 and not negative:
        raise DurationError(f"overflowed duration {measure}{unit}: choose a smaller duration or INF")
    return _wrap(-d) if negative else d


def format_duration(ns: int) -> str:
    """`influxql.FormatDuration`: the largest unit that divides the value exactly."""
    if ns == 0:
        return "0s"
    for unit, size in (("w", 604_800_000_000_000), ("d", 86_400_000_000_000), ("h", 3_600_000_000_000),
                       ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000), ("u", 1_000)):
        if ns % size == 0:
            return f"{_go_div(ns, size)}{unit}"
    return f"{ns}ns"


def _go_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def go_duration_string(ns: int) -> str:
    """`time.Duration.String()` (e.g. `1m30s`, `500ms`, `0s`), used in a few real error texts."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u < 1_000:
            out = f"{u}ns"
        elif u < 1_000_000:
            out = _frac(u, 1_000) + "µs"
        else:
            out = _frac(u, 1_000_000) + "ms"
    else:
        secs, rem = divmod(u, 1_000_000_000)
        h, secs = divmod(secs, 3600)
        m, secs = divmod(secs, 60)
        s = str(secs)
        if rem:
            s += "." + f"{rem:09d}".rstrip("0")
        out = ""
        if h:
            out = f"{h}h"
        if h or m:
            out += f"{m}m"
        out += s + "s"
    return "-" + out if neg else out


def _frac(v: int, unit: int) -> str:
    whole, rem = divmod(v, unit)
    if not rem:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{rem:0{digits}d}".rstrip("0")
