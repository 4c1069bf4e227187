"""Reads while a refresh writes: every read sees each bulletin whole, as of one transaction.

A writer process rewrites a small archive's bulletins over and over with ``write_bulletin``,
each version with its own, known number of metrics, unit rows and checks, every child row
tagged with the version (the bulletins are made up here; they never leave the test).
Meanwhile reader threads query the archive through read-only SQLite connections
(``mode=ro``, what ``hotline serve --live`` gives Datasette) and through Datasette's own
client on the mutable database, one SELECT per read. Each read checks, for every bulletin,
that its child rows are exactly the ones its version was written with.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner

from archive import cli as cli_module

ROOT = Path(__file__).resolve().parent.parent
BULLETINS = 6
READS = 20  # each reader reads at least this often, and sees at least 3 versions, while writing
DEADLINE = 120.0  # a writer that never gets ready is a failure, not a hung session

# The writer: version 0 of every bulletin, then <ready>, then (once <go> exists) versions 1, 2,
# ..., each bulletin rewritten in its own transaction, until <stop> exists; prints the last.
WRITER = r"""
import hashlib, sys, time
from pathlib import Path

import sqlite_utils

from archive import db as archive_db
from parsers.model import Bulletin, Check, Metric, Period, Table, UnitRow

db_path, bulletins = sys.argv[1], int(sys.argv[2])
ready, go, stop = Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
keys = list(archive_db.headline_metrics())
db = sqlite_utils.Database(db_path)
archive_db.ensure_db_shape(db)
archive_db.upsert_source(db, {"slug": "readcity", "name": "读测试市", "level": "prefecture"})
documents = {}
for k in range(bulletins):
    content = f"bulletin {k}".encode()
    documents[k] = archive_db.upsert_document(
        db, url=f"http://read.test.example/{k}.html", final_url=None, source="readcity",
        path=None, sha256=hashlib.sha256(content).hexdigest(), size=len(content), format="html",
        content_type="text/html", fetched_at=None, ingested_at="2024-01-01T00:00:00+00:00",
    )


def shape(k, v):
    return 1 + (7 * v + 3 * k) % 23, (5 * v + k) % 40, 1 + (v + k) % 4


def bulletin(k, v):
    n_metrics, n_units, n_checks = shape(k, v)
    tag = f"v{v}"
    return Bulletin(
        title=f"读测试 {k}",
        issue_number=f"{v}:{n_metrics}:{n_units}:{n_checks}",
        period=Period("month", f"2024-{k + 1:02d}-01", f"2024-{k + 1:02d}-28",
                      period_label=f"2024-{k + 1:02d}"),
        metrics=[Metric(keys[i % len(keys)], v, "count", tag) for i in range(n_metrics)],
        tables=[Table(tag, ["单位", "受理量"], [[f"单位{j}", str(v)] for j in range(n_units)])],
        unit_rows=[UnitRow(0, tag, j, f"单位{j}", f"unit{j}", "受理量", None, v, tag)
                   for j in range(n_units)],
        checks=[Check(f"check_{i}", "pass", "info", tag) for i in range(n_checks)],
        text=f"{tag} 读测试",
    )


v = 0
while True:
    for k in range(bulletins):
        archive_db.write_bulletin(db, bulletin(k, v), bulletin_id=f"readcity-{k}",
                                  source="readcity", url=f"http://read.test.example/{k}.html",
                                  document_ids={"a.html": documents[k]})
    if v == 0:
        ready.touch()
        while not go.exists():
            time.sleep(0.005)
    if stop.exists():
        break
    v += 1
db.close()
print(v)
"""

# One statement, so one snapshot: per bulletin, its stated shape and what its rows hold.
INVARIANT_SQL = """
select b.id as id, b.issue_number as issue,
  (select count(*) from metrics m where m.bulletin_id = b.id) as metrics,
  (select group_concat(distinct m.evidence) from metrics m where m.bulletin_id = b.id)
    as metric_tags,
  (select count(*) from unit_rows u where u.bulletin_id = b.id) as unit_rows,
  (select group_concat(distinct u.text) from unit_rows u where u.bulletin_id = b.id)
    as unit_tags,
  (select count(*) from checks c where c.bulletin_id = b.id) as checks,
  (select group_concat(distinct c.message) from checks c where c.bulletin_id = b.id)
    as check_tags,
  (select t.title from bulletin_tables t where t.bulletin_id = b.id) as table_tag,
  (select v.requests_total from bulletin_comparison v where v.bulletin_id = b.id)
    as requests_total
from bulletins b order by b.id
"""


def violations(rows: list[dict]) -> tuple[list[str], set[int]]:
    """What is inconsistent in one read (empty when whole), and the versions seen."""
    problems, versions = [], set()
    if len(rows) != BULLETINS:
        problems.append(f"{len(rows)} bulletins, not {BULLETINS}")
    for row in rows:
        version, metrics, unit_rows, checks = (int(x) for x in row["issue"].split(":"))
        versions.add(version)
        tag = f"v{version}"
        expected = {
            "metrics": metrics,
            "metric_tags": tag,
            "unit_rows": unit_rows,
            "unit_tags": tag if unit_rows else None,
            "checks": checks,
            "check_tags": tag,
            "table_tag": tag,
            "requests_total": version,  # the first metric, stated, is requests_total = version
        }
        seen = {key: row[key] for key in expected}
        if seen != expected:
            problems.append(f"{row['id']}: {seen} != {expected}")
    return problems, versions


class Readers:
    """Reader threads querying the invariant until told to stop."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.reads: dict[str, int] = {}
        self.problems: list[str] = []
        self.versions: dict[str, set[int]] = {}
        self.last: dict[str, set[int]] = {}  # the versions of each reader's last read
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()

    def record(self, name: str, rows: list[dict]) -> None:
        problems, versions = violations(rows)
        with self.lock:
            self.reads[name] = self.reads.get(name, 0) + 1
            self.problems += problems
            self.versions.setdefault(name, set()).update(versions)
            self.last[name] = versions

    def enough(self, names: list[str]) -> bool:
        """Every reader has read READS times and seen 3 versions or more."""
        with self.lock:
            return all(
                self.reads.get(n, 0) >= READS and len(self.versions.get(n, ())) >= 3 for n in names
            )

    def sqlite_reader(self, name: str, db: Path) -> None:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            conn.row_factory = sqlite3.Row
            while True:
                stopping = self.stop.is_set()  # one more read after the writer has ended
                self.record(name, [dict(r) for r in conn.execute(INVARIANT_SQL)])
                if stopping:
                    break
            conn.close()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.errors.append(exc)

    def datasette_reader(self, name: str, db: Path) -> None:
        from datasette.app import Datasette

        async def run() -> None:
            ds = Datasette([str(db)])  # a mutable database: Datasette opens it mode=ro
            await ds.invoke_startup()
            path = f"/{db.stem}.json?" + urlencode({"sql": INVARIANT_SQL, "_shape": "array"})
            while True:
                stopping = self.stop.is_set()
                response = await ds.client.get(path)
                assert response.status_code == 200, response.text
                self.record(name, response.json())
                if stopping:
                    break

        try:
            asyncio.run(run())
        except BaseException as exc:
            self.errors.append(exc)


def _start_writer(tmp_path: Path, db: Path) -> tuple[subprocess.Popen, Path, Path]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    ready, go, stop = tmp_path / "ready", tmp_path / "go", tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, str(script), str(db), str(BULLETINS), str(ready), str(go), str(stop)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + DEADLINE
    while not ready.exists():
        assert writer.poll() is None, writer.communicate()[1]
        assert time.monotonic() < deadline, "the writer never wrote version 0"
        time.sleep(0.01)
    return writer, go, stop


def _written_archive(tmp_path: Path) -> Path:
    """An archive the writer has finished with (version 0 of every bulletin)."""
    db = tmp_path / "archive.db"
    writer, go, stop = _start_writer(tmp_path, db)
    stop.touch()
    go.touch()
    out, err = writer.communicate(timeout=DEADLINE)
    assert writer.returncode == 0 and out.strip() == "0", err
    return db


def test_readers_never_see_a_half_written_bulletin_while_a_writer_rewrites(
    tmp_path: Path,
) -> None:
    db = tmp_path / "archive.db"
    writer, go, stop = _start_writer(tmp_path, db)
    readers = Readers()
    names = ["sqlite-0", "sqlite-1", "sqlite-2", "datasette"]
    threads = [
        threading.Thread(target=readers.sqlite_reader, args=(name, db)) for name in names[:3]
    ]
    threads.append(threading.Thread(target=readers.datasette_reader, args=(names[3], db)))
    for thread in threads:
        thread.start()
    go.touch()
    try:
        deadline = time.monotonic() + DEADLINE
        while not readers.enough(names):
            assert writer.poll() is None, writer.communicate()[1]
            assert not readers.errors, readers.errors
            assert time.monotonic() < deadline, f"readers stuck: {readers.reads}"
            time.sleep(0.02)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=DEADLINE)
        readers.stop.set()
        for thread in threads:
            thread.join(timeout=DEADLINE)
    assert writer.returncode == 0, err
    assert readers.errors == []
    assert readers.problems == []
    # each reader's last read came after the writer had ended: it saw the final version only
    final = int(out)
    assert readers.last == {name: {final} for name in names}
    print(f"\nreads while writing: {readers.reads}; versions written: {final}")


def test_the_invariant_catches_a_half_written_bulletin(tmp_path: Path) -> None:
    """The check above would see a bulletin whose rows were written outside one transaction."""
    db = _written_archive(tmp_path)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    assert violations([dict(r) for r in conn.execute(INVARIANT_SQL)]) == ([], {0})
    # a rewrite cut half-way: its metrics deleted, the bulletin row not yet changed
    conn.execute("delete from metrics where bulletin_id = 'readcity-2'")
    conn.commit()
    problems, _ = violations([dict(r) for r in conn.execute(INVARIANT_SQL)])
    conn.close()
    assert len(problems) == 1 and problems[0].startswith("readcity-2: ")


def test_a_read_only_connection_cannot_write(tmp_path: Path) -> None:
    db = _written_archive(tmp_path)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        try:
            conn.execute("delete from metrics")
        except sqlite3.OperationalError as exc:
            assert "readonly" in str(exc)
        else:
            raise AssertionError("a mode=ro connection deleted rows")
    finally:
        conn.close()


def test_serve_live_opens_the_database_read_only_not_immutable(
    sample_archive: Path, monkeypatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(cli_module.os, "execv", lambda exe, args: started.append(args))
    for flags in ([], ["--live"]):
        result = CliRunner().invoke(cli_module.cli, ["serve", "--db", str(sample_archive), *flags])
        assert result.exit_code == 0, result.output
    immutable, live = started
    path = str(sample_archive.resolve())
    assert immutable[immutable.index("-i") + 1] == path
    assert "-i" not in live and path in live  # a plain file argument: Datasette opens it mode=ro
    # the rest of the read-only publishing settings are the same
    assert immutable[immutable.index(path) + 1 :] == live[live.index(path) + 1 :]
    assert "sql_time_limit_ms" in live
