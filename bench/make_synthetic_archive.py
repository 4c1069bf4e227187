"""Generate a SYNTHETIC archive.db for the load benchmark (a tool to run by hand, not a test).

    .venv/bin/python bench/make_synthetic_archive.py OUT.db --metrics 1000000

The archive has the real structure (archive.db.ensure_db_shape: every table, index, view,
the FTS index and its triggers) and generated figures: N sources x years x 12 monthly
bulletins, each with one document, ~28 metric rows (the 19 headline keys stated, 9 of them
also derived), breakdowns (nature, channel, topic), three checks (a few failing) and, for a
share of the bulletins, a per-unit table in long form (unit_rows). Everything is marked
synthetic: source names end in "(synthetic)", titles and texts open with 合成测试数据, the
URLs are on the reserved ``.invalid`` domain. Never publish the result.

The figures are drawn from a seeded generator, so the same arguments give the same database.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from archive.db import TABLE_SPECS, ensure_db_shape  # noqa: E402

COLUMNS = {spec.name: list(spec.columns) for spec in TABLE_SPECS}

METRICS_PER_BULLETIN = 28
MONTHS = 12
PROVINCES = ("山东省", "广东省", "湖南省", "浙江省", "江苏省", "四川省", "河南省", "湖北省",
             "河北省", "福建省", "安徽省", "江西省", "辽宁省", "陕西省", "云南省")  # fmt: skip
LEVELS = ("prefecture", "prefecture", "district", "county")
STATED_KEYS = (
    "requests_total", "calls_inbound", "calls_answered", "connection_rate",
    "first_call_connection_rate", "work_orders_total", "resolved_directly",
    "direct_resolution_rate", "transferred", "completed", "completion_rate",
    "on_time_completion_rate", "on_time_reply_rate", "overdue", "satisfaction_rate",
    "callbacks", "daily_average", "requests_change_yoy_pct", "requests_change_prev_pct",
)  # fmt: skip
DERIVED_KEYS = (
    "connection_rate", "direct_resolution_rate", "completion_rate", "on_time_completion_rate",
    "satisfaction_rate", "daily_average", "requests_change_yoy_pct", "requests_change_prev_pct",
    "first_call_connection_rate",
)  # fmt: skip
PERCENT_KEYS = {k for k in STATED_KEYS if k.endswith(("_rate", "_pct"))}
EVIDENCE = {
    "requests_total": "共受理群众诉求{v}件", "calls_inbound": "呼入来电{v}个",
    "calls_answered": "接通来电{v}个", "connection_rate": "接通率{v}%",
    "first_call_connection_rate": "一次接通率{v}%", "work_orders_total": "生成工单{v}件",
    "resolved_directly": "直接答复{v}件", "direct_resolution_rate": "直办率{v}%",
    "transferred": "转办{v}件", "completed": "办结{v}件", "completion_rate": "办结率{v}%",
    "on_time_completion_rate": "按时办结率{v}%", "on_time_reply_rate": "按期回复率{v}%",
    "overdue": "超期{v}件", "satisfaction_rate": "满意率{v}%", "callbacks": "回访{v}次",
    "daily_average": "日均受理{v}件", "requests_change_yoy_pct": "同比增长{v}%",
    "requests_change_prev_pct": "环比增长{v}%",
}  # fmt: skip
NATURES = (("咨询", "consult"), ("求助", "help"), ("投诉", "complaint"), ("建议", "suggestion"))
CHANNELS = (("电话", "phone"), ("微信", "wechat"), ("网站", "web"))
TOPICS = ("物业管理", "供暖供热", "城市管理", "劳动社保", "交通出行", "市场监管", "住房保障",
          "环境保护", "教育", "医疗卫生", "疫情防控", "供水供电")  # fmt: skip
UNITS = ("住建局", "城管局", "供电公司", "水务集团", "市场监管局", "人社局", "交通运输局",
         "自然资源局", "卫健委", "教育局", "公安局", "生态环境局")  # fmt: skip
FILLER = (
    "热线坚持以人民为中心,持续提升服务质量。",
    "针对群众反映集中的物业管理、供暖供热问题,督促相关单位限期办理。",
    "加强疫情防控政策解读,及时回应群众关切。",
    "对超期未办结工单进行督办,并通报承办单位办理情况。",
    "典型案例:某小区居民反映电梯长期故障,经协调已维修完毕。",
    "下一步,将进一步完善工单分派机制,提高一次办结率。",
)
MARK = "合成测试数据 SYNTHETIC - 非真实公报, not a real bulletin, never publish"


@dataclass
class Counts:
    """Rows written per table."""

    sources: int = 0
    bulletins: int = 0
    metrics: int = 0
    breakdowns: int = 0
    unit_rows: int = 0
    checks: int = 0


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _insert(db: sqlite_utils.Database, table: str, rows: list[tuple]) -> None:
    """INSERT many rows given as tuples in the column order of archive.db.TABLE_SPECS."""
    if rows:
        columns = COLUMNS[table]
        db.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            rows,
        )


def _figures(rng: random.Random, days: int) -> dict[str, float]:
    """Headline figures of one month that are roughly consistent with each other."""
    total = rng.randint(2_000, 400_000)
    calls = int(total * rng.uniform(0.8, 1.2))
    answered = int(calls * rng.uniform(0.85, 0.999))
    direct = int(total * rng.uniform(0.3, 0.7))
    completed = int(total * rng.uniform(0.9, 1.0))
    return {
        "requests_total": total,
        "calls_inbound": calls,
        "calls_answered": answered,
        "connection_rate": round(100 * answered / calls, 2),
        "first_call_connection_rate": round(rng.uniform(80, 99.9), 2),
        "work_orders_total": total - direct,
        "resolved_directly": direct,
        "direct_resolution_rate": round(100 * direct / total, 2),
        "transferred": total - direct,
        "completed": completed,
        "completion_rate": round(100 * completed / total, 2),
        "on_time_completion_rate": round(rng.uniform(90, 100), 2),
        "on_time_reply_rate": round(rng.uniform(90, 100), 2),
        "overdue": rng.randint(0, total // 50),
        "satisfaction_rate": round(rng.uniform(85, 99.99), 2),
        "callbacks": int(total * rng.uniform(0.1, 0.5)),
        "daily_average": round(total / days),
        "requests_change_yoy_pct": round(rng.uniform(-30, 60), 2),
        "requests_change_prev_pct": round(rng.uniform(-20, 20), 2),
    }


def _text(rng: random.Random, title: str, figures: dict[str, float], chars: int) -> str:
    """A bulletin-like text: the title, the figures as sentences, filler up to ``chars``."""
    sentences = [EVIDENCE[k].format(v=_shown(k, figures[k])) for k in STATED_KEYS]
    lines = [MARK, title, "本月,全市12345热线" + ",".join(sentences) + "。"]
    lines.append("热点问题主要集中在" + "、".join(rng.sample(TOPICS, 3)) + "等方面。")
    size = sum(len(line) for line in lines)
    while size < chars:
        line = rng.choice(FILLER)
        lines.append(line)
        size += len(line)
    return "\n".join(lines)


def _shown(key: str, value: float) -> str:
    return f"{value:.2f}" if key in PERCENT_KEYS else str(int(value))


def _bulletin_plan(n_bulletins: int, years: int, first_year: int) -> Iterator[tuple[int, int, int]]:
    """(source index, year, month) for each bulletin, source by source."""
    per_source = years * MONTHS
    for index in range(n_bulletins):
        source, within = divmod(index, per_source)
        yield source, first_year + within // MONTHS, within % MONTHS + 1


def generate(
    out: Path,
    metrics: int,
    years: int = 10,
    first_year: int = 2015,
    unit_share: float = 0.25,
    text_chars: int = 1500,
    seed: int = 12345,
    batch: int = 2000,
) -> Counts:
    """Write the synthetic archive to ``out`` (which must not exist). Returns the rows written."""
    if out.exists():
        raise SystemExit(f"{out} exists: remove it first")
    rng = random.Random(seed)
    db = sqlite_utils.Database(out)
    ensure_db_shape(db)
    db.execute("PRAGMA synchronous = OFF")  # a generated file: speed over durability
    counts = Counts()
    n_bulletins = math.ceil(metrics / METRICS_PER_BULLETIN)
    n_sources = math.ceil(n_bulletins / (years * MONTHS))

    sources = []
    for i in range(n_sources):
        sources.append(
            (f"synthetic-{i:04d}", f"合成测试{i:04d}市 (synthetic)", PROVINCES[i % len(PROVINCES)],
             LEVELS[i % len(LEVELS)], None, f"http://synthetic-{i:04d}.invalid/", "synthetic",
             "SYNTHETIC benchmark data: generated figures, never published")
        )  # fmt: skip
    with db.conn:
        _insert(db, "sources", sources)
    counts.sources = len(sources)

    pending: dict[str, list[tuple]] = {}
    metric_rows_left = metrics

    def flush() -> None:
        with db.conn:
            # Parents before children (foreign keys are on).
            for table in ("documents", "bulletins", "bulletin_documents", "bulletin_tables",
                          "unit_rows", "metrics", "breakdowns", "checks"):  # fmt: skip
                _insert(db, table, pending.get(table, []))
        pending.clear()

    for index, (source_index, year, month) in enumerate(
        _bulletin_plan(n_bulletins, years, first_year)
    ):
        slug, name, province, level = sources[source_index][:4]
        days = calendar.monthrange(year, month)[1]
        bulletin_id = f"{slug}-{year}-{month:02d}"
        url = f"http://{slug}.invalid/12345/{year}/{month:02d}/bulletin.html"
        title = f"【合成测试】{name}{year}年{month}月份12345热线运行情况通报"
        figures = _figures(rng, days)
        text = _text(rng, title, figures, text_chars)
        doc_id = _sha(bulletin_id)
        stamp = f"{year + (month == 12)}-{month % 12 + 1:02d}-10T00:00:00+00:00"
        published = stamp[:10]
        add = pending.setdefault
        add("documents", []).append(
            (doc_id, url, None, slug, None, f"synthetic/{doc_id}.html", "html",
             "text/html; charset=utf-8", 200, None, None, doc_id, len(text.encode()) + 400,
             stamp, stamp)
        )  # fmt: skip
        add("bulletins", []).append(
            (bulletin_id, slug, province, level, url, title, name.split(" ")[0], published,
             "month", f"{year}-{month:02d}-01", f"{year}-{month:02d}-{days:02d}", None, None,
             f"{year}-{month:02d}", year, f"{year}年第{month}期", "simplified", text, text,
             json.dumps({"synthetic": "true"}), stamp)
        )  # fmt: skip
        add("bulletin_documents", []).append((bulletin_id, doc_id, "article", "bulletin.html"))

        n_metrics = min(METRICS_PER_BULLETIN, metric_rows_left)
        keys = [(k, 0) for k in STATED_KEYS] + [(k, 1) for k in DERIVED_KEYS]
        for position, (key, derived) in enumerate(keys[:n_metrics]):
            value = figures[key]
            if derived:  # a recomputation differs in the last digits
                value = round(value * rng.uniform(0.999, 1.001), 2)
            unit = "percent" if key in PERCENT_KEYS else "count"
            evidence = EVIDENCE[key].format(v=_shown(key, figures[key]))
            add("metrics", []).append(
                (f"{bulletin_id}:{position:04d}", bulletin_id, key, float(value), unit, evidence,
                 derived, doc_id, f"paragraph {2 + position // 7}")
            )  # fmt: skip
        metric_rows_left -= n_metrics
        counts.metrics += n_metrics

        total = figures["requests_total"]
        position = 0
        for dimension, categories in (("nature", NATURES), ("channel", CHANNELS)):
            shares = [rng.random() for _ in categories]
            for (category, key), share in zip(categories, shares, strict=True):
                count = int(total * share / sum(shares))
                add("breakdowns", []).append(
                    (f"{bulletin_id}:{position:04d}", bulletin_id, dimension, category, key,
                     count, round(100 * count / total, 2), None, f"{category}{count}件", doc_id)
                )  # fmt: skip
                position += 1
        for topic in rng.sample(TOPICS, 3):
            count = rng.randint(10, total // 10)
            add("breakdowns", []).append(
                (f"{bulletin_id}:{position:04d}", bulletin_id, "topic", topic, None, count, None,
                 round(rng.uniform(-40, 40), 2), f"{topic}{count}件", doc_id)
            )  # fmt: skip
            position += 1
        counts.breakdowns += position

        for position, check in enumerate(("nature_sum", "channel_sum", "direct_plus_transferred")):
            failed = rng.random() < 0.04
            actual = total + (rng.randint(1, 500) if failed else 0)
            add("checks", []).append(
                (f"{bulletin_id}:{position:04d}", bulletin_id, check,
                 "fail" if failed else "pass", "warning" if failed else "info",
                 f"{check}: parts sum to {actual} of requests_total {total}", float(total),
                 float(actual))
            )  # fmt: skip
        counts.checks += 3

        if rng.random() < unit_share:
            counts.unit_rows += _unit_table(add, rng, bulletin_id, doc_id)

        counts.bulletins += 1
        if (index + 1) % batch == 0:
            flush()
            print(f"  {index + 1}/{n_bulletins} bulletins", file=sys.stderr)
    flush()
    with db.conn:
        db.execute("INSERT INTO bulletins_fts(bulletins_fts) VALUES('optimize')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return counts


def _unit_table(add, rng: random.Random, bulletin_id: str, doc_id: str) -> int:
    """A per-unit table (承办单位办理情况表) with a totals row, in long form. Returns its cells."""
    table_id = f"{bulletin_id}:0000"
    split_overdue = rng.random() < 0.3  # some tables print overdue as completed + open
    columns = [
        ("承办量", "assigned"),
        ("办结率", "completion_rate"),
        ("满意率", "satisfaction_rate"),
    ]
    columns += (
        [("超期已办结", "overdue_completed"), ("超期未办理", "overdue_open")]
        if split_overdue
        else [("超期件数", "overdue")]
    )
    units = rng.sample(UNITS, rng.randint(6, len(UNITS)))
    body, cells = [], []
    for row_index, unit in enumerate([*units, "合计"]):
        values = [rng.randint(50, 5000), round(rng.uniform(90, 100), 2),
                  round(rng.uniform(85, 100), 2)] + [rng.randint(0, 30) for _ in columns[3:]]  # fmt: skip
        body.append([unit, *(str(v) for v in values)])
        for (header, key), value in zip(columns, values, strict=True):
            cells.append((row_index, unit, header, key, float(value), str(value), unit == "合计"))
    add("bulletin_tables", []).append(
        (table_id, bulletin_id, 0, "承办单位办理情况表", json.dumps(["单位", *(h for h, _ in columns)],
         ensure_ascii=False), json.dumps(body, ensure_ascii=False), len(body), len(columns) + 1,
         doc_id, None)
    )  # fmt: skip
    for position, (row_index, unit, header, key, value, text, is_total) in enumerate(cells):
        add("unit_rows", []).append(
            (f"{bulletin_id}:{position:04d}", bulletin_id, table_id, 0, "承办单位办理情况表",
             row_index, unit, unit, header, key, value, text, int(is_total), doc_id)
        )  # fmt: skip
    return len(cells)


def main(argv: list[str] | None = None) -> None:
    """Command line: OUT.db --metrics N [--years Y] [--unit-share S] [--text-chars C] [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the database to create (must not exist)")
    parser.add_argument("--metrics", type=int, default=1_000_000, help="metric rows to write")
    parser.add_argument("--years", type=int, default=10, help="years of monthly bulletins")
    parser.add_argument("--unit-share", type=float, default=0.25,
                        help="share of bulletins with a per-unit table")  # fmt: skip
    parser.add_argument("--text-chars", type=int, default=1500, help="length of each text")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    started = time.monotonic()
    counts = generate(args.out, args.metrics, years=args.years, unit_share=args.unit_share,
                      text_chars=args.text_chars, seed=args.seed)  # fmt: skip
    size = args.out.stat().st_size / 1e6
    print(
        f"{args.out}: {counts.sources} sources, {counts.bulletins} bulletins, {counts.metrics}"
        f" metrics, {counts.breakdowns} breakdowns, {counts.unit_rows} unit rows,"
        f" {counts.checks} checks; {size:.0f} MB in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
