"""Go's quoting (`%q`, `strconv.Quote`, `strconv.QuoteRune`, encoding/json's `quoteChar`): the one
implementation the mock uses wherever the server quotes text in a message.

A Python `str` stands for a Go string whose bytes are its UTF-8 encoding, except that lone
surrogates U+DC80–U+DCFF stand for the raw bytes 0x80–0xFF (Python's `surrogateescape`) and any
other lone surrogate for the three invalid bytes of its UTF-8-like encoding. Quoting then follows
`strconv.appendQuotedWith` byte for byte: an invalid byte prints as `\\xNN`; a rune prints as itself
if `unicode.IsPrint` (categories L, M, N, P, S and the ASCII space), else as `\\a \\b \\f \\n \\r \\t \\v`,
`\\xNN` below U+0020 and for U+007F, `\\uNNNN` below U+10000 and `\\UNNNNNNNN` above.
"""

from __future__ import annotations

import unicodedata

_SHORT = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def is_print(ch: str) -> bool:
    """Go's unicode.IsPrint (= strconv.IsPrint) for one code point."""
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def go_bytes(text: str) -> bytes:
    """The bytes of the Go string `text` stands for (see the module docstring)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return b"".join(
            ch.encode("utf-8", "surrogateescape" if 0xDC80 <= ord(ch) <= 0xDCFF else "surrogatepass") for ch in text
        )


def _escaped_rune(code: int, quote: str, out: list[str]) -> None:
    """strconv.appendEscapedRune (ASCIIonly and graphicOnly false)."""
    ch = chr(code)
    if ch == quote or ch == "\\":
        out.append("\\" + ch)
    elif is_print(ch):
        out.append(ch)
    elif code in _SHORT:
        out.append(_SHORT[code])
    elif code < 0x20 or code == 0x7F:
        out.append(f"\\x{code:02x}")
    elif code < 0x10000:
        out.append(f"\\u{code:04x}")
    else:
        out.append(f"\\U{code:08x}")


def _decode_rune(data: bytes, i: int) -> tuple[int, int]:
    """utf8.DecodeRune at `i`: (code point, width), or (-1, 1) for an invalid byte."""
    b = data[i]
    if b < 0x80:
        return b, 1
    for width, lead_min, lead_max in ((2, 0xC2, 0xDF), (3, 0xE0, 0xEF), (4, 0xF0, 0xF4)):
        if lead_min <= b <= lead_max:
            try:
                ch = data[i:i + width].decode("utf-8")
            except UnicodeDecodeError:
                return -1, 1
            return (ord(ch), width) if len(ch) == 1 else (-1, 1)
    return -1, 1


def _quote_with(text: str, quote: str) -> str:
    if text.isascii() and text.isprintable() and quote not in text and "\\" not in text:
        return quote + text + quote  # the common case: nothing to escape
    data = go_bytes(text)
    out = [quote]
    i = 0
    while i < len(data):
        code, width = _decode_rune(data, i)
        if code < 0:
            out.append(f"\\x{data[i]:02x}")
        else:
            _escaped_rune(code, quote, out)
        i += width
    out.append(quote)
    return "".join(out)


def go_quote(text: str) -> str:
    """strconv.Quote, what `%q` prints for a string."""
    return _quote_with(text, '"')


def quote_rune(ch: str) -> str:
    """strconv.QuoteRune, what `%q` prints for a rune; a surrogate is not a valid rune (U+FFFD)."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    out = ["'"]
    _escaped_rune(code, "'", out)
    out.append("'")
    return "".join(out)


def quote_json_byte(ch: str) -> str:
    """encoding/json's quoteChar for the byte a scanner error names: the first byte of `ch`, read
    as a rune (byte 0xC3 of `é` prints `'Ã'`), quoted as a string but between single quotes."""
    byte = go_bytes(ch)[0]
    if byte == 0x27:
        return "'\\''"
    if byte == 0x22:
        return "'\"'"
    return "'" + go_quote(chr(byte))[1:-1] + "'"

