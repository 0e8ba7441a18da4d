"""The messages that flow along a task's edges: single points and buffered batches."""

from __future__ import annotations

from typing import Any


def group_id(name: str, tags: dict[str, str], dims: tuple[str, ...], by_name: bool) -> str:
    """models.ToGroupID: "" (the nil group), the name, and/or `k=v,k=v` over the sorted dimensions."""
    if not dims:
        return name if by_name else ""
    body = ",".join(f"{d}={tags.get(d, '')}" for d in dims)
    return f"{name}\n{body}" if by_name else body


class Point:
    """A stream point (edge.PointMessage)."""

    __slots__ = ("by_name", "db", "dims", "fields", "group", "name", "rp", "tags", "time")

    def __init__(self, name: str, tags: dict[str, str], fields: dict[str, Any], time: int, *,
                 db: str = "", rp: str = "", dims: tuple[str, ...] = (), by_name: bool = False,
                 group: str | None = None) -> None:
        self.name = name
        self.tags = tags
        self.fields = fields
        self.time = time
        self.db = db
        self.rp = rp
        self.dims = dims
        self.by_name = by_name
        self.group = group_id(name, tags, dims, by_name) if group is None else group

    def copy(self, *, name: str | None = None, tags: dict[str, str] | None = None,
             fields: dict[str, Any] | None = None, time: int | None = None, dims: tuple[str, ...] | None = None,
             by_name: bool | None = None) -> Point:
        p = Point.__new__(Point)
        p.name = self.name if name is None else name
        p.tags = self.tags if tags is None else tags
        p.fields = self.fields if fields is None else fields
        p.time = self.time if time is None else time
        p.db = self.db
        p.rp = self.rp
        p.dims = self.dims if dims is None else dims
        p.by_name = self.by_name if by_name is None else by_name
        if tags is None and dims is None and by_name is None and name is None:
            p.group = self.group
        else:
            p.group = group_id(p.name, p.tags, p.dims, p.by_name)
        return p

    def group_tags(self) -> dict[str, str]:
        return {d: self.tags.get(d, "") for d in self.dims}


class BatchPoint:
    __slots__ = ("fields", "tags", "time")

    def __init__(self, fields: dict[str, Any], tags: dict[str, str], time: int) -> None:
        self.fields = fields
        self.tags = tags
        self.time = time


class Batch:
    """A buffered batch (begin, points, end); `time` is the batch's tmax."""

    __slots__ = ("by_name", "dims", "group", "name", "points", "tags", "time")

    def __init__(self, name: str, tags: dict[str, str], dims: tuple[str, ...], by_name: bool, group: str,
                 time: int, points: list[BatchPoint]) -> None:
        self.name = name
        self.tags = tags
        self.dims = dims
        self.by_name = by_name
        self.group = group
        self.time = time
        self.points = points


Message = Point | Batch
