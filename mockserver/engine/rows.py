"""models.Row of a point or a batch (the httpOut result and the alert data), as JSON values."""

from __future__ import annotations

from typing import Any

from mockserver.gotime import format_ns

from .messages import Batch


def point_row(name: str, tags: dict[str, str], fields: dict[str, Any], t: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if name:
        row["name"] = name
    if tags:
        row["tags"] = dict(sorted(tags.items()))
    columns = ["time", *sorted(fields)]
    row["columns"] = columns
    row["values"] = [[format_ns(t), *(fields[c] for c in columns[1:])]]
    return row


def batch_row(b: Batch) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if b.name:
        row["name"] = b.name
    if b.tags:
        row["tags"] = dict(sorted(b.tags.items()))
    if not b.points:
        return row
    first = b.points[0]
    columns = ["time", *sorted({*first.fields, *(t for t in first.tags if t not in b.tags)})]
    row["columns"] = columns
    values = []
    for p in b.points:
        vals: list[Any] = [format_ns(p.time)]
        for c in columns[1:]:
            if c in p.fields:
                vals.append(p.fields[c])
            else:
                vals.append(p.tags.get(c))
        values.append(vals)
    row["values"] = values
    return row
