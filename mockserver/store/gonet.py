"""The subsets of Go's net/url and net/mail parsing whose error texts config validation reports."""

from __future__ import annotations

from mockserver.gotext import go_quote

_HEX = frozenset("0123456789abcdefABCDEF")
_HOST_OK = frozenset("!$&'()*+,;=:[]<>\"-_.~")


def go_url_error(raw: str, *, request_uri: bool = False) -> str | None:
    """The text of Go's `url.Parse` (or `url.ParseRequestURI`) error for `raw`, or None."""
    if request_uri:
        err = _url_parse(raw, True)
        return f"parse {go_quote(raw)}: {err}" if err else None
    head, hash_sign, fragment = raw.partition("#")
    err = _url_parse(head, False)
    if err:
        return f"parse {go_quote(head)}: {err}"
    if hash_sign:
        err = _unescape_error(fragment, host=False)
        if err:
            return f"parse {go_quote(raw)}: {err}"
    return None


def _url_parse(raw: str, via_request: bool) -> str | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "net/url: invalid control character in URL"
    if raw == "" and via_request:
        return "empty url"
    if raw == "*":
        return None
    scheme, rest = "", raw
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                return "missing protocol scheme"
            scheme, rest = raw[:i], raw[i + 1 :]
        break
    rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return None
        if via_request:
            return "invalid URI for request"
        if ":" in rest.partition("/")[0]:
            return "first path segment in URL cannot contain colon"
    if (scheme or (not via_request and not rest.startswith("///"))) and rest.startswith("//"):
        authority = rest[2:]
        slash = authority.find("/")
        if slash >= 0:
            authority, rest = authority[:slash], authority[slash:]
        else:
            rest = ""
        err = _authority_error(authority)
        if err:
            return err
    return _unescape_error(rest, host=False)


def _authority_error(authority: str) -> str | None:
    at = authority.rfind("@")
    host = authority[at + 1 :] if at >= 0 else authority
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            return "missing ']' in host"
        port = host[end + 1 :]
        if not _valid_port(port):
            return f"invalid port {go_quote(port)} after host"
    else:
        colon = host.rfind(":")
        if colon != -1 and not _valid_port(host[colon:]):
            return f"invalid port {go_quote(host[colon:])} after host"
    err = _unescape_error(host, host=True)
    if err:
        return err
    if at >= 0:
        userinfo = authority[:at]
        if any(not (c.isascii() and c.isalnum()) and c not in "-._:~!$&'()*+,;=%@" for c in userinfo):
            return "net/url: invalid userinfo"
        return _unescape_error(userinfo, host=False)
    return None


def _valid_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all("0" <= c <= "9" for c in port[1:]))


def _unescape_error(text: str, *, host: bool) -> str | None:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            chunk = text[i : i + 3]
            if len(chunk) < 3 or chunk[1] not in _HEX or chunk[2] not in _HEX:
                return f"invalid URL escape {go_quote(chunk)}"
            if host and int(chunk[1], 16) < 8 and chunk != "%25":
                return f"invalid URL escape {go_quote(chunk)}"
            i += 3
            continue
        if host and ord(c) < 0x80 and not c.isalnum() and c not in _HOST_OK:
            return f"invalid character {go_quote(c)} in host name"
        i += 1
    return None


def mail_address_error(address: str) -> str | None:
    """A subset of Go's `mail.ParseAddress` errors (enough for an obviously bad address)."""
    text = address.strip()
    if not text:
        return "mail: no address"
    if "<" in text:
        inner = text[text.index("<") + 1 :]
        if ">" not in inner:
            return "mail: unclosed angle-addr"
        text = inner[: inner.index(">")]
    if "@" not in text:
        return "mail: missing '@' or angle-addr"
    local, _, domain = text.rpartition("@")
    if not local:
        return "mail: invalid string"
    if not domain:
        return "mail: no domain in addr-spec"
    return None
