"""`kapacitor-conformance`: the suite's command. Subcommands first (`compare`, ...), else a run.

A run is pytest with the plugin loaded and the installed `conformance` package selected, isolated
from the pytest configuration of the current directory. Any pytest option is passed through. The
plugin decides the verdict; this module prints its line last and exits with its code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from conformance.verdict import EXIT_CODES, Outcome

#: `python -m conformance` imports the package before pytest can mark it for assertion rewriting;
#: the checks raise their own failures, so that warning is noise.
_DEFAULTS = ["--tb=short", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
_NEEDS = ("pytest", "hypothesis", "schemathesis", "httpx")
_EXTRA_HINT = ("kapacitor-conformance: the conformance extra is not installed (missing: {missing}); "
               "run: pip install 'kapacitor-conformance[conformance]'")

EXAMPLES = """\
examples:
  kapacitor-conformance --quick                                   # check the embedded mock
  kapacitor-conformance --target http://kapacitor:9092 --report-html report.html --report-json run.json
  kapacitor-conformance --target http://kapacitor:9092 --baseline last-release.json --fail-on should
  kapacitor-conformance compare old.json new.json                 # what changed between two runs"""


def _compare(argv: Sequence[str]) -> int:
    from conformance import compare

    return compare.main(argv)


def _cleanup(argv: Sequence[str]) -> int:
    import importlib

    return int(importlib.import_module("conformance.sweep").main(argv))


#: Subcommands: name -> (one-line help, entry point taking the remaining arguments, returning the exit code).
SUBCOMMANDS: dict[str, tuple[str, Callable[[Sequence[str]], int]]] = {
    "compare": ("compare OLD.json NEW.json: per-check and per-area changes between two runs", _compare),
}
if importlib.util.find_spec("conformance.sweep") is not None:  # the transport layer's leftover sweeper
    SUBCOMMANDS["cleanup"] = ("cleanup --target URL [--prefix P | --older-than 1h]: remove leftovers of killed runs",
                              _cleanup)


def _missing_extras() -> list[str]:
    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):
            return True

    return [m for m in _NEEDS if absent(m)]


def _plugin_installed() -> bool:
    """True when the `pytest11` entry point already loads the plugin (then `-p` would register it twice)."""
    from importlib.metadata import entry_points

    return any(ep.value.split(":")[0] == "conformance.plugin" for ep in entry_points(group="pytest11"))


def _package_dir() -> Path:
    import conformance

    return Path(conformance.__file__).resolve().parent


def cache_dir() -> Path:
    """pytest's cache (for --lf/--ff) lives in the user's cache directory, never in site-packages."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kapacitor-conformance"


def build_args(argv: Sequence[str]) -> list[str]:
    args = list(argv)
    if importlib.util.find_spec("conformance.guard") is not None:
        # The tool's --timeout is the plugin's --request-timeout (pytest-timeout owns --timeout).
        args = ["--request-timeout" + a[len("--timeout"):] if a.split("=")[0] == "--timeout" else a for a in args]
    pkg = _package_dir()
    out = [] if _plugin_installed() else ["-p", "conformance.plugin"]
    # Our own ini and rootdir: the checkout's (or any project's) pytest configuration stays out, and
    # conftest.py is looked up only inside the package that is actually imported.
    out += ["-c", str(pkg / "kapacitor-conformance.ini"), "--rootdir", str(pkg.parent)]
    if "no:cacheprovider" not in args:
        out += ["-o", f"cache_dir={cache_dir()}"]
    if "--list-checks" in args:
        # The listing is the whole output (valid JSON with --format json); --tb belongs to the terminal.
        out += ["-p", "no:terminal", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    else:
        out += _DEFAULTS
    if "--pyargs" not in args:
        positional = [a for a in args if not a.startswith("-")]
        # Only add the package when the caller names no tests of its own (option values are kept).
        if not positional or all(_is_option_value(args, a) for a in positional):
            out += ["--pyargs", "conformance"]
    return out + args


def _is_option_value(args: list[str], value: str) -> bool:
    i = args.index(value)
    return i > 0 and args[i - 1].startswith("-") and "=" not in args[i - 1]


class _Options:
    """Records the options the plugin registers (its own table and any added by other modules)."""

    def __init__(self) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, object]]] = []

    def getgroup(self, *args: object, **kwargs: object) -> _Options:
        return self

    def addoption(self, *names: str, **kwargs: object) -> None:
        self.options.append((names, kwargs))


def tool_options() -> list[tuple[tuple[str, ...], dict[str, object]]]:
    from conformance import plugin

    rec = _Options()
    plugin.pytest_addoption(rec)  # type: ignore[arg-type]
    return rec.options


def help_text() -> str:
    lines = ["usage: kapacitor-conformance [options] [pytest options]",
             "       kapacitor-conformance SUBCOMMAND ...", "",
             "Checks how closely a Kapacitor HTTP API server (--target URL; default: the embedded mock)",
             "follows the documented API and the real server's behaviour, and ends in one verdict.", "",
             "options:"]
    for names, kw in tool_options():
        flag = ", ".join(names)
        if kw.get("metavar"):
            flag += f" {kw['metavar']}"
        elif isinstance(choices := kw.get("choices"), (list, tuple)):
            flag += " {" + ",".join(str(c) for c in choices) + "}"
        lines.append(f"  {flag:<34} {kw.get('help', '')}")
    lines += ["  --version                          tool version, spec version and known Kapacitor versions",
              "  -h, --help                         this help, then pytest's own options", "",
              "subcommands:"]
    lines += [f"  {name:<10} {doc}" for name, (doc, _) in SUBCOMMANDS.items()]
    lines += ["", "exit codes:"]
    lines += [f"  {int(o)}  {o.label:<16} {text}" for o, text in EXIT_CODES.items()]
    lines += ["", EXAMPLES, "", "Any pytest option works too (-k, -x, -q, --junitxml FILE, --lf, ...).",
              "Documentation: conformance/README.md.", ""]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _install_signals() -> None:
    """SIGINT and SIGTERM interrupt the run even when SIGINT was ignored at start (a background job)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(sig, _interrupt)


def _unknown_option_hint(argv: Sequence[str]) -> str:
    """`did you mean --target?` for a mistyped tool option (pytest already said it is unknown)."""
    import difflib

    ours = [n for names, _ in tool_options() for n in names] + ["--version", "--help"]
    hints = []
    for arg in argv:
        if not arg.startswith("--") or arg == "--":
            continue
        name = arg.split("=", 1)[0]
        if name in ours:
            continue
        close = difflib.get_close_matches(name, ours, n=1, cutoff=0.75)
        if close:
            hints.append(f"{name}: did you mean {close[0]}?")
    return "; ".join(hints)


def _fallback_code(code: int) -> Outcome:
    """pytest's own exit code when the plugin reached no verdict (it failed before or around the run)."""
    return {0: Outcome.PASS, 1: Outcome.FAIL, 2: Outcome.INTERRUPTED, 3: Outcome.INTERNAL_ERROR,
            4: Outcome.USAGE_ERROR, 5: Outcome.USAGE_ERROR}.get(code, Outcome.INTERNAL_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        return SUBCOMMANDS[args[0]][1](args[1:])
    if "--version" in args or "-V" in args:
        from conformance import about

        print(about.version_text())
        return 0
    missing = _missing_extras()
    if missing:
        print(_EXTRA_HINT.format(missing=", ".join(missing)), file=sys.stderr)
        return int(Outcome.USAGE_ERROR)
    if "-h" in args or "--help" in args:
        print(help_text())
        print("=" * 30 + " pytest's own options follow " + "=" * 30, flush=True)
        import pytest

        pytest.main([*build_args([]), "--help"])
        return 0
    _install_signals()
    try:
        import pytest

        from conformance import plugin

        plugin.CLI_PRINTS_VERDICT[:] = [True]
        plugin.LAST_VERDICT.clear()
        code = int(pytest.main(build_args(args)))
    except KeyboardInterrupt:  # a signal outside pytest's own handling (start-up, shutdown)
        code = int(Outcome.INTERRUPTED)
        from conformance import plugin
    if "--list-checks" in args and code in (0, int(Outcome.PASS)):
        return 0
    color = _color_option(args)
    if plugin.LAST_VERDICT:
        verdict = plugin.LAST_VERDICT[0]
        from conformance.report import print_verdict_line

        print_verdict_line(verdict.line(), verdict.outcome is Outcome.PASS, color)
        return verdict.code
    outcome = _fallback_code(code)
    if "--list-checks" in args and outcome is Outcome.PASS:
        return 0
    if outcome is Outcome.USAGE_ERROR:
        hint = _unknown_option_hint(args)
        if hint:
            print(f"kapacitor-conformance: {hint}", file=sys.stderr)
    from conformance.report import print_verdict_line

    why = ": see the error above" if outcome is not Outcome.PASS else ""
    print_verdict_line(f"kapacitor-conformance result: {outcome.label} (exit {int(outcome)}){why}",
                       outcome is Outcome.PASS, color)
    return int(outcome)


def _color_option(args: list[str]) -> object:
    """pytest's `--color yes|no|auto`, for the verdict line printed after pytest returned."""
    value = "auto"
    for i, a in enumerate(args):
        if a.startswith("--color="):
            value = a.split("=", 1)[1]
        elif a == "--color" and i + 1 < len(args):
            value = args[i + 1]
    from types import SimpleNamespace

    return SimpleNamespace(option=SimpleNamespace(color=value))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
