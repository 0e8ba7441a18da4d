"""InfluxQL nodes and alert details on scenarios a randomized differential run (real Kapacitor
1.5.7 vs the mock, through the HTTP API) found different; each expected answer is the real
server's httpOut body and node stats for the same script and points (precision s)."""

from __future__ import annotations

from typing import Any

from mockserver.store import MockState
from mockserver.store.lineprotocol import parse_points

SEC = 1_000_000_000


def _run(body: str, *writes: str) -> tuple[MockState, dict[str, Any]]:
    script = "stream\n    |from()\n        .measurement('m')\n" + body + "    |httpOut('out')\n"
    state = MockState()
    state.tasks.create_task({"id": "t", "script": script, "dbrps": [("db", "rp")], "status": "enabled"})
    for lines in writes:
        state.engine.write("db", "rp", parse_points(lines.encode(), 0, "s"))
    stats = state.engine.stats(state.tasks.get_task("t"))["node-stats"]
    return state, {k: (v["collected"], v["emitted"], v["errors"]) for k, v in stats.items()}


def _out(state: MockState) -> bytes:
    return state.engine.http_out("t", "out")


def test_alert_template_fields_and_tags_are_go_maps_in_key_order() -> None:
    state, _ = _run("    |eval(lambda: \"v\" * 2.0)\n        .as('a')\n        .keep()\n    |alert()\n"
                    "        .crit(lambda: \"a\" > 1.0)\n        .details('{{ json .Fields }} {{ json .Tags }}')\n"
                    "        .topic('probe')\n", "m,zz=1,aa=2 v=5 1\n")
    event = state.alerts.event_state("probe", "m:nil")
    assert event is not None
    assert event.details == '{&#34;a&#34;:10,&#34;v&#34;:5}\n {&#34;aa&#34;:&#34;2&#34;,&#34;zz&#34;:&#34;1&#34;}\n'
