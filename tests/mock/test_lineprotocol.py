"""The line-protocol parser: accepted forms and the upstream scanner's rejection reasons.

Expected reasons are the error texts of InfluxDB 1.x `models/points.go` (the parser Kapacitor's
write endpoint uses) for the input classes its scanner distinguishes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.store import lineprotocol as lp
from mockserver.store.lineprotocol import ParseError, parse_points

NOW = 1_700_000_000_123_456_789


def one(line: bytes, precision: str = "n") -> lp.Point:
    (point,) = parse_points(line, NOW, precision)
    return point


def reason(line: bytes, precision: str = "n") -> str:
    with pytest.raises(ParseError) as info:
        parse_points(line, NOW, precision)
    (failure,) = info.value.failures
    prefix = f"unable to parse '{line.decode()}': "
    assert failure.startswith(prefix)
    return failure[len(prefix) :]


def test_a_full_point() -> None:
    p = one(b'cpu,host=serverA,region=us usage=91.5,n=3i,ok=true,msg="hi there" 1700000000000000000')
    assert p.measurement == "cpu"
    assert p.tags == (("host", "serverA"), ("region", "us"))
    assert p.fields == {"usage": 91.5, "n": 3, "ok": True, "msg": "hi there"}
    assert p.time == 1_700_000_000_000_000_000
    assert p.key == b"cpu,host=serverA,region=us"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"1", 1.0), (b"-1.5", -1.5), (b".5", 0.5), (b"5.", 5.0), (b"1e3", 1000.0), (b"1.5E-2", 0.015),
        (b"-7i", -7), (b"9223372036854775807i", 2**63 - 1),
        (b"t", True), (b"T", True), (b"true", True), (b"True", True), (b"TRUE", True),
        (b"f", False), (b"F", False), (b"false", False), (b"False", False), (b"FALSE", False),
        (b'""', ""), (b'"a,b c=d"', "a,b c=d"), (b'"say \\"hi\\""', 'say "hi"'), (b'"back\\\\slash"', "back\\slash"),
    ],
)  # fmt: skip
def test_field_types(raw: bytes, value: object) -> None:
    got = one(b"m v=" + raw).fields["v"]
    assert got == value and type(got) is type(value)


def test_escapes_in_names() -> None:
    p = one(b"my\\ meas\\,x,ta\\ g=va\\,l\\=ue fi\\=eld=1")
    assert p.measurement == "my meas,x"
    assert p.tags == (("ta g", "va,l=ue"),)
    assert p.fields == {"fi=eld": 1.0}


def test_unsorted_tags_are_sorted_in_the_series_key() -> None:
    p = one(b"cpu,zone=a,host=b,dc=c v=1")
    assert p.key == b"cpu,dc=c,host=b,zone=a"
    assert [k for k, _ in p.tags] == ["dc", "host", "zone"]


@pytest.mark.parametrize(
    ("precision", "ts", "expected"),
    [
        ("n", b"5", 5), ("u", b"5", 5_000), ("ms", b"5", 5_000_000), ("s", b"5", 5_000_000_000),
        ("m", b"5", 300_000_000_000), ("h", b"5", 18_000_000_000_000), ("s", b"-1", -1_000_000_000),
        ("bogus", b"5", 5),
    ],
)  # fmt: skip
def test_timestamp_precision(precision: str, ts: bytes, expected: int) -> None:
    assert one(b"m v=1 " + ts, precision).time == expected


@pytest.mark.parametrize(
    ("precision", "expected"),
    [("n", NOW), ("u", NOW - NOW % 1_000), ("s", NOW - NOW % 1_000_000_000), ("h", NOW - NOW % 3_600_000_000_000)],
)
def test_missing_timestamp_is_now_truncated_to_the_precision(precision: str, expected: int) -> None:
    assert one(b"m v=1", precision).time == expected


def test_comments_blank_lines_and_leading_whitespace_are_skipped() -> None:
    body = b"# a comment\n\n   \n\t# indented comment\n  m v=1 1\nm v=2 2\n"
    assert [p.fields["v"] for p in parse_points(body, NOW)] == [1.0, 2.0]


def test_empty_body_has_no_points() -> None:
    assert parse_points(b"", NOW) == []


def test_a_quoted_string_may_span_lines() -> None:
    (p,) = parse_points(b'm s="line1\nline2" 1\n', NOW)
    assert p.fields["s"] == "line1\nline2"


def test_every_bad_line_is_reported_and_joined_by_newlines() -> None:
    with pytest.raises(ParseError) as info:
        parse_points(b"good v=1\nbad\nalso bad=\nfine v=2", NOW)
    assert str(info.value) == (
        "unable to parse 'bad': missing fields\nunable to parse 'also bad=': missing field value"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"this is not line protocol", "invalid field format"),  # real-server transcript #16
        (b"cpu", "missing fields"),
        (b",tag=a v=1", "missing measurement"),
        (b"cpu,=a v=1", "missing tag key"),
        (b"cpu,tag v=1", "missing tag value"),
        (b"cpu,tag= v=1", "missing tag value"),
        (b"cpu,tag=a", "missing fields"),
        (b"cpu,tag=a=b v=1", "invalid tag format"),
        (b"cpu,a=1,a=2 v=1", "duplicate tags"),
        (b"cpu,b=1,a=2,b=3 v=1", "duplicate tags"),
        (b"cpu =1", "missing field key"),
        (b"cpu a=1,=2", "missing field key"),
        (b"cpu v=", "missing field value"),
        (b"cpu v=,w=1", "missing field value"),
        (b"cpu v=1,w", "invalid field format"),
        (b'cpu v="open', "unbalanced quotes"),
        (b"cpu v=1.2.3", "invalid number"),
        (b"cpu v=-", "invalid number"),
        (b"cpu v=1x", "invalid number"),
        (b"cpu v=9i10", "invalid number"),
        (b"cpu v=1.5i", "invalid number"),
        (b"cpu v=NaN", "invalid number"),
        (b"cpu v=12u", "invalid number"),  # no uint support in Kapacitor builds
        (b"cpu v=1e", "invalid float"),
        (b"cpu v=1e500", "invalid float"),
        (b"cpu v=9223372036854775808i", 'unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range'),
        (b"cpu v=tru", "invalid boolean"),
        (b"cpu v=yes", "invalid boolean"),
        (b"cpu v=tRUE", "invalid boolean"),
        (b"cpu v=1 12x", "bad timestamp"),
        (b"cpu v=1 1 2", "point is invalid"),
        (b"cpu v=1 -", 'strconv.ParseInt: parsing "-": invalid syntax'),
        (b"cpu v=1 99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
        (b"cpu v=1 -9223372036854775808", "time outside range -9223372036854775806 - 9223372036854775806"),
        (b"cpu v=1 9223372036854775807", "time outside range -9223372036854775806 - 9223372036854775806"),
        (b"cpu v=1\r", "invalid number"),
    ],
)  # fmt: skip
def test_rejection_reasons(line: bytes, expected: str) -> None:
    assert reason(line) == expected


def test_time_range_depends_on_precision() -> None:
    assert reason(b"cpu v=1 1700000000000000000", "s").startswith("time outside range")
    assert one(b"cpu v=1 1700000000", "s").time == 1_700_000_000_000_000_000


def test_series_key_length_limit() -> None:
    long_tag = b"t=" + b"x" * 65535
    assert reason(b"m," + long_tag + b" v=1") == f"max key length exceeded: {65535 + 4} > 65535"
    key = b"m,t=" + b"x" * (65535 - 4 - 4 - 1)  # key + 4 + len("v") is exactly the limit
    assert one(key + b" v=1").key == key
    assert reason(key + b" vv=1") == "max key length exceeded: 65536 > 65535"


def test_unsigned_values_with_uint_support() -> None:
    (p,) = parse_points(b"m v=12u", NOW, uint_support=True)
    assert p.fields["v"] == 12 and p.line().endswith(b"v=12u " + str(NOW).encode())
    with pytest.raises(ParseError, match="invalid number"):
        parse_points(b"m v=-1u", NOW, uint_support=True)


def test_line_reencodes_with_sorted_fields_and_nanoseconds() -> None:
    p = one(b'cpu,b=2,a=1 z=1.5,a="x\\"y",m=2i,t=T 3', "s")
    assert p.line() == b'cpu,a=1,b=2 a="x\\"y",m=2i,t=true,z=1.5 3000000000'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (-2.25, "-2.25"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (123456.0, "123456"),
    ],
)
def test_float_encoding_matches_go_f_format(value: float, text: str) -> None:
    assert lp.format_float(value) == text


# ---- the regex fast path must agree with the scanner -------------------------------------------

_name = st.text(alphabet="abcXY09_.-:/", min_size=1, max_size=6)
_value = st.one_of(
    st.integers(-(10**18), 10**18).map(lambda i: f"{i}i"),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"{f:.4f}"),
    st.sampled_from(["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE", ".5", "5.", "-0"]),
    st.text(alphabet="0123456789.-ie", min_size=1, max_size=8),  # mostly invalid numbers
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    tags = draw(st.lists(st.tuples(_name, _name), max_size=3))
    fields = draw(st.lists(st.tuples(_name, _value), min_size=1, max_size=3))
    line = draw(_name) + "".join(f",{k}={v}" for k, v in tags) + " " + ",".join(f"{k}={v}" for k, v in fields)
    ts = draw(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.integers(-(10**12), 10**12)))
    if ts is not None:
        line += f" {ts}"
    return (line + draw(st.sampled_from(["", " ", "  "]))).encode()


@settings(max_examples=300, deadline=None)
@given(_lines(), st.sampled_from(["n", "s", "h"]))
def test_fast_path_agrees_with_the_scanner(line: bytes, precision: str) -> None:
    fast = lp._fast_point(line, NOW, precision)
    try:
        slow: lp.Point | None = lp._parse_point(line, NOW, precision, False)
    except lp.LineError:
        slow = None
    if fast is not None:
        assert fast == slow
