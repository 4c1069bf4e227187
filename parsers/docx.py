"""Word documents (DOCX): prose and tables in document order, merged cells resolved.

:func:`read_docx` walks the body's paragraphs and tables in the order they are printed
(content controls and text boxes included, deleted tracked changes left out) and returns
an :class:`ExtractedDocument`: the prose with every table rendered in place as
``cell | cell |`` lines, and each data table as a :class:`Table`.

Merged cells are read from the XML (``w:gridSpan``, ``w:vMerge``, legacy ``w:hMerge``)
into a grid where a merged cell occupies every position it covers:

- header rows (leading rows without figures, and rows a header cell reaches down into)
  are joined per column top to bottom with "/", a cell spanning rows named once:
  "超期工单/超期已办结", "单位名称" (not "单位名称/单位名称");
- body rows hold, at every position, the text of the cell covering it: a vertically
  merged body cell (a region spanning three rows) repeats its text in each row, and a
  horizontally merged one ("合计" over 序号 and 单位) in each column, as the HTML reader does;
- in the rendered text a merged cell is printed once, in the row and column it starts.

Tables nested in a cell, and one-row or one-column tables, are layout frames: their cells
are read as paragraphs. A table's title is the short non-prose paragraph right before it
(heading numbers such as "二、" dropped), else a title row spanning the table's top.

Limits: a DOCX is a zip, so the sizes in its directory are checked before anything is
decompressed (total and per-member ratio: a zip bomb is refused, not inflated), and an XML
part declaring a DTD is refused. python-docx already parses with ``resolve_entities=False``
(entities are never expanded), but OOXML never carries a DTD, and dropping text silently
is worse than a clear error.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import OpcError
from lxml import etree

from .errors import ParseError
from .grid import joined_header, printed_rows
from .model import ExtractedDocument, Table
from .normalize import parse_cell_number
from .zipcheck import check_stated_sizes

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Deflate reaches ~1000:1 on runs of zeros; XML compresses 5-30:1. Members below the floor
# cannot hurt memory whatever their ratio, and tiny parts do compress very well.
MAX_COMPRESSION_RATIO = 100
_RATIO_FLOOR_BYTES = 1024 * 1024

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_SCAN_CHUNK = 1024 * 1024

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


_W_P, _W_TBL, _W_TR, _W_TC, _W_T = _w("p"), _w("tbl"), _w("tr"), _w("tc"), _w("t")
_W_TAB, _W_BR, _W_CR = _w("tab"), _w("br"), _w("cr")
_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML = _w("sdt"), _w("sdtContent"), _w("customXml")
_W_TXBX_CONTENT = _w("txbxContent")
_W_VAL = _w("val")
# Wrappers whose children count as the wrapper's own blocks, rows or cells.
_WRAPPERS = {_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML, _w("ins"), _w("moveTo")}
# Text that is not printed: tracked deletions, fallbacks of alternate content, properties.
_SKIPPED = {
    _w("del"), _w("moveFrom"), _w("pPr"), _w("rPr"), _w("sdtPr"), _w("instrText"),
    _w("delText"), f"{{{_MC}}}Fallback",
}  # fmt: skip
_NO_BREAK_HYPHEN = _w("noBreakHyphen")

_HEADING_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.]|[(（]\s*[一二三四五六七八九十\d]+\s*[)）]|\d+[、.](?!\d))\s*"
)
_SEE_BELOW = re.compile(
    r"(?:[,，]?(?:详见|见|如|列)下表(?:所示)?|[,，]?(?:具体)?如下(?:所示)?|[,，]?见附表)$"
)
_UNIT_NOTE = re.compile(r"^[(（]?\s*(?:计量)?单位\s*[:：][^,，。]{0,12}[)）]?$")
_PROSE_PUNCTUATION = re.compile(r"[。；;！!？?]")
_MAX_TITLE = 60
_INLINE_SPACES = re.compile(r"[ \t\u00a0]+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


# --- limits ----------------------------------------------------------------------------


def _open_zip(data: bytes, name: str, max_bytes: int, max_unzipped_bytes: int) -> zipfile.ZipFile:
    """The DOCX as a zip, its directory checked against the size limits before any inflating."""
    if len(data) > max_bytes:
        raise ParseError(f"{name}: file too large ({len(data)} bytes, limit {max_bytes})")
    if data.startswith(_OLE_SIGNATURE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise ParseError(f"{name}: encrypted (password-protected) DOCX")
        raise ParseError(f"{name}: an old binary Word/OLE file, not DOCX (read it as .doc)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise ParseError(
            f"{name}: not a DOCX file (corrupt or not a zip archive: {error})"
        ) from None
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise ParseError(f"{name}: encrypted zip member {member.filename!r}")
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ParseError(
                f"{name}: zip member {member.filename!r} inflates {ratio:.0f}:1 "
                f"({member.file_size} bytes): refused as a zip bomb"
            )
    if total > max_unzipped_bytes:
        raise ParseError(
            f"{name}: unzipped size {total} bytes exceeds the limit of {max_unzipped_bytes}"
        )
    if not any(member.filename == "[Content_Types].xml" for member in members):
        raise ParseError(f"{name}: not a DOCX file (a zip that is no Office document)")
    return archive


def _refuse_dtds(archive: zipfile.ZipFile, name: str) -> None:
    """Raise ParseError when an XML part declares a DTD or entities (never valid in OOXML)."""
    overlap = max(len(marker) for marker in _DTD_MARKERS)
    for member in archive.infolist():
        if not member.filename.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(member) as stream:
                tail = b""
                while chunk := stream.read(_SCAN_CHUNK):
                    window = tail + chunk
                    if any(marker in window for marker in _DTD_MARKERS):
                        raise ParseError(
                            f"{name}: external entity declaration (DOCTYPE/ENTITY) in "
                            f"{member.filename!r}: refused"
                        )
                    tail = window[-overlap:]
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as error:
            raise ParseError(f"{name}: corrupt zip member {member.filename!r}: {error}") from None


# --- text of paragraphs and cells ---------------------------------------------------------


def _collect_text(element: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
    """Append the printed text under ``element``; text boxes go to ``boxes`` instead."""
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue
        if tag == _W_T:
            parts.append(child.text or "")
        elif tag == _W_TAB:
            parts.append("\t")
        elif tag in (_W_BR, _W_CR):
            parts.append("\n")
        elif tag == _NO_BREAK_HYPHEN:
            parts.append("-")
        elif tag == _W_TXBX_CONTENT:
            boxes.append(child)
        else:
            _collect_text(child, parts, boxes)


def _paragraph_text(paragraph: etree._Element) -> tuple[str, list[etree._Element]]:
    """A paragraph's printed text (line breaks as newlines) and the text boxes anchored in it."""
    parts: list[str] = []
    boxes: list[etree._Element] = []
    _collect_text(paragraph, parts, boxes)
    return "".join(parts), boxes


def _join_wrapped(pieces: list[str]) -> str:
    """Lines of one cell joined as one text: no space between CJK pieces ("市住房和城"+"乡建设局")."""
    text = ""
    for piece in pieces:
        piece = _INLINE_SPACES.sub(" ", piece).strip()
        if not piece:
            continue
        # Only between two Latin words or figures does a line wrap stand for a space.
        if text and _ASCII_WORD.match(text[-1]) and _ASCII_WORD.match(piece[0]):
            text += " "
        text += piece
    return text


def _children(element: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children of ``element`` with ``tag``, looking through content controls and the like."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _blocks(container: etree._Element) -> Iterator[etree._Element]:
    """The paragraphs and tables of a body or cell, in document order."""
    for child in container:
        if child.tag in (_W_P, _W_TBL):
            yield child
        elif child.tag in _WRAPPERS:
            yield from _blocks(child)


def _cell_text(tc: etree._Element) -> str:
    """A cell's text: its paragraphs and line breaks joined as wrapped lines."""
    pieces: list[str] = []
    for block in _blocks(tc):
        if block.tag == _W_P:
            text, boxes = _paragraph_text(block)
            pieces.extend(text.split("\n"))
            for box in boxes:
                pieces.extend(_cell_text(box).split("\n"))
        else:
            pieces.extend(_cell_text(tc_inner) for tc_inner in block.iter(_W_TC))
    return _join_wrapped(pieces)


# --- table grid ----------------------------------------------------------------------------


@dataclass
class _Cell:
    """A table cell with the grid row and column it starts in and its spans."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1


def _int_val(element: etree._Element | None) -> int:
    """The integer w:val of a span property; 0 when missing or malformed."""
    if element is None:
        return 0
    try:
        return max(0, min(int(element.get(_W_VAL, "0")), 1000))
    except ValueError:
        return 0


def _is_deleted_row(tr: etree._Element) -> bool:
    properties = tr.find(_w("trPr"))
    return properties is not None and properties.find(_w("del")) is not None


def _build_grid(tbl: etree._Element) -> list[list[_Cell | None]]:
    """The table as a full grid; every position a merged cell covers holds that same cell."""
    grid: list[list[_Cell | None]] = []
    for tr in _children(tbl, _W_TR):
        if _is_deleted_row(tr):
            continue
        r = len(grid)
        row: list[_Cell | None] = []
        properties = tr.find(_w("trPr"))
        if properties is not None:
            row.extend([None] * _int_val(properties.find(_w("gridBefore"))))
        for tc in _children(tr, _W_TC):
            tc_properties = tc.find(_w("tcPr"))
            span = 1
            v_merge = h_merge = None
            if tc_properties is not None:
                span = max(1, _int_val(tc_properties.find(_w("gridSpan"))))
                v_merge = tc_properties.find(_w("vMerge"))
                h_merge = tc_properties.find(_w("hMerge"))
            c = len(row)
            above = grid[r - 1][c] if r > 0 and c < len(grid[r - 1]) else None
            left = row[-1] if row else None
            if (
                v_merge is not None
                and v_merge.get(_W_VAL) != "restart"
                and above
                and above.col == c
            ):
                # Continuation of the cell above: Word prints only the first cell's text.
                row.extend([above] * span)
            elif h_merge is not None and h_merge.get(_W_VAL) != "restart" and left is not None:
                row.extend([left] * span)
            else:
                row.extend([_Cell(_cell_text(tc), r, c, 1, span)] * span)
        grid.append(row)
    width = max((len(row) for row in grid), default=0)
    for row in grid:
        row.extend([None] * (width - len(row)))
    return grid


def _text(cell: _Cell | None) -> str:
    return cell.text if cell is not None else ""


def _drop_empty(grid: list[list[_Cell | None]]) -> list[list[_Cell | None]]:
    """Remove rows and columns that are empty throughout, then renumber the cells."""
    grid = [row for row in grid if any(_text(cell) for cell in row)]
    if grid:
        keep = [c for c in range(len(grid[0])) if any(_text(row[c]) for row in grid)]
        grid = [[row[c] for c in keep] for row in grid]
    _renumber(grid)
    return grid


def _renumber(grid: list[list[_Cell | None]]) -> None:
    """Set each cell's start row/column and spans from the grid as it now stands."""
    positions: dict[int, list[tuple[int, int]]] = {}
    cells: dict[int, _Cell] = {}
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell is not None:
                cells[id(cell)] = cell
                positions.setdefault(id(cell), []).append((r, c))
    for key, cell in cells.items():
        rows = {r for r, _ in positions[key]}
        columns = {c for _, c in positions[key]}
        cell.row, cell.col = min(rows), min(columns)
        cell.rowspan, cell.colspan = len(rows), len(columns)


def _is_figure(text: str) -> bool:
    return parse_cell_number(text) is not None


def _is_full_width(row: list[_Cell | None]) -> bool:
    """A row that is one cell across the whole table (a title, unit or note line)."""
    return len(row) > 1 and row[0] is not None and all(cell is row[0] for cell in row)


def _header_row_count(grid: list[list[_Cell | None]]) -> int:
    """Leading rows without figures (when figures follow), plus rows a header cell spans into."""
    has_figures = [any(_is_figure(_text(cell)) for cell in row) for row in grid]
    count = reach = 0
    for r, row in enumerate(grid[:-1]):
        new_cells = list({id(c): c for c in row if c is not None and c.row == r}.values())
        texts = [c.text for c in new_cells if c.text]
        figures = sum(1 for text in texts if _is_figure(text))
        is_header = (
            r < reach
            or (figures == 0 and any(has_figures[r + 1 :]))
            or (any(c.colspan > 1 for c in new_cells) and figures * 2 < len(texts))
        )
        if not is_header:
            break
        count = r + 1
        reach = max([reach] + [r + c.rowspan for c in new_cells])
    if count == 0 and not any(has_figures):
        count = 1
    return min(max(count, reach), len(grid) - 1)


def _render_row(cells: list[str]) -> str:
    # A one-cell row (a title or note across the table) reads as a plain line.
    return cells[0] if len(cells) == 1 else " ".join(f"{cell} |" for cell in cells)


# --- titles ----------------------------------------------------------------------------


def _title_from(text: str) -> str | None:
    """The table's name in the paragraph before it; None for prose."""
    text = text.strip().rstrip(":：").strip()
    if not text or text.startswith("注") or "|" in text:
        return None
    lead_in = _SEE_BELOW.search(text)
    if lead_in:
        text = re.split(r"[。;；!?,，]", text[: lead_in.start()])[-1].strip()
        if len(text) < 3:
            return None
    elif len(text) > _MAX_TITLE or _PROSE_PUNCTUATION.search(text) or _is_figure(text):
        return None
    text = _HEADING_NUMBER.sub("", text).strip()
    return text or None


# --- document walk ---------------------------------------------------------------------------


class _Reader:
    """Walks the body and collects text lines and tables in document order."""

    def __init__(self, document: str | None) -> None:
        self.document = document
        self.lines: list[str] = []
        self.tables: list[Table] = []
        # Lines of the paragraphs since the last table: the one before a table may title it.
        self._previous_paragraphs: list[str] = []

    def blocks(self, container: etree._Element) -> None:
        for block in _blocks(container):
            if block.tag == _W_P:
                self.paragraph(block)
            else:
                self.table(block)

    def paragraph(self, p: etree._Element) -> None:
        text, boxes = _paragraph_text(p)
        for line in text.split("\n"):
            line = line.strip()
            if line:
                self.lines.append(line)
                self._previous_paragraphs.append(line)
        for box in boxes:
            self.blocks(box)

    def table(self, tbl: etree._Element) -> None:
        grid = _drop_empty(_build_grid(tbl))
        nested = tbl.find(f".//{_W_TBL}") is not None
        if nested or len(grid) < 2 or len(grid[0]) < 2:
            self.layout_table(tbl)
            return
        printed = printed_rows(grid)
        title = self._title_before()
        # Full-width rows at the top are a title or unit line, at the bottom a note.
        while grid and _is_full_width(grid[0]):
            text = _text(grid[0][0])
            if title is None and not _UNIT_NOTE.match(text):
                title = _title_from(text)
            grid = grid[1:]
        while grid and _is_full_width(grid[-1]):
            grid = grid[:-1]
        self.lines.extend(_render_row(cells) for cells in printed)
        self._previous_paragraphs = []
        if len(grid) < 2:
            return
        _renumber(grid)
        header_rows = _header_row_count(grid)
        self.tables.append(
            Table(
                title=title,
                header=joined_header(grid, header_rows),
                rows=[[_text(cell) for cell in row] for row in grid[header_rows:]],
                document=self.document,
            )
        )

    def layout_table(self, tbl: etree._Element) -> None:
        """A frame around text (or around other tables): each cell's content read as blocks."""
        for tr in _children(tbl, _W_TR):
            for tc in _children(tr, _W_TC):
                self.blocks(tc)

    def _title_before(self) -> str | None:
        previous = [text for text in self._previous_paragraphs if not _UNIT_NOTE.match(text)]
        return _title_from(previous[-1]) if previous else None


def _core_meta(word: WordDocument) -> dict[str, str]:
    """Title, author and dates from docProps/core.xml, where present."""
    meta: dict[str, str] = {}
    try:
        properties = word.core_properties
        values = {
            "title": properties.title,
            "subject": properties.subject,
            "author": properties.author,
            "last_modified_by": properties.last_modified_by,
            "created": properties.created.isoformat() if properties.created else None,
            "modified": properties.modified.isoformat() if properties.modified else None,
        }
    except (ValueError, KeyError, AttributeError, etree.LxmlError) as error:
        logger.debug("core properties unreadable: %s", error)
        return meta
    for key, value in values.items():
        if value and str(value).strip():
            meta[key] = str(value).strip()
    return meta


def read_docx(
    data: bytes,
    document: str | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> ExtractedDocument:
    """A DOCX file's text (tables rendered in place) and tables; ParseError when unreadable."""
    name = document or "DOCX document"
    archive = _open_zip(data, name, max_bytes, max_unzipped_bytes)
    _refuse_dtds(archive, name)
    # After the DTD scan, which reports a member failing its CRC as corrupt: this catches
    # the member whose stated size and CRC are those of its first bytes only.
    check_stated_sizes(data, archive, name)
    try:
        word = docx.Document(io.BytesIO(data))
    except (
        OpcError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        etree.LxmlError,
    ) as error:
        raise ParseError(f"{name}: not a readable DOCX file ({error})") from None
    root = word.element
    body = root.find(_w("body")) if root.tag == _w("document") else None
    if body is None:
        raise ParseError(f"{name}: not a readable DOCX file (no w:document/w:body)")
    reader = _Reader(document)
    reader.blocks(body)
    logger.debug("%s: %d lines, %d tables", name, len(reader.lines), len(reader.tables))
    return ExtractedDocument(
        text="\n".join(reader.lines), tables=reader.tables, meta=_core_meta(word)
    )
