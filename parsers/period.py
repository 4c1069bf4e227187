"""What period a bulletin reports on, when it was published, and its issue number.

All functions read text already passed through ``normalize_text`` (Simplified
script, half-width digits and punctuation, no spaces inside figures).

The period is what the bulletin reports on, not when it was published: the
title and the opening lines are read first, comparison periods (去年同期,
比上月, 1-6月累计 further down) are skipped, and a period printed without a
year takes the year that puts it just before the publication date.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import ParseError
from .model import Period
from .normalize import chinese_numeral_to_int

logger = logging.getLogger(__name__)

# --- dates -------------------------------------------------------------------

_MIN_YEAR, _MAX_YEAR = 1990, 2100
# How long after its end a period may be published and still be "this year's": a "12月份"
# report published on 2021-01-11 is 2020-12, a "6月份" one published 2021-07-09 is 2021-06.
_PUBLICATION_SLACK = timedelta(days=31)

_CN_DIGIT = "〇零一二三四五六七八九"
_CN_SMALL = "一二三四五六七八九十"
_CN_YEAR = re.compile(rf"(?<![{_CN_DIGIT}十])([{_CN_DIGIT}]{{4}})(?=\s*年)")
_CN_MONTH_AFTER_YEAR = re.compile(rf"(?<=\d年)([{_CN_SMALL}]{{1,3}})(?=月)")
_CN_DAY_AFTER_MONTH = re.compile(rf"(?<=\d月)([{_CN_SMALL}]{{1,3}})(?=[日号])")
_CN_MONTH_FEN = re.compile(rf"(?<![{_CN_SMALL}〇零两第])([{_CN_SMALL}]{{1,3}})(?=月份)")

_DATE_CN = re.compile(r"(?<!\d)(\d{4})年(\d{1,2})月(\d{1,2})[日号]")
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d.])")
_DATE_DMY = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.])")  # 08.01.2021


def _numeral_sub(pattern: re.Pattern[str], low: int, high: int, text: str) -> str:
    """Replace Chinese numerals matched by ``pattern`` with digits when the value is in range."""

    def repl(m: re.Match[str]) -> str:
        try:
            value = chinese_numeral_to_int(m.group(1))
        except ParseError:
            return m.group(0)
        return str(value) if low <= value <= high else m.group(0)

    return pattern.sub(repl, text)


def _arabicise_dates(text: str) -> str:
    """Dates in Chinese numerals with digits: 二〇二二年八月二十二日 -> 2022年8月22日."""
    text = _numeral_sub(_CN_YEAR, _MIN_YEAR, _MAX_YEAR, text)
    text = _numeral_sub(_CN_MONTH_AFTER_YEAR, 1, 12, text)
    text = _numeral_sub(_CN_DAY_AFTER_MONTH, 1, 31, text)
    return _numeral_sub(_CN_MONTH_FEN, 1, 12, text)


def _make_date(year: int, month: int, day: int) -> date | None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _dates_in(text: str) -> list[tuple[int, int, date]]:
    """All full dates in ``text`` as (start, end, date), in order of position."""
    found: list[tuple[int, int, date]] = []
    for pattern, order in ((_DATE_CN, "ymd"), (_DATE_ISO, "ymd"), (_DATE_DMY, "dmy")):
        for m in pattern.finditer(text):
            a, b, c = (int(g) for g in m.groups())
            value = _make_date(a, b, c) if order == "ymd" else _make_date(c, b, a)
            if value is not None:
                found.append((m.start(), m.end(), value))
    found.sort(key=lambda item: item[0])
    return found


def _date_at_start(text: str) -> date | None:
    """The date ``text`` begins with (after a colon or spaces), if any."""
    stripped = text.lstrip(" \t:")
    offset = len(text) - len(stripped)
    for start, _end, value in _dates_in(stripped[:40]):
        if start == 0 and offset <= 6:
            return value
    return None


# --- publication date ----------------------------------------------------------

_META_DATE_KEYS = (
    "pubdate",
    "publishdate",
    "publishtime",
    "firstpublishedtime",
    "article:published_time",
    "published_time",
    "dc.date",
)  # not a bare "date": in HTTP headers that is the time of fetching

# Labels in order of trust. 成文日期 (date of writing) only when nothing else is printed.
_PUBLISHED_LABELS = (
    re.compile(r"(?:发布|发稿|发表|公开|公布)(?:时间|日期)|发布于"),
    re.compile(r"印发(?:时间|日期)"),
    re.compile(r"(?:^|(?<=[\s|】\]]))(?:日期|时间)(?=\s*:)", re.MULTILINE),
    re.compile(r"成文(?:时间|日期)"),
)
_HEAD_LINES = 12  # page furniture and letterhead live in the first lines
# A line that is only a date, possibly after the issuing office: "2015年7月13日",
# "衡东县行政审批服务局 2020年10月09日 印发", "醴陵市政务服务中心      2024年1月23日"
# (normalisation drops the spaces between the office and the date).
_DATELINE = re.compile(
    r"^\s*(?:[^\s,。;:]{2,40}?"
    r"(?:局|中心|办公室|办|厅|委员会|委|政府|小组|处|科|站|所|部|队|会|室)\s*)?"
    r"(?P<date>\d{4}年\d{1,2}月\d{1,2}[日号]|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"\s*(?:印发|发布|成文)?\s*$"
)


_RANGE_SEP_AFTER = re.compile(r"\s*(?:至|到|—+|–|-|~)\s*\d")
_RANGE_SEP_BEFORE = re.compile(r"(?:至|到|—+|–|-|~)\s*$")


def _in_range(line: str, start: int, end: int) -> bool:
    """Whether the date at line[start:end] is one end of a range ("2020.12.21-2021.01.20")."""
    return bool(_RANGE_SEP_AFTER.match(line, end) or _RANGE_SEP_BEFORE.search(line[:start]))


def _non_empty_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def parse_published_date(text: str, meta: dict[str, str] | None = None) -> str | None:
    """ISO date the bulletin was published: meta PubDate, a labelled line, else a dateline."""
    if meta:
        lowered = {key.lower(): value for key, value in meta.items()}
        for key in _META_DATE_KEYS:
            value = lowered.get(key)
            if value:
                found = _dates_in(_arabicise_dates(value))
                if found:
                    return found[0][2].isoformat()
    prepared = _arabicise_dates(text)
    for label in _PUBLISHED_LABELS[:3]:
        for m in label.finditer(prepared):
            value = _date_at_start(prepared[m.end() : m.end() + 50])
            if value is not None:
                return value.isoformat()
    lines = _non_empty_lines(prepared)
    # A CMS page prints its date with digits near the top ("2020-12-13 岳阳市人民政府").
    for line in lines[:_HEAD_LINES]:
        found = [
            d
            for d in _dates_in(line)
            if _DATE_ISO.match(line, d[0]) and not _in_range(line, d[0], d[1])
        ]
        if found:
            return found[0][2].isoformat()
    for line in lines:
        m = _DATELINE.match(line)
        if m:
            found = _dates_in(m.group("date"))
            if found:
                return found[0][2].isoformat()
    for m in _PUBLISHED_LABELS[3].finditer(prepared):
        value = _date_at_start(prepared[m.end() : m.end() + 50])
        if value is not None:
            return value.isoformat()
    return None


# --- issue number --------------------------------------------------------------

_ISSUE = re.compile(
    r"(?:[〔\[(【]\s*\d{4}\s*[〕\])】]\s*|\d{4}\s*年\s*)?第\s*\d{1,4}\s*期"
    r"(?:\s*\(\s*总第\s*\d+\s*期\s*\))?"
    r"|总第\s*\d+\s*期"
)
_ISSUE_HEAD_LINES = 15


def parse_issue_number(text: str) -> str | None:
    """Issue number as printed, spaces dropped: "〔2020〕第9期", "2024年第1期(总第47期)"."""
    for line in _non_empty_lines(text)[:_ISSUE_HEAD_LINES]:
        m = _ISSUE.search(line)
        # Closing a letterhead or title line, not inside a sentence ("举办第3期培训班…").
        if m and re.match(r"(?:\s|$|[)】\]])", line[m.end() :]):
            return re.sub(r"\s+", "", m.group(0))
    return None


# --- period --------------------------------------------------------------------

_SEP = r"\s*(?:至|到|—+|–|-|~)\s*"
_CN_DAY_A = r"(?:(?P<ay>\d{4})年)?(?P<am>\d{1,2})月(?P<ad>\d{1,2})[日号]"
_CN_DAY_B = r"(?:(?:(?P<by>\d{4})年)?(?P<bm>\d{1,2})月)?(?P<bd>\d{1,2})[日号]"
_NUM_DAY_A = r"(?P<ay>\d{4})[-/.](?P<am>\d{1,2})[-/.](?P<ad>\d{1,2})"
_NUM_DAY_B = r"(?:(?P<by>\d{4})[-/.])?(?P<bm>\d{1,2})[-/.](?P<bd>\d{1,2})"

_RANGE_CN = re.compile(rf"(?<!\d){_CN_DAY_A}{_SEP}{_CN_DAY_B}")
_RANGE_NUM = re.compile(rf"(?<!\d){_NUM_DAY_A}{_SEP}{_NUM_DAY_B}(?![\d:])")

_STAT_LABEL = re.compile(r"统计(?:时间|周期|区间|时段|日期|范围)\s*(?:为|是)?\s*:?\s*(?:从|自)?\s*")

_Y = r"(?:(?P<y>\d{4})年)?"
# After 月 a digit starts a day ("3月12日") unless it is the hotline's name ("3月12345热线").
_NO_DAY_AFTER = r"(?!(?!12345)\d|[上中下]旬)"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "week": re.compile(rf"{_Y}第(?P<n>\d{{1,2}})周(?![年岁])"),
    "month_range": re.compile(
        rf"{_Y}(?<![\d.])(?P<m1>\d{{1,2}})(?:月份?)?{_SEP}(?:(?P<y2>\d{{4}})年)?"
        rf"(?P<m2>\d{{1,2}})月份?{_NO_DAY_AFTER}"
    ),
    "xun": re.compile(rf"{_Y}(?<![\d.])(?P<m>\d{{1,2}})月份?(?P<x>[上中下])旬"),
    "first_quarters": re.compile(rf"{_Y}前(?P<q>[二两三2-3])(?:个)?季度"),
    "quarter": re.compile(rf"{_Y}(?:第)?(?P<q>[一二三四1-4])季度"),
    "half": re.compile(rf"{_Y}(?P<h>[上下])半年"),
    "month": re.compile(rf"{_Y}(?<![\d.])(?P<m>\d{{1,2}})月份?{_NO_DAY_AFTER}"),
    "year": re.compile(
        r"(?<!\d)(?P<y>\d{4})年(?:度)?"
        # not when a month, an issue (第N期), a finer period, a comparison or a plan follows
        r"(?!\d{1,2}(?:月|\s*[-—–~至到])|\s*第|[一二三四1-4]季|[上下]半年|前|同期|以来|底|末|初"
        r"|至今|为|工作安排|工作计划|工作目标|目标|计划|重点)"
    ),
    "relative": re.compile(r"(?P<rel>上个?月|上周|上季度|去年|上年)(?!度)"),
}
# Longer and more specific expressions win when two start at the same place.
_KIND_ORDER = ("range", "week", "month_range", "xun", "first_quarters", "quarter", "half",
               "month", "year", "relative")  # fmt: skip

_COMPARISON_BEFORE = re.compile(r"(?:比|较|与|同|跟|对比|相比|环比|同比|截至|截止|自|从|超过)$")
_COMPARISON_AFTER = re.compile(r"^(?:同期|相比|以来|底|末|初|起|止|至今|为止|基数|结转|累计|平均)")
_RELATIVE_OK_BEFORE = re.compile(r"(?:^|[:。;,\s])$")
_WEEK_CUE = re.compile(r"周报|第\d{1,2}周|本周|上周")
_HOLIDAY_CUE = re.compile(r"春节|国庆|五一|劳动节|中秋|元旦|清明|端午|双节|假期|黄金周|小长假|旬")
_QUARTER_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "两": 2, "1": 1, "2": 2, "3": 3, "4": 4}
_TITLE_ZONE_LINES = 8


@dataclass
class _Context:
    published: date | None
    fallback_year: int | None
    week_cue: bool  # 周报, 第N周 or 本周 near the top
    holiday_cue: bool  # a holiday or ten-day (旬) report, named in the title zone


@dataclass
class _Candidate:
    kind: str
    start: int
    end: int
    groups: dict[str, str | None]
    line: str
    following: str = ""  # the next lines, where a week number's dates may be printed


def _year_for(build: Callable[[int], tuple[date, date]], ctx: _Context) -> int | None:
    """The year that puts a period printed without one just before the publication date."""
    if ctx.published is not None:
        pub = ctx.published
        for year in (pub.year, pub.year - 1):
            try:
                _start, end = build(year)
            except ValueError:
                continue
            if end <= pub + _PUBLICATION_SLACK:
                return year
        return pub.year - 1
    return ctx.fallback_year


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    return date(year, first_month, 1), _month_end(year, first_month + 2)


def _classify(start: date, end: date, week: bool = False) -> Period:
    """The Period of a date range: a calendar month/quarter/half/year when it is one."""
    if end < start:
        raise ParseError(f"period ends before it starts: {start} .. {end}")
    iso_start, iso_end = start.isoformat(), end.isoformat()
    if start.day == 1 and end == _month_end(start.year, start.month):
        return Period("month", iso_start, iso_end, period_label=f"{start:%Y-%m}")
    if start.day == 1 and start.year == end.year and end == _month_end(end.year, end.month):
        if start.month % 3 == 1 and end.month == start.month + 2:
            label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
            return Period("quarter", iso_start, iso_end, period_label=label)
        if (start.month, end.month) in ((1, 6), (7, 12)):
            label = f"{start.year}-H{1 if start.month == 1 else 2}"
            return Period("half_year", iso_start, iso_end, period_label=label)
        if (start.month, end.month) == (1, 12):
            return Period("year", iso_start, iso_end, period_label=str(start.year))
    if week:
        iso_year, iso_week, _ = start.isocalendar()
        return Period("week", iso_start, iso_end, period_label=f"{iso_year}-W{iso_week:02d}")
    return Period("other", iso_start, iso_end, period_label=f"{iso_start}/{iso_end}")


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _range_dates(groups: dict[str, str | None], ctx: _Context) -> tuple[date, date] | None:
    """Start and end of a printed date range, years inferred where not printed."""
    am, ad, bd = _int(groups["am"]), _int(groups["ad"]), _int(groups["bd"])
    ay, by = _int(groups.get("ay")), _int(groups.get("by"))
    bm = _int(groups.get("bm")) or am
    if am is None or ad is None or bd is None or bm is None:
        return None
    crosses = (bm, bd) < (am, ad)  # "12月30日至1月5日"
    if by is None and ay is not None:
        by = ay + 1 if crosses else ay
    if by is None:

        def build(year: int) -> tuple[date, date]:
            return date(year - 1 if crosses else year, am, ad), date(year, bm, bd)

        by = _year_for(build, ctx)
        if by is None:
            return None
    if ay is None:
        ay = by - 1 if crosses else by
    start, end = _make_date(ay, am, ad), _make_date(by, bm, bd)
    if start is None or end is None or end < start:
        return None
    return start, end


def _holiday_near(line: str, position: int) -> bool:
    return bool(_HOLIDAY_CUE.search(line[max(0, position - 30) : position]))


def _with_week_year(
    groups: dict[str, str | None], year: int | None, number: int
) -> dict[str, str | None]:
    """A week's dates printed without a year take the week's printed year: the start's for a
    late week ("2020年第53周(12月28日—1月3日)"), the end's for an early one ("2025年第1周(12月30日…")."""
    if year is None or groups.get("ay") or groups.get("by"):
        return groups
    return {**groups, ("ay" if number >= 27 else "by"): str(year)}


def _week_range_after(
    ctx: _Context, line: str, end: int, following: str, year: int | None = None, number: int = 0
) -> tuple[date, date] | None:
    """Dates printed right after a week number: "第15周(4月7日至4月13日)", or on the next lines."""
    after = line[end:]
    m = _RANGE_CN.search(after) or _RANGE_NUM.search(after)
    if m and m.start() <= 3:
        return _range_dates(_with_week_year(m.groupdict(), year, number), ctx)
    for next_line in following.split("\n")[:2]:
        m = _RANGE_CN.search(next_line) or _RANGE_NUM.search(next_line)
        dates = _range_dates(_with_week_year(m.groupdict(), year, number), ctx) if m else None
        if dates and 5 <= (dates[1] - dates[0]).days + 1 <= 8:
            return dates
    return None


def _resolve(cand: _Candidate, ctx: _Context, year: int | None = None) -> Period | None:
    """The Period a candidate expression stands for, or None when it cannot be dated."""
    g = cand.groups
    printed_years = (_int(g.get("y")), _int(g.get("y2")), year)
    if any(v is not None and not _MIN_YEAR <= v <= _MAX_YEAR for v in printed_years):
        return None  # "9999年12-1月": no period of this archive (and no date past year 9999)
    y = _int(g.get("y")) or year
    kind = cand.kind
    if kind == "range":
        dates = _range_dates({**g, "ay": g.get("ay") or (str(year) if year else None)}, ctx)
        if dates is None:
            return None
        days = (dates[1] - dates[0]).days + 1
        if _holiday_near(cand.line, cand.start):  # "春节假期(2月10日至2月17日)"
            week = False
        elif ctx.week_cue and 5 <= days <= 8:  # a weekly, even one numbering its weeks its own way
            week = True
        elif ctx.holiday_cue:
            week = False
        else:
            week = days == 7 and dates[0].weekday() == 0
        return _classify(*dates, week=week)
    if kind == "week":
        number = int(g["n"] or 0)
        dates = _week_range_after(ctx, cand.line, cand.end, cand.following, y, number)
        if dates is not None:
            return _classify(*dates, week=True)
        if not 1 <= number <= 53:
            return None

        def build_week(yr: int) -> tuple[date, date]:
            first = date.fromisocalendar(yr, number, 1)
            return first, first + timedelta(days=6)

        y = y or _year_for(build_week, ctx)
        if y is None:
            return None
        try:
            return _classify(*build_week(y), week=True)
        except ValueError:
            return None
    if kind == "month_range":
        m1, m2 = int(g["m1"] or 0), int(g["m2"] or 0)
        if not (1 <= m1 <= 12 and 1 <= m2 <= 12) or m1 == m2:
            return None

        def build_months(yr: int) -> tuple[date, date]:
            return date(yr, m1, 1), _month_end(yr + (1 if m2 < m1 else 0), m2)

        y = y or _int(g.get("y2")) or _year_for(build_months, ctx)
        return _classify(*build_months(y)) if y else None
    if kind == "xun":
        m = int(g["m"] or 0)
        if not 1 <= m <= 12:
            return None
        first_day, last_day = {"上": (1, 10), "中": (11, 20)}.get(g["x"] or "", (21, 0))

        def build_xun(yr: int) -> tuple[date, date]:
            end = date(yr, m, last_day) if last_day else _month_end(yr, m)
            return date(yr, m, first_day), end

        y = y or _year_for(build_xun, ctx)
        return _classify(*build_xun(y)) if y else None
    if kind in ("quarter", "first_quarters"):
        q = _QUARTER_NUM[g["q"] or "1"]

        def build_quarter(yr: int) -> tuple[date, date]:
            first, last = _quarter_bounds(yr, q)
            return (date(yr, 1, 1) if kind == "first_quarters" else first), last

        y = y or _year_for(build_quarter, ctx)
        return _classify(*build_quarter(y)) if y else None
    if kind == "half":
        first_month = 1 if g["h"] == "上" else 7

        def build_half(yr: int) -> tuple[date, date]:
            return date(yr, first_month, 1), _month_end(yr, first_month + 5)

        y = y or _year_for(build_half, ctx)
        return _classify(*build_half(y)) if y else None
    if kind == "month":
        m = int(g["m"] or 0)
        if not 1 <= m <= 12:
            return None

        def build_month(yr: int) -> tuple[date, date]:
            return date(yr, m, 1), _month_end(yr, m)

        y = y or _year_for(build_month, ctx)
        return _classify(*build_month(y)) if y else None
    if kind == "year":
        return _classify(date(y, 1, 1), date(y, 12, 31)) if y else None
    if kind == "relative" and ctx.published is not None:
        pub, rel = ctx.published, g["rel"] or ""
        if rel in ("上月", "上个月"):
            last = pub.replace(day=1) - timedelta(days=1)
            return _classify(last.replace(day=1), last)
        if rel == "上周":
            monday = pub - timedelta(days=pub.weekday() + 7)
            return _classify(monday, monday + timedelta(days=6), week=True)
        if rel == "上季度":
            quarter = (pub.month - 1) // 3 + 1
            year_of = pub.year if quarter > 1 else pub.year - 1
            return _classify(*_quarter_bounds(year_of, quarter - 1 if quarter > 1 else 4))
        return _classify(date(pub.year - 1, 1, 1), date(pub.year - 1, 12, 31))
    return None


def _candidates(line: str, in_title_zone: bool, following: str) -> list[_Candidate]:
    """Period expressions in one line, leftmost first, comparisons left out."""
    found: list[_Candidate] = []
    for pattern in (_RANGE_CN, _RANGE_NUM):
        for m in pattern.finditer(line):
            found.append(_Candidate("range", m.start(), m.end(), m.groupdict(), line))
    for kind, pattern in _PATTERNS.items():
        for m in pattern.finditer(line):
            found.append(_Candidate(kind, m.start(), m.end(), m.groupdict(), line, following))
    kept = []
    for cand in found:
        before, after = line[max(0, cand.start - 4) : cand.start], line[cand.end :]
        if _COMPARISON_BEFORE.search(before) or _COMPARISON_AFTER.match(after):
            continue
        if cand.kind == "relative" and not (
            in_title_zone or (_RELATIVE_OK_BEFORE.search(before) and after[:1] in (",", ""))
        ):
            continue
        # A bare year is the period only in a title, or opening a body sentence ("2022年,全市…").
        if cand.kind == "year" and not in_title_zone:
            if cand.start > 0 or not re.match(r"(?:度)?(?:,|全年|全市|全省|全区|全县)", after):
                continue
        kept.append(cand)
    kept.sort(key=lambda c: (c.start, -(c.end - c.start), _KIND_ORDER.index(c.kind)))
    return kept


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    """Blank out matches (same length, so positions stay put)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _stat_window(text: str, ctx: _Context, period: Period) -> tuple[str, str] | None:
    """The statistics window ("统计时间为2020年12月21日至2021年1月20日"), when stated."""
    for label in _STAT_LABEL.finditer(text):
        tail = text[label.end() : label.end() + 60]
        m = _RANGE_CN.match(tail) or _RANGE_NUM.match(tail)
        if not m:
            continue
        groups = m.groupdict()
        anchor_ctx = ctx
        if period.period_end and not groups.get("ay") and not groups.get("by"):
            # A window printed without years sits around the period's end.
            period_end = date.fromisoformat(period.period_end)
            anchor_ctx = _Context(
                published=period_end,
                fallback_year=period_end.year,
                week_cue=False,
                holiday_cue=False,
            )
        dates = _range_dates(groups, anchor_ctx)
        if dates:
            return dates[0].isoformat(), dates[1].isoformat()
    return None


def _bracketed_window(cand: _Candidate, ctx: _Context, period: Period) -> tuple[str, str] | None:
    """Dates in brackets right after the period that differ from it: "1月份(12月21日至1月20日)"."""
    if cand.kind in ("range", "week") or period.period_end is None:
        return None
    m = re.compile(r"\s*\(\s*").match(cand.line, cand.end)
    if not m:
        return None
    found = _RANGE_CN.match(cand.line, m.end()) or _RANGE_NUM.match(cand.line, m.end())
    if not found:
        return None
    period_end = date.fromisoformat(period.period_end)
    anchor_ctx = _Context(
        published=period_end, fallback_year=period_end.year, week_cue=False, holiday_cue=False
    )
    dates = _range_dates(found.groupdict(), anchor_ctx)
    if dates is None:
        return None
    window = dates[0].isoformat(), dates[1].isoformat()
    return None if window == (period.period_start, period.period_end) else window


def _stat_spans(text: str) -> str:
    """The text with statistics windows blanked out, so they are not read as the period."""
    out = text
    for label in _STAT_LABEL.finditer(text):
        tail = text[label.end() : label.end() + 60]
        m = _RANGE_CN.match(tail) or _RANGE_NUM.match(tail)
        if m:
            start, end = label.start(), label.end() + m.end()
            out = out[:start] + " " * (end - start) + out[end:]
    return out


def _fallback_year(text: str) -> int | None:
    """A year printed anywhere (issue number, dates), for when no publication date is known."""
    m = re.search(r"(?<!\d)(\d{4})\s*(?:年|[〕\]】)])", text)
    if m and _MIN_YEAR <= int(m.group(1)) <= _MAX_YEAR:
        return int(m.group(1))
    return None


def parse_period(text: str, published_date: str | None = None, title: str | None = None) -> Period:
    """The period the bulletin reports on (type, start, end, label) and the statistics window."""
    if published_date is None:
        published_date = parse_published_date(text)
    try:
        published = date.fromisoformat(published_date) if published_date else None
    except ValueError:
        raise ParseError(f"published_date is not an ISO date: {published_date!r}") from None
    if published is not None and not _MIN_YEAR <= published.year <= _MAX_YEAR:
        # Periods are worked out back from it ("上月"): year 1 has no month before it.
        raise ParseError(f"published_date out of range {_MIN_YEAR}-{_MAX_YEAR}: {published_date}")
    prepared = _arabicise_dates(text)
    title_zone = "\n".join([title or "", *_non_empty_lines(prepared)[:_TITLE_ZONE_LINES]])
    ctx = _Context(
        published=published,
        fallback_year=_fallback_year(prepared),
        week_cue=bool(_WEEK_CUE.search((title or "") + "\n" + prepared[:1500])),
        holiday_cue=bool(_HOLIDAY_CUE.search(title_zone)),
    )
    scanned = _mask(_stat_spans(prepared), _ISSUE)
    body_lines = _non_empty_lines(scanned)
    # (line, in the title zone, the lines after it)
    lines: list[tuple[str, bool, str]] = []
    if title:
        lines.append((_mask(_arabicise_dates(title), _ISSUE), True, "\n".join(body_lines[:3])))
    for index, line in enumerate(body_lines):
        following = "\n".join(body_lines[index + 1 : index + 3])
        lines.append((line, index < _TITLE_ZONE_LINES, following))
    period, chosen = Period(), None
    for line, in_title_zone, following in lines:
        cands = _candidates(line, in_title_zone, following)
        for index, cand in enumerate(cands):
            resolved: Period | None
            if cand.kind == "year":
                # "2020年"12345"热线9月份运行概况": the year belongs to the later, finer period.
                later = [
                    c
                    for c in cands[index + 1 :]
                    if c.kind != "year"
                    and in_title_zone
                    and not re.search(r"[,。;]", line[cand.end : c.start])
                ]
                resolved = (
                    _resolve(later[0], ctx, year=int(cand.groups["y"] or 0)) if later else None
                )
                resolved = resolved or _resolve(cand, ctx)
            else:
                resolved = _resolve(cand, ctx)
            if resolved is not None:
                period, chosen = resolved, cand
                break
        if period.period_type is not None:
            break
    if period.period_type is None:
        logger.info("no reporting period found")
    window = _stat_window(prepared, ctx, period)
    if window is None and chosen is not None:
        window = _bracketed_window(chosen, ctx, period)
    if window:
        period.stat_start, period.stat_end = window
    return period
