"""Which checks a run selects, and a usage error naming any selector that selects nothing.

`--check GLOB`, `--areas`, `--rerun-failures REPORT.json` and deviation entries all name checks;
a typo in any of them must not silently turn into "nothing ran" or "excused forever".
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.checks import id_matches


@dataclass(frozen=True)
class Listed:
    """One collected check: what --list-checks prints and selectors are matched against."""

    check: str
    full_id: str
    level: str
    area: str
    ref: str
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "full_id": self.full_id, "level": self.level, "area": self.area,
                "ref": self.ref, "title": self.title}


class SelectionError(ValueError):
    """A selector that selects nothing (or a file that cannot be read): a usage error."""


def did_you_mean(word: str, known: Iterable[str], n: int = 3) -> str:
    """` (did you mean X?)` or empty; compares ids with and without their parameters."""
    known = sorted(set(known))
    base = word.split("[", 1)[0].replace("*", "").replace("?", "")
    close = difflib.get_close_matches(word, known, n=n, cutoff=0.6) or \
        difflib.get_close_matches(base, known, n=n, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def unmatched_globs(globs: Iterable[str], checks: list[Listed]) -> list[str]:
    return [g for g in globs if not any(id_matches(g, c.check, c.full_id) for c in checks)]


def explain_unmatched(globs: list[str], everything: list[Listed], selected_elsewhere: bool) -> str:
    ids = {c.check for c in everything}
    parts = []
    for g in globs:
        if any(id_matches(g, c.check, c.full_id) for c in everything):
            parts.append(f"--check {g!r} matches only checks outside the selected areas")
        else:
            parts.append(f"--check {g!r} matches no check{did_you_mean(g, ids)}")
    text = "; ".join(parts)
    if not selected_elsewhere:
        text += " (use --list-checks to see every check id)"
    return text


def failed_in_report(path: str | Path) -> list[str]:
    """The full ids of the checks that failed (or errored) in an earlier --report-json file."""
    doc = load_report(path)
    return [r["full_id"] for r in doc.get("results", [])
            if isinstance(r, dict) and r.get("outcome") in ("failed", "error") and isinstance(r.get("full_id"), str)]


def load_report(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SelectionError(f"cannot read report {p}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise SelectionError(f"{p} is not a JSON report: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise SelectionError(f"{p} is not a kapacitor-conformance --report-json file (no 'results')")
    return doc


def render_list(checks: list[Listed], fmt: str, about: dict[str, Any]) -> str:
    if fmt == "json":
        return json.dumps({**about, "count": len(checks), "checks": [c.to_dict() for c in checks]},
                          indent=2, ensure_ascii=False)
    width = max([len(c.full_id) for c in checks] + [10])
    lines = [f"{c.full_id:<{width}}  {c.level:<6}  {c.area:<10}  {c.ref}" for c in checks]
    lines.append(f"{len(checks)} checks ({len({c.check for c in checks})} distinct ids)")
    return "\n".join(lines)
