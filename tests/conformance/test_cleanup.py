"""Cleanup on a live server: a failed DELETE that removed the object anyway is a note about the
target, not a problem of the run (real Kapacitor answers 500 when a recording has no data file,
behaviour §6.6); a failed DELETE that left the object behind stays a cleanup problem."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from conformance.resources import Registry
from conformance.target import Client
from tests.conformance.mutants import Captured, Mutant, error, path

pytestmark = [pytest.mark.server]
PREFIX = "kcfclean-"


class DeleteThen500(Mutant):
    """Deletes the recording, then answers 500 like a server whose data file was missing."""

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "DELETE" and "/recordings/" in path(environ):
            super().handle(environ)
            return error(500, "remove /var/lib/kapacitor/replay/x.brpl: no such file or directory")
        return super().handle(environ)


class Refuse500(Mutant):
    """Answers 500 to a recording DELETE and keeps the recording."""

    def handle(self, environ: dict[str, Any]) -> Captured:
        if environ["REQUEST_METHOD"] == "DELETE" and "/recordings/" in path(environ):
            return error(500, "disk on fire")
        return super().handle(environ)


def _recording(url: str, ident: str) -> None:
    body = json.dumps({"id": ident, "type": "stream", "query": 'SELECT * FROM "kcfclean"."autogen"."m"'}).encode()
    req = urllib.request.Request(f"{url}/kapacitor/v1/recordings/query", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 201


def _listed(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/kapacitor/v1/recordings?pattern={PREFIX}*") as resp:
        return [r["id"] for r in json.loads(resp.read())["recordings"]]


@pytest.mark.parametrize(("mutant", "removed"), [(DeleteThen500, True), (Refuse500, False)])
def test_failed_delete(serve: Callable[..., str], mutant: type[Mutant], removed: bool) -> None:
    url = serve(wrap=mutant)
    ident = PREFIX + "rec"
    _recording(url, ident)
    registry = Registry(Client(url), PREFIX)
    registry.add("recording", ident)
    errors = registry.cleanup()
    assert (_listed(url) == []) is removed
    if removed:
        assert errors == [] and len(registry.notes) == 1
        assert ident in registry.notes[0] and "500" in registry.notes[0] and "is gone" in registry.notes[0]
    else:
        assert registry.notes == [] and len(errors) == 1 and ident in errors[0] and "500" in errors[0]
