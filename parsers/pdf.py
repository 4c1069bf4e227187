"""The PDF reader: text with pypdfium2, tables with pdfplumber's table finder.

pdfium (through pypdfium2) reads a page's text about 40 times faster than pdfplumber and
gives the same characters, so every page is read with it. Its output is tidied:

- CRLF line ends become ``\\n``; control characters are dropped;
- the space pdfium puts between a Chinese character and a digit (``9 月份``, ``4630 次``) is
  removed; a gap wider than 1.5 em (a column gap) is kept as four spaces, so that the metric
  rules, which skip lines with wide gaps, pass over rows of tables without ruling lines;
- a prose line that runs to the right margin is joined to the next line when that one starts
  at the left margin (not indented): the wrapped lines of a paragraph become one line again,
  also over a page break; page numbers at the top or foot of a page are dropped.

Tables: the ruling lines of a page are read from its pdfium path objects (segments turned into
horizontal and vertical edges, form XObjects followed) and go through the steps of pdfplumber's
``TableFinder`` (the algorithm behind ``page.find_tables()``, default settings: edges merged,
intersections, cells, tables; the cell step is an equivalent of pdfplumber's without its
quadratic scans); each cell's text is read back from pdfium inside the cell's box. So pdfminer,
the slow part of pdfplumber, never parses a page: a full read, tables included, takes a
fraction of the time of pdfplumber's bare ``extract_text``. Tables without ruling lines are
not found (their rows stay in the text, column gaps as four spaces).

- a line wrapped inside a cell is joined without a space where either side is a Chinese
  character or full-width punctuation ("市住房和城" + "乡建设局"), else with one space;
- merged header cells are filled across and down from the cell that covers them and each
  column's header cells are joined with "/" ("超期工单/超期已办结");
- a table at the top of a page, after nothing but a page number, with the column count of a
  table that ended the previous page, continues that table: a repeated header row is dropped,
  and a first row without any figure that leaves cells empty (a row broken over the page) is
  joined to the previous row cell by cell;
- the title is the text line right above the table (the last line of the previous page when
  the table starts a page and does not continue one); ``Table.page`` is the first page, 1-based.

In ``text`` each table is rendered where it stands as ``cell | cell |`` lines: the merged
header line, then the body rows (a continued table renders its further rows on its page).

Memory stays flat: pages are closed as they are read, and the document is opened afresh every
50 pages, since pdfium keeps the fonts and resources it parsed until the document is closed.

Limits: more than ``max_bytes`` -> ParseError; more than ``max_pages`` pages -> only the first
``max_pages`` are read and ``meta["truncated"] = "true"`` (``meta["page_count"]`` has the
file's count); a password -> ParseError "encrypted"; a corrupt file, or one cut short (no
``%%EOF`` in its last 1024 bytes, where readers look for it) -> ParseError. A PDF without any
text gives empty text and ``meta["text_layer"] = "none"`` (OCR is the OCR reader's job);
``"partial"`` with ``meta["pages_without_text"]`` lists pages without text when others have it.
"""

from __future__ import annotations

import bisect
import ctypes
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import Table as PlumberTable
from pdfplumber.table import (
    TableSettings,
    cells_to_tables,
    edges_to_intersections,
    merge_edges,
)
from pdfplumber.utils import filter_edges, obj_to_bbox

from .errors import ParseError
from .model import ExtractedDocument, Table
from .normalize import CJK

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PAGES = 500

_WIDE = f"{CJK}\u3000-\u303f\uff00-\uffef\u2014\u2018-\u201d\u2026"  # CJK and wide punctuation
_WIDE_CHAR = re.compile(f"[{_WIDE}]")
_CJK_CHAR = re.compile(f"[{CJK}]")
_COLUMN_GAP = "    "
_COLUMN_GAP_EM = 1.5  # a gap wider than this many em between two words is a column gap
_CONTROL = dict.fromkeys([*range(0, 9), *range(11, 32), 0x7F, 0xFFFE, 0xFEFF, 0xFFFF])
_NUMBER_CELL = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?\s*[%‰]?")
_PAGE_NUMBER = re.compile(
    r"[-—–\s]*(?:第\s*)?\d{1,4}\s*页?(?:\s*(?:[/／]|共)\s*(?:共\s*)?\d{1,4}\s*页?)?[-—–\s]*"
)
_SENTENCE_END = re.compile(r"[。！？!?]$")
_LIST_MARKER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[、．]|[△▲●◆■□※]|附[表件]|注[:：])"
)
_RAGGED_EM = 2.5  # a left-aligned line that wraps ends at most this many em short of the margin
_PAGES_PER_OPEN = 50  # pages read before the document is opened afresh (memory stays flat)
_MAX_EDGES = 4000  # more ruling segments than this is a drawing, not tables
_MAX_HEADER_ROWS = 3
_CELL_INSET = 1.0  # points: keeps a cell's text box off its borders


@dataclass
class _Line:
    """A text line of a page with the geometry reflow and table placement need (PDF points)."""

    text: str
    left: float
    right: float
    bottom: float
    top: float
    em: float


@dataclass
class _Fragment:
    """The part of a table printed on one page."""

    table: Table
    rows: list[list[str]]  # body rows printed on this page
    header: list[str] | None  # merged header, on the page where the table starts
    head_rows: list[list[str]]  # the rows the header was made of
    columns: int
    box: tuple[float, float, float, float]  # left, bottom, right, top


@dataclass
class _Page:
    number: int  # 1-based
    blocks: list[_Line | _Fragment] = field(default_factory=list)


# --- entry point ---------------------------------------------------------------------


def read_pdf(
    data: bytes,
    document: str | None = None,
    *,
    max_pages: int = MAX_PAGES,
    max_bytes: int = MAX_FILE_BYTES,
) -> ExtractedDocument:
    """Text (tables rendered in place), tables and metadata of a PDF (see module docstring)."""
    name = document or "PDF document"
    if len(data) > max_bytes:
        raise ParseError(f"{name}: {len(data)} bytes is over the limit of {max_bytes} bytes")
    if b"%PDF-" not in data[:1024]:
        raise ParseError(f"{name}: not a PDF (no %PDF- header)")
    if b"%%EOF" not in data[-1024:]:
        raise ParseError(f"{name}: truncated or corrupt PDF (no %%EOF at the end)")
    try:
        return _read_document(data, name, max_pages)
    except pdfium.PdfiumError as error:
        raise ParseError(f"{name}: corrupt PDF ({error})") from error


def _open(data: bytes, name: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise ParseError(f"{name}: encrypted PDF (a password is needed)") from error
        raise ParseError(f"{name}: corrupt PDF ({error})") from error


def _read_document(data: bytes, name: str, max_pages: int) -> ExtractedDocument:
    pdf = _open(data, name)
    try:
        page_count = len(pdf)
        meta = _metadata(pdf)
        meta["page_count"] = str(page_count)
        if page_count > max_pages:
            logger.warning("%s: %d pages, reading the first %d", name, page_count, max_pages)
            meta["truncated"] = "true"
        read_count = min(page_count, max_pages)
        pages: list[_Page] = []
        without_text: list[int] = []
        open_fragment: _Fragment | None = None  # a table that ended the previous page
        for index in range(read_count):
            if index and index % _PAGES_PER_OPEN == 0:
                # pdfium keeps every font and resource it parsed until the document is closed.
                pdf.close()
                pdf = _open(data, name)
            page = pdf[index]
            try:
                read = _read_page(page, index + 1, name)
            finally:
                page.close()
            if read is None:
                without_text.append(index + 1)
                open_fragment = None
                continue
            open_fragment = _join_continuation(read, open_fragment, pages[-1] if pages else None)
            pages.append(read)
    finally:
        pdf.close()
    if len(without_text) == read_count:
        meta["text_layer"] = "none"
        return ExtractedDocument(text="", tables=[], meta=meta, pages=read_count)
    meta["text_layer"] = "partial" if without_text else "full"
    if without_text:
        meta["pages_without_text"] = ",".join(map(str, without_text))
    tables = _collect_tables(pages)
    return ExtractedDocument(text=_render(pages), tables=tables, meta=meta, pages=read_count)


def _metadata(pdf: pdfium.PdfDocument) -> dict[str, str]:
    """The document information dictionary under lower-case keys, dates as ISO 8601."""
    keys = {
        "Title": "title",
        "Author": "author",
        "Subject": "subject",
        "Keywords": "keywords",
        "Creator": "creator",
        "Producer": "producer",
        "CreationDate": "created",
        "ModDate": "modified",
    }
    meta = {}
    for key, value in pdf.get_metadata_dict(skip_empty=True).items():
        value = value.translate(_CONTROL).strip()
        if key in keys and value:
            meta[keys[key]] = _pdf_date(value) if key.endswith("Date") else value
    return meta


_PDF_DATE = re.compile(
    r"D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:(Z)|([+-])(\d\d)'?(\d\d)?'?)?"
)


def _pdf_date(value: str) -> str:
    """'D:20201009083000+08'00'' -> '2020-10-09T08:30:00+08:00'; other text as it is."""
    m = _PDF_DATE.match(value)
    if not m:
        return value
    year, month, day, hour, minute, second, zulu, sign, tz_hour, tz_minute = m.groups()
    iso = f"{year}-{month or '01'}-{day or '01'}"
    if hour:
        iso += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zulu:
            iso += "Z"
        elif sign:
            iso += f"{sign}{tz_hour}:{tz_minute or '00'}"
    return iso


# --- one page ------------------------------------------------------------------------


def _read_page(page: pdfium.PdfPage, number: int, name: str) -> _Page | None:
    """A page's lines and tables in reading order, or None when it has no text."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if not text.strip():
            return None
        lines = _page_lines(textpage, text)
        try:
            grids = _find_tables(page, textpage)
        except Exception as error:  # noqa: BLE001 - a bad drawing must not lose the page's text
            logger.warning("%s: page %d: no tables read (%s)", name, number, error)
            grids = []
    finally:
        textpage.close()
    result = _Page(number)
    placed: set[int] = set()
    for line in lines:
        inside = _table_of(line, grids)
        if inside is None:
            result.blocks.append(line)
        elif inside not in placed:
            placed.add(inside)
            result.blocks.append(grids[inside])
    # A table none of whose lines pdfium could place (no char boxes) still counts: at the end.
    result.blocks.extend(grid for i, grid in enumerate(grids) if i not in placed)
    return result


def _table_of(line: _Line, fragments: list[_Fragment]) -> int | None:
    middle = (line.bottom + line.top) / 2
    for i, fragment in enumerate(fragments):
        left, bottom, right, top = fragment.box
        if bottom <= middle <= top and line.left < right and line.right > left:
            return i
    return None


def _page_lines(textpage: pdfium.PdfTextPage, text: str) -> list[_Line]:
    """The page's text lines, spaces tidied, each with its box in PDF points."""
    identity = len(text) == textpage.count_chars()
    boxes: dict[int, tuple[float, float, float, float] | None] = {}

    def box(position: int) -> tuple[float, float, float, float] | None:
        if position not in boxes:
            index = (
                position
                if identity
                else pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, position)
            )
            try:
                boxes[position] = textpage.get_charbox(index, loose=True) if index >= 0 else None
            except pdfium.PdfiumError:
                boxes[position] = None
        return boxes[position]

    lines = []
    for match in re.finditer(r"[^\r\n]+", text):
        words = [(m.start() + match.start(), m.group()) for m in re.finditer(r"\S+", match.group())]
        if not words:
            continue
        parts = [words[0][1]]
        for (start, word), (next_start, next_word) in zip(words, words[1:], strict=False):
            parts.append(_space(word, next_word, box(start + len(word) - 1), box(next_start)))
            parts.append(next_word)
        line_text = "".join(parts).translate(_CONTROL).strip()
        first, last = box(words[0][0]), box(words[-1][0] + len(words[-1][1]) - 1)
        if not line_text or first is None or last is None:
            if line_text:
                lines.append(_Line(line_text, 0.0, 0.0, 0.0, 0.0, 0.0))
            continue
        em = max(first[3] - first[1], last[3] - last[1], 1.0)
        lines.append(_Line(line_text, first[0], last[2], first[1], first[3], em))
    return lines


def _space(
    word: str,
    next_word: str,
    before: tuple[float, float, float, float] | None,
    after: tuple[float, float, float, float] | None,
) -> str:
    """What goes between two words: a column gap, nothing (CJK next to a digit) or a space."""
    if before is not None and after is not None:
        em = max(before[3] - before[1], after[3] - after[1], 1.0)
        if after[0] - before[2] > _COLUMN_GAP_EM * em:
            return _COLUMN_GAP
    left, right = word[-1], next_word[0]
    if (_CJK_CHAR.match(left) and right.isdigit()) or (left.isdigit() and _CJK_CHAR.match(right)):
        return ""
    return " "


# --- tables --------------------------------------------------------------------------


_SETTINGS = TableSettings.resolve(None)  # pdfplumber's defaults, as page.find_tables() has them


def _find_tables(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> list[_Fragment]:
    """The ruled tables of a page, cells read with pdfium, in top-to-bottom order.

    The steps of pdfplumber's ``TableFinder`` with the "lines" strategy, on pdfium's edges.
    """
    edges = list(page_edges(page))
    horizontal = sum(1 for e in edges if e["orientation"] == "h")
    if horizontal < 2 or len(edges) - horizontal < 2:
        return []
    if len(edges) > _MAX_EDGES:
        logger.info("page with %d ruling segments: not read as tables", len(edges))
        return []
    s = _SETTINGS
    edges = merge_edges(
        edges, s.snap_x_tolerance, s.snap_y_tolerance, s.join_x_tolerance, s.join_y_tolerance
    )
    edges = filter_edges(edges, min_length=s.edge_min_length)
    intersections = edges_to_intersections(
        edges, s.intersection_x_tolerance, s.intersection_y_tolerance
    )
    fragments = []
    for group in cells_to_tables(intersections_to_cells(intersections)):
        fragment = _read_table(PlumberTable(None, group), textpage)
        if fragment is not None:
            fragments.append(fragment)
    return fragments


def intersections_to_cells(intersections: dict) -> list[tuple[float, float, float, float]]:
    """pdfplumber's ``intersections_to_cells`` (same cells, same order), without its
    quadratic scans: points indexed by row and column, edge sets built once per point."""
    v_edges = {point: frozenset(map(obj_to_bbox, e["v"])) for point, e in intersections.items()}
    h_edges = {point: frozenset(map(obj_to_bbox, e["h"])) for point, e in intersections.items()}

    def connects(p: tuple[float, float], q: tuple[float, float]) -> bool:
        if p[0] == q[0] and not v_edges[p].isdisjoint(v_edges[q]):
            return True
        return p[1] == q[1] and not h_edges[p].isdisjoint(h_edges[q])

    points = sorted(intersections)
    columns: dict[float, list[tuple[float, float]]] = {}
    rows: dict[float, list[tuple[float, float]]] = {}
    for point in points:
        columns.setdefault(point[0], []).append(point)
        rows.setdefault(point[1], []).append(point)
    cells = []
    for point in points:
        column = columns[point[0]]
        below = column[bisect.bisect_right(column, point) :]
        right = [p for p in rows[point[1]] if p > point]
        cell = next(
            (
                (point[0], point[1], r[0], b[1])
                for b in below
                if connects(point, b)
                for r in right
                if connects(point, r)
                and (r[0], b[1]) in intersections
                and connects((r[0], b[1]), r)
                and connects((r[0], b[1]), b)
            ),
            None,
        )
        if cell is not None:
            cells.append(cell)
    return cells


def page_edges(page: pdfium.PdfPage) -> Iterator[dict[str, float | str]]:
    """Horizontal and vertical segments of the page's drawn paths, in pdfplumber's edge form."""
    for obj, matrix in _path_objects(page.raw, None, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0):
        fill, stroke = ctypes.c_int(), ctypes.c_int()
        if pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke) and not fill.value and not stroke.value:
            continue  # invisible: a clipping path or a placeholder
        start = current = None
        x, y = ctypes.c_float(), ctypes.c_float()
        for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
            segment = pdfium_c.FPDFPath_GetPathSegment(obj, i)
            pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
            point = _apply(matrix, x.value, y.value)
            kind = pdfium_c.FPDFPathSegment_GetType(segment)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = current = point
                continue
            if kind == pdfium_c.FPDF_SEGMENT_LINETO and current is not None:
                yield from _edge(current, point)
            current = point
            if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
                yield from _edge(current, start)
                current = start


def _path_objects(
    page: pdfium_c.FPDF_PAGE,
    form: pdfium_c.FPDF_PAGEOBJECT | None,
    matrix: tuple[float, ...],
    depth: int,
) -> Iterator[tuple[pdfium_c.FPDF_PAGEOBJECT, tuple[float, ...]]]:
    """Path objects of the page and of its form XObjects, each with its matrix to page space.

    The raw pdfium calls skip pypdfium2's object wrappers: a page has thousands of objects.
    """
    if form is None:
        count, get = pdfium_c.FPDFPage_CountObjects(page), pdfium_c.FPDFPage_GetObject
    else:
        count, get = pdfium_c.FPDFFormObj_CountObjects(form), pdfium_c.FPDFFormObj_GetObject
    own = pdfium_c.FS_MATRIX()
    for i in range(count):
        obj = get(form if form is not None else page, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
            continue
        if not pdfium_c.FPDFPageObj_GetMatrix(obj, own):
            continue
        combined = _compose((own.a, own.b, own.c, own.d, own.e, own.f), matrix)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            yield obj, combined
        elif depth < 4:
            yield from _path_objects(page, obj, combined, depth + 1)


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _apply(matrix: tuple[float, ...], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def _edge(p: tuple[float, float], q: tuple[float, float]) -> Iterator[dict[str, float | str]]:
    """A segment as a pdfplumber edge ("top" grows downwards: top = -y) when axis-aligned."""
    (x0, y0), (x1, y1) = p, q
    if abs(y1 - y0) < 0.5 and abs(x1 - x0) >= 1:
        top = -(y0 + y1) / 2
        left, right = min(x0, x1), max(x0, x1)
        yield {"x0": left, "x1": right, "top": top, "bottom": top, "doctop": top,
               "width": right - left, "height": 0.0, "orientation": "h", "object_type": "line"}  # fmt: skip
    elif abs(x1 - x0) < 0.5 and abs(y1 - y0) >= 1:
        x = (x0 + x1) / 2
        top, bottom = -max(y0, y1), -min(y0, y1)
        yield {"x0": x, "x1": x, "top": top, "bottom": bottom, "doctop": top,
               "width": 0.0, "height": bottom - top, "orientation": "v", "object_type": "line"}  # fmt: skip


def _read_table(found: object, textpage: pdfium.PdfTextPage) -> _Fragment | None:
    """A table found by pdfplumber with its cells read from pdfium, or None for a drawing."""
    cells = {cell: _cell_text(textpage, cell) for cell in found.cells}
    rows = [row.cells for row in found.rows]
    columns = max(len(row) for row in rows)
    if len(rows) < 2 or columns < 2:
        return None
    if sum(1 for row in rows if any(cell and cells[cell] for cell in row)) * 2 < len(rows):
        return None  # mostly empty boxes: a chart or a form, not a table
    grid: list[list[str | None]] = [
        [cells[cell] if cell is not None else None for cell in row] for row in rows
    ]
    header_rows = _header_row_count(grid)
    header = _merged_header(found, rows, grid[:header_rows], cells)
    head, body = ([[cell or "" for cell in row] for row in part] for part in (
        grid[:header_rows], grid[header_rows:]))  # fmt: skip
    x0, top, x1, bottom = found.bbox
    table = Table(title=None, header=header, rows=[])
    return _Fragment(table, body, header, head, columns, (x0, -bottom, x1, -top))


def _cell_text(textpage: pdfium.PdfTextPage, cell: tuple[float, float, float, float]) -> str:
    x0, top, x1, bottom = cell
    inset = min(_CELL_INSET, (x1 - x0) / 4, (bottom - top) / 4)
    raw = textpage.get_text_bounded(x0 + inset, -bottom + inset, x1 - inset, -top - inset)
    return clean_cell(raw)


def clean_cell(raw: str) -> str:
    """A cell's text on one line: wrapped lines joined, pdfium's CJK-digit spaces removed."""
    lines = [" ".join(line.translate(_CONTROL).split()) for line in re.split(r"\r\n|\r|\n", raw)]
    text = ""
    for line in (line for line in lines if line):
        text = join_wrapped(text, line) if text else line
    text = re.sub(rf"(?<=[{CJK}]) (?=\d)|(?<=\d) (?=[{CJK}])", "", text)
    return text


def join_wrapped(first: str, second: str) -> str:
    """Two parts of a wrapped line: no space where either side is a Chinese (wide) character."""
    if _WIDE_CHAR.match(first[-1]) or _WIDE_CHAR.match(second[0]):
        return first + second
    return f"{first} {second}"


def _is_number(cell: str | None) -> bool:
    return bool(cell) and bool(_NUMBER_CELL.fullmatch(cell.strip()))


def _header_row_count(grid: list[list[str | None]]) -> int:
    """Header rows: the first row, and rows under it without figures that a merge reaches."""
    count = 1
    while count < min(len(grid) - 1, _MAX_HEADER_ROWS):
        row, above = grid[count], grid[count - 1]
        if any(_is_number(cell) for cell in row) or (None not in row and None not in above):
            break
        count += 1
    return count


def _merged_header(
    found: object,
    rows: list[list[tuple[float, float, float, float] | None]],
    header_grid: list[list[str | None]],
    cells: dict[tuple[float, float, float, float], str],
) -> list[str]:
    """One header cell per column: the texts of the cells covering it, top-down, joined by "/"."""
    lefts = sorted({cell[0] for cell in found.cells})
    header = []
    for column in range(len(header_grid[0])):
        parts: list[str] = []
        for r, row in enumerate(header_grid):
            text = row[column]
            if text is None:
                covering = _covering_cell(found.cells, lefts[column], _row_top(rows[r]))
                text = cells[covering] if covering is not None else ""
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        header.append("/".join(parts))
    return header


def _row_top(row: list[tuple[float, float, float, float] | None]) -> float:
    return min(cell[1] for cell in row if cell is not None)


def _covering_cell(
    cells: list[tuple[float, float, float, float]], x: float, top: float
) -> tuple[float, float, float, float] | None:
    """The (merged) cell that covers the grid slot starting at (x, top)."""
    for cell in cells:
        x0, cell_top, x1, bottom = cell
        if x0 <= x + 0.5 < x1 and cell_top <= top + 0.5 < bottom:
            return cell
    return None


# --- across pages --------------------------------------------------------------------


def _join_continuation(
    page: _Page, open_fragment: _Fragment | None, previous: _Page | None
) -> _Fragment | None:
    """Mark a table continued from the previous page, set titles; the table ending this page."""
    _drop_page_numbers(page)
    for i, block in enumerate(page.blocks):
        if not isinstance(block, _Fragment):
            continue
        if i == 0 and open_fragment is not None and block.columns == open_fragment.columns:
            _continue_table(block, open_fragment)
            continue
        block.table.page = page.number
        if i > 0 and isinstance(page.blocks[i - 1], _Line):
            block.table.title = page.blocks[i - 1].text
        elif i == 0 and previous is not None and previous.blocks:
            if isinstance(previous.blocks[-1], _Line):
                block.table.title = previous.blocks[-1].text
    last = page.blocks[-1] if page.blocks else None
    return last if isinstance(last, _Fragment) else None


def _drop_page_numbers(page: _Page) -> None:
    """Remove page-number lines at the top and the foot of a page."""
    for position in (0, -1):
        if page.blocks:
            block = page.blocks[position]
            if isinstance(block, _Line) and _PAGE_NUMBER.fullmatch(block.text):
                page.blocks.pop(position)


def _continue_table(fragment: _Fragment, previous: _Fragment) -> None:
    """Make ``fragment`` the next part of ``previous``'s table."""
    fragment.table = previous.table
    if fragment.header != previous.table.header:
        # Not a repeated header: what looked like one is the first body row(s).
        first, *others = fragment.head_rows
        if (
            previous.rows
            and not any(_is_number(cell) for cell in first)
            and any(not cell for cell in first)
        ):
            # A row broken over the page: its first part ended the previous page.
            previous.rows[-1] = [
                join_wrapped(a, b) if a and b else a or b
                for a, b in zip(previous.rows[-1], first, strict=False)
            ]
        else:
            others.insert(0, first)
        fragment.rows[:0] = others
    fragment.header = None


def _collect_tables(pages: list[_Page]) -> list[Table]:
    tables: list[Table] = []
    for page in pages:
        for block in page.blocks:
            if isinstance(block, _Fragment):
                if block.header is not None:
                    tables.append(block.table)
                block.table.rows.extend(block.rows)
    return tables


# --- text ----------------------------------------------------------------------------


def _render(pages: list[_Page]) -> str:
    """The document's text: prose lines reflowed, tables as ``cell | cell |`` lines."""
    out: list[str] = []
    pending: _Line | None = None  # the last prose line, while the next may continue it
    pending_full = False
    for page in pages:
        margins = _margins(page)
        same_page = False
        for block in page.blocks:
            if isinstance(block, _Fragment):
                if pending is not None:
                    out.append(pending.text)
                    pending = None
                if block.header is not None:
                    out.append(_render_row(block.header))
                out.extend(_render_row(row) for row in block.rows)
                continue
            if pending is not None and (
                (same_page and _same_baseline(pending, block))
                or (
                    pending_full
                    and _starts_flush(block, margins)
                    and (not same_page or _next_line_below(pending, block))
                )
            ):
                pending = _Line(
                    join_wrapped(pending.text, block.text), block.left, block.right,
                    block.bottom, block.top, block.em,
                )  # fmt: skip
            else:
                if pending is not None:
                    out.append(pending.text)
                pending = block
            pending_full = _runs_to_margin(block, margins)
            same_page = True
        if pending is None:
            pending_full = False
    if pending is not None:
        out.append(pending.text)
    return "\n".join(out)


def _render_row(cells: list[str]) -> str:
    return " | ".join(cell.replace("|", "/") for cell in cells) + " |"


def _margins(page: _Page) -> tuple[float, float] | None:
    lines = [b for b in page.blocks if isinstance(b, _Line) and b.right > b.left]
    if len(lines) < 2:
        return None
    return min(line.left for line in lines), max(line.right for line in lines)


def _runs_to_margin(line: _Line, margins: tuple[float, float] | None) -> bool:
    if margins is None or _SENTENCE_END.search(line.text):
        return False
    left, right = margins
    return line.right >= right - _RAGGED_EM * line.em and line.right - line.left >= 0.6 * (
        right - left
    )


def _next_line_below(line: _Line, after: _Line) -> bool:
    """``after`` is the line right under ``line``: no blank line or wide spacing between."""
    em = max(line.em, after.em)
    return -0.5 * em <= line.bottom - after.top <= 1.5 * em


def _same_baseline(line: _Line, after: _Line) -> bool:
    """pdfium broke a line where the font changed: the next part goes on at the same height."""
    return abs(line.bottom - after.bottom) < 0.3 * line.em and after.left >= line.right - line.em


def _starts_flush(line: _Line, margins: tuple[float, float] | None) -> bool:
    if margins is None or _LIST_MARKER.match(line.text) or _PAGE_NUMBER.fullmatch(line.text):
        return False
    return line.left <= margins[0] + 0.5 * line.em
