"""Report references resolve: docs citations to their public URL, behaviour citations to a section of
docs/behaviour.md that the HTML report embeds."""

from __future__ import annotations

from conformance import references, report
from conformance.checks import MUST


def test_behaviour_sections_are_shipped_with_the_package() -> None:
    sections = references.behaviour_sections()
    assert "2.4" in sections and sections["2.4"].startswith("### 2.4")
    assert "15.9" in sections


def test_ref_url_for_both_kinds() -> None:
    assert report.ref_url("api#list-tasks") == references.DOCS_BASE + "#list-tasks"
    assert report.ref_url("behaviour §2.4") == "docs/behaviour.md#s2.4"
    assert report.ref_url("nothing known") is None


def test_html_links_behaviour_refs_to_an_embedded_section() -> None:
    result = {"check": "pagination.x", "full_id": "pagination.x", "level": MUST, "area": "pagination",
              "ref": "behaviour §2.4", "outcome": "passed"}
    doc = report.document({"target": "http://t"}, report.summarize([result]), [result], [])
    assert doc["results"][0]["ref_url"] == "docs/behaviour.md#s2.4"
    html = report.render_html(doc)
    assert "href='#behaviour-s2.4'" in html
    assert "id='behaviour-s2.4'" in html and "strconv.ParseInt" in html
