"""DOCX reader: text and tables in document order, merged cells, titles, zip and XML limits."""

from __future__ import annotations

import io
import struct
import sys
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as WordDocument

from parsers.docx import read_docx
from parsers.errors import ParseError

DOCUMENTS_DIR = Path(__file__).parent / "fixtures" / "documents"
sys.path.insert(0, str(DOCUMENTS_DIR))
from seed_tables import DOCUMENT_TABLES, SEED_TABLES  # noqa: E402

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _fixture(name: str, suffix: str) -> bytes:
    path = DOCUMENTS_DIR / f"{name}_tables.{suffix}"
    if not path.exists():
        pytest.skip(f"shared fixture {path.name} not generated yet")
    return path.read_bytes()


def _save(document: WordDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_body(body_xml: str) -> bytes:
    """A DOCX whose body is ``body_xml`` (WordprocessingML, the w: prefix declared)."""
    template = _save(docx.Document())
    document_xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<w:document {W_NS}><w:body>{body_xml}</w:body></w:document>"
    ).encode()
    return _replace_member(template, "word/document.xml", document_xml)


def _replace_member(data: bytes, member: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(
                info.filename, content if info.filename == member else source.read(info)
            )
    return buffer.getvalue()


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space='preserve'>{text}</w:t></w:r></w:p>"


def _tc(text: str, properties: str = "") -> str:
    return f"<w:tc><w:tcPr>{properties}</w:tcPr>{_p(text)}</w:tc>"


def _merged_table_document() -> bytes:
    """Title, a table with a two-row header and merged body cells, a closing paragraph.

    Header: 单位名称 spans both header rows, 超期工单 spans two columns over
    超期已办结 / 超期未办理. Body: 城区 spans two rows (vertical merge), the totals row's
    合计 spans the 片区 and 单位 columns (horizontal merge).
    """
    document = docx.Document()
    document.add_paragraph("运行概况：共形成有效电子工单3338件。")
    document.add_paragraph("三、成员单位工单办理情况")
    table = document.add_table(rows=5, cols=5)
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, 1).merge(table.cell(1, 1))
    table.cell(0, 2).merge(table.cell(1, 2))
    table.cell(0, 3).merge(table.cell(0, 4))
    table.cell(2, 0).merge(table.cell(3, 0))
    table.cell(4, 0).merge(table.cell(4, 1))
    table.cell(0, 0).paragraphs[0].add_run("片区")
    table.cell(0, 1).paragraphs[0].add_run("单位名称")
    table.cell(0, 2).paragraphs[0].add_run("受理案件数")
    table.cell(0, 3).paragraphs[0].add_run("超期工单")
    table.cell(1, 3).text = "超期已办结"
    table.cell(1, 4).text = "超期未办理"
    table.cell(2, 0).paragraphs[0].add_run("城区")
    for row, cells in ((2, ["县教育局", "25", "0", "0"]), (3, ["县公安局", "13", "1", "2"])):
        for column, text in enumerate(cells, start=1):
            table.cell(row, column).text = text
    table.cell(4, 0).paragraphs[0].add_run("合计")
    for column, text in enumerate(["38", "1", "2"], start=2):
        table.cell(4, column).text = text
    document.add_paragraph("以上情况请各单位高度重视。")
    return _save(document)


# --- shared fixtures made from the real seed tables -----------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENT_TABLES))
def test_fixture_tables_equal_the_seed_tables_cell_by_cell(name: str) -> None:
    extracted = read_docx(_fixture(name, "docx"), f"{name}_tables.docx")
    keys = DOCUMENT_TABLES[name]
    assert len(extracted.tables) == len(keys)
    for key, table in zip(keys, extracted.tables, strict=True):
        seed = SEED_TABLES[key]
        assert table.title == seed["title"]
        assert table.header == seed["header"]
        assert len(table.rows) == len(seed["rows"])
        for row, seed_row in zip(table.rows, seed["rows"], strict=True):
            assert row == seed_row
        assert table.document == f"{name}_tables.docx"


def test_fixture_hengdong_unit_header_joins_the_two_header_rows() -> None:
    extracted = read_docx(_fixture("hengdong_2020-09", "docx"), "hengdong.docx")
    units = extracted.tables[1]
    assert units.header == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
    ]
    assert units.rows[-1] == ["合 计", "456", "46", "0", "18", "3"]


def test_fixture_hengdong_prose_and_tables_in_document_order() -> None:
    extracted = read_docx(_fixture("hengdong_2020-09", "docx"), "hengdong.docx")
    lines = extracted.text.split("\n")
    prose = next(i for i, line in enumerate(lines) if "共形成有效电子工单3338件" in line)
    category_title = lines.index("9月份群众诉求问题分类统计")
    category_total = lines.index("合计 | 3338 | 3285 | 18 | 0.55% |")
    units_title = lines.index("9月份成员单位工单办理情况")
    units_header = lines.index("单位名称 | 受理案件数 | 待办理数 | 未及时签收数 | 超期工单 |")
    units_subheader = lines.index("超期已办结 | 超期未办理 |")
    units_first = lines.index("县教育局 | 25 | 2 | 0 | 0 | 0 |")
    assert prose < category_title < category_total < units_title < units_header
    assert units_header + 1 == units_subheader and units_subheader + 1 == units_first


def test_fixture_meta_from_core_properties() -> None:
    extracted = read_docx(_fixture("liaocheng_2015-06", "docx"), "liaocheng.docx")
    assert extracted.meta["author"] == "hotline-archive test fixtures"
    assert extracted.meta["created"].startswith("2020-10-15")


# --- merged cells ---------------------------------------------------------------------------


def test_merged_header_is_joined_and_merged_body_cells_repeat() -> None:
    extracted = read_docx(_merged_table_document(), "merged.docx")
    [table] = extracted.tables
    assert table.header == [
        "片区",
        "单位名称",
        "受理案件数",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
    ]
    assert table.rows == [
        ["城区", "县教育局", "25", "0", "0"],
        ["城区", "县公安局", "13", "1", "2"],
        ["合计", "合计", "38", "1", "2"],
    ]
    assert table.document == "merged.docx"


def test_merged_cells_are_printed_once_in_the_text() -> None:
    extracted = read_docx(_merged_table_document())
    assert extracted.text.split("\n") == [
        "运行概况：共形成有效电子工单3338件。",
        "三、成员单位工单办理情况",
        "片区 | 单位名称 | 受理案件数 | 超期工单 |",
        "超期已办结 | 超期未办理 |",
        "城区 | 县教育局 | 25 | 0 | 0 |",
        "县公安局 | 13 | 1 | 2 |",
        "合计 | 38 | 1 | 2 |",
        "以上情况请各单位高度重视。",
    ]


def test_title_is_the_heading_before_the_table_without_its_number() -> None:
    [table] = read_docx(_merged_table_document()).tables
    assert table.title == "成员单位工单办理情况"


def test_continuation_cell_repeating_the_text_is_not_doubled() -> None:
    # Some writers repeat the text in the lower cell of a vertical merge.
    body = (
        "<w:tbl>"
        "<w:tr>"
        + _tc("单位名称", "<w:vMerge w:val='restart'/>")
        + _tc("超期工单", "<w:gridSpan w:val='2'/>")
        + "</w:tr><w:tr>"
        + _tc("单位名称", "<w:vMerge/>")
        + _tc("超期已办结")
        + _tc("超期未办理")
        + "</w:tr><w:tr>"
        + _tc("县民政局")
        + _tc("1")
        + _tc("0")
        + "</w:tr></w:tbl>"
    )
    [table] = read_docx(_with_body(body)).tables
    assert table.header == ["单位名称", "超期工单/超期已办结", "超期工单/超期未办理"]
    assert table.rows == [["县民政局", "1", "0"]]


def test_legacy_hmerge_and_grid_before() -> None:
    body = (
        "<w:tbl>"
        "<w:tr>"
        + _tc("类别")
        + _tc("数量", "<w:hMerge w:val='restart'/>")
        + _tc("", "<w:hMerge/>")
        + "</w:tr><w:tr>"
        + _tc("")
        + _tc("件")
        + _tc("占比")
        + "</w:tr><w:tr>"
        + _tc("咨询")
        + _tc("120")
        + _tc("40.00%")
        + "</w:tr><w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr>"
        + _tc("30")
        + _tc("10.00%")
        + "</w:tr></w:tbl>"
    )
    [table] = read_docx(_with_body(body)).tables
    assert table.header == ["类别", "数量/件", "数量/占比"]
    assert table.rows == [["咨询", "120", "40.00%"], ["", "30", "10.00%"]]


def test_wrapped_cell_lines_join_without_a_space() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "承办单位"
    table.cell(0, 1).text = "件数"
    table.cell(1, 0).text = "市住房和城"
    table.cell(1, 0).add_paragraph("乡建设局")
    table.cell(1, 1).text = "12"
    [table_read] = read_docx(_save(document)).tables
    assert table_read.rows == [["市住房和城乡建设局", "12"]]


# --- document order, titles, layout ----------------------------------------------------------


def test_table_between_two_paragraphs_keeps_its_place() -> None:
    document = docx.Document()
    document.add_paragraph("本月受理工单1200件。")
    document.add_paragraph("各区受理情况")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {
        (0, 0): "区",
        (0, 1): "件数",
        (1, 0): "城区",
        (1, 1): "1200",
    }.items():
        table.cell(row, column).text = text
    document.add_paragraph("办结率为98.5%。")
    extracted = read_docx(_save(document))
    assert (
        extracted.text
        == "本月受理工单1200件。\n各区受理情况\n区 | 件数 |\n城区 | 1200 |\n办结率为98.5%。"
    )
    assert extracted.tables[0].title == "各区受理情况"
    assert extracted.tables[0].header == ["区", "件数"]
    assert extracted.tables[0].rows == [["城区", "1200"]]


def _two_column_table(document: WordDocument, first: str, second: str) -> None:
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "类别", "件数"
    table.cell(1, 0).text, table.cell(1, 1).text = first, second


def test_title_rules_prose_unit_note_lead_in_and_adjacent_tables() -> None:
    document = docx.Document()
    document.add_paragraph("本月共受理群众来电12345件，较上月有所增加。")
    _two_column_table(document, "咨询", "10")
    document.add_paragraph("附表1：各县区受理情况")
    document.add_paragraph("单位：件")
    _two_column_table(document, "求助", "20")
    _two_column_table(document, "投诉", "30")
    document.add_paragraph("各部门办结情况详见下表：")
    _two_column_table(document, "建议", "40")
    titles = [table.title for table in read_docx(_save(document)).tables]
    assert titles == [None, "附表1：各县区受理情况", None, "各部门办结情况"]


def test_title_row_inside_the_table_when_no_paragraph_names_it() -> None:
    body = (
        "<w:tbl><w:tr>"
        + _tc("各县区办理情况表", "<w:gridSpan w:val='2'/>")
        + "</w:tr><w:tr>"
        + _tc("县区")
        + _tc("件数")
        + "</w:tr><w:tr>"
        + _tc("东阿")
        + _tc("706")
        + "</w:tr></w:tbl>"
    )
    extracted = read_docx(_with_body(body))
    [table] = extracted.tables
    assert table.title == "各县区办理情况表"
    assert table.header == ["县区", "件数"]
    assert table.rows == [["东阿", "706"]]
    assert extracted.text.split("\n")[0] == "各县区办理情况表"


def test_layout_frame_table_is_read_as_paragraphs() -> None:
    # A bulletin laid out inside a one-cell table with a data table nested in it.
    nested = (
        "<w:tbl><w:tr>"
        + _tc("类别")
        + _tc("件数")
        + "</w:tr><w:tr>"
        + _tc("咨询")
        + _tc("57")
        + "</w:tr></w:tbl>"
    )
    body = (
        "<w:tbl><w:tr><w:tc>"
        + _p("12345热线简报")
        + _p("本月受理57件。")
        + nested
        + _p("")
        + "</w:tc></w:tr></w:tbl>"
    )
    extracted = read_docx(_with_body(body))
    assert extracted.text.split("\n") == [
        "12345热线简报",
        "本月受理57件。",
        "类别 | 件数 |",
        "咨询 | 57 |",
    ]
    [table] = extracted.tables
    assert table.header == ["类别", "件数"] and table.rows == [["咨询", "57"]]


def test_tracked_changes_content_controls_and_text_boxes() -> None:
    body = (
        "<w:p><w:r><w:t>受理</w:t></w:r>"
        "<w:del w:id='1' w:author='a'><w:r><w:delText>9999</w:delText></w:r></w:del>"
        "<w:ins w:id='2' w:author='a'><w:r><w:t>3338</w:t></w:r></w:ins>"
        "<w:r><w:t>件</w:t></w:r></w:p>"
        "<w:sdt><w:sdtPr/><w:sdtContent>" + _p("控件内的段落") + "</w:sdtContent></w:sdt>"
        "<w:p><w:r><w:pict><v:shape xmlns:v='urn:schemas-microsoft-com:vml'><v:textbox>"
        "<w:txbxContent>" + _p("文本框里的标题") + "</w:txbxContent>"
        "</v:textbox></v:shape></w:pict></w:r><w:r><w:t>正文</w:t></w:r></w:p>"
    )
    extracted = read_docx(_with_body(body))
    assert extracted.text.split("\n") == ["受理3338件", "控件内的段落", "正文", "文本框里的标题"]


# --- limits and bad input ------------------------------------------------------------------


def _zip_bomb(member_bytes: int) -> bytes:
    """A DOCX-shaped zip whose word/document.xml inflates to ``member_bytes`` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(member_bytes // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_the_directory_without_inflating() -> None:
    bomb = _zip_bomb(300 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match="bomb.docx"):
            read_docx(bomb, "bomb.docx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflating the member would allocate 300 MB.
    assert peak < 20 * 1024 * 1024


def test_directory_understating_a_member_size_cannot_inflate_it() -> None:
    # The central directory claims 2 MB for a member that inflates to 100 MB: reading stops
    # at the claimed size and the CRC check fails.
    data = bytearray(_zip_bomb(100 * 1024 * 1024))
    entry = data.rfind(b"PK\x01\x02")
    assert data[entry + 46 : entry + 63] == b"word/document.xml"
    data[entry + 24 : entry + 28] = struct.pack("<I", 2_000_000)  # uncompressed size
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match="liar.docx: corrupt zip member"):
            read_docx(bytes(data), "liar.docx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_member_with_extreme_compression_ratio_is_refused_under_the_total_cap() -> None:
    with pytest.raises(ParseError, match="zip bomb"):
        read_docx(_zip_bomb(20 * 1024 * 1024), "ratio.docx")


def test_total_unzipped_size_cap_can_be_lowered() -> None:
    data = _merged_table_document()
    with pytest.raises(ParseError, match="unzipped size"):
        read_docx(data, "small.docx", max_unzipped_bytes=10_000)


def test_file_size_cap() -> None:
    data = _merged_table_document()
    with pytest.raises(ParseError, match="big.docx: file too large"):
        read_docx(data, "big.docx", max_bytes=len(data) - 1)


def test_external_entity_declaration_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-VALUE")
    template = _merged_table_document()
    document_xml = zipfile.ZipFile(io.BytesIO(template)).read("word/document.xml")
    prolog_end = document_xml.index(b"?>") + 2
    doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
    hostile = document_xml[:prolog_end] + doctype + document_xml[prolog_end:]
    hostile = hostile.replace("以上情况请各单位高度重视。".encode(), b"&xxe;")
    data = _replace_member(template, "word/document.xml", hostile)
    with pytest.raises(ParseError, match="xxe.docx: external entity declaration"):
        read_docx(data, "xxe.docx")


def test_corrupt_zip_names_the_file() -> None:
    data = _merged_table_document()
    with pytest.raises(ParseError, match="cut.docx: not a DOCX file"):
        read_docx(data[: len(data) // 2], "cut.docx")
    with pytest.raises(ParseError, match="noise.docx: not a DOCX file"):
        read_docx(b"PK\x03\x04" + bytes(range(256)) * 10, "noise.docx")


def test_zip_that_is_not_a_word_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ParseError, match="other.zip: not a DOCX file"):
        read_docx(buffer.getvalue(), "other.zip")


def test_document_part_without_a_body_is_a_parse_error() -> None:
    template = _save(docx.Document())
    for document_xml in (f"<w:document {W_NS}/>".encode(), b"<html/>"):
        data = _replace_member(template, "word/document.xml", document_xml)
        with pytest.raises(ParseError, match="empty.docx: not a readable DOCX file"):
            read_docx(data, "empty.docx")


def test_damaged_member_is_a_parse_error() -> None:
    data = bytearray(_merged_table_document())
    # Flip bytes inside the compressed document.xml: inflating or its CRC check fails.
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data[start : start + 40] = bytes(40)
    with pytest.raises(ParseError, match="damaged.docx"):
        read_docx(bytes(data), "damaged.docx")


def test_ole_file_is_not_a_docx() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024)
    with pytest.raises(ParseError, match="old.docx: an old binary Word/OLE file"):
        read_docx(ole, "old.docx")
    encrypted = ole + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(ParseError, match="locked.docx: encrypted"):
        read_docx(encrypted, "locked.docx")
