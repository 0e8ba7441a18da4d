"""What the task store reads straight off a parsed program: task type and implicit DBRPs."""

from __future__ import annotations

from . import ast


def task_type(program: ast.Program) -> str:
    """`stream`/`batch` from the left-most identifier of each top-level chain (or declaration);
    `invalid` when there is none or both kinds appear."""
    kinds: set[str] = set()
    for stmt in program.nodes:
        if type(stmt) is ast.Declaration:
            n = stmt.right
        elif type(stmt) is ast.Chain:
            n = stmt.left
        else:
            continue
        while type(n) is ast.Chain:
            n = n.left  # type: ignore[attr-defined]
        if type(n) is ast.Identifier and n.ident in ("stream", "batch"):  # type: ignore[attr-defined]
            kinds.add(n.ident)  # type: ignore[attr-defined]
    if len(kinds) != 1:
        return "invalid"
    return kinds.pop()


def dbrps(program: ast.Program) -> list[tuple[str, str]]:
    """The `dbrp "db"."rp"` statements, in script order."""
    return [(s.db.reference, s.rp.reference) for s in program.nodes if type(s) is ast.DBRP]
