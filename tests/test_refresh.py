"""Refresh over loopback: incremental walks, conditional requests, versions, failures reported and retried.

The mirror is made in a temporary directory for each test (the bulletins in it are written
for these tests, not real ones; they never reach the bundled samples or a published archive).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.refresh import refresh
from scrapers.base import Source
from scrapers.http import Fetcher
from scrapers.mirror import MirrorServer

HOST = "hotline.test.example"
SOURCE = Source(
    slug="testcity",
    name="测试市",
    province="测试省",
    level="prefecture",
    division_code=None,
    homepage=f"http://{HOST}/",
    listing_urls=(f"http://{HOST}/rx/index.html",),
    platform="generic",
    allowed_hosts=(HOST,),
)

ARTICLE = """<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{date}"></head><body><h1>{title}</h1>
<div id="zoom"><p>{month}月份,测试市12345热线共受理群众诉求{total}件,群众满意率{rate}%。</p></div>
{attachment}</body></html>"""


def _listing(items: list[tuple[str, str, str]], next_page: str | None = None) -> str:
    lis = "".join(
        f'<li><a href="{href}">{title}</a><span>{date}</span></li>' for href, title, date in items
    )
    pager = f'<div class="page"><a href="{next_page}">下一页</a></div>' if next_page else ""
    return f'<html><head><meta charset="utf-8"></head><body><ul class="list">{lis}</ul>{pager}</body></html>'


def _write(root: Path, path: str, text: str | bytes) -> None:
    target = root / HOST / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)


def _article(month: int, total: int, rate: str, attachment: str = "") -> str:
    link = (
        f'<div class="fj">附件:<a href="{attachment}">统计表.xlsx</a></div>' if attachment else ""
    )
    title = f"2024年{month}月份12345热线运行情况"
    return ARTICLE.format(title=title, date=f"2024-{month + 1:02d}-05", month=month, total=total, rate=rate,
                          attachment=link)  # fmt: skip


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    _write(root, "rx/index.html", _listing(
        [("./202405/a2.html", "2024年4月份12345热线运行情况", "2024-05-05"),
         ("./202405/notice.html", "关于开展业务培训的通知", "2024-05-04")],
        next_page="index_2.html",
    ))  # fmt: skip
    _write(
        root,
        "rx/index_2.html",
        _listing([("./202404/a1.html", "2024年3月份12345热线运行情况", "2024-04-05")]),
    )
    _write(root, "rx/202405/a2.html", _article(4, 2000, "95.5", attachment="./P02024.xlsx"))
    _write(root, "rx/202405/P02024.xlsx", b"PK-not-a-real-workbook-v1")
    _write(root, "rx/202404/a1.html", _article(3, 1000, "96.1"))
    return root


def _run(db: Path, root: Path, full: bool = False):
    """One refresh; the requests the mirror saw, but robots.txt (asked once per run, by design)."""
    with MirrorServer(root) as server, Fetcher(mirror=server.base_url, min_interval=0) as fetcher:
        (report,) = refresh(db, [SOURCE], fetcher, full=full)
        return report, [r for r in server.requests if not r[1].endswith("/robots.txt")]


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_first_run_walks_the_pages_and_skips_notices(tmp_path: Path, site: Path) -> None:
    db = tmp_path / "archive.db"
    report, requests = _run(db, site)
    assert report.error is None
    assert report.new_bulletins == 2
    assert [s["title"] for s in report.skipped] == ["关于开展业务培训的通知"]
    assert not any(
        "notice.html" in path for _, path, _ in requests
    )  # a non-bulletin is never fetched
    assert _rows(db, "select period_label, url from bulletins order by period_label") == [
        ("2024-03", f"http://{HOST}/rx/202404/a1.html"),
        ("2024-04", f"http://{HOST}/rx/202405/a2.html"),
    ]
    # the figures came through the whole pipeline
    assert _rows(
        db, "select value from metrics where metric = 'requests_total' order by value"
    ) == [(1000.0,), (2000.0,)]
    # the attachment is stored with its article as parent, the failed parse reported
    assert _rows(
        db, "select d.url, p.url from documents d join documents p on p.id = d.parent_id"
    ) == [(f"http://{HOST}/rx/202405/P02024.xlsx", f"http://{HOST}/rx/202405/a2.html")]


def test_raw_bodies_are_stored_unedited(tmp_path: Path, site: Path) -> None:
    db = tmp_path / "archive.db"
    _run(db, site)
    for path, url in _rows(db, "select path, url from documents"):
        mirror_file = site / HOST / url.split(HOST + "/", 1)[1]
        assert (tmp_path / path).read_bytes() == mirror_file.read_bytes()


def test_second_run_against_an_unchanged_mirror_stores_nothing(tmp_path: Path, site: Path) -> None:
    db = tmp_path / "archive.db"
    _run(db, site)
    before = _rows(db, "select id, url, fetched_at from documents order by id")
    report, requests = _run(db, site)
    assert (report.new_documents, report.changed_documents, report.new_bulletins) == (0, 0, 0)
    assert report.requests == report.not_modified == 1  # the first listing page, answered 304
    assert all(
        "If-None-Match" in headers or "If-Modified-Since" in headers for _, _, headers in requests
    )
    assert _rows(db, "select id, url, fetched_at from documents order by id") == before


def test_a_new_bulletin_on_the_first_page_is_the_only_thing_fetched(
    tmp_path: Path, site: Path
) -> None:
    db = tmp_path / "archive.db"
    _run(db, site)
    _write(site, "rx/index.html", _listing(
        [("./202406/a3.html", "2024年5月份12345热线运行情况", "2024-06-05"),
         ("./202405/a2.html", "2024年4月份12345热线运行情况", "2024-05-05")],
        next_page="index_2.html",
    ))  # fmt: skip
    _write(site, "rx/202406/a3.html", _article(5, 3000, "97.0"))
    report, requests = _run(db, site)
    fetched_bodies = [path for method, path, headers in requests if "If-None-Match" not in headers]
    assert fetched_bodies == [f"/{HOST}/rx/202406/a3.html"]
    assert report.new_bulletins == 1
    # page 1 was not all known, so page 2 was asked too, conditionally: its 304 ends the walk
    page_2 = [headers for _, path, headers in requests if path.endswith("index_2.html")]
    assert len(page_2) == 1 and "If-None-Match" in page_2[0]


def test_a_changed_attachment_is_a_new_version_beside_the_old(tmp_path: Path, site: Path) -> None:
    db = tmp_path / "archive.db"
    _run(db, site)
    _write(site, "rx/202405/P02024.xlsx", b"PK-not-a-real-workbook-v2")
    report, _ = _run(db, site, full=True)
    assert report.changed_documents == 1
    versions = _rows(
        db, f"select path from documents where url = 'http://{HOST}/rx/202405/P02024.xlsx'"
    )
    assert len(versions) == 2
    assert sorted((tmp_path / p).read_bytes() for (p,) in versions) == [
        b"PK-not-a-real-workbook-v1",
        b"PK-not-a-real-workbook-v2",
    ]


def test_a_failed_attachment_is_reported_and_retried(tmp_path: Path, site: Path) -> None:
    db = tmp_path / "archive.db"
    (site / HOST / "rx/202405/P02024.xlsx").unlink()
    report, _ = _run(db, site)
    assert report.failures == [
        {"url": f"http://{HOST}/rx/202405/P02024.xlsx", "reason": "http 404"}
    ]
    assert report.new_bulletins == 2  # the bulletin is archived from its article meanwhile
    _write(site, "rx/202405/P02024.xlsx", b"PK-not-a-real-workbook-v1")
    report, _ = _run(db, site)
    assert report.failures == [] and report.new_documents == 1  # retried and stored this time


def test_a_source_that_cannot_run_is_an_error_and_the_cli_exits_2(
    tmp_path: Path, site: Path, monkeypatch
) -> None:
    (site / HOST / "rx/index.html").unlink()
    db = tmp_path / "archive.db"
    report, _ = _run(db, site)
    assert report.error == f"listing page http://{HOST}/rx/index.html: http 404"

    from archive import cli as cli_module

    monkeypatch.setattr(cli_module, "_selected_sources", lambda slugs: [SOURCE])
    result = CliRunner().invoke(
        cli_module.cli, ["refresh", "--db", str(db), "--mirror", str(site), "--json"]
    )
    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert out["sources"][0]["error"].endswith("http 404")
