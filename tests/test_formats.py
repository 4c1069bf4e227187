"""Every format through the whole pipeline: the same bulletin, the same cells, the same checks.

The fixture files (tests/fixtures/documents/) hold the real tables of seeds 004
(Hengdong) and 002 (Liaocheng); SEED_TABLES is their transcription from the seed
text. Each format must give every cell, the totals checks and the headline
figures of the prose around the tables.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from parsers import parse_document
from parsers.normalize import normalize_text

DOCUMENTS = Path(__file__).resolve().parent / "fixtures" / "documents"
sys.path.insert(0, str(DOCUMENTS))
from seed_tables import DOCUMENT_TABLES, SEED_TABLES  # noqa: E402

NEEDS = {"doc": "soffice", "png": "tesseract"}
FORMATS = ["docx", "doc", "pdf", "xlsx", "xls"]
PROSE_FORMATS = {"docx", "doc", "pdf"}  # the spreadsheets hold only the tables


def _skip_without_tool(ext: str) -> None:
    tool = NEEDS.get(ext)
    if tool and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (make debian-deps)")


def _cells(rows: list[list[str]]) -> list[list[str]]:
    """Cells compared as the pipeline stores them: normalised text, whitespace squeezed."""
    return [[" ".join(normalize_text(c).split()) for c in row] for row in rows]


def _parse(name: str, ext: str):
    _skip_without_tool(ext)
    path = DOCUMENTS / f"{name}_tables.{ext}"
    return parse_document(path.read_bytes(), path.name)


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("name", sorted(DOCUMENT_TABLES))
def test_every_cell_of_the_seed_tables(name: str, ext: str) -> None:
    bulletin = _parse(name, ext)
    for key in DOCUMENT_TABLES[name]:
        seed = SEED_TABLES[key]
        matches = [t for t in bulletin.tables if _cells(t.rows) == _cells(seed["rows"])]
        assert matches, f"{key}: no table with the seed's {len(seed['rows'])} rows in {ext}"
        assert _cells([matches[0].header]) == _cells([seed["header"]])


@pytest.mark.parametrize("ext", FORMATS)
def test_totals_checks_pass(ext: str) -> None:
    bulletin = _parse("hengdong_2020-09", ext)
    totals = [c for c in bulletin.checks if c.check.startswith("table_total:")]
    # 受理件数 3338, 综合结案数 3285, 超期结案数 18 (category table) and the unit table's
    # 受理案件数 456, 待办理数 46, 未及时签收数 0, 超期已办结 18, 超期未办理 3: all add up in the seed.
    assert len(totals) >= 8
    assert all(c.status == "pass" for c in totals), [
        c.message for c in totals if c.status != "pass"
    ]


@pytest.mark.parametrize("ext", FORMATS)
def test_unit_rows_of_the_unit_table(ext: str) -> None:
    bulletin = _parse("hengdong_2020-09", ext)
    rows = {(u.unit_key, u.column_header): u for u in bulletin.unit_rows}
    total = [
        u for u in bulletin.unit_rows if u.is_total and u.column_header == "超期工单/超期未办理"
    ]
    assert [u.value for u in total] == [3]  # 合 计 | 456 | 46 | 0 | 18 | 3
    assert rows[("县教育局", "受理案件数")].value == 25  # 县教育局 | 25 | 2 | 0 | 0 | 0
    assert rows[("县教育局", "受理案件数")].column_key == "assigned"


@pytest.mark.parametrize("ext", sorted(PROSE_FORMATS))
def test_headline_figures_of_the_prose(ext: str) -> None:
    bulletin = _parse("hengdong_2020-09", ext)
    got = {m.metric: m.value for m in bulletin.metrics}
    # 接收市民来电总量4630次 ... 共形成有效电子工单3338件 ... 综合办结率98.41%
    assert got["calls_inbound"] == 4630
    assert got["work_orders_total"] == 3338
    assert got["completion_rate"] == 98.41
    assert all(m.document == f"hengdong_2020-09_tables.{ext}" for m in bulletin.metrics)


@pytest.mark.parametrize("ext", FORMATS)
def test_same_json_shape_through_the_cli(ext: str) -> None:
    _skip_without_tool(ext)
    path = DOCUMENTS / f"liaocheng_2015-06_tables.{ext}"
    result = CliRunner().invoke(cli, ["parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {
        "title",
        "issuer",
        "published_date",
        "period",
        "metrics",
        "breakdowns",
        "tables",
        "checks",
    } <= set(out)
    assert out["tables"] and all(t["document"] == path.name for t in out["tables"])


def test_table_published_as_a_picture() -> None:
    """The category table as an image: OCR'd, confirmed by its 合计 row, every cell as printed."""
    _skip_without_tool("png")
    path = DOCUMENTS / "hengdong_2020-09_category_table.png"
    bulletin = parse_document(path.read_bytes(), path.name)
    (table,) = bulletin.tables
    assert table.ocr
    assert _cells(table.rows) == _cells(SEED_TABLES["hengdong_category"]["rows"])
    assert [c.status for c in bulletin.checks if c.check.startswith("ocr_confirmed:")] == ["pass"]
    values = {(u.unit_name, u.column_header): u.value for u in bulletin.unit_rows}
    assert values[("合计", "受理件数")] == 3338


def test_pdf_table_pages() -> None:
    bulletin = _parse("liaocheng_2015-06", "pdf")
    departments = next(
        t
        for t in bulletin.tables
        if _cells(t.rows) == _cells(SEED_TABLES["liaocheng_departments"]["rows"])
    )
    assert departments.page == 2  # runs from page 2 onto page 3, joined into one table
