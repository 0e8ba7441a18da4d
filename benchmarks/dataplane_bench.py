"""Points/s through `from → where → window → mean → alert`, and memory bounded by window sizes.

Three measurements, side by side in one run (ratios, never absolute targets):

1. engine: the mock's data plane in-process (parsed points straight into `Engine.write`);
2. http: `POST /write` batches to a mock server process and, with `--real URL`, to a real
   Kapacitor (same batches; the real server processes asynchronously, so the clock stops when
   the task's `stream0` node has collected every point);
3. memory: a million points through the engine in batches, traced with tracemalloc: the peak must
   not grow with the number of points (windows are the only buffers).

    python benchmarks/dataplane_bench.py [--points 200000] [--batch 5000] [--real http://127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import socket
import subprocess
import sys
import time
import tracemalloc
from typing import Any
from urllib.parse import urlsplit

SCRIPT = (
    "stream\n    |from()\n        .measurement('cpu')\n        .groupBy('host')\n"
    "    |where(lambda: \"usage_idle\" >= 0.0)\n    |window()\n        .period(10s)\n        .every(10s)\n"
    "    |mean('usage_idle')\n    |alert()\n        .crit(lambda: \"mean\" < 50.0)\n"
)
DB, RP = "bench", "autogen"
HOSTS = 10
SEC = 1_000_000_000


def lines(start: int, count: int) -> bytes:
    """`count` points from point number `start`: 10 hosts, one point per host per second."""
    out = []
    for i in range(start, start + count):
        host = i % HOSTS
        t = (i // HOSTS) * SEC
        out.append(f"cpu,host=h{host} usage_idle={(i * 7919) % 100}.5 {t}\n")
    return "".join(out).encode()


def engine_state() -> Any:
    from mockserver.store import MockState

    state = MockState()
    state.tasks.create_task({"id": "bench", "script": SCRIPT, "dbrps": [(DB, RP)], "status": "enabled"})
    state.engine.reconcile()
    return state


def bench_engine(points: int, batch: int) -> dict[str, Any]:
    from mockserver.store import lineprotocol

    state = engine_state()
    bodies = [lines(s, min(batch, points - s)) for s in range(0, points, batch)]
    parsed = [lineprotocol.parse_points(b, 0, "n") for b in bodies]
    start = time.perf_counter()
    for pts in parsed:
        state.engine.write(DB, RP, pts)
    elapsed = time.perf_counter() - start
    stats = state.engine.runtimes["bench"].stats()["node-stats"]
    assert stats["stream0"]["collected"] == points, stats["stream0"]
    return {"points": points, "seconds": round(elapsed, 3), "points_per_s": round(points / elapsed),
            "alerts": stats["alert5"]["alerts_triggered"]}


def bench_memory(points: int, batch: int) -> dict[str, Any]:
    from mockserver.store import lineprotocol

    state = engine_state()
    gc.collect()
    tracemalloc.start()
    peaks = {}
    checkpoints = {points // 10, points}
    for s in range(0, points, batch):
        pts = lineprotocol.parse_points(lines(s, min(batch, points - s)), 0, "n")
        state.engine.write(DB, RP, pts)
        del pts
        done = s + batch
        if done in checkpoints:
            gc.collect()
            peaks[done] = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    small, large = peaks[points // 10], peaks[points]
    return {"points": points, "batch": batch,
            f"current_after_{points // 10}_MiB": round(small[0] / 2**20, 2),
            f"current_after_{points}_MiB": round(large[0] / 2**20, 2),
            "peak_MiB": round(large[1] / 2**20, 2),
            "bounded": large[0] < small[0] * 1.5 + 2**20}


# ---- HTTP ------------------------------------------------------------------------------------------


def _request(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _collected(url: str) -> int:
    status, body = _request(url, "GET", "/kapacitor/v1/tasks/dataplane-bench")
    if status != 200:
        return -1
    return int(json.loads(body)["stats"]["node-stats"]["stream0"]["collected"])


def bench_http(url: str, points: int, batch: int) -> dict[str, Any]:
    _request(url, "DELETE", "/kapacitor/v1/tasks/dataplane-bench")
    task = {"id": "dataplane-bench", "type": "stream", "dbrps": [{"db": DB, "rp": RP}], "script": SCRIPT,
            "status": "enabled"}
    status, body = _request(url, "POST", "/kapacitor/v1/tasks", json.dumps(task).encode())
    assert status == 200, body
    bodies = [lines(s, min(batch, points - s)) for s in range(0, points, batch)]
    try:
        start = time.perf_counter()
        for b in bodies:
            status, resp = _request(url, "POST", f"/kapacitor/v1/write?db={DB}&rp={RP}", b)
            assert status == 204, resp
        deadline = time.monotonic() + 600
        while _collected(url) < points and time.monotonic() < deadline:
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        return {"url": url, "points": points, "seconds": round(elapsed, 3),
                "points_per_s": round(points / elapsed), "collected": _collected(url)}
    finally:
        _request(url, "DELETE", "/kapacitor/v1/tasks/dataplane-bench")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mock() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mockserver.cli", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if _request(url, "GET", "/kapacitor/v1/ping")[0] == 204:
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the mock did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--memory-points", type=int, default=1_000_000)
    parser.add_argument("--real", default="", help="URL of a real Kapacitor to measure side by side")
    args = parser.parse_args()
    results: dict[str, Any] = {"engine": bench_engine(args.points, args.batch)}
    proc, url = start_mock()
    try:
        results["http_mock"] = bench_http(url, args.points, args.batch)
    finally:
        proc.terminate()
        proc.wait(10)
    if args.real:
        results["http_real"] = bench_http(args.real, args.points, args.batch)
        results["mock_vs_real"] = round(results["http_mock"]["points_per_s"] / results["http_real"]["points_per_s"], 3)
    results["memory"] = bench_memory(args.memory_points, 10_000)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
