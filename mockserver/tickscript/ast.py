"""TICKscript syntax tree.

Mirrors the node kinds of the real parser because both the formatter and the evaluator depend on
details such as where a node's position points (a chain or binary node is positioned at its
operator) and which nodes carry comments. Positions are indexes into the script text; the program
keeps the text so line/char (byte based, like Go) can be derived only when an error needs them.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

# Function kinds (FuncType in the real parser).
GLOBAL_FUNC = 0
CHAIN_FUNC = 1
PROPERTY_FUNC = 2
DYNAMIC_FUNC = 3


class Node:
    __slots__ = ("comment", "pos")

    def __init__(self, pos: int, comment: Comment | None = None) -> None:
        self.pos = pos
        self.comment = comment

    def key(self) -> Any:
        """Functional identity, ignoring positions and comments (the real `Equal`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}@{self.pos}{self.key()!r}"


class Comment:
    __slots__ = ("lines", "pos")

    def __init__(self, pos: int, lines: list[str]) -> None:
        self.pos = pos
        self.lines = lines

    def text(self) -> str:
        return "\n".join(self.lines)

    def key(self) -> Any:
        return ("comment",)


class Number(Node):
    __slots__ = ("base", "is_int", "value")

    def __init__(self, pos: int, is_int: bool, value: int | float, base: int, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.is_int = is_int
        self.value = value
        self.base = base

    def key(self) -> Any:
        return ("number", self.is_int, self.value)


class Duration(Node):
    __slots__ = ("literal", "ns")

    def __init__(self, pos: int, ns: int, literal: str, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.ns = ns
        self.literal = literal

    def key(self) -> Any:
        return ("duration", self.ns)


class Bool(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.value = value

    def key(self) -> Any:
        return ("bool", self.value)


class Unary(Node):
    __slots__ = ("node", "op")

    def __init__(self, pos: int, op: int, node: Node, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.op = op
        self.node = node

    def key(self) -> Any:
        return ("unary", self.op, self.node.key())


class Binary(Node):
    __slots__ = ("left", "multiline", "op", "parens", "right")

    def __init__(self, pos: int, op: int, left: Node, right: Node, multiline: bool,
                 comment: Comment | None = None):
        super().__init__(pos, comment)
        self.op = op
        self.left = left
        self.right = right
        self.multiline = multiline
        self.parens = False

    def key(self) -> Any:
        return ("binary", self.op, self.left.key(), self.right.key())


class DBRP(Node):
    __slots__ = ("db", "rp")

    def __init__(self, pos: int, db: Reference, rp: Reference, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.db = db
        self.rp = rp

    def key(self) -> Any:
        return ("dbrp", self.db.key(), self.rp.key())


class Declaration(Node):
    __slots__ = ("left", "right")

    def __init__(self, pos: int, left: Identifier, right: Node, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.left = left
        self.right = right

    def key(self) -> Any:
        return ("decl", self.left.key(), self.right.key())


class TypeDeclaration(Node):
    __slots__ = ("node", "type")

    def __init__(self, pos: int, node: Identifier, type_: Identifier, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.node = node
        self.type = type_

    def key(self) -> Any:
        return ("typedecl", self.node.key(), self.type.key())


class Chain(Node):
    __slots__ = ("left", "op", "right")

    def __init__(self, pos: int, op: int, left: Node, right: Node, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.op = op
        self.left = left
        self.right = right

    def key(self) -> Any:
        # Iterative: chains are left-deep and may be long.
        links = []
        node: Node = self
        while isinstance(node, Chain):
            links.append((node.op, node.right.key()))
            node = node.left
        return ("chain", node.key(), tuple(reversed(links)))


class Identifier(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.ident = ident

    def key(self) -> Any:
        return ("ident", self.ident)


class Reference(Node):
    __slots__ = ("reference",)

    def __init__(self, pos: int, reference: str, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.reference = reference

    def key(self) -> Any:
        return ("ref", self.reference)


class String(Node):
    __slots__ = ("literal", "triple")

    def __init__(self, pos: int, literal: str, triple: bool, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.literal = literal
        self.triple = triple

    def key(self) -> Any:
        return ("string", self.literal)


class List(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int, nodes: list[Node], comment: Comment | None = None):
        super().__init__(pos, comment)
        self.nodes = nodes

    def key(self) -> Any:
        return ("list", tuple(n.key() for n in self.nodes))


class Regex(Node):
    """`literal` is the text between the slashes; `pattern` has `\\/` unescaped (what compiles)."""

    __slots__ = ("literal", "pattern")

    def __init__(self, pos: int, literal: str, pattern: str, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.literal = literal
        self.pattern = pattern

    def key(self) -> Any:
        return ("regex", self.pattern)


class Star(Node):
    __slots__ = ()

    def key(self) -> Any:
        return ("star",)


class Function(Node):
    __slots__ = ("args", "ftype", "func", "multiline")

    def __init__(self, pos: int, ftype: int, func: str, args: list[Node], multiline: bool,
                 comment: Comment | None = None):
        super().__init__(pos, comment)
        self.ftype = ftype
        self.func = func
        self.args = args
        self.multiline = multiline

    def key(self) -> Any:
        return ("func", self.ftype, self.func, tuple(a.key() for a in self.args))


class Lambda(Node):
    __slots__ = ("expression",)

    def __init__(self, pos: int, expression: Node, comment: Comment | None = None):
        super().__init__(pos, comment)
        self.expression = expression

    def key(self) -> Any:
        return ("lambda", self.expression.key())


class Program(Node):
    """Top-level statements (and trailing comments, which the real parser keeps as statements)."""

    __slots__ = ("_line_starts", "nodes", "text")

    def __init__(self, text: str, nodes: list[Node | Comment]) -> None:
        super().__init__(0, None)
        self.text = text
        self.nodes = nodes
        self._line_starts: list[int] | None = None

    def key(self) -> Any:
        return ("program", tuple(n.key() for n in self.nodes))

    def line_char(self, pos: int) -> tuple[int, int]:
        return line_char(self.text, pos, self)

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts


def line_char(text: str, pos: int, program: Program | None = None) -> tuple[int, int]:
    """1-based line and byte-based 1-based column of a text index, as the real lexer reports them."""
    if program is not None:
        starts = program._starts()
        line = bisect_right(starts, pos)
        start = starts[line - 1]
    else:
        line = text.count("\n", 0, pos) + 1
        start = text.rfind("\n", 0, pos) + 1
    segment = text[start:pos]
    char = len(segment) if segment.isascii() else len(segment.encode("utf-8", "surrogatepass"))
    return line, char + 1
