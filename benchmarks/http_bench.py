"""Requests/s of the mock against a bare Falcon + waitress app serving the same tasks from a dict.

Both servers run as separate processes with the same waitress thread count; the load comes from
`wrk` when installed (`apt-get install wrk`), else from a small threaded Python client. Results
are ratios measured side by side in one run, never absolute targets:

    python benchmarks/http_bench.py [--duration 5] [--threads 8] [--connections 16]

Targets (from the project's issue): GET one task and GET a list of 100 at >= 0.8x the bare app;
a list of 100 at offset 5,000 among 10,000 tasks within 1.5x of the same page among 1,000.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any

SCRIPT = "stream\n    |from()\n        .measurement('cpu')\n    |window()\n        .period(10s)\n        .every(5s)\n"
DBRPS = [{"db": "telegraf", "rp": "autogen"}]


def task_id(i: int) -> str:
    return f"task-{i:06d}"


def seeded_state(n: int) -> Any:
    from mockserver.store import MockState

    state = MockState()
    for i in range(n):
        state.tasks.create_task({"id": task_id(i), "script": SCRIPT, "dbrps": [("telegraf", "autogen")]})
    return state


def serve_mock(n: int, port: int, threads: int) -> None:
    from waitress import serve

    from mockserver.app import create_app

    app = create_app(state=seeded_state(n))
    serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def serve_bare(n: int, port: int, threads: int) -> None:
    """The baseline: what a hand-written Falcon app holding the same tasks in a dict would do."""
    import falcon
    from waitress import serve

    from mockserver.app import create_app

    mock = create_app(state=seeded_state(n))
    client_state = mock.mock_state
    from mockserver.operations.tasks import task_body

    tasks = {tid: json.loads(task_body(t)) for tid, t in client_state.tasks.tasks.items()}
    order = sorted(tasks)

    class One:
        def on_get(self, req: falcon.Request, resp: falcon.Response, tid: str) -> None:
            resp.text = json.dumps(tasks[tid])

    class Many:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            offset = int(req.get_param("offset") or 0)
            limit = int(req.get_param("limit") or 100)
            resp.text = json.dumps({"tasks": [tasks[i] for i in order[offset : offset + limit]]})

    app = falcon.App()
    app.add_route("/kapacitor/v1/tasks/{tid}", One())
    app.add_route("/kapacitor/v1/tasks", Many())
    serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, n: int, threads: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, f"serve-{kind}", str(n), str(port), str(threads)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", f"/kapacitor/v1/tasks/{task_id(0)}")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


def load(port: int, path: str, duration: float, threads: int, connections: int) -> float:
    url = f"http://127.0.0.1:{port}{path}"
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", url], capture_output=True, text=True
        ).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if match:
            return float(match.group(1))
    return python_load(port, path, duration, connections)


def python_load(port: int, path: str, duration: float, connections: int) -> float:
    count = 0
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker() -> None:
        nonlocal count
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done = 0
        while time.monotonic() < stop:
            conn.request("GET", path)
            conn.getresponse().read()
            done += 1
        with lock:
            count += done

    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return count / duration


def memory_per_task(n: int = 5000) -> float:
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    state = seeded_state(n)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del state
    return size / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of both servers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario (median)")
    args = parser.parse_args()

    rows: list[tuple[str, float, float]] = []
    procs = []
    rounds = args.rounds
    try:
        mock_1k, p_mock_1k = start("mock", 1000, args.threads)
        bare_1k, p_bare_1k = start("bare", 1000, args.threads)
        mock_10k, p_mock_10k = start("mock", 10_000, args.threads)
        procs += [mock_1k, bare_1k, mock_10k]

        def rate(port: int, path: str) -> float:
            return load(port, path, args.duration, args.wrk_threads, args.connections)

        # Alternate the two sides round by round so that background load hits both alike;
        # report the median of the per-round figures.
        for name, path in [
            ("GET one task", f"/kapacitor/v1/tasks/{task_id(500)}"),
            ("GET list of 100", "/kapacitor/v1/tasks?offset=0&limit=100"),
        ]:
            pairs = [(rate(p_mock_1k, path), rate(p_bare_1k, path)) for _ in range(rounds)]
            mock = statistics.median(m for m, _ in pairs)
            bare = statistics.median(b for _, b in pairs)
            rows.append((name, mock, bare))
        pages = [
            (
                rate(p_mock_10k, "/kapacitor/v1/tasks?offset=5000&limit=100"),
                rate(p_mock_1k, "/kapacitor/v1/tasks?offset=500&limit=100"),
            )
            for _ in range(rounds)
        ]
        page_10k = statistics.median(p for p, _ in pages)
        page_1k = statistics.median(p for _, p in pages)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()

    print(f"\n{'scenario':<34}{'mock req/s':>12}{'bare req/s':>12}{'ratio':>8}  target")
    for name, mock, bare in rows:
        ratio = mock / bare if bare else float("nan")
        print(f"{name:<34}{mock:>12.0f}{bare:>12.0f}{ratio:>8.2f}  >= 0.80 {'ok' if ratio >= 0.8 else 'MISSED'}")
    slowdown = page_1k / page_10k if page_10k else float("nan")
    print(
        f"{'list 100 @5000/10k vs @500/1k':<34}{page_10k:>12.0f}{page_1k:>12.0f}{slowdown:>8.2f}  "
        f"<= 1.50 slowdown {'ok' if slowdown <= 1.5 else 'MISSED'}"
    )
    print(f"memory per stored task: {memory_per_task() / 1024:.1f} KiB (tracemalloc, 5,000 tasks)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if len(sys.argv) > 1 and sys.argv[1].startswith("serve-"):
        kind, n, port, threads = sys.argv[1][6:], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        (serve_mock if kind == "mock" else serve_bare)(n, port, threads)
    else:
        main()
