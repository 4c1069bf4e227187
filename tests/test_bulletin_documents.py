"""One bulletin from an article and its attachments; formats told by their bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from archive.paths import SAMPLES_DIR
from parsers import DocumentInput, ParseError, detect_format, parse_bulletin

HENGDONG_PAGE = next(
    p
    for p in (SAMPLES_DIR / "sites" / "www.hengdong.gov.cn").rglob("i*.html")
    if p.name != "index.html"
)


def _docx_with_table() -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("附件:9月份部分成员单位工单办理情况")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [["单位名称", "受理案件数", "待办理数"], ["县教育局", "25", "2"], ["县公安局", "13", "1"]]
    ):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"%PDF-1.7\n...", "bulletin.html", "pdf"),  # the extension lies: the bytes decide
        (b"\x89PNG\r\n\x1a\n....", "table.pdf", "image"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "a.txt", "html"),
        (b"12345\xe7\x83\xad\xe7\xba\xbf", "a.txt", "txt"),
    ],
)
def test_detect_format_by_content(data: bytes, name: str, expected: str) -> None:
    assert detect_format(data, name) == expected


def test_detect_xlsx_by_its_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert detect_format(buffer.getvalue(), "attachment.docx") == "xlsx"


def test_article_and_attachment_make_one_bulletin() -> None:
    pytest.importorskip("parsers.docx")
    bulletin = parse_bulletin(
        [
            DocumentInput(HENGDONG_PAGE.name, HENGDONG_PAGE.read_bytes(), "text/html"),
            DocumentInput("units.docx", _docx_with_table()),
        ]
    )
    assert bulletin.documents == [HENGDONG_PAGE.name, "units.docx"]
    # 接收市民来电总量4630次 is in the article, so the metric names the article
    calls = bulletin.metric("calls_inbound")
    assert calls is not None and calls.value == 4630 and calls.document == HENGDONG_PAGE.name
    attached = [t for t in bulletin.tables if t.document == "units.docx"]
    assert len(attached) == 1 and attached[0].rows == [
        ["县教育局", "25", "2"],
        ["县公安局", "13", "1"],
    ]
    cells = {
        (u.unit_name, u.column_header): u.value
        for u in bulletin.unit_rows
        if u.document == "units.docx"
    }
    assert cells[("县公安局", "受理案件数")] == 13


def test_a_bad_attachment_is_a_failed_check_and_the_rest_goes_on() -> None:
    bulletin = parse_bulletin(
        [
            DocumentInput(HENGDONG_PAGE.name, HENGDONG_PAGE.read_bytes(), "text/html"),
            DocumentInput("broken.docx", b"PK\x03\x04 not really a zip"),
        ]
    )
    failed = [c for c in bulletin.checks if c.check == "document:broken.docx"]
    assert len(failed) == 1 and failed[0].status == "fail" and "broken.docx" in failed[0].message
    assert bulletin.metric("calls_inbound") is not None


def test_no_readable_document_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_bulletin([DocumentInput("a.html", b""), DocumentInput("b.pdf", b"   ")])


def test_cli_reads_a_directory_as_one_bulletin(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from archive.cli import cli

    (tmp_path / "1-article.html").write_bytes(HENGDONG_PAGE.read_bytes())
    (tmp_path / "2-attachment.txt").write_text("附件说明\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["parse", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["documents"] == ["1-article.html", "2-attachment.txt"]
    assert out["period"]["period_label"] == "2020-09"


def test_an_unconfirmed_ocr_table_withholds_its_values() -> None:
    from parsers.bulletin import _ocr_checks
    from parsers.model import Table
    from parsers.tables import unit_rows

    # 12 + 30 is 42, not the 合计 row's 50: OCR may have misread a digit, so no value is archived.
    table = Table(
        "OCR'd", ["单位", "受理件数"], [["甲", "12"], ["乙", "30"], ["合计", "50"]], ocr=True
    )
    rows = unit_rows([table])
    (check,) = _ocr_checks([table], rows)
    assert (check.status, check.severity) == ("fail", "warning")
    assert rows and all(r.value is None for r in rows)
    assert [r.text for r in rows][:2] == ["12", "30"]  # the printed text stays, as evidence


def test_a_confirmed_ocr_table_keeps_its_values() -> None:
    from parsers.bulletin import _ocr_checks
    from parsers.model import Table
    from parsers.tables import unit_rows

    table = Table(
        "OCR'd", ["单位", "受理件数"], [["甲", "12"], ["乙", "38"], ["合计", "50"]], ocr=True
    )
    rows = unit_rows([table])
    (check,) = _ocr_checks([table], rows)
    assert check.status == "pass"
    assert [r.value for r in rows] == [12, 38, 50]


def test_an_attachment_repeating_the_articles_table_is_kept_once() -> None:
    pytest.importorskip("parsers.docx")
    page = HENGDONG_PAGE.read_bytes()
    docx = (
        Path(__file__).parent / "fixtures" / "documents" / "hengdong_2020-09_tables.docx"
    ).read_bytes()
    alone = parse_bulletin([DocumentInput(HENGDONG_PAGE.name, page, "text/html")])
    both = parse_bulletin(
        [DocumentInput(HENGDONG_PAGE.name, page, "text/html"), DocumentInput("tables.docx", docx)]
    )
    assert len(both.tables) == len(alone.tables) == 2
    assert len(both.unit_rows) == len(alone.unit_rows)
    assert all(t.document == HENGDONG_PAGE.name for t in both.tables)
    assert len([c for c in both.checks if c.check.startswith("duplicate_table:")]) == 2
