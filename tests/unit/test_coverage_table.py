"""The README's implementation-coverage table is generated from the spec and the handler registry."""

from __future__ import annotations

from pathlib import Path

from mockserver.coverage import BEGIN, END, rows, table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    current = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert current == table().strip(), "run `python -m mockserver.coverage` and paste the table into README.md"


def test_every_documented_operation_is_served_by_default_or_behind_its_option() -> None:
    not_served = [op for op, _m, _p, served in rows() if served == "no"]
    assert not_served == []
