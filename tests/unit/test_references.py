"""Every `behaviour §N.M` cited anywhere in the repository resolves to a section of docs/behaviour.md.

Reports and checks cite the behaviour reference by section; a citation that points nowhere leaves a
vendor unable to look the rule up, so a dangling one fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "behaviour.md"
CITATION = re.compile(r"behaviou?r\s+§\s*([0-9]+(?:\.[0-9]+)*)")
ANCHOR = re.compile(r'<a id="s([0-9]+(?:\.[0-9]+)*)"></a>')
SCANNED = ("spec", "mockserver", "conformance", "tests", "docs", "benchmarks")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".html", ".txt", ".j2"}


def _anchors() -> set[str]:
    return set(ANCHOR.findall(DOC.read_text(encoding="utf-8")))


def _citations() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    files = [ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    for top in SCANNED:
        files += [p for p in (ROOT / top).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    for path in files:
        if not path.exists() or "__pycache__" in path.parts or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in CITATION.finditer(text):
            found.setdefault(m.group(1).rstrip("."), []).append(str(path.relative_to(ROOT)))
    return found


def test_behaviour_document_has_anchors_for_every_heading() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,3} ([0-9]+(?:\.[0-9]+)*)\.? ", text, flags=re.M)
    assert headings, "no numbered headings found"
    missing = sorted(set(headings) - _anchors())
    assert not missing, f"numbered headings without a stable anchor: {missing}"


def test_every_cited_section_exists() -> None:
    cited = _citations()
    assert cited, "no behaviour citation found at all: the scan is broken"
    anchors = _anchors()
    dangling = {sec: sorted(set(where))[:3] for sec, where in cited.items() if sec not in anchors}
    assert not dangling, f"citations of sections that docs/behaviour.md does not have: {dangling}"


def test_the_scan_sees_a_dangling_citation(tmp_path: Path) -> None:
    """The citation pattern catches the forms the code uses, so the check above can fail."""
    sample = "see behaviour §99.1 and behavior §2.4, and `behaviour §1.6`."
    assert [m.group(1) for m in CITATION.finditer(sample)] == ["99.1", "2.4", "1.6"]
    assert "99.1" not in _anchors()
