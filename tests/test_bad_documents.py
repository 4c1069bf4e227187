"""Broken documents: each fails cleanly, within a time and memory bound, and the batch goes on.

The corpus (``tests/bad_documents/make_corpus.py``) is generated into a temporary directory:
truncated, corrupt and encrypted PDFs, a PDF without text layer (goes to OCR), DOCX zip
bombs (true and lying sizes), DOCX and XLSX with an external entity for /etc/passwd, an
XLSX with a million empty rows, a 10 MB page, a flood of tags, a deeply nested page,
binary garbage named .html, an empty file, files whose extension lies, a PNG bomb, garbage
named .xls and .png, and the real Hengdong bulletin page as the good document of the batch.

Every file is parsed by ``parsers.parse_document`` in a process of its own
(``tests/bad_documents/measure.py``), so that a bomb or a hang ends that process, not the
test run, and peak memory is per document. The outcome must be a Bulletin for the files
whose content is valid and a ParseError naming the file and the reason for the others,
never any other exception.

Bounds, per document (safety bounds against hangs and bombs, not speed targets; the real
figures come from ``bench/bad_documents_bounds.py``):

- wall time of the parse: < 60 s;
- peak RSS: < 1.5 GiB, for the parsing process (VmHWM) and for any process it ran
  (tesseract, LibreOffice: ``getrusage(RUSAGE_CHILDREN)``).

The child also runs under an 8 GiB address-space limit and is killed after 180 s, so a
runaway parse fails the test instead of taking the machine down.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from bs4 import BeautifulSoup
from lxml import etree

from parsers.html import _GENERIC_BODY_SELECTORS, _simple_selector_matches

sys.path.insert(0, str(Path(__file__).parent))

from bad_documents.make_corpus import (  # noqa: E402
    CORPUS,
    ENCRYPTED_PDF_TEXT,
    PDF_PASSWORD,
    SAMPLE_PDF,
    XXE_TARGET,
    CorpusFile,
    write_corpus,
)
from bad_documents.measure import Measurement, measure_in_subprocess  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAX_WALL_S = 60.0
MAX_PEAK_MIB = 1.5 * 1024

# Read by hand from the documents: the Hengdong page says "接收市民来电总量4630次" under the
# title "12345"政府服务热线9月份运行概况; the Hengdong fixture PDF/DOCX carry the same
# paragraph; the million-row workbook holds "首行单元格" in A1 and "末行单元格" in A1048576.
HENGDONG_TITLE = '"12345"政府服务热线9月份运行概况'
HENGDONG_CALLS = 4630
PAGE_FILLER = "关于进一步做好全县政务服务便民热线工作的通知"
WORKBOOK_CELLS = ("首行单元格", "末行单元格")


def _passwd_lines() -> list[str]:
    """Lines of /etc/passwd long enough not to occur by chance (e.g. 'root:x:0:0:...')."""
    text = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if len(line) >= 12 and line.count(":") >= 6]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every corpus file written into a temporary directory, by name."""
    return write_corpus(tmp_path_factory.mktemp("bad_documents"))


@pytest.fixture(scope="module")
def measured(corpus: dict[str, Path]) -> dict[str, Measurement]:
    """Each corpus file parsed in its own process (two at a time: the machine has 2 cores)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(measure_in_subprocess, corpus.values())
        return {result.name: result for result in results}


# --- the corpus is what it claims to be ----------------------------------------------


def test_encrypted_pdf_is_really_encrypted(corpus: dict[str, Path]) -> None:
    data = corpus["pdf_encrypted.pdf"].read_bytes()
    with pytest.raises(pdfium.PdfiumError, match="password"):
        pdfium.PdfDocument(data)
    pdf = pdfium.PdfDocument(data, password=PDF_PASSWORD)
    assert pdf[0].get_textpage().get_text_range().strip() == ENCRYPTED_PDF_TEXT


def test_blank_pdf_has_one_page_without_text(corpus: dict[str, Path]) -> None:
    pdf = pdfium.PdfDocument(corpus["pdf_blank_page.pdf"].read_bytes())
    assert len(pdf) == 1
    assert pdf[0].get_textpage().get_text_range().strip() == ""


def test_truncated_pdf_is_a_prefix_of_a_real_pdf(corpus: dict[str, Path]) -> None:
    data = corpus["pdf_truncated.pdf"].read_bytes()
    full = SAMPLE_PDF.read_bytes()
    assert full.startswith(data) and len(data) < len(full) // 2
    assert b"%%EOF" not in data[-1024:]


def _inflate_raw(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Up to ``limit`` bytes of a deflated member, inflated from its raw stream."""
    name_length, extra_length = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_length + extra_length
    return zlib.decompressobj(-15).decompress(data[start : start + info.compress_size], limit)


def test_docx_zip_bomb_states_two_gib(corpus: dict[str, Path]) -> None:
    data = corpus["docx_zip_bomb.docx"].read_bytes()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")
    assert info.file_size > 2_000_000_000
    assert len(data) < 3_000_000
    head = _inflate_raw(data, info, 8 << 20)
    assert head.startswith(b"<?xml") and head.endswith(b" " * 1024) and len(head) == 8 << 20


def test_lying_zip_bomb_inflates_far_past_its_stated_size(corpus: dict[str, Path]) -> None:
    for name, member in (
        ("docx_zip_bomb_lying_sizes.docx", "word/document.xml"),
        ("xlsx_zip_bomb_lying_sizes.xlsx", "xl/styles.xml"),
    ):
        data = corpus[name].read_bytes()
        info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
        assert info.file_size == 4096
        assert len(_inflate_raw(data, info, 64 << 20)) == 64 << 20


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("docx_xxe.docx", "word/document.xml"),
        ("docx_xxe_utf16.docx", "word/document.xml"),
        ("xlsx_xxe.xlsx", "xl/worksheets/sheet1.xml"),
    ],
)
def test_xxe_documents_are_armed(corpus: dict[str, Path], name: str, member: str) -> None:
    """A parser that resolves external entities would put /etc/passwd into the text."""
    xml = zipfile.ZipFile(corpus[name]).read(member)
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True)
    text = "".join(etree.fromstring(xml, parser).itertext())
    assert XXE_TARGET in xml.decode("utf-16" if name.endswith("utf16.docx") else "utf-8")
    assert _passwd_lines()[0] in text


def test_million_row_workbook_holds_a_million_rows(corpus: dict[str, Path]) -> None:
    sheet = zipfile.ZipFile(corpus["xlsx_million_rows.xlsx"]).read("xl/worksheets/sheet1.xml")
    assert len(re.findall(rb"<row ", sheet)) == 1_048_576
    assert b'<c r="A1048576"' in sheet


def test_png_bomb_header_claims_fifty_thousand_pixels_square(corpus: dict[str, Path]) -> None:
    data = corpus["png_bomb.png"].read_bytes()
    assert struct.unpack(">II", data[16:24]) == (50_000, 50_000)
    assert len(data) < 1_000_000


def test_big_page_is_ten_megabytes(corpus: dict[str, Path]) -> None:
    assert corpus["html_10mb.html"].stat().st_size >= 10_000_000


# --- each document: a Bulletin or a ParseError, within the bounds ----------------------


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.name for entry in CORPUS])
def test_outcome_is_a_bulletin_or_a_parse_error(
    measured: dict[str, Measurement], entry: CorpusFile
) -> None:
    result = measured[entry.name]
    assert result.outcome in {"bulletin", "ParseError"}, (
        f"{entry.name}: {result.outcome} {result.error_type}\n{result.message}\n{result.stderr}"
    )
    if entry.expect == "bulletin":
        assert result.outcome == "bulletin", result.message
    elif entry.expect == "error":
        assert result.outcome == "ParseError", "expected a ParseError, got a Bulletin"
    if result.outcome == "ParseError":
        assert entry.name in result.message, f"the message does not name the file: {result.message}"
        assert re.search(entry.reason, result.message, re.IGNORECASE), (
            f"{entry.name}: the message does not give the reason ({entry.reason}): {result.message}"
        )


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.name for entry in CORPUS])
def test_within_time_and_memory_bounds(measured: dict[str, Measurement], entry: CorpusFile) -> None:
    result = measured[entry.name]
    assert result.outcome != "killed", f"{entry.name}: {result.message}\n{result.stderr}"
    assert result.wall_s < MAX_WALL_S
    assert result.peak_rss_mib < MAX_PEAK_MIB
    assert result.children_peak_rss_mib < MAX_PEAK_MIB


@pytest.mark.parametrize(
    "name",
    [
        "good_sample_page.html",
        "html_named.doc",
        "html_10mb.html",
        "html_deeply_nested.html",
        "pdf_named.docx",
        "docx_named.pdf",
    ],
)
def test_valid_bulletins_are_read_in_full(measured: dict[str, Measurement], name: str) -> None:
    """The Hengdong bulletin under a lying name, padded, or nested deep still gives 4630 calls."""
    result = measured[name]
    assert result.bulletin is not None, result.message
    calls = [m["value"] for m in result.bulletin["metrics"] if m["metric"] == "calls_inbound"]
    assert calls == [HENGDONG_CALLS]
    assert result.bulletin["documents"] == [name]
    if name.endswith((".html", ".doc")):
        assert result.bulletin["title"] == HENGDONG_TITLE


def test_big_page_filler_is_not_bulletin_text(measured: dict[str, Measurement]) -> None:
    text = measured["html_10mb.html"].text or ""
    assert "4630" in text
    assert PAGE_FILLER not in text
    assert len(text) < 100_000


def test_million_row_workbook_reads_first_and_last_cell(measured: dict[str, Measurement]) -> None:
    text = measured["xlsx_million_rows.xlsx"].text or ""
    assert all(cell in text for cell in WORKBOOK_CELLS)


def test_passwd_never_appears(measured: dict[str, Measurement]) -> None:
    passwd = _passwd_lines()
    assert passwd, "/etc/passwd has no line to look for"
    for result in measured.values():
        output = json.dumps([result.message, result.bulletin, result.text], ensure_ascii=False)
        leaked = [line for line in passwd if line in output]
        assert not leaked, f"{result.name} leaks /etc/passwd: {leaked[:1]}"


# --- the batch goes on -----------------------------------------------------------------


def test_batch_reports_each_bad_file_and_parses_the_good_ones(
    corpus: dict[str, Path], measured: dict[str, Measurement]
) -> None:
    """``hotline parse --each`` over the whole corpus: exit 1, one error line per bad file,
    and a bulletin for every good one (the real Hengdong page among them)."""
    paths = [str(corpus[entry.name]) for entry in CORPUS]
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", "parse", "--each", "--json", *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    failed = {name for name, result in measured.items() if result.outcome == "ParseError"}
    parsed = {name for name, result in measured.items() if result.outcome == "bulletin"}
    assert {e.name for e in CORPUS if e.expect == "error"} <= failed
    assert {"good_sample_page.html", "html_10mb.html", "xlsx_million_rows.xlsx"} <= parsed

    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == len(failed)
    for name in failed:
        assert sum(1 for line in error_lines if f"/{name}: " in line) == 1, name

    bulletins = json.loads(done.stdout)
    assert sorted(b["documents"][0] for b in bulletins) == sorted(parsed)
    sample = next(b for b in bulletins if b["documents"] == ["good_sample_page.html"])
    assert sample["title"] == HENGDONG_TITLE
    assert {"metric": "calls_inbound", "value": HENGDONG_CALLS}.items() <= next(
        m for m in sample["metrics"] if m["metric"] == "calls_inbound"
    ).items()
    leaked = [line for line in _passwd_lines() if line in done.stdout + done.stderr]
    assert not leaked


# --- a reader change made for the bounds ---------------------------------------------------


def test_one_walk_selector_matching_equals_soupsieve_select(corpus: dict[str, Path]) -> None:
    """The body finder's generic selectors are matched in one walk of the tree (a select
    per selector cost most of a large page's parse): same tags, same order as select()."""
    snippet = (
        '<div class="content zw"><div id="content" class="article">'
        '<article class="con view"><p class="Content">x</p></article></div>'
        '<div class="detail detail">y</div><section id="zw">z</section></div>'
    )
    # In the snippet, by hand: .content, #content, .article, .con, .view, .zw, #zw,
    # .detail (once, though its class is repeated) and article; not the <p class="Content">.
    pages = [(corpus["good_sample_page.html"].read_text(encoding="utf-8"), 2), (snippet, 9)]
    for html, count in pages:
        page = BeautifulSoup(html, "lxml").body
        expected = [tag for selector in _GENERIC_BODY_SELECTORS for tag in page.select(selector)]
        found = _simple_selector_matches(page, _GENERIC_BODY_SELECTORS)
        assert [id(tag) for tag in found] == [id(tag) for tag in expected]
        assert len(found) == count
