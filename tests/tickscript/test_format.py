"""Formatting: the real formatter's unit tests (tick/fmt_test.go) and recorded real outputs.

`data/format_cases.json` holds scripts with what the real `tick.Format` (Kapacitor 1.8 tick/ast
package) returned for them: the canonical text, or the parser error. The scripts aim at the lexer's
and formatter's corners: string/reference/regex escapes, comment placement, numbers, durations,
operator precedence and error positions.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from mockserver.tickscript import TickscriptError, format_script, parse
from mockserver.tickscript.formatter import format_program

# (script, expected canonical form) from the real formatter's tests
FMT_CASES = [
    ('var x = 1',
     'var x = 1\n'),
    ('var x=1',
     'var x = 1\n'),
    ('var x=1.0',
     'var x = 1.0\n'),
    ('var x=01',
     'var x = 01\n'),
    ('var x=0600',
     'var x = 0600\n'),
    ('var x=1m',
     'var x = 1m\n'),
    ('var x=60s',
     'var x = 60s\n'),
    ('var x= /.*/',
     'var x = /.*/\n'),
    ('var x= /^\\/root\\//',
     'var x = /^\\/root\\//\n'),
    ('var x=stream()|window().period(10s).every(10s)',
     'var x = stream()\n    |window()\n        .period(10s)\n        .every(10s)\n'),
    ('var x = stream()\n//Window data  \n|window()\n// Period / Every 10s\n.period(10s).every(10s)',
     'var x = stream()\n    // Window data\n    |window()\n        // Period / Every 10s\n        .period(10s)\n        .every(10s)\n'),
    ('var x = stream()\n@udf()\n    .option(\n        // Param 1\n        1,\n        // Param 2\n        2,\n        // Param 3\n        3,\n        // Param 4\n        4,\n                )\n',
     'var x = stream()\n    @udf()\n        .option(\n            // Param 1\n            1,\n            // Param 2\n            2,\n            // Param 3\n            3,\n            // Param 4\n            4\n        )\n'),
    ('global(lambda: ("a" + (1)) / (( 4 +"b") * ("c")))',
     'global(lambda: ("a" + 1) / ((4 + "b") * "c"))\n'),
    ('global(lambda: (1 + 2 - 3 * 4 / 5) < (sin(6)) AND (TRUE OR FALSE))',
     'global(lambda: (1 + 2 - 3 * 4 / 5) < sin(6) AND (TRUE OR FALSE))\n'),
    ('global(lambda: \n(1 + 2 - 3 * 4 / 5) \n< \n(sin(6))\nAND \n(TRUE\nOR (FALSE \nAND TRUE)))',
     'global(lambda: (1 + 2 - 3 * 4 / 5) <\n    sin(6) AND\n    (TRUE OR\n        (FALSE AND\n            TRUE)))\n'),
    ("global(lambda: \n// If this\n// is less than that\n(1 + 2 - 3 * 4 / 5) \n< (sin(6))\nAND \n// more comments.\n(TRUE OR FALSE), 'arg',)",
     "global(\n    lambda: \n    // If this\n    // is less than that\n    (1 + 2 - 3 * 4 / 5) <\n    sin(6) AND\n    // more comments.\n    (TRUE OR FALSE),\n    'arg'\n)\n"),
    ("// Preserve comments spacing\n\n// Comment block 1\n// still 1\n\n// Comment block 2\n// still 2\n\n// Preserve per line spacing\n//     indented\n//fix this line\n//\n\n\nvar x = stream\n\t|from()\n\t\t//.measurement('mem')\n\t\t.measurement('cpu')\n\n// This should be its own comment block\nx |alert()\n\t\n\n",
     "// Preserve comments spacing\n\n// Comment block 1\n// still 1\n\n// Comment block 2\n// still 2\n\n// Preserve per line spacing\n//     indented\n// fix this line\n//\nvar x = stream\n    |from()\n        // .measurement('mem')\n        .measurement('cpu')\n\n// This should be its own comment block\nx\n    |alert()\n"),
    ("// Comment all the things\nvar \nx = \nstream()\n// 1\n|\nudf()\n// 2\n    .option(\n        // 3\n        1,\n        // 4\n        2.0,\n        // 5\n        3h,\n        // 6\n        'a',\n    )\n// 7\n|\neval(\n// 8\nlambda:\na * b + c\n,\n)\n// 9\n|\ngroupBy(\n//10 \n*\n)\n// 11\n",
     "// Comment all the things\nvar x = stream()\n    // 1\n    |udf()\n        // 2\n        .option(\n            // 3\n            1,\n            // 4\n            2.0,\n            // 5\n            3h,\n            // 6\n            'a'\n        )\n    // 7\n    |eval(\n        // 8\n        lambda: a * b + c\n    )\n    // 9\n    |groupBy(\n        // 10\n        *\n    )\n\n// 11\n\n"),
    ('\n\t\t\t// Define a result that contains the most recent score per player.\nvar topPlayerScores = stream\n    |from().measurement(\'scores\')\n    // Get the most recent score for each player per game.\n// Not likely that a player is playing two games but just in case.\n.groupBy(\'game\', \'player\')\n    |window()\n        // keep a buffer of the last 11s of scores\n        // just in case a player score hasn\'t updated in a while\n        .period(11s)\n        // Emit the current score per player every second.\n.every(1s)\n        // Align the window boundaries to be on the second.\n.align()\n    |last(\'value\')\n\n// Calculate the top 15 scores per game\nvar topScores = topPlayerScores\n    |groupBy(\'game\')\n    |top(15, \'last\', \'player\')\n\n// Expose top scores over the HTTP API at the \'top_scores\' endpoint.\n// Now your app can just request the top scores from Kapacitor\n// and always get the most recent result.\n//\n// http://localhost:9092/api/v1/top_scores/top_scores\ntopScores\n   |httpOut(\'top_scores\')\n\n// Sample the top scores and keep a score once every 10s\nvar topScoresSampled = topScores\n    |sample(10s)\n\n// Store top fifteen player scores in InfluxDB.\ntopScoresSampled\n    |influxDBOut()\n        .database(\'game\')\n        .measurement(\'top_scores\')\n\n// Calculate the max and min of the top scores.\nvar max = topScoresSampled\n    |max(\'top\')\nvar min = topScoresSampled\n    |min(\'top\')\n\n// Join the max and min streams back together and calculate the gap.\nmax|join(min)\n        .as(\'max\', \'min\')\n    // calculate the difference between the max and min scores.\n|eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")\n        .as(\'gap\', \'topFirst\', \'topLast\')\n    // store the fields: gap, topFirst, and topLast in InfluxDB.\n|influxDBOut()\n        .database(\'game\')\n        .measurement(\'top_scores_gap\')\n',
     '// Define a result that contains the most recent score per player.\nvar topPlayerScores = stream\n    |from()\n        .measurement(\'scores\')\n        // Get the most recent score for each player per game.\n        // Not likely that a player is playing two games but just in case.\n        .groupBy(\'game\', \'player\')\n    |window()\n        // keep a buffer of the last 11s of scores\n        // just in case a player score hasn\'t updated in a while\n        .period(11s)\n        // Emit the current score per player every second.\n        .every(1s)\n        // Align the window boundaries to be on the second.\n        .align()\n    |last(\'value\')\n\n// Calculate the top 15 scores per game\nvar topScores = topPlayerScores\n    |groupBy(\'game\')\n    |top(15, \'last\', \'player\')\n\n// Expose top scores over the HTTP API at the \'top_scores\' endpoint.\n// Now your app can just request the top scores from Kapacitor\n// and always get the most recent result.\n//\n// http://localhost:9092/api/v1/top_scores/top_scores\ntopScores\n    |httpOut(\'top_scores\')\n\n// Sample the top scores and keep a score once every 10s\nvar topScoresSampled = topScores\n    |sample(10s)\n\n// Store top fifteen player scores in InfluxDB.\ntopScoresSampled\n    |influxDBOut()\n        .database(\'game\')\n        .measurement(\'top_scores\')\n\n// Calculate the max and min of the top scores.\nvar max = topScoresSampled\n    |max(\'top\')\n\nvar min = topScoresSampled\n    |min(\'top\')\n\n// Join the max and min streams back together and calculate the gap.\nmax\n    |join(min)\n        .as(\'max\', \'min\')\n    // calculate the difference between the max and min scores.\n    |eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")\n        .as(\'gap\', \'topFirst\', \'topLast\')\n    // store the fields: gap, topFirst, and topLast in InfluxDB.\n    |influxDBOut()\n        .database(\'game\')\n        .measurement(\'top_scores_gap\')\n'),
]

RECORDED = json.loads((pathlib.Path(__file__).parent / "data" / "format_cases.json").read_text("utf-8"))


@pytest.mark.parametrize(("script", "expected"), FMT_CASES, ids=[str(i) for i in range(len(FMT_CASES))])
def test_real_format_cases(script: str, expected: str) -> None:
    assert format_script(script) == expected


@pytest.mark.parametrize("expected", [c[1] for c in FMT_CASES], ids=[str(i) for i in range(len(FMT_CASES))])
def test_canonical_form_is_a_fixed_point(expected: str) -> None:
    assert format_script(expected) == expected


@pytest.mark.parametrize("case", RECORDED, ids=[repr(c["script"])[:40] for c in RECORDED])
def test_recorded_real_outputs(case: dict) -> None:
    if case["error"] is None:
        assert format_program(parse(case["script"])) == case["formatted"]
    else:
        with pytest.raises(TickscriptError) as exc:
            parse(case["script"])
        assert str(exc.value) == case["error"]


def test_unparsable_script_is_returned_unchanged() -> None:
    raw = "stream\n    |from(\n"
    assert format_script(raw) == raw


def test_formatting_keeps_unicode_and_crlf_content() -> None:
    # Windows line endings are whitespace between tokens; strings keep their bytes.
    assert format_script("stream\r\n    |from()\r\n        .measurement('c\u00e9')\r\n") == (
        "stream\n    |from()\n        .measurement('c\u00e9')\n")
