"""The published site: Datasette with metadata.yml, the site's plugins and the pinned plugins.

Most tests run Datasette's own test client on the archive that `hotline demo --no-serve`
builds from the bundled sample sites (raw/ beside it, as the raw-copy route needs). Expected
figures are read from the seeds in shared/seeds and the sample pages in samples/sites.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner
from datasette.app import Datasette
from datasette.plugins import pm

from archive import cli as cli_module
from archive.datasette_plugins import PLUGINS_DIR
from archive.datasette_plugins.raw import content_disposition, download_name, stored_file
from archive.db import ensure_db_shape, upsert_document, upsert_source, write_bulletin
from archive.paths import METADATA, REPO_ROOT, SAMPLES_DIR
from parsers.model import Breakdown, Bulletin, Metric, Period

SITES = SAMPLES_DIR / "sites"
ZHANJIANG_PAGE = SITES / "www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/content/post_1398215.html"
LIAOCHENG_XLSX = SITES / "www.liaocheng.gov.cn/zmhd/12345rxyb/201507/P020150713392614058732.xlsx"
QUERIES = (
    "metric_across_sources",
    "source_series",
    "units_most_overdue",
    "topics_rising",
    "failed_checks",
    "search_text",
    "provenance",
    "new_bulletins",
    "missing_periods",
    "publication_lag",
)
# The settings `hotline serve` passes (checked against its command line below).
SETTINGS = {"sql_time_limit_ms": 3000, "max_returned_rows": 1000, "suggest_facets": False}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_metadata() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """archive.db built by `hotline demo --no-serve` from the sample sites, raw/ beside it."""
    db_path = tmp_path_factory.mktemp("site") / "archive.db"
    done = subprocess.run(
        [sys.executable, "-m", "archive.cli", "demo", "--db", str(db_path), "--no-serve"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (db_path.parent / "raw").is_dir()
    return db_path


def make_datasette(db_path: Path, immutable: bool = True) -> Datasette:
    files = {"immutables": [str(db_path)]} if immutable else {"files": [str(db_path)]}
    return Datasette(
        **files, metadata=load_metadata(), plugins_dir=str(PLUGINS_DIR), settings=SETTINGS
    )


@pytest.fixture(scope="module")
def plugin_registry() -> Iterator[None]:
    """Unregister the plugins-dir modules afterwards: Datasette registers them process-wide."""
    before = {pm.get_name(p) for p in pm.get_plugins()}
    yield
    for plugin in list(pm.get_plugins()):
        if pm.get_name(plugin) not in before:
            pm.unregister(plugin)


@pytest.fixture(scope="module")
def site(demo_archive: Path, plugin_registry: None) -> Datasette:
    return make_datasette(demo_archive)


async def rows(ds: Datasette, path: str) -> list[dict]:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


# --- canned queries with their example parameters -------------------------------------


@pytest.mark.asyncio
async def test_metric_across_sources_satisfaction_by_month(site: Datasette) -> None:
    found = await rows(
        site,
        "/archive/metric_across_sources.json?metric=satisfaction_rate&period_type=month"
        "&_shape=array",
    )
    values = [(r["source"], r["period_label"], r["value"]) for r in found]
    # 衡东: 市民对办理结果的满意率为97.80%; 湛江: 服务满意率95.22%
    assert values == [("hengdong", "2020-09", 97.8), ("zhanjiang", "2021-01", 95.22)]
    assert all(r["derived"] == 0 and r["unit"] == "percent" for r in found)
    assert "95.22%" in found[1]["evidence"]


@pytest.mark.asyncio
async def test_source_series_liaocheng_requests(site: Datasette) -> None:
    found = await rows(
        site, "/archive/source_series.json?source=liaocheng&metric=requests_total&_shape=array"
    )
    # 受理来电工单 44082 个 (2015-06); 共受理群众诉求388275件 (2020 Q2)
    assert [(r["period_label"], r["period_type"], r["value"]) for r in found] == [
        ("2015-06", "month", 44082),
        ("2020-Q2", "quarter", 388275),
    ]


@pytest.mark.asyncio
async def test_units_most_overdue(site: Datasette) -> None:
    found = await rows(site, "/archive/units_most_overdue.json?_shape=array")
    top = [(r["source"], r["unit_name"], r["overdue"]) for r in found[:2]]
    # Hengdong's unit table: 草市镇人民政府 超期已办结 3, 超期未办理 2; 电力公司 4, 0.
    assert top == [("hengdong", "草市镇人民政府", 5), ("hengdong", "电力公司", 4)]
    assert (found[0]["overdue_completed"], found[0]["overdue_open"]) == (3, 2)
    names = {r["unit_name"] for r in found}
    # Rows of the 问题分类 table are topics, not units; totals rows are not units either.
    assert "农林畜牧水利" not in names and "合计" not in names
    limited = await rows(site, "/archive/units_most_overdue.json?limit=1&_shape=array")
    assert [r["unit_name"] for r in limited] == ["草市镇人民政府"]


@pytest.mark.asyncio
async def test_topics_rising_on_the_sample_archive_is_empty(site: Datasette) -> None:
    # Only Liaocheng 2020-Q2 has topic counts: there is no previous bulletin to compare with.
    assert await rows(site, "/archive/topics_rising.json?_shape=array") == []


@pytest.mark.asyncio
async def test_failed_checks_lists_liaocheng_2015(site: Datasette) -> None:
    found = await rows(site, "/archive/failed_checks.json?_shape=array")
    liaocheng = [r for r in found if (r["source"], r["period_label"]) == ("liaocheng", "2015-06")]
    # 直办工单 32333 + 转办 11528 = 43861, but 受理来电工单 44082.
    assert [(r["check_name"], r["expected"], r["actual"]) for r in liaocheng] == [
        ("direct_plus_transferred", 44082, 43861)
    ]
    assert "43861" in liaocheng[0]["message"] and "44082" in liaocheng[0]["message"]
    assert liaocheng[0]["source_name"] == "聊城市"


@pytest.mark.asyncio
async def test_search_text_two_characters(site: Datasette) -> None:
    found = await rows(site, "/archive/search_text.json?q=物业&_shape=array")
    hits = {(r["source"], r["period_label"], r["found_in"]) for r in found}
    # 聊城 2020 Q2: 工商消费维权、市容环境、疫情防控、物业管理、耕地灌溉
    assert ("liaocheng", "2020-Q2", "bulletins.text") in hits
    assert ("liaocheng", "2020-Q2", "breakdowns.category") in hits
    assert all("物业" in r["context"] for r in found)


@pytest.mark.asyncio
async def test_full_text_search_three_characters(site: Datasette) -> None:
    found = await rows(site, "/archive/bulletins.json?_search=疫情防控&_shape=array")
    assert [(r["source"], r["period_label"]) for r in found] == [("liaocheng", "2020-Q2")]


@pytest.mark.asyncio
async def test_provenance_figure_to_raw_copy(site: Datasette) -> None:
    found = await rows(
        site, "/archive/provenance.json?metric=satisfaction_rate&source=zhanjiang&_shape=array"
    )
    assert len(found) == 1
    figure = found[0]
    assert figure["value"] == 95.22 and "服务满意率95.22%" in figure["evidence"]
    page_sha = sha256_of(ZHANJIANG_PAGE)
    assert figure["document_id"] == page_sha
    assert figure["raw_url"] == f"/-/raw/{page_sha}"
    assert figure["bulletin_url"].endswith("/content/post_1398215.html")
    assert figure["document_url"] == figure["bulletin_url"]
    raw = await site.client.get(figure["raw_url"])
    assert raw.status_code == 200 and raw.content == ZHANJIANG_PAGE.read_bytes()


@pytest.mark.asyncio
async def test_every_query_runs_with_empty_parameters(site: Datasette) -> None:
    for name in QUERIES:
        response = await site.client.get(f"/archive/{name}.json")
        assert response.status_code == 200, (name, response.text[:300])
        assert response.json()["ok"] is True, name
    everything = await rows(site, "/archive/provenance.json?_shape=array")
    assert {r["source"] for r in everything} == {
        "liaocheng",
        "zhanjiang",
        "yueyang-yunxi",
        "hengdong",
    }


# --- provenance links on table pages ---------------------------------------------------


@pytest.mark.asyncio
async def test_document_cells_link_to_raw_copy_and_source(site: Datasette) -> None:
    page_sha = sha256_of(ZHANJIANG_PAGE)
    for table in ("metrics", "breakdowns"):
        response = await site.client.get(f"/archive/{table}?bulletin_id__startswith=zhanjiang")
        assert response.status_code == 200
        html = response.text
        assert f'href="/-/raw/{page_sha}"' in html, table
        assert f'href="/archive/documents/{page_sha}"' in html, table
        assert 'href="http://www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/content/post_1398215.html"' in (
            html
        )
    # Hengdong's unit table is printed in the article page (the .docx repeats it).
    units = await site.client.get("/archive/unit_rows?unit_name=电力公司")
    hengdong_page = SITES / "www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"
    assert f'href="/-/raw/{sha256_of(hengdong_page)}"' in units.text
    query = await site.client.get("/archive/provenance?metric=satisfaction_rate&source=zhanjiang")
    assert f'<a href="/-/raw/{page_sha}">/-/raw/{page_sha}</a>' in query.text


# --- raw copies -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_raw_copy_of_an_attachment(site: Datasette) -> None:
    response = await site.client.get(f"/-/raw/{sha256_of(LIAOCHENG_XLSX)}")
    assert response.status_code == 200
    assert response.content == LIAOCHENG_XLSX.read_bytes()
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["content-disposition"]
    # The article links it as 6月份各承办单位办理来电情况.xlsx.
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''" + quote("6月份各承办单位办理来电情况.xlsx") in disposition
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.asyncio
async def test_raw_copy_of_a_page_keeps_its_stored_content_type(
    site: Datasette, demo_archive: Path
) -> None:
    page_sha = sha256_of(ZHANJIANG_PAGE)
    with sqlite3.connect(demo_archive) as conn:
        (stored_type,) = conn.execute(
            "select content_type from documents where id = ?", [page_sha]
        ).fetchone()
    response = await site.client.get(f"/-/raw/{page_sha}")
    assert response.status_code == 200
    assert response.headers["content-type"] == stored_type
    assert stored_type.startswith("text/html")
    assert "content-disposition" not in response.headers
    # Someone else's page, served from our origin: sandboxed, no scripts.
    assert response.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    "path",
    [
        "/-/raw/" + "0" * 64,
        "/-/raw/abc",
        "/-/raw/" + "g" * 64,
        "/-/raw/..%2F..%2Fetc%2Fpasswd",
        "/-/raw/archive.db",
    ],
)
@pytest.mark.asyncio
async def test_raw_copy_unknown_or_invalid_is_404(site: Datasette, path: str) -> None:
    response = await site.client.get(path)
    assert response.status_code == 404


def test_stored_file_stays_inside_the_store(tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a").write_bytes(b"a")
    (tmp_path.parent / "outside.txt").write_bytes(b"secret")
    (tmp_path / "raw" / "link").symlink_to(tmp_path.parent / "outside.txt")
    assert stored_file(db_path, "raw/a") == (tmp_path / "raw" / "a").resolve()
    assert stored_file(db_path, "../outside.txt") is None
    assert stored_file(db_path, "raw/../../outside.txt") is None
    assert stored_file(db_path, str(tmp_path.parent / "outside.txt")) is None
    assert stored_file(db_path, "raw/link") is None
    assert stored_file(db_path, "raw/missing") is None
    # The bundled samples' paths are relative to the repository.
    sample = "samples/sites/www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/content/post_1398215.html"
    assert stored_file(db_path, sample) == ZHANJIANG_PAGE.resolve()
    assert stored_file(db_path, "samples/../archive/db.py") is None


def test_download_names() -> None:
    sha = "a" * 64
    assert download_name(sha, "附件.xlsx", "http://x.cn/P1.xlsx", "xlsx") == "附件.xlsx"
    assert download_name(sha, None, "http://x.cn/a/P1.xlsx?x=1", "xlsx") == "P1.xlsx"
    assert download_name(sha, "../../etc/passwd", None, "txt") == "passwd"
    assert download_name(sha, None, "http://x.cn/", "pdf") == f"{sha}.pdf"
    header = content_disposition('a"b\r\n.pdf')
    assert "\r" not in header and "\n" not in header and 'a"b' not in header


# --- exports, dashboard, robots, read-only ---------------------------------------------


@pytest.mark.asyncio
async def test_csv_and_json_export_of_a_table_and_a_query(site: Datasette) -> None:
    table_csv = await site.client.get("/archive/bulletins.csv?_size=max")
    assert table_csv.status_code == 200
    table_rows = list(csv.DictReader(io.StringIO(table_csv.text)))
    assert {r["source"] for r in table_rows} == {
        "liaocheng",
        "zhanjiang",
        "yueyang-yunxi",
        "hengdong",
    }
    query_csv = await site.client.get(
        "/archive/metric_across_sources.csv?metric=satisfaction_rate&period_type=month"
    )
    assert query_csv.status_code == 200
    values = [(r["source"], r["value"]) for r in csv.DictReader(io.StringIO(query_csv.text))]
    assert values == [("hengdong", "97.8"), ("zhanjiang", "95.22")]
    table_json = await rows(site, "/archive/bulletin_comparison.json?_shape=array")
    liaocheng_q2 = [
        r for r in table_json if r["period_label"] == "2020-Q2" and r["source"] == "liaocheng"
    ]
    assert liaocheng_q2[0]["requests_total"] == 388275
    query_json = (await site.client.get("/archive/failed_checks.json")).json()
    assert query_json["columns"][:4] == ["source", "source_name", "period_label", "check_name"]
    assert [row[:4] for row in query_json["rows"]] == [
        ["liaocheng", "聊城市", "2015-06", "direct_plus_transferred"]
    ]


@pytest.mark.asyncio
async def test_bulletins_faceted_by_province_and_level(site: Datasette) -> None:
    response = await site.client.get("/archive/bulletins.json")
    facets = response.json()["facet_results"]
    assert set(facets) == {"source", "province", "level", "period_type", "year"}
    counts = {name: {v["value"]: v["count"] for v in facets[name]["results"]} for name in facets}
    # 聊城 (山东, 地级市) x2, 湛江 (广东, 地级市), 云溪区 (湖南, 区), 衡东县 (湖南, 县)
    assert counts["province"] == {"山东省": 2, "湖南省": 2, "广东省": 1}
    assert counts["level"] == {"prefecture": 3, "district": 1, "county": 1}
    assert counts["year"] == {2020: 3, 2015: 1, 2021: 1}
    view = await site.client.get("/archive/bulletin_comparison.json")
    assert set(view.json()["facet_results"]) == set(facets)


@pytest.mark.asyncio
async def test_home_page(site: Datasette) -> None:
    response = await site.client.get("/")
    assert response.status_code == 200
    html = response.text
    for text in ("如何引用", "How to cite", "derived = 1", "not been verified", "聊城市"):
        assert text in html, text
    assert 'href="-/dashboards/hotline"' in html
    for name in QUERIES:
        assert f'href="archive/{name}' in html, name


@pytest.mark.asyncio
async def test_dashboard(site: Datasette) -> None:
    response = await site.client.get("/-/dashboards/hotline", follow_redirects=True)
    assert response.status_code == 200
    html = response.text
    for chart in ("metric_over_time", "latest_ranking", "units_overdue"):
        assert f"renderChart('{chart}'" in html, chart
    assert '"type": "line"' in html and '"type": "bar"' in html
    assert "vega-lite.min.js" in html


@pytest.mark.asyncio
async def test_dashboard_chart_queries(site: Datasette) -> None:
    charts = load_metadata()["plugins"]["datasette-dashboards"]["hotline"]["charts"]

    async def chart_rows(name: str, **params: str) -> list[dict]:
        sql = re.sub(r"\[\[.*?\]\]", "", charts[name]["query"], flags=re.S)
        query = httpx.QueryParams({"sql": sql, "_shape": "array", **params})
        return await rows(site, f"/archive.json?{query}")

    line = await chart_rows("metric_over_time", metric="satisfaction_rate")
    assert {(r["source"], r["value"]) for r in line} == {
        ("衡东县 hengdong", 97.8),
        ("聊城市 liaocheng", 97.71),  # 综合满意率97.71%
        ("岳阳市云溪区 yueyang-yunxi", 87.2),  # 群众满意率为87.2%
        ("湛江市 zhanjiang", 95.22),
    }
    ranking = await chart_rows("latest_ranking", metric="requests_total")
    # The latest bulletin of each source: 聊城 2020-Q2 388275, 湛江 63470, 衡东 3338, 云溪 2282.
    assert [(r["source"], r["period_label"], r["value"]) for r in ranking] == [
        ("聊城市", "2020-Q2", 388275),
        ("湛江市", "2021-01", 63470),
        ("衡东县", "2020-09", 3338),
        ("岳阳市云溪区", "2020-Q2", 2282),
    ]
    units = await chart_rows("units_overdue")
    assert units[0] == {"unit": "衡东县 草市镇人民政府", "overdue": 5}


@pytest.mark.asyncio
async def test_robots_blocked_on_query_endpoints(site: Datasette) -> None:
    response = await site.client.get("/robots.txt")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.removeprefix("Disallow: ") for line in lines[1:]}
    assert {"/archive?", "/archive.json", "/archive.csv", "/-/"} <= disallowed
    assert {f"/archive/{name}" for name in QUERIES} <= disallowed
    # Table and row pages and the home page stay readable.
    assert "/" not in disallowed and "/archive" not in disallowed
    tables = {"sources", "documents", "bulletins", "metrics", "breakdowns", "unit_rows"}
    assert not any(f"/archive/{t}".startswith(d) for t in tables for d in disallowed)


@pytest.mark.asyncio
async def test_database_is_immutable_and_sql_read_only(site: Datasette) -> None:
    databases = await rows(site, "/-/databases.json")
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("archive", False)]
    for sql in ("delete from metrics", "update bulletins set title = 'x'", "drop table checks"):
        response = await site.client.get(f"/archive.json?{httpx.QueryParams({'sql': sql})}")
        assert response.status_code == 400, sql
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await site.get_database("archive").execute(
            "insert into sources (slug, name) values ('x', 'X')"
        )
    count = await rows(site, "/archive.json?sql=select+count(*)+as+n+from+metrics&_shape=array")
    assert count[0]["n"] > 0


@pytest.mark.asyncio
async def test_sql_time_limit_applies(site: Datasette) -> None:
    settings = await rows(site, "/-/settings.json")
    assert settings["sql_time_limit_ms"] == 3000
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    # _timelimit lowers the limit for this request (it cannot raise it above the setting).
    params = httpx.QueryParams({"sql": slow, "_timelimit": "100"})
    response = await site.client.get(f"/archive.json?{params}")
    assert response.status_code == 400
    assert "interrupted" in response.text.lower() or "time limit" in response.text.lower()


def test_no_writable_canned_queries() -> None:
    queries = load_metadata()["databases"]["archive"]["queries"]
    assert set(queries) == set(QUERIES)
    assert not any(q.get("write") for q in queries.values())


# --- a small archive with hostile and consecutive data ---------------------------------


SCRIPT_TITLE = '<script>alert("x")</script>聊城市12345热线通告'
Q1_PAGE = "聊城市2020年第一季度通告".encode()
Q2_PAGE = '<p>聊城市2020年第二季度通告 <script>alert("x")</script></p>'.encode()
OUTSIDE = b"not part of the archive"


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory, plugin_registry: None) -> Path:
    """Two consecutive Liaocheng quarters with topic counts, a title with a script tag, and
    documents rows that point outside the store or at changed bytes."""
    root = tmp_path_factory.mktemp("small")
    db_path = root / "site" / "archive.db"
    db_path.parent.mkdir()
    db = sqlite_utils.Database(db_path)
    ensure_db_shape(db)
    upsert_source(
        db, {"slug": "liaocheng", "name": "聊城市", "province": "山东省", "level": "prefecture"}
    )
    ids = {}
    for name, body in (("q1", Q1_PAGE), ("q2", Q2_PAGE)):
        sha = hashlib.sha256(body).hexdigest()
        relative = f"raw/{sha[:2]}/{sha}"
        (db_path.parent / relative).parent.mkdir(parents=True, exist_ok=True)
        (db_path.parent / relative).write_bytes(body)
        upsert_document(
            db,
            url=f"http://www.liaocheng.gov.cn/{name}.html",
            final_url=None,
            source="liaocheng",
            path=relative,
            sha256=sha,
            size=len(body),
            format="html",
            content_type="text/html; charset=utf-8",
            fetched_at="2024-01-01T00:00:00Z",
            ingested_at="2024-01-01T00:00:00Z",
        )
        ids[name] = sha
    quarters = {
        "q1": ("2020-01-01", "2020-03-31", "2020-Q1", {"物业管理": 100, "供暖": 50}, None),
        "q2": ("2020-04-01", "2020-06-30", "2020-Q2", {"物业管理": 150, "供暖": 40}, 12.5),
    }
    for name, (start, end, label, topics, stated) in quarters.items():
        breakdowns = [Breakdown("topic", k, None, count=v) for k, v in topics.items()]
        if stated is not None:
            breakdowns.append(
                Breakdown(
                    "topic",
                    "噪音扰民",
                    None,
                    count=30,
                    change_pct=stated,
                    evidence="噪音扰民30件,环比上升12.5%",
                )
            )
        bulletin = Bulletin(
            title=SCRIPT_TITLE if name == "q2" else "聊城市2020年第一季度通告",
            period=Period("quarter", start, end, None, None, label),
            metrics=[Metric("requests_total", 1000, "count", "<b>受理诉求1000件</b>")],
            breakdowns=breakdowns,
            text="正文",
            original_text="正文",
        )
        write_bulletin(
            db,
            bulletin,
            bulletin_id=f"liaocheng-{label}",
            source="liaocheng",
            url=f"http://www.liaocheng.gov.cn/{name}.html",
            document_ids={"page": ids[name]},
        )
    # Rows the writer would refuse, written directly: the route must not follow them.
    (root / "outside.txt").write_bytes(OUTSIDE)
    outside_sha = hashlib.sha256(OUTSIDE).hexdigest()
    changed = b"original bytes"
    changed_sha = hashlib.sha256(changed).hexdigest()
    (db_path.parent / "raw" / "changed").write_bytes(b"other bytes")
    for sha, path in ((outside_sha, "../outside.txt"), (changed_sha, "raw/changed")):
        db.execute(
            "insert into documents (id, source, path, format, sha256, size, ingested_at)"
            " values (?, 'liaocheng', ?, 'txt', ?, 1, '2024-01-01T00:00:00Z')",
            [sha, path, sha],
        )
    db.conn.commit()
    db.close()
    return db_path


@pytest.fixture(scope="module")
def small_site(small_archive: Path) -> Datasette:
    return make_datasette(small_archive)


@pytest.mark.asyncio
async def test_topics_rising_between_consecutive_quarters(small_site: Datasette) -> None:
    found = await rows(small_site, "/archive/topics_rising.json?_shape=array")
    rising = [
        (r["basis"], r["previous_period"], r["period_label"], r["category"],
         r["previous_count"], r["count"], r["increase"], r["increase_pct"])
        for r in found
    ]  # fmt: skip
    # 物业管理 100 -> 150 (+50, +50%); 供暖 50 -> 40 fell; 噪音扰民 is new but stated +12.5%.
    assert rising == [
        ("previous bulletin", "2020-Q1", "2020-Q2", "物业管理", 100, 150, 50, 50.0),
        ("stated", None, "2020-Q2", "噪音扰民", None, 30, None, 12.5),
    ]


@pytest.mark.asyncio
async def test_titles_and_evidence_are_escaped(small_site: Datasette) -> None:
    pages = (
        "/archive/bulletins",
        "/archive/bulletins/liaocheng-2020-Q2",
        "/archive/metrics",
        "/archive/search_text?q=聊城",
        "/archive/provenance?metric=requests_total",
        "/archive/bulletin_comparison",
    )
    for page in pages:
        response = await small_site.client.get(page)
        assert response.status_code == 200, page
        assert '<script>alert("x")' not in response.text, page
        assert "&lt;script&gt;alert(" in response.text, page
    metrics = await small_site.client.get("/archive/metrics")
    assert "<b>受理诉求" not in metrics.text and "&lt;b&gt;受理诉求1000件" in metrics.text


@pytest.mark.asyncio
async def test_raw_route_refuses_paths_outside_the_store_and_changed_bytes(
    small_site: Datasette,
) -> None:
    outside = await small_site.client.get(f"/-/raw/{hashlib.sha256(OUTSIDE).hexdigest()}")
    assert outside.status_code == 404 and OUTSIDE.decode() not in outside.text
    changed = await small_site.client.get(f"/-/raw/{hashlib.sha256(b'original bytes').hexdigest()}")
    assert changed.status_code == 404
    q2 = await small_site.client.get(f"/-/raw/{hashlib.sha256(Q2_PAGE).hexdigest()}")
    assert q2.status_code == 200 and q2.content == Q2_PAGE
    assert q2.headers["content-type"] == "text/html; charset=utf-8"


def test_bulletins_follow_their_source_province_and_level(
    small_archive: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "archive.db"
    copy.write_bytes(small_archive.read_bytes())
    db = sqlite_utils.Database(copy)
    assert {(r["province"], r["level"]) for r in db["bulletins"].rows} == {("山东省", "prefecture")}
    upsert_source(db, {"slug": "liaocheng", "name": "聊城市", "province": "山东"})
    assert {(r["province"], r["level"]) for r in db["bulletins"].rows} == {("山东", "prefecture")}
    # An archive from before the columns: ensure_db_shape fills them in.
    db.execute("update bulletins set province = null, level = null")
    db.conn.commit()
    ensure_db_shape(db)
    assert {(r["province"], r["level"]) for r in db["bulletins"].rows} == {("山东", "prefecture")}
    # Still searchable: the copy did not disturb the full-text index.
    hits = db.execute(
        "select id from bulletins where rowid in"
        " (select rowid from bulletins_fts where bulletins_fts match '第一季度')"
    ).fetchall()
    assert hits == [("liaocheng-2020-Q1",)]
    db.close()


# --- hotline serve -----------------------------------------------------------------------


def test_serve_command_line(demo_archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(cli_module.os, "execv", lambda path, args: calls.append(args))
    result = CliRunner().invoke(
        cli_module.cli,
        ["serve", "--db", str(demo_archive), "--host", "0.0.0.0", "--port", "8123"]
        + ["--setting", "base_url", "/hotline/"],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    [args] = calls
    assert args[args.index("-i") + 1] == str(demo_archive.resolve())
    assert args[args.index("--plugins-dir") + 1] == str(PLUGINS_DIR)
    assert args[args.index("--metadata") + 1] == str(METADATA)
    assert (args[args.index("--host") + 1], args[args.index("--port") + 1]) == ("0.0.0.0", "8123")
    settings = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setting"}
    # The settings these tests run Datasette with are the ones hotline serve passes.
    assert {k: settings[k] for k in SETTINGS} == {
        "sql_time_limit_ms": "3000",
        "max_returned_rows": "1000",
        "suggest_facets": "off",
    }
    assert settings["base_url"] == "/hotline/"
    missing = CliRunner().invoke(
        cli_module.cli, ["serve", "--db", str(demo_archive.parent / "no.db")]
    )
    assert missing.exit_code != 0 and "does not exist" in missing.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hotline_serve_runs_the_site(demo_archive: Path, tmp_path: Path) -> None:
    """The real command: a Datasette process with the plugins, immutable, on the given port."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archive.cli",
            "serve",
            "--db",
            str(demo_archive),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,  # not the repository: the command must not depend on the working directory
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/-/versions.json", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "hotline serve did not start"
                time.sleep(0.2)
        plugins = {p["name"] for p in httpx.get(f"{base}/-/plugins.json").json()}
        assert {"raw.py", "provenance.py", "feed.py", "datasette-dashboards", "datasette-vega",
                "datasette-block-robots", "datasette-atom"} <= plugins  # fmt: skip
        raw = httpx.get(f"{base}/-/raw/{sha256_of(LIAOCHENG_XLSX)}")
        assert raw.status_code == 200 and raw.content == LIAOCHENG_XLSX.read_bytes()
        databases = httpx.get(f"{base}/-/databases.json").json()
        assert [(d["name"], d["is_mutable"]) for d in databases] == [("archive", False)]
        assert "Disallow: /archive?" in httpx.get(f"{base}/robots.txt").text
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert f"http://127.0.0.1:{port}/" in (tmp_path / "serve.log").read_text()
