"""XLSX / XLS reader: tables as printed, merged headers, number formats and the limits."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from parsers.errors import ParseError
from parsers.model import Table
from parsers.spreadsheet import format_number, read_xls, read_xlsx

DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"
UNIT_HEADER = [
    "单位名称",
    "受理案件数",
    "待办理数",
    "未及时签收数",
    "超期工单/超期已办结",
    "超期工单/超期未办理",
]
UNIT_TITLE = "9月份成员单位工单办理情况"


# --- building workbooks -----------------------------------------------------------------


def xlsx_bytes(fill: Callable[[openpyxl.Workbook], None]) -> bytes:
    workbook = openpyxl.Workbook()
    fill(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def replace_member(data: bytes, name: str, edit: Callable[[bytes], bytes]) -> bytes:
    """The zip with member ``name`` rewritten by ``edit``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == name:
                edited = edit(content)
                assert edited != content, f"the edit left {name} unchanged"
                content = edited
            target.writestr(info.filename, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def unit_sheet(ws: Worksheet) -> None:
    """A unit table laid out like the Hengdong one: merged title, two-row merged header."""
    ws["A1"] = UNIT_TITLE
    ws.merge_cells("A1:F1")
    for col, text in enumerate(
        ["单位名称", "受理案件数", "待办理数", "未及时签收数", "超期工单"], 1
    ):
        ws.cell(row=2, column=col, value=text)
    ws["E3"] = "超期已办结"
    ws["F3"] = "超期未办理"
    ws.merge_cells("E2:F2")
    for col in "ABCD":
        ws.merge_cells(f"{col}2:{col}3")
    ws.append(["县教育局", 25, 2, 0, 0, 0])
    ws.append(["石滩乡人民政府", 9, 1, 0, 1, 1])
    ws.append(["合 计", 34, 3, 0, 1, 1])


def unit_workbook(workbook: openpyxl.Workbook) -> None:
    ws = workbook.active
    ws.title = "成员单位"
    unit_sheet(ws)


def format_sheet(ws: Worksheet) -> None:
    """One table whose cells carry number formats, dates and a wrapped text cell."""
    ws.title = "分类"
    ws.append(["问题分类", "受理件数", "超期结案率", "占比", "均值", "日期"])
    ws.append(["城乡建设", 163, 0.0065, 0.25, 12.5, dt.date(2020, 9, 30)])
    ws.append(["市住房和城\n乡建设局", 46.0, 0.0248, 1, 0.1 + 0.2, dt.datetime(2020, 10, 9, 8, 30)])
    for row in (2, 3):
        ws.cell(row=row, column=3).number_format = "0.00%"
        ws.cell(row=row, column=4).number_format = "0%"
    ws["E2"].number_format = "0.00"
    ws["F2"].number_format = "yyyy-mm-dd"
    ws["F3"].number_format = "yyyy-mm-dd hh:mm"


def format_workbook(workbook: openpyxl.Workbook) -> None:
    format_sheet(workbook.active)


# --- XLSX: tables ---------------------------------------------------------------------


def test_merged_two_row_header_is_joined_and_title_row_becomes_title() -> None:
    doc = read_xlsx(xlsx_bytes(unit_workbook), "units.xlsx")
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.title == UNIT_TITLE
    assert table.header == UNIT_HEADER
    assert table.rows == [
        ["县教育局", "25", "2", "0", "0", "0"],
        ["石滩乡人民政府", "9", "1", "0", "1", "1"],
        ["合 计", "34", "3", "0", "1", "1"],
    ]
    assert table.document == "units.xlsx"


def test_text_has_title_line_then_pipe_rows() -> None:
    doc = read_xlsx(xlsx_bytes(unit_workbook), "units.xlsx")
    lines = doc.text.splitlines()
    assert lines[0] == UNIT_TITLE
    assert lines[1] == " | ".join(UNIT_HEADER) + " |"
    assert "石滩乡人民政府 | 9 | 1 | 0 | 1 | 1 |" in lines
    assert lines[-1] == "合 计 | 34 | 3 | 0 | 1 | 1 |"


def test_cells_printed_in_their_number_format() -> None:
    table = read_xlsx(xlsx_bytes(format_workbook), "formats.xlsx").tables[0]
    assert table.title == "分类"  # no title row: the sheet name
    assert table.header == ["问题分类", "受理件数", "超期结案率", "占比", "均值", "日期"]
    assert table.rows == [
        ["城乡建设", "163", "0.65%", "25%", "12.50", "2020-09-30"],
        ["市住房和城乡建设局", "46", "2.48%", "100%", "0.3", "2020-10-09T08:30:00"],
    ]


@pytest.mark.parametrize(
    ("value", "number_format", "printed"),
    [
        (0.0055, "0.00%", "0.55%"),
        (0.9841, "0.00%", "98.41%"),
        (0.5, "0%", "50%"),
        (3338, "General", "3338"),
        (3338.0, "General", "3338"),
        (3338, "0", "3338"),
        (3338, "#,##0", "3338"),
        (12.5, "0.00", "12.50"),
        (12.5, "0.0#", "12.5"),
        (12.345, "0.0#", "12.35"),
        (0.1 + 0.2, "General", "0.3"),
        (1.25, None, "1.25"),
        (-7.0, "General", "-7"),
        (0.0055, "0.00%;[Red]-0.00%", "0.55%"),
        (0.0245, "0.0%", "2.5%"),  # Excel rounds half away from zero on 15 digits
        (2.675, "0.00", "2.68"),
        (-1.5, "0.00", "-1.50"),
        (float("inf"), "0.00", "inf"),
    ],
)
def test_format_number(value: float, number_format: str | None, printed: str) -> None:
    assert format_number(value, number_format) == printed


def test_formula_reads_cached_value() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws.append(["单位", "件数"])
        ws.append(["甲", 1])
        ws.append(["乙", 2])
        ws.append(["合计", "=B2+B3"])

    # openpyxl writes no cached value; Excel would store <v>3</v> next to the formula.
    data = replace_member(
        xlsx_bytes(fill),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<f>B2+B3</f><v></v>", b"<f>B2+B3</f><v>3</v>"),
    )
    table = read_xlsx(data, "formula.xlsx").tables[0]
    assert table.rows[-1] == ["合计", "3"]


def test_two_tables_on_one_sheet_and_a_note() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws.title = "附表"
        ws.append(["各县(市、区)来电情况"])
        ws.append(["县区", "来电量"])
        ws.append(["东昌府区", 120])
        ws.append(["临清市", 80])
        ws.append([])
        ws.append(["部门", "办结率"])
        ws.append(["市公安局", 0.95])
        ws["B7"].number_format = "0.0%"
        ws.append(["注：办结率为办结数除以受理数。"])

    doc = read_xlsx(xlsx_bytes(fill), "two.xlsx")
    assert [t.title for t in doc.tables] == ["各县(市、区)来电情况", "附表"]
    assert doc.tables[0].header == ["县区", "来电量"]
    assert doc.tables[0].rows == [["东昌府区", "120"], ["临清市", "80"]]
    assert doc.tables[1].header == ["部门", "办结率"]
    assert doc.tables[1].rows == [["市公安局", "95.0%"]]  # the note is not a row
    assert doc.text.rstrip().endswith("注：办结率为办结数除以受理数。")


def test_title_from_the_line_above_the_table() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws["B2"] = "9月份问题分类统计"
        ws["B4"] = "问题分类"
        ws["C4"] = "受理件数"
        ws["B5"] = "城市管理"
        ws["C5"] = 158

    doc = read_xlsx(xlsx_bytes(fill), "gap.xlsx")
    table = doc.tables[0]
    assert table.title == "9月份问题分类统计"
    assert table.header == ["问题分类", "受理件数"]  # column A is empty: not a column
    assert table.rows == [["城市管理", "158"]]
    assert doc.text.count("9月份问题分类统计") == 1


def test_tall_merged_header_with_a_row_of_merged_cells_only() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws["A2"] = "单位名称"
        ws["B2"] = "超期工单"
        ws["B4"] = "超期已办结"
        ws["C4"] = "超期未办理"
        ws.merge_cells("A2:A4")
        ws.merge_cells("B2:C3")  # row 3 holds no value of its own
        ws.append(["草市镇人民政府", 3, 2])

    table = read_xlsx(xlsx_bytes(fill), "tall_header.xlsx").tables[0]
    assert table.header == ["单位名称", "超期工单/超期已办结", "超期工单/超期未办理"]
    assert table.rows == [["草市镇人民政府", "3", "2"]]


def test_unmerged_two_row_header() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws.append(["单位名称", "受理案件数", "超期工单", None])
        ws.append([None, None, "超期已办结", "超期未办理"])
        ws.append(["草市镇人民政府", 13, 3, 2])

    table = read_xlsx(xlsx_bytes(fill), "plain.xlsx").tables[0]
    assert table.header == ["单位名称", "受理案件数", "超期工单/超期已办结", "超期工单/超期未办理"]
    assert table.rows == [["草市镇人民政府", "13", "3", "2"]]


def test_hidden_sheet_is_skipped_and_sheets_keep_order() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        unit_workbook(workbook)
        hidden = workbook.create_sheet("lookup")
        hidden.append(["code", "name"])
        hidden.append([1, "隐藏"])
        hidden.sheet_state = "hidden"
        second = workbook.create_sheet("第二")
        second.append(["渠道", "件数"])
        second.append(["电话", 4630])

    doc = read_xlsx(xlsx_bytes(fill), "sheets.xlsx")
    assert [t.title for t in doc.tables] == [UNIT_TITLE, "第二"]
    assert "隐藏" not in doc.text


def test_meta_from_document_properties() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        unit_workbook(workbook)
        workbook.properties.title = "衡东县12345热线9月份运行情况"
        workbook.properties.creator = "衡东县行政审批服务局"
        workbook.properties.created = dt.datetime(2020, 10, 9, 9, 0)

    meta = read_xlsx(xlsx_bytes(fill), "meta.xlsx").meta
    assert meta["title"] == "衡东县12345热线9月份运行情况"
    assert meta["author"] == "衡东县行政审批服务局"
    assert meta["created"] == "2020-10-09T09:00:00"


# --- XLSX: limits -------------------------------------------------------------------


def test_million_empty_rows_cost_only_the_rows_held() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        unit_workbook(workbook)
        workbook.active["A1048576"] = "末行"

    doc = read_xlsx(xlsx_bytes(fill), "tall.xlsx")
    assert len(doc.tables) == 1
    assert len(doc.tables[0].rows) == 3
    assert doc.text.rstrip().endswith("末行")
    assert len(doc.text.splitlines()) < 10  # no line per empty row


def test_cell_cap() -> None:
    data = xlsx_bytes(unit_workbook)  # 26 cells
    with pytest.raises(ParseError, match=r"cap\.xlsx.*more than 10 cells"):
        read_xlsx(data, "cap.xlsx", max_cells=10)
    assert read_xlsx(data, "cap.xlsx", max_cells=100).tables


def test_cells_far_apart_do_not_make_a_huge_grid() -> None:
    def fill(workbook: openpyxl.Workbook) -> None:
        ws = workbook.active
        ws["A1"] = "单位"
        ws["XFD1"] = "件数"  # the last column of a sheet
        for row in range(2, 22):
            ws.cell(row=row, column=1, value=f"单位{row}")
            ws.cell(row=row, column=2, value=row)

    with pytest.raises(ParseError, match=r"wide\.xlsx: .*21 rows x 16384 columns"):
        read_xlsx(xlsx_bytes(fill), "wide.xlsx", max_cells=10_000)


def test_merge_over_the_whole_sheet_is_clipped_to_the_table() -> None:
    # openpyxl would create a MergedCell for each of the 17 billion cells: write the XML.
    data = replace_member(
        xlsx_bytes(unit_workbook),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<mergeCell ref="E2:F2"/>', b'<mergeCell ref="A2:XFD1048576"/>'),
    )
    table = read_xlsx(data, "merge.xlsx").tables[0]
    assert table.title == UNIT_TITLE
    assert len(table.header) == 6
    assert table.rows[0] == ["县教育局", "25", "2", "0", "0", "0"]
    assert len(table.rows) == 3


def test_file_size_cap() -> None:
    with pytest.raises(ParseError, match="big.xlsx"):
        read_xlsx(xlsx_bytes(unit_workbook), "big.xlsx", max_bytes=1000)


def test_unzipped_size_cap() -> None:
    with pytest.raises(ParseError, match=r"unzip\.xlsx: unpacks to \d+ bytes"):
        read_xlsx(xlsx_bytes(unit_workbook), "unzip.xlsx", max_unzipped_bytes=2000)


def test_zip_bomb_member_refused() -> None:
    padding = b" " * (4 * 1024 * 1024)  # compresses about 1000 to 1
    data = replace_member(
        xlsx_bytes(unit_workbook),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding),
    )
    with pytest.raises(ParseError, match=r"bomb\.xlsx: xl/worksheets/sheet1\.xml is compressed"):
        read_xlsx(data, "bomb.xlsx")


def test_xml_entities_refused() -> None:
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    data = replace_member(
        xlsx_bytes(unit_workbook),
        "xl/worksheets/sheet1.xml",
        lambda xml: doctype + xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else doctype + xml,
    )
    with pytest.raises(ParseError, match=r"dtd\.xlsx: xl/worksheets/sheet1\.xml declares a DTD"):
        read_xlsx(data, "dtd.xlsx")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        b"plain text, not a workbook",
        b"",
    ],
)
def test_garbage_xlsx(data: bytes) -> None:
    with pytest.raises(ParseError, match="broken.xlsx"):
        read_xlsx(data, "broken.xlsx")


def test_truncated_xlsx() -> None:
    data = xlsx_bytes(unit_workbook)
    with pytest.raises(ParseError, match="cut.xlsx"):
        read_xlsx(data[: len(data) // 2], "cut.xlsx")


def test_zip_that_is_no_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(ParseError, match="other.xlsx"):
        read_xlsx(buffer.getvalue(), "other.xlsx")


def test_workbook_with_broken_part() -> None:
    data = replace_member(
        xlsx_bytes(unit_workbook), "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]
    )
    with pytest.raises(ParseError, match="part.xlsx"):
        read_xlsx(data, "part.xlsx")


def test_encrypted_xlsx_is_an_ole_file() -> None:
    # A password-protected XLSX is an OLE compound file holding EncryptedPackage.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
    with pytest.raises(ParseError, match=r"secret\.xlsx: .*encrypted"):
        read_xlsx(data, "secret.xlsx")


# --- XLS ----------------------------------------------------------------------------


def soffice_convert(data: bytes, workdir: Path) -> bytes:
    """The XLSX converted to XLS (BIFF8) by LibreOffice."""
    source = workdir / "book.xlsx"
    source.write_bytes(data)
    profile = f"file:///tmp/lo-spreadsheet-test-{uuid.uuid4().hex}"
    try:
        subprocess.run(
            [
                "soffice",
                "--headless",
                f"-env:UserInstallation={profile}",
                "--convert-to",
                "xls",
                "--outdir",
                str(workdir),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    return (workdir / "book.xls").read_bytes()


@pytest.fixture(scope="module")
def xls_unit_and_formats(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An .xls with the unit table on one sheet and the format table on another."""
    if shutil.which("soffice") is None:
        pytest.skip("soffice (LibreOffice) is not installed: cannot make .xls test files")

    def fill(workbook: openpyxl.Workbook) -> None:
        unit_workbook(workbook)
        format_sheet(workbook.create_sheet())

    return soffice_convert(xlsx_bytes(fill), tmp_path_factory.mktemp("xls"))


def test_xls_merged_header_formats_and_title(xls_unit_and_formats: bytes) -> None:
    doc = read_xls(xls_unit_and_formats, "units.xls")
    units = doc.tables[0]
    assert units.title == UNIT_TITLE
    assert units.header == UNIT_HEADER
    assert units.rows[0] == ["县教育局", "25", "2", "0", "0", "0"]
    assert units.rows[-1] == ["合 计", "34", "3", "0", "1", "1"]
    assert units.document == "units.xls"
    assert doc.text.splitlines()[0] == UNIT_TITLE
    assert "县教育局 | 25 | 2 | 0 | 0 | 0 |" in doc.text


def test_xls_number_formats(xls_unit_and_formats: bytes) -> None:
    formats = read_xls(xls_unit_and_formats, "formats.xls").tables[1]
    assert formats.rows == [
        ["城乡建设", "163", "0.65%", "25%", "12.50", "2020-09-30"],
        ["市住房和城乡建设局", "46", "2.48%", "100%", "0.3", "2020-10-09T08:30:00"],
    ]


def test_encrypted_xls(xls_unit_and_formats: bytes) -> None:
    # A FILEPASS record (type 0x002F) right after the workbook's BOF marks an encrypted BIFF
    # file: turn the record that follows the BOF into one.
    data = bytearray(xls_unit_and_formats)
    bof = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # BIFF8 workbook globals
    assert bof > 0
    data[bof + 20 : bof + 22] = b"\x2f\x00"
    with pytest.raises(ParseError, match=r"secret\.xls: .*encrypted"):
        read_xls(bytes(data), "secret.xls")


def test_xls_cell_cap(xls_unit_and_formats: bytes) -> None:
    with pytest.raises(ParseError, match="cap.xls"):
        read_xls(xls_unit_and_formats, "cap.xls", max_cells=10)


@pytest.mark.parametrize(
    "data",
    [
        b"not an excel file at all",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
        b"",
    ],
)
def test_garbage_xls(data: bytes) -> None:
    with pytest.raises(ParseError, match="broken.xls"):
        read_xls(data, "broken.xls")


def test_xlsx_given_to_read_xls() -> None:
    with pytest.raises(ParseError, match="named.xls"):
        read_xls(xlsx_bytes(unit_workbook), "named.xls")


def test_truncated_xls(xls_unit_and_formats: bytes) -> None:
    with pytest.raises(ParseError, match="cut.xls"):
        read_xls(xls_unit_and_formats[:3000], "cut.xls")


def test_xls_size_cap(xls_unit_and_formats: bytes) -> None:
    with pytest.raises(ParseError, match="big.xls"):
        read_xls(xls_unit_and_formats, "big.xls", max_bytes=1000)


# --- shared fixtures made from the real seed tables -----------------------------------


def _seed_tables() -> dict[str, dict]:
    sys.path.insert(0, str(DOCUMENTS))
    try:
        from seed_tables import SEED_TABLES
    finally:
        sys.path.remove(str(DOCUMENTS))
    return SEED_TABLES


FIXTURE_TABLES = {
    "hengdong_2020-09_tables": ["hengdong_category", "hengdong_units"],
    "liaocheng_2015-06_tables": ["liaocheng_counties", "liaocheng_departments"],
}


def _normalised(cells: list[str]) -> list[str]:
    return [" ".join(cell.split()) for cell in cells]


def _table_titled(tables: list[Table], title: str) -> Table:
    matches = [t for t in tables if t.title == title]
    assert len(matches) == 1, f"{title!r} not among {[t.title for t in tables]}"
    return matches[0]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
@pytest.mark.parametrize("stem", sorted(FIXTURE_TABLES))
def test_seed_fixture_tables_cell_by_cell(stem: str, suffix: str) -> None:
    path = DOCUMENTS / f"{stem}{suffix}"
    if not path.exists():
        pytest.skip(
            f"{path.name} is not generated yet (tests/fixtures/documents/make_documents.py)"
        )
    reader = read_xlsx if suffix == ".xlsx" else read_xls
    doc = reader(path.read_bytes(), path.name)
    seed = _seed_tables()
    assert len(doc.tables) == len(FIXTURE_TABLES[stem])
    for key in FIXTURE_TABLES[stem]:
        expected = seed[key]
        table = _table_titled(doc.tables, expected["title"])
        assert _normalised(table.header) == _normalised(expected["header"])
        assert len(table.rows) == len(expected["rows"])
        for row, expected_row in zip(table.rows, expected["rows"], strict=True):
            assert _normalised(row) == _normalised(expected_row)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_hengdong_fixture_header_and_printed_figures(suffix: str) -> None:
    path = DOCUMENTS / f"hengdong_2020-09_tables{suffix}"
    if not path.exists():
        pytest.skip(
            f"{path.name} is not generated yet (tests/fixtures/documents/make_documents.py)"
        )
    reader = read_xlsx if suffix == ".xlsx" else read_xls
    doc = reader(path.read_bytes(), path.name)
    units = _table_titled(doc.tables, "9月份成员单位工单办理情况")
    assert units.header == UNIT_HEADER
    # Read by hand from seed 004: the totals rows of both tables.
    assert units.rows[-1][1:] == ["456", "46", "0", "18", "3"]
    category = _table_titled(doc.tables, "9月份群众诉求问题分类统计")
    assert category.rows[-1] == ["合计", "3338", "3285", "18", "0.55%"]
    assert category.rows[4] == ["农林畜牧水利", "296", "282", "7", "2.48%"]
    assert "合计 | 3338 | 3285 | 18 | 0.55% |" in doc.text
