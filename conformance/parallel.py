"""Running the suite over pytest-xdist workers (`-n auto`) with the same verdict and reports as a serial run.

The controller owns the run: it chooses the seed and the run prefix, serves the embedded mock (one
for all workers, so the checks see one server as they would serially), and alone writes the
reports. Each worker gets the seed, a prefix of its own under the run prefix (`<prefix>gw0-`: the
end-of-run sweep and `cleanup --prefix <run prefix>` still find everything) and the shared URL; it
runs its share of the checks, cleans up what it created and hands its result records back in
`workeroutput`. The controller merges them in collection order, so scores, JSON, HTML and JUnit
equal a serial run's except for timings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

#: Key of this plugin's entry in xdist's `workerinput` / `workeroutput` dictionaries.
KEY = "kcf"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("dsession")


def names_conformance(config: pytest.Config) -> bool:
    """The command line selects conformance checks (so the controller should serve the target)."""
    import conformance

    pkg = Path(conformance.__file__).resolve().parent
    for arg in config.args:
        name = str(arg).split("::", 1)[0]
        if name == "conformance" or name.startswith("conformance."):
            return True
        try:
            path = Path(name).resolve()
        except OSError:
            continue
        if path == pkg or pkg in path.parents:
            return True
    return False


def worker_input(*, seed: int, prefix: str, worker: str, url: str | None, cli: bool,
                 unusable: str | None = None) -> dict[str, Any]:
    return {"seed": seed, "prefix": f"{prefix}{worker}-", "url": url, "cli": cli, "unusable": unusable}


def pack(state: Any, stopped: tuple[str, str] | None) -> str:
    """What a worker hands back: its records (with their collection index) and the run facts."""
    suite = state.suite
    out = {
        "active": state.active,
        "results": [[state.order.get(r["nodeid"]), r] for r in state.results],
        "cleanup_errors": state.cleanup_errors,
        "unusable": state.unusable,
        "setup_error": state.setup_error,
        "usage_error": state.usage_error,
        "signal": state.signal,
        "collect_errors": state.collect_errors,
        "unknown_deviations": state.unknown_deviations,
        "stopped": list(stopped) if stopped else None,
        "url": suite.url if suite else None,
        "version": suite.version_header if suite else None,
        "requests": suite.client.count if suite else 0,
        "target_notes": list(suite.registry.notes) if suite else [],
        "secret": suite.secret if suite else None,
    }
    return json.dumps(out, default=str)


def unpack(node: Any) -> dict[str, Any] | None:
    raw = (getattr(node, "workeroutput", None) or {}).get(KEY)
    return json.loads(raw) if isinstance(raw, str) else None


def _first(outs: list[dict[str, Any]], key: str) -> Any:
    return next((o[key] for o in outs if o.get(key)), None)


def merge(state: Any, guard: Any) -> None:
    """Fold the workers' outputs into the controller's run state, as if one process had run it all."""
    outs = state.workers
    state.active = state.active or any(o.get("active") for o in outs)
    rows = [(idx, rec) for o in outs for idx, rec in o.get("results", [])]
    # A finding without a collection index (the target stopped answering) goes first, as serially.
    rows.sort(key=lambda row: -1 if row[0] is None else row[0])
    state.results = [rec for _, rec in rows]
    for o in outs:
        state.cleanup_errors.extend(o.get("cleanup_errors") or [])
    state.unusable = state.unusable or _first(outs, "unusable")
    state.setup_error = state.setup_error or _first(outs, "setup_error")
    state.usage_error = state.usage_error or _first(outs, "usage_error")
    state.signal = state.signal or _first(outs, "signal")
    state.collect_errors = max([state.collect_errors, *(int(o.get("collect_errors") or 0) for o in outs)])
    state.unknown_deviations = state.unknown_deviations or _first(outs, "unknown_deviations") or []
    stopped = _first(outs, "stopped")
    if guard is not None and guard.stopped is None and stopped:
        guard.stopped = (str(stopped[0]), str(stopped[1]))
    notes: list[str] = []
    for o in outs:
        notes += [n for n in o.get("target_notes") or [] if n not in notes]
    state.facts = {
        "url": _first(outs, "url"),
        "version": _first(outs, "version"),
        "requests": sum(int(o.get("requests") or 0) for o in outs),
        "target_notes": notes,
        "secrets": [o["secret"] for o in outs if o.get("secret")],
    }
