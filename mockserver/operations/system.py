"""Server-level endpoints: sideload reload, log level, route list, expvar stats, pprof, log stream.

The log stream (`GET /kapacitor/v1preview/logs`) is a live feed: a session sees only entries
logged after it opened, starting with the server's own "created log session" entry. Entries come
from `publish()` (any part of the mock may log through it; other sessions opening and closing
are logged here). Unlike the real server the stream does not stay open forever: it ends when the
client disconnects (noticed when waitress reports it, or on the next write), after
`STREAM_MAX_SECONDS`, or after the seconds given in the mock-only request header
`X-Kapacitor-Mock-Stream-Seconds`, so a forgotten client cannot pin a worker thread. (A query
parameter could not carry that limit: every query key other than `lvl` is a tag filter.) A WSGI
stream holds its worker thread while open, so at most `max_log_streams` are open at once (more get
a 429 at once): the other threads keep serving everything else.
"""

from __future__ import annotations

import contextlib
import gzip
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mockserver import gojson
from mockserver.errors import BadRequest, KapacitorError
from mockserver.gotext import go_quote
from mockserver.operations.registry import Call, Reply, operation
from mockserver.render import BASE, PREVIEW

STREAM_MAX_SECONDS = 30.0
STREAM_SECONDS_HEADER = "X-Kapacitor-Mock-Stream-Seconds"
_POLL_SECONDS = 0.25
LOG_LEVELS = ("INFO", "ERROR", "DEBUG")
_LEVEL_RANK = {"debug": 0, "info": 1, "error": 2}
CMDLINE = ["kapacitord"]
DEFAULT_HOSTNAME = "localhost"
METHOD_ORDER = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")
ALL_METHODS = ("HEAD", "OPTIONS", "GET", "POST", "PATCH", "PUT", "DELETE")


# ---- per-server runtime facts ---------------------------------------------------------------------

Field = tuple[str, "str | int | list[str]"]


@dataclass
class Session:
    content_type: str
    level: int
    tags: list[tuple[str, str]]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    queue: queue.Queue[bytes] = field(default_factory=lambda: queue.Queue(maxsize=1000))

    def matches(self, level: str, msg: str, fields: list[Field]) -> bool:
        for key, value in self.tags:
            if key == "msg" and value == msg:
                continue
            if key == "lvl" and value == level:
                continue
            if any(k == key and isinstance(v, str) and v == value for k, v in fields):
                continue
            return False
        return True


class ServerRuntime:
    """What a running kapacitord knows about itself: IDs, log level and live log sessions."""

    def __init__(self) -> None:
        self.cluster_id = str(uuid.uuid4())
        self.server_id = str(uuid.uuid4())
        self.load_stat_key = str(uuid.uuid4())
        self.log_level = "INFO"
        self.sessions: list[Session] = []
        self._lock = threading.Lock()
        self._streams = 0

    def reserve_stream(self, limit: int) -> bool:
        """Take one of `limit` log-stream slots; False when all are taken."""
        with self._lock:
            if self._streams >= limit:
                return False
            self._streams += 1
            return True

    def release_stream(self) -> None:
        with self._lock:
            self._streams -= 1

    def publish(self, level: str, msg: str, fields: list[Field]) -> None:
        now = time.time_ns()
        with self._lock:
            sessions = list(self.sessions)
        for session in sessions:
            if session.level <= _LEVEL_RANK.get(level, 1) and session.matches(level, msg, fields):
                line = format_entry(session.content_type, now, level, msg, fields)
                # A reader that stopped reading loses entries, not memory.
                with contextlib.suppress(queue.Full):
                    session.queue.put_nowait(line)

    def open(self, session: Session) -> None:
        with self._lock:
            self.sessions.append(session)
        self.publish("info", "created log session", _session_fields(session))

    def close(self, session: Session) -> None:
        with self._lock:
            if session in self.sessions:
                self.sessions.remove(session)
        self.publish("info", "deleted log session", _session_fields(session))


_RUNTIMES: weakref.WeakKeyDictionary[Any, ServerRuntime] = weakref.WeakKeyDictionary()
_RUNTIMES_LOCK = threading.Lock()


def runtime(state: Any) -> ServerRuntime:
    with _RUNTIMES_LOCK:
        rt = _RUNTIMES.get(state)
        if rt is None:
            rt = _RUNTIMES[state] = ServerRuntime()
        return rt


def publish(state: Any, level: str, msg: str, *fields: Field) -> None:
    """Log an entry to the live log sessions of this mock, e.g. the HTTP access log:
    `publish(state, "info", "http request", ("service", "http"), ("method", "GET"), ("status", 204))`."""
    runtime(state).publish(level, msg, list(fields))


def _session_fields(session: Session) -> list[Field]:
    return [
        ("service", "sessions"),
        ("id", session.id),
        ("content-type", session.content_type),
        ("tags", [f"{k}={v}" for k, v in session.tags]),
    ]


# ---- log entry formats ----------------------------------------------------------------------------


def _timestamp(ns: int) -> str:
    secs, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rest // 1_000_000:03d}Z"


def _logfmt_value(value: str) -> str:
    return go_quote(value) if (" " in value or '"' in value) else value


def format_entry(content_type: str, ns: int, level: str, msg: str, fields: list[Field]) -> bytes:
    ts = _timestamp(ns)
    if content_type == "application/json":
        parts = [f'"ts":{go_quote(ts)}', f'"lvl":{go_quote(level)}', f'"msg":{go_quote(msg)}']
        for key, value in fields:
            if isinstance(value, list):
                if not value:
                    parts.append(f"{go_quote(key)}:{go_quote('nil')}")
                parts.extend(f'"{key}_{i}":{go_quote(v)}' for i, v in enumerate(value))
            elif isinstance(value, int):
                parts.append(f"{go_quote(key)}:{value}")
            else:
                parts.append(f"{go_quote(key)}:{go_quote(value)}")
        return ("{" + ",".join(parts) + "}\n").encode("utf-8", "surrogateescape")
    out = f"ts={ts} lvl={level} msg={_logfmt_value(msg)}"
    for key, value in fields:
        out += " "
        if isinstance(value, list):
            out += " ".join(f"{key}_{i}={_logfmt_value(v)}" for i, v in enumerate(value))
        elif isinstance(value, int):
            out += f"{key}={value}"
        else:
            out += f"{key}={_logfmt_value(value)}"
    return (out + "\n").encode("utf-8", "surrogateescape")


# ---- small endpoints ------------------------------------------------------------------------------


@operation("reloadSideload")
def reload_sideload(call: Call) -> Reply:
    """The mock has no sideload sources, so a reload always succeeds."""
    return Reply(204)


@operation("linkSubscriptions")
def link_subscriptions(call: Call) -> Reply:
    """The mock has no InfluxDB cluster, so there is nothing to link: the answer of a server whose
    `[[influxdb]]` sections are all disabled."""
    return Reply(204)


@operation("setLogLevel")
def set_log_level(call: Call) -> Reply:
    try:
        req = gojson.decode_struct(call.body(), "LogLevelOptions", {"level": "string"},
                                   go_type="client.LogLevelOptions")
    except gojson.DecodeError as exc:
        raise BadRequest(f"invalid json: {exc}") from None
    level = req.get("level", "").upper()
    if level not in LOG_LEVELS:
        raise BadRequest("invalid log level")
    runtime(call.state).log_level = level
    return Reply(204)


def route_table(op_list: Any, claimed: frozenset[str]) -> dict[str, list[str]]:
    """Go mux patterns with their methods, as kapacitord registers them for these operations.

    A path with parameters is served by the prefix pattern up to its first parameter; the few
    places where the server registers something else are adjusted explicitly.
    """
    table: dict[str, set[str]] = {"/": set(ALL_METHODS), PREVIEW + "/": set(ALL_METHODS)}
    flux = BASE + "/api/v2/tasks"
    for op in op_list:
        if op.operation_id not in claimed:
            continue
        cut = op.path.find("{")
        pattern = op.path if cut < 0 else op.path[:cut]
        if pattern == BASE + "/storage/stores/":
            pattern = BASE + "/storage/"
        if pattern.startswith(flux):
            for p in (flux, flux + "/"):
                table.setdefault(p, set()).update(("GET", "POST", "PUT", "PATCH", "DELETE"))
            continue
        if op.operation_id == "pprofProfile":
            for name in ("cmdline", "profile", "symbol", "trace"):
                table.setdefault(f"{BASE}/debug/pprof/{name}", set()).add("GET")
        table.setdefault(pattern, set()).add(op.method)
    for pattern, methods in table.items():
        writes = pattern in (BASE + "/write", "/write")
        prefix_with_writes = pattern.endswith("/") and pattern != "/" and methods & {"PATCH", "DELETE"}
        if (writes or prefix_with_writes) and not pattern.startswith(flux):
            methods.add("OPTIONS")
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    return {p: sorted(table[p], key=order.__getitem__) for p in sorted(table)}


@operation("listRoutes")
def list_routes(call: Call) -> Reply:
    from mockserver import operations
    from spec import operations as spec_operations

    return Reply(200, route_table(spec_operations(), operations.claimed(call.config)))


def _memstats() -> dict[str, Any]:
    """runtime.MemStats-shaped numbers (the mock is not a Go process; the keys are what matter)."""
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (ImportError, OSError):
        rss = 64 << 20
    heap = rss // 2
    return {
        "Alloc": heap,
        "TotalAlloc": heap * 4,
        "Sys": rss,
        "Lookups": 0,
        "Mallocs": heap // 64,
        "Frees": heap // 80,
        "HeapAlloc": heap,
        "HeapSys": rss * 3 // 4,
        "HeapIdle": rss // 4,
        "HeapInuse": heap,
        "HeapReleased": rss // 8,
        "HeapObjects": heap // 256,
        "StackInuse": 1 << 20,
        "StackSys": 1 << 20,
        "MSpanInuse": 1 << 17,
        "MSpanSys": 1 << 17,
        "MCacheInuse": 9600,
        "MCacheSys": 16384,
        "BuckHashSys": 1 << 20,
        "GCSys": 1 << 22,
        "OtherSys": 1 << 20,
        "NextGC": heap * 2,
        "LastGC": 0,
        "PauseTotalNs": 0,
        "PauseNs": [0] * 256,
        "PauseEnd": [0] * 256,
        "NumGC": 0,
        "NumForcedGC": 0,
        "GCCPUFraction": 0,
        "EnableGC": True,
        "DebugGC": False,
        "BySize": [{"Size": size, "Mallocs": 0, "Frees": 0} for size in (0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128)],
    }


def _expvar_map(items: dict[str, str]) -> str:
    """expvar.Map's text form: `{"k": v, "k2": v2}` with already formatted values."""
    return "{" + ", ".join(f"{go_quote(k)}: {v}" for k, v in sorted(items.items())) + "}"


def _ingress_stats(state: Any, rt: ServerRuntime, host: str) -> dict[str, str]:
    """The task master's per db/rp/measurement `ingress` counts of points written, as the real
    server publishes them (`kapacitor stats ingress` reads these)."""
    with state.lock:
        counters = [(key, counter[0], counter[1]) for key, counter in state.points.ingress.items()]
    out = {}
    for (db, rp, measurement), stat_key, received in counters:
        tags = {
            "cluster_id": go_quote(rt.cluster_id), "database": go_quote(db), "host": go_quote(host),
            "measurement": go_quote(measurement), "retention_policy": go_quote(rp),
            "server_id": go_quote(rt.server_id), "task_master": go_quote("main"),
        }  # fmt: skip
        out[stat_key] = _expvar_map(
            {
                "name": go_quote("ingress"),
                "tags": _expvar_map(tags),
                "values": _expvar_map({"points_received": str(received)}),
            }
        )
    return out


@operation("debugVars")
def debug_vars(call: Call) -> Reply:
    rt = runtime(call.state)
    tasks = call.state.tasks
    # [hostname] defaults to "localhost" in NewConfig (server/config.go, 1.5 and 1.8): the real
    # server reports its configured name, not the machine's.
    host = DEFAULT_HOSTNAME
    load_stat = _expvar_map(
        {
            "name": go_quote("load"),
            "tags": _expvar_map(
                {"cluster_id": go_quote(rt.cluster_id), "server_id": go_quote(rt.server_id), "host": go_quote(host)}
            ),
            "values": _expvar_map({"errors": "0"}),
        }
    )
    stats = {rt.load_stat_key: load_stat}
    stats.update(_ingress_stats(call.state, rt, host))

    def compact(value: Any) -> str:
        return gojson.dumps_compact(value).decode("utf-8").rstrip("\n")

    entries = {
        "cluster_id": go_quote(rt.cluster_id),
        "cmdline": compact(CMDLINE),
        "host": compact(host),
        "kapacitor": _expvar_map(stats),
        "memstats": compact(_memstats()),
        "num_enabled_tasks": str(tasks.enabled_count),
        "num_subscriptions": "0",
        "num_tasks": str(len(tasks.tasks)),
        "platform": compact("OSS"),
        "product": compact("kapacitor"),
        "server_id": go_quote(rt.server_id),
        "version": compact(call.config.kapacitor_version),
    }
    body = "{\n" + ",\n".join(f"{go_quote(k)}: {v}" for k, v in sorted(entries.items())) + "\n}\n"
    return Reply(200, raw=body.encode("utf-8"))


# ---- pprof ----------------------------------------------------------------------------------------

PROFILES = {
    # name: (description, sample types, period type, period)
    "allocs": ("A sampling of all past memory allocations",
               (("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes")),
               ("space", "bytes"), 524288),
    "block": ("Stack traces that led to blocking on synchronization primitives",
              (("contentions", "count"), ("delay", "nanoseconds")), ("contentions", "count"), 1),
    "goroutine": ("Stack traces of all current goroutines", (("goroutine", "count"),), ("goroutine", "count"), 1),
    "heap": ("A sampling of memory allocations of live objects",
             (("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes")),
             ("space", "bytes"), 524288),
    "mutex": ("Stack traces of holders of contended mutexes",
              (("contentions", "count"), ("delay", "nanoseconds")), ("contentions", "count"), 1),
    "threadcreate": ("Stack traces that led to the creation of new OS threads",
                     (("threadcreate", "count"),), ("threadcreate", "count"), 1),
}  # fmt: skip
CPU_PROFILE = ((("samples", "count"), ("cpu", "nanoseconds")), ("cpu", "nanoseconds"), 10_000_000)
EXTRA_LINKS = {
    "cmdline": "The command line invocation of the current program",
    "profile": "CPU profile. You can specify the duration in the seconds GET parameter.",
    "trace": "A trace of execution of the current program. You can specify the duration in the seconds GET parameter.",
}
NOSNIFF = ("X-Content-Type-Options", "nosniff")
TEXT = "text/plain; charset=utf-8"


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def profile_bytes(samples: tuple[tuple[str, str], ...], period_type: tuple[str, str], period: int) -> bytes:
    """A gzip-compressed pprof protobuf Profile with its sample types and no samples."""
    strings = [""]

    def index(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    body = b"".join(_field(1, _field(1, index(t)) + _field(2, index(u))) for t, u in samples)
    period_msg = _field(1, index(period_type[0])) + _field(2, index(period_type[1]))
    body += b"".join(_field(6, s.encode()) for s in strings)
    body += _field(9, time.time_ns()) + _field(11, period_msg) + _field(12, period)
    return gzip.compress(body, mtime=0)


def _index_html() -> bytes:
    rows = "".join(f"<tr><td>0</td><td><a href='{name}?debug=1'>{name}</a></td></tr>\n" for name in sorted(PROFILES))
    descriptions = "".join(
        f"<li><div class=profile-name>{name}: </div> {text}</li>\n"
        for name, text in sorted({**{n: p[0] for n, p in PROFILES.items()}, **EXTRA_LINKS}.items())
    )
    page = (
        "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/\n<br>\n"
        "<p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\n"
        "Types of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n"
        f'{rows}</table>\n<a href="goroutine?debug=2">full goroutine stack dump</a>\n<br>\n'
        f"<p>\nProfile Descriptions:\n<ul>\n{descriptions}</ul>\n</p>\n</body>\n</html>\n"
    )
    return page.encode()


@operation("pprofIndex")
def pprof_index(call: Call) -> Reply:
    return Reply(200, raw=_index_html(), content_type="text/html; charset=utf-8")


def _attachment(name: str, data: bytes) -> Reply:
    return Reply(
        200,
        raw=data,
        content_type="application/octet-stream",
        headers=(NOSNIFF, ("Content-Disposition", f'attachment; filename="{name}"')),
    )


@operation("pprofProfile")
def pprof_profile(call: Call) -> Reply:
    """Profiles come back at once (a CPU profile or trace does not wait `seconds`)."""
    name = call.params.get("profile", "")
    if name == "cmdline":
        return Reply(200, raw="\x00".join(CMDLINE).encode(), content_type=TEXT, headers=(NOSNIFF,))
    if name == "symbol":
        return Reply(200, raw=b"num_symbols: 1\n", content_type=TEXT, headers=(NOSNIFF,))
    if name == "profile":
        return _attachment("profile", profile_bytes(*CPU_PROFILE))
    if name == "trace":
        return _attachment("trace", b"go 1.19 trace\x00\x00\x00")
    spec = PROFILES.get(name)
    if spec is None:
        return Reply(404, raw=b"Unknown profile\n", content_type=TEXT, headers=(NOSNIFF, ("X-Go-Pprof", "1")))
    try:
        debug = int(call.first("debug") or "0")
    except ValueError:
        debug = 0
    if debug:
        return Reply(200, raw=f"{name} profile: total 0\n".encode(), content_type=TEXT, headers=(NOSNIFF,))
    return _attachment(name, profile_bytes(*spec[1:]))


# ---- log streaming --------------------------------------------------------------------------------


def _stream_seconds(call: Call) -> float:
    raw = call.req.get_header(STREAM_SECONDS_HEADER)
    try:
        value = float(raw) if raw else STREAM_MAX_SECONDS
    except ValueError:
        value = STREAM_MAX_SECONDS
    return max(0.0, min(value, STREAM_MAX_SECONDS))


def _entries(rt: ServerRuntime, session: Session, env: dict[str, Any], seconds: float) -> Iterator[bytes]:
    """The session registers when streaming starts and leaves when the generator is closed."""
    deadline = time.monotonic() + seconds
    disconnected = env.get("waitress.client_disconnected")
    rt.open(session)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                line = session.queue.get(timeout=min(_POLL_SECONDS, remaining))
            except queue.Empty:
                if callable(disconnected) and disconnected():
                    return
                continue
            yield line
    finally:
        rt.close(session)


@operation("streamLogs")
def stream_logs(call: Call) -> Reply:
    tags: list[tuple[str, str]] = []
    level = 0
    for key, values in call.query.items():
        if len(values) != 1:
            raise BadRequest("query params cannot contain duplicate params")
        if key == "lvl" and values[0].endswith("+"):
            level = {"INFO": 1, "info": 1, "ERROR": 2, "error": 2}.get(values[0][:-1], 0)
            continue
        tags.append((key, values[0]))
    content_type = "application/json" if call.req.get_header("Accept") == "application/json" else "application/logfmt"
    session = Session(content_type, level, tags)
    rt = runtime(call.state)
    # Every open stream holds a worker thread (WSGI has no other way to stream), so only a few may
    # be open at once: `--threads` streams used to stall every other request.
    limit = call.config.max_log_streams
    if not rt.reserve_stream(limit):
        raise KapacitorError(f"too many log streams: {limit} already open (mock limit, --max-log-streams)", 429)
    stream = _Slot(_entries(rt, session, call.req.env, _stream_seconds(call)), rt)
    return Reply(200, stream=stream, content_type=content_type)


class _Slot:
    """The stream's iterator; closing it (WSGI servers always do) gives the slot back, once."""

    def __init__(self, entries: Iterator[bytes], rt: ServerRuntime) -> None:
        self._entries = entries
        self._rt: ServerRuntime | None = rt

    def __iter__(self) -> Iterator[bytes]:
        return self._entries

    def close(self) -> None:
        try:
            self._entries.close()  # type: ignore[attr-defined]
        finally:
            rt, self._rt = self._rt, None
            if rt is not None:
                rt.release_stream()
