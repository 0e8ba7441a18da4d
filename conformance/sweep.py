"""Remove what killed runs left behind: `kapacitor-conformance cleanup --target URL --prefix P`.

Every object a run creates carries its run prefix `kcf-YYYYMMDDHHMM-xxxxxx-` (UTC minute of the
start, random hex). The sweep lists each family with a `kcf-*` pattern and deletes only IDs that
carry a run prefix matching the request: one exact prefix, or any run started before a cutoff. It
never deletes anything else, and reports as left only what a fresh GET still finds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from conformance import api
from conformance.target import Client, Exchange

#: `kcf-202612020542-a1b2c3-`; the older undated form `kcf1a2b3c4d-` is swept only by exact prefix.
RUN_PREFIX = re.compile(r"^kcf-(\d{12})-[0-9a-f]{6}-")
LEGACY_PREFIX = re.compile(r"^kcf[0-9a-f]{8}-")
#: A pytest-xdist worker's prefix: the run prefix plus the worker id (`kcf-...-a1b2c3-gw0-`).
WORKER_PREFIX = re.compile(RUN_PREFIX.pattern[1:] + r"gw\d{1,4}-")
_STAMP = "%Y%m%d%H%M"
#: The template that config round-trips of all runs on one target take turns with (test_config.py).
CONFIG_LOCK = "kcf-lock-config"


def prefix_for(when: dt.datetime, token: str) -> str:
    return f"kcf-{when.astimezone(dt.timezone.utc).strftime(_STAMP)}-{token}-"


def started_at(ident: str) -> dt.datetime | None:
    m = RUN_PREFIX.match(ident)
    if not m:
        return None
    try:
        return dt.datetime.strptime(m.group(1), _STAMP).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


@dataclass(frozen=True)
class Matcher:
    """Which IDs belong to runs to sweep: one exact run prefix, or every run started before `before`."""

    prefix: str | None = None
    before: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.prefix is None and self.before is None:
            raise ValueError("give a run prefix or an age")
        if self.prefix is not None and not (RUN_PREFIX.fullmatch(self.prefix) or LEGACY_PREFIX.fullmatch(self.prefix)
                                            or WORKER_PREFIX.fullmatch(self.prefix)):
            raise ValueError(f"{self.prefix!r} is not a run prefix (like kcf-202601311200-a1b2c3-)")

    @property
    def pattern(self) -> str:
        return (self.prefix or "kcf-") + "*"

    def __call__(self, ident: Any) -> TypeGuard[str]:
        if not isinstance(ident, str):
            return False
        if self.prefix is not None:
            return ident.startswith(self.prefix)
        when = started_at(ident)
        return when is not None and self.before is not None and when < self.before


@dataclass
class Leftover:
    kind: str
    ident: str
    path: str
    topic: str | None = None


@dataclass
class SweepResult:
    removed: list[Leftover]
    left: list[tuple[Leftover, str]]  # what is still there and the command that removes it
    unknown: list[str]  # families that could not be listed


def _list(client: Client, path: str, key: str, pattern: str, *, paged: bool = True) -> list[Any] | None:
    query: list[tuple[str, str]] = [("pattern", pattern)]
    if paged:
        query += [("limit", "100000")]
    ex = client.get(path, query=query)
    body = ex.json_or_none() if ex.status == 200 else None
    items = body.get(key) if isinstance(body, dict) else None
    return items if isinstance(items, list) else None


def _served(ex: Exchange) -> bool:
    from conformance.checks import is_catch_all

    return not is_catch_all(ex)


def find(client: Client, match: Matcher) -> tuple[list[Leftover], list[str]]:
    """Every object carrying a matching run prefix, dependants first (replays before recordings...)."""
    found: list[Leftover] = []
    unknown: list[str] = []
    for name in ("replays", "recordings", "tasks", "templates"):
        fam = api.FAMILIES[name]
        items = _list(client, api.path_for(fam.list_op), fam.list_key, match.pattern)
        if items is None:
            unknown.append(name)
            continue
        for it in items:
            ident = it.get("id") if isinstance(it, dict) else None
            if match(ident):
                found.append(Leftover(fam.kind, ident, _one(fam.delete_op, ident)))
    lock = client.get(_one("getTemplate", CONFIG_LOCK))  # held by a killed run: its prefix is in the script
    body = lock.json_or_none() if lock.status == 200 else None
    holder = re.search(r"config lock of run (\S+)", str(body.get("script", ""))) if isinstance(body, dict) else None
    if holder and match(holder.group(1)):
        found.append(Leftover("template", CONFIG_LOCK, _one("deleteTemplate", CONFIG_LOCK)))
    topics = _list(client, api.path_for("listTopics"), "topics", match.pattern, paged=False)
    if topics is None:
        unknown.append("alert topics")
    for t in topics or []:
        tid = t.get("id") if isinstance(t, dict) else None
        if not match(tid):
            continue
        handlers = _list(client, api.path_for("listTopicHandlers", topic=tid), "handlers", "*", paged=False)
        for h in handlers or []:
            hid = h.get("id") if isinstance(h, dict) else None
            if isinstance(hid, str):
                found.append(Leftover("handler", hid, api.path_for("deleteTopicHandler", topic=tid, handler=hid),
                                      topic=tid))
        found.append(Leftover("topic", tid, _one("deleteTopic", tid)))
    ex = client.get(api.path_for("listUsers"), query=[("pattern", match.pattern), ("limit", "100000")])
    body = ex.json_or_none() if ex.status == 200 else None
    if isinstance(body, dict) and isinstance(body.get("users"), list):
        for u in body["users"]:
            uname = u.get("name") if isinstance(u, dict) else None
            if match(uname):
                found.append(Leftover("user", uname, _one("deleteUser", uname)))
    elif _served(ex) and ex.status not in (401, 403):
        unknown.append("users")
    return found, unknown


def _one(op_id: str, ident: str) -> str:
    (name,) = api.path_params(op_id)
    params: dict[str, Any] = {name: ident}
    return api.path_for(op_id, **params)


def still_there(client: Client, item: Leftover) -> bool | None:
    """Ask again on a fresh connection: True present, False gone, None could not tell."""
    client.close()
    fam = next((f for f in api.FAMILIES.values() if f.kind == item.kind), None)
    if fam is not None:
        escaped = "".join("\\" + c if c in "*?[\\" else c for c in item.ident)
        ex = client.get(api.path_for(fam.list_op), query=[("pattern", escaped), ("fields", "id")])
        body = ex.json_or_none() if ex.status == 200 else None
        items = body.get(fam.list_key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            return None
        return any(isinstance(it, dict) and it.get("id") == item.ident for it in items)
    if item.kind == "handler":
        path = api.path_for("getTopicHandler", topic=item.topic, handler=item.ident)
    elif item.kind == "topic":
        path = _one("getTopic", item.ident)
    elif item.kind == "user":
        path = _one("getUser", item.ident)
    elif item.kind == "flux-task":
        path = _one("getFluxTask", item.ident)
    else:
        return None
    ex = client.get(path)
    if ex.error:
        return None
    if ex.status == 404:
        return False
    return True if ex.status == 200 else None


def removal_command(client: Client, item: Leftover) -> str:
    ex = Exchange("DELETE", client.base_url + client.root + item.path, [*client.default_headers], None)
    return ex.curl()


def sweep(client: Client, match: Matcher, *, dry_run: bool = False,
          log: Callable[[str], None] | None = None) -> SweepResult:
    found, unknown = find(client, match)
    result = SweepResult([], [], unknown)
    for item in found:
        if dry_run:
            result.left.append((item, removal_command(client, item)))
            continue
        ex = client.delete(item.path)
        ok = not ex.error and ex.status < 300
        if not ok:
            there = still_there(client, item)
            ok = there is False
        if ok:
            result.removed.append(item)
            if log:
                log(f"removed {item.kind} {item.ident}" + (f" (topic {item.topic})" if item.topic else ""))
        else:
            result.left.append((item, removal_command(client, item)))
    return result


def parse_age(text: str) -> dt.timedelta:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise ValueError(f"{text!r} is not an age like 30m, 1h or 2d")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return dt.timedelta(seconds=float(m.group(1)) * unit)


def main(argv: Sequence[str]) -> int:
    """`kapacitor-conformance cleanup`: 0 nothing of those runs is left, 1 something is, 3 target
    unusable, 4 usage error."""
    from conformance.preflight import BadTargetURL, TargetUnusable, check_url, probe

    ap = argparse.ArgumentParser(prog="kapacitor-conformance cleanup",
                                 description="Remove objects left on a target by killed conformance runs "
                                             "(only IDs carrying a run prefix kcf-YYYYMMDDHHMM-xxxxxx-).")
    ap.add_argument("--target", required=True, help="base URL of the server, e.g. http://127.0.0.1:9092")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--prefix", help="the run prefix printed at the start of the run")
    which.add_argument("--older-than", metavar="AGE", help="every run started more than AGE ago (30m, 1h, 2d)")
    ap.add_argument("--auth", metavar="USER:PASSWORD", help="HTTP basic credentials")
    ap.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    ap.add_argument("--timeout", type=float, default=15.0, help="total seconds per request (default 15)")
    try:
        args = ap.parse_args(list(argv))
    except SystemExit as exc:
        return 0 if exc.code == 0 else 4
    try:
        url = check_url(args.target)
        before = dt.datetime.now(dt.timezone.utc) - parse_age(args.older_than) if args.older_than else None
        match = Matcher(prefix=args.prefix, before=before)
    except (BadTargetURL, ValueError) as exc:
        print(f"kapacitor-conformance cleanup: {exc}", file=sys.stderr)
        return 4
    auth = tuple(args.auth.split(":", 1)) if args.auth and ":" in args.auth else None
    try:
        probe(url, timeout=args.timeout, auth=auth)
    except TargetUnusable as exc:
        print(f"kapacitor-conformance cleanup: target unusable: {exc}", file=sys.stderr)
        return 3
    client = Client(url, timeout=args.timeout, auth=auth)
    client.watch_health = False
    result = sweep(client, match, dry_run=args.dry_run, log=print)
    what = f"prefix {args.prefix}" if args.prefix else f"runs started before {before:%Y-%m-%d %H:%M} UTC"
    for fam in result.unknown:
        print(f"could not list {fam}: leftovers there (if any) were not looked at")
    if args.dry_run:
        for item, cmd in result.left:
            print(f"would remove {item.kind} {item.ident}: {cmd}")
        print(f"{len(result.left)} object(s) of {what}")
        return 0
    for item, cmd in result.left:
        print(f"LEFT {item.kind} {item.ident}: remove it with: {cmd}")
    print(f"cleanup of {what}: {len(result.removed)} removed, {len(result.left)} left")
    return 1 if result.left or result.unknown else 0
