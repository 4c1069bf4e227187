"""Tests for parsers/ocr.py: tables published only as pictures (images, scanned PDF pages)."""

from __future__ import annotations

import importlib.util
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers import ocr
from parsers.errors import ParseError
from parsers.model import Table
from parsers.ocr import confirmed_by_totals, ocr_pdf_pages, page_from_tsv, read_image

DOCUMENTS = Path(__file__).resolve().parent / "fixtures" / "documents"
CATEGORY_PNG = DOCUMENTS / "hengdong_2020-09_category_table.png"
HENGDONG_PDF = DOCUMENTS / "hengdong_2020-09_tables.pdf"
NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def _has_chi_sim() -> bool:
    exe = shutil.which("tesseract")
    if exe is None:
        return False
    listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, check=False)
    return "chi_sim" in listed.stdout.split()


HAS_OCR = _has_chi_sim()
needs_ocr = pytest.mark.skipif(
    not HAS_OCR, reason="tesseract with chi_sim not installed (tesseract-ocr-chi-sim)"
)
needs_font = pytest.mark.skipif(not NOTO.exists(), reason="Noto CJK font not installed")


def _seed_tables() -> dict[str, dict]:
    spec = importlib.util.spec_from_file_location("seed_tables", DOCUMENTS / "seed_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SEED_TABLES


def _table(rows: list[list[str]]) -> Table:
    return Table(title=None, header=[], rows=rows)


# --- confirmed_by_totals -----------------------------------------------------------------


def test_seed_category_table_is_confirmed_by_its_totals() -> None:
    # Seed 004: 56+17+...+1548 = 3338, 3285 closed, 18 overdue; 超期结案率 = 超期结案数/综合结案数.
    seed = _seed_tables()["hengdong_category"]
    assert confirmed_by_totals(_table(seed["rows"]))


def test_seed_unit_table_with_spaced_total_label_is_confirmed() -> None:
    # "合 计" 456 | 46 | 0 | 18 | 3: the sums of the 49 unit rows of seed 004.
    seed = _seed_tables()["hengdong_units"]
    assert seed["rows"][-1][0] == "合 计"
    assert confirmed_by_totals(_table(seed["rows"]))


def test_one_misread_count_breaks_the_confirmation() -> None:
    rows = [list(r) for r in _seed_tables()["hengdong_category"]["rows"]]
    rows[0][1] = "58"  # 交通运输管理 受理件数 is 56
    assert not confirmed_by_totals(_table(rows))


def test_one_misread_percentage_breaks_the_confirmation() -> None:
    rows = [list(r) for r in _seed_tables()["hengdong_category"]["rows"]]
    assert rows[4][:1] == ["农林畜牧水利"] and rows[4][4] == "2.48%"
    rows[4][4] = "2.43%"  # 7 / 282 = 2.48%: no pair of columns explains 2.43%
    assert not confirmed_by_totals(_table(rows))


def test_percentage_with_an_extra_digit_is_not_confirmed() -> None:
    rows = [list(r) for r in _seed_tables()["hengdong_category"]["rows"]]
    rows[11][4] = "1.079%"  # OCR read the % of 1.07% as 9%
    assert not confirmed_by_totals(_table(rows))


def test_blank_figure_cell_is_not_confirmed() -> None:
    rows = [["县教育局", "25", "2"], ["县公安局", "", "1"], ["合计", "25", "3"]]
    assert not confirmed_by_totals(_table(rows))


def test_dash_is_an_explicit_nil_but_a_dash_total_is_not_confirmed() -> None:
    assert confirmed_by_totals(_table([["甲", "5", "—"], ["乙", "7", "2"], ["合计", "12", "2"]]))
    assert not confirmed_by_totals(
        _table([["甲", "5", "1"], ["乙", "7", "2"], ["合计", "12", "—"]])
    )


def test_table_without_totals_row_is_not_confirmed() -> None:
    seed = _seed_tables()["liaocheng_departments"]
    assert not any(row[0].startswith(("合", "总")) for row in seed["rows"])
    assert not confirmed_by_totals(_table(seed["rows"]))


def test_serial_number_column_and_share_column() -> None:
    # 序号 1..3 is not summed; 占比 is each row's share of the 合计 count: 5/20, 7/20, 8/20.
    rows = [
        ["1", "城市管理", "5", "25.00%"],
        ["2", "社会保障", "7", "35.00%"],
        ["3", "资源环境", "8", "40.00%"],
        ["", "合计", "20", "100.00%"],
    ]
    assert confirmed_by_totals(_table(rows))
    rows[1][3] = "36.00%"
    assert not confirmed_by_totals(_table(rows))


def test_decimal_column_sums_within_rounding() -> None:
    rows = [["甲", "1.33"], ["乙", "1.33"], ["丙", "1.33"], ["合计", "4.00"]]
    assert confirmed_by_totals(_table(rows))  # 3.99 printed as 4.00 after rounding
    rows[0][1] = "1.53"
    assert not confirmed_by_totals(_table(rows))


# --- page_from_tsv: tables rebuilt from word boxes (no tesseract) ---------------------------


def _tsv(lines: list[tuple[int, list[tuple[str, int, int]]]], height: int = 30) -> str:
    """A tesseract TSV: one block per line, words as (text, left, width) on a line at ``top``."""
    out = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight"
           "\tconf\ttext"]  # fmt: skip
    for block, (top, words) in enumerate(lines, start=1):
        for n, (text, left, width) in enumerate(words, start=1):
            out.append(f"5\t1\t{block}\t1\t1\t{n}\t{left}\t{top}\t{width}\t{height}\t95.0\t{text}")
    return "\n".join(out) + "\n"


# Columns: names at x 40-200, figures centred on x 440, 600 and 740; 超期工单 over the last two.
PAGE = _tsv(
    [
        (20, [("9月份", 40, 90), ("问题", 135, 60), ("统计", 200, 60)]),
        (100, [("单位", 40, 60), ("名称", 102, 60), ("受理件数", 400, 80), ("超期工单", 620, 100)]),
        (150, [("已办结", 570, 60), ("未办理", 710, 60)]),
        (200, [("县", 40, 30), ("教育", 75, 60), ("局", 140, 30), ("25", 430, 20),
               ("0", 595, 10), ("1", 735, 10)]),
        (250, [("县", 40, 30), ("公安", 75, 60), ("局", 140, 30), ("1O", 430, 20),
               ("”2", 590, 20), ("0", 735, 10)]),
        (300, [("合", 40, 30), ("计", 95, 30), ("35", 430, 20), ("2", 595, 10), ("1", 735, 10)]),
        (400, [("以上", 40, 60), ("数据", 102, 60), ("截至", 164, 60), ("9月30日。", 226, 120)]),
    ]
)  # fmt: skip


def test_page_from_tsv_rebuilds_header_rows_and_title() -> None:
    text, tables, fixes = page_from_tsv(PAGE, document="scan.png", page=None)
    assert len(tables) == 1
    table = tables[0]
    assert table.title == "9月份问题统计"
    assert table.header == ["单位名称", "受理件数", "超期工单/已办结", "超期工单/未办理"]
    # CJK words joined without spaces; "1O" -> "10" (O for 0); the quote before 2 dropped.
    assert table.rows == [
        ["县教育局", "25", "0", "1"],
        ["县公安局", "10", "2", "0"],
        ["合计", "35", "2", "1"],
    ]
    assert table.ocr is True and table.document == "scan.png"
    assert any("'1O' -> '10'" in fix for fix in fixes)
    assert any("'”2'" in fix for fix in fixes)
    assert confirmed_by_totals(table)  # 25 + 10 = 35, 0 + 2 = 2, 1 + 0 = 1


def test_page_from_tsv_renders_tables_in_place_in_the_text() -> None:
    text, _, _ = page_from_tsv(PAGE)
    assert text.splitlines() == [
        "9月份问题统计",
        "单位名称 | 受理件数 | 超期工单/已办结 | 超期工单/未办理 |",
        "县教育局 | 25 | 0 | 1 |",
        "县公安局 | 10 | 2 | 0 |",
        "合计 | 35 | 2 | 1 |",
        "以上数据截至9月30日。",
    ]


def test_page_from_tsv_keeps_prose_with_wide_gaps_out_of_tables() -> None:
    prose = _tsv(
        [
            (20, [("本月", 40, 60), ("受理", 102, 60), ("3338", 300, 80), ("件", 385, 30)]),
            (60, [("办结", 40, 60), ("3285", 300, 80), ("件。", 385, 60)]),
        ]
    )
    text, tables, _ = page_from_tsv(prose)
    assert tables == []
    assert "3338" in text and "3285" in text


def test_page_from_tsv_of_an_empty_page() -> None:
    assert page_from_tsv(_tsv([])) == ("", [], [])


# --- errors that need no tesseract --------------------------------------------------------


def _png(size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but holds almost no image data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_garbage_bytes_raise_parse_error() -> None:
    with pytest.raises(ParseError, match="garbage.png"):
        read_image(b"this is not an image at all", "garbage.png")


def test_truncated_png_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        read_image(_png((400, 300))[:60], "cut.png")


def test_image_over_max_pixels_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="over the 1000000 cap"):
        read_image(_png((2000, 1000)), "big.png", max_pixels=1_000_000)


def test_declared_huge_image_raises_parse_error_before_decoding() -> None:
    with pytest.raises(ParseError, match="pixel"):
        read_image(_png_header_only(100_000, 100_000), "bomb.png")


def test_pillow_decompression_bomb_becomes_parse_error() -> None:
    # Our cap lifted: Pillow's own limit (about 179 million pixels) still stops the file.
    with pytest.raises(ParseError, match="too large"):
        read_image(_png_header_only(20_000, 20_000), "bomb.png", max_pixels=10**12)


def test_file_over_size_cap_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="over the 10 cap"):
        read_image(_png(), "x.png", max_file_bytes=10)


def test_missing_tesseract_raises_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(ParseError, match="tesseract not installed"):
        read_image(_png(), "x.png")


def test_missing_chi_sim_raises_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def langs_without_chi_sim(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        assert cmd[-1] == "--list-langs"
        listing = 'List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (2):\n'
        return subprocess.CompletedProcess(cmd, 0, listing + "eng\nosd\n", "")

    monkeypatch.setattr(ocr.shutil, "which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr.subprocess, "run", langs_without_chi_sim)
    with pytest.raises(ParseError, match="chi_sim not installed"):
        read_image(_png(), "x.png")


def test_corrupt_pdf_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="scan.pdf"):
        ocr_pdf_pages(b"%PDF-1.4 broken", "scan.pdf")


def test_pdf_over_page_cap_raises_parse_error() -> None:
    pages = [Image.new("L", (200, 200), 255) for _ in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:])
    with pytest.raises(ParseError, match="3 pages, over the 2 page cap"):
        ocr_pdf_pages(buffer.getvalue(), "scan.pdf", max_pages=2)


def test_pdf_pages_with_a_text_layer_are_left_to_the_pdf_reader() -> None:
    if not HENGDONG_PDF.exists():
        pytest.skip("fixture hengdong_2020-09_tables.pdf not generated yet")
    doc = ocr_pdf_pages(HENGDONG_PDF.read_bytes(), HENGDONG_PDF.name)
    assert doc.pages == 3  # all three pages have text: none read by OCR
    assert doc.tables == [] and doc.text == "" and doc.ocr is False
    assert "ocr_pages" not in doc.meta


# --- OCR of pictures ----------------------------------------------------------------------

# Three rows of seed 004's unit table with their own totals: 25+13+34 = 72, 2+1+8 = 11;
# 待办率 = 待办理数 / 受理案件数: 2/25 = 8.00%, 1/13 = 7.69%, 8/34 = 23.53%, 11/72 = 15.28%.
SMALL_HEADER = ["单位名称", "受理案件数", "待办理数", "待办率"]
SMALL_ROWS = [
    ["县教育局", "25", "2", "8.00%"],
    ["县公安局", "13", "1", "7.69%"],
    ["县住建局", "34", "8", "23.53%"],
    ["合计", "72", "11", "15.28%"],
]


def _render(title: str, header: list[str], rows: list[list[str]], size: int = 28) -> Image.Image:
    """A ruled table drawn with Noto Sans CJK, as a screenshot of a bulletin table looks."""
    font = ImageFont.truetype(str(NOTO), size)
    widths = [max(font.getlength(r[c]) for r in [header, *rows]) + 2 * size for c in range(4)]
    row_height = int(size * 1.8)
    image = Image.new("RGB", (int(sum(widths)) + 80, row_height * (len(rows) + 3) + 40), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 20), title, font=font, fill="black")
    for n, row in enumerate([header, *rows]):
        x, y = 40.0, 20 + row_height * (n + 1.5)
        for c, cell in enumerate(row):
            draw.rectangle([x, y, x + widths[c], y + row_height], outline="black", width=2)
            left = x + (widths[c] - font.getlength(cell)) / 2
            draw.text(
                (left, y + (row_height - size) / 2 - size * 0.15), cell, font=font, fill="black"
            )
            x += widths[c]
    return image


def _png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@needs_ocr
def test_hengdong_category_png_cell_by_cell() -> None:
    if not CATEGORY_PNG.exists():
        pytest.skip("fixture hengdong_2020-09_category_table.png not generated yet")
    seed = _seed_tables()["hengdong_category"]
    doc = read_image(CATEGORY_PNG.read_bytes(), CATEGORY_PNG.name)
    assert doc.ocr is True and doc.meta["ocr_engine"].startswith("tesseract")
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.ocr is True and table.document == CATEGORY_PNG.name
    assert len(table.rows) == len(seed["rows"]) == 18
    assert all(len(row) == 5 for row in table.rows)
    pairs = [
        (got, want)
        for r, s in zip(table.rows, seed["rows"], strict=True)
        for got, want in zip(r, s, strict=True)
    ]
    matched = sum(got == want for got, want in pairs)
    print(f"hengdong category PNG: {matched} of {len(pairs)} cells match the seed")
    figures = [(r[1:], s[1:]) for r, s in zip(table.rows, seed["rows"], strict=True)]
    if confirmed_by_totals(table):
        # The promise: a table confirmed by its totals has every figure right.
        assert [got for got, _ in figures] == [want for _, want in figures]
    # Seed 004 prints every cell of this table: most of them must come through.
    assert matched >= 0.8 * len(pairs)
    assert table.header == seed["header"] or matched < len(pairs)
    assert table.title == seed["title"] or table.title is None
    assert "合计 | " in doc.text


@needs_ocr
@needs_font
def test_rendered_table_with_right_totals_is_read_and_confirmed() -> None:
    image = _render("各单位办理情况", SMALL_HEADER, SMALL_ROWS)
    doc = read_image(_png_of(image), "small.png")
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.title == "各单位办理情况"
    assert table.header == SMALL_HEADER
    assert table.rows == SMALL_ROWS
    assert confirmed_by_totals(table)
    assert doc.text.splitlines()[0] == "各单位办理情况"
    assert "县公安局 | 13 | 1 | 7.69% |" in doc.text.splitlines()


@needs_ocr
@needs_font
def test_rendered_table_with_wrong_totals_is_not_confirmed() -> None:
    rows = [list(r) for r in SMALL_ROWS]
    rows[-1][1] = "73"  # the body sums to 72
    doc = read_image(_png_of(_render("各单位办理情况", SMALL_HEADER, rows)), "wrong.png")
    assert len(doc.tables) == 1
    assert not confirmed_by_totals(doc.tables[0])


@needs_ocr
@needs_font
def test_small_picture_is_scaled_up_before_reading() -> None:
    # 14 px text: tesseract misreads characters this small unless the picture is enlarged.
    image = _render("各单位办理情况", SMALL_HEADER, SMALL_ROWS, size=14)
    doc = read_image(_png_of(image), "small.png")
    assert [row[1:] for row in doc.tables[0].rows] == [row[1:] for row in SMALL_ROWS]


@needs_ocr
@needs_font
def test_scanned_pdf_page_is_read_by_ocr() -> None:
    image = _render("各单位办理情况", SMALL_HEADER, SMALL_ROWS)
    page = Image.new("RGB", (1700, 2200), "white")  # a letter page at 200 dpi
    page.paste(image, (100, 150))
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=200)
    doc = ocr_pdf_pages(buffer.getvalue(), "scan.pdf", dpi=200)
    assert doc.ocr is True and doc.pages == 1 and doc.meta["ocr_pages"] == "1"
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.page == 1 and table.ocr is True
    assert table.rows == SMALL_ROWS
    assert confirmed_by_totals(table)
