"""The command from anywhere: the installed entry point, `python -m conformance` and `pytest --pyargs
conformance`, from the repository root (whose `conformance/` must not shadow the installed package)
and from any other directory; and one clear line when the conformance extra is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.conftest import ROOT

pytestmark = [pytest.mark.server]

_ONE = ["-q", "--check", "deletes.missing-204", "--seed", "1"]
_PASS = "kapacitor-conformance result: PASS (exit 0)"


def _last(out: str) -> str:
    return [ln for ln in out.splitlines() if ln.strip()][-1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env.pop("KAPACITOR_URL", None)
    return env


@pytest.mark.parametrize("where", ["root", "elsewhere"])
def test_entry_point_from_anywhere(where: str, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kapacitor-conformance")
    if not exe.exists():
        pytest.skip("the package is not installed with its console script in this interpreter's environment")
    cwd = ROOT if where == "root" else tmp_path
    out = subprocess.run([str(exe), *_ONE], capture_output=True, text=True, cwd=str(cwd), env=_env(), timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert _last(out.stdout).startswith(_PASS)


def _installed_copy(tmp_path: Path) -> Path:
    """The packages as a non-editable install puts them: a separate directory, not the checkout."""
    site = tmp_path / "site"
    for pkg in ("conformance", "spec", "mockserver"):
        shutil.copytree(ROOT / pkg, site / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return site


def test_pyargs_from_the_checkout_uses_the_installed_package(tmp_path: Path) -> None:
    """`pytest --pyargs conformance` started in the repository root while `conformance` is imported from
    elsewhere (a wheel): no ImportPathMismatchError, and the checks that run are the installed ones."""
    site = _installed_copy(tmp_path)
    # Like the `pytest` console script: the current directory is not on sys.path.
    code = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; import pytest; " \
           "sys.exit(pytest.main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, "-p", "no:cacheprovider", "--pyargs", "conformance", *_ONE],
                         capture_output=True, text=True, cwd=str(ROOT), env=_env(PYTHONPATH=str(site)), timeout=180)
    assert "ImportPathMismatchError" not in out.stdout + out.stderr
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert _last(out.stdout).startswith(_PASS)
    # The same through our command (own ini and rootdir), also started in the repository root.
    code = "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; " \
           "from conformance.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, *_ONE, "-p", "no:cacheprovider"], capture_output=True,
                         text=True, cwd=str(ROOT), env=_env(PYTHONPATH=str(site)), timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert f"rootdir: {site}" in out.stdout or "rootdir:" not in out.stdout


def test_missing_extra_says_what_to_install(tmp_path: Path) -> None:
    code = "import sys; sys.modules['pytest'] = None; from conformance.cli import main; sys.exit(main(['--quick']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tmp_path),
                         env=_env(PYTHONPATH=str(ROOT)), timeout=60)
    assert out.returncode == 4
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]  # one line
    assert "pip install 'kapacitor-conformance[conformance]'" in out.stderr and "Traceback" not in out.stderr
