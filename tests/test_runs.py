"""Run history, takedowns and versions, one behaviour at a time (the whole story is in
tests/test_schedule_story.py), on the fault tests' county site (three bulletins, July-September
2020, two a listing page)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from faults.harness import (
    B07,
    B08,
    B09,
    FIRST_RUN,
    HOST,
    SOURCE,
    Site,
    listing_html,
    rows,
    run_refresh,
)
from faults.server import FaultServer, http_error

from archive import db as archive_db
from archive.build import bulletin_id_for
from archive.refresh import EXIT_OK, EXIT_PARTIAL, EXIT_SOURCE_ERROR, SourceReport, exit_code_for
from parsers.model import Breakdown, Bulletin, Metric, Period

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path / "mirror")
    site.publish(*FIRST_RUN)
    return site


@pytest.fixture()
def server(site: Site) -> Iterator[FaultServer]:
    with FaultServer(site.root) as server:
        yield server


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    (tmp_path / "archive").mkdir()
    return tmp_path / "archive" / "archive.db"


# --- exit codes -------------------------------------------------------------------------------


def test_exit_code_for_reports() -> None:
    ok = SourceReport("a")
    partial = SourceReport("b", failures=[{"url": "u", "reason": "http 500"}])
    error = SourceReport("c", error="listing page x: http 503")
    assert exit_code_for([ok]) == EXIT_OK == 0
    assert exit_code_for([ok, partial]) == EXIT_PARTIAL == 1
    assert exit_code_for([partial, error]) == EXIT_SOURCE_ERROR == 2
    assert exit_code_for([]) == 0


# --- runs -------------------------------------------------------------------------------------


def test_a_run_with_a_failed_document_is_partial(db: Path, site: Site, server: FaultServer) -> None:
    server.inject(B08.url, http_error(500))
    run_refresh(db, server)
    assert rows(db, "SELECT status, exit_code, failed, new_bulletins FROM runs") == [
        ("partial", 1, 1, 2)
    ]
    ((status, failed, failures),) = rows(db, "SELECT status, failed, failures FROM run_sources")
    assert (status, failed) == ("partial", 1)
    assert json.loads(failures) == [{"url": B08.url, "reason": "http 500"}]
    assert rows(db, "SELECT health FROM source_status") == [("partial",)]


def test_a_run_killed_before_its_end_is_marked_interrupted_by_the_next(
    db: Path, site: Site, server: FaultServer
) -> None:
    database = sqlite_utils.Database(db)
    archive_db.ensure_db_shape(database)
    killed = archive_db.start_run(
        database, command="refresh", started_at="2026-01-01T00:00:00Z", full_walk=False
    )
    database.close()
    run_refresh(db, server)
    assert rows(db, "SELECT id, status, ended_at FROM runs ORDER BY id") == [
        (killed, "interrupted", None),
        (killed + 1, "ok", rows(db, "SELECT max(ended_at) FROM runs")[0][0]),
    ]


def test_a_source_never_run_shows_as_such(db: Path) -> None:
    database = sqlite_utils.Database(db)
    archive_db.ensure_db_shape(database)
    archive_db.upsert_source(database, {"slug": "quiet", "name": "某县"})
    assert database.execute(
        "SELECT source, health, last_run_at, runs FROM source_status"
    ).fetchall() == [("quiet", "never run", None, 0)]


# --- takedowns --------------------------------------------------------------------------------


def test_a_listed_article_answering_404_is_taken_down_not_failed(
    db: Path, site: Site, server: FaultServer
) -> None:
    run_refresh(db, server)
    (site.root / HOST / B08.path).unlink()
    run = run_refresh(db, server, full=True)
    assert run.report.failures == []
    assert run.report.taken_down == [{"url": B08.url, "reason": "http 404"}]
    ((reason, bulletin_id, document_id, back),) = rows(
        db, "SELECT reason, bulletin_id, document_id, back_online_at FROM takedowns"
    )
    assert (reason, bulletin_id, back) == (
        "http 404",
        bulletin_id_for(SOURCE.slug, B08.url),
        None,
    )
    # The archived copy is named and still there, with its figures.
    assert rows(db, "SELECT url FROM documents WHERE id = ?", (document_id,)) == [(B08.url,)]
    assert rows(
        db,
        "SELECT value FROM metrics WHERE bulletin_id = ? AND metric = 'requests_total'",
        (bulletin_id,),
    ) == [(2000.0,)]
    # A takedown is not a failure: the run is ok, the walk state clean.
    assert rows(db, "SELECT status, taken_down FROM runs ORDER BY id DESC LIMIT 1") == [("ok", 1)]


def test_a_page_back_online_is_recorded(db: Path, site: Site, server: FaultServer) -> None:
    run_refresh(db, server)
    body = (site.root / HOST / B08.path).read_bytes()
    (site.root / HOST / B08.path).unlink()
    run_refresh(db, server, full=True)
    (site.root / HOST / B08.path).write_bytes(body)
    run = run_refresh(db, server, full=True)
    assert run.report.back_online == [B08.url]
    ((back,),) = rows(db, "SELECT back_online_at FROM takedowns")
    assert back is not None
    assert rows(db, "SELECT no_longer_online FROM source_status") == [(0,)]


def test_an_article_gone_from_a_complete_listing_walk_has_left_the_listing(
    db: Path, site: Site, server: FaultServer
) -> None:
    run_refresh(db, server)
    site.publish(B09, B07)  # B08 no longer listed (its page still answers)
    run = run_refresh(db, server, full=True)
    assert run.report.taken_down == [{"url": B08.url, "reason": "left the listing"}]
    site.publish(B09, B08, B07)
    run = run_refresh(db, server, full=True)
    assert run.report.back_online == [B08.url]


def test_an_incremental_walk_that_stopped_early_concludes_nothing(
    db: Path, site: Site, server: FaultServer
) -> None:
    run_refresh(db, server)
    # B07 vanishes from page 2, which an incremental walk never reaches (page 1 is all known).
    site.write("rx/index_2.html", listing_html([], 2))
    run = run_refresh(db, server)
    assert run.report.taken_down == []
    assert rows(db, "SELECT count(*) FROM takedowns") == [(0,)]


def test_a_new_article_answering_404_is_a_failure_not_a_takedown(
    db: Path, site: Site, server: FaultServer
) -> None:
    (site.root / HOST / B09.path).unlink()
    run = run_refresh(db, server)
    assert run.report.failures == [{"url": B09.url, "reason": "http 404"}]
    assert rows(db, "SELECT count(*) FROM takedowns") == [(0,)]


# --- versions ---------------------------------------------------------------------------------


def _bulletin(total: int) -> Bulletin:
    return Bulletin(
        title="某县2021年1月12345热线运行情况",
        issuer="某县",
        published_date="2021-02-03",
        period=Period(
            period_type="month",
            period_start="2021-01-01",
            period_end="2021-01-31",
            period_label="2021-01",
        ),
        metrics=[
            Metric("requests_total", total, "count", f"受理{total}件"),
            Metric("satisfaction_rate", 98.5, "percent", "满意率98.5%"),
        ],
        text="",
    )


def _write(database: sqlite_utils.Database, total: int | Bulletin, sha: str, at: str) -> None:
    """Store document ``sha`` (first seen ``at``) and bulletin x-1 read from it: the bulletin of
    _bulletin(total), or the Bulletin given."""
    bulletin = _bulletin(total) if isinstance(total, int) else total
    with database.conn:
        archive_db.upsert_document(
            database, url="http://x.example/a.html", final_url=None, source="x", path=None,
            sha256=sha, size=1, format="html", content_type=None, fetched_at=at, ingested_at=at,
        )  # fmt: skip
    archive_db.write_bulletin(
        database, bulletin, bulletin_id="x-1", source="x", url="http://x.example/a.html",
        document_ids={"a.html": sha},
    )  # fmt: skip


@pytest.fixture()
def versioned(tmp_path: Path) -> sqlite_utils.Database:
    database = sqlite_utils.Database(tmp_path / "v.db")
    archive_db.ensure_db_shape(database)
    archive_db.upsert_source(database, {"slug": "x", "name": "某县"})
    return database


def test_the_same_documents_parsed_again_stay_one_version(
    versioned: sqlite_utils.Database,
) -> None:
    _write(versioned, 100, "a" * 64, "2021-02-03T00:00:00Z")
    _write(versioned, 101, "a" * 64, "2021-02-03T00:00:00Z")  # a better parser, same bytes
    assert versioned.execute("SELECT id, version FROM bulletin_versions").fetchall() == [
        ("x-1@1", 1)
    ]
    assert versioned.execute("SELECT count(*) FROM superseded_metrics").fetchone() == (0,)
    assert versioned.execute("SELECT count(*) FROM metric_revisions").fetchone() == (0,)


def test_a_changed_document_is_a_new_version_with_the_old_values_kept(
    versioned: sqlite_utils.Database,
) -> None:
    _write(versioned, 100, "a" * 64, "2021-02-03T00:00:00Z")
    _write(versioned, 120, "b" * 64, "2021-02-10T08:00:00Z")
    _write(versioned, 125, "c" * 64, "2021-03-01T08:00:00Z")
    assert versioned.execute(
        "SELECT version, seen_at, superseded_at FROM bulletin_versions ORDER BY version"
    ).fetchall() == [
        (1, "2021-02-03T00:00:00Z", "2021-02-10T08:00:00Z"),
        (2, "2021-02-10T08:00:00Z", "2021-03-01T08:00:00Z"),
        (3, "2021-03-01T08:00:00Z", None),
    ]
    assert versioned.execute(
        "SELECT version, metric, value FROM superseded_metrics ORDER BY version, metric"
    ).fetchall() == [
        (1, "requests_total", 100.0),
        (1, "satisfaction_rate", 98.5),
        (2, "requests_total", 120.0),
        (2, "satisfaction_rate", 98.5),
    ]
    assert versioned.execute(
        "SELECT metric, change, old_value, new_value, revised_at, old_document_id,"
        " new_document_id FROM metric_revisions"
    ).fetchall() == [
        ("requests_total", "changed", 120.0, 125.0, "2021-03-01T08:00:00Z", "b" * 64, "c" * 64),
        ("requests_total", "changed", 100.0, 120.0, "2021-02-10T08:00:00Z", "a" * 64, "b" * 64),
    ]


def test_a_metric_added_or_removed_by_a_revision_is_listed(
    versioned: sqlite_utils.Database,
) -> None:
    _write(versioned, 100, "a" * 64, "2021-02-03T00:00:00Z")
    smaller = _bulletin(100)
    smaller.metrics = smaller.metrics[:1]
    _write(versioned, smaller, "b" * 64, "2021-02-10T00:00:00Z")
    assert versioned.execute(
        "SELECT metric, change, old_value, new_value FROM metric_revisions"
    ).fetchall() == [("satisfaction_rate", "removed", 98.5, None)]


# --- the command ------------------------------------------------------------------------------


def test_refresh_log_file_and_exit_code_1_when_a_document_fails(tmp_path: Path) -> None:
    """hotline refresh against a mirror with one attachment missing: exit 1, the log says why."""
    import shutil

    mirror = tmp_path / "sites"
    shutil.copytree(REPO / "samples" / "sites", mirror)
    attachment = next(mirror.rglob("*.docx"))
    attachment.unlink()
    log = tmp_path / "logs" / "refresh.log"
    result = subprocess.run(
        [sys.executable, "-m", "archive.cli", "refresh", "--db", str(tmp_path / "archive.db"),
         "--mirror", str(mirror), "--source", "hengdong", "--log-file", str(log), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    text = log.read_text("utf-8")
    assert f"{attachment.name}: http 404" in text
    assert " INFO " in text and " WARNING " in text
    assert rows(tmp_path / "archive.db", "SELECT status, exit_code FROM runs") == [("partial", 1)]


def test_refresh_that_crashes_exits_70_and_logs_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import archive.refresh
    from archive.cli import EXIT_CRASHED, cli

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(archive.refresh, "refresh", broken)
    log = tmp_path / "refresh.log"
    result = CliRunner().invoke(
        cli,
        ["refresh", "--db", str(tmp_path / "archive.db"), "--source", "hengdong",
         "--mirror", str(REPO / "samples" / "sites"), "--log-file", str(log)],
    )  # fmt: skip
    assert result.exit_code == EXIT_CRASHED == 70
    assert "RuntimeError: a bug" in log.read_text("utf-8")


def test_most_of_a_listing_gone_at_once_is_a_listing_problem_not_takedowns(
    db: Path, site: Site, server: FaultServer
) -> None:
    run_refresh(db, server)
    site.publish(B09)  # one page, B08 and B07 no longer named: 2 of 3 archived bulletins
    run = run_refresh(db, server, full=True)
    assert run.report.taken_down == []
    assert [f["reason"] for f in run.report.failures] == [
        "2 of 3 archived bulletins are missing from a complete listing walk: the listing has"
        " probably changed; no takedown recorded"
    ]
    assert rows(db, "SELECT count(*) FROM takedowns") == [(0,)]
    assert rows(db, "SELECT health FROM source_status") == [("partial",)]


def test_a_changed_breakdown_is_listed_with_the_old_values_kept(
    versioned: sqlite_utils.Database,
) -> None:
    def with_natures(complaints: int, help_requests: int) -> Bulletin:
        bulletin = _bulletin(100)
        bulletin.breakdowns = [
            Breakdown("nature", "投诉", "complaint", complaints, None, None, f"投诉{complaints}件"),
            Breakdown(
                "nature", "求助", "help", help_requests, None, None, f"求助{help_requests}件"
            ),
        ]
        return bulletin

    _write(versioned, with_natures(60, 40), "a" * 64, "2021-02-03T00:00:00Z")
    _write(versioned, with_natures(65, 40), "b" * 64, "2021-02-10T00:00:00Z")
    assert versioned.execute(
        "SELECT dimension, category, change, old_count, new_count, revised_at"
        " FROM breakdown_revisions"
    ).fetchall() == [("nature", "投诉", "changed", 60, 65, "2021-02-10T00:00:00Z")]
    assert versioned.execute(
        "SELECT version, category, count FROM superseded_breakdowns ORDER BY id"
    ).fetchall() == [(1, "投诉", 60), (1, "求助", 40)]
    # Stated headline values did not change: no metric revision.
    assert versioned.execute("SELECT count(*) FROM metric_revisions").fetchone() == (0,)
