"""`kapacitor-conformance`: run the suite with pytest and exit 0 only when every MUST check passes.

All options are pytest options (the plugin adds --target, --profile, --quick, ...); anything else,
e.g. `-k`, `-x`, `--junitxml`, is passed through. Exit status: 0 every MUST passed, 1 some MUST
failed, 2 interrupted, 3 target unreachable, 4 usage error, 5 nothing selected.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest

#: `python -m conformance.cli` imports the package before pytest can mark it for assertion
#: rewriting; the checks raise their own failures, so that warning is noise.
_DEFAULTS = ["-p", "no:cacheprovider", "--tb=short", "-o", "console_output_style=count",
             "-W", "ignore::pytest.PytestAssertRewriteWarning"]


def _plugin_installed() -> bool:
    """True when the `pytest11` entry point already loads the plugin (then `-p` would register it twice)."""
    from importlib.metadata import entry_points

    return any(ep.value.split(":")[0] == "conformance.plugin" for ep in entry_points(group="pytest11"))


def build_args(argv: Sequence[str]) -> list[str]:
    # Transport (conformance/guard.py): the tool's --timeout is the plugin's --request-timeout, since
    # pytest-timeout owns --timeout wherever it is installed.
    args = ["--request-timeout" + a[len("--timeout"):] if a.split("=")[0] == "--timeout" else a for a in argv]
    out = ([] if _plugin_installed() else ["-p", "conformance.plugin"]) + list(_DEFAULTS)
    if "--pyargs" not in args:
        positional = [a for a in args if not a.startswith("-")]
        # Only add the package when the caller names no tests of its own (option values are kept).
        if not positional or all(_is_option_value(args, a) for a in positional):
            out += ["--pyargs", "conformance"]
    return out + args


def _is_option_value(args: list[str], value: str) -> bool:
    i = args.index(value)
    return i > 0 and args[i - 1].startswith("-") and "=" not in args[i - 1]


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["cleanup"]:  # subcommand (conformance/sweep.py): remove leftovers of killed runs
        from conformance.sweep import main as cleanup_main

        return cleanup_main(raw[1:])
    args = build_args(raw)
    code = pytest.main(args)
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
