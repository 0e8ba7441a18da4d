"""The pytest plugin: options, markers, the target fixture, result collection, the verdict and reports.

Loaded with `-p conformance.plugin` (the CLI does this), through the `pytest11` entry point when
installed, or by `conformance/conftest.py` when run from a checkout (the check modules are in
`conformance/areas/`). It stays inert in pytest runs that collect no conformance checks.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import about, guard, parallel, report, selection
from conformance import compare as comparemod
from conformance import deviations as devmod
from conformance.checks import AREAS, OPTIONAL_AREAS, CheckFailure, CheckSpec, id_matches
from conformance.context import PROFILES, Kap, Settings, Suite
from conformance.pools import Pools
from conformance.resources import Registry
from conformance.target import Client, Exchange
from conformance.verdict import Outcome, TargetUnusable, Verdict, decide
from conformance.world import World

_STATE_KEY = pytest.StashKey["RunState"]()
#: The verdict of the last run in this process (the CLI reads it and prints the line itself).
LAST_VERDICT: list[Verdict] = []
#: Set by the CLI: it prints the verdict line after pytest returns, so it is the very last line.
CLI_PRINTS_VERDICT: list[bool] = []


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
    #: Set by the preflight or the first ping: the run ends TARGET UNUSABLE (exit 3) with this line.
    unusable: str | None = None
    usage_error: str | None = None
    #: "SIGINT"/"SIGTERM" once a signal arrived (the run is INTERRUPTED whatever pytest says).
    signal: str | None = None
    collect_errors: int = 0
    fail_on: str = "must"
    strict_deviations: bool = False
    unknown_deviations: list[str] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    baseline_path: str | None = None
    list_checks: bool = False
    list_format: str = "text"
    last_failed: bool = False
    verdict: Verdict | None = None
    #: pytest-xdist worker: the URL of the one target every worker shares (the controller's mock).
    shared_url: str | None = None
    #: Collection index of each selected check (a controller orders the merged results by it).
    order: dict[str, int] = field(default_factory=dict)
    #: pytest-xdist controller: what each worker reported when it finished (`parallel.pack`).
    workers: list[dict[str, Any]] = field(default_factory=list)
    #: pytest-xdist controller: the merged facts of the workers' suites (URL, version, requests, ...).
    facts: dict[str, Any] | None = None
    #: pytest-xdist controller: the run prefix line was printed (once, not per worker).
    workers_told: bool = False
    #: An xdist worker of a run whose target the controller found unusable: it runs no check.
    skip_all: bool = False
    guard: Any = None


OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--target",), dict(default=None, metavar="URL",
                         help="URL of the Kapacitor server to check (default: $KAPACITOR_URL, else the embedded mock)")),
    (("--auth",), dict(default=None, metavar="USER:PASSWORD",
                       help="HTTP basic credentials for a target with auth enabled (default: $KAPACITOR_AUTH)")),
    (("--profile",), dict(default="kapacitor", choices=PROFILES,
                          help="kapacitor: real-server behaviour passes where docs disagree; docs: the letter of the docs")),
    (("--quick",), dict(action="store_true", default=False, help="fewer generated examples (CI gate)")),
    (("--seed",), dict(default=None, type=int, metavar="N", help="hypothesis seed (printed on every run)")),
    (("--areas",), dict(default=None, metavar="A,B", help=f"comma-separated areas to run: {', '.join(AREAS)}")),
    (("--check",), dict(action="append", default=[], dest="kcf_checks", metavar="GLOB",
                        help="run only checks whose id matches GLOB (repeatable; `[` is literal)")),
    (("--rerun-failures",), dict(default=None, metavar="REPORT.json",
                                 help="run exactly the checks that failed in an earlier --report-json file")),
    (("--read-only",), dict(action="store_true", default=False, help="run only checks that cannot change state")),
    (("--allow-writes",), dict(action="store_true", default=False, help="allow writing points (/write)")),
    (("--allow-config-writes",), dict(action="store_true", default=False,
                                      help="allow config override set/delete round-trips and other server-wide settings")),
    (("--deviations",), dict(default=None, metavar="FILE", help="YAML file of accepted deviations")),
    (("--strict-deviations",), dict(action="store_true", default=False,
                                    help="a deviation entry that matches no check of the suite is a usage error")),
    (("--fail-on",), dict(default="must", choices=("must", "should"),
                          help="which failed level fails the run: must (default) or should (MUST and SHOULD)")),
    (("--baseline",), dict(default=None, metavar="OLD.json",
                           help="fail only for checks that passed in this earlier report and fail now; list fixed ones")),
    (("--report-json",), dict(default=None, metavar="FILE", help="write the JSON result file")),
    (("--report-html",), dict(default=None, metavar="FILE", help="write the self-contained HTML report")),
    (("--list-checks",), dict(action="store_true", default=False,
                              help="print every check id with level, area and reference; run nothing")),
    (("--format",), dict(default="text", choices=("text", "json"), dest="kcf_format",
                         help="output format of --list-checks")),
    (("--mock-version",), dict(default=None, metavar="V",
                               help="Kapacitor version the embedded mock imitates (only without --target)")),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("kapacitor-conformance", "Kapacitor API conformance")
    for names, kwargs in OPTIONS:
        g.addoption(*names, **kwargs)
    g.addoption("--fuzz", default="safe", choices=("safe", "aggressive"),
                help="safe (default): generated input never carries a known crash trigger "
                     "(conformance/crashers.py); aggressive: send them too (may crash the target)")
    guard.add_options(g)  # transport: --timeout, --max-time, --max-body, --force (conformance/guard.py)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """`pytest --pyargs conformance` from a checkout: pytest looks for conftests in `./conformance`
    (the checkout) although the package is imported from site-packages, and the two `conformance.conftest`
    modules clash (ImportPathMismatchError). Point the early conftest search at the imported package."""
    ns = early_config.known_args_namespace
    if not getattr(ns, "pyargs", False):
        return
    import conformance

    pkg = Path(conformance.__file__).resolve().parent
    paths = list(getattr(ns, "file_or_dir", None) or [])
    for i, arg in enumerate(paths):
        name = str(arg).split("::", 1)[0]
        if name == "conformance" or name.startswith("conformance."):
            rest = name.split(".")[1:]
            target = pkg.joinpath(*rest[:-1], rest[-1] + ".py") if rest else pkg
            if target.exists():
                paths[i] = str(target)
    ns.file_or_dir = paths


def _settings(config: pytest.Config) -> Settings:
    target = config.getoption("--target") or os.environ.get("KAPACITOR_URL") or None
    areas_opt = config.getoption("--areas")
    areas = None
    if areas_opt:
        areas = frozenset(a.strip() for a in areas_opt.split(",") if a.strip())
        unknown = sorted(areas - set(AREAS))
        if unknown:
            hints = "; ".join(f"{a!r}{selection.did_you_mean(a, AREAS)}" for a in unknown)
            raise pytest.UsageError(f"--areas: unknown area {hints}; known: {', '.join(AREAS)}")
        if not areas:
            raise pytest.UsageError(f"--areas {areas_opt!r} names no area; known: {', '.join(AREAS)}")
    seed = config.getoption("--seed")
    if seed is None:
        env_seed = os.environ.get("KAPACITOR_CONFORMANCE_SEED")
        try:
            seed = int(env_seed) if env_seed else secrets.randbelow(2**31)
        except ValueError as exc:
            raise pytest.UsageError(f"KAPACITOR_CONFORMANCE_SEED={env_seed!r} is not an integer") from exc
    embedded = target is None
    checks = list(config.getoption("kcf_checks") or ())
    rerun = config.getoption("--rerun-failures")
    if rerun:
        try:
            failed = selection.failed_in_report(rerun)
        except selection.SelectionError as exc:
            raise pytest.UsageError(f"--rerun-failures: {exc}") from exc
        if not failed:
            raise pytest.UsageError(f"--rerun-failures: {rerun} lists no failed check; nothing to rerun")
        checks += failed
    return Settings(
        target=target,
        profile=config.getoption("--profile"),
        read_only=config.getoption("--read-only"),
        quick=config.getoption("--quick"),
        # The embedded mock is this run's own throwaway server: opt-in writes are safe there.
        allow_writes=config.getoption("--allow-writes") or embedded,
        allow_config_writes=config.getoption("--allow-config-writes") or embedded,
        areas=areas,
        checks=tuple(checks),
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
    settings.target = guard.configure(config, settings.target)  # URL check (usage error), prefix, stop hooks
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
    state.fail_on = config.getoption("--fail-on")
    state.strict_deviations = config.getoption("--strict-deviations")
    state.list_checks = config.getoption("--list-checks")
    state.list_format = config.getoption("kcf_format")
    state.last_failed = bool(getattr(config.option, "lf", False))
    baseline = config.getoption("--baseline")
    if baseline:
        try:
            state.baseline = selection.load_report(baseline)
        except selection.SelectionError as exc:
            raise pytest.UsageError(f"--baseline: {exc}") from exc
        state.baseline_path = baseline
    if state.list_checks:
        config.option.collectonly = True
    # Started by our command: a conformance run even if it ends before collection (a signal, say).
    state.active = bool(CLI_PRINTS_VERDICT)
    shared = (getattr(config, "workerinput", None) or {}).get(parallel.KEY)
    if shared:  # a pytest-xdist worker: the controller's seed, a prefix of its own, the shared target
        settings.seed = int(shared["seed"])
        guard.of(config).prefix = str(shared["prefix"])
        state.shared_url = shared.get("url")
        state.skip_all = bool(shared.get("unusable"))
        state.active = state.active or bool(shared.get("cli"))
    state.guard = guard.of(config)
    config.stash[_STATE_KEY] = state


def _configure_hypothesis(settings: Settings) -> None:
    try:
        from hypothesis import HealthCheck, Phase, core
        from hypothesis import settings as hsettings
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        return
    # No shrinking, no second bug: a target keeps state between examples, so a "smaller" example
    # does not replay the server state that failed, and the first failing exchange is what the
    # report shows anyway. Hypothesis then stops at the first failure instead of searching on.
    common: dict[str, Any] = dict(
        deadline=None,
        database=None,
        print_blob=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        report_multiple_bugs=False,
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
    everything: list[selection.Listed] = []
    chosen: list[selection.Listed] = []
    for item in items:
        spec = spec_of(item)
        if spec is None:
            keep.append(item)
            continue
        state.active = True
        fid = full_id(item, spec)
        listed = selection.Listed(spec.id, fid, spec.level, spec.area, spec.ref, spec.title)
        everything.append(listed)
        if s.areas is not None and spec.area not in s.areas:
            dropped.append(item)
            continue
        if s.checks and not any(id_matches(g, spec.id, fid) for g in s.checks):
            dropped.append(item)
            continue
        chosen.append(listed)
        item.extra_keyword_matches.add(spec.id)
        if s.read_only and spec.mutates:
            item.add_marker(pytest.mark.skip(reason="--read-only: this check changes server state"))
        for req in spec.requires:
            if req == "writes" and not s.allow_writes:
                item.add_marker(pytest.mark.skip(reason="writing points is opt-in: pass --allow-writes"))
            if req == "config-writes" and not s.allow_config_writes:
                item.add_marker(pytest.mark.skip(reason="config writes are opt-in: pass --allow-config-writes"))
        keep.append(item)
    if not state.active:
        return
    if session.testsfailed:  # a check module failed to import: that error (exit 6) comes first
        return
    try:
        _check_selection(state, everything, chosen)
    except pytest.UsageError:
        if not parallel.is_worker(config):
            raise
        # An xdist worker cannot end the run with a usage error: it runs nothing, and the controller
        # reports the message (state.usage_error) with the usage-error verdict.
        state.skip_all = True
    if state.skip_all:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
        return
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    state.order = {item.nodeid: i for i, item in enumerate(items)}
    if state.list_checks:
        out = selection.render_list(chosen, state.list_format, about.tool_info())
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
        items[:] = []
        return
    _install_signal_handlers(state)
    _configure_hypothesis(s)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Install the signal handlers again, last: whoever else set one, the signal is recorded here."""
    state = _state(session.config)
    if state.active and session.items and not state.list_checks:
        _install_signal_handlers(state)


def _check_selection(state: RunState, everything: list[selection.Listed], chosen: list[selection.Listed]) -> None:
    """Every selector must select something; a deviation entry must name a check of the suite."""
    s = state.settings
    ids = {c.check for c in everything}
    devs = [d for d in state.deviations if not any(d.matches(c.check, c.full_id) for c in everything)]
    state.unknown_deviations = [f"{d.check!r}{selection.did_you_mean(d.check, ids)}" for d in devs]
    if devs and state.strict_deviations:
        _usage(state, "--strict-deviations: deviation entr" + ("y" if len(devs) == 1 else "ies")
                                + " matching no check of the suite: " + ", ".join(state.unknown_deviations))
    pool = [c for c in everything if s.areas is None or c.area in s.areas]
    missing = selection.unmatched_globs(s.checks, pool)
    if missing:
        lf = " (with --lf only the checks that failed last time are collected)" if state.last_failed else ""
        _usage(state, selection.explain_unmatched(missing, everything, bool(chosen)) + lf)
    if not chosen:
        what = f"--areas {','.join(sorted(s.areas))}" if s.areas else "the selection"
        _usage(state, f"{what} selects no check (use --list-checks to see every check id)")


def _usage(state: RunState, message: str) -> None:
    state.usage_error = message
    raise pytest.UsageError(message)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not any("conformance" in str(a) for a in config.args):
        return []
    state = _state(config)
    s = state.settings
    info = about.tool_info()
    return [
        f"kapacitor-conformance {info['tool_version']} (spec {info['spec_version']}, "
        f"sha256 {info['spec_sha256'][:12]}): target={s.target or 'embedded mock'} profile={s.profile} "
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
    return serve_in_thread(create_app(MockConfig(**kwargs)))


def _build_suite(state: RunState, config: pytest.Config) -> Suite:
    """Start (or reach) the target; TargetUnusable when running the checks would be pointless."""
    s = state.settings
    if s.target is None and state.shared_url:
        url = state.shared_url  # an xdist worker: the controller serves the embedded mock
    elif s.target is None:
        state.mock = _start_embedded_mock(s.mock_version)
        url = state.mock.url
    else:
        url = s.target
    auth = state.auth
    client = Client(url, auth=tuple(auth.split(":", 1)) if auth else None)  # type: ignore[arg-type]
    client.listeners.append(state.current.append)
    prefix = guard.of(config).prefix  # printed before the first check
    suite = Suite(settings=s, client=client, registry=Registry(client, prefix), prefix=prefix,
                  embedded=s.target is None)
    guard.attach(config, suite)  # request deadline, body cap, --max-time gate
    ex = suite.probe_version()
    if ex.error:
        raise TargetUnusable(f"target {url} is not reachable: {ex.error}")
    if ex.status in (401, 403):  # every check would fail the same way: say so once
        hint = "the credentials were rejected" if auth else "pass --auth USER:PASSWORD"
        raise TargetUnusable(f"target {url} requires authentication (ping answered {ex.status}): {hint}")
    return suite


@pytest.fixture(scope="session")
def kapacitor(request: pytest.FixtureRequest) -> Iterator[Suite]:
    state = _state(request.config)
    if state.suite is None:
        try:
            state.suite = _build_suite(state, request.config)
        except Exception as exc:
            # Ours, or the preflight's own TargetUnusable: either way nothing usable answers there.
            if not isinstance(exc, (TargetUnusable, pytest.UsageError)) and type(exc).__name__ != "TargetUnusable":
                raise
            state.unusable = getattr(exc, "message", None) or str(exc)
            state.setup_error = state.unusable
            pytest.exit(state.unusable, returncode=int(Outcome.TARGET_UNUSABLE))
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


def _install_signal_handlers(state: RunState) -> None:
    """SIGINT and SIGTERM both interrupt the run the way Ctrl-C does, so cleanup runs through pytest's
    normal teardown path: also when the process started with SIGINT ignored (a background job)."""
    def handler(signum: int, frame: Any) -> None:
        if state.signal is None:
            state.signal = signal.Signals(signum).name
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not in the main thread
            signal.signal(sig, handler)


def _cleanup(state: RunState) -> None:
    if state.cleaned or state.suite is None:
        return
    state.cleaned = True
    suite = state.suite
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def remember(signum: int, frame: Any) -> None:  # a second signal must not abort the cleanup
        if state.signal is None:
            state.signal = signal.Signals(signum).name

    for sig in old:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, remember)
    try:
        state.cleanup_errors.extend(suite.registry.cleanup())
        state.cleanup_errors.extend(suite.registry.sweep())
    finally:
        for sig, handler in old.items():
            with contextlib.suppress(ValueError, TypeError, OSError):
                signal.signal(sig, handler)


# -- results --------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _state(item.config)
    state.current.clear()


#: Exceptions that mean "the target answered wrongly", as opposed to a crash of the suite's own code.
_TARGET_CAUSED: tuple[type[BaseException], ...] = (AssertionError, pytest.fail.Exception)


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
            if rep.when == "setup":
                exc = call.excinfo.value if call.excinfo is not None else None
                record["error_kind"] = "target" if isinstance(exc, _TARGET_CAUSED) or _transport(exc) else "suite"
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
                rep.wasxfail = f"deviation: {dev.reason}"
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
            record["error_kind"] = "suite"
            record["message"] = str(rep.longrepr)[-2000:]
        if record.get("outcome") is None:
            record["outcome"] = "skipped"
            record["skip_reason"] = record.get("skip_reason") or "did not run"


def _transport(exc: BaseException | None) -> bool:
    """The target's transport failed (connection reset, timeout): its fault, not the suite's."""
    if exc is None:
        return False
    from conformance.target import TransportError

    return isinstance(exc, (TransportError, ConnectionError, TimeoutError))


def _record_for(state: RunState, item: pytest.Item, spec: CheckSpec, fid: str) -> dict[str, Any]:
    for old in state.results[:-4:-1]:  # the last three, newest first
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
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Clean up, decide the verdict and write every report before JUnit and the terminal summary."""
    state = _state(session.config)
    if state.list_checks and state.active and not state.usage_error:
        session.exitstatus = pytest.ExitCode.OK
        return
    config = session.config
    worker = parallel.is_worker(config) and bool(config.workerinput.get(parallel.KEY))  # type: ignore[attr-defined]
    if parallel.is_controller(config) and state.workers:
        parallel.merge(state, state.guard)
        if state.usage_error:  # a serial run prints it as pytest's usage error
            guard._say(config, f"ERROR: {state.usage_error}")
    if not state.active and not worker:
        _stop_mock(state)
        return
    if int(exitstatus) == pytest.ExitCode.INTERRUPTED and state.signal is None and session.testsfailed \
            and not any(r.get("outcome") for r in state.results):
        state.collect_errors = session.testsfailed  # "N errors during collection": the suite is broken
    _cleanup(state)
    _stop_mock(state)
    if worker:  # the controller decides the verdict and writes every report
        config.workeroutput[parallel.KEY] = parallel.pack(state, _stop_reason(config))  # type: ignore[attr-defined]
        return
    summary = report.summarize(state.results)
    verdict = _decide(state, summary, int(exitstatus), _stop_reason(session.config))
    summary["passed"] = verdict.outcome is Outcome.PASS
    summary["partial"] = verdict.partial
    state.summary = summary
    state.verdict = verdict
    LAST_VERDICT[:] = [verdict]
    meta = _meta(state, int(exitstatus))
    doc = report.document(meta, summary, state.results, state.deviations, verdict=verdict.to_dict(),
                          baseline=_baseline_doc(state))
    secrets_ = _secrets(state)
    s = state.settings
    if s.report_json:
        report.write_json(report.scrub(doc, secrets_), s.report_json)
    if s.report_html:
        report.write_html(report.scrub(doc, secrets_), s.report_html)
    _junit_properties(session.config, verdict, meta)
    session.exitstatus = verdict.code


def _stop_mock(state: RunState) -> None:
    if state.mock is not None:
        with contextlib.suppress(Exception):
            state.mock.stop()
        state.mock = None


# -- pytest-xdist (conformance/parallel.py) -----------------------------------------------------------
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: Any) -> None:
    """Controller: an explicit --target is checked once, before any worker starts (exit 3 if unusable)."""
    state = _state(config)
    if (CLI_PRINTS_VERDICT or parallel.names_conformance(config)) and not state.list_checks:
        state.unusable = guard.check_target(config, exit=False)  # the workers then run nothing


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller: hand each worker the seed, its own prefix and the one target all of them share."""
    config = node.config
    state = _state(config)
    if not (CLI_PRINTS_VERDICT or parallel.names_conformance(config)):
        return
    s = state.settings
    if s.target is None and state.mock is None:
        state.mock = _start_embedded_mock(s.mock_version)
    prefix = guard.of(config).prefix
    if not state.workers_told:
        state.workers_told = True
        guard._say(config, f"kapacitor-conformance: run prefix {prefix} (every object of this run carries it; "
                           f"leftovers of a killed run: kapacitor-conformance cleanup --target "
                           f"{s.target or 'URL'} --prefix {prefix})")
    node.workerinput[parallel.KEY] = parallel.worker_input(
        seed=s.seed, prefix=prefix, worker=node.gateway.id, url=state.mock.url if state.mock else None,
        cli=bool(CLI_PRINTS_VERDICT), unusable=state.unusable)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    out = parallel.unpack(node)
    if out is not None:
        _state(node.config).workers.append(out)


def _stop_reason(config: pytest.Config) -> tuple[str, str] | None:
    """Why the transport layer (conformance/guard.py, when present) stopped the run early."""
    import importlib

    try:
        guard = importlib.import_module("conformance.guard")
    except ImportError:
        return None
    reason = guard.stop_reason(config)
    return (str(reason[0]), str(reason[1])) if reason else None


def _decide(state: RunState, summary: dict[str, Any], exitstatus: int,
            stopped: tuple[str, str] | None = None) -> Verdict:
    if state.unusable is None and exitstatus == Outcome.TARGET_UNUSABLE and state.setup_error:
        state.unusable = state.setup_error  # pytest.exit(returncode=3) from the preflight
    # The transport guard stops a run (dead target, --max-time) through pytest's shouldstop, which
    # pytest reports as INTERRUPTED: that is a stop with its own verdict, not a signal.
    interrupted = state.signal is not None or (
        exitstatus == pytest.ExitCode.INTERRUPTED and not state.collect_errors and stopped is None)
    internal = None
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR and not state.unusable:
        internal = "pytest INTERNALERROR (see the traceback above)"
    elif exitstatus == pytest.ExitCode.INTERRUPTED and state.collect_errors and state.signal is None:
        internal = f"{state.collect_errors} error(s) while collecting the checks"
    regressions = None
    if state.baseline is not None:
        levels = ("MUST", "SHOULD") if state.fail_on == "should" else ("MUST",)
        regressions = len(_baseline_changes(state).gating(levels))
    usage = None
    if exitstatus == pytest.ExitCode.USAGE_ERROR or (state.usage_error and state.workers):
        usage = state.usage_error or "usage error (see the message above)"
    elif exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and not state.unusable:
        usage = "no check selected (-k or -m deselected every check?)"
    return decide(summary, state.results, interrupted=interrupted, unusable=state.unusable, usage_error=usage,
                  internal_error=internal, fail_on_should=state.fail_on == "should",
                  baseline_regressions=regressions, stopped_early=stopped[1] if stopped else None)


def _baseline_changes(state: RunState) -> comparemod.Changes:
    assert state.baseline is not None
    return comparemod.diff(state.baseline, {"run": {**about.tool_info(), "target": state.settings.target,
                                                    "profile": state.settings.profile},
                                            "results": state.results})


def _baseline_doc(state: RunState) -> dict[str, Any] | None:
    if state.baseline is None:
        return None
    return {"file": state.baseline_path, **_baseline_changes(state).to_dict()}


def _secrets(state: RunState) -> list[str]:
    out = []
    if state.auth:
        out.append(state.auth)
        _user, _, password = state.auth.partition(":")
        if len(password) >= 6:  # shorter ones ("admin") would mask ordinary words everywhere
            out.append(password)
    if state.suite is not None:
        out.append(state.suite.secret)
    if state.facts is not None:
        out += state.facts["secrets"]
    return out


def _junit_properties(config: pytest.Config, verdict: Verdict, meta: dict[str, Any]) -> None:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - private API moved
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    xml.add_global_property("kapacitor_conformance_verdict", verdict.outcome.label)
    xml.add_global_property("kapacitor_conformance_exit_code", str(verdict.code))
    for key in ("tool_version", "spec_version", "spec_sha256"):
        xml.add_global_property(f"kapacitor_conformance_{key}", str(meta.get(key)))


def _meta(state: RunState, exitstatus: int) -> dict[str, Any]:
    s = state.settings
    suite = state.suite
    facts = state.facts or {}
    return {
        **about.tool_info(),
        "target": s.target or (suite.url if suite else facts.get("url")),
        "embedded_mock": s.target is None,
        "version": suite.version_header if suite else facts.get("version"),
        "profile": s.profile,
        "quick": s.quick,
        "read_only": s.read_only,
        "allow_writes": s.allow_writes,
        "allow_config_writes": s.allow_config_writes,
        "areas": sorted(s.areas) if s.areas else None,
        "checks": list(s.checks),
        "fail_on": state.fail_on,
        "seed": s.seed,
        "prefix": suite.prefix if suite else (_run_prefix(state) if facts else None),
        "requests": suite.client.count if suite else facts.get("requests", 0),
        "started": state.started,
        "duration": round(time.time() - state.started, 2),
        "cleanup_errors": state.cleanup_errors,
        "target_notes": list(suite.registry.notes) if suite else list(facts.get("target_notes", [])),
        "unknown_deviations": state.unknown_deviations,
        "stale_deviations": _stale_deviations(state),
        "interrupted_by": state.signal,
        "pytest_exit": int(exitstatus),
        "setup_error": state.setup_error,
    }


def _run_prefix(state: RunState) -> str | None:
    g = state.guard
    return g.prefix if g is not None else None


def _stale_deviations(state: RunState) -> list[str]:
    """Entries that matched checks of this run, none of which needed excusing (fixed, perhaps)."""
    out = []
    for d in state.deviations:
        hit = [r for r in state.results if d.matches(r["check"], r["full_id"])]
        if hit and all(r.get("outcome") in ("passed", "skipped") for r in hit) and \
                any(r.get("outcome") == "passed" for r in hit):
            out.append(d.check)
    return out


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if not state.active or state.summary is None or state.list_checks:
        return
    if state.verdict is not None and state.verdict.outcome in (Outcome.USAGE_ERROR, Outcome.TARGET_UNUSABLE):
        return  # nothing ran: the one line that says why is enough
    meta = _meta(state, exitstatus)
    baseline = _baseline_doc(state)
    for line, markup in report.terminal_styled(meta, state.summary, state.results,
                                               verdict=state.verdict.to_dict() if state.verdict else None,
                                               baseline=baseline):
        terminalreporter.write_line(line, **markup)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The verdict line, printed last (after pytest's own summary line)."""
    if _STATE_KEY not in config.stash:
        return
    state = _state(config)
    if state.verdict is None or state.list_checks or CLI_PRINTS_VERDICT:
        return
    report.print_verdict_line(state.verdict.line(), state.verdict.outcome is Outcome.PASS, config)
