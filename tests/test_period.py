"""parsers/period.py: reporting period, publication date and issue number.

Expected values come from devset labels.jsonl, from reading the seed bulletins by hand, and,
for the rule tests, from short texts written here with the answer worked out by hand.
One test per document x field, with ids like ``d017-period_label``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from parsers.errors import ParseError
from parsers.model import Period
from parsers.normalize import normalize_text
from parsers.period import parse_issue_number, parse_period, parse_published_date

DEVSET_DIR = Path(os.environ.get("HOTLINE_DEVSET", "/work/shared/devset"))
SEEDS_DIR = Path(__file__).parent / "fixtures" / "seeds"
PERIOD_FIELDS = (
    "period_type",
    "period_start",
    "period_end",
    "stat_start",
    "stat_end",
    "period_label",
)
FIELDS = (*PERIOD_FIELDS, "published_date")

needs_devset = pytest.mark.skipif(
    not (DEVSET_DIR / "labels.jsonl").exists(), reason=f"devset not found at {DEVSET_DIR}"
)


def _devset_labels() -> dict[str, dict[str, Any]]:
    path = DEVSET_DIR / "labels.jsonl"
    if not path.exists():
        return {}
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            labels[record["id"]] = record
    return labels


DEVSET = _devset_labels()
# Without the devset the parametrisation still needs one id; the skip mark reports why.
DEVSET_IDS = sorted(DEVSET) or ["d001"]


@functools.cache
def _devset_text(doc_id: str) -> str:
    return normalize_text((DEVSET_DIR / f"{doc_id}.txt").read_text(encoding="utf-8"))


@functools.cache
def _devset_parsed(doc_id: str) -> dict[str, str | None]:
    text = _devset_text(doc_id)
    published = parse_published_date(text)
    return {**vars(parse_period(text, published)), "published_date": published}


@needs_devset
@pytest.mark.parametrize(
    ("doc_id", "field"),
    [pytest.param(d, f, id=f"{d}-{f}") for d in DEVSET_IDS for f in FIELDS],
)
def test_devset_period_and_published_date(doc_id: str, field: str) -> None:
    label = DEVSET[doc_id]
    expected = label["published_date"] if field == "published_date" else label["period"][field]
    assert _devset_parsed(doc_id)[field] == expected


@needs_devset
@pytest.mark.parametrize("doc_id", DEVSET_IDS)
def test_devset_period_without_given_published_date(doc_id: str) -> None:
    """parse_period finds the publication date itself when the caller has none."""
    expected = DEVSET[doc_id]["period"]
    assert vars(parse_period(_devset_text(doc_id))) == expected


def _html_meta(html: str, name: str) -> str | None:
    m = re.search(rf'<meta\s+name="{name}"\s+content="([^"]*)"', html)
    return m.group(1) if m else None


HTML_IDS = ("d001", "d002", "d011", "d016", "d021", "d028", "d031")


@needs_devset
@pytest.mark.parametrize("doc_id", HTML_IDS)
def test_devset_html_meta_title_and_pubdate(doc_id: str) -> None:
    """With the page's ArticleTitle and PubDate meta tags the answers are the labelled ones."""
    html = (DEVSET_DIR / f"{doc_id}.html").read_text(encoding="utf-8")
    meta = {"PubDate": _html_meta(html, "PubDate") or ""}
    title = _html_meta(html, "ArticleTitle")
    text = _devset_text(doc_id)
    published = parse_published_date(text, meta)
    assert published == DEVSET[doc_id]["published_date"]
    assert vars(parse_period(text, published, title=title)) == DEVSET[doc_id]["period"]


# Read by hand from the issue lines of the devset documents (README "Issue numbers").
DEVSET_ISSUES = {
    "d001": "〔2023〕第8期",
    "d002": None,
    "d009": None,
    "d015": "第6期",
    "d017": "2025年第1期",
    "d023": "〔2021〕第1期",
    "d024": "2024年第23期",
    "d025": "2022年第7期(总第126期)",
    "d027": "第3期",  # printed "第 3 期"
    "d035": "2024年第1期(总第47期)",
    "d036": "2022年第23期",
}


@needs_devset
@pytest.mark.parametrize(("doc_id", "expected"), sorted(DEVSET_ISSUES.items()))
def test_devset_issue_number(doc_id: str, expected: str | None) -> None:
    assert parse_issue_number(_devset_text(doc_id)) == expected


# --- the five real seeds, read by hand -------------------------------------------

SEEDS: dict[str, dict[str, str | None]] = {
    # Title "关于2020年第二季度…"; 发布时间:2020-07-15 (dateline 2020年7月10日);
    # "本季度数据统计时间为:2020年3月26日至6月30日".
    "liaocheng_2020q2_000": {
        "period_type": "quarter",
        "period_start": "2020-04-01",
        "period_end": "2020-06-30",
        "stat_start": "2020-03-26",
        "stat_end": "2020-06-30",
        "period_label": "2020-Q2",
        "published_date": "2020-07-15",
        "issue_number": None,
    },
    # Traditional. "2021年1月份(統計時間為2020年12月21日至2021年1月20日…)"; the only date of
    # issue is the dateline 2021年2月8日 at the end.
    "zhanjiang_2021-01_001": {
        "period_type": "month",
        "period_start": "2021-01-01",
        "period_end": "2021-01-31",
        "stat_start": "2020-12-21",
        "stat_end": "2021-01-20",
        "period_label": "2021-01",
        "published_date": "2021-02-08",
        "issue_number": None,
    },
    # Letterhead "[2015] 第 6 期" and "2015 年 7 月 13 日"; the body says only "6 月份".
    "liaocheng_2015-06_002": {
        "period_type": "month",
        "period_start": "2015-06-01",
        "period_end": "2015-06-30",
        "stat_start": None,
        "stat_end": None,
        "period_label": "2015-06",
        "published_date": "2015-07-13",
        "issue_number": "[2015]第6期",
    },
    # Traditional. Title "2020年第二季度…"; "2020-12-13 嶽陽市人民政府" is the page date.
    "yueyang-yunxi_2020q2_003": {
        "period_type": "quarter",
        "period_start": "2020-04-01",
        "period_end": "2020-06-30",
        "stat_start": None,
        "stat_end": None,
        "period_label": "2020-Q2",
        "published_date": "2020-12-13",
        "issue_number": None,
    },
    # "发布时间:2020-10-15" (the 2020年10月09日 line is the date of writing); "9月份运行概况".
    "hengdong_2020-09_004": {
        "period_type": "month",
        "period_start": "2020-09-01",
        "period_end": "2020-09-30",
        "stat_start": None,
        "stat_end": None,
        "period_label": "2020-09",
        "published_date": "2020-10-15",
        "issue_number": "〔2020〕第9期",
    },
}


@functools.cache
def _seed_parsed(seed: str) -> dict[str, str | None]:
    text = normalize_text((SEEDS_DIR / f"{seed}.txt").read_text(encoding="utf-8"))
    published = parse_published_date(text)
    return {
        **vars(parse_period(text, published)),
        "published_date": published,
        "issue_number": parse_issue_number(text),
    }


@pytest.mark.parametrize(
    ("seed", "field"),
    [pytest.param(s, f, id=f"{s}-{f}") for s in SEEDS for f in SEEDS[s]],
)
def test_seed(seed: str, field: str) -> None:
    assert _seed_parsed(seed)[field] == SEEDS[seed][field]


# --- rules on short texts ------------------------------------------------------------


def _period(text: str, published: str | None = None, title: str | None = None) -> tuple:
    p = parse_period(normalize_text(text), published, title)
    return (p.period_type, p.period_start, p.period_end, p.period_label)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        pytest.param(
            "热线周报\n2024年第28周(7月8日—7月14日)\n本周共受理诉求",
            None,
            ("week", "2024-07-08", "2024-07-14", "2024-W28"),
            id="week-number-with-dates",
        ),
        pytest.param(
            "热线周报\n2024年第28周\n本周共受理诉求",
            "2024-07-16",
            ("week", "2024-07-08", "2024-07-14", "2024-W28"),
            id="week-number-only-is-iso",
        ),
        pytest.param(
            "热线周报\n第1周\n(12月30日至1月5日)\n本周共受理诉求",
            "2025-01-07",
            ("week", "2024-12-30", "2025-01-05", "2025-W01"),
            id="week-dates-on-next-line-across-year",
        ),
        pytest.param(
            "热线一周情况\n(2024年7月8日—7月14日)",
            None,
            ("week", "2024-07-08", "2024-07-14", "2024-W28"),
            id="seven-days-from-monday-is-a-week",
        ),
        pytest.param(
            "国庆假期热线运行情况\n(2018年10月1日—10月7日)",
            None,
            ("other", "2018-10-01", "2018-10-07", "2018-10-01/2018-10-07"),
            id="holiday-week-is-other",
        ),
        pytest.param(
            "2024年1-4月全市12345热线运行情况",
            None,
            ("other", "2024-01-01", "2024-04-30", "2024-01-01/2024-04-30"),
            id="jan-apr-is-other",
        ),
        pytest.param(
            "12345热线2020年1-6月运行情况",
            None,
            ("half_year", "2020-01-01", "2020-06-30", "2020-H1"),
            id="jan-jun-is-half-year",
        ),
        pytest.param(
            "全市前三季度受理情况",
            "2020-10-15",
            ("other", "2020-01-01", "2020-09-30", "2020-01-01/2020-09-30"),
            id="first-three-quarters",
        ),
        pytest.param(
            "12345热线8月中旬运行情况",
            "2022-08-22",
            ("other", "2022-08-11", "2022-08-20", "2022-08-11/2022-08-20"),
            id="ten-day-xun",
        ),
        pytest.param(
            "12月份运行情况",
            "2021-01-11",
            ("month", "2020-12-01", "2020-12-31", "2020-12"),
            id="december-published-in-january",
        ),
        pytest.param(
            "十二月份运行情况",
            "2021-01-05",
            ("month", "2020-12-01", "2020-12-31", "2020-12"),
            id="month-in-chinese-numerals",
        ),
        pytest.param(
            "四季度,共受理群众诉求",
            "2021-01-08",
            ("quarter", "2020-10-01", "2020-12-31", "2020-Q4"),
            id="q4-published-in-january",
        ),
        pytest.param(
            "二〇二〇年第二季度热线运行情况",
            None,
            ("quarter", "2020-04-01", "2020-06-30", "2020-Q2"),
            id="year-in-chinese-numerals",
        ),
        pytest.param(
            "衡东县2020年“12345”热线9月份运行概况",
            "2020-10-15",
            ("month", "2020-09-01", "2020-09-30", "2020-09"),
            id="year-earlier-in-title-line",
        ),
        pytest.param(
            "洛阳市12345热线上月受理群众诉求10.45万件",
            "2023-05-06",
            ("month", "2023-04-01", "2023-04-30", "2023-04"),
            id="last-month-in-title",
        ),
        pytest.param(
            "2020年度热线工作总结",
            None,
            ("year", "2020-01-01", "2020-12-31", "2020"),
            id="year-du",
        ),
        pytest.param(
            "2023年12345热线工作通报\n一、受理情况\n较2022年同期增长5%。2024年工作安排如下。",
            "2024-01-20",
            ("year", "2023-01-01", "2023-12-31", "2023"),
            id="comparison-and-next-year-ignored",
        ),
        pytest.param(
            "热线运行情况\n各单位:\n6月份,热线共受理诉求100件,比5月份增长3%,1-6月累计受理500件。",
            "2021-07-09",
            ("month", "2021-06-01", "2021-06-30", "2021-06"),
            id="cumulative-after-month-ignored",
        ),
        pytest.param(
            "与上月相比增长2%,较去年同期下降1%",
            "2021-02-08",
            (None, None, None, None),
            id="comparisons-only",
        ),
        pytest.param(
            "热线工作情况\n" + "各单位:\n" * 9 + "2023年,全市热线共受理诉求100件,其中12月受理9件。",
            None,
            ("year", "2023-01-01", "2023-12-31", "2023"),
            id="year-opening-a-body-sentence",
        ),
        pytest.param("没有任何日期的文字", None, (None, None, None, None), id="nothing"),
    ],
)
def test_period_rules(text: str, published: str | None, expected: tuple) -> None:
    assert _period(text, published) == expected


def test_title_argument_is_read_first() -> None:
    assert _period("全市热线共受理诉求100件。", title="绍兴市12345热线2023年8月份运行情况通报") == (
        "month",
        "2023-08-01",
        "2023-08-31",
        "2023-08",
    )


@pytest.mark.parametrize(
    ("text", "published", "window"),
    [
        pytest.param(
            "热线情况\n3月份(统计时间为2月26日至3月25日)", "2022-04-02",
            ("2022-02-26", "2022-03-25"), id="no-years",
        ),
        pytest.param(
            "热线情况\n1月份(统计时间为12月21日至1月20日)", "2021-02-08",
            ("2020-12-21", "2021-01-20"), id="no-years-across-year",
        ),
        pytest.param(
            "2023年工作情况\n2023年(统计时间为2022年12月26日至2023年12月25日),共受理", None,
            ("2022-12-26", "2023-12-25"), id="both-years",
        ),
        pytest.param(
            "2021年1月份运行情况\n(统计时间:2020-12-21至2021-01-20)", None,
            ("2020-12-21", "2021-01-20"), id="numeric-dates",
        ),
        pytest.param(
            "湛江市热线2021年1月份(2020年12月21日至2021年1月20日)诉求分析", None,
            ("2020-12-21", "2021-01-20"), id="bracketed-after-the-month",
        ),
        pytest.param(
            "热线周报\n2024年第28周(7月8日—7月14日)", None, (None, None), id="week-dates-are-no-window",
        ),
    ],
)  # fmt: skip
def test_stat_window(text: str, published: str | None, window: tuple[str, str]) -> None:
    period = parse_period(normalize_text(text), published)
    assert (period.stat_start, period.stat_end) == window


def test_stat_window_is_not_the_period() -> None:
    period = parse_period(
        normalize_text("热线情况\n(统计时间为2月26日至3月25日)\n3月份受理"), "2022-04-02"
    )
    assert period.period_label == "2022-03"


def test_nothing_found_is_empty_period() -> None:
    assert parse_period("") == Period()


def test_bad_published_date_raises() -> None:
    with pytest.raises(ParseError):
        parse_period("2023年8月份运行情况", "12/09/2023")


@pytest.mark.parametrize(
    ("text", "meta", "expected"),
    [
        pytest.param(
            "发布时间:2023-09-12 16:20\n正文", {"PubDate": "2023-09-13 08:00"}, "2023-09-13",
            id="meta-first",
        ),
        pytest.param("正文", {"pubdate": "2023年9月13日"}, "2023-09-13", id="meta-any-case"),
        pytest.param(
            "成文日期:\t2022-12-05\t发布日期:\t2022-12-06", None, "2022-12-06",
            id="published-beats-written",
        ),
        pytest.param("成文日期:2022-12-05\n正文", None, "2022-12-05", id="written-as-last-resort"),
        pytest.param("日期:2024-09-03 信息来源:市中心", None, "2024-09-03", id="bare-date-label"),
        pytest.param("印发日期:08.01.2021", None, "2021-01-08", id="dd-mm-yyyy"),
        pytest.param("首页\n2020-12-13 岳阳市人民政府\n正文", None, "2020-12-13", id="page-date"),
        pytest.param(
            "绵阳市热线旬报\n正文\n绵阳市12345政务服务热线中心\n二〇二二年八月二十二日", None,
            "2022-08-22", id="chinese-numeral-dateline",
        ),
        pytest.param(
            "简报\n〔2020〕第9期\n衡东县行政审批服务局 2020年10月09日\n正文", None, "2020-10-09",
            id="office-and-date-letterhead",
        ),
        pytest.param(
            "热线情况\n统计时间:2020.12.21-2021.01.20\n正文", None, None, id="range-is-not-a-date",
        ),
        pytest.param("统计时间:2020年6月30日\n正文", None, None, id="statistics-label-ignored"),
        pytest.param("没有日期", None, None, id="none"),
    ],
)  # fmt: skip
def test_published_date_rules(text: str, meta: dict[str, str] | None, expected: str | None) -> None:
    assert parse_published_date(normalize_text(text), meta) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("市民服务热线(12345)月报\n\n[2015] 第 6 期\n", "[2015]第6期"),
        ("工作简报\n(总第74期)\n", "总第74期"),
        ("工作简报\n2024年第1期(总第47期)\n", "2024年第1期(总第47期)"),
        ("运行情况通报\n今年举办第3期业务培训班,各单位参加", None),
        ("[2015] 第 6 期    市长公开电话受理中心", "[2015]第6期"),
        ("运行情况通报\n正文没有期号", None),
    ],
)
def test_issue_number_rules(text: str, expected: str | None) -> None:
    assert parse_issue_number(normalize_text(text)) == expected
