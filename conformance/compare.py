"""Two runs side by side: `--baseline OLD.json` (gate on regressions only) and `compare A.json B.json`.

A regression is a check that passed (or was an accepted deviation) in the old run and fails now; a
fix is the other way round. Checks present in only one run are listed, never counted as either.
The spec hash and tool version of both runs are compared first, because a different spec can
change what a check expects.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.selection import SelectionError, load_report

_GOOD = ("passed", "deviation")
_BAD = ("failed", "error")


@dataclass
class Changes:
    regressions: list[dict[str, Any]] = field(default_factory=list)  # good before, bad now
    fixed: list[dict[str, Any]] = field(default_factory=list)  # bad before, good now
    other: list[tuple[str, str, str]] = field(default_factory=list)  # (full_id, before, after)
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def gating(self, levels: Sequence[str]) -> list[dict[str, Any]]:
        return [r for r in self.regressions if r.get("level") in levels]

    def to_dict(self) -> dict[str, Any]:
        def ids(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"full_id": r["full_id"], "level": r.get("level"), "area": r.get("area")} for r in recs]

        return {"regressions": ids(self.regressions), "fixed": ids(self.fixed),
                "changed": [{"full_id": f, "before": b, "after": a} for f, b, a in self.other],
                "only_in_old": self.only_old, "only_in_new": self.only_new, "warnings": self.warnings}


def _outcomes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["full_id"]: r for r in doc.get("results", []) if isinstance(r, dict) and "full_id" in r}


def _same_ground(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    warnings = []
    o, n = old.get("run") or {}, new.get("run") or {}
    for key, label in (("spec_sha256", "spec"), ("tool_version", "tool version"), ("target", "target"),
                       ("profile", "profile")):
        a, b = o.get(key), n.get(key)
        if a != b:
            shown = (a[:12], b[:12]) if key == "spec_sha256" and a and b else (a, b)
            warnings.append(f"different {label}: {shown[0]} vs {shown[1]}")
    return warnings


def diff(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    before, after = _outcomes(old), _outcomes(new)
    ch = Changes(warnings=_same_ground(old, new))
    for fid, rec in after.items():
        prev = before.get(fid)
        if prev is None:
            ch.only_new.append(fid)
            continue
        a, b = prev.get("outcome"), rec.get("outcome")
        if a in _GOOD and b in _BAD:
            ch.regressions.append(rec)
        elif a in _BAD and b in _GOOD:
            ch.fixed.append(rec)
        elif a != b:
            ch.other.append((fid, str(a), str(b)))
    ch.only_old = [f for f in before if f not in after]
    return ch


def area_deltas(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per area whose MUST or SHOULD score changed."""
    lines = []
    oa = (old.get("summary") or {}).get("areas") or {}
    na = (new.get("summary") or {}).get("areas") or {}
    for area in [*oa, *[a for a in na if a not in oa]]:
        cells = []
        for level in ("MUST", "SHOULD"):
            x, y = (oa.get(area) or {}).get(level) or {}, (na.get(area) or {}).get(level) or {}
            sx, sy = _score(x), _score(y)
            if sx != sy:
                cells.append(f"{level} {sx} -> {sy}")
        if cells:
            lines.append(f"  {area:<12} " + ", ".join(cells))
    return lines


def _score(b: dict[str, Any]) -> str:
    run = int(b.get("passed", 0)) + int(b.get("failed", 0))
    return "-" if not run else f"{b.get('passed', 0)}/{run}"


def render(ch: Changes, old: dict[str, Any], new: dict[str, Any], names: tuple[str, str]) -> list[str]:
    lines = [f"comparing {names[0]} (old) with {names[1]} (new)"]
    lines += [f"warning: {w}" for w in ch.warnings]
    for title, recs in (("regressions (passed before, fail now)", ch.regressions),
                        ("fixed (failed before, pass now)", ch.fixed)):
        lines.append(f"{title}: {len(recs)}")
        lines += [f"  {r.get('level', ''):<6} {r['full_id']}" for r in recs]
    if ch.other:
        lines.append(f"other changes: {len(ch.other)}")
        lines += [f"  {f}: {a} -> {b}" for f, a, b in ch.other[:50]]
        if len(ch.other) > 50:
            lines.append(f"  ... {len(ch.other) - 50} more")
    for title, ids in (("only in the old run", ch.only_old), ("only in the new run", ch.only_new)):
        if ids:
            lines.append(f"{title}: {len(ids)}" + (": " + ", ".join(ids[:10]) if len(ids) <= 10 else ""))
    deltas = area_deltas(old, new)
    lines.append("per area:" if deltas else "per area: no score changed")
    lines += deltas
    return lines


def main(argv: Sequence[str]) -> int:
    """`kapacitor-conformance compare OLD.json NEW.json`: exit 0 no regression, 1 regressions, 4 usage."""
    args = list(argv)
    if len(args) != 2 or any(a in ("-h", "--help") for a in args):
        print("usage: kapacitor-conformance compare OLD.json NEW.json\n"
              "Prints per-check and per-area changes between two --report-json files.\n"
              "Exit status: 0 no regression, 1 a check that passed in OLD fails in NEW, 4 usage error.",
              file=sys.stdout if args and args[0] in ("-h", "--help") else sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 4
    try:
        old, new = load_report(args[0]), load_report(args[1])
    except SelectionError as exc:
        print(f"kapacitor-conformance compare: {exc}", file=sys.stderr)
        return 4
    ch = diff(old, new)
    for line in render(ch, old, new, (Path(args[0]).name, Path(args[1]).name)):
        print(line)
    return 1 if ch.regressions else 0
