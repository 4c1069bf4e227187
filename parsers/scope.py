"""Whose figure is it? Signs that a figure belongs to a part of the hotline, not the whole.

A headline metric is the whole hotline over the whole period. A figure for one
district, one channel, another hotline line, a month inside a quarter, a
year-to-date sum or a base period is kept out of the headline. These word lists
are data; the rules that use them live in :mod:`parsers.metrics`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CJK = "\u4e00-\u9fff"

# A place name ending a token; tokens are tried at every start, the shortest first.
_PLACE = re.compile(rf"(?=([{CJK}]{{2,4}}?(?:自治县|街道|区|县|旗|镇|乡)))")
# Characters that do not occur inside the names of districts, counties and towns.
_NOT_IN_PLACE_NAME = set("转份和与及的在到了是等对从向为按各全本该级线单求理件类个别此其我这那共计")
_GENERIC_PLACE_ENDINGS = (
    "小区", "社区", "景区", "园区", "辖区", "片区", "库区", "灾区", "街区", "厂区", "校区", "矿区",
    "郊区", "老区", "郊县", "城镇", "乡镇", "村镇", "集镇", "城乡", "下乡", "家乡", "返乡", "回乡",
    "老乡", "县区", "市县区", "县市区",
)  # fmt: skip
# Generic only as the whole token: real districts end the same way (平城区, 中山区, 西湖区).
_GENERIC_PLACE_WORDS = {"城区", "市区", "新区", "山区", "湖区", "主城区", "老城区", "中心城区"}

# Words that put a figure in a part of the hotline, whatever the metric.
SUBSCOPE_WORDS = re.compile(
    r"各(?:县|区|乡|镇|街|地|部门|单位|成员单位|承办单位|市直)|县区|区县|县市区|县\(市|区\(|"
    r"市直(?:部门|单位)|部门承办|值班|领导|二级|信箱|(?<!\d)(?:12319|96128|110|12315|12369)(?!\d)|"
    r"累计|分别为|分别是|居前|位居|排名|前三|前五|最高|最低|单日|当天|网格|企业诉求|涉企"
)

# Channels of the hotline: a figure for one of them is a channel breakdown, not the total.
CHANNEL_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("other", re.compile(r"(?:其他|其它)(?:渠道|方式|途径)")),
    ("upper_platform", re.compile(r"(?:省|市|国家|国务院|上级|全省)[^,]{0,14}平台|平台转|转来|互联网\+督查|督查")),
    ("media", re.compile(r"人民网|留言板|媒体|网络问政|问政")),
    ("mailbox", re.compile(r"信箱")),
    ("sms", re.compile(r"短信")),
    ("wechat", re.compile(r"微信|公众号|小程序")),
    ("app", re.compile(r"(?i)app|客户端|手机应用|浙里办|赣服通|爱山东")),
    ("web", re.compile(r"网站|网上|网络|门户|政务服务网|留言中心")),
    ("phone", re.compile(r"来电(?!来件)|电话|热线电话")),
]  # fmt: skip


@dataclass
class ScopeContext:
    """What the document says about itself, for deciding whether a figure is the whole hotline's."""

    own_names: set[str] = field(
        default_factory=set
    )  # place names of the issuer: 岳阳市, 云溪区, 云溪
    period_type: str | None = None
    period_months: set[int] = field(default_factory=set)  # calendar months of the reported period


def own_names_from(issuer: str | None, title: str | None) -> set[str]:
    """The issuer's place names and their cores (湛江市 -> 湛江市, 湛江)."""
    names: set[str] = set()
    for source in (issuer or "", title or ""):
        for m in re.finditer(rf"[{CJK}]{{2,8}}?(?:省|市|区|县|旗)", source):
            token = m.group(0)
            names.add(token)
            if len(token) >= 3:
                names.add(token[:-1])
    for name in list(names):
        # 岳阳市云溪区 -> 云溪区, 云溪
        for part in re.findall(rf"[{CJK}]+?(?:省|市|区|县|旗)", name):
            names.add(part)
            if len(part) >= 3:
                names.add(part[:-1])
    return {n for n in names if len(n) >= 2}


def foreign_place(text: str, ctx: ScopeContext) -> str | None:
    """A place name in ``text`` that is not the issuer's, or None."""
    for m in _PLACE.finditer(text):
        token = m.group(1)
        if token.endswith(_GENERIC_PLACE_ENDINGS) or token in _GENERIC_PLACE_WORDS:
            continue
        if any(ch in _NOT_IN_PLACE_NAME for ch in token):
            continue
        if "平台" in token or "部门" in token:
            continue
        if any(name in token or token in name for name in ctx.own_names):
            continue
        return token
    return None


def channels_in(text: str) -> set[str]:
    """Every channel key a text names."""
    return {key for key, pattern in CHANNEL_WORDS if pattern.search(text)}


def channel_of(text: str) -> str | None:
    """The channel key a text names, or None."""
    for key, pattern in CHANNEL_WORDS:
        if pattern.search(text):
            return key
    return None


_MONTH_WORD = re.compile(r"(?<![\d-])(1[0-2]|[1-9])月(?:份)?(?![\d日])")
_QUARTER_WORD = re.compile(r"[一二三四1-4]季度")


def subperiod(text: str, ctx: ScopeContext) -> str | None:
    """A month or quarter named in ``text`` that is only part of the reported period."""
    if ctx.period_type in {"quarter", "half_year", "year", "other"}:
        for m in _MONTH_WORD.finditer(text):
            if text[m.end() : m.end() + 1] in {"-", "至"} or text[max(0, m.start() - 1)] in {
                "-",
                "至",
            }:
                continue  # a range such as 1-6月 is the period itself
            return m.group(0)
    if ctx.period_type in {"half_year", "year"} and _QUARTER_WORD.search(text):
        return _QUARTER_WORD.search(text).group(0)
    if ctx.period_type in {"month", "quarter", "week", "other", "half_year"} and "全年" in text:
        return "全年"
    if ctx.period_type == "month" and ctx.period_months:
        for m in _MONTH_WORD.finditer(text):
            if int(m.group(1)) not in ctx.period_months and "较" not in text and "比" not in text:
                return m.group(0)
    return None
