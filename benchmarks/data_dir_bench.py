"""Create-task throughput of `kapacitor-mock` with and without `--data-dir`, side by side.

Each round starts a fresh mock process (in memory, then on a fresh data directory), lets
`--clients` threads create tasks with distinct IDs over keep-alive connections for `--duration`
seconds, and reports creates/s and the ratio. Concurrent commits share one fsync (group commit),
so the ratio depends on the client count and on the disk:

    python benchmarks/data_dir_bench.py [--duration 5] [--clients 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(args: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/kapacitor/v1/ping")
            if conn.getresponse().status == 204:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("kapacitor-mock did not start")


def storm(port: int, clients: int, duration: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + duration

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while time.monotonic() < stop:
            i += 1
            body = {"id": f"c{n}-{i}", "type": "stream", "dbrps": [{"db": "d", "rp": "r"}],
                    "script": "stream|from().measurement('cpu')"}  # fmt: skip
            conn.request("POST", "/kapacitor/v1/tasks", body=json.dumps(body))
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"create failed: {resp.status}")
            counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for r in range(args.rounds):
        rates = {}
        with tempfile.TemporaryDirectory() as tmp:
            for label, extra in (("memory", []), ("data-dir", ["--data-dir", tmp + "/data"])):
                proc, port = start(extra)
                try:
                    rates[label] = storm(port, args.clients, args.duration)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
        ratio = rates["data-dir"] / rates["memory"]
        print(
            f"round {r + 1}: {args.clients} clients, in memory {rates['memory']:.0f} creates/s, "
            f"--data-dir {rates['data-dir']:.0f} creates/s, ratio {ratio:.2f}"
        )


if __name__ == "__main__":
    main()
