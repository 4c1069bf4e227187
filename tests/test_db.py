"""archive/db.py: shape of archive.db, idempotent writes, transactions, FTS, comparison view."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml

from archive import db as archive_db
from archive.db import (
    COMPARISON_VIEW,
    TABLES,
    ensure_db_shape,
    upsert_document,
    upsert_source,
    write_bulletin,
)
from parsers.model import Breakdown, Bulletin, Check, Metric, Period, Table, UnitRow

VOCABULARY = Path(__file__).resolve().parent.parent / "parsers" / "vocabulary.yml"

ARTICLE = "湛江市12345热线1月份诉求分析".encode()
ATTACHMENT = b"%PDF-1.4 attachment bytes"
ARTICLE_ID = hashlib.sha256(ARTICLE).hexdigest()
ATTACHMENT_ID = hashlib.sha256(ATTACHMENT).hexdigest()

TEXT = (
    "1月份,湛江市12345市民服务热线共收到群众诉求63470宗(其中群众来电60311宗,"
    "比上月增长2.28%,日均话务量1946宗)。物业管理类诉求较多。"
)


def make_bulletin(*, n_metrics: int = 3, text: str = TEXT) -> Bulletin:
    """A January 2021 Zhanjiang bulletin built by hand: metrics, a breakdown, a unit table."""
    metrics = [
        Metric("requests_total", 63470, "count", "共收到群众诉求63470宗", document="article"),
        Metric("requests_change_prev_pct", 2.28, "percent", "比上月增长2.28%"),
        Metric("daily_average", 1946, "count", "日均话务量1946宗", location="paragraph 1"),
        # A derived value: must stay out of the comparison view's stated columns.
        Metric("completion_rate", 99.5, "percent", "computed", derived=True),
    ][:n_metrics]
    return Bulletin(
        title="关于2021年1月份群众诉求分析研判情况的通报",
        issuer="湛江市",
        published_date="2021-02-03",
        period=Period(
            period_type="month",
            period_start="2021-01-01",
            period_end="2021-01-31",
            stat_start="2020-12-21",
            stat_end="2021-01-20",
            period_label="2021-01",
        ),
        metrics=metrics,
        breakdowns=[
            Breakdown("channel", "群众来电", "phone", count=60311, evidence="群众来电60311宗"),
            Breakdown("topic", "物业管理", None, share_pct=12.5, document="attachment"),
        ],
        tables=[
            Table(
                title="承办单位办理情况表",
                header=["单位", "承办量", "办结率"],
                rows=[["赤坎区", "120", "98.33%"], ["合计", "120", "98.33%"]],
                document="attachment",
                page=2,
            )
        ],
        unit_rows=[
            UnitRow(
                0, "承办单位办理情况表", 0, "赤坎区", "赤坎区", "承办量", "assigned", 120, "120"
            ),
            UnitRow(
                0,
                "承办单位办理情况表",
                0,
                "赤坎区",
                "赤坎区",
                "办结率",
                "completion_rate",
                98.33,
                "98.33%",
            ),
            UnitRow(
                0,
                "承办单位办理情况表",
                1,
                "合计",
                "合计",
                "承办量",
                "assigned",
                120,
                "120",
                is_total=True,
            ),
        ],
        checks=[Check("units_sum_to_total", "pass", "info", "units add up to the total", 120, 120)],
        issue_number="1",
        text=text,
        original_text=text,
        documents=["article", "attachment"],
        source_meta={"SiteName": "湛江市人民政府"},
    )


def add_source_and_documents(db: sqlite_utils.Database) -> dict[str, str]:
    """The zhanjiang source, its article page and the PDF attached to it."""
    upsert_source(
        db,
        {"slug": "zhanjiang", "name": "湛江市", "province": "广东", "level": "prefecture"},
    )
    common: dict[str, Any] = {
        "source": "zhanjiang",
        "content_type": None,
        "fetched_at": "2024-05-01T10:00:00Z",
        "ingested_at": "2024-05-01T10:00:05Z",
    }
    upsert_document(
        db,
        url="https://www.zhanjiang.gov.cn/a/content/post_1.html",
        final_url=None,
        path=f"raw/zhanjiang/{ARTICLE_ID}.html",
        sha256=ARTICLE_ID,
        size=len(ARTICLE),
        format="html",
        **common,
    )
    upsert_document(
        db,
        url="https://www.zhanjiang.gov.cn/a/att.pdf",
        final_url=None,
        path=f"raw/zhanjiang/{ATTACHMENT_ID}.pdf",
        sha256=ATTACHMENT_ID,
        size=len(ATTACHMENT),
        format="pdf",
        parent_id=ARTICLE_ID,
        **common,
    )
    return {"article": ARTICLE_ID, "attachment": ATTACHMENT_ID}


def write(
    db: sqlite_utils.Database, bulletin: Bulletin, bulletin_id: str = "zhanjiang-2021-01"
) -> None:
    write_bulletin(
        db,
        bulletin,
        bulletin_id=bulletin_id,
        source="zhanjiang",
        url="https://www.zhanjiang.gov.cn/a/content/post_1.html",
        document_ids={"article": ARTICLE_ID, "attachment": ATTACHMENT_ID},
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = sqlite_utils.Database(tmp_path / "archive.db")
    ensure_db_shape(database)
    add_source_and_documents(database)
    yield database
    database.close()


def dump(db: sqlite_utils.Database) -> dict[str, list[tuple]]:
    """Every row of every archive table and of the comparison view, in a stable order."""
    out = {}
    for name in (*TABLES, COMPARISON_VIEW):
        columns = [c.name for c in db[name].columns]
        order = ", ".join(f'"{c}"' for c in columns)
        out[name] = db.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()
    return out


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {name: db[name].count for name in TABLES}


def fts_ids(db: sqlite_utils.Database, query: str) -> list[str]:
    """Bulletin ids whose title or text match an FTS5 query (joined as Datasette does)."""
    sql = (
        "SELECT id FROM bulletins WHERE rowid IN"
        " (SELECT rowid FROM bulletins_fts WHERE bulletins_fts MATCH ?) ORDER BY id"
    )
    return [row[0] for row in db.execute(sql, [query]).fetchall()]


def test_ensure_db_shape_creates_everything_and_is_idempotent(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "a.db")
    ensure_db_shape(db)
    schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    ensure_db_shape(db)
    ensure_db_shape(db)
    assert db.execute(
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
    ).fetchall() == (schema)
    names = set(db.table_names())
    for table in (
        "sources",
        "documents",
        "bulletins",
        "bulletin_documents",
        "metrics",
        "breakdowns",
        "bulletin_tables",
        "unit_rows",
        "checks",
        "bulletins_fts",
    ):
        assert table in names
    assert sorted(db.view_names()) == sorted(
        [COMPARISON_VIEW, "source_status", "metric_revisions", "breakdown_revisions"]
    )
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "trigram" in db["bulletins_fts"].schema


def test_ensure_db_shape_keeps_data_and_adds_new_columns(db: sqlite_utils.Database) -> None:
    write(db, make_bulletin())
    db.execute('ALTER TABLE metrics DROP COLUMN "location"')  # an archive from before the column
    before = counts(db)
    ensure_db_shape(db)
    assert "location" in db["metrics"].columns_dict
    assert counts(db) == before
    assert fts_ids(db, "湛江市") == ["zhanjiang-2021-01"]


def test_indexes_on_filtered_columns(db: sqlite_utils.Database) -> None:
    def indexed(table: str) -> set[tuple[str, ...]]:
        return {tuple(index.columns) for index in db[table].indexes}

    assert ("metric",) in indexed("metrics")
    assert ("bulletin_id", "metric") in indexed("metrics")
    assert {("source",), ("period_type",), ("period_start",), ("year",)} <= indexed("bulletins")
    assert ("unit_key",) in indexed("unit_rows")
    assert ("dimension", "category_key") in indexed("breakdowns")


def test_foreign_keys_declared(db: sqlite_utils.Database) -> None:
    def fks(table: str) -> set[tuple[str, str, str]]:
        return {(fk.column, fk.other_table, fk.other_column) for fk in db[table].foreign_keys}

    assert fks("documents") == {("source", "sources", "slug"), ("parent_id", "documents", "id")}
    assert fks("bulletins") == {("source", "sources", "slug")}
    assert fks("bulletin_documents") == {
        ("bulletin_id", "bulletins", "id"),
        ("document_id", "documents", "id"),
    }
    for table in ("metrics", "breakdowns", "bulletin_tables"):
        assert fks(table) == {
            ("bulletin_id", "bulletins", "id"),
            ("document_id", "documents", "id"),
        }
    assert ("table_id", "bulletin_tables", "id") in fks("unit_rows")
    assert fks("checks") == {("bulletin_id", "bulletins", "id")}


def test_foreign_keys_enforced(db: sqlite_utils.Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO metrics (id, bulletin_id, metric, value, unit, derived)"
            " VALUES ('x:0000', 'no-such-bulletin', 'requests_total', 1, 'count', 0)"
        )
    with pytest.raises(ValueError, match="unknown source"):
        write_bulletin(
            db, make_bulletin(), bulletin_id="b", source="nowhere", url=None, document_ids={}
        )


def test_write_bulletin_stores_the_bulletin(db: sqlite_utils.Database) -> None:
    write(db, make_bulletin(n_metrics=4))
    row = db["bulletins"].get("zhanjiang-2021-01")
    assert row["issuer"] == "湛江市"
    assert row["year"] == 2021
    assert (row["period_type"], row["period_label"]) == ("month", "2021-01")
    assert (row["stat_start"], row["stat_end"]) == ("2020-12-21", "2021-01-20")
    assert row["ingested_at"] == "2024-05-01T10:00:05Z"
    assert "湛江市人民政府" in row["source_meta"]

    metrics = {r["metric"]: r for r in db["metrics"].rows}
    assert metrics["requests_total"]["value"] == 63470
    assert metrics["requests_total"]["unit"] == "count"
    assert metrics["requests_total"]["evidence"] == "共收到群众诉求63470宗"
    assert metrics["requests_total"]["document_id"] == ARTICLE_ID
    assert metrics["requests_change_prev_pct"]["value"] == 2.28
    assert metrics["daily_average"]["location"] == "paragraph 1"
    assert metrics["completion_rate"]["derived"] == 1
    assert metrics["requests_total"]["derived"] == 0
    # No document named and two documents: unknown, not guessed.
    assert metrics["requests_change_prev_pct"]["document_id"] is None

    links = {r["document_id"]: r for r in db["bulletin_documents"].rows}
    assert links[ARTICLE_ID]["role"] == "article"
    assert links[ATTACHMENT_ID]["role"] == "attachment"
    assert links[ATTACHMENT_ID]["name"] == "attachment"

    (table,) = db["bulletin_tables"].rows
    assert table["header"] == '["单位", "承办量", "办结率"]'
    assert (table["n_rows"], table["page"], table["document_id"]) == (2, 2, ATTACHMENT_ID)

    cells = list(db["unit_rows"].rows_where(order_by="id"))
    assert [c["column_key"] for c in cells] == ["assigned", "completion_rate", "assigned"]
    assert [c["is_total"] for c in cells] == [0, 0, 1]
    assert cells[1]["value"] == 98.33 and cells[1]["text"] == "98.33%"
    assert {c["table_id"] for c in cells} == {table["id"]}

    topic = db.execute("SELECT * FROM breakdowns WHERE dimension = 'topic'").fetchone()
    assert "物业管理" in topic
    (check,) = db["checks"].rows
    assert (check["check_name"], check["status"], check["expected"]) == (
        "units_sum_to_total",
        "pass",
        120,
    )


def test_single_document_is_the_source_of_every_row(db: sqlite_utils.Database) -> None:
    write_bulletin(
        db,
        make_bulletin(),
        bulletin_id="one-doc",
        source="zhanjiang",
        url=None,
        document_ids={"article": ARTICLE_ID, "attachment": ARTICLE_ID},
    )
    values = {r["document_id"] for r in db["metrics"].rows}
    assert values == {ARTICLE_ID}


def test_unknown_document_name_raises_and_writes_nothing(db: sqlite_utils.Database) -> None:
    with pytest.raises(ValueError, match="attachment"):
        write_bulletin(
            db,
            make_bulletin(),
            bulletin_id="b",
            source="zhanjiang",
            url=None,
            document_ids={"article": ARTICLE_ID},
        )
    assert counts(db)["bulletins"] == 0 and counts(db)["metrics"] == 0


def test_writing_twice_gives_an_identical_database(
    db: sqlite_utils.Database, tmp_path: Path
) -> None:
    write(db, make_bulletin())
    write(db, make_bulletin(), "zhanjiang-2021-01-copy")
    first = dump(db)
    first_counts = counts(db)
    write(db, make_bulletin())
    write(db, make_bulletin(), "zhanjiang-2021-01-copy")
    assert counts(db) == first_counts
    assert dump(db) == first
    assert first_counts["metrics"] == 6 and first_counts["unit_rows"] == 6

    # A fresh archive built once from the same inputs holds the same rows.
    fresh = sqlite_utils.Database(tmp_path / "fresh.db")
    ensure_db_shape(fresh)
    add_source_and_documents(fresh)
    write(fresh, make_bulletin())
    write(fresh, make_bulletin(), "zhanjiang-2021-01-copy")
    assert dump(fresh) == first


def test_new_version_replaces_old_child_rows(db: sqlite_utils.Database) -> None:
    write(db, make_bulletin(n_metrics=3))
    write(db, make_bulletin(n_metrics=3), "other")
    assert (
        db.execute(
            "SELECT count(*) FROM metrics WHERE bulletin_id = ?", ["zhanjiang-2021-01"]
        ).fetchone()[0]
        == 3
    )
    smaller = make_bulletin(n_metrics=1)
    smaller.unit_rows, smaller.tables = [], []
    write(db, smaller)
    rows = db.execute(
        "SELECT metric FROM metrics WHERE bulletin_id = ?", ["zhanjiang-2021-01"]
    ).fetchall()
    assert rows == [("requests_total",)]
    assert (
        db.execute(
            "SELECT count(*) FROM unit_rows WHERE bulletin_id = ?", ["zhanjiang-2021-01"]
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT count(*) FROM bulletin_tables WHERE bulletin_id = ?", ["zhanjiang-2021-01"]
        ).fetchone()[0]
        == 0
    )
    # The other bulletin is untouched.
    assert db.execute("SELECT count(*) FROM metrics WHERE bulletin_id = 'other'").fetchone()[0] == 3
    assert (
        db.execute("SELECT count(*) FROM unit_rows WHERE bulletin_id = 'other'").fetchone()[0] == 3
    )


def test_failure_mid_write_leaves_previous_version(
    db: sqlite_utils.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(db, make_bulletin(n_metrics=3))
    before = dump(db)
    real_insert = archive_db._insert_rows
    deleted_then_failed = []

    def failing_insert(database: sqlite_utils.Database, table: str, rows: list) -> None:
        if table == "metrics":
            # The old child rows are gone by now; the transaction must bring them back.
            assert database.execute("SELECT count(*) FROM metrics").fetchone()[0] == 0
            deleted_then_failed.append(table)
            raise RuntimeError("disk on fire")
        real_insert(database, table, rows)

    monkeypatch.setattr(archive_db, "_insert_rows", failing_insert)
    changed = make_bulletin(n_metrics=1, text="另一个版本的正文")
    changed.title = "新标题"
    with pytest.raises(RuntimeError, match="disk on fire"):
        write(db, changed)
    assert deleted_then_failed == ["metrics"]
    assert dump(db) == before
    assert fts_ids(db, "湛江市") == ["zhanjiang-2021-01"]
    assert fts_ids(db, "另一个") == []


def test_fts_trigram_search(db: sqlite_utils.Database) -> None:
    write(db, make_bulletin())
    write(db, make_bulletin(text="岳阳市云溪区12345热线第二季度运行情况"), "yueyang")
    assert fts_ids(db, "湛江市") == ["zhanjiang-2021-01"]
    assert fts_ids(db, "江市1") == ["zhanjiang-2021-01"]
    assert fts_ids(db, "12345") == ["yueyang", "zhanjiang-2021-01"]
    assert fts_ids(db, "群众诉求") == ["yueyang", "zhanjiang-2021-01"]  # both titles
    # A new version of the text replaces the old one in the index.
    write(db, make_bulletin(text="廉江市12345热线"), "zhanjiang-2021-01")
    assert fts_ids(db, "湛江市") == []
    assert fts_ids(db, "廉江市") == ["zhanjiang-2021-01"]


def test_comparison_view_one_row_per_bulletin(db: sqlite_utils.Database) -> None:
    write(db, make_bulletin(n_metrics=4))
    write(db, make_bulletin(n_metrics=1), "zhanjiang-2021-01-short")
    rows = {r["bulletin_id"]: r for r in db[COMPARISON_VIEW].rows}
    assert set(rows) == {"zhanjiang-2021-01", "zhanjiang-2021-01-short"}
    full = rows["zhanjiang-2021-01"]
    assert full["requests_total"] == 63470 and isinstance(full["requests_total"], int)
    assert full["requests_change_prev_pct"] == 2.28
    assert full["daily_average"] == 1946
    assert full["completion_rate"] is None  # derived values are not stated values
    assert full["source"] == "zhanjiang" and full["source_name"] == "湛江市"
    assert (full["period_type"], full["period_label"]) == ("month", "2021-01")
    assert full["url"] == "https://www.zhanjiang.gov.cn/a/content/post_1.html"
    assert rows["zhanjiang-2021-01-short"]["daily_average"] is None

    vocabulary_keys = list(yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))["metrics"])
    assert len(vocabulary_keys) >= 19
    columns = [c.name for c in db[COMPARISON_VIEW].columns]
    assert columns[columns.index("title") + 1 : columns.index("url")] == vocabulary_keys


def test_comparison_view_follows_vocabulary() -> None:
    sql = archive_db.comparison_view_sql({"new_key": {"unit": "percent"}})
    assert "AS new_key" in sql and "requests_total" not in sql
    with pytest.raises(ValueError):
        archive_db.comparison_view_sql({"bad key'; drop": {"unit": "count"}})


def test_upsert_document_is_content_addressed(db: sqlite_utils.Database) -> None:
    returned = upsert_document(
        db,
        url="https://mirror.example/post_1.html",
        final_url=None,
        source="zhanjiang",
        path=None,
        sha256=ARTICLE_ID,
        size=len(ARTICLE),
        format="html",
        content_type="text/html; charset=utf-8",
        fetched_at="2024-06-01T00:00:00Z",
        ingested_at="2024-06-01T00:00:01Z",
        http_status=200,
    )
    assert returned == ARTICLE_ID
    assert db["documents"].count == 2
    row = db["documents"].get(ARTICLE_ID)
    # First sighting of these bytes is kept; newer non-null facts are added.
    assert row["ingested_at"] == "2024-05-01T10:00:05Z"
    assert row["fetched_at"] == "2024-05-01T10:00:00Z"
    assert row["url"] == "https://mirror.example/post_1.html"
    assert row["path"] == f"raw/zhanjiang/{ARTICLE_ID}.html"
    assert (row["http_status"], row["content_type"]) == (200, "text/html; charset=utf-8")
    assert db["documents"].get(ATTACHMENT_ID)["parent_id"] == ARTICLE_ID


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "ABC"}, "sha256"),
        ({"format": "exe"}, "format"),
        ({"path": "/etc/passwd"}, "relative"),
        ({"source": "nowhere"}, "unknown source"),
        ({"parent_id": "0" * 64}, "parent"),
    ],
)
def test_upsert_document_rejects_bad_input(
    db: sqlite_utils.Database, change: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {
        "url": None,
        "final_url": None,
        "source": "zhanjiang",
        "path": "raw/x.txt",
        "sha256": "1" * 64,
        "size": 3,
        "format": "txt",
        "content_type": None,
        "fetched_at": None,
        "ingested_at": "2024-05-01T00:00:00Z",
    }
    with pytest.raises(ValueError, match=message):
        upsert_document(db, **(args | change))
    assert db["documents"].count == 2


def test_upsert_source_updates_given_fields(db: sqlite_utils.Database) -> None:
    upsert_source(
        db, {"slug": "zhanjiang", "name": "湛江市", "homepage": "https://www.zhanjiang.gov.cn"}
    )
    row = db["sources"].get("zhanjiang")
    assert row["homepage"] == "https://www.zhanjiang.gov.cn"
    assert row["province"] == "广东"  # not given this time: kept
    with pytest.raises(ValueError, match="level"):
        upsert_source(db, {"slug": "x", "name": "X", "level": "city"})
    with pytest.raises(ValueError, match="unknown source fields"):
        upsert_source(db, {"slug": "x", "name": "X", "mayor": "?"})
    with pytest.raises(ValueError, match="slug"):
        upsert_source(db, {"slug": "Zhan Jiang", "name": "X"})


def test_writes_need_the_shape(tmp_path: Path) -> None:
    empty = sqlite_utils.Database(tmp_path / "empty.db")
    with pytest.raises(RuntimeError, match="ensure_db_shape"):
        upsert_source(empty, {"slug": "x", "name": "X"})
    assert empty.table_names() == []
