"""A corpus of broken documents, made at test time (nothing large is committed).

    .venv/bin/python tests/bad_documents/make_corpus.py OUTDIR

writes every corpus file into OUTDIR; :func:`write_corpus` does the same from a test.
Every file is made deterministically from fixed seeds, the document fixtures of
``tests/fixtures/documents/`` and one real sample page of ``samples/sites/``.

Each :class:`CorpusFile` says what is wrong with the file and what a parser must make of
it: ``"bulletin"`` (the content is a valid bulletin in spite of the trap: a lying file name,
a huge page), ``"error"`` (a ParseError whose message matches ``reason``) or ``"either"``
(a damaged file a reader may partly recover: a Bulletin or a ParseError are both fine).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "tests" / "fixtures" / "documents"
# The good document of the batch: a real Hengdong bulletin page (4630 calls in September 2020).
SAMPLE_PAGE = (
    ROOT / "samples/sites/www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"
)
SAMPLE_PDF = DOCUMENTS / "hengdong_2020-09_tables.pdf"
SAMPLE_DOCX = DOCUMENTS / "hengdong_2020-09_tables.docx"
# What the XXE documents try to pull in.
XXE_TARGET = "file:///etc/passwd"
# The user password of the encrypted PDF (its text can be read back with it).
PDF_PASSWORD = "hotline"
ENCRYPTED_PDF_TEXT = "Encrypted bulletin 12345"

_GIB = 1 << 30
_MIB = 1 << 20


@dataclass(frozen=True)
class CorpusFile:
    """One corpus document: its name, what is wrong with it, and what a parser must make of it."""

    name: str
    problem: str
    expect: str  # "bulletin", "error" or "either"
    reason: str  # regular expression the ParseError message must match (case-insensitive)
    build: Callable[[], bytes]


# --- PDF --------------------------------------------------------------------------------


def _pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF file of the given objects (object 1 is the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _rc4(key: bytes, data: bytes) -> bytes:
    """RC4, the cipher of the PDF standard security handler (revision 2)."""
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def encrypted_pdf() -> bytes:
    """A one-page PDF encrypted with a user password (RC4 40-bit, PDF 1.4 standard handler)."""
    user = (PDF_PASSWORD.encode() + _PDF_PAD)[:32]
    owner = (b"owner-" + _PDF_PAD)[:32]
    file_id = hashlib.md5(b"hotline bad documents").digest()
    permissions = -44
    owner_value = _rc4(hashlib.md5(owner).digest()[:5], user)
    key = hashlib.md5(user + owner_value + struct.pack("<i", permissions) + file_id).digest()[:5]
    user_value = _rc4(key, _PDF_PAD)

    def encrypt(number: int, data: bytes) -> bytes:
        object_key = hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()[:10]
        return _rc4(object_key, data)

    content = encrypt(4, b"BT /F1 18 Tf 40 120 Td (%s) Tj ET" % ENCRYPTED_PDF_TEXT.encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <%s> /U <%s> /P %d >>"
        % (owner_value.hex().encode(), user_value.hex().encode(), permissions),
    ]
    return _pdf(objects, b"/Encrypt 6 0 R /ID [<%s> <%s>] " % ((file_id.hex().encode(),) * 2))


def blank_pdf() -> bytes:
    """A PDF of one blank page: no text layer, so it goes to OCR, which finds nothing.

    The page is small (2 x 1 inch) so that OCR at 300 dpi stays quick."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 144 72] /Resources << >> >>",
    ]
    return _pdf(objects)


def truncated_pdf() -> bytes:
    """The Hengdong fixture PDF cut after 40% of its bytes (a download that stopped)."""
    data = SAMPLE_PDF.read_bytes()
    return data[: len(data) * 2 // 5]


def truncated_pdf_with_eof() -> bytes:
    """The fixture PDF cut after 60%, then ``%%EOF`` appended: the xref is gone, not the end."""
    data = SAMPLE_PDF.read_bytes()
    return data[: len(data) * 3 // 5] + b"\n%%EOF\n"


def corrupt_pdf() -> bytes:
    """A PDF header, 64 KiB of random bytes, then ``%%EOF``: the reader has to look inside."""
    return b"%PDF-1.7\n" + random.Random(1).randbytes(64 * 1024) + b"\n%%EOF\n"


# --- zip helpers ----------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    """A deflated zip of these members with fixed dates (the same bytes every run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 10, 15, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _replace_members(data: bytes, replacements: dict[str, bytes]) -> bytes:
    """A copy of an OOXML zip with some members replaced (others kept, same order)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {info.filename: source.read(info) for info in source.infolist()}
    members.update(replacements)
    return _zip(members)


_ZipEntry = tuple[str, bytes, int, int, int]  # name, payload, size, CRC-32, method


def _raw_zip(entries: list[_ZipEntry]) -> bytes:
    """A zip of the given members, written by hand: payloads, sizes and CRCs as given, so
    that a huge member costs no compression and a directory can state what it likes."""
    out = bytearray()
    central = bytearray()
    for member, payload, full_size, member_crc, method in entries:
        encoded = member.encode()
        offset = len(out)
        # version 20, flags 0, method, time 00:00, date 2020-10-15
        fields = (20, 0, method, 0, (40 << 9) | (10 << 5) | 15, member_crc)
        sizes = (len(payload), full_size, len(encoded), 0)
        out += b"PK\x03\x04" + struct.pack("<HHHHHI", *fields) + struct.pack("<IIHH", *sizes)
        out += encoded + payload
        central += b"PK\x01\x02" + struct.pack("<HHHHHHI", 20, *fields)
        central += struct.pack("<IIHHHHHII", *sizes[:3], 0, 0, 0, 0, 0, offset) + encoded
    directory = len(out)
    out += central
    count = len(entries)
    out += b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(central), directory, 0)
    return bytes(out)


def _deflated_entry(name: str, data: bytes) -> _ZipEntry:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    payload = compressor.compress(data) + compressor.flush()
    return (name, payload, len(data), zlib.crc32(data), zipfile.ZIP_DEFLATED)


def _members(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {info.filename: archive.read(info) for info in archive.infolist()}


def _deflated_filler(prefix: bytes, filler: bytes, repeats: int, suffix: bytes) -> bytes:
    """Raw deflate of prefix + filler * repeats + suffix, built from one compressed copy of
    the filler: after a full flush the compressor forgets the past, so the same input
    gives the same bytes each time and the block can be repeated as it is."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(filler) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(filler) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "a full flush should make the filler's blocks identical"
    tail = compressor.compress(suffix) + compressor.flush(zlib.Z_FINISH)
    return head + block * repeats + tail


def _crc_of_repeated(prefix: bytes, filler: bytes, repeats: int, suffix: bytes) -> int:
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(filler, crc)
    return zlib.crc32(suffix, crc)


# --- DOCX -----------------------------------------------------------------------------

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def _docx_document(body: str, doctype: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'{doctype}<w:document xmlns:w="{_W_NS}"><w:body>{body}</w:body></w:document>'
    )


def _paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


BOMB_BYTES = 2 * _GIB


def _bomb_entry(name: str, prefix: bytes, suffix: bytes, claimed: int | None) -> _ZipEntry:
    """A member of ~2 GiB of spaces between ``prefix`` and ``suffix``, ~2 MB deflated; its
    stated size (and CRC) is the truth, or ``claimed`` bytes (the CRC of those bytes)."""
    filler = b" " * _MIB
    repeats = (BOMB_BYTES - len(prefix) - len(suffix)) // _MIB
    deflated = _deflated_filler(prefix, filler, repeats, suffix)
    if claimed is None:
        size = len(prefix) + repeats * _MIB + len(suffix)
        return (name, deflated, size, _crc_of_repeated(prefix, filler, repeats, suffix), 8)
    return (name, deflated, claimed, zlib.crc32((prefix + filler)[:claimed]), 8)


_DOCX_PREFIX = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W_NS}">'
    "<w:body><w:p><w:r><w:t>"
).encode()
_DOCX_SUFFIX = b"</w:t></w:r></w:p></w:body></w:document>"


def docx_zip_bomb() -> bytes:
    """A DOCX whose document.xml inflates to 2 GiB (a paragraph of spaces), ~2 MB zipped.

    The zip's directory states the true sizes: a reader that checks them refuses it, one that
    inflates the part runs out of memory."""
    bomb = _bomb_entry("word/document.xml", _DOCX_PREFIX, _DOCX_SUFFIX, None)
    return _raw_zip(
        [
            _deflated_entry("[Content_Types].xml", _DOCX_CONTENT_TYPES),
            _deflated_entry("_rels/.rels", _DOCX_RELS),
            bomb,
        ]
    )


def docx_zip_bomb_lying_sizes() -> bytes:
    """The same 2 GiB document.xml, but the zip directory claims it is 4 KiB (with the CRC of
    those 4 KiB): the size checks pass, so a reader must not trust them when it inflates."""
    bomb = _bomb_entry("word/document.xml", _DOCX_PREFIX, _DOCX_SUFFIX, 4096)
    return _raw_zip(
        [
            _deflated_entry("[Content_Types].xml", _DOCX_CONTENT_TYPES),
            _deflated_entry("_rels/.rels", _DOCX_RELS),
            bomb,
        ]
    )


def _xxe_doctype(root: str) -> str:
    return f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{XXE_TARGET}">]>\n'


def docx_xxe() -> bytes:
    """A DOCX whose document.xml declares an external entity for /etc/passwd and uses it."""
    document = _docx_document(
        _paragraph("12345热线运行情况") + _paragraph("&xxe;"), _xxe_doctype("w:document")
    )
    return _replace_members(SAMPLE_DOCX.read_bytes(), {"word/document.xml": document.encode()})


def docx_xxe_utf16() -> bytes:
    """The XXE document.xml encoded as UTF-16 (with BOM): a byte scan for '<!DOCTYPE' in
    UTF-8 does not see it."""
    document = _docx_document(
        _paragraph("12345热线运行情况") + _paragraph("&xxe;"), _xxe_doctype("w:document")
    ).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return _replace_members(
        SAMPLE_DOCX.read_bytes(), {"word/document.xml": document.encode("utf-16")}
    )


def docx_truncated() -> bytes:
    """The Hengdong fixture DOCX cut in half (the zip directory at its end is gone)."""
    data = SAMPLE_DOCX.read_bytes()
    return data[: len(data) // 2]


# --- XLSX / XLS -----------------------------------------------------------------------

_XLSX_LAST_ROW = 1_048_576


def _styled_workbook() -> bytes:
    """An openpyxl workbook with text at A1 and A1048576, both styled."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工单"
    sheet["A1"] = "首行单元格"
    sheet[f"A{_XLSX_LAST_ROW}"] = "末行单元格"
    thin = Side(style="thin")
    for cell in (sheet["A1"], sheet[f"A{_XLSX_LAST_ROW}"]):
        cell.font = Font(bold=True, name="SimSun")
        cell.fill = PatternFill("solid", fgColor="FFFF00")
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        cell.alignment = Alignment(horizontal="center")
    workbook.properties.created = workbook.properties.modified = _fixed_date()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fixed_date() -> datetime.datetime:
    """The workbooks' creation date: fixed, so that every run writes the same bytes."""
    return datetime.datetime(2020, 10, 15)


def _sheet_with_rows(sheet_xml: str, rows: str) -> str:
    start = sheet_xml.index("<sheetData>") + len("<sheetData>")
    return sheet_xml[:start] + rows + sheet_xml[sheet_xml.index("</sheetData>") :]


def xlsx_million_rows() -> bytes:
    """An XLSX with a cell at A1, one at A1048576 and a million empty styled rows between.

    Every row 2..1048575 is written as ``<row r="n" s="1" customFormat="1" .../>`` (a row
    formatted by hand all the way down, as Excel writes it), so the sheet really holds a
    million rows, not just a dimension that claims them."""
    members = _members(_styled_workbook())
    sheet_xml = members["xl/worksheets/sheet1.xml"].decode()
    first = re.search(r'<row r="1"[^>]*>.*?</row>', sheet_xml).group(0)
    last = re.search(rf'<row r="{_XLSX_LAST_ROW}"[^>]*>.*?</row>', sheet_xml).group(0)
    empty = "".join(
        f'<row r="{n}" s="1" customFormat="1" ht="15" customHeight="1"/>'
        for n in range(2, _XLSX_LAST_ROW)
    )
    members["xl/worksheets/sheet1.xml"] = _sheet_with_rows(sheet_xml, first + empty + last).encode()
    return _zip(members)


def xlsx_three_million_rows() -> bytes:
    """Three sheets of 1,048,576 empty rows each (``<row r="n"/>``), 8 MB zipped: within the
    size limits, but every row costs the reader time (~7 us): reading them all takes long."""
    from openpyxl import Workbook

    workbook = Workbook()
    for title in ("一", "二", "三"):
        workbook.create_sheet(title)["A1"] = "工单"
    workbook.remove(workbook.active)
    workbook.properties.created = workbook.properties.modified = _fixed_date()
    buffer = io.BytesIO()
    workbook.save(buffer)
    members = _members(buffer.getvalue())
    rows = "".join(f'<row r="{n}"/>' for n in range(2, _XLSX_LAST_ROW + 1))
    entries = []
    sheet_entry = None
    for name, data in members.items():
        if name.startswith("xl/worksheets/sheet"):
            if sheet_entry is None:  # the three sheets are alike: deflate one, use it thrice
                xml = data.decode()
                first = re.search(r'<row r="1"[^>]*>.*?</row>', xml).group(0)
                sheet_entry = _deflated_entry(name, _sheet_with_rows(xml, first + rows).encode())
            entries.append((name, *sheet_entry[1:]))
        else:
            entries.append(_deflated_entry(name, data))
    return _raw_zip(entries)


def xlsx_zip_bomb_lying_sizes() -> bytes:
    """An XLSX whose styles.xml inflates to 2 GiB while its directory claims 4 KiB."""
    members = _members(_styled_workbook())
    prefix = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    entries = [
        _bomb_entry(name, prefix, b"</styleSheet>", 4096)
        if name == "xl/styles.xml"
        else _deflated_entry(name, data)
        for name, data in members.items()
    ]
    return _raw_zip(entries)


def xlsx_xxe() -> bytes:
    """An XLSX whose worksheet declares an external entity for /etc/passwd and uses it in A1."""
    source = _styled_workbook()
    sheet_xml = zipfile.ZipFile(io.BytesIO(source)).read("xl/worksheets/sheet1.xml").decode()
    sheet_xml = re.sub(r"<is><t>[^<]*</t></is>", "<is><t>&xxe;</t></is>", sheet_xml, count=1)
    sheet_xml = _xxe_doctype("worksheet") + sheet_xml
    return _replace_members(source, {"xl/worksheets/sheet1.xml": sheet_xml.encode()})


def xls_garbage() -> bytes:
    """64 KiB of random bytes named .xls."""
    return random.Random(2).randbytes(64 * 1024)


def xls_ole_garbage() -> bytes:
    """An OLE compound-file signature followed by random bytes, named .xls."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(3).randbytes(64 * 1024 - 8)


# --- HTML, text, images ---------------------------------------------------------------

BIG_PAGE_BYTES = 10 * 1000 * 1000


def big_html() -> bytes:
    """The real sample page padded to 10 MB: a 5 MB inline picture (base64 data URL) in the
    header and a list of 20,000 long links before the footer (a portal that prints its
    archive on every page), ~60,000 tags in all."""
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    picture = base64.b64encode(random.Random(6).randbytes(BIG_PAGE_BYTES // 2 * 3 // 4))
    header = (
        f'<div class="banner"><img alt="" src="data:image/png;base64,{picture.decode()}"></div>\n'
    )
    items = []
    size = len(page) + len(header)
    number = 0
    while size < BIG_PAGE_BYTES:
        number += 1
        item = (
            f'<li><a href="/zmhd/12345rx/gzjb/{number}.html">关于进一步做好全县政务服务便民热线'
            f"工作的通知及相关栏目文章标题第{number}篇（详见附件，请各单位认真学习贯彻落实）</a>"
            f"<span>2020-10-{number % 28 + 1:02d}</span></li>\n"
        )
        items.append(item)
        size += len(item.encode())
    filler = '<div class="related"><ul>\n' + "".join(items) + "</ul></div>\n"
    body = page.index("<body>") + len("<body>\n")
    footer = page.rindex("</body>")
    return (page[:body] + header + page[body:footer] + filler + page[footer:]).encode("utf-8")


def tag_flood_html() -> bytes:
    """An 8 MB page of one million tiny elements (``<i>x</i>``): the parse tree of every
    element costs ~1.4 KB, so a parser that builds it needs ~1.4 GB."""
    return b"<html><body><p>" + b"<i>x</i>" * 1_000_000 + b"</p></body></html>"


def deeply_nested_html() -> bytes:
    """A page whose body opens 20,000 <div>s and never closes them (broken CMS output),
    then carries the sample page's text."""
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    position = page.index('<div class="content" id="zoom">')
    return (page[:position] + "<div>" * 20_000 + page[position:]).encode("utf-8")


def binary_html() -> bytes:
    """256 KiB of random bytes named .html."""
    return random.Random(4).randbytes(256 * 1024)


def sample_page() -> bytes:
    """The real Hengdong bulletin page (also served under a .doc name: sites serve HTML as .doc)."""
    return SAMPLE_PAGE.read_bytes()


SEED_TEXT = ROOT / "samples" / "seeds" / "004_4a1945551eb7f6d2.txt"


def big_text() -> bytes:
    """12 MB of text: the real Hengdong bulletin's text repeated (a dump, not a bulletin)."""
    seed = SEED_TEXT.read_bytes()
    return seed * (12_000_000 // len(seed) + 1)


def text_garbage() -> bytes:
    """64 KiB of random bytes named .txt."""
    return random.Random(7).randbytes(64 * 1024)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_BOMB_SIDE = 50_000


def png_bomb() -> bytes:
    """A 50,000 x 50,000 one-bit PNG (2.5 gigapixels, 2.5 GB as greyscale) of ~300 KB."""
    row = b"\x00" * (1 + PNG_BOMB_SIDE // 8)  # filter byte, then 6,250 bytes of black pixels
    rows_per_block = 1000
    blocks = PNG_BOMB_SIDE // rows_per_block
    filler = row * rows_per_block
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(filler, checksum)
    # zlib stream: header (deflate, 32K window, best compression), raw deflate, Adler-32.
    deflated = b"\x78\xda" + _deflated_filler(b"", filler, blocks, b"")
    data = deflated + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", PNG_BOMB_SIDE, PNG_BOMB_SIDE, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def image_garbage() -> bytes:
    """A PNG signature and IHDR, then random bytes."""
    header = struct.pack(">IIBBBBB", 800, 600, 8, 0, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
    return head + random.Random(5).randbytes(32 * 1024)


CORPUS: tuple[CorpusFile, ...] = (
    CorpusFile("good_sample_page.html", "none: a real bulletin page", "bulletin", "", sample_page),
    CorpusFile("empty.html", "an empty file", "error", r"empty", lambda: b""),
    CorpusFile("pdf_truncated.pdf", "PDF cut after 40% of its bytes", "error", r"truncat|corrupt", truncated_pdf),
    CorpusFile("pdf_truncated_with_eof.pdf", "PDF cut after 60%, %%EOF appended", "either", r"corrupt|no text|truncat", truncated_pdf_with_eof),
    CorpusFile("pdf_corrupt.pdf", "PDF header then random bytes", "error", r"corrupt|not a readable|no text", corrupt_pdf),
    CorpusFile("pdf_encrypted.pdf", "PDF encrypted with a user password", "error", r"encrypt|password", encrypted_pdf),
    CorpusFile("pdf_blank_page.pdf", "PDF page without text layer or ink (goes to OCR)", "error", r"no text", blank_pdf),
    CorpusFile("docx_zip_bomb.docx", "DOCX whose document.xml inflates to 2 GiB", "error", r"bomb|limit|exceeds", docx_zip_bomb),
    CorpusFile("docx_zip_bomb_lying_sizes.docx", "2 GiB DOCX part under a directory that claims 4 KiB", "error", r"bomb|inflates", docx_zip_bomb_lying_sizes),
    CorpusFile("docx_xxe.docx", f"DOCX with an external entity to {XXE_TARGET}", "error", r"dtd|entit", docx_xxe),
    CorpusFile("docx_xxe_utf16.docx", "the XXE DOCX with its XML part in UTF-16", "error", r"dtd|entit", docx_xxe_utf16),
    CorpusFile("docx_truncated.docx", "DOCX cut in half", "error", r"zip|corrupt|not a docx", docx_truncated),
    CorpusFile("xlsx_million_rows.xlsx", "cells at A1 and A1048576, a million empty styled rows", "bulletin", "", xlsx_million_rows),
    CorpusFile("xlsx_three_million_rows.xlsx", "three sheets of 1,048,576 empty rows", "error", r"rows", xlsx_three_million_rows),
    CorpusFile("xlsx_zip_bomb_lying_sizes.xlsx", "2 GiB styles.xml under a directory that claims 4 KiB", "error", r"bomb|inflates", xlsx_zip_bomb_lying_sizes),
    CorpusFile("xlsx_xxe.xlsx", f"XLSX worksheet with an external entity to {XXE_TARGET}", "error", r"dtd|entit", xlsx_xxe),
    CorpusFile("xls_garbage.xls", "random bytes named .xls", "error", r"xls|corrupt|format", xls_garbage),
    CorpusFile("xls_ole_garbage.xls", "OLE signature then random bytes, named .xls", "error", r"xls|corrupt|ole", xls_ole_garbage),
    CorpusFile("html_10mb.html", "a real bulletin page padded to 10 MB (inline picture, 20,000 links)", "bulletin", "", big_html),
    CorpusFile("html_tag_flood.html", "8 MB page of a million tiny elements", "error", r"tags", tag_flood_html),
    CorpusFile("html_deeply_nested.html", "a real bulletin page inside 20,000 unclosed <div>s", "bulletin", "", deeply_nested_html),
    CorpusFile("html_binary_garbage.html", "random bytes named .html", "error", r"not a text page|not an html|charset", binary_html),
    CorpusFile("txt_12mb.txt", "12 MB of text (a bulletin's text repeated)", "error", r"characters", big_text),
    CorpusFile("txt_binary_garbage.txt", "random bytes named .txt", "error", r"binary|undecodable", text_garbage),
    CorpusFile("pdf_named.docx", "a (valid) PDF named .docx", "bulletin", "", lambda: SAMPLE_PDF.read_bytes()),
    CorpusFile("docx_named.pdf", "a (valid) DOCX named .pdf", "bulletin", "", lambda: SAMPLE_DOCX.read_bytes()),
    CorpusFile("html_named.doc", "the real sample page (HTML) named .doc", "bulletin", "", sample_page),
    CorpusFile("png_bomb.png", "50,000 x 50,000 pixel PNG of 300 KB", "error", r"pixel|too large|bomb", png_bomb),
    CorpusFile("png_garbage.png", "PNG signature and header, then random bytes", "error", r"image|corrupt", image_garbage),
)  # fmt: skip


# --- worst cases just inside the parsers' caps (for bench/bad_documents_bounds.py) -----


def html_at_tag_cap() -> bytes:
    """99,990 paragraphs and no CMS container: every body rule runs over the whole page."""
    return b"<html><body>" + "<p>12345热线</p>".encode() * 99_990 + b"</body></html>"


def html_nested_at_tag_cap() -> bytes:
    """The sample page inside 99,000 unclosed <div>s."""
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    position = page.index('<div class="content" id="zoom">')
    return (page[:position] + "<div>" * 99_000 + page[position:]).encode("utf-8")


def _seed_lines(characters: int) -> list[str]:
    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    repeats = characters // sum(len(line) + 1 for line in lines)
    return lines * repeats


def html_at_text_cap() -> bytes:
    """~1.95 million characters of bulletin text as paragraphs inside #zoom."""
    paragraphs = "".join(f"<p>{line}</p>\n" for line in _seed_lines(1_950_000))
    return f'<html><body><div id="zoom">{paragraphs}</div></body></html>'.encode()


def text_at_text_cap() -> bytes:
    """~1.95 million characters of bulletin text as a .txt file."""
    return "\n".join(_seed_lines(1_950_000)).encode()


def xlsx_at_row_cap() -> bytes:
    """Two sheets of 999,999 empty rows each, just under the reader's two million rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    for title in ("一", "二"):
        workbook.create_sheet(title)["A1"] = "工单"
    workbook.remove(workbook.active)
    workbook.properties.created = workbook.properties.modified = _fixed_date()
    buffer = io.BytesIO()
    workbook.save(buffer)
    members = _members(buffer.getvalue())
    rows = "".join(f'<row r="{n}"/>' for n in range(2, 1_000_001))
    for name, data in list(members.items()):
        if name.startswith("xl/worksheets/sheet"):
            xml = data.decode()
            first = re.search(r'<row r="1"[^>]*>.*?</row>', xml).group(0)
            members[name] = _sheet_with_rows(xml, first + rows).encode()
    return _zip(members)


LIMIT_CASES: tuple[CorpusFile, ...] = (
    CorpusFile("limit_html_99990_tags.html", "99,990 <p> without a CMS container", "either", "", html_at_tag_cap),
    CorpusFile("limit_html_99000_deep.html", "sample page under 99,000 unclosed <div>s", "either", "", html_nested_at_tag_cap),
    CorpusFile("limit_html_1.95M_chars.html", "1.95 million characters of text in <p>s", "either", "", html_at_text_cap),
    CorpusFile("limit_txt_1.95M_chars.txt", "1.95 million characters of text", "either", "", text_at_text_cap),
    CorpusFile("limit_xlsx_2M_rows.xlsx", "two sheets of 999,999 empty rows", "either", "", xlsx_at_row_cap),
)  # fmt: skip

BY_NAME = {entry.name: entry for entry in CORPUS + LIMIT_CASES}


def write_corpus(directory: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the corpus files (all, or the named ones, limit cases included) into
    ``directory``; their paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in names if names is not None else [entry.name for entry in CORPUS]:
        path = directory / name
        path.write_bytes(BY_NAME[name].build())
        paths[name] = path
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    for name, path in write_corpus(Path(sys.argv[1])).items():
        print(f"{path.stat().st_size:>12,}  {name}")
