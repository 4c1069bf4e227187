"""The main job on the bundled samples: the sample sites over loopback, refreshed into an archive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from archive.cli import cli
from archive.paths import SAMPLES_DIR

SEED_SOURCES = ["hengdong", "liaocheng", "yueyang-yunxi", "zhanjiang"]


def test_demo_builds_the_archive_over_http_and_a_second_refresh_fetches_no_bodies(
    tmp_path: Path,
) -> None:
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-serve"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert sorted(conn.execute("select source, period_label from bulletins")) == [
        ("hengdong", "2020-09"),
        ("liaocheng", "2015-06"),
        ("liaocheng", "2020-Q2"),
        ("yueyang-yunxi", "2020-Q2"),
        ("zhanjiang", "2021-01"),
    ]
    # every stored document is the mirror's file, byte for byte, under its real URL
    for path, url in conn.execute("select path, url from documents"):
        host_and_path = url.split("://", 1)[1]
        assert (tmp_path / path).read_bytes() == (
            SAMPLES_DIR / "sites" / host_and_path
        ).read_bytes()

    args = ["refresh", "--db", str(db), "--mirror", str(SAMPLES_DIR / "sites"), "--json"]
    for slug in SEED_SOURCES:
        args += ["--source", slug]
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    reports = json.loads(second.stdout)["sources"]
    assert [(r["new_documents"], r["changed_documents"], r["failures"]) for r in reports] == [
        (0, 0, [])
    ] * 4
    assert all(r["requests"] == r["not_modified"] for r in reports)


def test_sources_json_lists_the_six_as_modelled() -> None:
    result = CliRunner().invoke(cli, ["sources", "--json"])
    rows = json.loads(result.stdout)
    assert sorted(r["slug"] for r in rows) == sorted(SEED_SOURCES + ["tangshan", "yichun"])
    assert {r["status"] for r in rows} == {"modelled, not verified live"}


def test_sources_check_against_the_mirror() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "sources",
            "check",
            "--mirror",
            str(SAMPLES_DIR / "sites"),
            "--source",
            "hengdong",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["ok"], row["bulletins"], row["newest"]) == (True, 1, "2020-10-15")


def test_build_from_store_gives_back_the_refreshed_archive(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["demo", "--db", str(db), "--no-serve"]).exit_code == 0

    def dump() -> list[str]:
        conn = sqlite3.connect(db)
        tables = [
            "bulletins",
            "metrics",
            "breakdowns",
            "bulletin_tables",
            "unit_rows",
            "checks",
            "bulletin_documents",
        ]
        return [
            f"{t}:{row}" for t in tables for row in conn.execute(f"select * from {t} order by 1")
        ]

    before = dump()
    result = CliRunner().invoke(cli, ["build", "--db", str(db), "--from-store"])
    assert result.exit_code == 0, result.output
    assert "5 bulletins" in result.output
    assert dump() == before


def test_serve_folds_the_write_ahead_log_into_the_file(tmp_path: Path, monkeypatch) -> None:
    """Datasette opens the archive immutable and never reads archive.db-wal: serve checkpoints first."""
    import sqlite_utils

    from archive import cli as cli_module

    db_path = tmp_path / "archive.db"
    db = sqlite_utils.Database(db_path)
    db.enable_wal()
    db["t"].insert({"x": 1})  # the connection stays open: the row is in the log, not the file
    started: list[list[str]] = []
    monkeypatch.setattr(cli_module.os, "execv", lambda exe, args: started.append(args))
    assert CliRunner().invoke(cli, ["serve", "--db", str(db_path)]).exit_code == 0
    assert started
    immutable = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    assert immutable.execute("select x from t").fetchall() == [(1,)]
