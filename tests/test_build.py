"""`hotline build` from the bundled samples: the seeds land in the archive, and a rebuild changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive.build import build_from_manifest
from archive.paths import SAMPLES_DIR


def _dump(db_path: Path) -> list[str]:
    """Every row of every table, but the FTS index's own segment blobs (compared by searching)."""
    conn = sqlite3.connect(db_path)
    try:
        return [
            line
            for line in conn.iterdump()
            if "sqlite_stat" not in line and not line.startswith('INSERT INTO "bulletins_fts_')
        ]
    finally:
        conn.close()


def _search(db_path: Path, term: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "select rowid from bulletins_fts where bulletins_fts match ? order by rowid", (term,)
        ).fetchall()
    finally:
        conn.close()


def test_rebuild_gives_the_same_database(tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    build_from_manifest(db_path, SAMPLES_DIR)
    first, first_hits = _dump(db_path), _search(db_path, "12345")
    build_from_manifest(db_path, SAMPLES_DIR)
    assert _dump(db_path) == first
    assert _search(db_path, "12345") == first_hits
    assert len(first_hits) == 5


def test_every_sample_is_one_bulletin(sample_archive: Path) -> None:
    conn = sqlite3.connect(sample_archive)
    rows = conn.execute("select source, period_label from bulletins order by source, period_label")
    assert rows.fetchall() == [
        ("hengdong", "2020-09"),
        ("liaocheng", "2015-06"),
        ("liaocheng", "2020-Q2"),
        ("yueyang-yunxi", "2020-Q2"),
        ("zhanjiang", "2021-01"),
    ]


# Values read by hand from the seed texts (samples/seeds/), as archived from their HTML pages.
@pytest.mark.parametrize(
    ("source", "label", "metric", "value"),
    [
        ("liaocheng", "2020-Q2", "requests_total", 388275),  # 共受理群众诉求388275件
        ("liaocheng", "2020-Q2", "satisfaction_rate", 97.71),  # 综合满意率97.71%
        ("zhanjiang", "2021-01", "requests_total", 63470),  # 共收到群众诉求63470宗
        ("zhanjiang", "2021-01", "satisfaction_rate", 95.22),  # 服务满意率95.22%
        ("liaocheng", "2015-06", "calls_inbound", 43853),  # 共呼入群众来电 43853 个
        ("yueyang-yunxi", "2020-Q2", "completion_rate", 98.99),  # 辦結率98.99%
        ("hengdong", "2020-09", "transferred", 456),  # 转办工单456件
    ],
)
def test_archived_metric(
    sample_archive: Path, source: str, label: str, metric: str, value: float
) -> None:
    conn = sqlite3.connect(sample_archive)
    row = conn.execute(
        "select m.value, m.evidence, m.document_id from metrics m join bulletins b on b.id = m.bulletin_id"
        " where b.source = ? and b.period_label = ? and m.metric = ?",
        (source, label, metric),
    ).fetchone()
    assert row is not None
    assert row[0] == pytest.approx(value)
    assert row[2] is not None  # every figure points at the document it was read from


def test_issuer_is_the_source(sample_archive: Path) -> None:
    conn = sqlite3.connect(sample_archive)
    issuers = dict(conn.execute("select source, issuer from bulletins"))
    assert issuers["yueyang-yunxi"] == "岳阳市云溪区"
    assert issuers["liaocheng"] == "聊城市"


def test_table_cells_from_the_hengdong_page(sample_archive: Path) -> None:
    conn = sqlite3.connect(sample_archive)
    # 合计 | 3338 | 3285 | 18 | 0.55% in the 9月份群众诉求问题分类统计 table
    rows = conn.execute(
        "select value from unit_rows u join bulletins b on b.id = u.bulletin_id"
        " where b.source = 'hengdong' and u.is_total = 1 and u.column_header = '受理件数'"
    ).fetchall()
    assert rows == [(3338.0,)]


def test_failing_document_is_reported_and_the_rest_is_built(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    (samples / "sites").mkdir(parents=True)
    (samples / "sites" / "empty.html").write_bytes(b"")
    good = SAMPLES_DIR / "sites" / "www.hengdong.gov.cn"
    page = next(p for p in good.rglob("i*.html") if p.name != "index.html")
    target = samples / "sites" / "good.html"
    target.write_bytes(page.read_bytes())
    (samples / "manifest.yml").write_text(
        "sources:\n"
        "  - {slug: hengdong, name: 衡东县, province: 湖南省, level: county}\n"
        "documents:\n"
        "  - {source: hengdong, url: 'http://x/empty.html', path: sites/empty.html}\n"
        "  - {source: hengdong, url: 'http://x/good.html', path: sites/good.html}\n",
        encoding="utf-8",
    )
    report = build_from_manifest(tmp_path / "a.db", samples)
    assert len(report.failures) == 1 and "empty" in report.failures[0]
    assert report.bulletins == 1
