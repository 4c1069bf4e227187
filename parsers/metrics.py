"""Headline metrics and breakdowns read from a bulletin's sentences.

Each figure is classified by the words just before it (its *lead*): "直办率73.35%"
is a direct-resolution rate, "占52.7%" the share of the count before it,
"同比增长5.86%" a change of whatever the sentence counted last. A figure is a
headline candidate only if nothing puts it in a part of the hotline (see
:mod:`parsers.scope`); among candidates the stronger wording wins (综合满意率
over 满意率), then the first in the document. Figures that are parts (channels,
natures, topics) become breakdowns. When in doubt a figure is left out of the
headline: a wrong headline figure is worse than a missing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clauses import Clause, Figure, Sentence
from .errors import ParseError
from .model import Breakdown, Metric, Table
from .normalize import parse_cell_number, parse_count, parse_percent
from .scope import (
    SUBSCOPE_WORDS,
    ScopeContext,
    channel_of,
    channels_in,
    foreign_place,
    subperiod,
)
from .tables import is_total_label

CJK = "\u4e00-\u9fff"
_END = r"(?:共计|总计|合计|共|总|为|达到|达|是|约|了|数|量|总数|总量|工单|诉求|件数|:)*$"


@dataclass(frozen=True)
class Rule:
    """A wording that names a metric: ``pattern`` is searched at the end of the lead."""

    key: str
    pattern: re.Pattern[str]
    priority: int = 5  # lower wins among several headline candidates
    allowed_after_qizhong: bool = True


def _rule(key: str, words: str, priority: int = 5, after_qizhong: bool = True) -> Rule:
    return Rule(key, re.compile(f"(?:{words}){_END}"), priority, after_qizhong)


# Percent figures. Order matters: the first rule whose pattern matches the lead wins.
RATE_RULES = [
    _rule("first_call_connection_rate", r"一次(?:性)?接通率"),
    _rule("connection_rate", r"(?:总计|总体|总|综合)接通率", priority=3),
    _rule("connection_rate", r"(?<!一次)(?<!一次性)接通率"),
    _rule("on_time_reply_rate", r"(?:按时|按期|及时)(?:回复|答复)率?"),
    _rule("on_time_completion_rate", r"(?:按时|按期)(?:办结|结案)率?"),
    _rule(
        "direct_resolution_rate",
        r"(?:直办|直接答复|即时解答|即时办结|直接办结|在线办结|在线答复|当场办结|直接解答|一次性办结)率",
    ),
    _rule("completion_rate", r"综合(?:办结|结案)率", priority=3),
    _rule("completion_rate", r"(?<!按时)(?<!按期)(?<!超期)(?:办结|结案)率"),
    _rule("satisfaction_rate", r"(?:综合|总体|整体)满意(?:率|度)", priority=2, after_qizhong=False),
    _rule("satisfaction_rate", r"满意(?:率|度)", after_qizhong=False),
]

# Count figures.
COUNT_RULES = [
    _rule("daily_average", r"日均(?:受理|来电|话务量|呼入量?|诉求|工单)?"),
    _rule(
        "calls_inbound",
        r"呼入(?:群众|市民)?(?:来电|电话|量|话务)?|来电总量|接收(?:市民|群众)来电总量",
    ),
    _rule("calls_answered", r"总接通(?:群众)?(?:来电|电话)?", priority=3),
    _rule(
        "calls_answered",
        r"(?<!一次)(?<!回拨)(?<!回拨后)接通(?:群众)?(?:来电|电话)?|接听(?:群众)?(?:来电|电话)",
    ),
    _rule(
        "work_orders_total",
        r"(?:形成|生成|产生)(?:有效)?(?:电子)?工单|受理来电工单|有效(?:电子)?工单|办理热线工单",
    ),
    _rule(
        "resolved_directly",
        r"(?:直办|直接答复|即时解答|即时办结|直接办结|在线办结|在线答复|坐席直办|自行处理|当场办结|直接解答)(?:工单)?",
    ),
    _rule(
        "transferred",
        r"(?:转办|转交|转派|派单|交办|转至)(?:[^,]{0,12}?(?:单位|部门|街道|镇街|乡镇|平台|工单|办理|处理)\)?)?"
        r"(?:形成)?(?:办理|处理)?(?:工单)?",
    ),
    _rule("transferred", r"转(?:[^,]{0,10}?(?:单位|部门))(?:办理|处理)?"),
    _rule(
        "completed",
        r"(?<!即时)(?<!直接)(?<!在线)(?<!超期)(?<!按时)(?<!按期)(?<!当场)(?:已综合办结|综合办结|已办结|办结|已结案|结案)",
    ),
    _rule("overdue", r"(?:超期|逾期|超时)(?:工单|件)|未按时办结(?:工单)?", priority=4),
    _rule("overdue", r"(?:超期|超时)办结(?:工单)?", priority=6),
    _rule("callbacks", r"回访(?:群众|来电人|市民)?|回访外呼电话"),
    _rule(
        "requests_total",
        r"(?:受理|收到|接收|服务|汇集|接到)(?:了)?(?:群众|市民|企业和群众|各类|居民)*(?:各类)?"
        r"(?:诉求|来电来件|来件|诉求事项|事项|问题)?",
        priority=4,
        after_qizhong=False,
    ),
    _rule(
        "requests_total",
        r"共(?:受理|收到|接收|服务|汇集)[^,]{0,12}?(?:诉求|来电来件|来件|事项|问题)",
        priority=4,
        after_qizhong=False,
    ),
    _rule(
        "requests_total", r"应办理(?:[^,]{0,16})?工单|转来的工单", priority=8, after_qizhong=False
    ),
]

_CHANGE = re.compile(
    r"(?P<dir>增长|上升|增加|提高|提升|下降|减少|降低|回落|下滑|增幅|减幅|降幅|持平)(?:了|为)*$"
)
# What a change is measured against; the last one before the figure applies.
_BASE = re.compile(
    r"同比|去年|上年|(?<!上月)(?<!上周)同期|环比|上月|上周|上旬|上期|上季度|前一周|较[一二三四]季度|[较比与和]\d{1,2}月(?:份)?"
)
_NEGATIVE = {"下降", "减少", "降低", "回落", "下滑", "减幅", "降幅"}
_SHARE = re.compile(r"占(?:比)?(?:[^,]{0,12}的)?(?:比(?:例|重))?(?:为)?$|比例为$")
_REQUEST_SUBJECT = re.compile(
    r"受理量|诉求量|诉求总量|受理总量|工单数量|工单量|来电来件量|总量|受理数"
)
_NATURE = [
    ("complaint_report", re.compile(r"投诉举报|举报投诉|投诉和举报|投诉、举报")),
    ("consult", re.compile(r"咨询")),
    ("help", re.compile(r"求助")),
    ("complaint", re.compile(r"投诉")),
    ("report", re.compile(r"举报")),
    ("suggestion", re.compile(r"意见建议|建议|建言")),
    ("praise", re.compile(r"表扬|感谢")),
    ("invalid", re.compile(r"无效")),
    ("other", re.compile(r"^(?:其他|其它)")),
]
_TOPIC = re.compile(
    rf"(?:^|[.、)])?(?P<topic>[{CJK}]{{2,12}}?)(?:类|问题)(?:诉求|问题|工单|来电)?(?:共计|共)?$"
)


@dataclass
class Candidate:
    """A figure that may be a headline metric."""

    key: str
    value: float | int
    unit: str
    evidence: str
    priority: int
    order: int
    headline: bool  # nothing puts it in a part of the hotline
    reason: str | None = None


def _value_of(fig: Figure) -> float | int:
    text = fig.number + (fig.multiplier or "")
    if fig.is_percent:
        return parse_percent(fig.number + fig.unit)
    if fig.is_times:
        return parse_percent(fig.number + "倍")
    return parse_count(text)


def _lead(clause: Clause, index: int) -> str:
    """The words before figure ``index`` of a clause, back to the previous figure."""
    start = clause.figures[index - 1].end if index else 0
    return clause.text[start : clause.figures[index].start]


def _evidence(sentence: Sentence, clause: Clause) -> str:
    """The shortest text that shows the figure: its clause, with the sentence's subject when it has none."""
    text = clause.text
    if len(text) < 8 and clause.position > 0:
        previous = sentence.clauses[clause.position - 1].text
        text = f"{previous},{text}"
    return text


def _subject(sentence: Sentence) -> str:
    """The sentence's words before its first figure: whose figures the sentence gives."""
    words = []
    for clause in sentence.clauses:
        if clause.figures:
            if not clause.in_paren:
                words.append(clause.text[: clause.figures[0].start])
            break
        if not clause.in_paren:
            words.append(clause.text)
    return ",".join(words)


def _match(rules: list[Rule], lead: str) -> Rule | None:
    for rule in rules:
        if rule.pattern.search(lead):
            return rule
    return None


def _scope_reason(prefix: str, clause: Clause, ctx: ScopeContext) -> str | None:
    if clause.in_paren:
        return "in brackets"
    m = SUBSCOPE_WORDS.search(prefix)
    if m:
        return f"part of the hotline: {m.group(0)}"
    place = foreign_place(prefix, ctx)
    if place:
        return f"another place: {place}"
    part = subperiod(prefix, ctx)
    if part:
        return f"part of the period: {part}"
    return None


@dataclass
class Extraction:
    """What :func:`extract` found."""

    metrics: list[Metric]
    breakdowns: list[Breakdown]
    candidates: list[Candidate]


def extract(
    sentences: list[Sentence], ctx: ScopeContext, document: str | None = None
) -> Extraction:
    """Headline metrics and breakdowns of a document's sentences."""
    candidates: list[Candidate] = []
    breakdowns: list[Breakdown] = []
    order = 0
    for sentence in sentences:
        # What the sentence counted last, for the changes and shares that follow; a bracket
        # keeps its own, so that an aside does not take the subject from the total.
        last: dict[bool, str | None] = {False: None, True: None}
        qizhong = False
        sentence_subject = _subject(sentence)
        nature_hits = sum(1 for _, p in _NATURE[1:7] if p.search(sentence.line))
        for clause in sentence.clauses:
            paren = clause.in_paren
            if not paren and "其中" in clause.text[:4]:
                qizhong = True
            for i, fig in enumerate(clause.figures):
                order += 1
                lead = _lead(clause, i)
                if fig.is_points:
                    continue
                try:
                    value = _value_of(fig)
                except ParseError:
                    continue
                after = clause.text[fig.end : fig.end + 2]
                if after.startswith(("的", "以上", "以下", "左右")):
                    continue  # a threshold or a qualifier (达到100%的单位), not a statement
                reason = _scope_reason(
                    sentence_subject + "," + clause.text[: fig.start], clause, ctx
                )
                evidence = _evidence(sentence, clause)
                change = _CHANGE.search(lead)
                bases = _BASE.findall(sentence.text[: sentence.text.find(clause.text)] + lead)
                base = bases[-1] if bases else ""
                if change and (fig.is_percent or fig.is_times):
                    sign = -1 if change.group("dir") in _NEGATIVE else 1
                    subject = last[paren]
                    if _REQUEST_SUBJECT.search(lead) and "日均" not in lead:
                        subject = "requests_total"
                    if subject == "requests_total":
                        last[paren] = "requests_total"
                    if subject == "requests_total" and base:
                        key = (
                            "requests_change_yoy_pct"
                            if re.search(r"同比|去年|上年|同期", base)
                            else "requests_change_prev_pct"
                        )
                        candidates.append(
                            Candidate(
                                key,
                                round(sign * value, 6),
                                "percent",
                                evidence,
                                5,
                                order,
                                reason is None,
                                reason,
                            )  # fmt: skip
                        )
                    elif subject == "topic" and breakdowns and breakdowns[-1].change_pct is None:
                        breakdowns[-1].change_pct = round(sign * value, 6)
                    continue
                if change and fig.is_count:
                    if "日均" in lead:
                        last[paren] = "daily_change"
                    elif _REQUEST_SUBJECT.search(lead):
                        last[paren] = "requests_total"
                    continue  # a change in counts (同比减少14283件) keeps the subject
                if fig.is_times:
                    continue
                if fig.is_percent:
                    if _SHARE.search(lead) or not lead.strip():
                        if last[paren] == "resolved_directly" and lead.strip():
                            candidates.append(
                                Candidate(
                                    "direct_resolution_rate",
                                    value,
                                    "percent",
                                    evidence,
                                    6,
                                    order,
                                    reason is None,
                                    reason,
                                )  # fmt: skip
                            )
                        elif breakdowns and last[paren] in {"nature", "channel", "topic"}:
                            if breakdowns[-1].share_pct is None:
                                breakdowns[-1].share_pct = value
                        continue
                    rule = _match(RATE_RULES, lead)
                    if rule is None:
                        continue
                    priority = rule.priority
                    if "对" in lead and rule.key == "satisfaction_rate":
                        priority = 9  # satisfaction with one part of the service: only if no other
                    if qizhong and not rule.allowed_after_qizhong:
                        reason = reason or "after 其中"
                    candidates.append(
                        Candidate(
                            rule.key,
                            value,
                            "percent",
                            evidence,
                            rule.priority,
                            order,
                            reason is None,
                            reason,
                        )  # fmt: skip
                    )
                    continue
                found = _classify_count(lead, nature_hits, ctx)
                if found is None and _TRAILING_OVERDUE.match(clause.text[fig.end :]):
                    found = ("metric", "overdue", None)  # 共有947件承办事项未按时办结
                if found is None:
                    last[paren] = "other"
                    continue
                kind, name, category_key = found
                if kind != "metric":
                    breakdowns.append(
                        Breakdown(
                            kind,
                            name,
                            category_key,
                            int(value),
                            None,
                            None,
                            evidence,
                            document,
                            f"line {sentence.line_index + 1}",
                        )  # fmt: skip
                    )
                    last[paren] = kind
                    continue
                rule = next(
                    (r for r in COUNT_RULES if r.key == name and r.pattern.search(lead)),
                    next(r for r in COUNT_RULES if r.key == name),
                )
                priority = rule.priority + (2 if fig.multiplier else 0)  # 45.62万 is rounded
                this_period = bool(re.search(r"当月|本月|本期|本周", lead))
                if qizhong and not rule.allowed_after_qizhong and not this_period:
                    reason = reason or "after 其中"
                if re.search(r"上月|上周|去年|上年|同期|结转", lead):
                    reason = reason or "a base or carried-over figure"
                if name == "requests_total":
                    if this_period:
                        priority = 3
                    elif "结转" in sentence.text:
                        priority = max(priority, 7)
                if (
                    name == "overdue"
                    and rule.priority > 4
                    and re.search(
                        r"(?:超期未办理|超期未办结|未办结工单)[^,;。]{0,6}\d", sentence.line
                    )
                ):
                    reason = reason or "one part of the overdue cases"
                candidates.append(
                    Candidate(
                        name, value, "count", evidence, priority, order, reason is None, reason
                    )
                )
                if name != "daily_average":
                    last[paren] = name
    metrics = _choose(candidates, document)
    keys = {m.metric for m in metrics}
    if "requests_total" not in keys and "work_orders_total" in keys:
        if not any(c.key == "requests_total" for c in candidates):
            # The work orders are the only total of requests the bulletin states (应办理工单 as in
            # d011's convention): the same stated figure also stands for requests_total.
            orders = next(m for m in metrics if m.metric == "work_orders_total")
            metrics.append(Metric("requests_total", orders.value, "count", orders.evidence,
                                  document=document, location="stated as the only total"))  # fmt: skip
    return Extraction(metrics, _dedupe(breakdowns), candidates)


_TRAILING_OVERDUE = re.compile(r"[^,]{0,8}?(?:未按时办结|未按期办结|超期办结)$")
_TOTAL_VERB = re.compile(r"共(?:受理|服务|收到|接收|汇集|接到)|受理群众|受理市民")
_OTHER_CITY_LINE = re.compile(rf"([{CJK}]{{2,4}}[市省])12345[^,]{{0,8}}转")


def _classify_count(
    lead: str, nature_hits: int, ctx: ScopeContext
) -> tuple[str, str, str | None] | None:
    """('metric', key, None) or (dimension, category, category_key) for a count figure."""
    short = lead.strip(" ,.:、;")
    # nature lists: 咨询类52307件, 求助200765件 (in a sentence listing several natures)
    if nature_hits >= 3 and len(short) <= 12:
        for key, pattern in _NATURE:
            if pattern.search(short) and not re.search(r"率|满意", short):
                category = re.sub(r"^(?:其中|从.*看|按.*分|分别为|有效工单中)", "", short).strip(
                    " ,:"
                )
                return ("nature", category or short, key)
    metric_rule = _match(COUNT_RULES, lead)
    if metric_rule and metric_rule.key in {"calls_inbound", "calls_answered", "daily_average"}:
        return ("metric", metric_rule.key, None)
    if _TOTAL_VERB.search(short):
        return ("metric", metric_rule.key, None) if metric_rule else None
    other_city = _OTHER_CITY_LINE.search(short)
    if other_city and not any(name in other_city.group(1) for name in ctx.own_names):
        return ("channel", short, "upper_platform")
    channel = channel_of(short)
    if channel and len(short) <= 30:
        # 来电48619件, 省12345平台转办6464件, 微信公众号受理4117件
        if (
            not re.search(r"工单|有效|诉求总|来电来件|呼入|接通|回访|共计|合计|两项|各项", short)
            or channel == "upper_platform"
        ) and not re.search(r"无效|重复", short):
            category = re.sub(r"^(?:其中|通过|所有诉求中|从.*看)", "", short).strip(" ,:、")
            category = re.sub(r"(?:受理|转办|转派|转来)(?:的)?(?:工单)?$", "", category) or short
            if len(channels_in(category)) > 1:
                channel = (
                    None  # 微信、网站和APP等网络渠道: several channels in one figure, no single key
                )
            return ("channel", category, channel)
    if metric_rule:
        return ("metric", metric_rule.key, None)
    topic = _TOPIC.search(short)
    if topic and not re.search(r"受理|办结|转办|工单", short):
        name = re.sub(
            r"^(?:\d+\.|[一二三四五六七八九十]+、|其中|主要是|反映)", "", topic.group("topic")
        )
        return ("topic", name, None)
    return None


def _choose(candidates: list[Candidate], document: str | None) -> list[Metric]:
    """Best headline candidate per key: lowest priority number, then first in the document."""
    best: dict[str, Candidate] = {}
    for cand in candidates:
        if not cand.headline:
            continue
        held = best.get(cand.key)
        if held is None or cand.priority < held.priority:
            best[cand.key] = cand
    metrics = [
        Metric(c.key, c.value, c.unit, c.evidence, document=document)
        for c in sorted(best.values(), key=lambda c: c.order)
    ]
    return metrics


def _dedupe(breakdowns: list[Breakdown]) -> list[Breakdown]:
    """One row per (dimension, category): the first statement wins.

    A channel counts only where the bulletin lists channels (two or more in one line): a
    channel given alone, in its own section (省长信箱收到来信…), is that channel's report,
    not a part of the total.
    """
    per_line: dict[str | None, int] = {}
    for b in breakdowns:
        if b.dimension == "channel":
            per_line[b.location] = per_line.get(b.location, 0) + 1
    seen: set[tuple[str, str]] = set()
    out = []
    for b in breakdowns:
        if b.dimension == "channel" and per_line[b.location] < 2:
            continue
        ident = (b.dimension, b.category)
        if ident in seen:
            continue
        seen.add(ident)
        out.append(b)
    return out


def nature_from_tables(tables: list[Table]) -> list[Breakdown]:
    """Nature breakdown read from a table whose rows are natures (类型 | 件数 | 占比 | 同比)."""
    for index, table in enumerate(tables):
        keyed = []
        for row in table.rows:
            label = row[0].replace(" ", "") if row else ""
            if is_total_label(label) or len(label) > 8:
                continue
            key = next((k for k, p in _NATURE if p.search(label)), None)
            if key:
                keyed.append((row, label, key))
        if len(keyed) < 3:
            continue
        columns = _nature_table_columns(table.header)
        if columns["count"] is None:
            continue
        out = []
        for row, label, key in keyed:
            cells = {name: _cell(row, i) for name, i in columns.items()}
            if cells["count"] is None:
                continue
            out.append(
                Breakdown(
                    "nature",
                    label,
                    key,
                    int(cells["count"]),
                    cells["share"],
                    cells["change"],
                    " | ".join(row),
                    table.document,
                    f"table {index + 1}",
                )  # fmt: skip
            )
        if out:
            return out
    return []


def _nature_table_columns(header: list[str]) -> dict[str, int | None]:
    found: dict[str, int | None] = {"count": None, "share": None, "change": None}
    for i, text in enumerate(header[1:], start=1):
        if found["share"] is None and re.search(r"占比|比重|比例", text):
            found["share"] = i
        elif found["change"] is None and re.search(r"同比|环比|增幅|增减", text):
            found["change"] = i
        elif found["count"] is None and re.search(r"件数|数量|受理量|件\)|件|量", text):
            found["count"] = i
    return found


def _cell(row: list[str], index: int | None) -> float | int | None:
    if index is None or index >= len(row):
        return None
    return parse_cell_number(row[index])
