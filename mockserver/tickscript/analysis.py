"""What the task store reads straight off a parsed program: task type and implicit DBRPs."""

from __future__ import annotations

from . import ast


def task_type(program: ast.Program) -> str:
    """`stream`/`batch` from the left-most identifier of each top-level chain (or declaration);
    `invalid` when there is none or both kinds appear."""
    kinds: set[str] = set()
    for stmt in program.nodes:
        match stmt:
            case ast.Declaration(right=n) | ast.Chain(left=n):
                pass
            case _:
                continue
        while isinstance(n, ast.Chain):
            n = n.left
        match n:
            case ast.Identifier(ident="stream" | "batch" as kind):
                kinds.add(kind)
    if len(kinds) != 1:
        return "invalid"
    return kinds.pop()


def dbrps(program: ast.Program) -> list[tuple[str, str]]:
    """The `dbrp "db"."rp"` statements, in script order."""
    return [(s.db.reference, s.rp.reference) for s in program.nodes if isinstance(s, ast.DBRP)]
