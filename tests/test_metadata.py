"""metadata.yml describes every table, view and column of archive.db, in Chinese and English."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette

from archive.db import ensure_db_shape, upsert_document, upsert_source, write_bulletin
from parsers.model import Breakdown, Bulletin, Metric, Period, Table, UnitRow

ROOT = Path(__file__).resolve().parent.parent
METADATA = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
VOCABULARY = yaml.safe_load((ROOT / "parsers" / "vocabulary.yml").read_text(encoding="utf-8"))
ARCHIVE = METADATA["databases"]["archive"]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")

PAGE = "聊城市12345市民热线第二季度通告".encode()
PAGE_ID = hashlib.sha256(PAGE).hexdigest()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive with its full shape and one Liaocheng bulletin."""
    path = tmp_path_factory.mktemp("meta") / "archive.db"
    db = sqlite_utils.Database(path)
    ensure_db_shape(db)
    upsert_source(
        db, {"slug": "liaocheng", "name": "聊城市", "province": "山东", "level": "prefecture"}
    )
    upsert_document(
        db,
        url="http://www.liaocheng.gov.cn/post.html",
        final_url=None,
        source="liaocheng",
        path=f"raw/liaocheng/{PAGE_ID}.html",
        sha256=PAGE_ID,
        size=len(PAGE),
        format="html",
        content_type="text/html",
        fetched_at="2024-05-01T00:00:00Z",
        ingested_at="2024-05-01T00:00:01Z",
    )
    text = "本季度,共受理群众诉求388275件,较去年同期增长40.39%。物业服务类诉求较多。"
    bulletin = Bulletin(
        title="聊城:关于2020年第二季度群众来电办理情况的通告",
        issuer="聊城市",
        published_date="2020-07-15",
        period=Period("quarter", "2020-04-01", "2020-06-30", None, None, "2020-Q2"),
        metrics=[Metric("requests_total", 388275, "count", "共受理群众诉求388275件")],
        breakdowns=[Breakdown("nature", "求助", "help", count=200765)],
        tables=[Table("承办单位办理情况", ["单位", "承办量"], [["东昌府区", "10"]])],
        unit_rows=[
            UnitRow(
                0, "承办单位办理情况", 0, "东昌府区", "东昌府区", "承办量", "assigned", 10, "10"
            )
        ],
        text=text,
        original_text=text,
    )
    write_bulletin(
        db,
        bulletin,
        bulletin_id="liaocheng-2020-Q2",
        source="liaocheng",
        url="http://www.liaocheng.gov.cn/post.html",
        document_ids={"page": PAGE_ID},
    )
    db.close()
    return path


def described(text: object) -> bool:
    """A description with at least one Chinese character and one latin letter."""
    return isinstance(text, str) and bool(CJK.search(text)) and bool(LATIN.search(text))


def archive_objects(db_path: Path) -> dict[str, list[str]]:
    """Tables and views of the archive with their columns, minus SQLite and FTS internals."""
    db = sqlite_utils.Database(db_path)
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        ).fetchall()
        if not row[0].startswith("sqlite_") and "_fts_" not in row[0]
    ]
    # table_xinfo also lists generated columns; hidden = 1 marks a virtual table's own
    # hidden columns (FTS5 rank and the table-named column), which Datasette does not show.
    objects = {
        name: [c[1] for c in db.execute(f'PRAGMA table_xinfo("{name}")') if c[6] != 1]
        for name in names
    }
    db.close()
    return objects


def test_site_level_metadata() -> None:
    for key in ("title", "description", "license", "license_url", "source", "source_url"):
        assert METADATA.get(key), key
    assert described(METADATA["title"]) and described(METADATA["description"])
    assert "cite" in METADATA["description"].lower() and "引用" in METADATA["description"]


def test_every_table_view_and_column_is_described(db_path: Path) -> None:
    objects = archive_objects(db_path)
    assert {"bulletins", "metrics", "bulletin_comparison", "bulletins_fts"} <= set(objects)
    tables = ARCHIVE["tables"]
    problems = []
    for name, columns in objects.items():
        meta = tables.get(name)
        if meta is None:
            problems.append(f"{name}: not in metadata.yml")
            continue
        if not described(meta.get("description")):
            problems.append(f"{name}: description lacks Chinese or English")
        column_meta = meta.get("columns") or {}
        for column in columns:
            if not described(column_meta.get(column)):
                problems.append(f"{name}.{column}: no Chinese + English description")
        for stale in sorted(set(column_meta) - set(columns)):
            problems.append(f"{name}.{stale}: described but not in the database")
    for stale in sorted(set(tables) - set(objects)):
        problems.append(f"{stale}: described but not in the database")
    assert problems == []


def test_metric_keys_documented() -> None:
    metric_description = ARCHIVE["tables"]["metrics"]["columns"]["metric"]
    for key, spec in VOCABULARY["metrics"].items():
        assert key in metric_description, key
        assert spec["zh"] in metric_description, spec["zh"]


def test_facets_name_real_columns(db_path: Path) -> None:
    bulletin_facets = ["source", "province", "level", "period_type", "year"]
    assert ARCHIVE["tables"]["bulletins"]["facets"] == bulletin_facets
    assert ARCHIVE["tables"]["bulletin_comparison"]["facets"] == bulletin_facets
    objects = archive_objects(db_path)
    for name, meta in ARCHIVE["tables"].items():
        for facet in meta.get("facets", []):
            assert facet in objects[name], f"{name}: facet {facet}"


def run_query(db_path: Path, name: str, params: dict[str, str]) -> list[dict]:
    db = sqlite_utils.Database(db_path)
    try:
        return list(db.query(ARCHIVE["queries"][name]["sql"], params))
    finally:
        db.close()


def test_search_text_finds_two_character_words(db_path: Path) -> None:
    hits = run_query(db_path, "search_text", {"q": "物业"})
    assert [(h["found_in"], h["bulletin_id"]) for h in hits] == [
        ("bulletins.text", "liaocheng-2020-Q2")
    ]
    assert "物业服务" in hits[0]["context"]
    units = run_query(db_path, "search_text", {"q": "东昌"})
    assert [(h["found_in"], h["context"]) for h in units] == [("unit_rows.unit_name", "东昌府区")]
    categories = run_query(db_path, "search_text", {"q": "求助"})
    assert [(h["found_in"], h["context"]) for h in categories] == [
        ("breakdowns.category", "nature: 求助")
    ]
    titles = run_query(db_path, "search_text", {"q": "聊城"})
    assert {h["found_in"] for h in titles} == {"bulletins.title"}
    assert run_query(db_path, "search_text", {"q": ""}) == []


def test_metric_across_sources(db_path: Path) -> None:
    rows = run_query(
        db_path, "metric_across_sources", {"metric": "requests_total", "period_type": "quarter"}
    )
    assert [(r["source_name"], r["period_label"], r["value"]) for r in rows] == [
        ("聊城市", "2020-Q2", 388275)
    ]
    assert (
        run_query(
            db_path, "metric_across_sources", {"metric": "requests_total", "period_type": "month"}
        )
        == []
    )


def test_datasette_serves_metadata_and_queries(db_path: Path) -> None:
    async def fetch() -> dict[str, object]:
        datasette = Datasette([str(db_path)], metadata=METADATA)
        await datasette.invoke_startup()
        pages = {
            "facets": "/archive/bulletins.json?_shape=objects",
            "search": "/archive/bulletins.json?_search=群众诉求&_shape=objects",
            "query": "/archive/search_text.json?q=物业&_shape=objects",
            "view": "/archive/bulletin_comparison.json?_shape=objects",
        }
        out = {}
        for key, page in pages.items():
            response = await datasette.client.get(page)
            assert response.status_code == 200, (page, response.text[:300])
            out[key] = response.json()
        return out

    result = asyncio.run(fetch())
    facets = result["facets"]["facet_results"]
    assert set(facets) == {"source", "province", "level", "period_type", "year"}
    assert [(v["value"], v["count"]) for v in facets["province"]["results"]] == [("山东", 1)]
    assert [(v["value"], v["count"]) for v in facets["level"]["results"]] == [("prefecture", 1)]
    assert [r["id"] for r in result["search"]["rows"]] == ["liaocheng-2020-Q2"]
    assert [r["bulletin_id"] for r in result["query"]["rows"]] == ["liaocheng-2020-Q2"]
    assert [r["requests_total"] for r in result["view"]["rows"]] == [388275]


AGREED_QUERIES = {
    "metric_across_sources",
    "source_series",
    "units_most_overdue",
    "topics_rising",
    "failed_checks",
    "search_text",
    "provenance",
    "missing_periods",
    "publication_lag",
    "new_bulletins",
}
NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def test_canned_queries_read_only_and_documented() -> None:
    queries = ARCHIVE["queries"]
    assert set(queries) == AGREED_QUERIES
    for name, query in queries.items():
        assert not query.get("write"), name
        assert "allow" not in query, name
        assert query["sql"].lstrip().lower().startswith(("select", "with")), name
        assert described(query.get("title")), name
        assert described(query.get("description")), name
        # Literal strings in the SQL ('/-/raw/', '%分类%') hold no parameters.
        parameters = set(NAMED_PARAMETER.findall(re.sub(r"'[^']*'", "''", query["sql"])))
        assert set(query.get("params", [])) == parameters, name
        if parameters:
            assert "Example" in query["description"] and "例" in query["description"], name


def test_home_page_text() -> None:
    home = METADATA["description_html"]
    assert described(home)
    for text in ("How to cite", "如何引用", "derived = 1", "not been verified", "/-/raw/"):
        assert text in home, text
    for name in AGREED_QUERIES:
        assert f'href="archive/{name}' in home, name
    assert 'href="-/dashboards/hotline"' in home


def test_dashboard_has_a_line_chart_and_a_bar_chart() -> None:
    dashboard = METADATA["plugins"]["datasette-dashboards"]["hotline"]
    charts = dashboard["charts"]
    marks = {
        name: chart["display"]["mark"]["type"]
        for name, chart in charts.items()
        if chart["library"] == "vega-lite"
    }
    assert marks["metric_over_time"] == "line"
    assert "bar" in {marks["latest_ranking"], marks["units_overdue"]}
    assert {chart.get("db") for chart in charts.values() if "query" in chart} == {"archive"}
    for name, chart in charts.items():
        if "query" in chart:
            assert chart["query"].lstrip().lower().startswith(("select", "with")), name
    for row in dashboard["layout"]:
        assert set(row) <= set(charts)
