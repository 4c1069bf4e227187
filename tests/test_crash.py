"""Crash safety: a refresh killed with SIGKILL anywhere leaves an archive that opens, holds no
half-written bulletin and no partial raw file, and the next refresh converges on the archive
an uninterrupted run makes.

The mirror is built in a temporary directory for these tests (the bulletins and attachment
figures in it are invented for them; they never reach the samples or a published archive):
four listing pages of four bulletins each, most with an XLSX and/or DOCX attachment made from
the repository's fixture documents with some cells changed, so that every attachment has bytes
of its own. Each refresh runs in a child process (``ENTRY`` below) that marks the phase it is
in (listing, fetch, parse, write, finish) in an events file, so that a kill can be placed.

Reference: one uninterrupted refresh of the same mirror into a fresh directory. Rows are
compared on every column but the clock's (documents.fetched_at/ingested_at,
bulletins.ingested_at).

``HOTLINE_CRASH_RUNS`` and ``HOTLINE_CRASH_SEED`` change the loop's length and seed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
HOST = "crash.test.example"
SOURCE = {
    "slug": "crashcity",
    "name": "崩溃测试市",
    "province": "测试省",
    "level": "prefecture",
    "division_code": None,
    "homepage": f"http://{HOST}/",
    "listing_urls": [f"http://{HOST}/rx/index.html"],
    "platform": "generic",
    "allowed_hosts": [HOST],
}
PAGES = 4
PER_PAGE = 4
RUNS = int(os.environ.get("HOTLINE_CRASH_RUNS", "12"))
RUNS_PER_ROUND = 3
SEED = int(os.environ.get("HOTLINE_CRASH_SEED", "20240612"))
# A stuck child is a failure, not a hang of the test session.
CHILD_DEADLINE = 180.0
PHASES = ("start", "schema", "listing", "fetch", "parse", "write", "finish", "done")

# The child: one refresh of the mirror into an archive, marking phases as it goes; with
# KILL_AT=<point>:<n> it SIGKILLs itself at the n-th time it reaches that point.
ENTRY = r"""
import json, os, signal, sys
from pathlib import Path

db_path, mirror, events, source_json = sys.argv[1:5]
fd = os.open(events, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
kill_point, _, kill_count = os.environ.get("KILL_AT", "").partition(":")
seen = {}


def mark(phase):
    os.write(fd, (phase + "\n").encode())


def point(name):
    seen[name] = seen.get(name, 0) + 1
    if name == kill_point and seen[name] == int(kill_count):
        mark("killed-at:" + name)
        os.kill(os.getpid(), signal.SIGKILL)


import archive.refresh as refresh_module
import scrapers.store as store_module
from archive import db as archive_db
from scrapers.base import Source
from scrapers.http import Fetcher
from scrapers.mirror import MirrorServer

source = json.loads(source_json)
source = Source(**{**source, "listing_urls": tuple(source["listing_urls"]),
                   "allowed_hosts": tuple(source["allowed_hosts"])})


def wrap(owner, name, before=None, after=None):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if before:
            mark(before)
        result = original(*args, **kwargs)
        if after:
            mark(after)
        return result

    setattr(owner, name, wrapper)


wrap(archive_db, "ensure_db_shape", before="schema")
wrap(refresh_module, "parse_bulletin", before="parse")
wrap(refresh_module.Refresher, "run_source", after="finish")
original_write = archive_db.write_bulletin


def write_bulletin(*args, **kwargs):
    mark("write")
    original_write(*args, **kwargs)
    point("written")


archive_db.write_bulletin = write_bulletin
original_insert = archive_db._insert_rows


def insert_rows(db, table, rows):
    original_insert(db, table, rows)
    if table == "unit_rows":  # the last insert of write_bulletin's transaction, before COMMIT
        point("in-transaction")


archive_db._insert_rows = insert_rows
original_replace = store_module.os.replace


class _Os:
    # The store's os module, but for replace: a kill between the temporary file and its rename.
    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        point("store-rename")
        original_replace(src, dst)


store_module.os = _Os()
original_upsert = archive_db.upsert_document


def upsert_document(*args, **kwargs):
    result = original_upsert(*args, **kwargs)
    point("document-row")
    return result


archive_db.upsert_document = upsert_document


def progress(message):
    mark("listing" if "://" in message else "fetch")


mark("start")
with MirrorServer(Path(mirror)) as server, Fetcher(mirror=server.base_url, min_interval=0) as f:
    reports = refresh_module.refresh(Path(db_path), [source], f, progress=progress)
mark("done")
print(json.dumps([r.to_json() for r in reports], ensure_ascii=False))
"""


# --- the mirror -----------------------------------------------------------------------------


def _write(root: Path, path: str, data: str | bytes) -> None:
    target = root / HOST / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _xlsx(number: int) -> bytes:
    import openpyxl

    workbook = openpyxl.load_workbook(FIXTURES / "liaocheng_2015-06_tables.xlsx")
    sheet = workbook.worksheets[0]
    sheet["B3"] = 200 + number  # an invented figure: each attachment is a document of its own
    sheet["B4"] = 900 + 3 * number
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _docx(number: int) -> bytes:
    import docx

    document = docx.Document(str(FIXTURES / "hengdong_2020-09_tables.docx"))
    cell = document.tables[1].rows[2].cells[1]
    cell.paragraphs[0].runs[0].text = str(30 + number)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _article(year: int, month: int, number: int, attachments: list[tuple[str, str]]) -> str:
    title = f"{year}年{month}月份12345热线运行情况"
    links = "".join(f'<a href="{href}">{name}</a> ' for href, name in attachments)
    total = 1000 + 37 * number
    done = total - 11 - number
    return (
        f'<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">'
        f'<meta name="PubDate" content="{year}-{month:02d}-28"></head><body><h1>{title}</h1>'
        f'<div id="zoom"><p>{month}月份,崩溃测试市12345热线共受理群众诉求{total}件,'
        f"办结{done}件,群众满意率9{number % 10}.{number % 7}%。</p></div>"
        + (f'<div class="fj">附件:{links}</div>' if links else "")
        + "</body></html>"
    )


def make_mirror(root: Path) -> int:
    """Write the mirror; returns the number of bulletins it lists."""
    number = 0
    for page in range(PAGES):
        items = []
        for _ in range(PER_PAGE):
            # Newest first, as listings are: bulletin 0 is the latest month.
            year, month = 2024 - number // 12, 12 - number % 12
            folder = f"{year}{month:02d}"
            attachments = []
            if number % 3 in (0, 2):
                _write(root, f"rx/{folder}/P{number:03d}.xlsx", _xlsx(number))
                attachments.append((f"./P{number:03d}.xlsx", "统计表.xlsx"))
            if number % 3 in (1, 2):
                _write(root, f"rx/{folder}/W{number:03d}.docx", _docx(number))
                attachments.append((f"./W{number:03d}.docx", "工单表.docx"))
            _write(
                root, f"rx/{folder}/t{number:03d}.html", _article(year, month, number, attachments)
            )
            items.append(
                (f"./{folder}/t{number:03d}.html", f"{year}年{month}月份12345热线运行情况",
                 f"{year}-{month:02d}-28")
            )  # fmt: skip
            number += 1
        lis = "".join(f'<li><a href="{h}">{t}</a><span>{d}</span></li>' for h, t, d in items)
        pager = f'<div class="page">共{PAGES}页 <a href="index_2.html">下一页</a></div>'
        name = "index.html" if page == 0 else f"index_{page + 1}.html"
        _write(root, f"rx/{name}", f'<html><head><meta charset="utf-8"></head><body>'
                                   f'<ul class="list">{lis}</ul>{pager}</body></html>')  # fmt: skip
    return number


# --- running the child ----------------------------------------------------------------------


class Run:
    """A refresh child process and its events file."""

    def __init__(self, entry: Path, archive: Path, mirror: Path, kill_at: str | None = None):
        archive.mkdir(parents=True, exist_ok=True)
        self.events = archive.parent / f"{archive.name}.events"
        self.events.write_text("")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("KILL_AT", None)
        if kill_at:
            env["KILL_AT"] = kill_at
        self.process = subprocess.Popen(
            [sys.executable, str(entry), str(archive / "archive.db"), str(mirror),
             str(self.events), json.dumps(SOURCE, ensure_ascii=False)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def marks(self) -> list[str]:
        return self.events.read_text().split()

    def wait_for_start(self) -> float:
        """Wait until the child has imported everything and is about to refresh; the time then."""
        deadline = time.monotonic() + CHILD_DEADLINE
        while "start" not in self.marks():
            if self.process.poll() is not None:
                raise AssertionError(f"child ended before starting: {self.process.stderr.read()}")
            assert time.monotonic() < deadline, "child never started"
            time.sleep(0.005)
        return time.monotonic()

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=CHILD_DEADLINE)
        return self.process.returncode, out.decode(), err.decode()

    def kill(self) -> str:
        """SIGKILL the child; the phase it was in (or 'done' if it had finished)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=CHILD_DEADLINE)
        marks = self.marks()
        if self.process.returncode != -signal.SIGKILL:
            return "done"
        return next((m for m in reversed(marks) if m in PHASES), "start")


# --- reading an archive ---------------------------------------------------------------------

# Columns that hold the clock: when a document was fetched differs between any two runs.
CLOCK_COLUMNS = {"documents": {"fetched_at", "ingested_at"}, "bulletins": {"ingested_at"}}
COMPARED_TABLES = ("sources", "documents", "bulletins", "bulletin_documents", "metrics",
                   "breakdowns", "bulletin_tables", "unit_rows", "checks")  # fmt: skip
BULLETIN_CHILDREN = ("bulletin_documents", "metrics", "breakdowns", "bulletin_tables",
                     "unit_rows", "checks")  # fmt: skip


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


def _table_rows(conn: sqlite3.Connection, table: str) -> list[dict]:
    exists = conn.execute(
        "select 1 from sqlite_master where type = 'table' and name = ?", [table]
    ).fetchone()
    if not exists:
        return []
    skip = CLOCK_COLUMNS.get(table, set())
    rows = [
        {k: row[k] for k in row.keys() if k not in skip}
        for row in conn.execute(f"select * from {table}")
    ]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))


def archive_content(db: Path) -> dict[str, list[dict]]:
    """Every compared table's rows, clock columns left out, in a stable order."""
    conn = _connect(db)
    try:
        return {table: _table_rows(conn, table) for table in COMPARED_TABLES}
    finally:
        conn.close()


def check_archive(archive: Path, reference: dict[str, list[dict]]) -> dict[str, int]:
    """Assert the archive is whole after a kill; returns counts of what it holds."""
    db = archive / "archive.db"
    counts = {"bulletins": 0, "documents": 0, "raw files": 0, "tmp files": 0}
    if db.exists():
        conn = _connect(db)
        try:
            assert conn.execute("pragma integrity_check").fetchall()[0][0] == "ok"
            assert conn.execute("pragma foreign_key_check").fetchall() == []
            if conn.execute("select 1 from sqlite_master where name = 'bulletins_fts'").fetchone():
                # FTS5's own check of the index against the bulletins table (raises if not whole).
                conn.execute("insert into bulletins_fts(bulletins_fts) values('integrity-check')")
        finally:
            conn.close()
        content = archive_content(db)
        # Every bulletin present is whole: its row and all its child rows are exactly those
        # of the uninterrupted run, so no write_bulletin was cut in half.
        for table in ("bulletins", *BULLETIN_CHILDREN):
            key = "id" if table == "bulletins" else "bulletin_id"
            present = {r["id"] for r in content["bulletins"]}
            expected = [r for r in reference[table] if r[key] in present]
            assert content[table] == expected, f"{table}: a bulletin is not whole"
        # Every document row is one of the reference's (documents are written one at a time).
        reference_documents = {r["id"]: r for r in reference["documents"]}
        for row in content["documents"]:
            assert row == reference_documents[row["id"]]
            assert hashlib.sha256((archive / row["path"]).read_bytes()).hexdigest() == row["id"]
        counts["bulletins"] = len(content["bulletins"])
        counts["documents"] = len(content["documents"])
    # The raw store: no partial body under a hash name; temporary files are ignored.
    raw = archive / "raw"
    for path in raw.rglob("*") if raw.exists() else []:
        if path.is_dir():
            continue
        if path.name.startswith(".tmp-"):
            counts["tmp files"] += 1
            continue
        assert path.parent.name == path.name[:2]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, f"partial {path}"
        counts["raw files"] += 1
    return counts


def raw_names(archive: Path) -> set[str]:
    """The stored bodies' names (temporary files left out)."""
    return {p.name for p in (archive / "raw").rglob("*") if p.is_file() and p.name[0] != "."}


def fts_search(db: Path, phrase: str) -> list[str]:
    """Bulletin ids whose title or text contain ``phrase``, through the full-text index."""
    conn = sqlite3.connect(db)
    try:
        sql = (
            "select b.id from bulletins_fts f join bulletins b on b.rowid = f.rowid"
            " where bulletins_fts match ? order by b.id"
        )
        return [r[0] for r in conn.execute(sql, [f'"{phrase}"'])]
    finally:
        conn.close()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The mirror, the child entry and the reference archive (one uninterrupted refresh)."""
    base = tmp_path_factory.mktemp("crash")
    mirror = base / "mirror"
    listed = make_mirror(mirror)
    entry = base / "refresh_child.py"
    entry.write_text(ENTRY, encoding="utf-8")
    reference_dir = base / "reference"
    run = Run(entry, reference_dir, mirror)
    started = run.wait_for_start()
    code, out, err = run.finish()
    duration = time.monotonic() - started
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["error"] is None and report["failures"] == [], report
    assert report["new_bulletins"] == listed
    reference = archive_content(reference_dir / "archive.db")
    # Again on the finished archive: it changes nothing, and shows how long a run with nothing
    # to do takes (the listing walk, conditional requests, the FTS optimize).
    run = Run(entry, reference_dir, mirror)
    started = run.wait_for_start()
    code, out, err = run.finish()
    idle_duration = time.monotonic() - started
    assert code == 0, err
    assert json.loads(out)[0]["new_bulletins"] == 0
    assert archive_content(reference_dir / "archive.db") == reference
    return {
        "base": base,
        "mirror": mirror,
        "entry": entry,
        "listed": listed,
        "reference_dir": reference_dir,
        "reference": reference,
        "duration": duration,
        "idle_duration": idle_duration,
    }


def _converge(world: dict, archive: Path) -> dict:
    """One uninterrupted refresh of a (crashed) archive; its report."""
    run = Run(world["entry"], archive, world["mirror"])
    code, out, err = run.finish()
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["error"] is None and report["failures"] == [], report
    return report


def _assert_same_archive(world: dict, archive: Path) -> None:
    content = archive_content(archive / "archive.db")
    reference = world["reference"]
    for table in COMPARED_TABLES:
        assert content[table] == reference[table], f"{table} differs from the uninterrupted run"
    assert raw_names(archive) == raw_names(world["reference_dir"])
    for phrase in ("满意率", "崩溃测试市", "2023年7月份"):
        assert fts_search(archive / "archive.db", phrase) == fts_search(
            world["reference_dir"] / "archive.db", phrase
        )


# --- tests ----------------------------------------------------------------------------------


def test_the_reference_run_archives_every_listed_bulletin_whole(world: dict) -> None:
    """The uninterrupted run the others are compared with: 16 bulletins, 21 attachments."""
    reference = world["reference"]
    assert len(reference["bulletins"]) == PAGES * PER_PAGE == 16
    # 4 listing pages + 16 articles + xlsx for numbers = 0, 2 mod 3 (11) + docx for 1, 2 mod 3 (10)
    assert len(reference["documents"]) == 4 + 16 + 11 + 10
    roles = Counter(r["role"] for r in reference["bulletin_documents"])
    assert roles == {"article": 16, "attachment": 21}
    # bulletin 5 (2024-07) states 1000 + 37 * 5 = 1185 requests in its article
    totals = {
        r["bulletin_id"]: r["value"]
        for r in reference["metrics"]
        if r["metric"] == "requests_total"
    }
    july = next(b["id"] for b in reference["bulletins"] if b["period_label"] == "2024-07")
    assert totals[july] == 1185
    assert any(r["bulletin_id"] == july for r in reference["unit_rows"])


@pytest.mark.parametrize(
    "kill_at",
    [
        "store-rename:6",  # a body written to a temporary file, not yet renamed to its hash
        "document-row:9",  # an attachment's documents row committed, its bulletin not yet written
        "in-transaction:5",  # inside write_bulletin: every row inserted, COMMIT not reached
        # One listing page's bulletins all archived, the newer pages' not yet: the next walk
        # must not stop at a page that looks complete while bulletins are missing behind it.
        "written:4",
    ],
)
def test_a_kill_at_a_named_point_leaves_a_whole_archive_that_converges(
    world: dict, kill_at: str
) -> None:
    archive = world["base"] / f"named-{kill_at.replace(':', '-')}"
    run = Run(world["entry"], archive, world["mirror"], kill_at=kill_at)
    code, _, err = run.finish()
    assert code == -signal.SIGKILL, err
    assert f"killed-at:{kill_at.split(':')[0]}" in run.marks()
    counts = check_archive(archive, world["reference"])
    if kill_at.startswith("in-transaction"):
        assert counts["bulletins"] == 4  # the fifth bulletin's transaction left nothing behind
    if kill_at.startswith("store-rename"):
        assert counts["tmp files"] == 1
    if kill_at.startswith("written"):
        assert counts["bulletins"] == 4
    _converge(world, archive)
    _assert_same_archive(world, archive)


@pytest.mark.slow
def test_random_kills_in_a_loop_then_one_run_converges(world: dict) -> None:
    """RUNS refreshes, each SIGKILLed after a seeded random delay, then uninterrupted runs.

    The runs go in rounds of RUNS_PER_ROUND on one archive, each round from a fresh directory
    (later runs of a round have less left to do, so kills would land more and more in runs
    that had finished); after each round one uninterrupted refresh must converge on the
    reference archive. A kill's delay is drawn over the time the run should take: that of a
    run with nothing to do, plus the share of a whole run's extra time that the bulletins
    still missing stand for.
    """
    rng = random.Random(SEED)
    phases: Counter[str] = Counter()
    rounds = []
    tmp_files = 0
    for first in range(0, RUNS, RUNS_PER_ROUND):
        archive = world["base"] / f"loop-{first // RUNS_PER_ROUND}"
        runs = []
        for _ in range(min(RUNS_PER_ROUND, RUNS - first)):
            have = len(archive_content(archive / "archive.db")["bulletins"]) if runs else 0
            idle, whole = world["idle_duration"], world["duration"]
            delay = rng.uniform(0, idle + (whole - idle) * (1 - have / world["listed"]))
            run = Run(world["entry"], archive, world["mirror"])
            run.wait_for_start()
            time.sleep(delay)
            phase = run.kill()
            phases[phase] += 1
            counts = check_archive(archive, world["reference"])
            tmp_files += counts["tmp files"]
            runs.append(f"{phase}@{delay:.2f}s:{counts['bulletins']}")
        report = _converge(world, archive)
        _assert_same_archive(world, archive)
        rounds.append(f"[{' '.join(runs)} -> +{report['new_bulletins']}, converged]")
    print(
        f"\ncrash loop: {RUNS} killed runs, seed {SEED}, an uninterrupted run takes"
        f" {world['duration']:.2f}s after start-up ({world['idle_duration']:.2f}s with nothing to"
        f" do); kills by phase: {dict(phases)};"
        f" temporary files left: {tmp_files}; rounds (phase@delay:bulletins archived after"
        f" the kill -> bulletins the uninterrupted run added): {' '.join(rounds)}"
    )
