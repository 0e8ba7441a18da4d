"""`-n 2` (pytest-xdist) gives the verdict and reports of a serial run with the same seed.

Both runs go through the command in a fresh interpreter. Compared: every result record except its
timings and recorded exchanges, the scores, the verdict, the JUnit test cases with their outcomes
and properties, and the HTML rendered from the two documents once their run-specific facts (URL,
prefix, request count, times) are made equal. One pair runs on the embedded mock (the controller
serves it to both workers); one on a served mutant, so failures, their messages and a FAIL verdict
are compared too. The whole quick suite both ways is in the soak env.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import report
from tests.conformance.catalogue import by_name
from tests.conformance.conftest import SuiteRun, run_suite

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: Per-run facts that differ between any two runs, serial or not.
_VOLATILE_RUN = ("target", "prefix", "requests", "started", "duration", "cleanup_errors")
_VOLATILE_RECORD = ("duration", "exchange", "exchanges")
#: An ID of a run's (or worker's) prefix, also a database name: different in any two runs (the
#: prefix; the counter in an ID depends on how many IDs the process made before).
_PREFIX = re.compile(r"kcf[-_]\d{12}[-_][0-9a-f]{6}[^\s\"'&/\\?,\]}]*")


def _unprefixed(value: Any) -> Any:
    return json.loads(_PREFIX.sub("PREFIX", json.dumps(value)))


def _records(run: SuiteRun) -> list[dict[str, Any]]:
    assert run.result is not None, run.stdout[-3000:] + run.stderr[-3000:]
    return _unprefixed([{k: v for k, v in r.items() if k not in _VOLATILE_RECORD} for r in run.result["results"]])


def _junit(path: Path) -> Any:
    root = ET.parse(path).getroot()
    cases = {}
    for case in root.iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        props = [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]
        cases[(case.get("classname", ""), case.get("name", ""))] = (outcome, props)
    return _unprefixed(sorted(cases.items()))


def _globals(path: Path) -> dict[str, str]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    props = suite.find("properties")
    return {p.get("name", ""): p.get("value", "") for p in (props if props is not None else [])}


def _html_of(doc: dict[str, Any], like: dict[str, Any]) -> str:
    """The HTML of `doc` with the facts that differ between any two runs taken from `like`."""
    doc = copy.deepcopy(doc)
    doc["generated"] = like["generated"]
    for key in _VOLATILE_RUN:
        doc["run"][key] = like["run"][key]
    by_id = {r["nodeid"]: r for r in like["results"]}
    for rec in doc["results"]:
        for key in _VOLATILE_RECORD:
            rec[key] = by_id[rec["nodeid"]][key]
    return _PREFIX.sub("PREFIX", report.render_html(doc))


def _both(tmp_path: Path, args: list[str]) -> tuple[SuiteRun, SuiteRun, Path, Path]:
    runs = []
    xmls = []
    for name, extra in (("serial", []), ("parallel", ["-n", "2"])):
        xml = tmp_path / f"{name}.junit.xml"
        runs.append(run_suite([*args, *extra, "--junitxml", str(xml)], tmp_path, timeout=300))
        xmls.append(xml)
    return runs[0], runs[1], xmls[0], xmls[1]


def _same(serial: SuiteRun, parallel: SuiteRun, sx: Path, px: Path) -> None:
    assert parallel.code == serial.code, (parallel.stdout[-3000:], parallel.stderr[-3000:])
    assert serial.result is not None and parallel.result is not None
    assert _records(parallel) == _records(serial)
    assert parallel.result["summary"] == serial.result["summary"]
    assert parallel.result["verdict"] == serial.result["verdict"]
    same_run = {k: v for k, v in serial.result["run"].items() if k not in _VOLATILE_RUN}
    assert {k: v for k, v in parallel.result["run"].items() if k not in _VOLATILE_RUN} == same_run
    assert parallel.result["run"]["requests"] > 0
    assert _junit(px) == _junit(sx)
    assert _globals(px) == _globals(sx)
    assert _html_of(parallel.result, serial.result) == _html_of(serial.result, serial.result)
    # The verdict line is the command's last line in both.
    assert parallel.stdout.strip().splitlines()[-1] == serial.stdout.strip().splitlines()[-1]


def test_parallel_run_equals_serial_on_the_embedded_mock(tmp_path: Path) -> None:
    serial, parallel, sx, px = _both(tmp_path, ["--quick", "--seed", "7", "--areas", "ids,deletes,config,alerts"])
    assert serial.code == 0, serial.stdout[-3000:]
    _same(serial, parallel, sx, px)
    assert "run prefix kcf-" in parallel.stdout


def test_parallel_run_equals_serial_with_failures(tmp_path: Path, serve: Any) -> None:
    url = serve(by_name("missing-version-header"))
    serial, parallel, sx, px = _both(tmp_path, ["--quick", "--seed", "3", "--target", url, "--allow-writes",
                                                "--areas", "headers,versions"])
    assert serial.code == 1 and serial.failed(), serial.stdout[-3000:]
    _same(serial, parallel, sx, px)


@pytest.mark.soak
def test_parallel_full_quick_suite_equals_serial(tmp_path: Path) -> None:
    serial, parallel, sx, px = _both(tmp_path, ["--quick", "--seed", "11"])
    _same(serial, parallel, sx, px)


@pytest.mark.parametrize("args", [["--areas", "ids", "--check", "deletes.*"],
                                  ["--target", "http://127.0.0.1:9", "--check", "status.*"]],
                         ids=["empty-selection", "unusable-target"])
def test_parallel_run_ends_like_serial_before_any_check(tmp_path: Path, args: list[str]) -> None:
    """A usage error found while the workers collect, or a target nobody can reach, ends the run with the
    serial run's verdict, exit status and message, not as a crash of the worker processes."""
    serial = run_suite(args, tmp_path, timeout=120)
    parallel = run_suite([*args, "-n", "2"], tmp_path, timeout=120)
    assert serial.code in (3, 4), serial.stdout[-2000:]
    assert parallel.code == serial.code, parallel.stdout[-3000:] + parallel.stderr[-2000:]
    last = [ln for ln in parallel.stdout.splitlines() if ln.strip()][-1]
    assert last == [ln for ln in serial.stdout.splitlines() if ln.strip()][-1]
    assert "INTERNALERROR" not in parallel.stdout + parallel.stderr
