"""Version deltas, checked in both directions (transcript: version deltas; behaviour §1.6).

The suite reads the target's version from `X-Kapacitor-Version` and expects what that version
does: an error body is `{"error": ...}` alone before 1.6 and `{"error": ..., "message": ...}`
from 1.6 on. A 1.5 server that adds `message` is as wrong as a 1.8 server that leaves it out.
"""

from __future__ import annotations

import pytest

from conformance._runner import run_case
from conformance.cases import BY_KEY
from conformance.checks import SHOULD, check, expect, expect_json
from conformance.context import Kap
from conformance.target import Exchange
from conformance.world import World

REF = "behaviour §1.6"
_CASES = ["getTask.missing", "createTask.invalid-id", "listTasks.bad-offset", "getTemplate.missing",
          "getReplay.missing", "createTopicHandler.invalid-id"]


def _error_exchange(kap: Kap, world: World, key: str) -> Exchange:
    ex, _ = run_case(kap, world, BY_KEY[key])
    if ex.status < 400:
        pytest.skip(f"the target answered {ex.status}: no error body (see status.*)")
    return ex


@check("versions.error-keys", SHOULD, REF)
@pytest.mark.parametrize("key", _CASES)
def test_error_keys(kap: Kap, world: World, key: str) -> None:
    """Error bodies have exactly the keys of the target's version: `error` (1.5), `error`+`message` (1.6+)."""
    ex = _error_exchange(kap, world, key)
    body = expect_json(ex, key, ref=REF)
    want = ["error", "message"] if kap.suite.error_has_message else ["error"]
    keys = list(body) if isinstance(body, dict) else body
    expect(keys == want, f"{key}: keys of the error body for version {kap.suite.version_header}",
           expected=want, actual=keys, ref=REF, exchange=ex)


@check("versions.error-format", SHOULD, REF)
@pytest.mark.parametrize("key", _CASES[:3])
def test_error_format(kap: Kap, world: World, key: str) -> None:
    """Error bodies are Go `MarshalIndent` output: 4-space indent, no trailing newline."""
    ex = _error_exchange(kap, world, key)
    text = ex.text
    expect(text.startswith('{\n    "error": ') and text.endswith("\n}") and not text.endswith("\n}\n"),
           f"{key}: error body layout", expected='{\\n    "error": "...",...\\n} (no trailing newline)',
           actual=text[:200], ref=REF, exchange=ex)
