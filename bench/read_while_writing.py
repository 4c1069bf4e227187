"""Read latency while a refresh writes (a benchmark to run by hand, not a test).

    .venv/bin/python bench/read_while_writing.py [--copies N] [--readers R] [--seconds S]

Builds a scratch archive (in a temporary directory, never published) holding the five bundled
sample bulletins written ``--copies`` times each under their own ids, then measures, for
``--seconds`` each:

1. SQLite readers alone: ``--readers`` processes with read-only connections (``mode=ro``, as
   ``hotline serve --live`` gives Datasette) running a mix of the site's reads in turn: the
   comparison view, one bulletin's unit rows, a full-text search, and the consistency
   check below;
2. the same readers while a writer process rewrites bulletins one transaction after another
   (``archive.db.write_bulletin``, as a refresh does), as fast as it can;
3. and 4. the same two cases through Datasette's own client (in-process, no HTTP), with
   ``--readers`` concurrent requests against the mutable database.

Prints p50/p95 latency per query and reads per second for each case, the writer's
transactions per second, and the consistency check's count of bulletins whose metrics did
not match the count they were written with (each version of a bulletin keeps a different
number of its metrics and states that number in ``issue_number``): it must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = {
    "comparison": "select * from bulletin_comparison",
    "bulletin": "select * from unit_rows where bulletin_id = :bulletin order by id",
    "search": (
        "select b.id, b.title from bulletins_fts f join bulletins b on b.rowid = f.rowid"
        " where bulletins_fts match :phrase order by b.id limit 50"
    ),
    # Bulletins whose metrics are not as many as the version they belong to was written with.
    "consistency": (
        "select count(*) as broken from bulletins b where"
        " cast(substr(b.issue_number, instr(b.issue_number, ':') + 1) as integer)"
        " != (select count(*) from metrics m where m.bulletin_id = b.id)"
    ),
}
PHRASES = ("满意率", "物业", "诉求", "供水")


def sample_bulletins() -> list[tuple[dict, object, bytes, str]]:
    """The bundled samples parsed: (manifest entry, Bulletin, document bytes, name)."""
    from archive.build import load_manifest
    from archive.paths import SAMPLES_DIR
    from parsers import parse_document

    manifest = load_manifest(SAMPLES_DIR)
    result = []
    for entry in manifest["documents"]:
        data = (SAMPLES_DIR / entry["path"]).read_bytes()
        name = PurePosixPath(entry["path"]).name
        result.append((entry, parse_document(data, name, entry.get("content_type")), data, name))
    return result


def trimmed(bulletin, version: int):
    """The bulletin with 0-2 of its last metrics left out, stating how many it kept."""
    import copy

    kept = copy.copy(bulletin)
    drop = version % 3 if len(bulletin.metrics) > 2 else 0
    kept.metrics = bulletin.metrics[: len(bulletin.metrics) - drop]
    kept.issue_number = f"{version}:{len(kept.metrics)}"
    return kept


def build(db_path: Path, copies: int) -> list[str]:
    """The scratch archive; returns the bulletin ids."""
    import sqlite_utils

    from archive import db as archive_db
    from archive.build import SAMPLES_INGESTED_AT, SOURCE_FIELDS, load_manifest
    from archive.paths import SAMPLES_DIR
    from parsers import detect_format

    db = sqlite_utils.Database(db_path)
    archive_db.ensure_db_shape(db)
    for source in load_manifest(SAMPLES_DIR)["sources"]:
        archive_db.upsert_source(db, {k: source.get(k) for k in SOURCE_FIELDS if k in source})
    ids = []
    for entry, bulletin, data, name in sample_bulletins():
        doc_id = archive_db.upsert_document(
            db, url=entry.get("url"), final_url=None, source=entry["source"], path=None,
            sha256=hashlib.sha256(data).hexdigest(), size=len(data),
            format=detect_format(data, name, entry.get("content_type")),
            content_type=entry.get("content_type"), fetched_at=None,
            ingested_at=SAMPLES_INGESTED_AT,
        )  # fmt: skip
        for copy_number in range(copies):
            bulletin_id = f"{entry['source']}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
            bulletin_id += f"-{copy_number:04d}"
            archive_db.write_bulletin(db, trimmed(bulletin, 0), bulletin_id=bulletin_id,
                                      source=entry["source"], url=entry.get("url"),
                                      document_ids={name: doc_id})  # fmt: skip
            ids.append(bulletin_id)
    with db.conn:
        db.execute("INSERT INTO bulletins_fts(bulletins_fts) VALUES('optimize')")
    db.close()
    return ids


def writer(db_path: Path, stop: Path, ready: Path) -> None:
    """Rewrite every bulletin in turn, one transaction each, until ``stop`` exists."""
    import sqlite_utils

    from archive import db as archive_db

    db = sqlite_utils.Database(db_path)
    by_source = {}
    for entry, bulletin, data, name in sample_bulletins():
        by_source[(entry["source"], hashlib.sha1(name.encode()).hexdigest()[:8])] = (
            bulletin,
            name,
            hashlib.sha256(data).hexdigest(),
        )
    rows = list(db.query("select id, source, url from bulletins order by id"))
    ready.touch()
    writes, version, started = 0, 0, time.monotonic()
    while not stop.exists():
        version += 1
        for row in rows:
            if stop.exists():
                break
            key = row["id"][len(row["source"]) + 1 :].rsplit("-", 1)[0]
            bulletin, name, doc_id = by_source[(row["source"], key)]
            archive_db.write_bulletin(db, trimmed(bulletin, version), bulletin_id=row["id"],
                                      source=row["source"], url=row["url"],
                                      document_ids={name: doc_id})  # fmt: skip
            writes += 1
    elapsed = time.monotonic() - started
    wal = Path(f"{db_path}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    print(json.dumps({"writes": writes, "seconds": elapsed, "wal_bytes": wal_bytes}))


def read_for(db_path: str, seconds: float, ids: list[str], offset: int) -> dict:
    """Run the queries in turn for ``seconds``: latencies (s) per query, the broken count seen."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    latencies: dict[str, list[float]] = {name: [] for name in QUERIES}
    broken = 0
    names = list(QUERIES)
    i = offset
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        name = names[i % len(names)]
        params = {"bulletin": ids[i % len(ids)], "phrase": PHRASES[i % len(PHRASES)]}
        t0 = time.perf_counter()
        rows = conn.execute(QUERIES[name], params).fetchall()
        latencies[name].append(time.perf_counter() - t0)
        if name == "consistency":
            broken += rows[0][0]
        i += 1
    conn.close()
    return {"latencies": latencies, "broken": broken}


def sqlite_case(db_path: Path, readers: int, seconds: float, ids: list[str]) -> dict:
    """``readers`` reader processes for ``seconds``; merged latencies and broken count."""
    with ProcessPoolExecutor(max_workers=readers) as pool:
        futures = [pool.submit(read_for, str(db_path), seconds, ids, n) for n in range(readers)]
        results = [f.result() for f in futures]
    merged = {name: [x for r in results for x in r["latencies"][name]] for name in QUERIES}
    return {"latencies": merged, "broken": sum(r["broken"] for r in results), "seconds": seconds}


def datasette_case(db_path: Path, concurrency: int, seconds: float, ids: list[str]) -> dict:
    """``concurrency`` concurrent requests through Datasette's client for ``seconds``."""
    from datasette.app import Datasette

    async def run() -> dict:
        ds = Datasette([str(db_path)], settings={"sql_time_limit_ms": 3000})
        await ds.invoke_startup()
        latencies: dict[str, list[float]] = {name: [] for name in QUERIES}
        broken = 0
        end = time.monotonic() + seconds

        async def worker(offset: int) -> None:
            nonlocal broken
            names = list(QUERIES)
            i = offset
            while time.monotonic() < end:
                name = names[i % len(names)]
                params = {"sql": QUERIES[name], "_shape": "array"}
                params["bulletin"] = ids[i % len(ids)]
                params["phrase"] = PHRASES[i % len(PHRASES)]
                t0 = time.perf_counter()
                response = await ds.client.get(f"/{db_path.stem}.json?{urlencode(params)}")
                latencies[name].append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if name == "consistency":
                    broken += response.json()[0]["broken"]
                i += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return {"latencies": latencies, "broken": broken, "seconds": seconds}

    return asyncio.run(run())


def with_writer(db_path: Path, case) -> tuple[dict, dict]:
    """Run ``case()`` while a writer process rewrites bulletins; (case result, writer figures)."""
    stop, ready = db_path.parent / "stop-writer", db_path.parent / "writer-ready"
    stop.unlink(missing_ok=True)
    ready.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(db_path), str(stop), str(ready)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    while not ready.exists():  # the writer parses the samples before its first write
        if process.poll() is not None:
            raise RuntimeError("the writer ended before writing")
        time.sleep(0.05)
    try:
        result = case()
    finally:
        stop.touch()
        out, _ = process.communicate()
    return result, json.loads(out)


def _writer_figures(written: dict) -> str:
    return (
        f"{written['writes'] / written['seconds']:.1f} bulletin transactions/s,"
        f" write-ahead log at the end {written['wal_bytes'] / 2**20:.1f} MiB"
    )


def _percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(label: str, result: dict) -> None:
    """Print one case: per query p50/p95 (ms) and count, then all queries and reads/s."""
    print(f"\n{label}")
    print(f"  {'query':<12} {'reads':>7} {'p50 ms':>8} {'p95 ms':>8}")
    every = []
    for name, values in result["latencies"].items():
        every += values
        print(
            f"  {name:<12} {len(values):>7} {_percentile(values, 50) * 1000:>8.2f}"
            f" {_percentile(values, 95) * 1000:>8.2f}"
        )
    print(
        f"  {'all':<12} {len(every):>7} {_percentile(every, 50) * 1000:>8.2f}"
        f" {_percentile(every, 95) * 1000:>8.2f}   {len(every) / result['seconds']:.0f} reads/s,"
        f" inconsistent bulletins seen: {result['broken']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=40, help="copies of each sample bulletin")
    parser.add_argument("--readers", type=int, default=4, help="reader processes / requests")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each case")
    parser.add_argument("--writer", nargs=3, help=argparse.SUPPRESS)  # DB STOP READY
    args = parser.parse_args()
    if args.writer:
        writer(*(Path(a) for a in args.writer))
        return
    with tempfile.TemporaryDirectory(prefix="hotline-read-bench-") as tmp:
        db_path = Path(tmp) / "archive.db"
        ids = build(db_path, args.copies)
        conn = sqlite3.connect(db_path)
        counts = {
            t: conn.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("bulletins", "metrics", "unit_rows")
        }
        conn.close()
        print(
            f"scratch archive: {counts}; {args.readers} readers; {args.seconds:g}s per case;"
            f" {os.cpu_count()} CPUs; SQLite {sqlite3.sqlite_version}, WAL mode"
        )
        _, written = with_writer(db_path, lambda: time.sleep(args.seconds))
        print(f"writer alone: {_writer_figures(written)}")
        report(
            "SQLite mode=ro readers, no writer",
            sqlite_case(db_path, args.readers, args.seconds, ids),
        )
        result, written = with_writer(
            db_path, lambda: sqlite_case(db_path, args.readers, args.seconds, ids)
        )
        report("SQLite mode=ro readers, writer rewriting bulletins", result)
        print(f"  writer: {_writer_figures(written)}")
        report(
            "Datasette client (mutable database), no writer",
            datasette_case(db_path, args.readers, args.seconds, ids),
        )
        result, written = with_writer(
            db_path, lambda: datasette_case(db_path, args.readers, args.seconds, ids)
        )
        report("Datasette client (mutable database), writer rewriting bulletins", result)
        print(f"  writer: {_writer_figures(written)}")


if __name__ == "__main__":
    main()
