"""DOC reader: LibreOffice conversion to DOCX, antiword fallback, bad input, concurrency."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import pytest

import parsers.doc
from parsers.doc import read_doc
from parsers.errors import ParseError

DOCUMENTS_DIR = Path(__file__).parent / "fixtures" / "documents"
sys.path.insert(0, str(DOCUMENTS_DIR))
from seed_tables import DOCUMENT_TABLES, SEED_TABLES  # noqa: E402

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
ANTIWORD = shutil.which("antiword")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
needs_antiword = pytest.mark.skipif(ANTIWORD is None, reason="antiword not installed")

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _unit_table_docx(unit: str, received: str) -> bytes:
    """Prose, a titled table with a two-row merged header, prose: as python-docx writes it."""
    document = docx.Document()
    document.add_paragraph(f"本月共形成有效电子工单{received}件。")
    document.add_paragraph("成员单位工单办理情况")
    table = document.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(0, 0).paragraphs[0].add_run("单位名称")
    table.cell(0, 1).paragraphs[0].add_run("超期工单")
    table.cell(1, 1).text = "超期已办结"
    table.cell(1, 2).text = "超期未办理"
    table.cell(2, 0).text = unit
    table.cell(2, 1).text = "3"
    table.cell(2, 2).text = "2"
    document.add_paragraph("请各单位按时办结。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _convert_to_doc(docx_bytes: bytes, workdir: Path) -> bytes:
    """The .doc LibreOffice writes for ``docx_bytes`` (test input only)."""
    source = workdir / "source.docx"
    source.write_bytes(docx_bytes)
    profile = workdir / "profile"
    command = [
        str(SOFFICE), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to", "doc", "--outdir", str(workdir), str(source),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return (workdir / "source.doc").read_bytes()


@pytest.fixture(scope="module")
def unit_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two small .doc files: 草市镇人民政府 with 13 orders and 石滩乡人民政府 with 9."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) not installed: cannot make .doc test files")
    docs = {}
    for unit, received in (("草市镇人民政府", "13"), ("石滩乡人民政府", "9")):
        workdir = tmp_path_factory.mktemp("doc")
        docs[unit] = _convert_to_doc(_unit_table_docx(unit, received), workdir)
    return docs


def _fixture(name: str) -> bytes:
    path = DOCUMENTS_DIR / f"{name}_tables.doc"
    if not path.exists():
        pytest.skip(f"shared fixture {path.name} not generated yet")
    return path.read_bytes()


# --- LibreOffice conversion --------------------------------------------------------------


@needs_soffice
@pytest.mark.parametrize("name", sorted(DOCUMENT_TABLES))
def test_fixture_tables_equal_the_seed_tables_cell_by_cell(name: str) -> None:
    extracted = read_doc(_fixture(name), f"{name}_tables.doc")
    assert extracted.meta["converter"] == "libreoffice"
    keys = DOCUMENT_TABLES[name]
    assert [table.title for table in extracted.tables] == [SEED_TABLES[k]["title"] for k in keys]
    for key, table in zip(keys, extracted.tables, strict=True):
        seed = SEED_TABLES[key]
        assert table.header == seed["header"]
        assert table.rows == seed["rows"]
        assert table.document == f"{name}_tables.doc"


@needs_soffice
def test_fixture_hengdong_prose_header_and_order() -> None:
    extracted = read_doc(_fixture("hengdong_2020-09"), "hengdong.doc")
    lines = extracted.text.split("\n")
    prose = next(i for i, line in enumerate(lines) if "共形成有效电子工单3338件" in line)
    units_title = lines.index("9月份成员单位工单办理情况")
    units_first = lines.index("县教育局 | 25 | 2 | 0 | 0 | 0 |")
    assert prose < units_title < units_first
    assert extracted.tables[-1].header == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
    ]


def test_converted_doc_keeps_text_order_and_merged_header(unit_docs: dict[str, bytes]) -> None:
    extracted = read_doc(unit_docs["草市镇人民政府"], "caoshi.doc")
    assert extracted.meta["converter"] == "libreoffice"
    assert extracted.text.split("\n") == [
        "本月共形成有效电子工单13件。",
        "成员单位工单办理情况",
        "单位名称 | 超期工单 |",
        "超期已办结 | 超期未办理 |",
        "草市镇人民政府 | 3 | 2 |",
        "请各单位按时办结。",
    ]
    [table] = extracted.tables
    assert table.title == "成员单位工单办理情况"
    assert table.header == ["单位名称", "超期工单/超期已办结", "超期工单/超期未办理"]
    assert table.rows == [["草市镇人民政府", "3", "2"]]
    assert table.document == "caoshi.doc"


def test_two_conversions_at_once_both_succeed(unit_docs: dict[str, bytes]) -> None:
    units = list(unit_docs)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda unit: read_doc(unit_docs[unit], unit), units))
    for unit, extracted in zip(units, results, strict=True):
        assert extracted.meta["converter"] == "libreoffice"
        assert extracted.tables[0].rows[0][0] == unit
    assert "有效电子工单13件" in results[0].text
    assert "有效电子工单9件" in results[1].text


def test_temporary_files_are_removed(
    unit_docs: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    read_doc(unit_docs["石滩乡人民政府"], "shitan.doc")
    assert list(scratch.iterdir()) == []


@needs_soffice
def test_rtf_is_converted() -> None:
    rtf = (
        rb"{\rtf1\ansi{\fonttbl{\f0 SimSun;}}\f0 \u21463?\u29702? 3338 \par Second paragraph.\par}"
    )
    extracted = read_doc(rtf, "bulletin.rtf")
    assert extracted.meta["converter"] == "libreoffice"
    assert extracted.text.split("\n") == ["受理 3338", "Second paragraph."]


# --- antiword fallback ----------------------------------------------------------------------


@needs_antiword
def test_antiword_when_libreoffice_is_missing(
    unit_docs: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsers.doc, "soffice_binary", lambda: None)
    extracted = read_doc(unit_docs["草市镇人民政府"], "caoshi.doc")
    assert extracted.meta == {"converter": "antiword"}
    assert extracted.tables == []
    lines = extracted.text.split("\n")
    assert lines[0] == "本月共形成有效电子工单13件。"
    assert lines.index("成员单位工单办理情况") < lines.index("草市镇人民政府 | 3 | 2 |")
    assert lines[-1] == "请各单位按时办结。"


def _fake_soffice(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@needs_antiword
def test_antiword_when_libreoffice_fails(
    unit_docs: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded' >&2; exit 1")
    monkeypatch.setattr(parsers.doc, "soffice_binary", lambda: failing)
    extracted = read_doc(unit_docs["石滩乡人民政府"], "shitan.doc")
    assert extracted.meta["converter"] == "antiword"
    assert "石滩乡人民政府 | 3 | 2 |" in extracted.text.split("\n")


def _process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie left for init to reap counts as ended."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


@needs_antiword
def test_hanging_conversion_is_killed_with_its_children(
    unit_docs: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "child.pid"
    hanging = _fake_soffice(tmp_path, f"sleep 600 &\necho $! > {pid_file}\nwait")
    monkeypatch.setattr(parsers.doc, "soffice_binary", lambda: hanging)
    extracted = read_doc(unit_docs["草市镇人民政府"], "caoshi.doc", timeout=2)
    assert extracted.meta["converter"] == "antiword"
    assert not _process_alive(int(pid_file.read_text()))


def test_conversion_failure_without_fallback_names_both_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = _fake_soffice(tmp_path, "exit 1")
    monkeypatch.setattr(parsers.doc, "soffice_binary", lambda: failing)
    monkeypatch.setenv("PATH", str(tmp_path))  # no antiword either
    ole = _ole_with_word_entry(random.Random(3))
    with pytest.raises(ParseError, match="fake.doc: could not be converted") as raised:
        read_doc(ole, "fake.doc")
    assert "LibreOffice conversion produced nothing" in str(raised.value)
    assert "antiword is not installed" in str(raised.value)


# --- bad input ------------------------------------------------------------------------------


def _ole_with_word_entry(rng: random.Random) -> bytes:
    """OLE signature and a well-formed WordDocument directory entry, the rest random bytes."""
    noise = bytes(rng.randrange(256) for _ in range(4608))
    entry = "WordDocument".encode("utf-16-le").ljust(64, b"\0") + b"\x1a\x00\x02" + bytes(61)
    return OLE_SIGNATURE + noise[:504] + entry + noise[504:]


def test_random_bytes_are_not_a_word_document() -> None:
    garbage = bytes(random.Random(1).randrange(256) for _ in range(5000))
    with pytest.raises(ParseError, match="garbage.doc: not a Word document"):
        read_doc(garbage, "garbage.doc")


def test_ole_file_without_word_stream_is_refused() -> None:
    with pytest.raises(ParseError, match="sheet.doc: an OLE file without a WordDocument stream"):
        read_doc(OLE_SIGNATURE + bytes(4096), "sheet.doc")


def test_encrypted_ooxml_in_an_ole_container_is_refused() -> None:
    data = OLE_SIGNATURE + bytes(512) + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(ParseError, match="locked.docx: encrypted"):
        read_doc(data, "locked.docx")


def test_word_file_with_the_encrypted_flag_is_refused(unit_docs: dict[str, bytes]) -> None:
    data = bytearray(unit_docs["草市镇人民政府"])
    # Locate the FIB by hand: directory entry -> first sector of WordDocument -> wIdent.
    entry = data.find("WordDocument".encode("utf-16-le"))
    sector_size = 1 << int.from_bytes(data[30:32], "little")
    fib = (int.from_bytes(data[entry + 116 : entry + 120], "little") + 1) * sector_size
    assert data[fib : fib + 2] == b"\xec\xa5"
    data[fib + 11] |= 0x01  # fEncrypted is bit 8 of the flags word at offset 10
    with pytest.raises(ParseError, match="locked.doc: encrypted"):
        read_doc(bytes(data), "locked.doc")


@needs_soffice
def test_garbage_behind_a_word_header_fails_conversion() -> None:
    # LibreOffice left to detect the type would import this as text and "succeed".
    with pytest.raises(ParseError, match="fake.doc: could not be converted"):
        read_doc(_ole_with_word_entry(random.Random(2)), "fake.doc")


def test_docx_under_a_doc_name_is_read_directly() -> None:
    extracted = read_doc(_unit_table_docx("县民政局", "2"), "misnamed.doc")
    assert extracted.meta["converter"] == "none"
    assert extracted.tables[0].rows == [["县民政局", "3", "2"]]


def test_file_size_cap() -> None:
    with pytest.raises(ParseError, match="big.doc: file too large"):
        read_doc(OLE_SIGNATURE + bytes(2048), "big.doc", max_bytes=1024)
