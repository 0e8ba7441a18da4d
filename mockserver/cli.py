"""`kapacitor-mock`: serve the reference mock on port 9092 (like kapacitord) with waitress."""

from __future__ import annotations

import argparse
import logging
import sys

from mockserver.config import DEFAULT_VERSION, MockConfig


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from waitress import serve

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
        influxdb_sink=args.influxdb_sink,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    state = MockState(config)
    if args.restore:
        try:
            state.restore(load_file(args.restore))
        except (OSError, BackupError) as exc:
            print(f"kapacitor-mock: cannot restore {args.restore}: {exc}", file=sys.stderr)
            return 2
    app = create_app(config, state)
    print(
        f"kapacitor-mock {config.kapacitor_version} listening on http://{args.host}:{args.port}/kapacitor/v1",
        file=sys.stderr,
        flush=True,
    )
    # Lookahead lets a streaming response (v1preview/logs) notice a client that went away.
    serve(
        app, host=args.host, port=args.port, threads=args.threads, ident="", channel_request_lookahead=1
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
