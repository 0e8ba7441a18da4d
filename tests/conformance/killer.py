"""Fast mutant kill: one process, one waitress server, the suite run in-process once per job.

A suite subprocess costs seconds before the first request (interpreter, imports, collection of
~1,000 checks); running a hundred mutants that way takes minutes. Here one worker process starts
ONE server whose WSGI multiplexer mounts every job's app under its own path prefix
(`/m/<job>/kapacitor/v1/...`; the suite keeps a target's path prefix), then calls `pytest.main`
for each job in turn: imports and collection are paid once, a narrow run then costs a fraction of
a second. Each job still runs the real suite, with its real options and result file.

Run as `python -m tests.conformance.killer JOBS.json OUT.json [QUEUE]`: JOBS is a list of `Job`
dicts, OUT receives one `Outcome` dict per job run; with QUEUE (a counter file shared by several
workers) the worker takes jobs from it instead of running all. `run_jobs` starts the workers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WSGIApp = Callable[..., Iterable[bytes]]


@dataclass
class Job:
    """One suite run: `app` is `mock`, `mutant:<name>` or `naive`; `args` are suite options."""

    name: str
    app: str
    args: list[str]
    config: dict[str, Any] = field(default_factory=dict)
    #: Relative run time, for the order of the shared queue (the costliest jobs start first).
    cost: float = 1.0


@dataclass
class Outcome:
    name: str
    code: int
    duration: float
    results: list[dict[str, Any]]
    summary: dict[str, Any] | None
    output: str = ""

    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["outcome"] in ("failed", "error")]


class Multiplexer:
    """Route `/m/<job>/rest` to that job's app with PATH_INFO (and the raw URI) set to `/rest`."""

    def __init__(self, apps: dict[str, WSGIApp]) -> None:
        self.apps = apps

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        parts = path.split("/", 3)
        if len(parts) < 3 or parts[1] != "m" or parts[2] not in self.apps:
            start_response("599 No Such Job", [("Content-Type", "text/plain")])
            return [b"no such job"]
        mount = f"/m/{parts[2]}"
        environ["PATH_INFO"] = "/" + parts[3] if len(parts) > 3 else "/"
        for key in ("RAW_URI", "REQUEST_URI"):
            raw = environ.get(key)
            if isinstance(raw, str) and raw.startswith(mount):
                environ[key] = raw[len(mount):] or "/"
        return self.apps[parts[2]](environ, start_response)


def build_app(job: Job) -> WSGIApp:
    if job.app == "naive":
        from tests.conformance.naive_mock import NaiveMock

        return NaiveMock()
    from mockserver.app import create_app
    from mockserver.config import MockConfig

    app: WSGIApp = create_app(MockConfig(**job.config))
    if job.app.startswith("mutant:"):
        from tests.conformance.catalogue import by_name

        app = by_name(job.app.split(":", 1)[1])(app)
    return app


#: Per job, pytest's own end-of-run work that a narrow run does not need: two forced full garbage
#: collections over a heap holding every check module and mock (unraisable/thread exception
#: plugins, ~0.2 s each) and source-quoting tracebacks of the expected failures.
_LEAN = ["-p", "no:unraisableexception", "-p", "no:threadexception", "--tb=line"]


class _Catalogue:
    """Records (check id, full id, module) of every collected check: one collection per process."""

    def __init__(self) -> None:
        self.checks: list[tuple[str, str, str]] = []

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        from conformance.plugin import full_id, spec_of

        for item in items:
            spec = spec_of(item)
            if spec is not None:
                self.checks.append((spec.id, full_id(item, spec), item.module.__name__))


def check_modules(url: str) -> list[tuple[str, str, str]]:
    import pytest

    from conformance.cli import build_args

    cat = _Catalogue()
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(build_args(["-q", "--collect-only", "--target", url, *_LEAN]), plugins=[cat])
    return cat.checks


def modules_for(args: list[str], checks: list[tuple[str, str, str]]) -> list[str]:
    """The check modules holding every check the job's `--check` globs select (all when unsure):
    the selection is the same, but pytest imports and collects only those modules."""
    from conformance.checks import id_matches

    globs = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--check"]
    if not globs or not checks or any(a.startswith(("--areas", "--rerun-failures")) for a in args):
        return []
    mods = {mod for cid, fid, mod in checks if any(id_matches(g, cid, fid) for g in globs)}
    return sorted(mods)


class Queue:
    """The next job index, shared by the worker processes through a locked file: a worker that is
    done takes the next job, so one slow job does not hold up the jobs dealt out behind it."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size

    def take(self) -> int | None:
        import fcntl

        with open(self.path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            index = int(f.read() or 0)
            f.seek(0)
            f.truncate()
            f.write(str(index + 1))
        return index if index < self.size else None


def _taken(jobs: list[Job], queue: Queue | None) -> Iterable[Job]:
    if queue is None:
        yield from jobs
        return
    while (index := queue.take()) is not None:
        yield jobs[index]


def run_in_process(jobs: list[Job], workdir: Path, queue: Queue | None = None) -> list[Outcome]:
    """Serve the jobs behind one multiplexer and run the suite for each, in this process (every job,
    or those taken from `queue`)."""
    import pytest

    from conformance.cli import build_args
    from mockserver.server import serve_in_thread

    mux = Multiplexer({})
    handle = serve_in_thread(mux, threads=8)
    outcomes: list[Outcome] = []
    try:
        checks = check_modules(f"{handle.url}/m/none")
        for job in _taken(jobs, queue):
            mux.apps[job.name] = build_app(job)
            report = workdir / f"{job.name}.json"
            args = [*job.args]
            if "--seed" not in args:
                args += ["--seed", "1"]
            mods = modules_for(args, checks)
            where = ["--pyargs", *mods] if mods else []
            argv = build_args(["-q", "-p", "no:randomly", *_LEAN, "--report-json", str(report),
                               "--target", f"{handle.url}/m/{job.name}", *args, *where])
            started = time.monotonic()
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = int(pytest.main(argv))
            doc = json.loads(report.read_text()) if report.exists() else {}
            outcomes.append(Outcome(job.name, code, round(time.monotonic() - started, 2), doc.get("results", []),
                                    doc.get("summary"), out.getvalue()[-4000:]))
            del mux.apps[job.name]
    finally:
        handle.stop()
    return outcomes


#: Default worker processes: one more than two cores, because the slowest jobs mostly wait (a killed
#: data-plane rule polls the task's stats until its settle time is up).
WORKERS = 3


def run_jobs(jobs: list[Job], *, workers: int = WORKERS, timeout: float = 900) -> dict[str, Outcome]:
    """Run the jobs on `workers` processes that take them from one queue, costliest first."""
    workers = max(1, min(workers, len(jobs)))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("KAPACITOR_URL", None)
    ordered = sorted(jobs, key=lambda j: -j.cost)
    with tempfile.TemporaryDirectory(prefix="kcf-kill-") as tmp:
        src, queue = Path(tmp) / "jobs.json", Path(tmp) / "next"
        src.write_text(json.dumps([asdict(j) for j in ordered]))
        procs = []
        for w in range(workers):
            dst = Path(tmp) / f"out{w}.json"
            proc = subprocess.Popen([sys.executable, "-m", "tests.conformance.killer", str(src), str(dst), str(queue)],
                                    cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            procs.append((proc, dst))
        outcomes: dict[str, Outcome] = {}
        logs = []
        for proc, dst in procs:
            try:
                log, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                log, _ = proc.communicate()
            logs.append(log[-3000:])
            if dst.exists():
                for item in json.loads(dst.read_text()):
                    outcomes[item["name"]] = Outcome(**item)
        missing = [j.name for j in jobs if j.name not in outcomes]
        if missing:
            raise RuntimeError(f"mutant workers lost jobs {missing}:\n" + "\n".join(logs))
        return outcomes


def main(argv: list[str]) -> int:
    src, dst = Path(argv[0]), Path(argv[1])
    jobs = [Job(**j) for j in json.loads(src.read_text())]
    queue = Queue(Path(argv[2]), len(jobs)) if len(argv) > 2 else None
    with tempfile.TemporaryDirectory(prefix="kcf-job-") as tmp:
        outcomes = run_in_process(jobs, Path(tmp), queue)
    dst.write_text(json.dumps([asdict(o) for o in outcomes]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
