"""Known deviations a vendor declares: data with reasons and expiry dates, never `if` branches.

File format (YAML): a list (or a mapping with key `deviations`) of entries
`{check: <check id or glob>, reason: <text>, expires: <YYYY-MM-DD, optional>}`.
A failing check matched by an active entry is reported as "deviation"; an expired entry no
longer excuses anything, and the failure says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class DeviationFileError(ValueError):
    pass


@dataclass(frozen=True)
class Deviation:
    check: str
    reason: str
    expires: dt.date | None = None

    def matches(self, check_id: str, full_id: str) -> bool:
        from conformance.checks import id_matches

        return id_matches(self.check, check_id, full_id)

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires is not None and (today or dt.date.today()) > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}


def _parse_date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DeviationFileError(f"{where}: expires must be YYYY-MM-DD, got {value!r}") from exc


def parse(data: Any, source: str = "<deviations>") -> list[Deviation]:
    if isinstance(data, dict):
        data = data.get("deviations", [])
    if data is None:
        return []
    if not isinstance(data, list):
        raise DeviationFileError(f"{source}: expected a list of deviations")
    out: list[Deviation] = []
    for i, item in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(item, dict):
            raise DeviationFileError(f"{where}: each deviation is a mapping")
        check = item.get("check") or item.get("id")
        reason = item.get("reason")
        if not isinstance(check, str) or not check:
            raise DeviationFileError(f"{where}: 'check' (a check id or glob) is required")
        if not isinstance(reason, str) or not reason.strip():
            raise DeviationFileError(f"{where}: 'reason' is required")
        out.append(Deviation(check, reason.strip(), _parse_date(item.get("expires"), where)))
    return out


def load(path: str | Path) -> list[Deviation]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeviationFileError(f"cannot read deviations file {p}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DeviationFileError(f"{p}: not valid YAML: {exc}") from exc
    return parse(data, str(p))


def find(deviations: list[Deviation], check_id: str, full_id: str) -> Deviation | None:
    """The first matching entry, preferring one that is still active."""
    matching = [d for d in deviations if d.matches(check_id, full_id)]
    active = [d for d in matching if not d.expired()]
    found = active or matching
    return found[0] if found else None
