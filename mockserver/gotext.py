"""Go's `%q` string quoting, which the server uses inside many error messages."""

from __future__ import annotations


def _go_quote_inner(text: str) -> str:
    """The inside of Go's %q for the text (escapes quotes, backslashes and control characters)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x80 else (f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"))
        else:
            out.append(ch)
    return "".join(out)


def go_quote(text: str) -> str:
    """Go's `%q` formatting of a string."""
    return '"' + _go_quote_inner(text) + '"'
