"""One writer per archive: a second refresh (or build) refuses at once with exit code 3.

The refreshes run as separate processes (``hotline refresh`` through a small entry that points
the command at a test source on a temporary mirror; the bulletins in it are invented for these
tests). A holding refresh is paused inside its first fetch until the test lets it go, so that
"at the same time" does not depend on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import cli as cli_module
from archive.lock import LOCK_NAME, ArchiveLock, ArchiveLocked, lock_holder

ROOT = Path(__file__).resolve().parent.parent
HOST = "lock.test.example"
SOURCE = {
    "slug": "lockcity",
    "name": "锁测试市",
    "province": "测试省",
    "level": "prefecture",
    "division_code": None,
    "homepage": f"http://{HOST}/",
    "listing_urls": [f"http://{HOST}/rx/index.html"],
    "platform": "generic",
    "allowed_hosts": [HOST],
}
DEADLINE = 120.0  # a child that never gets there is a failure, not a hung session

# `hotline ARGS` with the test source; with a hold directory (not "-"), every fetch first
# touches <hold>/holding and waits for <hold>/go to exist.
ENTRY = r"""
import json, sys, time
from pathlib import Path

from archive import cli as cli_module
from scrapers.base import Source

hold, source_json, args = sys.argv[1], sys.argv[2], sys.argv[3:]
source = json.loads(source_json)
source = Source(**{**source, "listing_urls": tuple(source["listing_urls"]),
                   "allowed_hosts": tuple(source["allowed_hosts"])})
cli_module._selected_sources = lambda slugs: [source]
if hold != "-":
    from scrapers import http

    original_fetch = http.Fetcher.fetch

    def fetch(self, url, **kwargs):
        Path(hold, "holding").touch()
        while not Path(hold, "go").exists():
            time.sleep(0.01)
        return original_fetch(self, url, **kwargs)

    http.Fetcher.fetch = fetch
cli_module.cli(args, prog_name="hotline")
"""


def _write(root: Path, path: str, text: str) -> None:
    target = root / HOST / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _article(month: int, total: int) -> str:
    title = f"2024年{month}月份12345热线运行情况"
    return (
        f'<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}"></head>'
        f'<body><h1>{title}</h1><div id="zoom"><p>{month}月份,锁测试市12345热线共受理群众诉求'
        f"{total}件。</p></div></body></html>"
    )


@pytest.fixture()
def setup(tmp_path: Path) -> dict:
    """A mirror of two bulletins, the entry script, and where the archive goes."""
    mirror = tmp_path / "mirror"
    items = [("./202405/a2.html", 4), ("./202404/a1.html", 3)]
    lis = "".join(
        f'<li><a href="{href}">2024年{month}月份12345热线运行情况</a><span>2024-0{month + 1}-05'
        "</span></li>"
        for href, month in items
    )
    _write(mirror, "rx/index.html", f'<html><body><ul class="list">{lis}</ul></body></html>')
    _write(mirror, "rx/202405/a2.html", _article(4, 2000))
    _write(mirror, "rx/202404/a1.html", _article(3, 1000))
    entry = tmp_path / "hotline_child.py"
    entry.write_text(ENTRY, encoding="utf-8")
    archive = tmp_path / "archive"
    archive.mkdir()
    return {"mirror": mirror, "entry": entry, "db": archive / "archive.db", "tmp": tmp_path}


def _start(setup: dict, hold: Path | None, *args: str) -> subprocess.Popen:
    command = [sys.executable, str(setup["entry"]), str(hold) if hold else "-",
               json.dumps(SOURCE, ensure_ascii=False), *args]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _refresh_args(setup: dict) -> list[str]:
    return ["refresh", "--db", str(setup["db"]), "--mirror", str(setup["mirror"]), "--json"]


def _wait_until_holding(process: subprocess.Popen, hold: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not (hold / "holding").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the first refresh never reached its first fetch"
        time.sleep(0.01)


def _bulletin_count(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("select count(*) from bulletins").fetchone()[0]
    finally:
        conn.close()


def test_a_lock_is_refused_to_a_second_holder_with_the_first_named(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    first = ArchiveLock(db, "refresh").acquire()
    try:
        # flock locks belong to an open file, so a second open in this process is refused too.
        with pytest.raises(ArchiveLocked) as refused:
            ArchiveLock(db, "build").acquire()
        message = str(refused.value)
        assert message.startswith(f"another refresh (pid {os.getpid()}, started ")
        assert message.endswith(f" holds {tmp_path / LOCK_NAME}; try again later")
        holder = lock_holder(db)
        assert holder is not None and holder.pid == os.getpid() and holder.command == "refresh"
        datetime.fromisoformat(holder.started)  # a real timestamp, not a placeholder
    finally:
        first.release()
    assert lock_holder(db) is None
    assert (tmp_path / LOCK_NAME).read_text() == ""  # released: the file names no one
    with ArchiveLock(db):
        assert lock_holder(db) is not None


def test_no_lock_file_means_free_and_is_not_created_by_asking(tmp_path: Path) -> None:
    assert lock_holder(tmp_path / "archive.db") is None
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_second_refresh_refuses_with_exit_3_and_the_first_is_unaffected(setup: dict) -> None:
    hold = setup["tmp"] / "hold"
    hold.mkdir()
    first = _start(setup, hold, *_refresh_args(setup))
    try:
        _wait_until_holding(first, hold)
        second = _start(setup, None, *_refresh_args(setup))
        out, err = second.communicate(timeout=DEADLINE)
        assert second.returncode == 3
        assert out == ""
        lock_file = setup["db"].parent / LOCK_NAME
        assert f"error: another refresh (pid {first.pid}, started " in err
        assert f"holds {lock_file}; try again later" in err
        assert first.poll() is None  # refused at once while the first still waits
    finally:
        (hold / "go").touch()
    out, err = first.communicate(timeout=DEADLINE)
    assert first.returncode == 0, err
    (report,) = json.loads(out)["sources"]
    assert (report["new_bulletins"], report["error"], report["failures"]) == (2, None, [])
    assert _bulletin_count(setup["db"]) == 2

    # the first has ended: a new run takes the lock and finds nothing new
    third = _start(setup, None, *_refresh_args(setup))
    out, err = third.communicate(timeout=DEADLINE)
    assert third.returncode == 0, err
    assert json.loads(out)["sources"][0]["new_bulletins"] == 0
    assert lock_holder(setup["db"]) is None


def test_a_sigkilled_holder_leaves_no_stale_lock(setup: dict) -> None:
    hold = setup["tmp"] / "hold"
    hold.mkdir()
    first = _start(setup, hold, *_refresh_args(setup))
    _wait_until_holding(first, hold)
    holder = lock_holder(setup["db"])
    assert holder is not None and holder.pid == first.pid
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=DEADLINE)
    assert first.returncode == -signal.SIGKILL
    # the file still names the dead process, but the kernel dropped its lock with it
    lock_file = setup["db"].parent / LOCK_NAME
    assert json.loads(lock_file.read_text())["pid"] == first.pid
    assert lock_holder(setup["db"]) is None
    second = _start(setup, None, *_refresh_args(setup))
    out, err = second.communicate(timeout=DEADLINE)
    assert second.returncode == 0, err
    assert json.loads(out)["sources"][0]["new_bulletins"] == 2
    assert _bulletin_count(setup["db"]) == 2


def test_scrape_and_build_are_refused_while_a_refresh_holds_the_lock(setup: dict) -> None:
    db = setup["db"]
    with ArchiveLock(db, "refresh"):
        for args in (["build", "--db", str(db)], ["scrape", "--db", str(db)]):
            result = CliRunner().invoke(cli_module.cli, args)
            assert result.exit_code == 3, result.output
            assert f"error: another refresh (pid {os.getpid()}, started " in result.stderr
    assert not db.exists()  # refused before anything was opened or written


def test_an_immutable_serve_is_refused_while_a_refresh_writes(
    sample_archive: Path, monkeypatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(cli_module.os, "execv", lambda exe, args: started.append(args))
    with ArchiveLock(sample_archive, "refresh"):
        result = CliRunner().invoke(cli_module.cli, ["serve", "--db", str(sample_archive)])
        assert result.exit_code == 3
        assert f"a refresh (pid {os.getpid()}) is writing" in result.stderr
        assert "--live" in result.stderr
        assert started == []
        # read-only (not immutable) serving is what is safe while a refresh writes
        live = CliRunner().invoke(cli_module.cli, ["serve", "--db", str(sample_archive), "--live"])
        assert live.exit_code == 0, live.output
    assert len(started) == 1 and "-i" not in started[0]
