"""Task start-up: lambdas compiled with the static type rules of Kapacitor's `tick/stateful`.

`data/startup_cases.json` was recorded from a real Kapacitor 1.5.7 built from its tag (loopback):
each script was created with `"status": "enabled"` and the answer kept — `null` for 200 (the task
started), else the text of the 500. Scripts the server refused with 400 are not in the file.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from mockserver import tickscript
from mockserver.tickscript import ast, lexer
from mockserver.tickscript.typecheck import (
    OPERATIONS,
    StartupError,
    binary_error,
    check_pipeline,
    compile_expression,
    constant_type,
)

DATA = pathlib.Path(__file__).parent / "data"
CASES = json.loads((DATA / "startup_cases.json").read_text("utf-8"))
MISMATCH_HINT = ". see bool(), int(), float(), string(), duration()"


def start(script: str, overrides: dict[str, tickscript.Var] | None = None) -> str | None:
    try:
        check_pipeline(tickscript.build(tickscript.parse(script), overrides))
    except StartupError as exc:
        return str(exc)
    return None


def test_the_recorded_cases_cover_both_outcomes() -> None:
    errors = [c for c in CASES if c["start_error"]]
    assert len(CASES) > 300 and 100 < len(errors) < len(CASES) - 100


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{c['script'][32:80]}" for i, c in enumerate(CASES)])
def test_start_answer_as_recorded_from_the_real_server(case: dict) -> None:
    assert start(case["script"]) == case["start_error"]


def test_issue_examples_byte_exact() -> None:
    assert start("stream|from().measurement('cpu')|alert().crit(lambda: 'usage_idle' < 10)") == (
        "Failed to compile stateful expression for crit: mismatched type to binary operator. "
        "got string < int. see bool(), int(), float(), string(), duration()"
    )
    assert start("stream|from()|eval(lambda: \"x\" + 'a' * 2).as('y')") == (
        "Failed to compile 0 expression: Failed to handle right node: invalid math operator * for type string"
    )


def test_field_references_and_functions_are_dynamic() -> None:
    """Their type exists only per point: nothing about them is checked at start."""
    assert start("stream|from()|alert().crit(lambda: \"usage_idle\" < 10)") is None
    assert start("stream|from()|eval(lambda: \"a\" * 'b', lambda: sigma('x') + 1s).as('a', 'b')") is None
    assert start("stream|from()|where(lambda: nosuchfunction() == 'x')") is None


def test_comparisons_are_boolean_even_over_fields() -> None:
    """`("x" > 1)` has a constant type (boolean), so using it in math fails at start."""
    assert start("stream|from()|where(lambda: (\"x\" > 1) + 1)") == (
        "Failed to compile expression in where clause: invalid math operator + for type boolean"
    )


def test_vars_have_their_declared_type() -> None:
    assert start("var t = 'x'\nstream|from()|eval(lambda: t * 2).as('a')") == (
        "Failed to compile 0 expression: invalid math operator * for type string"
    )
    assert start("var t = 10s\nstream|from()|eval(lambda: t * 2.5).as('a')") is None
    overrides = {"t": tickscript.Var("float", 1.5)}
    assert start("var t = 10.0\nstream|from()|eval(lambda: t % 2.0).as('a')", overrides) == (
        "Failed to compile 0 expression: invalid math operator % for type float"
    )


def test_nodes_are_created_in_walk_order_and_the_first_failure_wins() -> None:
    assert start("stream|from()|eval(lambda: 1 + 'a').as('x')|where(lambda: 'b' < 1)") == (
        "Failed to compile 0 expression: mismatched type to binary operator. got int + string" + MISMATCH_HINT
    )
    assert start("stream|from()|combine(lambda: TRUE, lambda: 1 - 'a').as('x', 'y')") == (
        "Failed to compile 1 expression: mismatched type to binary operator. got int - string" + MISMATCH_HINT
    )


def test_alert_levels_in_order_and_resets_only_with_their_level() -> None:
    assert start("stream|from()|alert().info(lambda: 1 + 'a').warn(lambda: 'b' < 1)").startswith(
        "Failed to compile stateful expression for info: "
    )
    assert start("stream|from()|alert().critReset(lambda: 1 + 'a').warnReset(lambda: 'b' < 1)") is None
    assert start("stream|from()|alert().crit(lambda: TRUE).critReset(lambda: 1 + 'a')") == (
        "Failed to compile stateful expression for critReset: mismatched type to binary operator. "
        "got int + string" + MISMATCH_HINT
    )


def test_from_where_calls_are_and_ed_together() -> None:
    assert start("stream|from().where(lambda: \"a\" > 1).where(lambda: 1 + 1)") == (
        "Failed to compile from expression: mismatched type to binary operator. got boolean AND int" + MISMATCH_HINT
    )


def test_state_nodes_answer_the_bare_compile_error() -> None:
    assert start("stream|from()|stateDuration(lambda: 1 - 'a')") == (
        "mismatched type to binary operator. got int - string" + MISMATCH_HINT
    )


def test_kapacitors_own_test_scripts_all_start() -> None:
    """No false alarm: every script of the server's own tests that builds also starts."""
    cases = json.loads((DATA / "build_cases.json").read_text("utf-8"))
    started = 0
    for case in cases:
        if case["task_error"]:
            continue
        assert start(case["script"]) is None, case["script"]
        started += 1
    assert started > 50


def test_operation_table_is_evaluation_funcs() -> None:
    """61 operations; mixing int and float only in comparisons; `%` only on ints."""
    assert len(OPERATIONS) == 61
    assert (lexer.PLUS, "int", "float") not in OPERATIONS
    assert OPERATIONS[(lexer.LESS, "int", "float")] == "boolean"
    assert (lexer.MOD, "float", "float") not in OPERATIONS
    assert OPERATIONS[(lexer.DIV, "duration", "duration")] == "int"
    assert OPERATIONS[(lexer.MULT, "float", "duration")] == "duration"
    assert (lexer.DIV, "int", "duration") not in OPERATIONS


def test_binary_error_quirk_with_an_unknown_left_type() -> None:
    """determineError's second test looks at the left type again: it fires only when that is unknown."""
    assert binary_error(None, lexer.PLUS, "int") == "invalid math operator + for type int"
    assert binary_error("int", lexer.AND, "boolean") == "invalid logical operator AND for type int"
    assert binary_error("boolean", lexer.EQUAL, "int") == (
        "mismatched type to binary operator. got boolean == int" + MISMATCH_HINT
    )


def test_constant_types() -> None:
    num = ast.Number(0, True, 1, 10)
    ref = ast.Reference(0, "x")
    assert constant_type(ast.Unary(0, lexer.MINUS, ast.Duration(0, 1, "1ns"))) == "duration"
    assert constant_type(ast.Unary(0, lexer.NOT, ref)) == "boolean"
    assert constant_type(ast.Binary(0, lexer.PLUS, num, ref, False)) is None
    assert constant_type(ast.Binary(0, lexer.GREATER, ref, num, False)) == "boolean"
    assert compile_expression(ast.Binary(0, lexer.PLUS, num, ref, False)) is True
    assert compile_expression(ast.Binary(0, lexer.GREATER, ref, num, False)) is False


def test_nodes_that_are_not_expressions() -> None:
    with pytest.raises(StartupError, match=r"^Failed to handle 1 argument: Given node type is not valid evaluation node: \*ast.ListNode$"):
        compile_expression(ast.Function(0, 0, "f", [ast.List(0, [])], False))


def test_deep_expressions_do_not_crash() -> None:
    expr: ast.Node = ast.Number(0, True, 1, 10)
    for _ in range(5000):
        expr = ast.Binary(0, lexer.PLUS, expr, ast.Number(0, True, 1, 10), False)
    node = type("N", (), {"gotype": "WhereNode", "ctor_args": (ast.Lambda(0, expr),), "fields": {}, "settings": {}})()
    pipeline = type("P", (), {"sorted": lambda self: [node]})()
    try:
        check_pipeline(pipeline)
    except StartupError as exc:
        assert str(exc).startswith("Failed to compile expression in where clause: ")
