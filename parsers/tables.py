"""Tables printed in plain text, and every table as long unit rows with consistency checks.

Plain-text layouts read by :func:`find_text_tables` (on text already passed through
``normalize_text``):

- ``cell | cell | cell |`` per line, with or without a leading bar (``|cell|cell|``);
- one cell per line, each ending with ``" |"``, rows rebuilt from the number of header cells;
- tab-separated columns, and columns aligned with runs of spaces (PDF text).

An all-bar line (``||||``) is skipped. A second header row with fewer cells than the body
(merged header cells) is joined to its group cell with "/": ``超期工单/超期已办结``.

``normalize_text`` closes the space between a CJK character and a figure, so a tab or
space-aligned row arrives as ``观音桥街道312\\t296``: such glued first cells are split again.

:func:`unit_rows` turns every body cell into a :class:`UnitRow` (counts printed in 万 under a
``(万件)`` header are multiplied out); :func:`table_checks` compares totals rows with the sum
of the rows and stated shares/rates with their counts, reporting failures, never repairing.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import yaml

from .model import Check, Table, UnitRow
from .normalize import CJK, fullwidth_to_halfwidth, parse_cell_number, parse_percent, to_simplified

logger = logging.getLogger(__name__)

_VOCABULARY = Path(__file__).with_name("vocabulary.yml")

_EMPTY_CELLS = {"", "-", "—", "–", "/", "--", "——", "—-", "-—"}
_MAX_HEADER_CELL = 30  # longer "header cells" are prose or navigation, not column names
_MAX_SPACE_CELL = 40
_SHARE_TOLERANCE_PP = 0.05


# --- lines -------------------------------------------------------------------------


@dataclass
class _Line:
    number: int
    kind: str  # pipe, cell (one cell per line), rule (||||), tab, space, blank, other
    cells: list[str]


def _classify(number: int, raw: str) -> _Line:
    """The layout of one line and its cells."""
    text = raw.strip(" \u3000\u00a0")
    if not text.strip():
        return _Line(number, "blank", [])
    if "|" in text:
        body = text.strip()
        if set(body) <= {"|", " ", "\t"}:
            return _Line(number, "rule", [])
        start = 1 if body.startswith("|") else 0
        end = len(body) - 1 if body.endswith("|") else len(body)
        cells = [c.strip() for c in body[start:end].split("|")]
        if len(cells) == 1:
            return _Line(number, "cell" if body.endswith("|") else "other", cells)
        return _Line(number, "pipe", cells)
    if "\t" in text:
        cells = [c.strip() for c in text.rstrip().split("\t")]
        if sum(1 for c in cells if c) >= 2:
            return _Line(number, "tab", cells)
        return _Line(number, "other", [text])
    stripped = text.strip()
    if re.search(r"\S {2,}\S", stripped):
        cells = re.split(r" {2,}", stripped)
        if all(len(c) <= _MAX_SPACE_CELL for c in cells):
            return _Line(number, "space", cells)
    return _Line(number, "other", [stripped])


_FAMILY = {"pipe": "pipe", "cell": "pipe", "rule": "pipe", "tab": "tab", "space": "space"}


def _cell_kind(cell: str) -> str:
    """'empty', 'number' or 'text'."""
    if cell.strip() in _EMPTY_CELLS:
        return "empty"
    return "number" if parse_cell_number(cell) is not None else "text"


def _has_number(cells: list[str]) -> bool:
    return any(_cell_kind(c) == "number" for c in cells)


def _blocks(lines: list[_Line]) -> Iterator[list[_Line]]:
    """Runs of lines of one layout family; a blank line may sit inside a tab/space/pipe table."""
    i = 0
    while i < len(lines):
        family = _FAMILY.get(lines[i].kind)
        if family is None:
            i += 1
            continue
        block = [lines[i]]
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if _FAMILY.get(line.kind) == family:
                block.append(line)
                j += 1
                continue
            if line.kind == "blank":
                # A page break or stray blank line inside a table (seed 002): continue only
                # with a body row of the same shape as the row before it.
                k = j
                while k < len(lines) and lines[k].kind == "blank":
                    k += 1
                last = block[-1]
                if (
                    k < len(lines)
                    and lines[k].kind == last.kind
                    and last.kind in {"pipe", "tab", "space"}
                    and len(lines[k].cells) == len(last.cells)
                    and _has_number(lines[k].cells)
                    and _has_number(last.cells)
                ):
                    j = k
                    continue
            break
        yield block
        i = j


def _runs(block: list[_Line]) -> Iterator[list[_Line]]:
    """A pipe block split at rule lines and where one-cell lines and multi-cell lines alternate."""
    run: list[_Line] = []
    for line in block:
        if line.kind == "rule":
            if run:
                yield run
            run = []
            continue
        if run and (line.kind == "cell") != (run[-1].kind == "cell"):
            yield run
            run = []
        run.append(line)
    if run:
        yield run


# --- rows to a table ---------------------------------------------------------------


def _trim(row: list[str]) -> list[str]:
    """The row without trailing empty cells."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _reshape_cells(cells: list[str]) -> list[list[str]] | None:
    """Rows of a one-cell-per-line table: the smallest width whose columns keep one type."""
    for width in range(2, min(len(cells) // 2, 40) + 1):
        if len(cells) % width:
            continue
        rows = [cells[i : i + width] for i in range(0, len(cells), width)]
        header, body = rows[0], rows[1:]
        if _has_number(header) or not any(_has_number(r[1:]) for r in body):
            continue
        consistent = True
        for j in range(width):
            kinds = {_cell_kind(r[j]) for r in body} - {"empty"}
            if {"number", "text"} <= kinds:
                consistent = False
                break
        if consistent:
            return rows
    return None


_MAX_STRAY_CELLS = 4


def _reshape_run(cells: list[str]) -> tuple[int, list[list[str]]] | None:
    """Where a one-cell-per-line table starts in the run and its rows.

    A few stray one-cell lines (a navigation item, a note) may sit before or after the table.
    """
    tries = sorted(
        (
            (start, end)
            for start in range(_MAX_STRAY_CELLS + 1)
            for end in range(_MAX_STRAY_CELLS + 1)
        ),
        key=sum,
    )
    for start, end in tries:
        if len(cells) - start - end < 4:
            continue
        rows = _reshape_cells(cells[start : len(cells) - end])
        if rows is not None:
            return start, rows
    return None


_GLUED = re.compile(rf"^(.*[{CJK}])\s*([+-]?\d+(?:\.\d+)?%?)$")


def _unglue(rows: list[list[str]]) -> list[list[str]]:
    """Split 'label123' first cells back into label and figure (normalize_text closed the gap)."""
    out = []
    for row in rows:
        m = _GLUED.match(row[0]) if row else None
        out.append([m.group(1).strip(), m.group(2), *row[1:]] if m else row)
    return out


def _mostly_glued(rows: list[list[str]]) -> bool:
    glued = sum(1 for r in rows if r and _GLUED.match(r[0]))
    return bool(rows) and glued * 2 >= len(rows)


_BRACKETED = re.compile(r"\([^()]*\)")
_GROUP_WORD = re.compile(r"情况$")


def _header_core(cell: str) -> str:
    """A header cell without bracketed units and a trailing 情况/数/量: what sub-headers share."""
    core = _BRACKETED.sub("", fullwidth_to_halfwidth(cell)).strip()
    return re.sub(r"(情况|数|量)$", "", core) or core


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _group_score(group: str, members: list[str]) -> int:
    """How well these sub-headers fit under this group cell."""
    core = _header_core(group)
    score = 3 if _GROUP_WORD.search(_BRACKETED.sub("", group).strip()) else 0
    score += sum(2 for m in members if _common_prefix(core, _header_core(m)) >= 2)
    if len(members) == 1:
        score -= 1
    return score


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Ways to write total as an ordered sum of `parts` positive integers."""
    if parts == 1:
        yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _merge_header(top: list[str], subs: list[str], width: int) -> list[str] | None:
    """The header of a two-row header; None when the second row does not fit under the first."""
    k = len(subs)
    if not k or k >= width or not top or not top[0]:
        return None
    # Placeholders: an empty cell after a group cell marks its span (seed 004, d023).
    if len(top) == width and "" in top[1:]:
        spans: list[tuple[str, int]] = []
        for cell in top:
            if cell:
                spans.append((cell, 1))
            elif spans:
                spans[-1] = (spans[-1][0], spans[-1][1] + 1)
        if sum(span for _, span in spans if span > 1) == k:
            header, sub_iter = [], iter(subs)
            for cell, span in spans:
                if span == 1:
                    header.append(cell)
                else:
                    header.extend(f"{cell}/{next(sub_iter)}" for _ in range(span))
            return header
    names = [c for c in top if c]
    singles = width - k
    groups = len(names) - singles
    if groups < 1 or singles < 1 or groups > k:
        return None
    best: tuple[tuple[int, int], tuple[int, ...], tuple[int, ...]] | None = None
    tried = 0
    for positions in combinations(range(1, len(names)), groups):
        for sizes in _compositions(k, groups):
            tried += 1
            if tried > 50_000:  # a shape this ambiguous is not a two-row header
                return None
            score, start = 0, 0
            for pos, size in zip(positions, sizes, strict=True):
                score += _group_score(names[pos], subs[start : start + size])
                start += size
            key = (score, -(max(sizes) - min(sizes)))
            if best is None or key > best[0]:
                best = (key, positions, sizes)
    if best is None:
        return None
    _, positions, sizes = best
    header, start = [], 0
    size_of = dict(zip(positions, sizes, strict=True))
    for index, name in enumerate(names):
        if index in size_of:
            header.extend(f"{name}/{s}" for s in subs[start : start + size_of[index]])
            start += size_of[index]
        else:
            header.append(name)
    return header


def _rows_to_table(
    rows: list[list[str]], glued_layout: bool
) -> tuple[list[str], list[list[str]], str | None] | None:
    """Header, body rows and a caption (a one-cell first row) of a table, or None."""
    rows = [r for r in rows if any(c for c in r)]
    caption = None
    if len(rows) >= 3 and sum(1 for c in rows[0] if c) == 1 and not _has_number(rows[0]):
        if max(len(_trim(r)) for r in rows[1:]) > 2:
            caption = next(c for c in rows[0] if c)
            rows = rows[1:]
    if len(rows) < 2 or _has_number(rows[0]):
        return None
    top = rows[0]
    if any(len(c) > _MAX_HEADER_CELL for c in top):
        return None
    second = rows[1] if len(rows) >= 3 and not _has_number(rows[1]) else None
    body = rows[2:] if second is not None else rows[1:]
    if glued_layout and _mostly_glued(body):
        glued_width = max(len(_trim(r)) for r in body) + 1
        if second is not None or len(_trim(top)) >= glued_width:
            body = _unglue(body)
    body = [_trim(r) for r in body]
    body = [r for r in body if r]
    if not body or not any(_has_number(r[1:]) for r in body):
        return None
    width = max(len(r) for r in body)
    header = None
    if second is not None:
        header = _merge_header(top, [c for c in second if c], width)
        if header is None:
            body.insert(0, _trim(second))
    if header is None:
        header = _trim(top)
    width = max(width, len(header))
    if width < 2:
        return None
    header = header + [""] * (width - len(header))
    body = [r + [""] * (width - len(r)) for r in body]
    return header, body, caption


# --- titles ------------------------------------------------------------------------

_SEE_BELOW = re.compile(
    r"(?:[,，]?(?:详见|见|如|列)下表(?:所示)?|[,，]?(?:具体)?如下(?:所示)?|[,，]?见附表)$"
)
_HEADING_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.]|\(\s*[一二三四五六七八九十\d]+\s*\)|\d+[、.](?!\d))\s*"
)
_UNIT_NOTE = re.compile(r"^[(（]?单位[:：][^,，。]{0,12}[)）]?$")
_MAX_TITLE = 60


def _clean_title(line: str) -> str | None:
    """The table's name in the line before it, or None when that line is not one."""
    text = line.strip().rstrip(":：").strip()
    if not text or text.startswith("注") or "|" in text or "\t" in text:
        return None
    m = _SEE_BELOW.search(text)
    if m:
        text = re.split(r"[。;；!?,，]", text[: m.start()])[-1].strip()
        if len(text) < 3:
            return None
    elif len(text) > _MAX_TITLE or text.endswith("。"):
        return None
    text = _HEADING_NUMBER.sub("", text).strip()
    return text or None


def _title_before(raw_lines: list[str], start: int) -> str | None:
    """The nearest preceding line that names the table (blank, bar and 单位:件 lines skipped)."""
    i = start - 1
    while i >= 0:
        s = raw_lines[i].strip()
        if s and not set(s) <= {"|", " ", "\t"} and not _UNIT_NOTE.match(s):
            return _clean_title(s)
        i -= 1
    return None


# --- finding tables ------------------------------------------------------------------


def find_text_tables(text: str, document: str | None = None) -> list[Table]:
    """Tables printed in plain text (already normalised by parsers.normalize.normalize_text)."""
    raw_lines = text.split("\n")
    lines = [_classify(i, raw) for i, raw in enumerate(raw_lines)]
    tables: list[Table] = []
    for block in _blocks(lines):
        for run in _runs(block) if _FAMILY[block[0].kind] == "pipe" else [block]:
            if run[0].kind == "cell":
                reshaped = _reshape_run([line.cells[0] for line in run])
                if reshaped is None:
                    continue
                start, rows = reshaped
                run = run[start:]
                built = _rows_to_table(rows, glued_layout=False)
            else:
                built = _rows_to_table(
                    [line.cells for line in run], run[0].kind in {"tab", "space"}
                )
            if built is None:
                logger.debug("lines %d-%d: not a table", run[0].number + 1, run[-1].number + 1)
                continue
            header, body, caption = built
            title = caption or _title_before(raw_lines, run[0].number)
            tables.append(Table(title=title, header=header, rows=body, document=document))
    return tables


# --- unit rows -----------------------------------------------------------------------

_TOTAL_LABEL = re.compile(r"^(?:全[省市区县州盟旗国]|[省市区县]|总)?(?:合计|总计|共计)(?:\(.*\))?$")
_SERIAL_HEADER = re.compile(r"^(?:序号|编号|No\.?|NO\.?)$")
_RANK_HEADER = re.compile(r"(?:排名|排序|名次|位次)$")
_LABEL_HEADER = re.compile(
    r"(单位|部门|区县|县区|县\(市|地区|区域|街道|街镇|乡镇|镇街|设区市|城市|分类|类型|类别|内容|平台|名称|项目)"
)
_CJK_GAP = re.compile(rf"(?<=[{CJK}])\s+(?=[{CJK}])")


def is_total_label(label: str) -> bool:
    """True for a totals row label: 合计, 合 计, 总计, 全省合计, 全市合计."""
    return bool(_TOTAL_LABEL.match(re.sub(r"\s+", "", fullwidth_to_halfwidth(label))))


def _unit_name(cell: str) -> str:
    """The label as printed, without line-wrap spaces between CJK characters."""
    return _CJK_GAP.sub("", cell.strip())


_UNIT_BRACKETS = str.maketrans(
    {"【": "(", "〔": "(", "［": "(", "[": "(", "】": ")", "〕": ")", "］": ")", "]": ")"}
)
_UNIT_SUFFIXES = (
    ("街道办事处", "街道"),
    ("街道办", "街道"),
    ("管理委员会", "管委会"),
    ("有限责任公司", "公司"),
    ("有限公司", "公司"),
)


def unit_key(name: str) -> str:
    """Stable normalised key of a unit name, so that "县城管执法局" in September and October match.

    Rules, in order: full-width forms to ASCII and Traditional to Simplified; all whitespace
    removed; every bracket pair written as ASCII "()" (content kept); footnote marks (*, ※, △, ▲)
    at either end dropped; suffix variants unified: 街道办事处/街道办 -> 街道, 管理委员会 -> 管委会,
    有限责任公司/有限公司 -> 公司. Place prefixes (县教育局) and 人民政府 are kept as printed.
    """
    key = to_simplified(fullwidth_to_halfwidth(name)).translate(_UNIT_BRACKETS)
    key = re.sub(r"\s+", "", key).strip("*※△▲")
    for variant, unified in _UNIT_SUFFIXES:
        if key.endswith(variant):
            key = key[: -len(variant)] + unified
            break
    return key


def _header_text(header: str) -> str:
    """A header for matching: ASCII forms, no whitespace, no bracketed units."""
    return _BRACKETED.sub("", re.sub(r"\s+", "", fullwidth_to_halfwidth(header)))


def _is_rate_header(header: str) -> bool:
    """A rate, share or change column (the last part of a joined header decides)."""
    leaf = _header_text(header).split("/")[-1]
    return bool(re.search(r"(率|比)$|占比|比重|比例|同比|环比|百分比|^较上", leaf))


def _is_percent_key(key: str) -> bool:
    return key.endswith(("_rate", "_pct"))


@lru_cache(maxsize=1)
def _column_patterns() -> tuple[tuple[str, str], ...]:
    """(pattern, column key) pairs from vocabulary.yml, longest patterns first."""
    data = yaml.safe_load(_VOCABULARY.read_text(encoding="utf-8"))
    pairs = [
        (_header_text(str(p)), key)
        for key, patterns in data["column_keys"].items()
        for p in patterns
    ]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def column_key(header: str) -> str | None:
    """Canonical column key of a column header (vocabulary column_keys), or None.

    The longest vocabulary pattern found in the header wins, a match in the last part of a
    joined header ("超期工单/超期已办结") before one in its group; a rate/share/change header
    takes only a *_rate/*_pct key and a count header never does.
    """
    text = _header_text(header)
    if not text:
        return None
    leaf = text.split("/")[-1]
    rate = _is_rate_header(header)
    best: tuple[tuple[bool, int], str] | None = None
    for pattern, key in _column_patterns():
        if pattern and pattern in text and _is_percent_key(key) == rate:
            score = (pattern in leaf, len(pattern))
            if best is None or score > best[0]:
                best = (score, key)
    return best[1] if best else None


_CHANGE_WORD = re.compile(r"(上升|增长|提高|增加|下降|减少|降低)([+-]?\d+(?:\.\d+)?%)")
_TEN_THOUSAND = re.compile(r"万(?:件|次|个|人次|宗|条|元)?\)|万件|万次|万个")


def _multiplier(header: str, text: str) -> int:
    """10000 for a count printed in 万 where only the header says so."""
    if "%" in text or "万" in text:
        return 1
    return 10_000 if _TEN_THOUSAND.search(fullwidth_to_halfwidth(header)) else 1


def _cell_value(text: str, header: str) -> float | int | None:
    """A cell's figure: percent cells as float percent, counts in 万 multiplied out."""
    value = parse_cell_number(text)
    if value is None:
        m = _CHANGE_WORD.fullmatch(re.sub(r"\s+", "", text))
        if m:
            sign = -1 if m.group(1) in {"下降", "减少", "降低"} else 1
            return sign * parse_percent(m.group(2))
        return None
    mult = _multiplier(header, text)
    if mult != 1:
        return int(round(value * mult))
    return value


def _label_column(header: list[str]) -> tuple[int, set[int]]:
    """The row-label column and the serial-number columns that carry no values."""
    texts = [_header_text(h) for h in header]
    serial = {j for j, h in enumerate(texts) if _SERIAL_HEADER.match(h)}
    start = 0
    while start < len(texts) - 1 and (start in serial or _RANK_HEADER.search(texts[start] or "-")):
        start += 1
    for j in range(start, min(start + 3, len(texts))):
        h = texts[j]
        if _LABEL_HEADER.search(h) and not re.search(r"(率|数|量|比)$", h):
            return j, serial
    return start, serial


def unit_rows(tables: list[Table]) -> list[UnitRow]:
    """Every body cell of every table as a long row (see model.UnitRow).

    The label column is the first column after leading 序号/排名 columns, or a nearby
    column headed 单位/区县/部门/分类/类型…; 序号 cells, empty cells and rows without a label
    give no rows.
    """
    out: list[UnitRow] = []
    for table_index, table in enumerate(tables):
        label_col, serial = _label_column(table.header)
        for row_index, row in enumerate(table.rows):
            if label_col >= len(row):
                continue
            name = _unit_name(row[label_col])
            if not name:
                continue
            key, total = unit_key(name), is_total_label(name)
            for j, cell in enumerate(row):
                text = cell.strip()
                if j == label_col or j in serial or not text:
                    continue
                header = table.header[j] if j < len(table.header) else ""
                out.append(
                    UnitRow(
                        table_index=table_index,
                        table_title=table.title,
                        row_index=row_index,
                        unit_name=name,
                        unit_key=key,
                        column_header=header,
                        column_key=column_key(header) if header else None,
                        value=_cell_value(text, header),
                        text=text,
                        is_total=total,
                        document=table.document,
                    )
                )
    return out


# --- checks --------------------------------------------------------------------------

_NOT_SUMMED = re.compile(r"(排名|排序|名次|位次|序号|得分|分值|评分|指数)$")


@dataclass
class _Column:
    header: str
    key: str | None
    cells: dict[int, UnitRow]  # row_index -> row


def _columns(rows: list[UnitRow]) -> list[_Column]:
    """A table's unit rows by column, in column order (repeated headers kept apart)."""
    columns: dict[tuple[str, int], _Column] = {}
    seen: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        nth = seen[row.row_index][row.column_header]
        seen[row.row_index][row.column_header] += 1
        column = columns.setdefault(
            (row.column_header, nth), _Column(row.column_header, row.column_key, {})
        )
        column.cells[row.row_index] = row
    return list(columns.values())


def _decimals(text: str) -> int:
    m = re.search(r"\.(\d+)", text)
    return len(m.group(1)) if m else 0


def _fmt(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _is_count_column(column: _Column) -> bool:
    if not column.header or _is_rate_header(column.header):
        return False
    if _NOT_SUMMED.search(_header_text(column.header).split("/")[-1]):
        return False
    return not any("%" in r.text or "‰" in r.text for r in column.cells.values())


def _total_check(name: str, column: _Column, body: list[int], total_row: int) -> Check | None:
    """The totals row's cell against the sum of the body rows' cells."""
    total_cell = column.cells.get(total_row)
    if total_cell is None or total_cell.value is None:
        return None
    values = [column.cells[i].value for i in body if i in column.cells]
    numbers = [v for v in values if isinstance(v, int | float)]
    if not numbers:
        return None
    computed = sum(numbers)
    texts = [column.cells[i].text for i in body if i in column.cells] + [total_cell.text]
    decimals = max(_decimals(t) for t in texts)
    mult = _multiplier(column.header, total_cell.text)
    # Each printed figure is rounded to its last digit: n rows and the total may each be off by half.
    tolerance = 0.5 * 10**-decimals * mult * (len(numbers) + 1) if decimals or mult > 1 else 0
    stated = total_cell.value
    ok = abs(computed - stated) <= tolerance + 1e-9
    if isinstance(computed, float):
        computed = round(computed, 6)
    # The message speaks in the printed unit (万 where the header says so); the numbers are counts.
    printed_sum = _fmt(round(computed / mult, decimals) if mult > 1 else computed)
    label = f"{total_cell.unit_name} row"
    if ok:
        message = f"{label} {total_cell.text} equals the sum of {len(numbers)} rows ({printed_sum})"
    else:
        difference = round((stated - computed) / mult, max(decimals, 6))
        message = (
            f"{label} says {total_cell.text} but the {len(numbers)} rows above sum to {printed_sum}"
            f" (difference {_fmt(difference)}); kept as printed"
        )
    return Check(
        check=f"table_total:{name}:{column.header}",
        status="pass" if ok else "fail",
        severity="info" if ok else "warning",
        message=message,
        expected=float(computed),
        actual=float(stated),
    )


def _share_check(
    name: str, share: _Column, count: _Column, body: list[int], total_row: int
) -> Check | None:
    """Stated shares against count / total count * 100."""
    total_cell = count.cells.get(total_row)
    if total_cell is None or not isinstance(total_cell.value, int | float) or total_cell.value <= 0:
        return None
    compared, mismatches = 0, []
    for i in body:
        c, s = count.cells.get(i), share.cells.get(i)
        if (
            c is None
            or s is None
            or not isinstance(c.value, int | float)
            or not isinstance(s.value, float | int)
        ):
            continue
        compared += 1
        recomputed = round(c.value / total_cell.value * 100, 4)
        if abs(recomputed - s.value) > _SHARE_TOLERANCE_PP + 1e-9:
            mismatches.append((c.unit_name, s.value, recomputed))
    if not compared:
        return None
    return _summary_check(
        f"table_share:{name}:{share.header}",
        compared,
        mismatches,
        f"{share.header} = {count.header} / {total_cell.unit_name} {total_cell.text} x 100",
    )


# A stated rate and the counts it is computed from: rate key -> (numerator, denominators).
_RATE_FORMULAS = {
    "completion_rate": ("completed", ("assigned",)),
    "on_time_completion_rate": ("on_time_completed", ("assigned", "completed")),
}


def _rate_check(
    name: str, rate: _Column, by_key: dict[str, _Column], rows: list[int]
) -> Check | None:
    """A stated rate against numerator / denominator * 100 in every row that has all three."""
    numerator_key, denominator_keys = _RATE_FORMULAS[rate.key or ""]
    numerator = by_key.get(numerator_key)
    denominators = [by_key[k] for k in denominator_keys if k in by_key]
    if numerator is None or not denominators:
        return None
    compared, mismatches = 0, []
    for i in rows:
        r, n = rate.cells.get(i), numerator.cells.get(i)
        if (
            r is None
            or n is None
            or not isinstance(r.value, int | float)
            or not isinstance(n.value, int | float)
        ):
            continue
        candidates = []
        for d in denominators:
            cell = d.cells.get(i)
            if cell is not None and isinstance(cell.value, int | float) and cell.value > 0:
                candidates.append(round(n.value / cell.value * 100, 4))
        if not candidates:
            continue
        compared += 1
        if all(abs(c - r.value) > _SHARE_TOLERANCE_PP + 1e-9 for c in candidates):
            mismatches.append((r.unit_name, r.value, candidates[0]))
    if not compared:
        return None
    formula = f"{numerator.header} / {denominators[0].header} x 100"
    return _summary_check(f"table_rate:{name}:{rate.header}", compared, mismatches, formula)


def _summary_check(
    check: str, compared: int, mismatches: list[tuple[str, float, float]], formula: str
) -> Check:
    if not mismatches:
        return Check(
            check=check,
            status="pass",
            severity="info",
            message=f"{compared} rows agree with {formula} within {_SHARE_TOLERANCE_PP} pp",
        )
    listed = "; ".join(
        f"{unit} {_fmt(stated)} vs {_fmt(recomputed)}" for unit, stated, recomputed in mismatches
    )
    unit, stated, recomputed = mismatches[0]
    return Check(
        check=check,
        status="fail",
        severity="warning",
        message=(
            f"{len(mismatches)} of {compared} rows differ from {formula} by more than "
            f"{_SHARE_TOLERANCE_PP} pp (stated vs recomputed): {listed}; kept as printed"
        ),
        expected=float(recomputed),
        actual=float(stated),
    )


def table_checks(tables: list[Table], rows: list[UnitRow]) -> list[Check]:
    """Totals row against the sum of the rows per numeric column; stated rates/shares against their counts where both are present.

    ``expected`` is what the other figures imply (the sum of the rows, the recomputed share
    or rate) and ``actual`` the figure as printed. A failure is a warning, never a repair.
    """
    by_table: dict[int, list[UnitRow]] = defaultdict(list)
    for row in rows:
        by_table[row.table_index].append(row)
    checks: list[Check] = []
    for index, table in enumerate(tables):
        table_rows = by_table.get(index, [])
        if not table_rows:
            continue
        name = table.title or str(index)
        totals = sorted({r.row_index for r in table_rows if r.is_total})
        body = sorted(
            {r.row_index for r in table_rows if not r.is_total and not _is_subtotal(r.unit_name)}
        )
        columns = _columns(table_rows)
        has_subtotals = any(_is_subtotal(r.unit_name) for r in table_rows)
        if totals and not has_subtotals:
            total_row = totals[-1]
            for column in columns:
                if _is_count_column(column):
                    check = _total_check(name, column, body, total_row)
                    if check:
                        checks.append(check)
            for position, column in enumerate(columns):
                if column.key != "share_pct" and not re.search(
                    r"占比|比重", _header_text(column.header)
                ):
                    continue
                count = next((c for c in reversed(columns[:position]) if _is_count_column(c)), None)
                if count is not None:
                    check = _share_check(name, column, count, body, total_row)
                    if check:
                        checks.append(check)
        by_key = {c.key: c for c in reversed(columns) if c.key}
        for column in columns:
            if column.key in _RATE_FORMULAS:
                check = _rate_check(name, column, by_key, body + totals)
                if check:
                    checks.append(check)
    return checks


def _is_subtotal(label: str) -> bool:
    return re.sub(r"\s+", "", label).endswith("小计")
