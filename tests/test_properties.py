"""Property-based tests (hypothesis) of normalisation, number, date and period parsing, clauses.

Each property runs on generated input and checks what must hold for every input: no
exception other than ParseError, round-trips where they apply (a count printed with
thousands separators or in 万, a percentage, a Chinese numeral), and the period fields equal
the ones written into a generated bulletin title. The expected values come from the
generator (or from the small reference converter ``to_chinese`` below), never from the code
under test.

The number of calls of each property is printed at the end of the module; set
HOTLINE_PROPERTY_SCALE=10 to run ten times as many examples.
"""

from __future__ import annotations

import calendar
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from parsers.clauses import split_sentences
from parsers.errors import ParseError
from parsers.model import Period
from parsers.normalize import (
    MAX_COUNT,
    chinese_numeral_to_int,
    normalize_text,
    parse_cell_number,
    parse_count,
    parse_percent,
)
from parsers.period import parse_period, parse_published_date

SCALE = max(1, int(os.environ.get("HOTLINE_PROPERTY_SCALE", "1")))
CALLS: Counter[str] = Counter()


def examples(n: int) -> settings:
    """Hypothesis settings for a property: ``n`` examples (times the scale), no deadline."""
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module", autouse=True)
def report_calls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many times each property ran (generated, replayed and shrunk examples)."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CALLS:
        return
    lines = [f"property cases run: {sum(CALLS.values())} in {len(CALLS)} properties"]
    lines += [f"  {name:40s} {count:6d}" for name, count in sorted(CALLS.items())]
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


# --- generators ------------------------------------------------------------------------------

_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
CN_DIGITS = "零一二三四五六七八九"

# Characters that the normaliser and the parsers treat specially, to make collisions likely.
BULLETIN_ALPHABET = (
    "0123456789０１２３４５６７８９.,%‰:;()[]（），．％：—–-~/ \t\n\u3000\u00a0\u2002"
    "年月日号周季度第上中下半旬份至到从自为统计时间发布日期期总共件个宗次起条万亿倍"
    "零〇一二两三四五六七八九十百千同比环较去上本"
    "區辦結縣處熱線數據滿意訴求薴苧(qū)(jié)ｑāéǔ市热线受理率通报情况aZ?"
)
bulletin_text = st.text(alphabet=st.sampled_from(BULLETIN_ALPHABET), max_size=80)
any_text = st.text(max_size=80)  # every code point hypothesis likes, lone surrogates included
noisy_text = st.one_of(bulletin_text, any_text)


def to_fullwidth(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms (４３８５３)."""
    return "".join(_FULLWIDTH.get(ch, ch) for ch in text)


def to_chinese(n: int, liang: bool = False) -> str:
    """Reference converter 0..9999 -> Chinese numeral: 10 十, 105 一百零五, 1010 一千零一十.

    With ``liang``, 2 is written 两 before 千 and 百 (两千三百).
    """
    if not 0 <= n <= 9999:
        raise ValueError(n)
    if n == 0:
        return "零"
    out: list[str] = []
    zero_pending = False
    for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // place % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        if not (digit == 1 and unit == "十" and not out):  # 十二, not 一十二
            out.append("两" if liang and digit == 2 and unit in "千百" else CN_DIGITS[digit])
        out.append(unit)
    return "".join(out)


def test_reference_converter() -> None:
    """The reference converter itself, on numerals read by hand."""
    by_hand = {0: "零", 7: "七", 10: "十", 12: "十二", 20: "二十", 105: "一百零五", 110: "一百一十",
               1001: "一千零一", 1010: "一千零一十", 2022: "二千零二十二", 9999: "九千九百九十九"}  # fmt: skip
    assert {n: to_chinese(n) for n in by_hand} == by_hand
    assert to_chinese(2200, liang=True) == "两千两百"


# --- normalize_text ------------------------------------------------------------------------


@examples(1500)
@given(noisy_text)
def test_normalize_is_idempotent_and_total(text: str) -> None:
    """normalize_text never raises, and normalising twice changes nothing."""
    CALLS["normalize_text idempotent"] += 1
    once = normalize_text(text)
    assert normalize_text(once) == once


@examples(500)
@given(noisy_text)
def test_normalize_leaves_no_fullwidth_digits(text: str) -> None:
    """No full-width digit, percent sign or comma survives normalisation."""
    CALLS["normalize_text no full-width forms"] += 1
    assert not re.search("[０-９％，．]", normalize_text(text))


@examples(500)
@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.sampled_from(["", "件", "%"]))
def test_fullwidth_digits_map_to_ascii(digits: str, unit: str) -> None:
    """４３８５３ -> 43853, alone and after a word."""
    CALLS["normalize_text full-width digits"] += 1
    assert normalize_text(to_fullwidth(digits) + unit) == digits + unit
    assert normalize_text("共受理" + to_fullwidth(digits) + unit) == "共受理" + digits + unit


# --- numbers -------------------------------------------------------------------------------


def _parse_or_error(parser: Callable[[str], object], text: str) -> object:
    """The parser's value, or the ParseError class when it raised ParseError."""
    try:
        return parser(text)
    except ParseError:
        return ParseError


NUMBER_ALPHABET = (
    "0123456789０１２３４５６７８９.,-+ 万萬亿億件个宗次%‰倍零〇一二两三四五六七八九十百千"
)
number_text = st.one_of(
    st.text(alphabet=NUMBER_ALPHABET, max_size=25),
    st.text(alphabet="9", min_size=300, max_size=400),  # beyond float range
    st.text(alphabet="9", min_size=300, max_size=400).map(lambda s: s[:200] + "." + s[200:]),
    any_text,
)


@examples(1500)
@given(number_text)
def test_parse_count_value_or_parse_error(text: str) -> None:
    """parse_count gives an int within what the archive stores, or ParseError."""
    CALLS["parse_count total"] += 1
    value = _parse_or_error(parse_count, text)
    assert value is ParseError or (type(value) is int and abs(value) <= MAX_COUNT)


@examples(1000)
@given(number_text)
def test_parse_percent_value_or_parse_error(text: str) -> None:
    """parse_percent gives a finite float or ParseError."""
    CALLS["parse_percent total"] += 1
    value = _parse_or_error(parse_percent, text)
    assert value is ParseError or (type(value) is float and abs(value) < float("inf"))


@examples(1000)
@given(number_text)
def test_parse_cell_number_never_raises(text: str) -> None:
    """parse_cell_number gives an int, a finite float or None; it never raises."""
    CALLS["parse_cell_number total"] += 1
    value = parse_cell_number(text)
    assert (
        value is None or type(value) is int or (type(value) is float and abs(value) < float("inf"))
    )


@examples(1000)
@given(st.text(alphabet="零〇一二两兩三四五六七八九十百千万abc1 ", max_size=12))
def test_chinese_numeral_to_int_value_or_parse_error(text: str) -> None:
    """chinese_numeral_to_int gives a non-negative int or ParseError."""
    CALLS["chinese_numeral_to_int total"] += 1
    value = _parse_or_error(chinese_numeral_to_int, text)
    assert value is ParseError or (type(value) is int and value >= 0)


@examples(1000)
@given(st.integers(-MAX_COUNT, MAX_COUNT), st.sampled_from(["", "件", "个", "次"]))
def test_parse_count_round_trips(n: int, unit: str) -> None:
    """str(n), f"{n:,}" and full-width digits read back as n, with or without a unit."""
    CALLS["parse_count round trip"] += 1
    assert parse_count(str(n) + unit) == n
    assert parse_count(f"{n:,}" + unit) == n
    assert parse_count(to_fullwidth(str(n)) + unit) == n


@examples(1000)
@given(st.integers(0, 10**11), st.sampled_from(["万", "萬"]), st.sampled_from(["", "件"]))
def test_parse_count_wan_round_trips(cents: int, wan: str, unit: str) -> None:
    """f"{x}万" with two decimals reads back as x * 10000, exactly."""
    CALLS["parse_count 万 round trip"] += 1
    printed = f"{cents // 100}.{cents % 100:02d}"
    assert parse_count(printed + wan + unit) == cents * 100
    assert parse_cell_number(printed + wan) == cents * 100


@examples(300)
@given(st.integers(0, MAX_COUNT // 1_000_000))
def test_parse_count_yi_round_trips(cents: int) -> None:
    """f"{x}亿" with two decimals reads back as x * 10**8."""
    CALLS["parse_count 亿 round trip"] += 1
    assert parse_count(f"{cents // 100}.{cents % 100:02d}亿") == cents * 1_000_000


@examples(300)
@given(st.integers(MAX_COUNT + 1, 10**30))
def test_parse_count_refuses_what_cannot_be_stored(n: int) -> None:
    """A count beyond 2**53 (no longer exact as SQLite REAL) is a ParseError, not a wrong value."""
    CALLS["parse_count too large"] += 1
    with pytest.raises(ParseError):
        parse_count(str(n))
    assert parse_cell_number(str(n)) is None


@examples(1000)
@given(
    st.floats(min_value=-1000, max_value=1000, allow_nan=False),
    st.sampled_from(["%", "％", ""]),
)
def test_parse_percent_round_trips(p: float, sign: str) -> None:
    """parse_percent(f"{p:.2f}%") == round(p, 2); ‰ is a tenth of a percent, 倍 a hundred."""
    CALLS["parse_percent round trip"] += 1
    printed = f"{p:.2f}"
    assert parse_percent(printed + sign) == round(p, 2)
    assert parse_percent(printed + "‰") == pytest.approx(round(p, 2) / 10, abs=1e-6)
    assert parse_percent(printed + "倍") == pytest.approx(round(p, 2) * 100, abs=1e-6)
    if sign:
        assert parse_cell_number(printed + sign) == round(p, 2)


@examples(1000)
@given(st.integers(0, 9999), st.booleans())
def test_chinese_numeral_round_trips(n: int, liang: bool) -> None:
    """chinese_numeral_to_int(to_chinese(n)) == n for 0..9999, 两 for 2 included."""
    CALLS["chinese_numeral_to_int round trip"] += 1
    assert chinese_numeral_to_int(to_chinese(n, liang)) == n
    if n:
        assert parse_count(to_chinese(n, liang) + "件") == n


@examples(300)
@given(st.integers(1000, 9999), st.sampled_from(["〇", "零"]))
def test_chinese_numeral_digit_by_digit(n: int, zero: str) -> None:
    """A year written digit by digit: 二〇二二 -> 2022."""
    CALLS["chinese_numeral_to_int digit by digit"] += 1
    written = "".join(zero if d == "0" else CN_DIGITS[int(d)] for d in str(n))
    assert chinese_numeral_to_int(written) == n


# --- periods and dates ---------------------------------------------------------------------

YEARS = st.integers(1990, 2100)
# Words around the period in real titles; none of them is a period or a comparison.
PREFIXES = ["", "聊城市", "湛江市12345热线", "关于", "衡东县12345政务服务便民热线", "市民热线"]
SUFFIXES = ["", "运行情况通报", "12345热线工作情况", "数据分析报告", "受理情况", "热线简报"]
# Label formats by period type, as vocabulary.md defines them.
LABELS = {
    "week": r"\d{4}-W\d{2}",
    "month": r"\d{4}-\d{2}",
    "quarter": r"\d{4}-Q[1-4]",
    "half_year": r"\d{4}-H[12]",
    "year": r"\d{4}",
    "other": r"\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}",
}


def cn_year(year: int) -> str:
    """2021 -> 二〇二一 (digit by digit, as on letterheads)."""
    return "".join("〇" if d == "0" else CN_DIGITS[int(d)] for d in str(year))


@st.composite
def published_dates(draw: st.DrawFn) -> str | None:
    """None or an ISO publication date in the archive's range."""
    if draw(st.booleans()):
        return None
    return draw(st.dates(date(1990, 1, 1), date(2100, 12, 31))).isoformat()


def assert_period_consistent(period: Period) -> None:
    """Whatever the input: start <= end, a label in its type's format that agrees with the dates."""
    if period.period_type is None:
        assert (period.period_start, period.period_end, period.period_label) == (None, None, None)
    else:
        start = date.fromisoformat(period.period_start)
        end = date.fromisoformat(period.period_end)
        assert start <= end
        assert re.fullmatch(LABELS[period.period_type], period.period_label)
        if period.period_type == "month":
            assert period.period_label == period.period_start[:7]
            assert (start.day, end) == (1, date(start.year, start.month, 1) + _month_days(start))
        elif period.period_type == "quarter":
            assert period.period_label == f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        elif period.period_type == "half_year":
            assert period.period_label == f"{start.year}-H{1 if start.month == 1 else 2}"
        elif period.period_type == "week":
            iso_year, iso_week, _ = start.isocalendar()
            assert period.period_label == f"{iso_year}-W{iso_week:02d}"
        elif period.period_type == "year":
            assert (start, end) == (date(start.year, 1, 1), date(start.year, 12, 31))
        elif period.period_type == "other":
            assert period.period_label == f"{period.period_start}/{period.period_end}"
    if period.stat_start or period.stat_end:
        assert date.fromisoformat(period.stat_start) <= date.fromisoformat(period.stat_end)


def _month_days(first: date) -> timedelta:
    return timedelta(days=calendar.monthrange(first.year, first.month)[1] - 1)


def _period_or_error(text: str, published: str | None, title: str | None) -> Period | None:
    try:
        return parse_period(text, published_date=published, title=title)
    except ParseError:
        return None


@examples(600)
@given(noisy_text, published_dates(), st.one_of(st.none(), bulletin_text))
def test_parse_period_on_noise(text: str, published: str | None, title: str | None) -> None:
    """On any text: a consistent Period or ParseError, nothing else."""
    CALLS["parse_period noise"] += 1
    period = _period_or_error(text, published, title)
    if period is not None:
        assert_period_consistent(period)


@examples(600)
@given(noisy_text)
def test_parse_published_date_on_noise(text: str) -> None:
    """On any text: None or an ISO date within 1990..2100 (or ParseError)."""
    CALLS["parse_published_date noise"] += 1
    try:
        value = parse_published_date(text, {"PubDate": text[:20]})
    except ParseError:
        return
    assert value is None or 1990 <= date.fromisoformat(value).year <= 2100


@st.composite
def month_titles(draw: st.DrawFn) -> tuple[str, int, int]:
    """A title with one month: "2021年3月份…", "二〇二一年三月…"; returns (title, year, month)."""
    year, month = draw(YEARS), draw(st.integers(1, 12))
    if draw(st.booleans()):
        written = f"{year}年{month}月{draw(st.sampled_from(['', '份']))}"
    else:
        written = f"{cn_year(year)}年{to_chinese(month)}月{draw(st.sampled_from(['', '份']))}"
    title = draw(st.sampled_from(PREFIXES)) + written + draw(st.sampled_from(SUFFIXES))
    return title, year, month


@st.composite
def body_texts(draw: st.DrawFn) -> str:
    """Lines of bulletin-like noise under the title (they may hold dates and periods too)."""
    return "\n".join(draw(st.lists(bulletin_text, max_size=4)))


def _title_and_body(draw: st.DrawFn, title: str) -> tuple[str, str | None]:
    """The title passed as title=, or as the first line of the text (then title=None)."""
    body = draw(body_texts())
    if draw(st.booleans()):
        return body, title
    return title + "\n" + body, None


@examples(500)
@given(st.data(), month_titles(), published_dates())
def test_month_in_title(data: st.DataObject, case: tuple[str, int, int], published) -> None:
    """A month alone in the title is the period: 2021-03-01 .. 2021-03-31, label 2021-03."""
    CALLS["parse_period month title"] += 1
    title, year, month = case
    text, title_arg = _title_and_body(data.draw, title)
    period = parse_period(text, published_date=published, title=title_arg)
    last = calendar.monthrange(year, month)[1]
    assert (period.period_type, period.period_start, period.period_end, period.period_label) == (
        "month",
        f"{year:04d}-{month:02d}-01",
        f"{year:04d}-{month:02d}-{last:02d}",
        f"{year:04d}-{month:02d}",
    )


@examples(500)
@given(
    st.data(),
    YEARS,
    st.integers(1, 4),
    st.sampled_from(["第{q}季度", "{q}季度", "第{cq}季度", "{cq}季度"]),
    published_dates(),
)
def test_quarter_in_title(
    data: st.DataObject, year: int, quarter: int, form: str, published: str | None
) -> None:
    """A quarter alone in the title: 2020年第二季度 -> 2020-04-01 .. 2020-06-30, label 2020-Q2."""
    CALLS["parse_period quarter title"] += 1
    written = f"{year}年" + form.format(q=quarter, cq=CN_DIGITS[quarter])
    title = data.draw(st.sampled_from(PREFIXES)) + written + data.draw(st.sampled_from(SUFFIXES))
    text, title_arg = _title_and_body(data.draw, title)
    period = parse_period(text, published_date=published, title=title_arg)
    first = 3 * quarter - 2
    end = date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    assert (period.period_type, period.period_start, period.period_end, period.period_label) == (
        "quarter",
        date(year, first, 1).isoformat(),
        end.isoformat(),
        f"{year}-Q{quarter}",
    )


@examples(400)
@given(st.data(), YEARS, st.sampled_from(["年", "年度"]), published_dates())
def test_year_in_title(data: st.DataObject, year: int, suffix: str, published) -> None:
    """A year alone in the title: 2020年度… -> 2020-01-01 .. 2020-12-31, label 2020."""
    CALLS["parse_period year title"] += 1
    written = f"{year}{suffix}"
    title = data.draw(st.sampled_from(PREFIXES)) + written + data.draw(st.sampled_from(SUFFIXES))
    text, title_arg = _title_and_body(data.draw, title)
    period = parse_period(text, published_date=published, title=title_arg)
    assert (period.period_type, period.period_start, period.period_end, period.period_label) == (
        "year",
        f"{year}-01-01",
        f"{year}-12-31",
        str(year),
    )


@examples(400)
@given(
    st.data(),
    # years whose last week runs into January (2015-W53, 2020-W53, 2022-W52) and any other
    st.one_of(st.sampled_from([2015, 2020, 2022, 2026]), YEARS),
    st.one_of(st.sampled_from([1, 52, 53]), st.integers(1, 53)),
    st.sampled_from(["—", "至", "-", "~"]),
    published_dates(),
)
def test_week_with_dates(
    data: st.DataObject, year: int, week: int, sep: str, published: str | None
) -> None:
    """A week with its dates: 2024年第28周(7月8日—7月14日) -> 2024-07-08 .. 2024-07-14, 2024-W28."""
    CALLS["parse_period week title"] += 1
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        assume(False)  # no week 53 that year
    sunday = monday + timedelta(days=6)
    assume(sunday.year <= 2100)
    written = (
        f"{year}年第{week}周({monday.month}月{monday.day}日{sep}{sunday.month}月{sunday.day}日)"
    )
    title = data.draw(st.sampled_from(PREFIXES)) + written + data.draw(st.sampled_from(SUFFIXES))
    period = parse_period(title + "\n12345热线周报", published_date=published)
    assert (period.period_type, period.period_start, period.period_end, period.period_label) == (
        "week",
        monday.isoformat(),
        sunday.isoformat(),
        f"{year}-W{week:02d}",
    )


@examples(300)
@given(st.data(), YEARS, st.sampled_from(["上", "下"]), published_dates())
def test_half_year_in_title(data: st.DataObject, year: int, half: str, published) -> None:
    """2020年上半年 -> 2020-01-01 .. 2020-06-30, label 2020-H1; 下半年 -> H2."""
    CALLS["parse_period half-year title"] += 1
    title = data.draw(st.sampled_from(PREFIXES)) + f"{year}年{half}半年"
    text, title_arg = _title_and_body(data.draw, title + data.draw(st.sampled_from(SUFFIXES)))
    period = parse_period(text, published_date=published, title=title_arg)
    start, end, label = ("01-01", "06-30", "H1") if half == "上" else ("07-01", "12-31", "H2")
    assert (period.period_type, period.period_start, period.period_end, period.period_label) == (
        "half_year",
        f"{year}-{start}",
        f"{year}-{end}",
        f"{year}-{label}",
    )


@st.composite
def date_ranges(draw: st.DrawFn) -> tuple[date, date]:
    """A statistics window: start and an end 0..400 days later, both within 1990..2100 (the
    years the parser takes for a date; a window ending in 2101 is rightly not read)."""
    start = draw(st.dates(date(1990, 1, 1), date(2099, 1, 1)))
    return start, start + timedelta(days=draw(st.integers(0, 400)))


@examples(400)
@given(month_titles(), date_ranges(), st.sampled_from(["至", "到", "—", "-"]), st.booleans())
def test_stat_window(case, window: tuple[date, date], sep: str, numeric: bool) -> None:
    """A window (统计时间为2020年12月21日至2021年1月20日) gives stat_start/stat_end, not the period."""
    CALLS["parse_period statistics window"] += 1
    title, year, month = case
    start, end = window
    if numeric:
        printed = f"{start:%Y.%m.%d}{sep}{end:%Y.%m.%d}"
    else:
        printed = (
            f"{start.year}年{start.month}月{start.day}日{sep}{end.year}年{end.month}月{end.day}日"
        )
    text = f"{title}\n统计时间为{printed},全市共受理诉求1234件。"
    period = parse_period(text)
    assert (period.period_type, period.period_label) == ("month", f"{year:04d}-{month:02d}")
    assert (period.stat_start, period.stat_end) == (start.isoformat(), end.isoformat())


@examples(400)
@given(
    st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    st.sampled_from(["iso", "cn", "cn_numerals"]),
    st.sampled_from(["发布时间", "发布日期", "发布于"]),
    st.lists(st.text(alphabet="全市共受理诉求件月份满意率热线运行情况0123456789%,。", max_size=30)),
)
def test_labelled_published_date(day: date, form: str, label: str, noise: list[str]) -> None:
    """A labelled date (发布时间:2021-03-05, 2021年3月5日, 二〇二一年三月五日) anywhere is found."""
    CALLS["parse_published_date labelled"] += 1
    if form == "iso":
        printed = day.isoformat()
    elif form == "cn":
        printed = f"{day.year}年{day.month}月{day.day}日"
    else:
        printed = f"{cn_year(day.year)}年{to_chinese(day.month)}月{to_chinese(day.day)}日"
    half = len(noise) // 2
    text = "\n".join([*noise[:half], f"{label}:{printed}", *noise[half:]])
    assert parse_published_date(text) == day.isoformat()


# --- clauses -------------------------------------------------------------------------------


@examples(1000)
@given(noisy_text)
def test_split_sentences(text: str) -> None:
    """split_sentences never raises; clauses are pieces of the text, figures pieces of clauses."""
    CALLS["split_sentences"] += 1
    sentences = split_sentences(text)
    for index, sentence in enumerate(sentences):
        assert sentence.index == index
        assert sentence.text and sentence.text in text
        for clause in sentence.clauses:
            assert clause.sentence == index
            assert clause.text and clause.text in text
            for figure in clause.figures:
                printed = figure.number + (figure.multiplier or "") + figure.unit
                assert clause.text[figure.start : figure.end] == printed
