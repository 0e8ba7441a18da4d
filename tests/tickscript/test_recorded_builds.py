"""Scripts from the real server's tests, with what the real engine made of them.

`data/build_cases.json` holds TICKscripts used by Kapacitor's own server and integration tests,
each with the outputs of the real Kapacitor 1.8 code: the canonical text (`tick.Format`), the task
pipeline's dot (or the build error) and the vars the script declares when used as a template.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from mockserver.tickscript import (
    TickscriptError,
    build,
    declared_vars,
    dot,
    encode_vars,
    format_script,
    parse,
    task_type,
)

CASES = json.loads((pathlib.Path(__file__).parent / "data" / "build_cases.json").read_text("utf-8"))
IDS = [f"{i}:{c['script'].strip()[:30]}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_formatted(case: dict) -> None:
    assert format_script(case["script"]) == case["formatted"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_type_and_task_dot(case: dict) -> None:
    prog = parse(case["script"])
    assert task_type(prog) == case["type"]
    if case["task_error"]:
        with pytest.raises(TickscriptError) as exc:
            build(prog)
        assert str(exc.value) == case["task_error"]
    else:
        assert dot(build(prog), "t") == case["task_dot"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_template_vars(case: dict) -> None:
    prog = parse(case["script"])
    assert encode_vars(declared_vars(prog)) == case["template_vars"]
