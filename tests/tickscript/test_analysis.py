"""Task type inference and implicit DBRPs (services/task_store/util.go and its tests)."""

from __future__ import annotations

import pytest

from mockserver.tickscript import dbrps, parse, task_type

DBRP = 'dbrp "telegraf"."autogen"\n'


@pytest.mark.parametrize(("script", "expected"), [
    # TestTaskTypeFromProgram
    (DBRP + "stream|from().measurement('m')\n", "stream"),
    (DBRP + "batch|query('SELECT * FROM \"telegraf\".\"autogen\".\"mymeas\"')\n", "batch"),
    (DBRP + "var x = stream|from().measurement('m')\n", "stream"),
    (DBRP + "var x = batch|query('SELECT * FROM \"telegraf\".\"autogen\".\"mymeas\"')\n", "batch"),
    (DBRP + "var x = batch|query('SELECT * FROM (SELECT * FROM \"telegraf\".\"autogen\".\"mymeas\")')\n", "batch"),
    (DBRP + "var x = batch|query('SELECT * FROM \"telegraf\".\"autogen\".\"mymeas\"')\n"
     "var y = stream|from().measurement('m')\n", "invalid"),
    (DBRP + "var x = testing|query('SELECT * FROM \"telegraf\".\"autogen\".\"mymeas\"')\n", "invalid"),
    # TestServer_DynamicStreamTask: the kind comes through a declaration of the bare source
    ("var s = stream\ns|from()|log()\n", "stream"),
    ("var b = batch\nb|query('SELECT 1')|log()\n", "batch"),
    # a bare identifier statement is not a chain, an empty script has no statement
    ("stream\n", "invalid"),
    ("", "invalid"),
    ("// only a comment\n", "invalid"),
    # the source may appear in several statements as long as it is one kind
    ("var a = stream|from()\nvar b = stream|from()\na|join(b).as('a', 'b')\n", "stream"),
    ("stream|from()\nbatch|query('x')\n", "invalid"),
    # deep chains walk to their left-most identifier
    ("stream|from().measurement('m')|window().period(1m).every(1m)|mean('v')|alert()\n", "stream"),
    # a function call or expression at the left is not an identifier
    ("stream()|from()\n", "invalid"),
])
def test_task_type(script: str, expected: str) -> None:
    assert task_type(parse(script)) == expected


@pytest.mark.parametrize(("script", "expected"), [
    # TestDBRPsFromProgram
    ('dbrp "telegraf"."autogen"\nstream|from().measurement(\'m\')\n', [("telegraf", "autogen")]),
    ('dbrp "telegraf"."autogen"\ndbrp "telegraf"."not_autogen"\nstream|from().measurement(\'m\')\n',
     [("telegraf", "autogen"), ("telegraf", "not_autogen")]),
    # in script order, wherever they are; escaped quotes are part of the names
    ('stream|from()\ndbrp "b"."2"\nvar x = 1\ndbrp "a"."1"\n', [("b", "2"), ("a", "1")]),
    ('dbrp "a\\"b"."rp"\nstream|from()', [('a"b', "rp")]),
    ("stream|from()\n", []),
])
def test_dbrps(script: str, expected: list[tuple[str, str]]) -> None:
    assert dbrps(parse(script)) == expected
