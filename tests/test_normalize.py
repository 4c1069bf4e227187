"""Text normalisation and number reading: every later step depends on these."""

from __future__ import annotations

import pytest

from parsers.errors import ParseError
from parsers.normalize import (
    chinese_numeral_to_int,
    detect_script,
    normalize_text,
    parse_cell_number,
    parse_count,
    parse_percent,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("按時辦結率", "按时办结率"),  # Traditional -> Simplified
        ("區(qū)人民政府", "区人民政府"),  # pinyin left by a converter
        ("辦結(jié)率", "办结率"),
        ("手机(app)受理", "手机(app)受理"),  # bracketed latin without tone marks stays
        (
            "共受理４３８５３件，占５２．７％",
            "共受理43853件,占52.7%",
        ),  # full-width digits and punctuation
        ("共呼入群众来电 43853 个", "共呼入群众来电43853个"),  # spaces inside figures
        ("增长 15.67 %", "增长15.67%"),
        ("150.25 万件", "150.25万件"),
        ("2015 年 7 月 13 日", "2015年7月13日"),
        ("共受理96,482件", "共受理96482件"),  # thousands separators
        ("1,046,318件", "1046318件"),
        ("咨询,求助,2,3", "咨询,求助,2,3"),  # commas between small figures are not separators
        ("共计\n\n8400 件,占", "共计8400件,占"),  # a figure wrapped onto the next line
        ("一季度        13,208\t22.41%", "一季度        13208\t22.41%"),  # column gaps stay
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [("43853", 43853), ("1,234件", 1234), ("150.25万", 1502500), ("45.62万", 456200), ("两", 2),
     ("十二", 12), ("1.2亿", 120000000), ("３８", 38)],
)  # fmt: skip
def test_parse_count(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["", "abc", "12.5", "百分之五"])
def test_parse_count_rejects(text: str) -> None:
    with pytest.raises(ParseError):
        parse_count(text)


@pytest.mark.parametrize(
    ("text", "value"), [("97.71%", 97.71), ("1.3倍", 130.0), ("5‰", 0.5), ("-3.83%", -3.83)]
)
def test_parse_percent(text: str, value: float) -> None:
    assert parse_percent(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("两", 2), ("十", 10), ("二十", 20), ("二十二", 22), ("一百零五", 105), ("二〇二二", 2022)],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_numeral_to_int(numeral) == value


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("6,412", 6412),
        ("98.33%", 98.33),
        ("—", None),
        ("", None),
        ("268.41万", 2684100),
        ("合计", None),
    ],
)
def test_parse_cell_number(cell: str, value: float | int | None) -> None:
    assert parse_cell_number(cell) == value


def test_detect_script() -> None:
    assert (
        detect_script("關于2021年1月份群眾訴求分析研判情況的通報,服務熱線運行情況良好,辦結率")
        == "traditional"
    )
    assert (
        detect_script("关于2021年1月份群众诉求分析研判情况的通报,服务热线运行情况良好")
        == "simplified"
    )
