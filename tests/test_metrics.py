"""Headline metrics: the wordings that name them, and the figures that are not the headline.

The sentences are written for these tests, one trap each, after patterns in the
devset README ("Traps", "Rates", "Changes").
"""

from __future__ import annotations

import pytest

from parsers.clauses import split_sentences
from parsers.metrics import extract
from parsers.normalize import normalize_text
from parsers.scope import ScopeContext, own_names_from


def _metrics(
    text: str, period_type: str = "month", months: set[int] | None = None
) -> dict[str, float]:
    ctx = ScopeContext(own_names_from("绍兴市", "绍兴市12345热线"), period_type, months or {8})
    found = extract(split_sentences(normalize_text(text)), ctx)
    return {m.metric: m.value for m in found.metrics}


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("8月份,热线共受理群众诉求96,482件,同比增长5.86%,环比下降2.41%。", "requests_total", 96482),
        (
            "8月份,热线共受理群众诉求96,482件,同比增长5.86%,环比下降2.41%。",
            "requests_change_yoy_pct",
            5.86,
        ),
        (
            "8月份,热线共受理群众诉求96,482件,同比增长5.86%,环比下降2.41%。",
            "requests_change_prev_pct",
            -2.41,
        ),
        ("共受理群众诉求358,620件,同比减少14,283件,减幅3.83%。", "requests_change_yoy_pct", -3.83),
        (
            "2022年,热线共受理群众诉求1,046,318件(2021年为454,921件),同比增长1.3倍。",
            "requests_change_yoy_pct",
            130,
        ),
        ("热线坐席直办55,086件,占52.7%;转交承办单位办理49,441件。", "direct_resolution_rate", 52.7),
        ("热线即时解答43,906件,即时解答率60.30%。", "direct_resolution_rate", 60.30),
        (
            "热线呼入电话211,580个,接通203,114个,接通率96.00%,一次接通率88.72%。",
            "connection_rate",
            96.00,
        ),
        (
            "热线呼入电话211,580个,接通203,114个,接通率96.00%,一次接通率88.72%。",
            "first_call_connection_rate",
            88.72,
        ),
        (
            "热线呼入电话211,580个,接通203,114个,接通率96.00%,一次接通率88.72%。",
            "calls_answered",
            203114,
        ),
        (
            "群众对热线服务满意率99.31%,对承办单位办理结果满意率91.84%,综合满意率95.02%。",
            "satisfaction_rate",
            95.02,
        ),
        (
            "已办结2,271件,办结率97.97%,按期回复率99.35%,按时办结率96.42%。",
            "on_time_reply_rate",
            99.35,
        ),
        (
            "已办结2,271件,办结率97.97%,按期回复率99.35%,按时办结率96.42%。",
            "on_time_completion_rate",
            96.42,
        ),
        ("共受理群众诉求45.62万件。", "requests_total", 456200),
        ("全市超期工单共317件,其中超期已办结283件,超期未办理34件。", "overdue", 317),
    ],
)
def test_headline_wording(text: str, key: str, value: float) -> None:
    assert _metrics(text)[key] == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "平城区承办转派工单14,206件,按期办结率95.71%,满意率93.40%。",
            "satisfaction_rate",
        ),  # one district
        ("市长信箱来信1,035件,办结1,021件,满意率88.46%。", "completed"),  # one channel
        ("本周12345热线与110报警服务台互转警情326起。", "transferred"),  # another line
        ("1—3月累计受理142,518件。", "requests_total"),  # year to date
        (
            "满意率较上月提高0.87个百分点。",
            "requests_change_prev_pct",
        ),  # points, not a percent change
        ("城市管理类8,964件,同比增长11.20%。", "requests_change_yoy_pct"),  # a topic's change
        (
            "其中,1月份58,907件,2月份54,366件,3月份72,931件,3月份环比增长34.15%。",
            "requests_change_prev_pct",
        ),
        ("办结率达到100%的共有26个。", "completion_rate"),  # a threshold, not a rate
        ("来电286,471件,网站19,314件。", "requests_total"),  # a channel is not the total
        ("回访满意率95.80%(其中:对话务服务满意率99.46%)。", "first_call_connection_rate"),
    ],
)
def test_not_a_headline(text: str, key: str) -> None:
    assert key not in _metrics(text, "quarter", {1, 2, 3})


def test_month_inside_a_quarter_is_not_the_total() -> None:
    text = "二季度,共受理群众诉求358,620件。其中6月份受理127,304件,为本季度最高。"
    assert _metrics(text, "quarter", {4, 5, 6})["requests_total"] == 358620


def test_carried_over_backlog_is_not_the_month() -> None:
    text = "5月份,市12345热线共受理群众诉求61,947件,其中当月受理58,302件,上月结转3,645件。"
    assert _metrics(text, "month", {5})["requests_total"] == 58302


def test_first_statement_wins_and_carries_its_evidence() -> None:
    ctx = ScopeContext(set(), "month", {8})
    found = extract(split_sentences("热线共受理群众诉求100件。热线共受理群众诉求90件。"), ctx)
    metric = found.metrics[0]
    assert (metric.metric, metric.value) == ("requests_total", 100)
    assert metric.evidence == "热线共受理群众诉求100件"


def test_nature_and_channel_breakdowns() -> None:
    ctx = ScopeContext(set(), "month", {8})
    text = normalize_text(
        "其中,电话受理81,357件,政府网站受理3,812件,微信公众号受理4,117件。\n"
        "从诉求性质看,咨询类52,307件,求助类21,864件,投诉类13,792件,其他4,855件。"
    )
    found = extract(split_sentences(text), ctx)
    got = {(b.dimension, b.category_key): b.count for b in found.breakdowns}
    assert got[("channel", "phone")] == 81357
    assert got[("channel", "web")] == 3812
    assert got[("channel", "wechat")] == 4117
    assert got[("nature", "consult")] == 52307
    assert got[("nature", "other")] == 4855
