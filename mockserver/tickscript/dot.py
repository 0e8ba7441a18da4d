"""GraphViz rendering of a task pipeline, as the API's `dot` field shows it."""

from __future__ import annotations

from .nodes import EXEC_STATS
from .pipeline import Pipeline, PNode

_BASE_STATS = ("avg_exec_time_ns", "errors", "working_cardinality")


def dot(pipeline: Pipeline, name: str, *, executing: bool = False, labels: bool = False,
        throughput: float = 0.0) -> str:
    """`Pipeline.Dot` for a stored task; with `executing`, the running task's `EDot` (fresh stats)."""
    nodes = pipeline.sorted()
    out = ["digraph ", name, " {\n"]
    if not executing:
        for n in nodes:
            if n.gotype == "BatchNode":
                continue  # the batch source prints no edges
            src = n.get_name()
            for c in n.children:
                out.append(f"{src} -> {c.get_name()};\n")
        out.append("}")
        return "".join(out)

    unit = "batches" if pipeline.kind == "batch" else "points"
    if labels:
        out.append(f'graph [label="Throughput: {throughput:0.2f} {unit}/s" forcelabels=true pad="0.8,0.5"];\n')
    else:
        out.append(f'graph [throughput="{throughput:0.2f} {unit}/s"];\n')
    # The executing task links children in walk order, not in the pipeline's order.
    exec_children: dict[int, list[PNode]] = {}
    for c in nodes:
        for p in c.parents:
            exec_children.setdefault(id(p), []).append(c)
    for n in nodes:
        if n.gotype == "BatchNode":
            continue
        src = n.get_name()
        stats = sorted((*_BASE_STATS, *EXEC_STATS.get(n.desc, ())))
        values = ["0s" if k == "avg_exec_time_ns" else "0" for k in stats]
        children = exec_children.get(id(n), [])
        if labels:
            body = "\\r".join(f"{k}={v}" for k, v in zip(stats, values, strict=True))
            out.append(f'\n{src} [xlabel="{body}"];\n')
            out.extend(f'{src} -> {c.get_name()} [label="processed=0"];\n' for c in children)
        else:
            body = "".join(f'{k}="{v}" ' for k, v in zip(stats, values, strict=True))
            out.append(f"\n{src} [{body}];\n")
            out.extend(f'{src} -> {c.get_name()} [processed="0"];\n' for c in children)
    out.append("}")
    return "".join(out)


def node_names(pipeline: Pipeline) -> list[str]:
    """Node names in walk order (the keys of a running task's `node-stats`)."""
    return [n.get_name() for n in pipeline.sorted()]


def node_stats(pipeline: Pipeline) -> dict[str, dict[str, int]]:
    """A freshly started task's `stats["node-stats"]`: zero counters per node, keys sorted.

    Every node reports the base counters plus `collected` and `emitted`; alert, query and the
    output nodes add their own (the same extras the executing dot shows)."""
    out = {}
    for n in pipeline.sorted():
        keys = sorted({*_BASE_STATS, "collected", "emitted", *EXEC_STATS.get(n.desc, ())})
        out[n.get_name()] = dict.fromkeys(keys, 0)
    return dict(sorted(out.items()))
