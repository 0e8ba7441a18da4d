"""The conformance suite serial vs over pytest-xdist workers, side by side on the same target and seed.

    python benchmarks/suite_bench.py                       # embedded mock: quick and full, serial and -n 2
    python benchmarks/suite_bench.py --target URL          # a running server (writes opted in)
    python benchmarks/suite_bench.py --modes quick --repeat 3
    python benchmarks/suite_bench.py --tox tests --tox lint  # time tox environments instead

Each run is the `kapacitor-conformance` command in a fresh interpreter; wall time and the CPU
seconds of the whole process tree (the xdist workers included) are printed, and the parallel run's
check outcomes and scores must equal the serial run's. Numbers are only comparable within one
invocation on one machine: on a shared machine the wall times move with the load, CPU seconds less.

A first `--collect-only` run warms pytest's assertion-rewrite cache. `PYTHONDONTWRITEBYTECODE` is
removed from the runs' environment (unless `--keep-env`): with it every process recompiles every
rewritten module (~1 s of CPU each), which is not what a user's machine or tox does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, CPU seconds of the process tree, output tail)."""
    cpu0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    return proc.returncode, time.perf_counter() - t0, _cpu() - cpu0, (proc.stdout + proc.stderr)[-2000:]


def suite_cmd(args: list[str], report: Path) -> list[str]:
    return [sys.executable, "-m", "conformance.cli", "-q", "-p", "no:randomly", "--report-json", str(report), *args]


def outcomes(report: Path) -> tuple[dict[str, str], Any]:
    doc = json.loads(report.read_text())
    return {r["full_id"]: r["outcome"] for r in doc["results"]}, doc["summary"]


def bench_suite(opts: argparse.Namespace, env: dict[str, str]) -> int:
    base = ["--seed", str(opts.seed)]
    if opts.target:
        base += ["--target", opts.target, "--allow-writes", "--allow-config-writes"]
    bad = 0
    with tempfile.TemporaryDirectory(prefix="kcf-bench-") as tmp:
        work = Path(tmp)
        timed(suite_cmd([*base, "--collect-only"], work / "warm.json"), env, work)
        print(f"target: {opts.target or 'embedded mock'}  seed {opts.seed}  workers {opts.workers}  "
              f"cores {os.cpu_count()}  load {os.getloadavg()[0]:.2f}")
        print(f"{'mode':<6} {'run':<8} {'wall s':>7} {'cpu s':>7} {'exit':>4}  outcomes")
        for mode in opts.modes.split(","):
            extra = ["--quick"] if mode == "quick" else []
            for rep in range(opts.repeat):
                rows = []
                for name, par in (("serial", []), (f"-n {opts.workers}", ["-n", str(opts.workers)])):
                    report = work / f"{mode}-{rep}-{len(rows)}.json"
                    code, wall, cpu, tail = timed(suite_cmd([*base, *extra, *par], report), env, work)
                    got = outcomes(report) if report.exists() else None
                    rows.append((name, wall, cpu, code, got, tail))
                ref = rows[0][4]
                for name, wall, cpu, code, got, tail in rows:
                    same = "reference" if got is ref else ("same" if got == ref else "DIFFERENT")
                    if got is None or same == "DIFFERENT":
                        bad += 1
                        print(tail)
                    print(f"{mode:<6} {name:<8} {wall:7.1f} {cpu:7.1f} {code:>4}  {same}")
                print(f"{mode:<6} ratio    {rows[1][1] / rows[0][1]:7.2f} {rows[1][2] / rows[0][2]:7.2f}  "
                      f"(parallel / serial)")
    return 1 if bad else 0


def bench_tox(envs: list[str], env: dict[str, str]) -> int:
    print(f"cores {os.cpu_count()}  load {os.getloadavg()[0]:.2f}")
    worst = 0
    for name in envs:
        code, wall, cpu, tail = timed(["tox", "-e", name], env, ROOT)
        print(f"tox -e {name:<8} wall {wall:7.1f} s  cpu {cpu:7.1f} s  exit {code}")
        if code:
            print(tail)
        worst = max(worst, code)
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default=None, help="URL of a running server (default: the embedded mock)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--modes", default="quick,full", help="comma-separated: quick, full")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tox", action="append", default=[], metavar="ENV", help="time `tox -e ENV` instead")
    ap.add_argument("--keep-env", action="store_true", help="keep PYTHONDONTWRITEBYTECODE if set")
    opts = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KAPACITOR_URL", None)
    if not opts.keep_env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    if opts.tox:
        return bench_tox(opts.tox, env)
    return bench_suite(opts, env)


if __name__ == "__main__":
    sys.exit(main())
