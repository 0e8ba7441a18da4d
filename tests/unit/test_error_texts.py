"""Every error text the mock's stores and operations raise is one the spec records.

The texts are collected from the source (an AST scan of `raise`-able constructions of the error
classes in `mockserver/store/`, `mockserver/operations/` and the named constructors of
`mockserver/errors.py`), so a new message cannot be added without adding it to the spec's
`x-kapacitor-errors` of some operation, with the same status. The Flux task API's platform errors
are left out: their texts are chains (`failed to find task: task not found`) composed at run time,
and the spec lists them by their outer message.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockserver import errors
from spec import operations

ROOT = Path(errors.__file__).parent
SCANNED = [ROOT / "errors.py", *sorted((ROOT / "store").rglob("*.py")), *sorted((ROOT / "operations").rglob("*.py"))]

#: Kapacitor-style errors: class name → the status it answers with unless one is passed.
STATUS = {
    name: cls.status
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, errors.KapacitorError) and cls is not errors.AuthFailure
}
#: Texts the real server never writes: limits and guards of the mock itself. Keep it short; each
#: entry says why it is not in the spec.
MOCK_ONLY = {
    # Where the real server panics and drops the connection, the mock must answer something.
    (500, "cannot add new override, override already exists for *"),
    (500, "failed to apply patch: *"),
    # A concurrent PATCH of one handler: the mock's optimistic retry ran out (no such race in Go).
    (409, "handler * kept changing while it was patched; retry"),
    # A gzip body that inflates past the mock's cap (a decompression bomb guard).
    (413, "http: request body too large"),
    # --max-log-streams: every open log stream holds one of waitress's worker threads.
    (429, "too many log streams: * already open (mock limit, --max-log-streams)"),
}


@dataclass(frozen=True)
class Raised:
    where: str
    status: int
    parts: tuple[str | None, ...]  # literal pieces; None is a value filled in at run time

    @property
    def sample(self) -> str:
        return "".join("*" if p is None else p for p in self.parts)

    def pattern(self) -> re.Pattern[str]:
        return re.compile("".join(".*" if p is None else re.escape(p) for p in self.parts), re.S)


def _parts(node: ast.expr) -> tuple[str | None, ...] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.JoinedStr):
        return tuple(v.value if isinstance(v, ast.Constant) else None for v in node.values)
    return None


def _is_control(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Mock-only control routes (`@control(...)`) are not part of the Kapacitor API."""
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "control" for d in fn.decorator_list)


def _status(call: ast.Call, default: int) -> int:
    explicit = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "status"), None)
    if isinstance(explicit, ast.Constant) and isinstance(explicit.value, int):
        return explicit.value
    return default


def _collect() -> list[Raised]:
    found: list[Raised] = []
    for path in SCANNED:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and _is_control(fn):
                skipped.update(id(n) for n in ast.walk(fn))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in skipped or not isinstance(node.func, ast.Name):
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            name = node.func.id
            if name in STATUS and node.args and (parts := _parts(node.args[0])) is not None:
                found.append(Raised(where, _status(node, STATUS[name]), parts))
    return found


RAISED = _collect()


def _documented() -> list[tuple[str, int, str]]:
    """(operationId, status, message) of every entry that has literal text besides placeholders:
    an entry that is only `<raw JSON decode error>` would match anything."""
    out = []
    for op in operations():
        for err in op.raw.get("x-kapacitor-errors") or []:
            message = str(err["message"])
            if re.sub(r"<[^>]*>", "", message).strip(" :"):
                out.append((op.operation_id, int(err["status"]), message))
    return out


DOCUMENTED = _documented()


def _spec_pattern(message: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in re.split(r"<[^>]*>", message)), re.S)


def _matches(raised: Raised, message: str) -> bool:
    """Either side may hold a placeholder where the other has text: the code's run-time values
    cover the spec's literal, or the spec's `<placeholder>` covers the code's literal."""
    return bool(raised.pattern().fullmatch(message) or _spec_pattern(message).fullmatch(raised.sample))


def test_the_scan_finds_the_raised_texts() -> None:
    samples = {r.sample for r in RAISED}
    assert len(RAISED) > 80
    assert {"invalid JSON", "no template exists", "unknown template *: err: no template exists"} <= samples


def test_matching_is_not_vacuous() -> None:
    raised = Raised("x", 400, ("unknown template ", None, ": err: no template exists"))
    assert _matches(raised, "unknown template <tid>: err: no template exists")
    assert not _matches(raised, "unknown task <tid>: err: no template exists")
    assert not _matches(Raised("x", 400, ("no task exists",)), "no template exists")


@pytest.mark.parametrize("raised", [r for r in RAISED if (r.status, r.sample) not in MOCK_ONLY], ids=lambda r: r.where)
def test_every_raised_text_is_in_the_spec(raised: Raised) -> None:
    documented = [(op, status) for op, status, message in DOCUMENTED if _matches(raised, message)]
    assert documented, f"{raised.where}: {raised.sample!r} is in no operation's x-kapacitor-errors"
    assert raised.status in {status for _, status in documented}, (raised.where, raised.sample, documented)


def test_the_mock_only_texts_are_still_raised() -> None:
    assert {(r.status, r.sample) for r in RAISED} >= MOCK_ONLY
