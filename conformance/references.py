"""Where a check's reference points: upstream docs sections become URLs, `behaviour §N.M` becomes a
section of the project's behaviour reference (`docs/behaviour.md`, shipped in the `spec` package), so a
vendor reading a report can always look the rule up.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

DOCS_BASE = "https://docs.influxdata.com/kapacitor/v1/working/api/"
#: Where the behaviour reference lives in the repository (what a report shows next to a citation).
BEHAVIOUR_DOC = "docs/behaviour.md"
BEHAVIOUR_REF = re.compile(r"behaviou?r\s+§\s*([0-9]+(?:\.[0-9]+)*)")
_ANCHOR = re.compile(r'<a id="s([0-9]+(?:\.[0-9]+)*)"></a>\n')


def doc_url(ref: str) -> str | None:
    """The upstream docs URL of an `api#anchor` reference, else None."""
    ref = ref.strip().split()[0] if ref.strip() else ""
    if ref.startswith("api#") and len(ref) > 4:
        return DOCS_BASE + "#" + ref[4:]
    return None


def behaviour_sections_cited(ref: str) -> list[str]:
    """The behaviour-reference sections a reference text cites, in order (`["2.4", "1.6"]`)."""
    return [m.group(1).rstrip(".") for m in BEHAVIOUR_REF.finditer(ref or "")]


@functools.cache
def behaviour_sections() -> dict[str, str]:
    """Section number -> its markdown text (heading included), read from the shipped document."""
    try:
        text = resources.files("spec").joinpath("behaviour.md").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    parts = _ANCHOR.split(text)
    # parts = [preamble, num1, text1, num2, text2, ...]
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def resolve_section(section: str) -> str | None:
    """The section itself if the document has it as a whole section, else its nearest parent
    (`16.4`, an item of section 16's list, resolves to `16`)."""
    sections = behaviour_sections()
    parts = section.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in sections:
            return candidate
        parts.pop()
    return None


def behaviour_location(section: str) -> str:
    """A citation's place in the repository, e.g. `docs/behaviour.md#s2.4`."""
    return f"{BEHAVIOUR_DOC}#s{section}"
