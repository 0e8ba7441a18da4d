"""Lambda evaluation: Kapacitor's stateful-expression rules, not Python's."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import tickscript
from mockserver.engine import expr
from mockserver.engine.expr import EvalError, Scope


def _lambda(text: str) -> Any:
    script = f"stream\n    |from()\n        .measurement('m')\n    |eval({text})\n        .as('x')\n"
    pipeline = tickscript.build(tickscript.parse(script))
    return pipeline.sorted()[-1].ctor_args[0]


def ev(text: str, fields: dict[str, Any] | None = None, tags: dict[str, str] | None = None, t: int = 0) -> Any:
    return expr.compile_lambda(_lambda(text))(Scope(fields or {}, tags or {}, t))


@pytest.mark.parametrize(
    ("text", "fields", "want"),
    [
        ('lambda: "i" / 2', {"i": 7}, 3),  # Go integer division truncates
        ('lambda: "i" / 2', {"i": -7}, -3),
        ('lambda: "i" % 3', {"i": -7}, -1),  # Go's remainder keeps the dividend's sign
        ('lambda: "f" / 4.0', {"f": 9.0}, 2.25),
        ('lambda: "i" > 2.5', {"i": 3}, True),  # comparisons may mix int and float
        ('lambda: "i" == 3.0', {"i": 3}, True),
        ('lambda: "s" < \'b\'', {"s": "a"}, True),
        ('lambda: "s" + \'!\'', {"s": "a"}, "a!"),
        ('lambda: "s" =~ /^w[0-9]+$/', {"s": "w12"}, True),
        ('lambda: "s" !~ /^w/', {"s": "db"}, True),
        ("lambda: -\"i\"", {"i": 4}, -4),
        ('lambda: !("i" > 1)', {"i": 4}, False),
        ('lambda: if("i" > 1, \'big\', \'small\')', {"i": 4}, "big"),
        ('lambda: int("f")', {"f": -2.7}, -2),
        ('lambda: float("i") / 2.0', {"i": 3}, 1.5),
        ('lambda: string("i")', {"i": 3}, "3"),
        ('lambda: abs("i")', {"i": -3}, 3),
        ("lambda: isPresent(\"nope\")", {"i": 1}, False),
    ],
)
def test_values(text: str, fields: dict[str, Any], want: Any) -> None:
    got = ev(text, fields)
    assert got == want and type(got) is type(want)


def test_tags_are_strings_and_fields_win_lookup_errors() -> None:
    assert ev('lambda: "host" == \'a\'', {}, {"host": "a"}) is True
    with pytest.raises(EvalError, match='cannot have field and tags with same name "host"'):
        ev('lambda: "host" == \'a\'', {"host": "a"}, {"host": "a"})


@pytest.mark.parametrize(
    ("text", "fields", "message"),
    [
        ('lambda: "i" + 1.5', {"i": 1}, "mismatched type to binary operator. got int + float. see bool(), int(), "
                                        "float(), string(), duration()"),
        ('lambda: "s" < 10', {"s": "x"}, "mismatched type to binary operator. got string < int."),
        ('lambda: "missing" > 1', {"i": 1}, 'left reference value "missing" is missing value'),
        ('lambda: 1 < "missing"', {"i": 1}, 'right reference value "missing" is missing value'),
        ('lambda: "i" / 0', {"i": 1}, "runtime error: integer divide by zero"),
    ],
)
def test_errors(text: str, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(EvalError) as info:
        ev(text, fields)
    assert str(info.value).startswith(message)


def test_and_short_circuits_like_go() -> None:
    # The right side would fail (missing reference), but AND stops at a false left side.
    assert ev('lambda: "i" > 5 AND "missing" > 1', {"i": 1}) is False
    assert ev('lambda: "i" < 5 OR "missing" > 1', {"i": 1}) is True


def test_stateful_functions_keep_state_per_compiled_closure() -> None:
    lam = _lambda('lambda: count()')
    fn = expr.compile_lambda(lam)
    assert [fn(Scope({}, {}, 0)) for _ in range(3)] == [1, 2, 3]
    assert expr.compile_lambda(lam)(Scope({}, {}, 0)) == 1  # a fresh closure is a reset copy
    sigma = expr.compile_lambda(_lambda('lambda: sigma("v")'))
    values = [sigma(Scope({"v": v}, {}, 0)) for v in (1.0, 3.0, 5.0)]
    assert values[0] == 0.0
    assert values[2] == pytest.approx(1.0)


def test_time_reference_and_time_functions() -> None:
    t = (3600 * 5 + 60 * 7) * 1_000_000_000
    assert ev('lambda: hour("time")', {}, {}, t) == 5
    assert ev('lambda: minute("time")', {}, {}, t) == 7
