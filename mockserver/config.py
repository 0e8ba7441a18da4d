"""Start-up options of the mock: which Kapacitor version it imitates and which optional services run."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_VERSION = "1.8.3"


def version_tuple(version: str) -> tuple[int, int, int]:
    """`"1.5.9"` → (1, 5, 9); anything unparsable counts as the newest behaviour."""
    parts = version.lstrip("v").split("-")[0].split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return (99, 0, 0)
    try:
        patch = int(parts[2]) if len(parts) > 2 else 0
    except ValueError:
        patch = 0
    return major, minor, patch


@dataclass(frozen=True)
class MockConfig:
    kapacitor_version: str = DEFAULT_VERSION
    auth: bool = False
    flux_tasks: bool = False
    config_override: bool = True
    #: The bootstrap admin that exists when auth is on (Kapacitor's own is configured in [auth]).
    auth_user: str = "admin"
    auth_password: str = "admin"
    #: HS512 secret for Bearer JWTs ([http] shared-secret; empty by default, as on the server).
    shared_secret: str = ""
    #: [http] pprof-enabled: lets /debug/pprof and /debug/vars bypass authentication.
    pprof_enabled: bool = False
    #: Seconds a batch/query recording or a replay stays `running` before it finishes.
    run_delay: float = 0.05
    #: Seconds after which a stream recording that saw no point past `stop` finishes anyway.
    stream_timeout: float = 1.0
    #: `[auth] bcrypt-cost` of stored password hashes: bcrypt's minimum for in-process mocks (tests
    #: create many users); `kapacitor-mock` uses the server's default, 10.
    bcrypt_cost: int = 4
    #: Concurrent log streams (each holds a worker thread while open); more get a 429.
    max_log_streams: int = 2
    #: Pretend an InfluxDB is configured: influxDBOut nodes run and what they write is kept
    #: (GET /mock/influxdb/{db}); without it a task with influxDBOut fails to start, as on a
    #: server without InfluxDB.
    influxdb_sink: bool = False

    @property
    def at_least_1_6(self) -> bool:
        """1.6 added the `message` key to errors and the Flux task API."""
        return version_tuple(self.kapacitor_version) >= (1, 6, 0)

    @property
    def lists_template_id(self) -> bool:
        """1.6.2 made `template-id` a task list field (omitted when empty)."""
        return version_tuple(self.kapacitor_version) >= (1, 6, 2)
