"""Checks of the shared document fixtures themselves (tests/fixtures/documents/).

These read the files with the libraries directly (python-docx, openpyxl, xlrd, pypdfium2,
Pillow), never through the project's readers, so that a reader test failing against a
fixture points at the reader and not at the fixture.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import openpyxl
import pypdfium2
import pytest
import xlrd
from docx import Document
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table as DocxTable
from PIL import Image

DOCUMENTS_DIR = Path(__file__).parent / "fixtures" / "documents"


def _load_seed_tables() -> ModuleType:
    """Import tests/fixtures/documents/seed_tables.py by path (the directory is no package)."""
    spec = importlib.util.spec_from_file_location("seed_tables", DOCUMENTS_DIR / "seed_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed_tables = _load_seed_tables()
SEED_TABLES = seed_tables.SEED_TABLES
SEED_PROSE = seed_tables.SEED_PROSE
SEED_TITLES = seed_tables.SEED_TITLES
DOCUMENT_TABLES = seed_tables.DOCUMENT_TABLES

HENGDONG = "hengdong_2020-09"
LIAOCHENG = "liaocheng_2015-06"
DOCUMENT_NAMES = [HENGDONG, LIAOCHENG]

MAGIC = {
    "docx": b"PK\x03\x04",
    "xlsx": b"PK\x03\x04",
    "pdf": b"%PDF-",
    "doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2 compound file
    "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    "png": b"\x89PNG\r\n\x1a\n",
}
FIXTURE_FILES = [
    f"{name}_tables.{extension}"
    for name in DOCUMENT_NAMES
    for extension in ("docx", "pdf", "doc", "xlsx", "xls")
] + ["hengdong_2020-09_category_table.png"]


def _compact(text: str) -> str:
    """``text`` without any whitespace (PDF text layers add spaces between CJK and digits)."""
    return "".join(text.split())


# --- the files --------------------------------------------------------------------------


@pytest.mark.parametrize("filename", FIXTURE_FILES)
def test_fixture_file_exists_with_its_format_signature(filename: str) -> None:
    path = DOCUMENTS_DIR / filename
    assert path.is_file(), f"missing {filename}: run make_documents.py"
    extension = filename.rsplit(".", 1)[1]
    assert path.read_bytes()[: len(MAGIC[extension])] == MAGIC[extension]


# --- SEED_TABLES against the seed text, values read by hand -----------------------------


def test_seed_table_titles_and_headers() -> None:
    assert SEED_TABLES["hengdong_category"]["title"] == "9月份群众诉求问题分类统计"
    assert SEED_TABLES["hengdong_category"]["header"] == [
        "问题分类",
        "受理件数",
        "综合结案数",
        "超期结案数",
        "超期结案率",
    ]
    assert SEED_TABLES["hengdong_units"]["title"] == "9月份成员单位工单办理情况"
    assert SEED_TABLES["hengdong_units"]["header"] == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
    ]
    liaocheng_header = [
        "二级平台",
        "承办量",
        "办结率",
        "满意率",
        "督办量",
        "督办比",
        "领导接听",
        "省长信箱",
        "综合得分",
    ]
    assert SEED_TABLES["liaocheng_counties"]["title"] == "各县（市、区）平台办理情况表"
    assert SEED_TABLES["liaocheng_counties"]["header"] == liaocheng_header
    assert SEED_TABLES["liaocheng_departments"]["title"] == "各市直部门平台办理情况表"
    assert SEED_TABLES["liaocheng_departments"]["header"] == liaocheng_header


@pytest.mark.parametrize(
    ("key", "n_rows", "n_columns"),
    [
        ("hengdong_category", 18, 5),  # 17 categories + 合计
        ("hengdong_units", 50, 6),  # 49 units + 合 计
        ("liaocheng_counties", 11, 9),
        ("liaocheng_departments", 34, 9),  # 13 + 21 rows around the seed's page break
    ],
)
def test_seed_table_shapes(key: str, n_rows: int, n_columns: int) -> None:
    rows = SEED_TABLES[key]["rows"]
    assert len(rows) == n_rows
    assert {len(row) for row in rows} == {n_columns}


def test_seed_table_cells_read_by_hand() -> None:
    category = SEED_TABLES["hengdong_category"]["rows"]
    assert category[0] == ["交通运输管理", "56", "55", "0", "0.00%"]
    assert category[9] == ["民宗、外事、侨务、旅游", "3", "3", "0", "0.00%"]
    units = SEED_TABLES["hengdong_units"]["rows"]
    assert units[0] == ["县教育局", "25", "2", "0", "0", "0"]
    assert ["石滩乡人民政府", "9", "1", "0", "1", "1"] in units
    assert units[-2] == ["中国联通衡东分公司", "1", "0", "0", "1", "0"]
    assert units[-1] == ["合 计", "456", "46", "0", "18", "3"]
    counties = SEED_TABLES["liaocheng_counties"]["rows"]
    assert counties[0] == ["高新区", "262", "100.00%", "99.63%", "", "", "", "", "99.78"]
    assert counties[6] == [
        "江北水城 旅游度假区",
        "286",
        "94.41%",
        "99.03%",
        "",
        "",
        "",
        "",
        "97.74",
    ]
    assert counties[-1] == ["东阿", "706", "93.48%", "98.68%", "1", "10.00%", "", "", "96.25"]
    departments = SEED_TABLES["liaocheng_departments"]["rows"]
    assert departments[4] == ["市文广新局", "11", "100.00%", "100.00%", "", "", "1", "", "100.00"]
    assert departments[12] == ["市执法局", "656", "100.00%", "99.03%", "", "", "", "", "99.42"]
    assert departments[13] == ["市人社局", "50", "100.00%", "98.88%", "", "", "", "", "99.33"]
    assert departments[-1] == ["市司法局", "1", "0.00%", "0.00%", "", "", "", "", "0.00"]


def test_hengdong_category_total_row_equals_column_sums() -> None:
    rows = SEED_TABLES["hengdong_category"]["rows"]
    *body, total = rows
    assert total == ["合计", "3338", "3285", "18", "0.55%"]
    for column in (1, 2, 3):
        assert sum(int(row[column]) for row in body) == int(total[column])


def test_hengdong_category_overdue_rate_is_overdue_over_closed() -> None:
    # 超期结案率 = 超期结案数 / 综合结案数 in every row (0.55% = 18 / 3285), which checks
    # that no cell was shifted to a neighbouring column by the transcription.
    for row in SEED_TABLES["hengdong_category"]["rows"]:
        assert row[4] == f"{int(row[3]) / int(row[2]) * 100:.2f}%", row


def test_hengdong_units_total_row_equals_column_sums() -> None:
    *body, total = SEED_TABLES["hengdong_units"]["rows"]
    assert total[1:] == ["456", "46", "0", "18", "3"]
    for column in range(1, 6):
        assert sum(int(row[column]) for row in body) == int(total[column])


def test_seed_prose_holds_the_headline_figures() -> None:
    hengdong = "\n".join(SEED_PROSE[HENGDONG])
    for figure in ("总量4630次", "有效电子工单3338件", "综合办结数3285件", "98.41%", "97.80%"):
        assert figure in hengdong
    liaocheng = "\n".join(SEED_PROSE[LIAOCHENG])
    for figure in ("共呼入群众来电 43853 个", "受理来电工单 44082 个", "共计 8400 件", "11528个"):
        assert figure in liaocheng
    assert SEED_TITLES == {HENGDONG: "衡东县“12345”热线中心", LIAOCHENG: "市民服务热线(12345)月报"}


# --- DOCX (python-docx) -----------------------------------------------------------------


def _docx_header_and_rows(
    table: DocxTable, n_header_rows: int
) -> tuple[list[str], list[list[str]]]:
    """Header joined "upper/lower" where the two header rows differ, and the body rows."""
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    if n_header_rows == 1:
        return rows[0], rows[1:]
    header = [
        upper if upper == lower else f"{upper}/{lower}"
        for upper, lower in zip(rows[0], rows[1], strict=True)
    ]
    return header, rows[2:]


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_docx_tables_hold_exactly_the_seed_cells(name: str) -> None:
    document = Document(str(DOCUMENTS_DIR / f"{name}_tables.docx"))
    keys = DOCUMENT_TABLES[name]
    assert len(document.tables) == len(keys)
    for table, key in zip(document.tables, keys, strict=True):
        spec = SEED_TABLES[key]
        n_header_rows = 2 if any("/" in cell for cell in spec["header"]) else 1
        header, rows = _docx_header_and_rows(table, n_header_rows)
        assert header == spec["header"]
        assert rows == spec["rows"]


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_docx_paragraphs_are_title_prose_and_table_titles(name: str) -> None:
    document = Document(str(DOCUMENTS_DIR / f"{name}_tables.docx"))
    table_titles = [SEED_TABLES[key]["title"] for key in DOCUMENT_TABLES[name]]
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    assert paragraphs == [SEED_TITLES[name], *SEED_PROSE[name], *table_titles]
    # Each table directly follows its title paragraph in the body.
    body = list(document.element.body.iterchildren())
    for title in table_titles:
        index = next(i for i, el in enumerate(body) if el.tag == qn("w:p") and _text(el) == title)
        assert body[index + 1].tag == qn("w:tbl")


def _text(element: BaseOxmlElement) -> str:
    """The concatenated w:t text of an XML element."""
    return "".join(node.text or "" for node in element.iter(qn("w:t")))


def test_docx_unit_table_header_is_really_merged() -> None:
    document = Document(str(DOCUMENTS_DIR / "hengdong_2020-09_tables.docx"))
    table = document.tables[1]
    upper_tcs = table.rows[0]._tr.tc_lst
    lower_tcs = table.rows[1]._tr.tc_lst
    # Row 1: four vertically merged cells, then 超期工单 spanning two grid columns.
    assert [_text(tc) for tc in upper_tcs] == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单",
    ]
    assert [tc.grid_span for tc in upper_tcs] == [1, 1, 1, 1, 2]
    assert [tc.vMerge for tc in upper_tcs[:4]] == ["restart"] * 4
    # Row 2: the continuations of the four merged cells, then the two sub-headers.
    assert [tc.vMerge for tc in lower_tcs[:4]] == ["continue"] * 4
    assert [_text(tc) for tc in lower_tcs] == ["", "", "", "", "超期已办结", "超期未办理"]


# --- XLSX (openpyxl) and XLS (xlrd) -----------------------------------------------------


def _display(value: object, number_format: str) -> str:
    """The text Excel shows for a cell value under the fixtures' number formats."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    places = len(number_format.split(".")[1].rstrip("%")) if "." in number_format else 0
    if number_format.endswith("%"):
        return f"{value * 100:.{places}f}%"
    return f"{value:.{places}f}"


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_xlsx_sheets_hold_exactly_the_seed_cells(name: str) -> None:
    workbook = openpyxl.load_workbook(DOCUMENTS_DIR / f"{name}_tables.xlsx")
    keys = DOCUMENT_TABLES[name]
    assert workbook.sheetnames == [SEED_TABLES[key]["title"] for key in keys]
    for sheet, key in zip(workbook.worksheets, keys, strict=True):
        spec = SEED_TABLES[key]
        n_cols = len(spec["header"])
        assert sheet["A1"].value == spec["title"]
        assert f"A1:{openpyxl.utils.get_column_letter(n_cols)}1" in {
            str(cell_range) for cell_range in sheet.merged_cells.ranges
        }
        n_header_rows = 2 if any("/" in cell for cell in spec["header"]) else 1
        first_body_row = 2 + n_header_rows
        assert sheet.max_row == first_body_row - 1 + len(spec["rows"])
        assert sheet.max_column == n_cols
        cells = [
            [_display(cell.value, cell.number_format) for cell in row]
            for row in sheet.iter_rows(min_row=first_body_row)
        ]
        assert cells == spec["rows"]


def test_xlsx_unit_sheet_has_the_merged_two_row_header() -> None:
    workbook = openpyxl.load_workbook(DOCUMENTS_DIR / "hengdong_2020-09_tables.xlsx")
    sheet = workbook["9月份成员单位工单办理情况"]
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert merged == {"A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2"}
    assert [cell.value for cell in sheet[2]] == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单",
        None,
    ]
    assert [cell.value for cell in sheet[3]][4:] == ["超期已办结", "超期未办理"]


def test_xlsx_numbers_are_stored_as_numbers() -> None:
    workbook = openpyxl.load_workbook(DOCUMENTS_DIR / "hengdong_2020-09_tables.xlsx")
    total = workbook["9月份群众诉求问题分类统计"][20]  # title, header, 17 rows (3-19), 合计
    assert [cell.value for cell in total[:4]] == ["合计", 3338, 3285, 18]
    assert total[4].value == pytest.approx(0.0055)
    assert total[4].number_format == "0.00%"


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_xls_sheets_hold_the_seed_values(name: str) -> None:
    book = xlrd.open_workbook(str(DOCUMENTS_DIR / f"{name}_tables.xls"))
    keys = DOCUMENT_TABLES[name]
    assert book.sheet_names() == [SEED_TABLES[key]["title"] for key in keys]
    for sheet, key in zip(book.sheets(), keys, strict=True):
        spec = SEED_TABLES[key]
        n_header_rows = 2 if any("/" in cell for cell in spec["header"]) else 1
        first_body_row = 1 + n_header_rows  # 0-based: title row, header row(s)
        assert sheet.nrows == first_body_row + len(spec["rows"])
        for row_offset, expected_row in enumerate(spec["rows"]):
            values = sheet.row_values(first_body_row + row_offset)
            for value, expected in zip(values, expected_row, strict=True):
                if expected.endswith("%"):
                    assert value * 100 == pytest.approx(float(expected[:-1])), expected_row
                elif re.fullmatch(r"-?\d+(\.\d+)?", expected):
                    assert value == pytest.approx(float(expected)), expected_row
                else:
                    assert value == expected


# --- DOC (antiword, when installed) -----------------------------------------------------


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword is not installed")
@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_doc_text_holds_known_cells(name: str) -> None:
    result = subprocess.run(
        ["antiword", "-w", "0", str(DOCUMENTS_DIR / f"{name}_tables.doc")],
        capture_output=True,
        check=True,
    )
    text = result.stdout.decode("utf-8")
    assert SEED_PROSE[name][-1] in text
    for key in DOCUMENT_TABLES[name]:
        for row in (SEED_TABLES[key]["rows"][0], SEED_TABLES[key]["rows"][-1]):
            # antiword prints a row as "|cell |cell |", empty cells as blanks.
            assert re.search(r"\s*\|\s*".join(map(re.escape, row)), text), row


# --- PDF (pypdfium2) --------------------------------------------------------------------


def _pdf_pages(name: str) -> list[str]:
    """The text layer of each page of the fixture PDF, whitespace removed."""
    document = pypdfium2.PdfDocument(str(DOCUMENTS_DIR / f"{name}_tables.pdf"))
    try:
        return [_compact(page.get_textpage().get_text_range()) for page in document]
    finally:
        document.close()


def test_hengdong_pdf_text_layer_holds_known_cells() -> None:
    pages = _pdf_pages(HENGDONG)
    assert len(pages) == 3
    text = "".join(pages)
    for cell in ("公安执法和交通秩序管理", "0.55%", "超期已办结", "湖南移动衡东分公司"):
        assert cell in text
    assert "合计3338328518" in text  # the category totals row, in reading order
    assert "有效电子工单3338件" in pages[0]  # the prose


def test_liaocheng_pdf_department_table_runs_over_a_page_break() -> None:
    pages = _pdf_pages(LIAOCHENG)
    assert len(pages) == 3
    assert "各市直部门平台办理情况表" in pages[1]
    # The page break falls between 古城保护与改造指挥部 (row 29) and 市广电总台 (row 30).
    assert "古城保护与改造指挥部2185.71%95.45%92.98" in pages[1]
    assert "市广电总台" not in pages[1]
    assert "市广电总台3381.82%97.37%92.97" in pages[2]
    assert "市司法局10.00%0.00%0.00" in pages[2]
    assert "江北水城旅游度假区" in pages[1]  # the county table also runs from page 1 to 2


# --- PNG (Pillow) -----------------------------------------------------------------------


def test_category_table_png_has_a_plausible_size() -> None:
    with Image.open(DOCUMENTS_DIR / "hengdong_2020-09_category_table.png") as image:
        assert image.format == "PNG"
        width, height = image.size
        # 200 dpi render of a ~16 cm wide table of 19 rows, cropped to the printed area.
        assert 1000 <= width <= 1700
        assert 700 <= height <= 1400
        grey = image.convert("L")
        dark_pixels = sum(grey.histogram()[:128])
        assert 0.02 < dark_pixels / (width * height) < 0.5  # ink, but not a black page
