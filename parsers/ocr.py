"""Format reader for bulletins published only as pictures: images and PDF pages without text.

Each picture is cleaned (ruling lines painted white and noted, text scaled to ~42 px high) and
read by tesseract (``-l chi_sim --psm 4``, TSV output); the tables are rebuilt from the word
boxes: words are grouped into lines, lines are cut into segments at wide gaps, runs of lines
with figures become table bodies, and their segments are lined up into columns (between the
vertical rules of a ruled table). Header lines above a body are joined per column, merged
headers as "超期工单/超期已办结". A headless table opening a page continues the previous one.

OCR figures are never trusted on their own. Every table comes back with ``ocr=True``; the
caller keeps a table's numbers only when :func:`confirmed_by_totals` says its totals row
confirms them (the pipeline drops or flags the others). When a table is not confirmed, the
picture is read again (``--psm 6``, other scales) and the reading with the most confirmed
tables wins. Repairs made to cells, each listed in ``meta["ocr_fixes"]``:

- character-level confusions inside figure cells that hold a digit ("1O5" -> "105");
- stray marks left by ruling lines around figures ("|188", "”188");
- the figure columns are read a second time, row by row, with tesseract's ``eng`` model; its
  reading replaces a cell that chi_sim left blank, garbled ("了" for 7, "0.009%6") or printed
  in another format than the rest of its column ("81.829%" among "99.63%"), and replaces a
  whole column when only the ``eng`` reading makes that column agree with the totals row.

No digit is ever made up: every figure is a tesseract reading of the pixels.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import shutil
import statistics
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import (
    Image,
    ImageChops,
    ImageDraw,
    ImageFilter,
    ImageOps,
    ImageSequence,
    UnidentifiedImageError,
)

from .errors import ParseError
from .model import ExtractedDocument, Table
from .normalize import parse_cell_number

if TYPE_CHECKING:
    import pypdfium2

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FRAMES = 50  # frames read from a multi-page TIFF or GIF
TESSERACT_LANG = "chi_sim"
TESSERACT_PSM = "4"  # one column of text of varying sizes; tables come out as spaced lines
FALLBACK_PSM = "6"  # one uniform block: keeps sparse figure columns psm 4 sometimes drops
FIGURE_LANG = "eng"  # re-reads single figure cells; chi_sim reads a lone 7 as 了
OCR_ENGINE = f"tesseract -l {TESSERACT_LANG} --psm {TESSERACT_PSM}"

# Text is scaled to this height: tesseract misreads characters much smaller than ~30 px
# (畜 -> 冀, "%" -> "9%" at 22 px) and drops figures in some layouts at other sizes.
_TARGET_TEXT_HEIGHT = 42.0
_MAX_UPSCALE = 4.0
_MAX_UPSCALED_PIXELS = 80_000_000
# Readings tried in turn while a table is not confirmed: (page segmentation mode, scale factor).
_READINGS = ((TESSERACT_PSM, 1.0), (FALLBACK_PSM, 1.0), (TESSERACT_PSM, 1.25), (FALLBACK_PSM, 0.8))
_UNREAD_INK = 0.08  # share of the ink outside every word box that calls for another reading
_SEGMENT_GAP = 1.5  # text heights between two cells; justified prose spreads characters ~1.2
_INK_LEVEL = 160  # grey level below which a pixel is ink
_MIN_FIGURE_INK = 60  # ink pixels of the narrowest figure ("1") at the target text height
_RULE_REACH = 40  # a run of ink longer than 2 * 40 + 1 px is a ruling line, not a stroke

_CJK_CHARS = "\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef"
_CJK = re.compile(f"[{_CJK_CHARS}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK_CHARS}])\\s+(?=[{_CJK_CHARS}])")
# Marks that ruling lines, cell borders and wide gaps turn into, stripped from word ends.
_NOISE = "|丨¦‖'\"“”‘’`_~^[]{}【】〔〕<>"
_SEPARATOR_MARKS = set("|丨¦‖")
# A word made only of these is no cell text (it stays in the prose).
_NOISE_WORD = set(_NOISE) | set("。.·:;：；")
# Characters OCR confuses with digits: applied only inside cells of a figure column.
_DIGIT_CONFUSIONS = {
    "O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0",
    "l": "1", "I": "1", "i": "1", "!": "1",
    "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "g": "9", "q": "9",
    "。": ".", "·": ".", ",": ".",
}  # fmt: skip
_TOTAL_LABEL = re.compile(r"^(合计|总计|共计|总数|总量|全[县市区]合计)")
_SUBTOTAL_LABEL = re.compile(r"^小计")
_SPLIT_FIGURES = re.compile(r"\d\s+\d")
_DASHES = {"-", "—", "–", "/", "--", "——", "－"}


# --- tesseract -------------------------------------------------------------------------------


def _check_tesseract(label: str) -> tuple[str, set[str]]:
    """The tesseract executable and its languages; ParseError when it or chi_sim is missing."""
    exe = shutil.which("tesseract")
    if exe is None:
        raise ParseError(f"{label}: tesseract not installed (Debian: tesseract-ocr)")
    try:
        listed = subprocess.run(
            [exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ParseError(f"{label}: tesseract does not run: {exc}") from exc
    # The first line is "List of available languages in ...", then one language a line.
    langs = {ln.strip() for ln in listed.stdout.splitlines()[1:] if ln.strip()}
    if TESSERACT_LANG not in langs:
        raise ParseError(
            f"{label}: tesseract language data {TESSERACT_LANG} not installed "
            "(Debian: tesseract-ocr-chi-sim)"
        )
    return exe, langs


def _run_tesseract(
    exe: str, image: Image.Image, label: str, timeout: float, *, lang: str, psm: str
) -> str:
    """TSV output of tesseract for one image."""
    if timeout <= 0:
        raise ParseError(f"{label}: OCR ran out of time")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    # One thread: OpenMP threads make tesseract ~3x slower here and fight parallel readers.
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    cmd = [exe, "stdin", "stdout", "-l", lang, "--psm", psm, "tsv"]
    try:
        result = subprocess.run(
            cmd, input=buffer.getvalue(), capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ParseError(f"{label}: OCR took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise ParseError(f"{label}: tesseract does not run: {exc}") from exc
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ParseError(f"{label}: tesseract failed: {err[-1] if err else result.returncode}")
    return result.stdout.decode("utf-8", "replace")


# --- word boxes -> lines -> segments ---------------------------------------------------------


@dataclass
class _Word:
    left: int
    top: int
    right: int
    bottom: int
    conf: float
    text: str  # ruling marks stripped from its ends, for table cells ("" for a stray mark)
    line_key: tuple[int, int, int]
    raw: str = ""  # as OCR read it, for prose (keeps quotes: “市委书记、市长信箱”)
    split_before: bool = False  # a ruling mark stuck to the word's left: a cell border
    split_after: bool = False

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass
class _Line:
    words: list[_Word]
    segments: list[list[_Word]] = field(default_factory=list)

    @property
    def ink(self) -> list[_Word]:
        """The words with cell text (all words when there is none)."""
        return [w for w in self.words if w.text] or self.words

    @property
    def top(self) -> int:
        return min(w.top for w in self.ink)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.ink)

    @property
    def cy(self) -> float:
        return statistics.median(w.cy for w in self.ink)

    @property
    def left(self) -> int:
        return min(w.left for w in self.ink)

    @property
    def right(self) -> int:
        return max(w.right for w in self.ink)


Box = tuple[int, int, int, int]
Rule = tuple[float, int, int]  # a vertical ruling line: x, top, bottom


def _parse_tsv(tsv: str) -> tuple[list[_Word], list[Box]]:
    """Word boxes of a tesseract TSV, and the boxes of ruling marks ("|") found among them."""
    words: list[_Word] = []
    marks: list[Box] = []
    for raw in tsv.splitlines()[1:]:
        cols = raw.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        try:
            block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
            left, top, width, height = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        if not text:
            continue
        box = (left, top, left + width, top + height)
        word = _Word(*box, conf=conf, text=text, line_key=(block, par, line), raw=text)
        if all(ch in _NOISE_WORD for ch in text):
            if any(ch in _SEPARATOR_MARKS for ch in text):
                marks.append(box)
            else:
                word.text = ""
                words.append(word)
            continue
        # Ruling lines stuck to a word: "管理|", "”188".
        core = text.lstrip(_NOISE)
        word.split_before = any(ch in _SEPARATOR_MARKS for ch in text[: len(text) - len(core)])
        stripped = core.rstrip(_NOISE)
        word.split_after = any(ch in _SEPARATOR_MARKS for ch in core[len(stripped) :])
        word.text = stripped
        words.append(word)
    return words, marks


def _group_lines(words: list[_Word]) -> list[_Line]:
    """Tesseract's lines, merged where two of them sit on the same row of the page."""
    by_key: dict[tuple[int, int, int], list[_Word]] = {}
    for word in words:
        by_key.setdefault(word.line_key, []).append(word)
    lines = sorted((_Line(ws) for ws in by_key.values()), key=lambda ln: ln.cy)
    merged: list[_Line] = []
    for line in lines:
        if merged:
            prev = merged[-1]
            overlap = min(prev.bottom, line.bottom) - max(prev.top, line.top)
            smaller = min(_typical_height(prev.ink), _typical_height(line.ink))
            # Tesseract puts far-apart cells of one table row into separate blocks.
            if overlap > 0.6 * smaller and abs(prev.cy - line.cy) < 0.5 * smaller:
                prev.words.extend(line.words)
                continue
        merged.append(line)
    for line in merged:
        line.words.sort(key=lambda w: w.left)
    return merged


def _typical_height(words: list[_Word]) -> float:
    return statistics.median(w.height for w in words) if words else 0.0


def _split_segments(line: _Line, gap: float, marks: list[Box]) -> None:
    """Cut a line into segments at wide gaps and at ruling marks between words."""
    segments: list[list[_Word]] = []
    prev: _Word | None = None
    for word in line.words:
        if not word.text:
            continue
        if prev is None:
            segments.append([word])
        else:
            cut = word.left - prev.right > gap or prev.split_after or word.split_before
            cut = cut or any(
                prev.cx < (m[0] + m[2]) / 2 < word.cx and m[1] < word.cy < m[3] for m in marks
            )
            if cut:
                segments.append([word])
            else:
                segments[-1].append(word)
        prev = word
    line.segments = segments


def _joins_without_space(left: str, right: str) -> bool:
    return bool(_CJK.match(left[-1:]) or _CJK.match(right[:1]))


def _join_words(words: list[_Word], raw: bool = False) -> str:
    """The words of a cell or line as text: a space only between two latin words or figures."""
    text = ""
    for word in sorted(words, key=lambda w: w.left):
        piece = word.raw if raw else word.text
        if not piece:
            continue
        if text and not _joins_without_space(text, piece):
            text += " "
        text += piece
    return _SPACE_BETWEEN_CJK.sub("", text).strip()


# --- segments -> columns -> tables -----------------------------------------------------------


def _span(words: list[_Word]) -> tuple[int, int]:
    return min(w.left for w in words), max(w.right for w in words)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _merge_intervals(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for left, right in sorted(spans):
        if merged and left <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    return [(a, b) for a, b in merged]


def _usual_count(lines: list[_Line]) -> int:
    """The most common number of segments among the lines (the larger on a tie)."""
    counts = [len(ln.segments) for ln in lines]
    return max(set(counts), key=lambda n: (counts.count(n), n))


def _columns(rows: list[_Line]) -> list[tuple[int, int]]:
    """Column extents of a table: the segments of the rows with the usual cell count, aligned."""
    usual = _usual_count(rows)
    columns = _merge_intervals(
        [_span(seg) for ln in rows if len(ln.segments) == usual for seg in ln.segments]
    )
    # A column empty in the usual rows (sparse remarks) comes from other rows with figures;
    # a title's "9" cut off "月份..." is no column.
    extra = [
        _span(seg)
        for ln in rows
        if len(ln.segments) != usual and _number_segments(ln) >= 2
        for seg in ln.segments
        if all(_overlap(_span(seg), col) <= 0 for col in columns)
    ]
    return sorted(columns + _merge_intervals(extra))


def _partitions(columns: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """The page cut into one band per column, halfway between neighbouring columns."""
    cuts = [(a[1] + b[0]) / 2 for a, b in zip(columns, columns[1:], strict=False)]
    return list(zip([-math.inf, *cuts], [*cuts, math.inf], strict=True))


def _column_of(x: float, bands: list[tuple[float, float]]) -> int:
    return next(i for i, (left, right) in enumerate(bands) if left <= x <= right)


def _columns_hit(words: list[_Word], bands: list[tuple[float, float]]) -> set[int]:
    return {_column_of(w.cx, bands) for w in words if w.text}


def _spanned(seg: list[_Word], bands: list[tuple[float, float]]) -> list[int]:
    """Columns a segment lies over: each takes at least a quarter of its width."""
    span = _span(seg)
    width = max(1, span[1] - span[0])
    return [i for i, band in enumerate(bands) if _overlap(span, band) > 0.25 * width]


def _header_cells(
    line: _Line, bands: list[tuple[float, float]], below: set[int], rules: list[Rule]
) -> list[tuple[str, bool]]:
    """(text, spans several columns) per column for a header line.

    A segment over several columns is a merged header (超期工单 over 超期已办结 | 超期未办理)
    when no vertical rule runs through it, or, in a table without rules, when the header
    lines below it have text in two or more of those columns. Otherwise it is several headers
    OCR ran together, and each character goes to the column it stands in.
    """
    cells: list[tuple[str, bool]] = [("", False)] * len(bands)
    pieces = [piece for segment in line.segments for piece in _split_narrow(segment, bands)]
    for seg in pieces:
        hit = _spanned(seg, bands)
        if len(hit) > 1:
            left, right = _span(seg)
            top, bottom = min(w.top for w in seg), max(w.bottom for w in seg)
            crossed = any(
                left < x < right and rule_top <= (top + bottom) / 2 <= rule_bottom
                for x, rule_top, rule_bottom in rules
            )
            merged = not crossed if rules else len(below.intersection(hit)) >= 2
            if merged:
                text = _join_words(seg)
                for i in hit:
                    cells[i] = (_join_cell(cells[i][0], text), True)
                continue
        parts: dict[int, list[_Word]] = {}
        for word in _characters(seg) if len(hit) > 1 else seg:
            parts.setdefault(_column_of(word.cx, bands), []).append(word)
        for i, words in parts.items():
            cells[i] = (_join_cell(cells[i][0], _join_words(words)), False)
    return cells


def _characters(words: list[_Word]) -> list[_Word]:
    """Words of CJK text cut into one box per character (CJK characters are equally wide)."""
    out: list[_Word] = []
    for word in words:
        if len(word.text) < 2 or not all(_CJK.match(ch) for ch in word.text):
            out.append(word)
            continue
        step = (word.right - word.left) / len(word.text)
        for n, ch in enumerate(word.text):
            left = round(word.left + n * step)
            out.append(
                _Word(left, word.top, round(left + step), word.bottom, word.conf, ch, word.line_key)
            )
    return out


def _split_narrow(seg: list[_Word], bands: list[tuple[float, float]]) -> list[list[_Word]]:
    """A segment over several columns, cut where its words are most of a character apart.

    Headers of a tight table run together ("督办量督办比"); a merged header does not.
    """
    if len(_spanned(seg, bands)) < 2:
        return [seg]
    gap = 0.8 * _typical_height(seg)
    pieces = [[seg[0]]]
    for prev, word in zip(seg, seg[1:], strict=False):
        if word.left - prev.right > gap:
            pieces.append([word])
        else:
            pieces[-1].append(word)
    return pieces


def _body_cells(line: _Line, columns: list[tuple[int, int]]) -> list[str]:
    """Cell texts of a body line: a segment inside one column is its cell, else word by word."""
    bands = _partitions(columns)
    parts: list[list[_Word]] = [[] for _ in columns]
    for seg in line.segments:
        span = _span(seg)
        hit = [i for i, col in enumerate(columns) if _overlap(span, col) > 0]
        if len(hit) == 1:
            parts[hit[0]].extend(seg)
        else:
            for word in seg:
                parts[_column_of(word.cx, bands)].append(word)
    return [_join_words(p) if p else "" for p in parts]


def _pitch(lines: list[_Line]) -> float:
    """Median distance between consecutive lines (infinite for fewer than two)."""
    if len(lines) < 2:
        return math.inf
    return statistics.median(b.cy - a.cy for a, b in zip(lines, lines[1:], strict=False))


def _join_cell(upper: str, lower: str) -> str:
    """A cell wrapped over two lines, joined without a space between CJK characters."""
    if not upper or not lower:
        return upper or lower
    return upper + ("" if _joins_without_space(upper, lower) else " ") + lower


def _is_number(cell: str) -> bool:
    """True for one figure; "17 17" (two cells OCR ran together) is none."""
    return parse_cell_number(cell) is not None and not _SPLIT_FIGURES.search(cell)


def _number_segments(line: _Line) -> int:
    return sum(_is_number(_join_words(seg)) for seg in line.segments)


def _has_figures(cells: list[str]) -> bool:
    return any(_is_number(c) for c in cells[1:])


def _figure_columns(rows: list[list[str]]) -> list[int]:
    """Columns (after the first) of figures, some of them perhaps misread.

    A third of the cells or more are figures, and hardly any of the rest is longer than two
    characters (chi_sim reads a lone 1 as 下 or 于).
    """
    width = len(rows[0]) if rows else 0
    columns = []
    for c in range(1, width):
        figures = sum(_is_number(r[c]) for r in rows)
        words = sum(len(r[c].replace(" ", "")) > 2 and not _is_number(r[c]) for r in rows)
        if figures * 3 >= len(rows) and words * 4 <= figures:
            columns.append(c)
    return columns


def _undo_confusions(cell: str) -> str | None:
    """The cell with OCR digit confusions undone, or None when that does not make a figure.

    The cell must hold a digit already ("1O5", "2。48%"), or be a lone O for 0: a lone "l"
    may as well be what is left of a ruling line.
    """
    if not cell or _is_number(cell) or not (any(ch.isdigit() for ch in cell) or cell in "Oo〇"):
        return None
    fixed = "".join(_DIGIT_CONFUSIONS.get(ch, ch) for ch in cell)
    return fixed if _is_number(fixed) else None


@dataclass
class _Block:
    """Line ranges of a table on the page: header lines from ``start``, body lines from ``body``."""

    start: int
    body: int
    end: int
    columns: list[tuple[int, int]]
    rules: list[Rule] = field(default_factory=list)  # vertical rules of a ruled table


@dataclass
class _CellGrid:
    """Where a table's cells lie on the page (pixels of the TSV), to read a cell again."""

    rows: list[tuple[int, int]]  # top and bottom of each body row
    columns: list[tuple[int, int]]  # left and right of each column's band
    extents: list[tuple[int, int]]  # left and right of the text seen in each column


@dataclass
class _Page:
    """One page read: prose paragraphs and tables in page order, and the repairs made."""

    parts: list[str | int] = field(default_factory=list)  # a paragraph, or a table's index
    tables: list[Table] = field(default_factory=list)
    grids: list[_CellGrid] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    second: list[list[list[str]]] = field(default_factory=list)  # eng reading of each table

    def text(self) -> str:
        """The page's text with each table rendered in place as ``cell | cell |`` lines."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            table = self.tables[part]
            if table.header:
                out.append(" | ".join(table.header) + " |")
            out.extend(" | ".join(row) + " |" for row in table.rows)
        return "\n".join(out)

    def score(self) -> tuple[int, int]:
        """(tables confirmed by their totals, figure cells read): the better reading is larger."""
        confirmed = sum(confirmed_by_totals(t) for t in self.tables)
        figures = sum(_is_number(c) for t in self.tables for r in t.rows for c in r[1:])
        return confirmed, figures

    def doubtful(self) -> bool:
        """True when a table with a totals row is not confirmed, or a figure cell is garbled."""
        for table in self.tables:
            if _check_columns(table.rows) is not None and not confirmed_by_totals(table):
                return True
            for col in _figure_columns(table.rows):
                if any(row[col] and not _is_number(row[col]) for row in table.rows):
                    return True
        return False


def _is_anchor(line: _Line) -> bool:
    """A line that looks like a table row: cut into segments, one of them a figure."""
    return len(line.segments) >= 2 and _number_segments(line) >= 1


def _is_total_row(line: _Line) -> bool:
    return bool(line.segments) and bool(_TOTAL_LABEL.match(_join_words(line.segments[0])))


def _table_blocks(lines: list[_Line], height: float, rules: list[Rule]) -> list[_Block]:
    """The tables of a page: runs of row-like lines (wrapped cells between them), with headers."""
    blocks: list[_Block] = []
    floor = 0  # lines above it belong to an earlier table
    i = 0
    while i < len(lines):
        if not _is_anchor(lines[i]):
            i += 1
            continue
        anchors = [i]
        while True:
            last = anchors[-1]
            if _is_total_row(lines[last]) and not (
                last + 1 < len(lines) and _is_anchor(lines[last + 1])
            ):
                break  # the totals row ends a table unless rows follow it at once
            # Up to two lines between rows: a cell wrapped over lines, inside one column.
            nxt = next(
                (k for k in range(last + 1, min(last + 4, len(lines))) if _is_anchor(lines[k])),
                None,
            )
            if nxt is None:
                break
            pitch = _pitch([lines[a] for a in anchors]) if len(anchors) >= 2 else 3 * height
            if any(lines[k + 1].cy - lines[k].cy > 2.2 * pitch for k in range(last, nxt)):
                break  # set apart: the next table
            bands = _partitions(_columns([lines[a] for a in anchors]))
            if any(
                len(_spanned(seg, bands)) > 1 for ln in lines[last + 1 : nxt] for seg in ln.segments
            ):
                break  # prose or a title between two tables
            anchors.append(nxt)
        rows = [lines[a] for a in anchors]
        if _is_table(rows):
            columns = _columns(rows)
            ruled = _ruled_columns(rules, lines[anchors[0] : anchors[-1] + 1], columns)
            start = _header_start(lines, floor, anchors[0], ruled or columns, _pitch(rows))
            columns = ruled or _header_columns(lines[start : anchors[0]], columns)
            blocks.append(
                _Block(start, anchors[0], anchors[-1] + 1, columns, rules if ruled else [])
            )
            floor = anchors[-1] + 1
        i = anchors[-1] + 1
    return blocks


def _ruled_columns(
    rules: list[Rule], lines: list[_Line], columns: list[tuple[int, int]]
) -> list[tuple[int, int]] | None:
    """The cell interiors between the vertical rules running down a table, or None.

    Rules give the columns of a ruled table exactly, also those blank in every row; they are
    used when they stand left and right of all the text columns found.
    """
    top, bottom = lines[0].top, lines[-1].bottom
    height = _typical_height([w for ln in lines for w in ln.ink])
    xs: list[float] = []
    for x, rule_top, rule_bottom in sorted(rules):
        if rule_top <= top + 2 * height and rule_bottom >= bottom - 2 * height:
            if xs and x - xs[-1] < height:
                continue  # the two edges of one thick rule
            xs.append(x)
    if len(xs) < 3 or columns[0][0] < xs[0] or columns[-1][1] > xs[-1]:
        return None
    pad = max(1, round(height / 8))
    return [(round(a) + pad, round(b) - pad) for a, b in zip(xs, xs[1:], strict=False)]


def _header_columns(
    header_lines: list[_Line], columns: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The columns with those only the header shows (a column blank in every row, 省长信箱).

    A header piece over no column is such a column unless what stands below it belongs to
    known columns (a merged header centred over sub-headers whose figures are narrow).
    """
    pieces = [(n, _span(seg)) for n, line in enumerate(header_lines) for seg in line.segments]

    def free(span: tuple[int, int]) -> bool:
        return all(_overlap(span, col) <= 0 for col in columns)

    added = [
        span
        for n, span in pieces
        if free(span)
        and all(free(other) for m, other in pieces if m > n and _overlap(span, other) > 0)
    ]
    if not added:
        return columns
    below = [other for n, span in pieces for m, other in pieces if m > n and span in added]
    extra = [other for other in below if free(other) and any(_overlap(other, a) > 0 for a in added)]
    return sorted(columns + _merge_intervals(added + extra))


def _is_table(rows: list[_Line]) -> bool:
    """True when row-like lines make a table, not prose with wide gaps and a figure or two."""
    if len(rows) < 3 and not (len(rows) == 2 and all(_number_segments(ln) >= 2 for ln in rows)):
        return False
    columns = _columns(rows)
    if len(columns) < 2:
        return False
    # Figures of a table line up in columns with figures of other rows; in prose they don't.
    bands = _partitions(columns)
    figures: dict[int, set[int]] = {}  # column -> rows with a figure there
    for n, line in enumerate(rows):
        for seg in line.segments:
            if _is_number(_join_words(seg)):
                figures.setdefault(_column_of(sum(_span(seg)) / 2, bands), set()).add(n)
    placed = [len(found) for found in figures.values()]
    return sum(p for p in placed if p >= 2) * 2 >= sum(placed)


def _header_start(
    lines: list[_Line], floor: int, body: int, columns: list[tuple[int, int]], pitch: float
) -> int:
    """Index of the first header line above the body line ``body`` (at most four lines)."""
    bands = _partitions(columns)
    start = body
    while start - 1 >= floor and body - start < 4:
        line = lines[start - 1]
        # Set apart from the table like a title; a lone segment (a title, or a header over
        # sub-headers) must sit closer still.
        if lines[start].cy - line.cy > (1.1 if len(line.segments) == 1 else 1.6) * pitch:
            break
        below = set().union(*(_columns_hit(ln.ink, bands) for ln in lines[start:body]))
        if not _is_header_line(line, bands, below):
            break
        start -= 1
    # A lone segment over one column continues a wrapped header cell: never the top line
    # (there it is a title right above the table).
    while start < body and len(lines[start].segments) == 1:
        if len(_spanned(lines[start].segments[0], bands)) > 1:
            break
        start += 1
    return start


def _is_header_line(line: _Line, bands: list[tuple[float, float]], below: set[int]) -> bool:
    """True when a line's segments sit over distinct columns, as header cells do.

    A title cut in two by OCR puts two pieces over one column; a single piece over several
    columns is a header only with sub-headers below it (超期工单).
    """
    pieces = [piece for seg in line.segments for piece in _split_narrow(seg, bands)]
    if len(pieces) >= 2:
        centres = [_column_of(sum(_span(piece)) / 2, bands) for piece in pieces]
        return len(set(centres)) == len(centres)
    hit = _spanned(pieces[0], bands) if pieces else []
    return len(hit) <= 1 or len(below.intersection(hit)) >= 2


def _build_table(
    block: _Block,
    lines: list[_Line],
    where: tuple[str | None, str | None, int | None],
    fixes: list[str],
) -> tuple[Table, _CellGrid]:
    """A Table from a block's header and body lines; ``where`` is (title, document, page)."""
    title, document, page = where
    columns = block.columns
    bands = _partitions(columns)
    header_lines = lines[block.start : block.body]
    header = [""] * len(columns)
    spanned = [False] * len(columns)
    for n, line in enumerate(header_lines):
        below = set().union(*(_columns_hit(ln.ink, bands) for ln in header_lines[n + 1 :]))
        for i, (text, spans) in enumerate(_header_cells(line, bands, below, block.rules)):
            if not text:
                continue
            # Merged headers are joined with "/", a header wrapped inside its cell without.
            header[i] = f"{header[i]}/{text}" if header[i] and spanned[i] else header[i] + text
            spanned[i] = spans
    body = [(ln, _body_cells(ln, columns)) for ln in lines[block.body : block.end]]
    figure_lines = [ln for ln, cells in body if _has_figures(cells)]
    pitch = _pitch(figure_lines)
    rows: list[list[str]] = []
    members: list[list[_Line]] = []  # the lines each row was read from
    pending: list[tuple[_Line, list[str]]] = []  # wrapped text above its row's figures
    for line, cells in body:
        if not any(cells):
            continue
        if figure_lines and not _has_figures(cells):
            near = min(figure_lines, key=lambda fl: abs(fl.cy - line.cy))
            if abs(near.cy - line.cy) < 0.75 * pitch:
                owner = next((k for k, m in enumerate(members) if near in m), None)
                if owner is None:
                    pending.append((line, cells))
                else:
                    rows[owner] = [
                        _join_cell(a, b) for a, b in zip(rows[owner], cells, strict=True)
                    ]
                    members[owner].append(line)
                continue
        if pending and _has_figures(cells):
            joined = [""] * len(columns)
            for _, part in pending:
                joined = [_join_cell(a, b) for a, b in zip(joined, part, strict=True)]
            rows.append([_join_cell(a, b) for a, b in zip(joined, cells, strict=True)])
            members.append([ln for ln, _ in pending] + [line])
            pending = []
            continue
        rows.append(cells)
        members.append([line])
    for part_line, cells in pending:
        rows.append(cells)
        members.append([part_line])
    for col in _figure_columns(rows):
        for r, row in enumerate(rows):
            fixed = _undo_confusions(row[col])
            if fixed is not None:
                fixes.append(
                    f"page {page or 1} table row {r + 1} column {col + 1}: "
                    f"{row[col]!r} -> {fixed!r} (OCR confusion)"
                )
                row[col] = fixed
    left, right = columns[0][0], columns[-1][1]
    grid = _CellGrid(
        rows=[(min(ln.top for ln in m), max(ln.bottom for ln in m)) for m in members],
        columns=[(round(max(a, left)), round(min(b, right))) for a, b in bands],
        extents=list(columns),
    )
    table = Table(
        title=title,
        header=header if any(header) else [],
        rows=rows,
        document=document,
        page=page,
        ocr=True,
    )
    return table, grid


def _read_page(
    tsv: str, document: str | None, page: int | None, rules: list[Rule] | None = None
) -> _Page:
    """The prose and tables of one page from tesseract's TSV output (and its vertical rules)."""
    result = _Page()
    words, marks = _parse_tsv(tsv)
    heights = [w.height for w in words if w.text]
    if not heights:
        return result
    height = statistics.median(heights)
    lines = _group_lines(words)
    for line in lines:
        _split_segments(line, _SEGMENT_GAP * height, marks)
    result.fixes.extend(
        f"page {page or 1}: stray ruling mark removed around {w.text!r} ({w.raw!r})"
        for w in words
        if w.text != w.raw and any(ch.isdigit() for ch in w.text)
    )
    prose: list[_Line] = []
    done = 0
    for block in _table_blocks(lines, height, rules or []):
        prose.extend(lines[done : block.start])
        title = _title_before(prose, lines[block.start], height)
        result.parts.extend(_paragraphs(prose, height))
        prose = []
        table, grid = _build_table(block, lines, (title, document, page), result.fixes)
        result.parts.append(len(result.tables))
        result.tables.append(table)
        result.grids.append(grid)
        done = block.end
    prose.extend(lines[done:])
    result.parts.extend(_paragraphs(prose, height))
    return result


def page_from_tsv(
    tsv: str, document: str | None = None, page: int | None = None
) -> tuple[str, list[Table], list[str]]:
    """(text, tables, fixes) of one page from tesseract's TSV output: tables rebuilt from boxes.

    ``text`` is the page's prose with each table rendered in place as ``cell | cell |`` lines;
    ``fixes`` lists the repairs made to figure cells.
    """
    result = _read_page(tsv, document, page)
    return result.text(), result.tables, result.fixes


def _title_before(prose: list[_Line], first: _Line, height: float) -> str | None:
    """The short line right above a table, taken as its title."""
    if not prose:
        return None
    above = prose[-1]
    text = _join_words(above.words, raw=True)
    if first.top - above.bottom > 4 * height or len(text) > 60 or _is_number(text):
        return None
    return text


def _paragraphs(lines: list[_Line], height: float) -> list[str]:
    """Prose lines joined into paragraphs: a line that fills the measure runs on."""
    if not lines:
        return []
    widest = max(ln.right - ln.left for ln in lines)
    out: list[str] = []
    prev: _Line | None = None
    for line in lines:
        text = _join_words(line.words, raw=True)
        if not text:
            continue
        if (
            prev is not None
            and out
            and not out[-1].endswith(("。", "！", "？", "：", ":", "；"))
            and prev.right - prev.left > 0.85 * widest
            and line.top - prev.bottom < 1.2 * height
        ):
            out[-1] += ("" if _joins_without_space(out[-1], text) else " ") + text
        else:
            out.append(text)
        prev = line
    return out


# --- pictures --------------------------------------------------------------------------------


def _load_image(data: bytes, label: str, max_pixels: int, max_file_bytes: int) -> list[Image.Image]:
    """The frames of an image as greyscale pictures, after the size caps."""
    if len(data) > max_file_bytes:
        raise ParseError(f"{label}: file is {len(data)} bytes, over the {max_file_bytes} cap")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ParseError(
                    f"{label}: image is {width}x{height} pixels, over the {max_pixels} cap"
                )
            frames = []
            for frame in ImageSequence.Iterator(image):
                if len(frames) >= MAX_FRAMES:
                    logger.warning("%s: only the first %d frames read", label, MAX_FRAMES)
                    break
                if frame.size[0] * frame.size[1] > max_pixels:
                    raise ParseError(f"{label}: a frame is over the {max_pixels} pixel cap")
                frames.append(_grey(frame))
        except ParseError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ParseError(f"{label}: image too large (decompression bomb): {exc}") from exc
        except UnidentifiedImageError as exc:
            raise ParseError(f"{label}: not an image Pillow can read") from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ParseError(f"{label}: corrupt image: {exc}") from exc
    return frames


def _grey(frame: Image.Image) -> Image.Image:
    """A frame as a greyscale picture on white, turned upright by its EXIF orientation."""
    frame = ImageOps.exif_transpose(frame)
    if frame.mode in ("RGBA", "LA", "P", "PA") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba)
    return frame.convert("L")


def _whiten_faint(level: int) -> int:
    return 255 if level > 190 else level


def _ink(image: Image.Image) -> Image.Image:
    return image.point(lambda v: 255 if v < _INK_LEVEL else 0)


def _remove_rules(image: Image.Image) -> tuple[Image.Image, list[Rule]]:
    """The picture with long horizontal and vertical ruling lines painted white, and the
    vertical ones found (they mark the columns of a ruled table).

    Cell borders make tesseract's layout analysis drop whole columns or read "|" and quotes.
    """
    ink = _ink(image)

    def runs(horizontal: bool) -> Image.Image:
        along = (_RULE_REACH, 0) if horizontal else (0, _RULE_REACH)
        core = ink.filter(ImageFilter.BoxBlur(along)).point(lambda v: 255 if v >= 250 else 0)
        # Grow the cores back to the full run, and a little across for anti-aliased edges.
        grow = (_RULE_REACH + 3, 2) if horizontal else (2, _RULE_REACH + 3)
        return core.filter(ImageFilter.BoxBlur(grow)).point(lambda v: 255 if v > 0 else 0)

    vertical = runs(False)
    mask = ImageChops.lighter(runs(True), vertical)
    if mask.histogram()[255] > 0.25 * image.width * image.height:
        return image, []  # a dark photo or background, not ruled paper: leave it to tesseract
    cleaned = Image.composite(Image.new("L", image.size, 255), image, mask)
    return cleaned, _vertical_rules(vertical)


def _runs(profile: bytes) -> list[tuple[int, int]]:
    """(start, end) of the runs of non-zero bytes."""
    found: list[tuple[int, int]] = []
    start = None
    for i, level in enumerate([*profile, 0]):
        if level and start is None:
            start = i
        elif not level and start is not None:
            found.append((start, i))
            start = None
    return found


def _vertical_rules(mask: Image.Image) -> list[Rule]:
    """The vertical ruling lines in a mask of long vertical runs of ink."""
    across = mask.resize((mask.width, 1), Image.Resampling.BOX).tobytes()
    rules: list[Rule] = []
    for left, right in _runs(across):
        strip = mask.crop((left, 0, right, mask.height))
        down = strip.resize((1, mask.height), Image.Resampling.BOX).tobytes()
        rules.extend(((left + right) / 2, top, bottom) for top, bottom in _runs(down))
    return rules


def _estimate_text_height(image: Image.Image) -> float | None:
    """Text height in pixels from the runs of inked rows between blank rows (None if unclear)."""
    ink = _ink(_remove_rules(image)[0])
    profile = ink.resize((1, ink.height), Image.Resampling.BOX).tobytes()
    runs: list[int] = []
    run = 0
    for level in [*profile, 0]:
        if level:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    runs = [r for r in runs if r >= 4]  # leftover specks and rule stubs
    if not runs:
        return None
    height = statistics.median(runs)
    # Lines run together (a skewed scan, a photo): let tesseract's word boxes decide.
    return height if height <= 150 else None


def _text_height(tsv: str) -> float | None:
    """Median height of the confidently read words holding CJK characters (else of all)."""
    words = [w for w in _parse_tsv(tsv)[0] if w.text]
    heights = [w.height for w in words if w.conf >= 60 and _CJK.search(w.text)]
    heights = heights if len(heights) >= 5 else [w.height for w in words]
    return statistics.median(heights) if heights else None


def _unread_ink(prepared: Image.Image, tsv: str) -> float:
    """Share of the picture's ink outside every word box: text tesseract left out."""
    ink = _ink(prepared)
    inked = ink.histogram()[255]
    if not inked:
        return 0.0
    boxes = Image.new("L", prepared.size, 0)
    draw = ImageDraw.Draw(boxes)
    for word in _parse_tsv(tsv)[0]:
        pad = max(2, word.height // 4)
        draw.rectangle(
            (word.left - pad, word.top - pad, word.right + pad, word.bottom + pad), fill=255
        )
    return ImageChops.subtract(ink, boxes).histogram()[255] / inked


def _resized(image: Image.Image, scale: float) -> Image.Image:
    if abs(scale - 1.0) < 1e-6:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _rescale_tsv(tsv: str, scale: float) -> str:
    """The TSV with its boxes mapped back to the original picture's pixels."""
    if abs(scale - 1.0) < 1e-6:
        return tsv
    out = []
    for n, raw in enumerate(tsv.splitlines()):
        cols = raw.split("\t")
        if n and len(cols) >= 12:
            try:
                cols[6:10] = [str(round(int(c) / scale)) for c in cols[6:10]]
            except ValueError:
                pass
        out.append("\t".join(cols))
    return "\n".join(out)


@dataclass
class _Ocr:
    """Everything one reading of a picture needs: the engine, its languages, and the clock."""

    exe: str
    langs: set[str]
    label: str
    deadline: float

    def left(self) -> float:
        return self.deadline - time.monotonic()


def _reread_figures(ocr: _Ocr, prepared: Image.Image, scale: float, page: _Page) -> None:
    """Read the figure columns again with tesseract's ``eng`` model, row by row.

    The figure part of every body row is cut out of the cleaned picture and the strips are
    stacked into one picture for a single run. The second reading fills figure cells that came
    out blank or as one or two stray characters (chi_sim reads a lone 7 as 了), and replaces a
    column of a table not confirmed by its totals when that makes the column confirmed.
    """
    if FIGURE_LANG not in ocr.langs:
        return
    strips: list[tuple[int, int, int, Image.Image]] = []  # table, row, left edge, strip
    for t, (table, grid) in enumerate(zip(page.tables, page.grids, strict=True)):
        figure_columns = _figure_columns(table.rows)
        if not figure_columns:
            continue
        left = grid.columns[figure_columns[0]][0]
        right = grid.columns[figure_columns[-1]][1]
        for r, (top, bottom) in enumerate(grid.rows):
            # A little above and below the row, but never into the next row's figures.
            pad = max(4, (bottom - top) // 4)
            above = (grid.rows[r - 1][1] + top) / 2 if r else top - pad
            below = (bottom + grid.rows[r + 1][0]) / 2 if r + 1 < len(grid.rows) else bottom + pad
            box = (left, max(top - pad, above), right, min(bottom + pad, below))
            strip = prepared.crop(tuple(round(v * scale) for v in box))
            # Faint leftovers of cell borders read as letters: keep only dark ink.
            strips.append((t, r, round(left * scale), strip.point(_whiten_faint)))
    if not strips:
        return
    gap = max(strip.height for *_, strip in strips)
    width = max(strip.width for *_, strip in strips) + 2 * gap
    sheet = Image.new("L", (width, gap + len(strips) * 2 * gap), 255)
    for n, (*_, strip) in enumerate(strips):
        sheet.paste(strip, (gap, gap + n * 2 * gap))
    try:
        tsv = _run_tesseract(
            ocr.exe, sheet, ocr.label, ocr.left(), lang=FIGURE_LANG, psm=FALLBACK_PSM
        )
    except ParseError as exc:
        logger.warning("%s: figure columns not read again: %s", ocr.label, exc)
        return
    words = [w for w in _parse_tsv(tsv)[0] if w.text]
    second = [[[""] * len(t.rows[0]) for _ in t.rows] if t.rows else [] for t in page.tables]
    for n, (t, r, strip_left, strip) in enumerate(strips):
        top = gap + n * 2 * gap
        bands = _partitions(page.grids[t].columns)
        cells: dict[int, list[_Word]] = {}
        for word in words:
            if top <= word.cy <= top + strip.height:
                x = (word.cx - gap + strip_left) / scale  # back to the TSV's pixels
                cells.setdefault(_column_of(x, bands), []).append(word)
        for col, cell_words in cells.items():
            left, right = (round(v * scale) - strip_left for v in page.grids[t].columns[col])
            # Too little ink for a figure: a speck or the end of a rule that eng made a digit of.
            if _ink(strip.crop((left, 0, right, strip.height))).histogram()[255] >= _MIN_FIGURE_INK:
                second[t][r][col] = _join_words(cell_words)
    page.second = second
    for table, alternative in zip(page.tables, second, strict=True):
        _use_second_reading(table, alternative, page.fixes)


def _format(cell: str) -> tuple[int, bool]:
    """(decimal places, percentage) of a figure as printed."""
    return _decimals(cell), cell.strip().endswith(("%", "％"))


def _usual_format(cells: list[str]) -> tuple[int, bool] | None:
    """The format most figures of a column share, when at least two thirds of them do."""
    formats = [_format(c) for c in cells if _is_number(c)]
    if not formats:
        return None
    usual = max(set(formats), key=formats.count)
    return usual if formats.count(usual) * 3 >= 2 * len(formats) else None


def _use_second_reading(table: Table, second: list[list[str]], fixes: list[str]) -> None:
    """Take figures from the eng reading where chi_sim's are garbled or off, see module doc."""
    where = f"page {table.page or 1} table {table.title or ''!r}"
    figure_columns = _figure_columns(table.rows)
    for col in figure_columns:
        usual = _usual_format([row[col] for row in table.rows])
        for r, row in enumerate(table.rows):
            cell, other = row[col].replace(" ", ""), second[r][col]
            if not _is_number(other) or other == cell:
                continue
            if _is_number(cell):
                # "81.829%" among "99.63%": chi_sim reads the % sign as 9% or %6.
                if usual is None or _format(cell) == usual or _format(other) != usual:
                    continue
            elif len(cell) > 2 and not any(ch.isdigit() for ch in cell):
                continue  # text, not a misread figure
            fixes.append(
                f"{where} row {r + 1} column {col + 1}: {row[col]!r} -> {other!r} "
                f"(read again with {FIGURE_LANG})"
            )
            row[col] = other
    status = _check_columns(table.rows)
    if status is None:
        return
    confirmed = status[1]
    # Twice: a percentage column can only be confirmed once its count columns are.
    for col in figure_columns + figure_columns:
        if col in confirmed:
            continue
        differ = [
            r
            for r, row in enumerate(table.rows)
            if _is_number(second[r][col]) and second[r][col] != row[col].replace(" ", "")
        ]
        if not differ:
            continue
        trial = [list(row) for row in table.rows]
        for r in differ:
            trial[r][col] = second[r][col]
        trial_status = _check_columns(trial)
        if trial_status is None or not (confirmed | {col}) <= trial_status[1]:
            continue
        for r in differ:
            fixes.append(
                f"{where} row {r + 1} column {col + 1}: {table.rows[r][col]!r} -> "
                f"{second[r][col]!r} ({FIGURE_LANG} reading, confirmed by the totals)"
            )
            table.rows[r][col] = second[r][col]
        confirmed = trial_status[1]


def _read_at(
    ocr: _Ocr, image: Image.Image, scale: float, psm: str, document: str | None, page: int | None
) -> tuple[_Page, float, float | None]:
    """One reading of the picture at ``scale``: (page, share of ink unread, text height)."""
    prepared, rules = _remove_rules(_resized(image, scale))
    tsv = _run_tesseract(ocr.exe, prepared, ocr.label, ocr.left(), lang=TESSERACT_LANG, psm=psm)
    original = _rescale_tsv(tsv, scale)
    rules = [(x / scale, round(top / scale), round(bottom / scale)) for x, top, bottom in rules]
    result = _read_page(original, document, page, rules)
    _reread_figures(ocr, prepared, scale, result)
    return result, _unread_ink(prepared, tsv), _text_height(original)


def _ocr_picture(ocr: _Ocr, image: Image.Image, document: str | None, page: int | None) -> _Page:
    """One greyscale picture read: prose and tables.

    The text is scaled to ~42 px. When a table is not confirmed by its totals or much ink was
    left unread, the picture is read again (psm 6, other scales) while time allows; the reading
    with the most confirmed tables, then the most figures, wins (the first on a tie).
    """
    largest = min(_MAX_UPSCALE, math.sqrt(_MAX_UPSCALED_PIXELS / (image.width * image.height)))
    estimate = _estimate_text_height(image)
    base = min(largest, _TARGET_TEXT_HEIGHT / estimate) if estimate else 1.0
    started = time.monotonic()
    best, unread, height = _read_at(ocr, image, base, TESSERACT_PSM, document, page)
    if height and abs(min(largest, _TARGET_TEXT_HEIGHT / height) - base) / base > 0.25:
        # The estimate from the picture was off (a skewed scan, a photo): read once more.
        base = min(largest, _TARGET_TEXT_HEIGHT / height)
        logger.info("%s: text %.0f px high, read again at scale %.2f", ocr.label, height, base)
        best, unread, _ = _read_at(ocr, image, base, TESSERACT_PSM, document, page)
    took = time.monotonic() - started
    best_score = best.score()
    for psm, factor in _READINGS[1:]:
        if not best.doubtful() and unread < _UNREAD_INK:
            break
        if ocr.left() < 2 * took:
            logger.info("%s: no time left for another reading", ocr.label)
            break
        scale = min(largest, base * factor)
        reading, unread_now, _ = _read_at(ocr, image, scale, psm, document, page)
        score = reading.score()
        logger.info(
            "%s: psm %s at %.2f: score %s (was %s)", ocr.label, psm, scale, score, best_score
        )
        if score > best_score:
            best, best_score, unread = reading, score, unread_now
    return best


def _document(
    pages: list[_Page], meta: dict[str, str], page_count: int | None
) -> ExtractedDocument:
    """The ExtractedDocument of the pages read; a table running over a page break is joined."""
    tables: list[Table] = []
    seconds: list[list[list[str]]] = []
    fixes = [fix for page in pages for fix in page.fixes]
    previous: _Page | None = None
    extents: list[tuple[int, int]] = []  # columns of the last table, as on its first page
    for page in pages:
        for n, table in enumerate(page.tables):
            second = page.second[n] if n < len(page.second) else [[""] * len(r) for r in table.rows]
            placing = _continuation(previous, page, extents) if n == 0 else None
            if placing is None:
                tables.append(table)
                seconds.append(second)
                extents = page.grids[n].extents
                continue
            # The rows go on the previous page's table, each cell under its column; a new
            # Table, as each page keeps its own rows for its text (the cells are shared).
            width = len(tables[-1].rows[0])
            if placing != list(range(width)):
                for row in [*table.rows, *second]:
                    cells = [""] * width
                    for old, new in enumerate(placing):
                        cells[new] = row[old]
                    row[:] = cells
            tables[-1] = Table(**{**vars(tables[-1]), "rows": tables[-1].rows + table.rows})
            seconds[-1] = seconds[-1] + second
            # Joined, the table may now have its totals row: use the eng reading again.
            _use_second_reading(tables[-1], seconds[-1], fixes)
        previous = page
    texts = [page.text() for page in pages]  # after the joining: rows are shared lists
    meta = dict(meta, ocr_engine=OCR_ENGINE)
    if fixes:
        meta["ocr_fixes"] = "\n".join(fixes)
    return ExtractedDocument(
        text="\n\n".join(text for text in texts if text),
        tables=tables,
        meta=meta,
        pages=page_count,
        ocr=bool(pages),
    )


def _continuation(
    previous: _Page | None, page: _Page, extents: list[tuple[int, int]]
) -> list[int] | None:
    """Where the columns of a table going on from the previous page fall, else None.

    The page must open with a headless table and the previous one end with an unfinished
    table; each column goes under the previous table's column at the same place on the page.
    """
    if previous is None or not previous.parts or not page.parts:
        return None
    if not isinstance(previous.parts[-1], int) or not isinstance(page.parts[0], int):
        return None
    before, table = previous.tables[-1], page.tables[0]
    if table.header or not before.rows or not table.rows:
        return None
    if any(_TOTAL_LABEL.match(row[0].replace(" ", "")) for row in before.rows):
        return None  # that table has ended
    bands = _partitions(extents)
    placing = [_column_of((a + b) / 2, bands) for a, b in page.grids[0].extents]
    if placing[0] != 0 or any(b <= a for a, b in zip(placing, placing[1:], strict=False)):
        return None
    return placing


def read_image(
    data: bytes,
    document: str | None = None,
    *,
    timeout: float = 120.0,
    max_pixels: int = 60_000_000,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> ExtractedDocument:
    """OCR a PNG/JPG/GIF/BMP/TIFF image: its text and tables, every table marked ``ocr=True``."""
    label = document or "image"
    frames = _load_image(data, label, max_pixels, max_file_bytes)
    exe, langs = _check_tesseract(label)
    ocr = _Ocr(exe, langs, label, time.monotonic() + timeout)
    several = len(frames) > 1
    pages = [
        _ocr_picture(ocr, frame, document, n if several else None)
        for n, frame in enumerate(frames, start=1)
    ]
    return _document(pages, {}, len(frames) if several else None)


def ocr_pdf_pages(
    data: bytes,
    document: str | None = None,
    *,
    max_pages: int = 50,
    dpi: int = 300,
    timeout: float = 120.0,
    max_pixels: int = 60_000_000,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> ExtractedDocument:
    """OCR the pages of a PDF that have no text layer (scans); pages with text are left out.

    ``timeout`` is per page; a page too large for ``max_pixels`` at ``dpi`` is rendered smaller.
    """
    import pypdfium2 as pdfium

    label = document or "PDF"
    if len(data) > max_file_bytes:
        raise ParseError(f"{label}: file is {len(data)} bytes, over the {max_file_bytes} cap")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "encrypted" if "password" in str(exc).lower() else f"not a readable PDF ({exc})"
        raise ParseError(f"{label}: {reason}") from exc
    try:
        count = len(pdf)
        if count > max_pages:
            raise ParseError(f"{label}: {count} pages, over the {max_pages} page cap for OCR")
        engine: tuple[str, set[str]] | None = None  # checked once a page needs OCR
        pages: list[_Page] = []
        read: list[str] = []
        for number in range(1, count + 1):
            image = _render_scanned_page(pdf, number, dpi, max_pixels, label)
            if image is None:
                continue
            engine = engine or _check_tesseract(label)
            ocr = _Ocr(*engine, f"{label} page {number}", time.monotonic() + timeout)
            pages.append(_ocr_picture(ocr, image, document, number))
            read.append(str(number))
    finally:
        pdf.close()
    meta = {"ocr_pages": ",".join(read)} if read else {}
    return _document(pages, meta, count)


def _render_scanned_page(
    pdf: pypdfium2.PdfDocument, number: int, dpi: int, max_pixels: int, label: str
) -> Image.Image | None:
    """Page ``number`` (1-based) as a greyscale picture, or None when it has a text layer."""
    import pypdfium2 as pdfium

    page = pdf[number - 1]
    try:
        textpage = page.get_textpage()
        has_text = bool(textpage.get_text_bounded().strip())
        textpage.close()
        if has_text:
            return None
        width, height = page.get_size()
        scale = dpi / 72
        if width * height * scale * scale > max_pixels:
            # Our choice of resolution, not the file's fault: render smaller instead.
            scale = math.sqrt(max_pixels / (width * height))
            logger.warning("%s: page %d rendered at %.0f dpi", label, number, scale * 72)
        return _grey(page.render(scale=scale).to_pil())
    except pdfium.PdfiumError as exc:
        raise ParseError(f"{label}: page {number} cannot be rendered: {exc}") from exc
    finally:
        page.close()


# --- confirmation ----------------------------------------------------------------------------


def _decimals(cell: str) -> int:
    m = re.search(r"\.(\d+)", cell)
    return len(m.group(1)) if m else 0


def _percent_confirmed(
    cells: list[str], percents: list[float], count_columns: list[list[float]]
) -> bool:
    """True when a percentage column is ``a / b`` of two count columns, or a column's shares."""
    tolerances = [0.5 * 10 ** -_decimals(cell) + 1e-9 for cell in cells]

    def matches(expected: list[float | None]) -> bool:
        return all(
            e is not None and abs(e - v) <= t
            for e, v, t in zip(expected, percents, tolerances, strict=True)
        )

    for a in count_columns:
        if a[-1] and matches([100 * x / a[-1] for x in a]):
            return True
        for b in count_columns:
            if a is not b and matches(
                [100 * x / y if y else (0.0 if x == 0 else None) for x, y in zip(a, b, strict=True)]
            ):
                return True
    return False


def _is_serial(values: list[str], total: str) -> bool:
    """A 序号 column: 1, 2, 3 ... down three rows or more, and no figure in the totals row."""
    return (
        len(values) >= 3
        and not _is_number(total)
        and [parse_cell_number(v) for v in values] == list(range(1, len(values) + 1))
    )


def confirmed_by_totals(table: Table) -> bool:
    """True when the totals row confirms every figure of the table, so OCR read it exactly.

    Each column holding figures must be confirmed: counts sum over the body rows to the 合计
    row (decimals within rounding); a percentage column must equal, row by row within the
    printed rounding, ``a / b`` for two confirmed count columns or the row's share of a
    confirmed column's total. A blank or unreadable cell among figures, a column nothing
    explains (e.g. 环比), or no single totals row means not confirmed. The pipeline keeps an
    OCR table's numbers only when this is True. Two errors that cancel out in a sum go unseen.
    """
    status = _check_columns(table.rows)
    return status is not None and bool(status[0]) and set(status[0]) == status[1]


def _check_columns(table_rows: list[list[str]]) -> tuple[list[int], set[int]] | None:
    """(figure columns, those confirmed by the totals row); None without one totals row."""
    rows = [list(r) for r in table_rows]
    if len(rows) < 2 or len({len(r) for r in rows}) != 1:
        return None

    def label(row: list[str]) -> str:
        return "".join(c for c in row if c and not _is_number(c)).replace(" ", "")

    totals = [i for i, r in enumerate(rows) if _TOTAL_LABEL.match(label(r))]
    if len(totals) != 1:
        return None
    total_row = rows[totals[0]]
    body = [r for i, r in enumerate(rows) if i != totals[0] and not _SUBTOTAL_LABEL.match(label(r))]
    if not body:
        return None
    figure_columns = [
        c
        for c in range(len(total_row))
        if (any(_is_number(r[c]) for r in body) or _is_number(total_row[c]))
        and not (c == 0 and _is_serial([r[c] for r in body], total_row[c]))
    ]
    values: dict[int, list[float]] = {}  # column -> body values, then the total
    percent: list[int] = []
    for c in figure_columns:
        column = [r[c] for r in body] + [total_row[c]]
        if any(cell.strip().endswith(("%", "％")) for cell in column):
            percent.append(c)
        parsed: list[float] = []
        for n, cell in enumerate(column):
            value = parse_cell_number(cell) if _is_number(cell) else None
            if value is None and cell.strip() in _DASHES and n < len(body):
                value = 0  # a printed dash is an explicit nil, a blank may be a lost figure
            if value is None:
                break
            parsed.append(float(value))
        else:
            values[c] = parsed
    confirmed: set[int] = set()
    for c in figure_columns:
        if c in percent or c not in values:
            continue
        *body_values, total = values[c]
        places = max(_decimals(r[c]) for r in [*body, total_row])
        tolerance = 0.5 * 10**-places * (len(body) + 1) + 1e-9 if places else 1e-9
        if abs(sum(body_values) - total) <= tolerance:
            confirmed.add(c)
    count_values = [values[c] for c in sorted(confirmed)]
    for p in percent:
        cells = [r[p] for r in body] + [total_row[p]]
        if p in values and _percent_confirmed(cells, values[p], count_values):
            confirmed.add(p)
    return figure_columns, confirmed
