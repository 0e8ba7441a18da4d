"""The suite's contact with the target, run-wide: options, preflight, run prefix, and when to stop.

`plugin.py` calls in here at four points (options, configure, building the suite, end of session);
everything else is a pytest plugin object of its own, registered at configure time:

* before the first check: print the run prefix, then the preflight of an explicit `--target`
  (usage error → exit 4 already at configure time; unusable target → exit 3);
* between checks: stop the run when the target stopped answering (one finding, verdict FAIL) or
  when `--max-time` passed (verdict INCOMPLETE);
* at the end: that finding goes first in the results, and the exit status says what happened.

The verdict code reads `stop_reason(config)`: None, or (`"target-stopped"` | `"max-time"`, text).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance import preflight
from conformance.context import bulk_request
from conformance.resources import new_prefix
from conformance.target import DEFAULT_MAX_BODY

_KEY = pytest.StashKey["Guard"]()
#: Exit status of an unusable target (the table is in verdict.py; cli/--help documents it).
EXIT_UNUSABLE = 3
#: After --max-time, the check in progress gets this long to finish before its requests are refused.
GRACE = 30.0
TARGET_STOPPED, MAX_TIME = "target-stopped", "max-time"


@dataclass
class Guard:
    target: str | None
    timeout: float
    max_body: int
    max_time: float | None
    force: bool
    prefix: str = field(default_factory=new_prefix)
    started: float = field(default_factory=time.monotonic)
    suite: Any = None
    stopped: tuple[str, str] | None = None
    #: The ping warning already printed (a controller and its workers print it once).
    ping_warning: str | None = None

    def deadline_passed(self, grace: float = 0.0) -> bool:
        return self.max_time is not None and time.monotonic() - self.started > self.max_time + grace


# -- plugin.py call points --------------------------------------------------------------------------
def add_options(group: Any) -> None:
    # `--timeout` belongs to pytest-timeout when it is installed; the CLI maps its own --timeout here.
    group.addoption("--request-timeout", type=float, default=15.0, metavar="SECONDS", dest="kcf_timeout",
                    help="total deadline of one request: connect, headers and body (default 15; "
                         "kapacitor-conformance --timeout)")
    group.addoption("--max-time", type=float, default=None, metavar="SECONDS",
                    help="stop the run after SECONDS, clean up, verdict INCOMPLETE")
    group.addoption("--max-body", default=str(DEFAULT_MAX_BODY), metavar="BYTES",
                    help="largest response body read (e.g. 8M); a larger one is the finding 'response too large'")
    group.addoption("--force", action="store_true", default=False,
                    help="run the checks even if the target's ping does not look like Kapacitor")


def configure(config: pytest.Config, target: str | None) -> str | None:
    """Validate the options and the URL (usage errors, exit 4); returns the cleaned target URL."""
    if target is not None:
        try:
            target = preflight.check_url(target)
        except preflight.BadTargetURL as exc:
            raise pytest.UsageError(str(exc)) from exc
    timeout = float(config.getoption("kcf_timeout"))
    if not 0 < timeout <= 3600:
        raise pytest.UsageError("--timeout (--request-timeout) takes seconds between 0 and 3600")
    max_time = config.getoption("--max-time")
    if max_time is not None and max_time <= 0:
        raise pytest.UsageError("--max-time takes a positive number of seconds")
    try:
        max_body = parse_size(str(config.getoption("--max-body")))
    except ValueError as exc:
        raise pytest.UsageError(f"--max-body: {exc}") from exc
    guard = Guard(target, timeout, max_body, max_time, bool(config.getoption("--force")))
    config.stash[_KEY] = guard
    config.pluginmanager.register(_Hooks(guard), "kapacitor-conformance-guard")
    return target


def of(config: pytest.Config) -> Guard:
    return config.stash[_KEY]


def attach(config: pytest.Config, suite: Any) -> None:
    """The suite was built: bound its client and refuse requests once the run must stop."""
    guard = of(config)
    guard.suite = suite
    client = suite.client
    client.timeout = guard.timeout
    client.max_body = guard.max_body
    client.head_only = bulk_request

    def gate() -> None:
        if guard.deadline_passed(GRACE):
            pytest.skip(f"not finished: --max-time {guard.max_time:g}s passed")

    client.gate = gate


def stop_reason(config: pytest.Config) -> tuple[str, str] | None:
    """Why the run stopped early, for the verdict: (TARGET_STOPPED → FAIL | MAX_TIME → INCOMPLETE, text)."""
    guard = config.stash.get(_KEY, None)
    return guard.stopped if guard is not None else None


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)(?:i?[bB])?\s*", text)
    if not m:
        raise ValueError(f"{text!r} is not a size like 8388608, 512K or 8M")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]


# -- hooks ----------------------------------------------------------------------------------------
def _run_state(config: pytest.Config) -> Any:
    from conformance import plugin

    return plugin._state(config)


def check_target(config: pytest.Config, *, exit: bool = True) -> str | None:
    """The preflight of an explicit --target, before any check: when it fails, exit 3 (TARGET
    UNUSABLE), or with `exit=False` (an xdist controller, before its workers start) return the reason."""
    g = of(config)
    state = _run_state(config)
    if g.target is None:
        return None
    auth = state.auth.split(":", 1) if state.auth else None
    try:
        answer = preflight.probe(g.target, timeout=g.timeout, auth=tuple(auth) if auth else None,
                                 force=g.force)
    except preflight.TargetUnusable as exc:
        reason = f"target unusable: {exc}"
        state.setup_error = reason
        if not exit:
            _say(config, f"kapacitor-conformance: {reason}")
            return reason
        pytest.exit(f"kapacitor-conformance: target unusable: {exc}", returncode=EXIT_UNUSABLE)
    if answer.warning and g.ping_warning is None:
        g.ping_warning = answer.warning
        _say(config, f"kapacitor-conformance: WARNING {answer.warning}")
    return None


class _Hooks:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        state = _run_state(session.config)
        if not state.active or not session.items:
            return
        g = self.guard
        _stop_on_signals(g, session)
        _say(session.config, f"kapacitor-conformance: run prefix {g.prefix} (every object of this run carries it; "
                             f"leftovers of a killed run: kapacitor-conformance cleanup --target {g.target or 'URL'} "
                             f"--prefix {g.prefix})")
        if g.target is None or session.config.getoption("collectonly"):
            return
        check_target(session.config)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        _stop_on_signals(self.guard, item.session)  # again: the plugin's fixture installs its own
        yield
        g = self.guard
        if g.stopped is not None or g.suite is None:
            return
        health = g.suite.client.health
        if health.stopped:
            last = health.last_request
            text = health.stopped + (f"\nlast request: {last.curl()}" if last is not None else "")
            g.stopped = (TARGET_STOPPED, text)
            item.session.shouldstop = f"kapacitor-conformance: {health.stopped}"
        elif g.deadline_passed():
            g.stopped = (MAX_TIME, f"--max-time {g.max_time:g}s passed: the run stopped early; the verdict "
                                   "cannot be PASS")
            item.session.shouldstop = f"kapacitor-conformance: --max-time {g.max_time:g}s passed"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Any:
        g = self.guard
        state = _run_state(session.config)
        if g.stopped is not None and g.stopped[0] == TARGET_STOPPED and state.active:
            state.results.insert(0, finding(g))
        yield
        # The exit code is the verdict's (plugin.py reads stop_reason() and the signal it recorded).

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        g = self.guard
        if g.stopped is not None:
            terminalreporter.write_line(f"kapacitor-conformance: {g.stopped[1]}", red=True, bold=True)


def finding(g: Guard) -> dict[str, Any]:
    """The one result that stands for a target that stopped answering (instead of 100 follow-ons)."""
    assert g.stopped is not None and g.suite is not None
    last = g.suite.client.health.last_request
    return {
        "nodeid": "kapacitor-conformance::target-answers", "check": "target.answers",
        "full_id": "target.answers", "level": "MUST", "area": "target", "ref": "api",
        "title": "the target keeps answering for the whole run", "optional": False, "outcome": "failed",
        "message": g.stopped[1], "failure": {"what": g.suite.client.health.stopped, "expected": "an HTTP response",
                                             "actual": last.error if last is not None else "no answer", "ref": "api", "hint": "",
                                             "difference": ""},
        "exchange": last.to_dict() if last is not None else None,
        "exchanges": [last.to_dict(max_body=1500)] if last is not None else [], "notes": [], "deviation": None,
        "skip_reason": None, "duration": 0.0,
    }


def _stop_on_signals(guard: Guard, session: pytest.Session) -> None:
    """SIGTERM (and SIGINT, even when the process was started with it ignored) interrupt the run the
    way Ctrl-C does, so the cleanup always runs. The run also stops at the next check if some code
    under test swallowed the KeyboardInterrupt."""
    if signal.getsignal(signal.SIGTERM) is getattr(guard, "_handler", None):
        return

    def interrupt(signum: int, frame: Any) -> None:
        run = _run_state(session.config)
        if run is not None and getattr(run, "signal", None) is None:
            run.signal = signal.Signals(signum).name  # the verdict: INTERRUPTED, whatever pytest says
        session.shouldstop = f"interrupted by {signal.Signals(signum).name}"
        if guard.suite is not None:
            guard.suite.client.gate = _refuse
        raise KeyboardInterrupt

    guard._handler = interrupt  # type: ignore[attr-defined]
    with contextlib.suppress(ValueError):  # not in the main thread
        signal.signal(signal.SIGTERM, interrupt)
        if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.default_int_handler):
            signal.signal(signal.SIGINT, interrupt)


def _refuse() -> None:
    raise KeyboardInterrupt


def _say(config: pytest.Config, line: str) -> None:
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(line)
        tr.flush()  # a piped stdout must show the prefix now, not at the end
    else:
        with contextlib.suppress(OSError):
            os.write(2, (line + "\n").encode())
