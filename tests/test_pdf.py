"""The PDF reader: seed-table fixtures, PDFs made here with LibreOffice, and bad files."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from PIL import Image, ImageDraw

from parsers.errors import ParseError
from parsers.model import ExtractedDocument, Table
from parsers.pdf import (
    clean_cell,
    intersections_to_cells,
    join_wrapped,
    page_edges,
    read_pdf,
)

DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"
HENGDONG_PDF = DOCUMENTS / "hengdong_2020-09_tables.pdf"
LIAOCHENG_PDF = DOCUMENTS / "liaocheng_2015-06_tables.pdf"
FONT = "Noto Sans CJK SC"
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")

UNIT_HEADER = ["单位名称", "受理案件数", "待办理数", "未及时签收数", "超期工单/超期已办结",
               "超期工单/超期未办理"]  # fmt: skip
HEADLINE = (
    "9月份,衡东县政府服务热线接收市民来电总量4630次,共形成有效电子工单3338件,"
    "其中在线办结数2882件,转办工单456件。本月已综合办结数3285件,综合办结率98.41%,"
    "市民对办理结果的满意率为97.80%。"
)


def _seed_module():
    spec = importlib.util.spec_from_file_location("seed_tables", DOCUMENTS / "seed_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed_tables() -> dict[str, dict]:
    return _seed_module().SEED_TABLES


def _unspaced(text: str) -> str:
    return "".join(text.split())


def _squash(cells: list[str]) -> list[str]:
    """Cells with runs of whitespace made one space (the only normalisation compared away)."""
    return [" ".join(cell.split()) for cell in cells]


# --- documents made here -------------------------------------------------------------


def _font(run, size: float = 10.5) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def _paragraph(document, text: str) -> None:
    _font(document.add_paragraph().add_run(text))


def _table(document, widths_cm: list[float], header_rows: list[list[str]], rows: list[list[str]]):
    table = document.add_table(rows=len(header_rows) + len(rows), cols=len(widths_cm))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in enumerate(widths_cm):
        for cell in table.columns[column].cells:
            cell.width = Cm(width)
    for r, row in enumerate([*header_rows, *rows]):
        for c, text in enumerate(row):
            if text:
                _font(table.cell(r, c).paragraphs[0].add_run(text))
    return table


def _unit_table(document, rows: list[list[str]], repeat_header: bool):
    """The Hengdong unit-table layout: 超期工单 over two sub-headers, the rest merged down."""
    upper = ["单位名称", "受理案件数", "待办理数", "未及时签收数", "超期工单", ""]
    lower = ["", "", "", "", "超期已办结", "超期未办理"]
    table = _table(document, [4.0, 2.2, 2.0, 2.6, 2.4, 2.4], [upper, lower], rows)
    table.cell(0, 4).merge(table.cell(0, 5))
    for column in range(4):
        table.cell(0, column).merge(table.cell(1, column))
    if repeat_header:
        for row in table.rows[:2]:
            marker = OxmlElement("w:tblHeader")
            marker.set(qn("w:val"), "true")
            row._tr.get_or_add_trPr().append(marker)


UNIT_ROWS = [[f"第{n}单位", str(n), str(n % 3), "0", str(n % 2), "0"] for n in range(1, 71)]
WRAPPED_ROWS = [
    ["市住房和城乡建设局", "12", "98.50%"],
    ["Municipal hotline service centre", "7", "100.00%"],
    ["县单位10局", "3", "66.67%"],
]


SPLIT_ROWS = [
    [f"聊城市第{n}住房和城乡建设委员会执法大队", str(n), "0", "0", "1", "0"] for n in range(1, 31)
]


def _split_row_docx(path: Path) -> None:
    """Four-line unit names: the page break falls inside a row, which is then split."""
    document = Document()
    _paragraph(document, "成员单位工单办理情况")
    _table(document, [2.0, 2.2, 2.0, 2.6, 2.4, 2.4], [UNIT_HEADER], SPLIT_ROWS)
    document.save(path)


def _wrapped_docx(path: Path) -> None:
    document = Document()
    document.core_properties.title = "衡东县12345热线9月份运行概况"
    _paragraph(document, HEADLINE * 2)
    _paragraph(document, "各单位办理情况")
    _table(document, [2.6, 2.0, 2.4], [["单位", "件数", "办结率"]], WRAPPED_ROWS)
    _paragraph(document, "以上为本月情况。")
    document.save(path)


def _page_break_docx(path: Path, repeat_header: bool) -> None:
    document = Document()
    _paragraph(document, "三、9月份成员单位工单办理情况")
    _unit_table(document, UNIT_ROWS, repeat_header)
    _paragraph(document, "工单办理较差成员单位情况")
    document.save(path)


def _soffice_pdf(sources: list[Path], out: Path, profile: Path, export: str = "pdf") -> None:
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", export, "--outdir", str(out), *map(str, sources)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip


@pytest.fixture(scope="module")
def made_pdfs(tmp_path_factory) -> dict[str, bytes]:
    """PDFs converted by LibreOffice from DOCX files built here (one soffice run per kind)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) not installed")
    work = tmp_path_factory.mktemp("pdf")
    sources = {
        "wrapped": work / "wrapped.docx",
        "page_break": work / "page_break.docx",
        "repeated_header": work / "repeated_header.docx",
        "split_row": work / "split_row.docx",
    }
    _wrapped_docx(sources["wrapped"])
    _page_break_docx(sources["page_break"], repeat_header=False)
    _page_break_docx(sources["repeated_header"], repeat_header=True)
    _split_row_docx(sources["split_row"])
    _soffice_pdf(list(sources.values()), work / "out", work / "profile")
    encrypt = (
        'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
        '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
    )
    _soffice_pdf([sources["wrapped"]], work / "encrypted", work / "profile", encrypt)
    made = {key: (work / "out" / f"{path.stem}.pdf").read_bytes() for key, path in sources.items()}
    made["encrypted"] = (work / "encrypted" / "wrapped.pdf").read_bytes()
    return made


def _image_only_pdf() -> bytes:
    """A one-page PDF holding only a picture of text (a scan): no text layer."""
    picture = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(picture).text((20, 80), "12345 hotline 3338", fill="black")
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(600, 200)
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(picture))
    image.set_matrix(pdfium.PdfMatrix().scale(600, 200))
    page.insert_obj(image)
    page.gen_content()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


# --- the pieces ----------------------------------------------------------------------


def test_clean_cell_joins_wrapped_chinese_without_space() -> None:
    assert clean_cell("市住房和城\r\n乡建设局") == "市住房和城乡建设局"


def test_clean_cell_joins_wrapped_latin_with_space() -> None:
    assert clean_cell("Hotline service\r\ncentre") == "Hotline service centre"


def test_clean_cell_removes_pdfium_space_between_cjk_and_digit() -> None:
    assert clean_cell("县单位 10\r\n局") == "县单位10局"
    assert clean_cell("合 计") == "合 计"


def test_join_wrapped_mixed() -> None:
    assert join_wrapped("共计", "8400件") == "共计8400件"
    assert join_wrapped("12345", "hotline") == "12345 hotline"


def test_intersections_to_cells_matches_pdfplumber() -> None:
    """Our faster cell step gives pdfplumber's cells, in its order, on every fixture page."""
    from pdfplumber import table as plumber

    checked = 0
    for path in (HENGDONG_PDF, LIAOCHENG_PDF):
        pdf = pdfium.PdfDocument(_fixture(path))
        for index in range(len(pdf)):
            edges = plumber.merge_edges(list(page_edges(pdf[index])), 3, 3, 3, 3)
            intersections = plumber.edges_to_intersections(edges, 3, 3)
            expected = plumber.intersections_to_cells(intersections)
            assert intersections_to_cells(intersections) == expected
            checked += len(expected)
        pdf.close()
    assert checked > 200  # the fixture tables have hundreds of cells


# --- documents made here -------------------------------------------------------------


@needs_soffice
def test_wrapped_cells_and_title(made_pdfs: dict[str, bytes]) -> None:
    extracted = read_pdf(made_pdfs["wrapped"], "wrapped.pdf")
    assert len(extracted.tables) == 1
    table = extracted.tables[0]
    assert table.header == ["单位", "件数", "办结率"]
    assert table.rows == WRAPPED_ROWS
    assert table.title == "各单位办理情况"
    assert table.page == 1


@needs_soffice
def test_prose_reflowed_and_tables_rendered_in_place(made_pdfs: dict[str, bytes]) -> None:
    extracted = read_pdf(made_pdfs["wrapped"], "wrapped.pdf")
    lines = extracted.text.split("\n")
    # The paragraph wraps over several lines on the page; read back it is one line.
    assert lines[0] == HEADLINE * 2
    assert lines[1:] == [
        "各单位办理情况",
        "单位 | 件数 | 办结率 |",
        "市住房和城乡建设局 | 12 | 98.50% |",
        "Municipal hotline service centre | 7 | 100.00% |",
        "县单位10局 | 3 | 66.67% |",
        "以上为本月情况。",
    ]


@needs_soffice
def test_metadata(made_pdfs: dict[str, bytes]) -> None:
    meta = read_pdf(made_pdfs["wrapped"]).meta
    assert meta["title"] == "衡东县12345热线9月份运行概况"
    assert meta["text_layer"] == "full"
    assert meta["page_count"] == "1"
    assert "truncated" not in meta


@needs_soffice
@pytest.mark.parametrize("kind", ["page_break", "repeated_header"])
def test_table_over_a_page_break_is_one_table(made_pdfs: dict[str, bytes], kind: str) -> None:
    extracted = read_pdf(made_pdfs[kind], f"{kind}.pdf")
    assert extracted.pages is not None and extracted.pages >= 2
    assert len(extracted.tables) == 1
    table = extracted.tables[0]
    assert table.header == UNIT_HEADER
    assert table.rows == UNIT_ROWS
    assert table.page == 1
    assert table.title == "三、9月份成员单位工单办理情况"
    header_line = " | ".join(UNIT_HEADER) + " |"
    assert extracted.text.count(header_line) == 1
    assert "第70单位 | 70 | 1 | 0 | 0 | 0 |" in extracted.text.split("\n")
    assert extracted.text.rstrip().endswith("工单办理较差成员单位情况")


@needs_soffice
def test_row_broken_over_a_page_is_joined(made_pdfs: dict[str, bytes]) -> None:
    pdf = pdfium.PdfDocument(made_pdfs["split_row"])
    second_page = pdf[1].get_textpage().get_text_range()
    pdf.close()
    # The premise: page 2 starts inside a row (the rest of a wrapped unit name).
    assert not second_page.startswith("聊城市第")
    extracted = read_pdf(made_pdfs["split_row"], "split_row.pdf")
    assert len(extracted.tables) == 1
    assert extracted.tables[0].rows == SPLIT_ROWS


@needs_soffice
def test_page_cap_reads_the_first_pages(made_pdfs: dict[str, bytes]) -> None:
    extracted = read_pdf(made_pdfs["page_break"], max_pages=1)
    assert extracted.pages == 1
    assert extracted.meta["truncated"] == "true"
    assert int(extracted.meta["page_count"]) >= 2
    assert extracted.tables[0].rows[0] == UNIT_ROWS[0]
    assert UNIT_ROWS[-1] not in extracted.tables[0].rows
    assert "工单办理较差成员单位情况" not in extracted.text


@needs_soffice
def test_partial_text_layer(made_pdfs: dict[str, bytes]) -> None:
    combined = pdfium.PdfDocument.new()
    combined.import_pages(pdfium.PdfDocument(made_pdfs["wrapped"]))
    combined.import_pages(pdfium.PdfDocument(_image_only_pdf()))
    buffer = io.BytesIO()
    combined.save(buffer)
    extracted = read_pdf(buffer.getvalue(), "half_scanned.pdf")
    assert extracted.pages == 2
    assert extracted.meta["text_layer"] == "partial"
    assert extracted.meta["pages_without_text"] == "2"
    assert extracted.tables[0].rows == WRAPPED_ROWS


@needs_soffice
def test_encrypted_pdf(made_pdfs: dict[str, bytes]) -> None:
    with pytest.raises(ParseError, match="encrypted") as raised:
        read_pdf(made_pdfs["encrypted"], "secret.pdf")
    assert "secret.pdf" in str(raised.value)


@needs_soffice
@pytest.mark.parametrize("fraction", [0.3, 0.7, 0.99])
def test_truncated_pdf(made_pdfs: dict[str, bytes], fraction: float) -> None:
    data = made_pdfs["wrapped"]
    with pytest.raises(ParseError, match="cut.pdf"):
        read_pdf(data[: int(len(data) * fraction)], "cut.pdf")


def test_not_a_pdf() -> None:
    with pytest.raises(ParseError, match="not a PDF"):
        read_pdf(b"<html><body>404</body></html>", "page.pdf")


def test_corrupt_body() -> None:
    data = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
    with pytest.raises(ParseError, match="corrupt"):
        read_pdf(data, "noise.pdf")


def test_size_cap() -> None:
    data = _image_only_pdf()
    with pytest.raises(ParseError, match="over the limit"):
        read_pdf(data, "big.pdf", max_bytes=len(data) - 1)


def test_no_text_layer() -> None:
    extracted = read_pdf(_image_only_pdf(), "scan.pdf")
    assert isinstance(extracted, ExtractedDocument)
    assert extracted.text == ""
    assert extracted.tables == []
    assert extracted.meta["text_layer"] == "none"
    assert extracted.pages == 1
    assert extracted.ocr is False


# --- the shared seed-table fixtures --------------------------------------------------


def _fixture(path: Path) -> bytes:
    if not path.exists():
        pytest.skip(f"{path.name} not generated yet (tests/fixtures/documents/make_documents.py)")
    return path.read_bytes()


def _assert_table_is_seed(table: Table, seed: dict) -> None:
    assert _squash(table.header) == _squash(seed["header"])
    assert len(table.rows) == len(seed["rows"])
    for row, seed_row in zip(table.rows, seed["rows"], strict=True):
        assert _squash(row) == _squash(seed_row)


def test_hengdong_tables_equal_the_seed() -> None:
    extracted = read_pdf(_fixture(HENGDONG_PDF), HENGDONG_PDF.name)
    seeds = _seed_tables()
    assert len(extracted.tables) == 2
    category, units = extracted.tables
    _assert_table_is_seed(category, seeds["hengdong_category"])
    _assert_table_is_seed(units, seeds["hengdong_units"])
    assert units.header == UNIT_HEADER
    assert units.rows[-1][0].replace(" ", "") == "合计"
    assert units.rows[-1][1:] == ["456", "46", "0", "18", "3"]


def test_hengdong_prose() -> None:
    text = read_pdf(_fixture(HENGDONG_PDF), HENGDONG_PDF.name).text
    assert "共形成有效电子工单3338件" in text
    assert "接收市民来电总量4630次" in text
    assert "综合办结率98.41%" in text
    assert "市民对办理结果的满意率为97.80%" in text
    assert "交通运输管理 | 56 | 55 | 0 | 0.00% |" in text.split("\n")


@pytest.mark.parametrize("path", [HENGDONG_PDF, LIAOCHENG_PDF], ids=lambda p: p.stem)
def test_fixture_paragraphs_are_whole_lines(path: Path) -> None:
    """Each paragraph of the source, wrapped over lines (and pages) in the PDF, is one line."""
    extracted = read_pdf(_fixture(path), path.name)
    seeds = _seed_module()
    document = path.stem.removesuffix("_tables")
    lines = [_unspaced(line) for line in extracted.text.split("\n")]
    assert lines[0] == _unspaced(seeds.SEED_TITLES[document])
    for paragraph in seeds.SEED_PROSE[document]:
        assert _unspaced(paragraph) in lines
    titles = [table.title for table in extracted.tables]
    assert titles == [seeds.SEED_TABLES[key]["title"] for key in seeds.DOCUMENT_TABLES[document]]


def test_liaocheng_tables_equal_the_seed() -> None:
    extracted = read_pdf(_fixture(LIAOCHENG_PDF), LIAOCHENG_PDF.name)
    seeds = _seed_tables()
    assert len(extracted.tables) == 2
    counties, departments = extracted.tables
    _assert_table_is_seed(counties, seeds["liaocheng_counties"])
    # The department table runs over a page break: one table, all 34 rows, first page.
    _assert_table_is_seed(departments, seeds["liaocheng_departments"])
    assert departments.rows[0][0] == "市卫计委"
    assert departments.rows[-1][:4] == ["市司法局", "1", "0.00%", "0.00%"]
    assert departments.page is not None and extracted.pages is not None
    assert departments.page < extracted.pages


def test_liaocheng_prose() -> None:
    text = read_pdf(_fixture(LIAOCHENG_PDF), LIAOCHENG_PDF.name).text
    assert "共呼入群众来电43853个" in text
    assert "一次接通率为92.15%" in text
    assert "共转办群众来电工单11528个" in text
