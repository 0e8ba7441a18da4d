"""`kapacitor-mock`: serve the reference mock on port 9092 (like kapacitord) with waitress."""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from typing import Any

import spec
from mockserver.config import DEFAULT_VERSION, MockConfig
from mockserver.server import DEFAULT_CHANNEL_TIMEOUT, DEFAULT_CONNECTION_LIMIT, waitress_options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kapacitor-mock", description="Reference mock of the Kapacitor HTTP API (/kapacitor/v1)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9092, help="port to bind (default: 9092)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default: 8)")
    parser.add_argument(
        "--kapacitor-version",
        default=DEFAULT_VERSION,
        help=f"Kapacitor release to imitate, e.g. 1.5.9 (default: {DEFAULT_VERSION})",
    )
    parser.add_argument("--auth", action="store_true", help="enable the users API and authentication")
    parser.add_argument("--auth-user", default="admin", help="bootstrap admin user with --auth (default: admin)")
    parser.add_argument("--auth-password", default="admin", help="its password (default: admin)")
    parser.add_argument("--shared-secret", default="", help="HS512 secret for Bearer JWTs (default: empty)")
    parser.add_argument(
        "--pprof-enabled", action="store_true", help="let /debug/pprof and /debug/vars bypass authentication"
    )
    parser.add_argument("--flux-tasks", action="store_true", help="enable the Flux task API (1.6+)")
    parser.add_argument(
        "--no-config-override", action="store_true", help="answer config override requests with 403"
    )
    parser.add_argument(
        "--influxdb-sink",
        action="store_true",
        help="run influxDBOut nodes and keep what they write (GET /mock/influxdb/{db}) instead of failing "
        "to start them as a server without InfluxDB does",
    )
    parser.add_argument(
        "--restore", metavar="FILE", help="start from a backup taken with GET /kapacitor/v1/storage/backup"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the state in DIR (created if missing): every change is on disk before it is answered "
        "and survives a restart or kill -9; default: in memory only",
    )
    # -- availability limits
    parser.add_argument(
        "--connection-limit",
        type=_positive_int,
        default=DEFAULT_CONNECTION_LIMIT,
        help=f"open connections accepted at once (default: {DEFAULT_CONNECTION_LIMIT})",
    )
    parser.add_argument(
        "--channel-timeout",
        type=_positive_int,
        default=DEFAULT_CHANNEL_TIMEOUT,
        help=f"seconds before an idle or trickling connection is closed (default: {DEFAULT_CHANNEL_TIMEOUT})",
    )
    parser.add_argument(
        "--max-log-streams",
        type=_positive_int,
        default=None,
        help="concurrent GET /kapacitor/v1preview/logs streams (default: a quarter of --threads, at least 1)",
    )
    parser.add_argument(
        "--bcrypt-cost",
        type=_bcrypt_cost,
        default=10,
        help="bcrypt cost of stored password hashes, 4-31 ([auth] bcrypt-cost; default: 10)",
    )
    _add_serving_options(parser)
    return parser


def _bcrypt_cost(text: str) -> int:
    value = _positive_int(text)
    if not 4 <= value <= 31:
        raise argparse.ArgumentTypeError(f"must be between 4 and 31: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


# ---- serving: version, validated Kapacitor version, access log, bind errors ----------------------

#: The Kapacitor releases whose HTTP API the mock imitates (tags v1.5.0 … v1.8.3).
KNOWN_VERSIONS = tuple(
    f"1.{minor}.{patch}" for minor, last in ((5, 9), (6, 6), (7, 7), (8, 3)) for patch in range(last + 1)
)


def _kapacitor_version(text: str) -> str:
    if text not in KNOWN_VERSIONS:
        raise argparse.ArgumentTypeError(
            f"unknown Kapacitor version {text!r}; known: {KNOWN_VERSIONS[0]} … {KNOWN_VERSIONS[-1]} "
            f"({', '.join(KNOWN_VERSIONS)})"
        )
    return text


def _add_serving_options(parser: argparse.ArgumentParser) -> None:
    from mockserver import __version__

    parser.add_argument("--version", action="version", version=f"kapacitor-mock {__version__}")
    parser.add_argument(
        "--access-log",
        metavar="FILE",
        nargs="?",
        const="-",
        help="log one line per request (method, path, status, ms) to FILE (default: standard error)",
    )
    for action in parser._actions:
        if action.dest == "kapacitor_version":
            action.type = _kapacitor_version


def _serve(app: Any, args: argparse.Namespace) -> int:
    """Bind first (a busy port is one line and exit 1), then serve until interrupted."""
    from waitress.server import create_server

    from mockserver import keepalive
    from mockserver.accesslog import AccessLog, open_log

    wsgi = AccessLog(app, open_log(args.access_log)) if args.access_log else app
    try:
        options = waitress_options(
            threads=args.threads, connection_limit=args.connection_limit, channel_timeout=args.channel_timeout
        )
        server = create_server(wsgi, host=args.host, port=args.port, **options)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(f"kapacitor-mock: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    keepalive.install(server)
    print(
        f"kapacitor-mock {app.mock_config.kapacitor_version} listening on "
        f"http://{args.host}:{args.port}{spec.base_path()}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from mockserver.app import create_app
    from mockserver.store import MockState
    from mockserver.store.backup import BackupError, load_file

    config = MockConfig(
        kapacitor_version=args.kapacitor_version,
        auth=args.auth,
        flux_tasks=args.flux_tasks,
        config_override=not args.no_config_override,
        auth_user=args.auth_user,
        auth_password=args.auth_password,
        shared_secret=args.shared_secret,
        pprof_enabled=args.pprof_enabled,
        max_log_streams=args.max_log_streams or max(1, args.threads // 4),
        bcrypt_cost=args.bcrypt_cost,
        influxdb_sink=args.influxdb_sink,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.auth and not args.shared_secret:
        print(
            "kapacitor-mock: warning: --auth without --shared-secret: every Bearer token is refused "
            "(a real server would accept tokens signed with the empty secret, admin ones included)",
            file=sys.stderr,
        )
    state = MockState(config)
    if args.restore:
        try:
            state.restore(load_file(args.restore))
        except (OSError, BackupError) as exc:
            print(f"kapacitor-mock: cannot restore {args.restore}: {exc}", file=sys.stderr)
            return 2
    if args.data_dir:
        from mockserver.persistence import PersistenceError, start

        try:
            start(state, args.data_dir, restoring=bool(args.restore))
        except PersistenceError as exc:
            print(f"kapacitor-mock: --data-dir: {exc}", file=sys.stderr)
            return 2
    state.engine.reconcile()  # stored enabled tasks start with the server (their clocks start now)
    return _serve(create_app(config, state), args)


if __name__ == "__main__":
    raise SystemExit(main())
