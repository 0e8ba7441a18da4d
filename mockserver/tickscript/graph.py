"""The pipeline graph a script builds: nodes with their pipeline-wide IDs, edges, and walk order."""

from __future__ import annotations

from typing import Any

from .values import TickscriptError


class PNode:
    __slots__ = ("children", "ctor_args", "desc", "fields", "gotype", "id", "name", "parents", "pipeline",
                 "provides", "settings")

    def __init__(self, pipeline: Pipeline, gotype: str, desc: str, provides: str) -> None:
        self.pipeline = pipeline
        self.gotype = gotype
        self.desc = desc
        self.provides = provides
        self.id = -1
        self.name = ""
        self.children: list[PNode] = []
        self.parents: list[PNode] = []
        self.fields: dict[str, Any] = {}
        self.settings: dict[str, list[tuple[Any, ...]]] = {}  # property method -> calls' arguments
        self.ctor_args: tuple[Any, ...] = ()

    @property
    def node(self) -> PNode:
        return self

    def get_name(self) -> str:
        if not self.name:
            self.name = f"{self.desc}{self.id}"
        return self.name

    def link_child(self, child: PNode) -> None:
        self.pipeline.assign_id(child)
        self.children.append(child)
        child.parents.append(self)


class View:
    """An alert handler (or the alert's data) returned by a property method; acts on its alert node."""

    __slots__ = ("gotype", "node")

    def __init__(self, node: PNode, gotype: str) -> None:
        self.node = node
        self.gotype = gotype


class Pipeline:
    """The built node graph; `declared` holds the declared vars: name -> (ValueType, value, description)."""

    def __init__(self) -> None:
        self.sources: list[PNode] = []
        self.next_id = 0
        self.declared: dict[str, tuple[str, Any, str]] = {}
        self.kind = "stream"
        self._sorted: list[PNode] | None = None

    def assign_id(self, n: PNode) -> None:
        n.id = self.next_id
        self.next_id += 1

    def add_source(self, n: PNode) -> None:
        self.assign_id(n)
        self.sources.append(n)

    def sorted(self) -> list[PNode]:
        """Topological order of the real `Pipeline.Walk` (DFS from the last source, reversed)."""
        if self._sorted is None:
            out: list[PNode] = []
            done: set[int] = set()
            for src in reversed(self.sources):
                # Iterative post-order DFS over children in order.
                if id(src) in done:
                    continue
                stack = [(src, iter(src.children))]
                on_path = {id(src)}
                while stack:
                    node, it = stack[-1]
                    for c in it:
                        if id(c) in done:
                            continue
                        if id(c) in on_path:
                            raise TickscriptError("pipeline contains a cycle")
                        on_path.add(id(c))
                        stack.append((c, iter(c.children)))
                        break
                    else:
                        stack.pop()
                        on_path.discard(id(node))
                        done.add(id(node))
                        out.append(node)
            out.reverse()
            self._sorted = out
        return self._sorted

    def __len__(self) -> int:
        return len(self.sorted())
