"""The pytest plugin: options, markers, the target fixture, result collection, scoring and reports.

Loaded with `-p conformance.plugin` (the CLI does this), through the `pytest11` entry point when
installed, or by `conformance/conftest.py` when run from a checkout. It stays inert in pytest runs
that collect no conformance checks.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import deviations as devmod
from conformance import report
from conformance.checks import AREAS, OPTIONAL_AREAS, CheckFailure, CheckSpec, id_matches
from conformance.context import PROFILES, Kap, Settings, Suite
from conformance.pools import Pools
from conformance.resources import Registry, new_prefix
from conformance.target import Client, Exchange
from conformance.world import World

_STATE_KEY = pytest.StashKey["RunState"]()


@dataclass
class RunState:
    settings: Settings
    deviations: list[devmod.Deviation]
    results: list[dict[str, Any]] = field(default_factory=list)
    suite: Suite | None = None
    mock: Any = None
    started: float = field(default_factory=time.time)
    current: list[Exchange] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    cleaned: bool = False
    cleanup_errors: list[str] = field(default_factory=list)
    active: bool = False
    auth: str | None = None
    setup_error: str | None = None
    summary: dict[str, Any] | None = None


# -- options --------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("kapacitor-conformance", "Kapacitor API conformance")
    g.addoption("--target", default=None,
                help="URL of the Kapacitor server to check (default: $KAPACITOR_URL, else the embedded mock)")
    g.addoption("--profile", default="kapacitor", choices=PROFILES,
                help="kapacitor: real-server behaviour passes where docs disagree; docs: the letter of the docs")
    g.addoption("--read-only", action="store_true", default=False, help="run only checks that cannot change state")
    g.addoption("--quick", action="store_true", default=False, help="fewer generated examples (CI gate)")
    g.addoption("--allow-config-writes", action="store_true", default=False,
                help="allow config override set/delete round-trips and other server-wide settings")
    g.addoption("--allow-writes", action="store_true", default=False, help="allow writing points (/write)")
    g.addoption("--areas", default=None, help=f"comma-separated areas to run: {', '.join(AREAS)}")
    g.addoption("--check", action="append", default=[], dest="kcf_checks", metavar="GLOB",
                help="run only checks whose id matches GLOB (repeatable)")
    g.addoption("--deviations", default=None, metavar="FILE", help="YAML file of allowed deviations")
    g.addoption("--report-json", default=None, metavar="FILE", help="write the JSON result file")
    g.addoption("--report-html", default=None, metavar="FILE", help="write the self-contained HTML report")
    g.addoption("--seed", default=None, type=int, help="hypothesis seed (printed on every run)")
    g.addoption("--auth", default=None, metavar="USER:PASSWORD",
                help="HTTP basic credentials for a target with auth enabled (default: $KAPACITOR_AUTH)")
    g.addoption("--mock-version", default=None,
                help="Kapacitor version the embedded mock imitates (only without --target)")
    g.addoption("--fuzz", default="safe", choices=("safe", "aggressive"),
                help="safe (default): generated input never carries a known crash trigger "
                     "(conformance/crashers.py); aggressive: send them too (may crash the target)")


def _settings(config: pytest.Config) -> Settings:
    target = config.getoption("--target") or os.environ.get("KAPACITOR_URL") or None
    areas_opt = config.getoption("--areas")
    areas = None
    if areas_opt:
        areas = frozenset(a.strip() for a in areas_opt.split(",") if a.strip())
        unknown = sorted(areas - set(AREAS))
        if unknown:
            raise pytest.UsageError(f"unknown area(s) {unknown}; known: {', '.join(AREAS)}")
    seed = config.getoption("--seed")
    if seed is None:
        env_seed = os.environ.get("KAPACITOR_CONFORMANCE_SEED")
        seed = int(env_seed) if env_seed else secrets.randbelow(2**31)
    embedded = target is None
    return Settings(
        target=target,
        profile=config.getoption("--profile"),
        read_only=config.getoption("--read-only"),
        quick=config.getoption("--quick"),
        # The embedded mock is this run's own throwaway server: opt-in writes are safe there.
        allow_writes=config.getoption("--allow-writes") or embedded,
        allow_config_writes=config.getoption("--allow-config-writes") or embedded,
        areas=areas,
        checks=tuple(config.getoption("kcf_checks") or ()),
        seed=seed,
        mock_version=config.getoption("--mock-version"),
        deviations_file=config.getoption("--deviations"),
        report_json=config.getoption("--report-json"),
        report_html=config.getoption("--report-html"),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "kcheck(spec): a named conformance check (id, level, area, reference)",
        "must: documented contract; a failure makes the run fail",
        "should: real-server behaviour beyond the docs",
        "area(name): the report area of a check",
        "mutates: the check changes server state (skipped with --read-only)",
    ):
        config.addinivalue_line("markers", line)
    settings = _settings(config)
    try:
        devs = devmod.load(settings.deviations_file) if settings.deviations_file else []
        if settings.target is None:  # the embedded mock's own, documented departures
            devs += devmod.load(Path(__file__).with_name("mock-deviations.yaml"))
    except devmod.DeviationFileError as exc:
        raise pytest.UsageError(str(exc)) from exc
    state = RunState(settings, devs)
    state.auth = config.getoption("--auth") or os.environ.get("KAPACITOR_AUTH") or None
    if state.auth and ":" not in state.auth:
        raise pytest.UsageError("--auth takes USER:PASSWORD")
    config.stash[_STATE_KEY] = state


def _configure_hypothesis(settings: Settings) -> None:
    try:
        from hypothesis import HealthCheck, core
        from hypothesis import settings as hsettings
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        return
    common: dict[str, Any] = dict(
        deadline=None,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    hsettings.register_profile("kapacitor-conformance-quick", max_examples=15, **common)
    hsettings.register_profile("kapacitor-conformance", max_examples=100, **common)
    hsettings.load_profile("kapacitor-conformance-quick" if settings.quick else "kapacitor-conformance")
    core.global_force_seed = settings.seed  # type: ignore[assignment]


def _state(config: pytest.Config) -> RunState:
    return config.stash[_STATE_KEY]


def spec_of(item: pytest.Item) -> CheckSpec | None:
    mark = item.get_closest_marker("kcheck")
    return mark.args[0] if mark else None


def full_id(item: pytest.Item, spec: CheckSpec) -> str:
    callspec = getattr(item, "callspec", None)
    return f"{spec.id}[{callspec.id}]" if callspec is not None else spec.id


# -- collection -----------------------------------------------------------------------------------
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    s = state.settings
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        spec = spec_of(item)
        if spec is None:
            keep.append(item)
            continue
        state.active = True
        fid = full_id(item, spec)
        if s.areas is not None and spec.area not in s.areas:
            dropped.append(item)
            continue
        if s.checks and not any(id_matches(g, spec.id, fid) for g in s.checks):
            dropped.append(item)
            continue
        item.extra_keyword_matches.add(spec.id)
        if s.read_only and spec.mutates:
            item.add_marker(pytest.mark.skip(reason="--read-only: this check changes server state"))
        for req in spec.requires:
            if req == "writes" and not s.allow_writes:
                item.add_marker(pytest.mark.skip(reason="writing points is opt-in: pass --allow-writes"))
            if req == "config-writes" and not s.allow_config_writes:
                item.add_marker(pytest.mark.skip(reason="config writes are opt-in: pass --allow-config-writes"))
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    if state.active:  # only a conformance run touches hypothesis' global settings and seed
        _configure_hypothesis(s)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not any("conformance" in str(a) for a in config.args):
        return []
    state = _state(config)
    s = state.settings
    return [
        f"kapacitor-conformance: target={s.target or 'embedded mock'} profile={s.profile} "
        f"{'quick ' if s.quick else ''}{'read-only ' if s.read_only else ''}seed={s.seed} "
        f"(rerun with --seed {s.seed})"
    ]


# -- the target -----------------------------------------------------------------------------------
def _start_embedded_mock(version: str | None) -> Any:
    """The one place that starts the reference mock; the checks never import it."""
    from mockserver.app import create_app
    from mockserver.config import MockConfig
    from mockserver.server import serve_in_thread

    kwargs: dict[str, Any] = {"flux_tasks": True}
    if version:
        kwargs["kapacitor_version"] = version
    try:
        cfg = MockConfig(**kwargs)
    except TypeError:
        cfg = MockConfig()
    return serve_in_thread(create_app(cfg))


def _build_suite(state: RunState) -> Suite:
    s = state.settings
    if s.target is None:
        state.mock = _start_embedded_mock(s.mock_version)
        url = state.mock.url
    else:
        url = s.target
    auth = state.auth
    client = Client(url, auth=tuple(auth.split(":", 1)) if auth else None)  # type: ignore[arg-type]
    client.listeners.append(state.current.append)
    prefix = new_prefix()
    suite = Suite(settings=s, client=client, registry=Registry(client, prefix), prefix=prefix,
                  embedded=s.target is None)
    ex = suite.probe_version()
    if ex.error:
        raise pytest.UsageError(f"target {url} is not reachable: {ex.error}")
    if ex.status in (401, 403):  # every check would fail the same way: say so once
        hint = "the credentials were rejected" if auth else "pass --auth USER:PASSWORD"
        raise pytest.UsageError(f"target {url} requires authentication (ping answered {ex.status}): {hint}")
    return suite


@pytest.fixture(scope="session")
def kapacitor(request: pytest.FixtureRequest) -> Iterator[Suite]:
    state = _state(request.config)
    if state.suite is None:
        try:
            state.suite = _build_suite(state)
        except pytest.UsageError as exc:
            state.setup_error = str(exc)
            pytest.exit(str(exc), returncode=3)
        _install_signal_handlers()
        atexit.register(_cleanup, state)
    yield state.suite
    _cleanup(state)


@pytest.fixture(scope="session")
def world(kapacitor: Suite) -> World:
    """Shared resources of this run (one task, template, recording, ... created on first use)."""
    return World(kapacitor)


@pytest.fixture(scope="session")
def pools(kapacitor: Suite, world: World) -> Pools:
    """More-than-a-page pools of this run's own tasks, templates, recordings and replays."""
    return Pools(kapacitor, world)


@pytest.fixture
def kap(kapacitor: Suite, request: pytest.FixtureRequest) -> Iterator[Kap]:
    state = _state(request.config)
    notes = state.notes.setdefault(request.node.nodeid, [])
    helper = Kap(kapacitor, notes, owner=request.node.nodeid)
    yield helper
    errors = helper.finish()
    if errors:
        state.cleanup_errors.extend(errors)


def _install_signal_handlers() -> None:
    """SIGTERM behaves like Ctrl-C, so cleanup runs through pytest's normal teardown path."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not in the main thread
        signal.signal(signal.SIGTERM, handler)


def _cleanup(state: RunState) -> None:
    if state.cleaned or state.suite is None:
        return
    state.cleaned = True
    suite = state.suite
    old = signal.getsignal(signal.SIGINT)
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abort the cleanup
    try:
        state.cleanup_errors.extend(suite.registry.cleanup())
        state.cleanup_errors.extend(suite.registry.sweep())
    finally:
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGINT, old)


# -- results --------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _state(item.config)
    state.current.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    spec = spec_of(item)
    if spec is None:
        return
    state = _state(item.config)
    fid = full_id(item, spec)
    for key, value in (("check", spec.id), ("check_full", fid), ("level", spec.level), ("area", spec.area),
                       ("ref", spec.ref)):
        if (key, value) not in rep.user_properties:
            rep.user_properties.append((key, value))
    record = _record_for(state, item, spec, fid)
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        failure: CheckFailure | None = None
        if call.excinfo is not None and isinstance(call.excinfo.value, CheckFailure):
            failure = call.excinfo.value
        if rep.skipped:
            record["outcome"] = "skipped"
            record["skip_reason"] = _skip_reason(rep)
        elif rep.failed:
            record["outcome"] = "failed" if rep.when == "call" else "error"
            record["message"] = _message(call, failure)
            if failure is not None:
                record["failure"] = failure.to_dict()
            ex = failure.exchange if failure is not None and failure.exchange is not None else (
                state.current[-1] if state.current else None)
            record["exchange"] = ex.to_dict() if ex is not None else None
            record["exchanges"] = [e.to_dict(max_body=1500) for e in state.current[-4:]]
            dev = devmod.find(state.deviations, spec.id, fid)
            if dev is not None and not dev.expired():
                record["outcome"] = "deviation"
                record["deviation"] = dev.to_dict()
                rep.outcome = "skipped"
                rep.wasxfail = f"deviation: {dev.reason}"  # type: ignore[attr-defined]
            elif dev is not None:
                record["deviation"] = dev.to_dict()
                record["message"] = f"deviation expired on {dev.expires}: {dev.reason}\n" + record["message"]
                rep.sections.append(("kapacitor-conformance", f"deviation for {dev.check} expired on {dev.expires}"))
        else:
            record["outcome"] = "passed"
        record["duration"] = round(rep.duration, 4)
    if rep.when == "teardown":
        notes = state.notes.get(item.nodeid) or []
        record["notes"] = list(notes)
        for n in notes:
            rep.user_properties.append(("note", n))
        if rep.failed and record.get("outcome") in (None, "passed"):
            record["outcome"] = "error"
            record["message"] = str(rep.longrepr)[-2000:]
        if record.get("outcome") is None:
            record["outcome"] = "skipped"


def _record_for(state: RunState, item: pytest.Item, spec: CheckSpec, fid: str) -> dict[str, Any]:
    for old in reversed(state.results[-3:]):
        if old["nodeid"] == item.nodeid:
            return old
    rec: dict[str, Any] = {
        "nodeid": item.nodeid, "check": spec.id, "full_id": fid, "level": spec.level, "area": spec.area,
        "ref": spec.ref, "title": spec.title, "optional": spec.area in OPTIONAL_AREAS, "outcome": None,
        "message": "", "failure": None, "exchange": None, "exchanges": [], "notes": [], "deviation": None,
        "skip_reason": None, "duration": 0.0,
    }
    state.results.append(rec)
    return rec


def _skip_reason(rep: pytest.TestReport) -> str:
    lr = rep.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2]).removeprefix("Skipped: ")
    return str(lr)


def _message(call: pytest.CallInfo[Any], failure: CheckFailure | None) -> str:
    if failure is not None:
        return failure.render()
    if call.excinfo is None:
        return ""
    text = call.excinfo.exconly()
    return text if len(text) < 3000 else text[:3000] + "..."


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    wasxfail = getattr(report, "wasxfail", "")
    if report.when == "call" and report.skipped and str(wasxfail).startswith("deviation:"):
        return "deviation", "D", ("DEVIATION", {"yellow": True})
    return None


# -- end of run -----------------------------------------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if not state.active:
        return
    _cleanup(state)
    if state.mock is not None:
        with contextlib.suppress(Exception):
            state.mock.stop()
        state.mock = None
    summary = report.summarize(state.results)
    state.summary = summary
    meta = _meta(state, exitstatus)
    doc = report.document(meta, summary, state.results, state.deviations)
    s = state.settings
    if s.report_json:
        report.write_json(doc, s.report_json)
    if s.report_html:
        report.write_html(doc, s.report_html)
    # Exit status: 0 only when every MUST passed (SHOULD failures and deviations do not count).
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if summary["must_failed"] else pytest.ExitCode.OK


def _meta(state: RunState, exitstatus: int) -> dict[str, Any]:
    s = state.settings
    suite = state.suite
    return {
        "target": s.target or (suite.url if suite else None),
        "embedded_mock": s.target is None,
        "version": suite.version_header if suite else None,
        "profile": s.profile,
        "quick": s.quick,
        "read_only": s.read_only,
        "allow_writes": s.allow_writes,
        "allow_config_writes": s.allow_config_writes,
        "areas": sorted(s.areas) if s.areas else None,
        "checks": list(s.checks),
        "seed": s.seed,
        "prefix": suite.prefix if suite else None,
        "requests": suite.client.count if suite else 0,
        "started": state.started,
        "duration": round(time.time() - state.started, 2),
        "cleanup_errors": state.cleanup_errors,
        "target_notes": list(suite.registry.notes) if suite else [],
        "pytest_exit": int(exitstatus),
        "setup_error": state.setup_error,
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if not state.active or state.summary is None or not state.results:
        return
    meta = _meta(state, exitstatus)
    for line in report.terminal_lines(meta, state.summary, state.results):
        terminalreporter.write_line(line)
