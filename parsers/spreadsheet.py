"""Spreadsheet readers: XLSX (openpyxl) and XLS (xlrd) -> ExtractedDocument.

Every sheet is read into a grid of cells as printed (numbers in their number format, dates
ISO) plus its merged ranges, then cut into blocks at empty rows. A block with a header row
and body rows is a Table: a leading single-cell row is its title ("9月份成员单位工单办理情况"),
header rows are the rows vertical merges of the first header row reach down to (merged values
are filled across their range there, so a two-row header reads "超期工单/超期已办结"), and
trailing single-cell notes ("注：...") stay prose. Blocks of single cells are prose lines.

XLSX is read in openpyxl's read-only mode, row by row, after the zip directory has been
checked (total uncompressed size, compression ratio per member, no DTD in any XML part,
number of cells): a sheet claiming a million rows costs only the rows it holds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import logging
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import ParseError
from .model import ExtractedDocument, Table
from .zipcheck import check_stated_sizes

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_CELLS = 2_000_000
# Rows are read one by one even when empty (~7 us each): two full sheets' worth is ~15 s.
MAX_ROWS = 2_000_000
MAX_COMPRESSION_RATIO = 100
# Small parts cannot bomb; XML of empty styled cells legitimately compresses very well.
_RATIO_CHECK_MIN_BYTES = 1024 * 1024
_MAX_ROW = 1_048_576  # the largest row and column numbers a workbook can hold
_MAX_COLUMN = 16_384

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CJK_CHAR = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_NUMERIC_CELL = re.compile(r"^[+-]?\d[\d,]*(?:\.\d+)?%?$")
_NOTE_START = ("注", "备注", "说明", "数据来源", "来源", "制表", "填报", "审核")
_NOTE_MIN_CHARS = 20
_MAX_TITLE_CHARS = 60

# Cells (<c>), shared strings (<si>) and merged ranges, with or without a namespace prefix.
_COUNTED_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?(?:c|si|mergeCell)[\s/>]")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?row[\s/>]")
_TAG_OVERLAP = 40
_DTD_MARKERS = tuple(
    marker.encode(codec)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be")
)


# --- grid --------------------------------------------------------------------------


@dataclass
class _Merge:
    """A merged range, 1-based and inclusive."""

    min_row: int
    min_col: int
    max_row: int
    max_col: int


@dataclass
class _Sheet:
    """One sheet: the non-empty cells as printed, keyed (row, column), 1-based."""

    name: str
    cells: dict[tuple[int, int], str] = field(default_factory=dict)
    merges: list[_Merge] = field(default_factory=list)


def _label(document: str | None) -> str:
    return document or "spreadsheet"


def _join_lines(text: str) -> str:
    """A cell's lines as one: no space where a break falls next to a CJK character."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out = ""
    for line in lines:
        if not line:
            continue
        if out and not (_CJK_CHAR.match(out[-1]) or _CJK_CHAR.match(line[0])):
            out += " "
        out += line
    return out


def _format_section(number_format: str) -> str:
    """The first (positive) section of a number format, literals and colours removed."""
    return re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", number_format.split(";")[0])


def _general_number(value: float) -> str:
    """A number without a format: integers without '.0', floats without float noise."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def format_number(value: int | float, number_format: str | None) -> str:
    """A number as the sheet prints it: '0.00%' -> '0.55%', '0.00' -> '12.50', General -> '3338'."""
    fmt = (number_format or "General").strip()
    if fmt.lower() in ("general", "@", "") or not math.isfinite(value):
        return _general_number(value)
    section = _format_section(fmt)
    if re.search(r"[Ee][+-]", section) or not re.search(r"[0#?]", section):
        return _general_number(value)
    decimals = re.search(r"\.([0#?]+)", section)
    fixed = decimals.group(1).count("0") if decimals else 0
    optional = len(decimals.group(1)) - fixed if decimals else 0
    # Excel rounds the value's 15 significant digits half away from zero: 0.0245 -> "2.5%"
    # where binary floats would give 2.4499999999999997 -> "2.4%".
    number = Decimal(f"{value:.15g}")
    if "%" in section:
        number = number.scaleb(2)
    rounded = number.quantize(Decimal(1).scaleb(-(fixed + optional)), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if optional:
        # Optional digits (#) print only when they are not trailing zeros.
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0").ljust(fixed, "0")
        text = f"{whole}.{frac}" if frac else whole
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # no "-0.00": a sign on a zero reads as a figure that is not there
    return text + ("%" if "%" in section else "")


def _format_datetime(value: dt.datetime | dt.date | dt.time | dt.timedelta) -> str:
    """A date or time ISO, a date without its midnight time."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _cell_text(value: Any, number_format: str | None) -> str:
    """A cell value as printed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _join_lines(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format_number(value, number_format)
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return _format_datetime(value)
    return _join_lines(str(value))


# --- layout: blocks, titles, headers ------------------------------------------------


@dataclass
class _Block:
    lines: list[str]
    table: Table | None = None


def _is_numeric(text: str) -> bool:
    return bool(_NUMERIC_CELL.match(text))


def _row_cells(sheet: _Sheet, row: int, columns: Iterable[int]) -> list[str]:
    return [sheet.cells.get((row, col), "") for col in columns]


def _split_blocks(sheet: _Sheet, rows: list[int]) -> list[list[int]]:
    """Runs of rows with values; a gap covered by a merged cell holding a value is no break."""
    anchored = sorted(
        (m.min_row, m.max_row) for m in sheet.merges if (m.min_row, m.min_col) in sheet.cells
    )
    blocks: list[list[int]] = []
    reach, index = 0, 0
    for row in rows:
        if blocks and row - 1 > blocks[-1][-1] and reach < row - 1:
            blocks.append([row])
        elif blocks:
            blocks[-1].append(row)
        else:
            blocks.append([row])
        while index < len(anchored) and anchored[index][0] <= row:
            reach = max(reach, anchored[index][1])
            index += 1
    return blocks


class _Layout:
    """Cuts one sheet into prose lines and tables."""

    def __init__(self, sheet: _Sheet, document: str | None, label: str, max_cells: int) -> None:
        self.sheet = sheet
        self.document = document
        self.label = label
        self.max_cells = max_cells
        self.by_row: dict[int, list[int]] = {}
        for row, col in sheet.cells:
            self.by_row.setdefault(row, []).append(col)
        for cols in self.by_row.values():
            cols.sort()
        self.merges = sorted(sheet.merges, key=lambda m: (m.min_row, m.min_col))
        self.merge_rows = [m.min_row for m in self.merges]
        self.anchors = {(m.min_row, m.min_col): m for m in self.merges}

    def merges_starting(self, first: int, last: int) -> list[_Merge]:
        """Merged ranges whose top row lies in first..last."""
        lo = bisect.bisect_left(self.merge_rows, first)
        hi = bisect.bisect_right(self.merge_rows, last)
        return self.merges[lo:hi]

    def single(self, row: int) -> bool:
        return len(self.by_row.get(row, ())) <= 1

    def single_text(self, row: int) -> str:
        cols = self.by_row.get(row, [])
        return self.sheet.cells[(row, cols[0])] if cols else ""

    def spans_columns(self, row: int) -> bool:
        """The row's one cell is merged across two or more columns."""
        cols = self.by_row.get(row, [])
        merge = self.anchors.get((row, cols[0])) if cols else None
        return merge is not None and merge.max_col > merge.min_col

    def is_note(self, row: int) -> bool:
        text = self.single_text(row)
        return (
            self.spans_columns(row) or len(text) > _NOTE_MIN_CHARS or text.startswith(_NOTE_START)
        )

    def blocks(self) -> Iterator[_Block]:
        rows = sorted(self.by_row)
        previous: _Block | None = None
        for rows_of_block in _split_blocks(self.sheet, rows):
            block = self.block(rows_of_block, previous)
            yield block
            previous = block

    def block(self, rows: list[int], previous: _Block | None) -> _Block:
        """One block of rows: a table when it has a header row and a body row, else prose."""
        start = 0
        while start < len(rows) and self.single(rows[start]):
            start += 1
        end = len(rows)
        while end - 1 > start + 1 and self.single(rows[end - 1]) and self.is_note(rows[end - 1]):
            end -= 1
        leading, table_rows, notes = rows[:start], rows[start:end], rows[end:]
        if len(table_rows) < 2:
            return _Block([self.prose_line(row) for row in rows])
        title_from_prose = False
        if leading:
            spanning = [row for row in leading if self.spans_columns(row)]
            title: str | None = self.single_text(spanning[0] if spanning else leading[0])
        elif previous is not None and previous.table is None and previous.lines:
            candidate = previous.lines[-1]
            if len(candidate) <= _MAX_TITLE_CHARS and not candidate.endswith(("。", ".")):
                title, title_from_prose = candidate, True
            else:
                title = self.sheet.name
        else:
            title = self.sheet.name
        table = self.table(table_rows, title)
        lines = [self.single_text(row) for row in leading]
        if not leading and not title_from_prose:
            lines.append(self.sheet.name)
        lines.append(_pipe_line(table.header))
        lines.extend(_pipe_line(row) for row in table.rows)
        lines.extend(self.prose_line(row) for row in notes)
        return _Block(lines, table)

    def prose_line(self, row: int) -> str:
        return " ".join(self.sheet.cells[(row, col)] for col in self.by_row.get(row, []))

    def header_rows(self, rows: list[int], first_col: int, last_col: int) -> list[int]:
        """The header rows: the first row and the rows its vertical merges reach down to."""
        header_last = rows[0]
        # Merges come sorted by top row: one pass follows a chain of them down.
        for merge in self.merges_starting(rows[0], rows[-1]):
            if merge.min_row > header_last:
                break
            if merge.max_col >= first_col and merge.min_col <= last_col:
                header_last = max(header_last, min(merge.max_row, rows[-1]))
        header = [row for row in rows if row <= header_last]
        # A vertically merged first column of body rows is no header: keep one body row.
        while len(header) > 1 and (len(header) == len(rows) or self.mostly_numeric(header[-1])):
            header.pop()
        return header

    def mostly_numeric(self, row: int) -> bool:
        values = [self.sheet.cells[(row, col)] for col in self.by_row.get(row, [])]
        return sum(_is_numeric(v) for v in values) * 2 > len(values)

    def table(self, rows: list[int], title: str | None) -> Table:
        """The Table of a block's rows (title and notes removed)."""
        first_col = min(self.by_row[row][0] for row in rows if row in self.by_row)
        last_col = max(self.by_row[row][-1] for row in rows if row in self.by_row)
        columns = range(first_col, last_col + 1)
        if len(rows) * len(columns) > self.max_cells:
            # A few cells far apart would make a grid of billions of empty ones.
            raise ParseError(
                f"{self.label}: a table on sheet {self.sheet.name!r} spans {len(rows)} rows x "
                f"{len(columns)} columns, more than {self.max_cells} cells; refused"
            )
        header_rows = self.header_rows(rows, first_col, last_col)
        grid = {row: _row_cells(self.sheet, row, columns) for row in header_rows}
        if len(header_rows) > 1:
            self.fill_merged(grid, header_rows, first_col, last_col)
        else:
            header_rows, grid = self.unmerged_two_row_header(rows, columns, grid)
        header = []
        for index in range(len(columns)):
            parts: list[str] = []
            for row in header_rows:
                text = grid[row][index]
                if text and (not parts or parts[-1] != text):
                    parts.append(text)
            header.append("/".join(parts))
        body = []
        for row in rows:
            if row <= header_rows[-1] or row not in self.by_row:
                continue
            body.append(_row_cells(self.sheet, row, columns))
        return Table(title=title, header=header, rows=body, document=self.document)

    def fill_merged(
        self, grid: dict[int, list[str]], header_rows: list[int], first_col: int, last_col: int
    ) -> None:
        """Copy each merged header value across its range (within the header rows)."""
        for merge in self.merges_starting(header_rows[0], header_rows[-1]):
            value = self.sheet.cells.get((merge.min_row, merge.min_col), "")
            if not value:
                continue
            for row in range(merge.min_row, min(merge.max_row, header_rows[-1]) + 1):
                if row not in grid:
                    continue  # a header row with no value of its own, only merged cells
                for col in range(max(merge.min_col, first_col), min(merge.max_col, last_col) + 1):
                    grid[row][col - first_col] = value

    def unmerged_two_row_header(
        self, rows: list[int], columns: range, grid: dict[int, list[str]]
    ) -> tuple[list[int], dict[int, list[str]]]:
        """A two-row header written without merges: group cells above, sub-headers below."""
        if len(rows) < 3 or rows[1] != rows[0] + 1:
            return rows[:1], grid
        top = grid[rows[0]]
        lower = _row_cells(self.sheet, rows[1], columns)
        below = _row_cells(self.sheet, rows[2], columns)
        pairs = list(zip(top, lower, strict=True))
        if (
            any(_is_numeric(cell) for cell in lower)
            or not any(_is_numeric(cell) for cell in below)
            or not any(not t and b for t, b in pairs)
            or not any(t and not b for t, b in pairs)
        ):
            return rows[:1], grid
        filled = list(top)
        for index in range(1, len(filled)):
            if not filled[index] and lower[index] and lower[index - 1]:
                filled[index] = filled[index - 1]
        return rows[:2], {rows[0]: filled, rows[1]: lower}


def _pipe_line(cells: list[str]) -> str:
    return " | ".join(cells) + " |"


def _extract(
    sheets: Iterable[_Sheet], document: str | None, max_cells: int
) -> tuple[str, list[Table]]:
    """Text and tables of the sheets."""
    label = _label(document)
    paragraphs: list[str] = []
    tables: list[Table] = []
    for sheet in sheets:
        try:
            for block in _Layout(sheet, document, label, max_cells).blocks():
                if block.table is not None:
                    tables.append(block.table)
                paragraphs.append("\n".join(block.lines))
        except ParseError:
            raise
        except Exception as exc:  # a layout this reader did not foresee: one file, not the run
            logger.exception("%s: cannot lay out sheet %r", label, sheet.name)
            raise ParseError(f"{label}: cannot lay out sheet {sheet.name!r}: {exc!r}") from exc
    return "\n\n".join(paragraphs) + ("\n" if paragraphs else ""), tables


# --- XLSX ---------------------------------------------------------------------------


def _looks_like_xml(head: bytes) -> bool:
    """Whether a part can be XML at all: a BOM and white space (any width) then '<'."""
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(bom)
    return head.lstrip(b" \t\r\n\x00").startswith(b"<")


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> tuple[int, int]:
    """Count cells and rows in one XML part, refusing a DTD (entities are how XML bombs work)."""
    count = rows = 0
    tail = b""
    with archive.open(info) as member:
        first = True
        while chunk := member.read(1 << 20):
            if first and not _looks_like_xml(chunk[:1024]):
                return 0, 0  # an image or other binary part: no XML parser reads it
            first = False
            buffer = tail + chunk
            if any(marker in buffer for marker in _DTD_MARKERS):
                raise ParseError(f"{label}: {info.filename} declares a DTD; refused")
            cut = max(len(buffer) - _TAG_OVERLAP, 0)
            count += sum(1 for m in _COUNTED_TAG.finditer(buffer) if m.start() < cut)
            rows += sum(1 for m in _ROW_TAG.finditer(buffer) if m.start() < cut)
            tail = buffer[cut:]
    return count + len(_COUNTED_TAG.findall(tail)), rows + len(_ROW_TAG.findall(tail))


def check_xlsx_archive(
    data: bytes,
    document: str | None = None,
    *,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    max_cells: int = MAX_CELLS,
) -> None:
    """Refuse an XLSX whose zip would unpack too large, too compressed, with a DTD or too many cells."""
    label = _label(document)
    if data.startswith(_OLE_MAGIC):
        raise ParseError(
            f"{label}: an OLE compound file, not a zip: a password-protected (encrypted) "
            "workbook or an .xls"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise ParseError(f"{label}: not a valid XLSX (zip) file: {exc}") from exc
    total = sum(info.file_size for info in infos)
    if total > max_unzipped_bytes:
        raise ParseError(
            f"{label}: unpacks to {total} bytes, more than the limit of {max_unzipped_bytes}"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= _RATIO_CHECK_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ParseError(
                f"{label}: {info.filename} is compressed {ratio:.0f} to 1 (zip bomb?); refused"
            )
    cells = rows = 0
    try:
        # Every part, whatever its name: the workbook's relationships decide what is parsed.
        for info in infos:
            member_cells, member_rows = _scan_member(archive, info, label)
            cells += member_cells
            rows += member_rows
            if cells > max_cells:
                raise ParseError(f"{label}: more than {max_cells} cells; refused")
            if rows > MAX_ROWS:
                raise ParseError(f"{label}: more than {MAX_ROWS} rows; refused")
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise ParseError(f"{label}: corrupt XLSX (zip) file: {exc}") from exc
    # After the scan, which reports a member failing its CRC as corrupt: this catches the
    # member whose stated size and CRC are those of its first bytes only.
    check_stated_sizes(data, archive, label)


def _xlsx_sheet(workbook: Any, worksheet: Any, label: str) -> _Sheet:
    """Cells and merged ranges of one read-only worksheet, only the rows the XML holds."""
    # openpyxl's own row parser, as its read-only mode uses it, but without the padding of
    # missing rows that ws.iter_rows() does (a sheet may claim row 1048576).
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import WorkSheetParser

    sheet = _Sheet(worksheet.title)
    formats: dict[int, str] = {}  # style id -> number format
    with worksheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            workbook.shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for _row_index, row in parser.parse():
            # openpyxl keeps the attributes of every formatted row (~500 bytes each), which
            # nothing here reads: a million styled empty rows would hold half a gigabyte.
            parser.row_dimensions.clear()
            for cell in row:
                if cell["value"] is None:
                    continue
                if not (1 <= cell["row"] <= _MAX_ROW and 1 <= cell["column"] <= _MAX_COLUMN):
                    raise ParseError(
                        f"{label}: cell at row {cell['row']}, column {cell['column']} lies "
                        "outside any sheet"
                    )
                style_id = cell["style_id"]
                if style_id not in formats:
                    formats[style_id] = ReadOnlyCell(worksheet, **cell).number_format
                number_format = formats[style_id]
                text = _cell_text(cell["value"], number_format)
                if text:
                    sheet.cells[(cell["row"], cell["column"])] = text
        merged = parser.merged_cells.mergeCell if parser.merged_cells else []
    for merge in merged:
        min_col, min_row, max_col, max_row = range_boundaries(merge.ref)
        sheet.merges.append(
            _Merge(min_row or 1, min_col or 1, max_row or _MAX_ROW, max_col or _MAX_COLUMN)
        )
    return sheet


def _xlsx_meta(workbook: Any) -> dict[str, str]:
    props = workbook.properties
    meta = {
        "title": props.title,
        "subject": props.subject,
        "author": props.creator,
        "last_modified_by": props.lastModifiedBy,
        "created": props.created,
        "modified": props.modified,
    }
    return {
        key: _format_datetime(value) if not isinstance(value, str) else value.strip()
        for key, value in meta.items()
        if value is not None and str(value).strip()
    }


def read_xlsx(
    data: bytes,
    document: str | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    max_cells: int = MAX_CELLS,
) -> ExtractedDocument:
    """Text and tables of an XLSX workbook (visible sheets). Raises ParseError."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    label = _label(document)
    if len(data) > max_bytes:
        raise ParseError(f"{label}: {len(data)} bytes, more than the limit of {max_bytes}")
    check_xlsx_archive(data, document, max_unzipped_bytes=max_unzipped_bytes, max_cells=max_cells)
    workbook = None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not matter here.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
            sheets = [
                _xlsx_sheet(workbook, worksheet, label)
                for worksheet in workbook.worksheets
                if getattr(worksheet, "sheet_state", "visible") == "visible"
            ]
            meta = _xlsx_meta(workbook)
    except ParseError:
        raise
    except (zipfile.BadZipFile, InvalidFileException) as exc:
        raise ParseError(f"{label}: not a valid XLSX file: {exc}") from exc
    except Exception as exc:  # openpyxl raises KeyError, ValueError, TypeError... on bad parts
        raise ParseError(f"{label}: corrupt XLSX file: {type(exc).__name__}: {exc}") from exc
    finally:
        if workbook is not None:
            workbook.close()
    text, tables = _extract(sheets, document, max_cells)
    return ExtractedDocument(text=text, tables=tables, meta=meta)


# --- XLS ----------------------------------------------------------------------------


def _xls_sheet(book: Any, sheet: Any, label: str, budget: int) -> _Sheet:
    """Cells and merged ranges of one xlrd sheet."""
    import xlrd

    cell_count = sum(sheet.row_len(row) for row in range(sheet.nrows))
    if cell_count > budget:
        raise ParseError(f"{label}: more cells than the limit; refused")
    grid = _Sheet(sheet.name)
    for row in range(sheet.nrows):
        for col in range(sheet.row_len(row)):
            cell = sheet.cell(row, col)
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                continue
            text = _xls_cell_text(book, cell)
            if text:
                grid.cells[(row + 1, col + 1)] = text
    for rlo, rhi, clo, chi in sheet.merged_cells:
        grid.merges.append(_Merge(rlo + 1, clo + 1, rhi, chi))
    return grid


def _xls_number_format(book: Any, xf_index: int) -> str | None:
    try:
        xf = book.xf_list[xf_index]
        return book.format_map[xf.format_key].format_str
    except (IndexError, KeyError, AttributeError):
        return None


def _xls_cell_text(book: Any, cell: Any) -> str:
    """An xlrd cell as printed."""
    import xlrd

    if cell.ctype == xlrd.XL_CELL_TEXT:
        return _join_lines(cell.value)
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return format_number(cell.value, _xls_number_format(book, cell.xf_index))
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return _format_datetime(xlrd.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return _general_number(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return _join_lines(str(cell.value))


def read_xls(
    data: bytes,
    document: str | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_cells: int = MAX_CELLS,
) -> ExtractedDocument:
    """Text and tables of an XLS (BIFF) workbook (visible sheets). Raises ParseError."""
    import xlrd

    label = _label(document)
    if len(data) > max_bytes:
        raise ParseError(f"{label}: {len(data)} bytes, more than the limit of {max_bytes}")
    book = None
    sheets: list[_Sheet] = []
    try:
        book = xlrd.open_workbook(
            file_contents=data,
            formatting_info=True,  # merged ranges and number formats
            on_demand=True,
            ragged_rows=True,
            logfile=io.StringIO(),
        )
        budget = max_cells
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility == 0:
                grid = _xls_sheet(book, sheet, label, budget)
                budget -= sum(sheet.row_len(row) for row in range(sheet.nrows))
                sheets.append(grid)
            book.unload_sheet(index)
        meta = {"author": book.user_name.strip()} if (book.user_name or "").strip() else {}
    except ParseError:
        raise
    except xlrd.XLRDError as exc:
        reason = "encrypted (password-protected)" if "encrypt" in str(exc).lower() else str(exc)
        raise ParseError(f"{label}: cannot read XLS: {reason}") from exc
    except Exception as exc:  # xlrd raises struct.error, IndexError... on corrupt records
        raise ParseError(f"{label}: corrupt XLS file: {type(exc).__name__}: {exc}") from exc
    finally:
        if book is not None:
            book.release_resources()
    text, tables = _extract(sheets, document, max_cells)
    return ExtractedDocument(text=text, tables=tables, meta=meta)
