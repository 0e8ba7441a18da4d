"""Implementation coverage: which spec operations the mock serves, and under which option.

`python -m mockserver.coverage` prints the Markdown table kept in the README between the
`coverage:begin`/`coverage:end` markers; a test fails when the README's copy is stale.
"""

from __future__ import annotations

from mockserver import operations
from mockserver.config import MockConfig
from spec import operations as spec_operations

BEGIN = "<!-- coverage:begin -->"
END = "<!-- coverage:end -->"


def rows() -> list[tuple[str, str, str, str]]:
    default = operations.claimed(MockConfig())
    full = operations.claimed(MockConfig(auth=True, flux_tasks=True))
    out = []
    for op in spec_operations():
        if op.operation_id in default:
            served = "yes"
        elif op.operation_id in full:
            served = "with `--auth`" if "auth" in str(op.availability.get("requires", "")) else "with `--flux-tasks`"
        else:
            served = "no"
        out.append((op.operation_id, op.method, op.path, served))
    return out


def table() -> str:
    lines = ["| operationId | method | path | served |", "|---|---|---|---|"]
    lines += [f"| `{op}` | {method} | `{path}` | {served} |" for op, method, path, served in rows()]
    total = len(lines) - 2
    served = sum(1 for r in rows() if r[3] != "no")
    lines.append("")
    lines.append(f"{served} of {total} documented operations served.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
