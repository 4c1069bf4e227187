"""Datasette under concurrent load on loopback (a benchmark to run by hand, not a test).

    .venv/bin/python bench/make_synthetic_archive.py /tmp/bench/archive.db --metrics 1000000
    .venv/bin/python bench/load_datasette.py /tmp/bench/archive.db [--threads 8] [--requests 48]

Starts ``hotline serve`` (the real settings: immutable database, metadata.yml with its canned
queries, the site's plugins, the SQL time limit) on 127.0.0.1, requests each endpoint once to
warm it up (reported as "cold"), then fires ``--requests`` requests per endpoint from
``--threads`` threads, each endpoint for at most ``--seconds``, and prints p50/p95/max latency
and requests per second per endpoint. The server is stopped at the end; the whole run is
bounded by about (endpoints x --seconds) plus start-up.

--ensure-shape first runs archive.db.ensure_db_shape on the database, which adds the indexes
that archive/db.py declares and the database lacks (to measure before/after an index).
--analyze then runs ANALYZE (table statistics for the query planner, sqlite_stat1).
--explain prints each canned query's plan and a single direct run time (no HTTP).
Only loopback addresses are used. Datasette names the database after the file, and
metadata.yml describes "archive": a file with another name is served through a hard link
named archive.db in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
SAMPLE_SOURCE = "synthetic-0042"


def endpoint_specs(source: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Name -> (table, view or canned query; parameters) of every endpoint measured."""
    return {
        "comparison": ("bulletin_comparison", {}),
        "comparison?source": ("bulletin_comparison", {"source": source}),
        "comparison?province&year": ("bulletin_comparison", {"province": "山东省", "year": "2020"}),
        "metric_across_sources": (
            "metric_across_sources",
            {"metric": "satisfaction_rate", "period_type": "month"},
        ),
        "source_series": ("source_series", {"source": source, "metric": "requests_total"}),
        "units_most_overdue": ("units_most_overdue", {"limit": ""}),
        "topics_rising": ("topics_rising", {}),
        "failed_checks": ("failed_checks", {}),
        "search_text?q=物业": ("search_text", {"q": "物业"}),
        "provenance?metric": (
            "provenance",
            {"metric": "satisfaction_rate", "source": "", "bulletin": ""},
        ),
        "table metrics?metric": ("metrics", {"metric": "satisfaction_rate"}),
        "table bulletins": ("bulletins", {}),
    }


def endpoints(source: str) -> dict[str, str]:
    """Name -> path of every endpoint measured (HTML pages, as a reader opens them)."""
    return {
        name: f"/archive/{quote(path)}" + (f"?{urlencode(params)}" if params else "")
        for name, (path, params) in endpoint_specs(source).items()
    }


@dataclass
class Result:
    """Latencies of one endpoint under load."""

    name: str
    path: str
    cold_ms: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def row(self) -> str:
        """One line of the printed table."""
        lat = sorted(self.latencies_ms)
        if not lat:
            return f"{self.name:28s} no requests completed"
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        errors = sum(n for status, n in self.statuses.items() if status != 200)
        rate = len(lat) / self.seconds if self.seconds else 0.0
        return (
            f"{self.name:28s} {len(lat):5d} {errors:4d} {self.cold_ms:8.0f} {p50:8.0f} {p95:8.0f}"
            f" {lat[-1]:8.0f} {rate:7.1f}"
        )


HEADER = (
    f"{'endpoint':28s} {'n':>5s} {'err':>4s} {'cold ms':>8s} {'p50 ms':>8s} {'p95 ms':>8s}"
    f" {'max ms':>8s} {'req/s':>7s}"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _fetch(base: str, path: str, timeout: float) -> tuple[int, float]:
    """GET base+path; returns (status, milliseconds), the body read in full."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        status = 0
    return status, (time.perf_counter() - started) * 1000


def _served_path(db: Path, workdir: Path) -> Path:
    """The database as a file named archive.db (a hard link when it is named otherwise)."""
    if db.name == "archive.db":
        return db
    link = workdir / "archive.db"
    try:
        os.link(db, link)
    except OSError as exc:
        message = f"cannot hard-link {db} as archive.db ({exc}): name the file archive.db"
        raise SystemExit(message) from exc
    return link


def _wait_ready(base: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"hotline serve exited with {server.returncode}")
        status, _ = _fetch(base, "/-/versions.json", 2)
        if status == 200:
            return
        time.sleep(0.3)
    raise SystemExit("hotline serve did not answer in time")


def load(base: str, result: Result, threads: int, requests: int, seconds: float) -> None:
    """Fire ``requests`` GETs from ``threads`` threads, stopping after ``seconds``."""
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal issued
        while True:
            with lock:
                if issued >= requests or time.monotonic() >= deadline:
                    return
                issued += 1
            status, ms = _fetch(base, result.path, timeout=60)
            with lock:
                result.latencies_ms.append(ms)
                result.statuses[status] = result.statuses.get(status, 0) + 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(threads):
            pool.submit(worker)
    result.seconds = time.monotonic() - started


def ensure_shape(db: Path) -> None:
    """Run ensure_db_shape and print the indexes it added."""
    import sqlite_utils

    from archive.db import ensure_db_shape

    def indexes() -> set[str]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return {r[0] for r in rows}

    before = indexes()
    started = time.monotonic()
    database = sqlite_utils.Database(db)
    ensure_db_shape(database)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    added = sorted(indexes() - before)
    print(f"ensure_db_shape: {time.monotonic() - started:.1f} s, indexes added: {added or 'none'}")


def analyze(db: Path) -> None:
    """Run ANALYZE, so that the query planner knows how selective each index is."""
    started = time.monotonic()
    with sqlite3.connect(db) as conn:
        conn.execute("ANALYZE")
    print(f"ANALYZE: {time.monotonic() - started:.1f} s")


def explain(db: Path, source: str) -> None:
    """Each endpoint's main query: its plan and one direct run (sqlite3, no HTTP, no time limit).

    For a table or view that is the page's rows only (Datasette adds a count and facets).
    """
    import yaml

    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    queries = metadata["databases"]["archive"]["queries"]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for name, (target, params) in endpoint_specs(source).items():
        if target in queries:
            sql = queries[target]["sql"]
            args = {p: params.get(p, "") for p in queries[target].get("params", [])}
        else:
            where = " AND ".join(f"[{column}] = :{column}" for column in params)
            sql = f"SELECT * FROM [{target}]" + (f" WHERE {where}" if where else "") + " LIMIT 101"
            args = params
        plan = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]
        started = time.perf_counter()
        rows = conn.execute(sql, args).fetchmany(1001)
        ms = (time.perf_counter() - started) * 1000
        print(f"\n{name}: {ms:.0f} ms for the first {len(rows)} rows")
        # The comparison view repeats one line per metric column: print each line once.
        for line in dict.fromkeys(plan):
            print("   ", line)
    conn.close()


def main(argv: list[str] | None = None) -> None:
    """Command line: DB [--threads N] [--requests N] [--seconds S] [--port P] [--json FILE]."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48, help="requests per endpoint")
    parser.add_argument("--seconds", type=float, default=15, help="time cap per endpoint")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--source", default=SAMPLE_SOURCE, help="source slug used in filters")
    parser.add_argument("--only", action="append", help="measure only these endpoint names")
    parser.add_argument("--ensure-shape", action="store_true", help="add missing indexes first")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE first")
    parser.add_argument("--explain", action="store_true", help="print query plans first")
    parser.add_argument(
        "--setting",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a further Datasette setting passed to hotline serve, e.g. suggest_facets off",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    db = args.db.resolve()
    if not db.exists():
        raise SystemExit(f"{db} does not exist: run bench/make_synthetic_archive.py first")
    if args.ensure_shape:
        ensure_shape(db)
    if args.analyze:
        analyze(db)
    if args.explain:
        explain(db, args.source)

    port = args.port or _free_port()
    base = f"http://{HOST}:{port}"
    chosen = {k: v for k, v in endpoints(args.source).items() if not args.only or k in args.only}
    results = [Result(name, path) for name, path in chosen.items()]
    with tempfile.TemporaryDirectory(prefix="hotline-load-") as workdir:
        served = _served_path(db, Path(workdir))
        command = [sys.executable, "-m", "archive.cli", "serve", "--db", str(served),
                   "--host", HOST, "--port", str(port)]  # fmt: skip
        for name, value in args.setting:
            command += ["--setting", name, value]
        started = time.monotonic()
        log_path = Path(workdir) / "serve.log"
        log = log_path.open("w")
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                _wait_ready(base, server)
            except SystemExit:
                print(log_path.read_text()[-3000:], file=sys.stderr)
                raise
            print(f"server ready in {time.monotonic() - started:.1f} s at {base}")
            for result in results:
                status, result.cold_ms = _fetch(base, result.path, timeout=60)
                if status != 200:
                    print(f"warning: {result.name}: cold request answered {status}")
            print(f"{args.threads} threads, up to {args.requests} requests or"
                  f" {args.seconds:.0f} s per endpoint")  # fmt: skip
            print(HEADER)
            for result in results:
                load(base, result, args.threads, args.requests, args.seconds)
                print(result.row(), flush=True)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    for result in results:
        bad = {s: n for s, n in result.statuses.items() if s != 200}
        if bad:
            print(f"{result.name}: non-200 answers {bad} (0 = no answer)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False))


if __name__ == "__main__":
    main()
