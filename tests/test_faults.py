"""Refresh under injected faults: each fault is survived, reported with its reason, retried on the
next run, and nothing archived before it is lost or changed.

For every fault class (tests/faults/server.py) against the temporary site of
tests/faults/harness.py:

1. a clean refresh archives three bulletins; the archive is snapshot row by row (every table
   but the FTS shadow tables) with its raw store files;
2. the site publishes what the case needs and the fault is injected on an article, an
   attachment or a listing page;
3. a refresh finishes, reports that one document as failed with the expected reason, stores
   nothing for it, and every row and raw file of step 1 is still there, unchanged;
4. the fault is removed and a refresh fetches and archives the document.

The last test prints (and writes to test-output/faults-summary.json) the fault classes injected
and survived and the documents lost, which must be 0.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from faults.harness import (
    B07,
    B08,
    B09,
    B10,
    B11,
    B12,
    FIRST_RUN,
    HOST,
    RETRIES,
    SIZE_CAP,
    Bulletin,
    Site,
    Snapshot,
    article_html,
    listing_page_url,
    losses,
    rows,
    run_refresh,
    snapshot,
    url,
)
from faults.server import (
    FaultServer,
    connection_reset,
    http_error,
    no_answer,
    oversize,
    page,
    rate_limited,
    redirect,
    short_body,
    slow_drip,
)

REPO = Path(__file__).resolve().parents[1]
ERROR_PAGE_200 = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>访问出错</title></head><body>'
    "<h1>您访问的页面不存在或已删除</h1><p>受理群众诉求999999件</p></body></html>"
).encode()
ROBOTS_DISALLOW = b"User-agent: *\nDisallow: /rx/202011/\n"

# Step 2 sites: one new bulletin (with a PDF) on page 1; three new ones over pages 1 and 2.
ONE_NEW = (B10, B09, B08, B07)
THREE_NEW = (B12, B11, B10, B09, B08, B07)


@dataclass(frozen=True)
class Case:
    """One injected fault: where it goes, what the refresh must report, what must stay unasked."""

    id: str
    fault: str  # the fault class, as the summary counts it
    target: str  # article, attachment, listing page, first listing page
    failed_url: str
    reason: str
    inject: Callable[[FaultServer], None]
    published: tuple[Bulletin, ...] = ONE_NEW
    full: bool = False  # walk every page: the fault hits a document archived in step 1
    never_requested: tuple[str, ...] = ()  # hosts or URLs the Fetcher must not ask for
    retry_after: float | None = None  # a Retry-After the Fetcher must have slept


def _inject(target: str, fault_factory: Callable[[], object]) -> Callable[[FaultServer], None]:
    def inject(server: FaultServer) -> None:
        server.inject(target, fault_factory())

    return inject


def _loop(server: FaultServer) -> None:
    # The article and a login-check URL redirect to each other.
    server.inject(B10.url, redirect(B10.url + "?check=1"))
    server.inject(B10.url + "?check=1", redirect("/" + B10.path))


OFF_HOST = "http://sso.elsewhere.example/login?service=t20201105_10"
PRIVATE_10 = "http://10.0.0.1/files/P020201105.pdf"
PRIVATE_192 = "http://192.168.1.1/login"

CASES = [
    Case("500-article", "http 5xx", "article", B10.url, "http 500",
         _inject(B10.url, lambda: http_error(500))),
    Case("502-listing-page-2", "http 5xx", "listing page", listing_page_url(2), "http 502",
         _inject(listing_page_url(2), lambda: http_error(502)), published=THREE_NEW),
    Case("503-first-listing-page", "http 5xx", "first listing page", listing_page_url(1),
         "http 503", _inject(listing_page_url(1), lambda: http_error(503))),
    Case("503-article-on-page-2", "http 5xx", "article", B10.url, "http 503",
         _inject(B10.url, lambda: http_error(503)), published=THREE_NEW),
    Case("503-archived-article", "http 5xx", "article", B08.url, "http 503",
         _inject(B08.url, lambda: http_error(503)), full=True),
    Case("429-retry-after", "429 with Retry-After", "article", B10.url, "http 429",
         _inject(B10.url, lambda: rate_limited(7)), retry_after=7.0),
    # "Once" faults: as many as the Fetcher's attempts, then the URL is normal by itself.
    Case("timeout-attachment", "timeout (no answer)", "attachment", B10.pdf_url, "timeout",
         _inject(B10.pdf_url, lambda: no_answer(times=RETRIES + 1))),
    Case("slow-drip-article", "slow drip", "article", B10.url, "timeout",
         _inject(B10.url, lambda: slow_drip())),
    # A reset after half the body reads as a body cut short.
    Case("reset-archived-attachment", "connection reset", "attachment", B09.pdf_url,
         "truncated", _inject(B09.pdf_url, lambda: connection_reset()), full=True),
    Case("reset-listing-page-2", "connection reset", "listing page", listing_page_url(2),
         "truncated", _inject(listing_page_url(2), lambda: connection_reset()),
         published=THREE_NEW),
    Case("short-body-attachment", "body shorter than Content-Length", "attachment",
         B10.pdf_url, "truncated", _inject(B10.pdf_url, lambda: short_body())),
    Case("redirect-loop-article", "redirect loop", "article", B10.url, "redirect loop", _loop),
    Case("redirect-off-host-article", "redirect to another host", "article", B10.url,
         f"redirect to {OFF_HOST} refused: host sso.elsewhere.example not allowed",
         _inject(B10.url, lambda: redirect(OFF_HOST)), never_requested=("sso.elsewhere.example",)),
    Case("redirect-private-attachment", "redirect to a private address", "attachment",
         B10.pdf_url, f"redirect to {PRIVATE_10} refused: refused private address 10.0.0.1",
         _inject(B10.pdf_url, lambda: redirect(PRIVATE_10)), never_requested=("10.0.0.1",)),
    Case("redirect-private-article", "redirect to a private address", "article", B10.url,
         f"redirect to {PRIVATE_192} refused: refused private address 192.168.1.1",
         _inject(B10.url, lambda: redirect(PRIVATE_192)), never_requested=("192.168.1.1",)),
    Case("404-attachment", "404 for an attachment", "attachment", B10.pdf_url, "http 404",
         _inject(B10.pdf_url, lambda: http_error(404))),
    Case("html-for-new-pdf", "html error page (200) where a pdf was expected", "attachment",
         B10.pdf_url, "html page where a pdf was expected",
         _inject(B10.pdf_url, lambda: page(ERROR_PAGE_200, "text/html; charset=utf-8"))),
    Case("html-for-archived-pdf", "html error page (200) where a pdf was expected",
         "attachment", B09.pdf_url, "html page where a pdf was expected",
         # served as application/pdf: the bytes decide, not the header
         _inject(B09.pdf_url, lambda: page(ERROR_PAGE_200, "application/pdf")), full=True),
    Case("over-cap-declared-attachment", "body over the size cap", "attachment", B10.pdf_url,
         "over size cap", _inject(B10.pdf_url, lambda: oversize(SIZE_CAP + 1))),
    Case("over-cap-streamed-article", "body over the size cap", "article", B10.url,
         "over size cap", _inject(B10.url, lambda: oversize(SIZE_CAP + 1, send_length=False))),
    Case("robots-disallow-article", "robots.txt disallowing the path", "article", B10.url,
         "disallowed by robots.txt",
         _inject(url("robots.txt"), lambda: page(ROBOTS_DISALLOW, "text/plain")),
         never_requested=(B10.url, B10.pdf_url)),
]  # fmt: skip


@dataclass
class Outcome:
    """What one case showed, for the summary."""

    fault: str
    survived: bool = False
    rows_lost: int = 0
    documents_lost: int = 0


RESULTS: dict[str, Outcome] = {}
EXPECTED_REQUESTS_TOTAL = {
    # Articles: the invented figures written in tests/faults/harness.py.
    B07.url: 1000.0,
    B08.url: 2000.0,
    B10.url: 3000.0,
    B11.url: 3100.0,
    B12.url: 3200.0,
    # B09 says "详见附件": its figure comes from the Hengdong PDF, "共形成有效电子工单3338件".
    B09.url: 3338.0,
}


@pytest.fixture()
def site(tmp_path: Path) -> Site:
    """The test site as it is at the first refresh."""
    site = Site(tmp_path / "mirror")
    site.publish(*FIRST_RUN)
    return site


@pytest.fixture()
def server(site: Site) -> Iterator[FaultServer]:
    """The fault server on the test site, stopped after the test."""
    with FaultServer(site.root) as server:
        yield server


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """Where the archive goes (raw/ beside it)."""
    (tmp_path / "archive").mkdir()
    return tmp_path / "archive" / "archive.db"


def _first_refresh(db: Path, server: FaultServer) -> Snapshot:
    """Step 1: a clean refresh archives the three bulletins; the archive as it is then."""
    run = run_refresh(db, server)
    assert run.report.error is None and run.report.failures == []
    assert run.report.new_bulletins == 3
    return snapshot(db)


def _documents(db: Path, document_url: str) -> list[tuple]:
    return rows(db, "SELECT * FROM documents WHERE url = ? ORDER BY id", (document_url,))


def _latest_body(db: Path, document_url: str) -> bytes | None:
    found = rows(
        db,
        "SELECT path FROM documents WHERE url = ? ORDER BY fetched_at DESC, rowid DESC LIMIT 1",
        (document_url,),
    )
    return (db.parent / found[0][0]).read_bytes() if found else None


def _site_body(site: Site, document_url: str) -> bytes:
    return (site.root / HOST / document_url.removeprefix(f"http://{HOST}/")).read_bytes()


def _requests_total(db: Path) -> dict[str, float]:
    return dict(
        rows(
            db,
            "SELECT b.url, m.value FROM bulletins b JOIN metrics m ON m.bulletin_id = b.id"
            " WHERE m.metric = 'requests_total'",
        )
    )


def _assert_nothing_lost(before: Snapshot, db: Path, outcome: Outcome) -> None:
    lost = losses(before, snapshot(db))
    outcome.rows_lost += lost.total
    outcome.documents_lost += lost.documents
    assert lost.total == 0, f"rows or raw files lost or changed: {lost}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault_is_survived_reported_and_retried(
    case: Case, site: Site, server: FaultServer, db: Path
) -> None:
    outcome = RESULTS[case.id] = Outcome(case.fault)
    before = _first_refresh(db, server)
    site.publish(*case.published)
    case.inject(server)
    stored_before = _documents(db, case.failed_url)

    # 3. the refresh finishes and reports the document with its reason; nothing is lost
    faulty = run_refresh(db, server, full=case.full)
    if case.target == "first listing page":
        assert faulty.report.error == f"listing page {case.failed_url}: {case.reason}"
        assert faulty.report.failures == []
    else:
        assert faulty.report.error is None
        assert faulty.report.failures == [{"url": case.failed_url, "reason": case.reason}]
    assert _documents(db, case.failed_url) == stored_before  # no version stored for the fault
    _assert_nothing_lost(before, db, outcome)
    for refused in case.never_requested:
        asked = server.requested(refused) if "/" in refused else server.requested_host(refused)
        assert not asked, f"{refused} was requested"
    if case.retry_after is not None:
        assert faulty.sleeps == [case.retry_after] * RETRIES

    # 4. without the fault the document is fetched and archived
    server.clear()
    asked_before = len(server.requests)
    retried = run_refresh(db, server, full=case.full)
    assert retried.report.error is None and retried.report.failures == []
    assert any(r.url == case.failed_url for r in server.requests[asked_before:])
    assert _latest_body(db, case.failed_url) == _site_body(site, case.failed_url)
    expected = {b.url: EXPECTED_REQUESTS_TOTAL[b.url] for b in case.published}
    assert _requests_total(db) == expected  # every bulletin published is archived
    attachments = [b.pdf_url for b in case.published if b.pdf]
    assert all(_latest_body(db, a) == _site_body(site, a) for a in attachments)
    _assert_nothing_lost(before, db, outcome)
    outcome.survived = True


def test_an_attachment_retried_next_run_adds_its_figures(
    site: Site, server: FaultServer, db: Path
) -> None:
    _first_refresh(db, server)
    site.publish(*ONE_NEW)
    server.inject(B10.pdf_url, http_error(503))
    run_refresh(db, server)
    orders = (
        "SELECT m.value FROM metrics m JOIN bulletins b ON b.id = m.bulletin_id"
        " WHERE b.url = ? AND m.metric = 'work_orders_total'"
    )
    assert rows(db, orders, (B10.url,)) == []  # archived from its article meanwhile
    server.clear()
    report = run_refresh(db, server).report
    assert report.updated_bulletins == 1
    # "受理来电工单44082个" in the Liaocheng PDF
    assert rows(db, orders, (B10.url,)) == [(44082.0,)]


def test_html_error_page_never_replaces_an_archived_pdf_or_its_figures(
    site: Site, server: FaultServer, db: Path
) -> None:
    _first_refresh(db, server)
    server.inject(B09.pdf_url, page(ERROR_PAGE_200, "application/pdf"))
    report = run_refresh(db, server, full=True).report
    assert report.failures == [{"url": B09.pdf_url, "reason": "html page where a pdf was expected"}]
    assert (report.changed_documents, report.updated_bulletins) == (0, 0)
    assert rows(db, "SELECT count(*) FROM documents WHERE url = ?", (B09.pdf_url,)) == [(1,)]
    stored = {p.read_bytes() for p in (db.parent / "raw").rglob("*") if p.is_file()}
    assert ERROR_PAGE_200 not in stored
    assert _requests_total(db)[B09.url] == 3338.0  # not the error page's 999999


def test_a_changed_article_whose_attachment_fails_keeps_the_attachments_figures(
    site: Site, server: FaultServer, db: Path
) -> None:
    _first_refresh(db, server)
    figures = (
        "SELECT m.metric, m.value FROM metrics m JOIN bulletins b ON b.id = m.bulletin_id"
        " WHERE b.url = ? AND m.metric IN ('calls_inbound', 'requests_total') ORDER BY 1"
    )
    # "接收市民来电总量4630次", "共形成有效电子工单3338件" in the Hengdong PDF
    assert rows(db, figures, (B09.url,)) == [("calls_inbound", 4630.0), ("requests_total", 3338.0)]
    site.write(B09.path, article_html(B09).replace("详见附件。", "详见附件(已更正)。"))
    server.inject(B09.pdf_url, http_error(503))
    report = run_refresh(db, server, full=True).report
    assert report.failures == [{"url": B09.pdf_url, "reason": "http 503"}]
    assert report.updated_bulletins == 1  # the corrected article is archived
    assert "已更正" in rows(db, "SELECT text FROM bulletins WHERE url = ?", (B09.url,))[0][0]
    # with the PDF archived before standing in for the one that failed
    assert rows(db, figures, (B09.url,)) == [("calls_inbound", 4630.0), ("requests_total", 3338.0)]


def test_after_a_failed_walk_every_page_is_walked_then_the_walk_stops_early_again(
    site: Site, server: FaultServer, db: Path
) -> None:
    _first_refresh(db, server)
    site.publish(*THREE_NEW)
    server.inject(B10.url, http_error(503))  # on page 2, behind the new page 1
    run_refresh(db, server)
    server.clear()
    asked = len(server.requests)
    report = run_refresh(db, server).report  # page 1 is all known now, yet page 2 is read
    assert report.failures == [] and report.new_bulletins == 1
    assert any(r.url == listing_page_url(3) for r in server.requests[asked:])
    asked = len(server.requests)
    run_refresh(db, server)  # the last walk ended cleanly: page 1 all known ends it
    assert [r.url for r in server.requests[asked:] if not r.url.endswith("/robots.txt")] == [
        listing_page_url(1)
    ]


def test_a_fault_once_is_recovered_by_the_fetchers_own_retry(
    site: Site, server: FaultServer, db: Path
) -> None:
    _first_refresh(db, server)
    site.publish(*ONE_NEW)
    server.inject(B10.url, http_error(503, times=1))
    run = run_refresh(db, server)
    assert run.report.failures == [] and run.report.new_bulletins == 1
    assert run.sleeps == [0.01]  # one backoff before the second attempt
    assert _requests_total(db)[B10.url] == 3000.0


def test_gbk_page_without_any_charset_is_archived_decoded(
    site: Site, server: FaultServer, db: Path
) -> None:
    outcome = RESULTS["gbk-article-without-charset"] = Outcome("gbk page without charset")
    before = _first_refresh(db, server)
    site.publish(*ONE_NEW)
    gbk_page = article_html(B10, charset=None).encode("gbk")
    server.inject(B10.url, page(gbk_page, "text/html"))  # no charset in header nor page
    report = run_refresh(db, server).report
    assert report.failures == [] and report.new_bulletins == 1
    title = rows(db, "SELECT title FROM bulletins WHERE url = ?", (B10.url,))
    assert title == [("测试县2020年10月份12345热线运行情况",)]
    assert _requests_total(db)[B10.url] == 3000.0  # "受理群众诉求3000件"
    assert _latest_body(db, B10.url) == gbk_page  # stored as served, undecoded
    _assert_nothing_lost(before, db, outcome)
    outcome.survived = True


# --- the fault server itself ------------------------------------------------------------


def _raw_get(server: FaultServer, target: str, timeout: float = 5.0) -> socket.socket:
    """A bare connection that has sent a GET for a real URL in mirror form."""
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=timeout)
    path = target.removeprefix("http:/")
    conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    return conn


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def test_slow_drip_sends_the_headers_then_one_byte_at_a_time(site: Site) -> None:
    body = article_html(B07).encode()
    with FaultServer(site.root) as server:
        server.inject(B07.url, slow_drip(interval=30.0))
        with _raw_get(server, B07.url, timeout=2.0) as conn:
            head, rest = _read_head(conn)
            if not rest:
                rest = conn.recv(4096)
            assert f"Content-Length: {len(body)}".encode() in head
            assert rest == body[:1]  # the second byte waits 30 s: no more arrives now
            conn.settimeout(0.3)
            with pytest.raises(TimeoutError):
                conn.recv(4096)


def test_connection_reset_cuts_the_body_with_a_tcp_reset(site: Site) -> None:
    body = article_html(B07).encode()
    with FaultServer(site.root) as server:
        server.inject(B07.url, connection_reset())
        with _raw_get(server, B07.url) as conn:
            head, received = _read_head(conn)
            assert f"Content-Length: {len(body)}".encode() in head
            with pytest.raises(ConnectionResetError):
                while chunk := conn.recv(4096):
                    received += chunk
            assert body.startswith(received) and len(received) < len(body)


def test_a_held_request_does_not_block_the_servers_stop(site: Site) -> None:
    server = FaultServer(site.root).start()
    server.inject(B07.url, no_answer())
    conn = _raw_get(server, B07.url)
    while not server.requested(B07.url):
        threading.Event().wait(0.01)  # the handler has the request and holds it
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=10)  # a guard against a hang, not a measure
    try:
        assert not stopper.is_alive()
        assert conn.recv(4096) == b""  # closed without a word
    finally:
        conn.close()


def test_a_fault_with_times_answers_that_often_then_the_file(site: Site) -> None:
    with FaultServer(site.root) as server:
        server.inject(B07.url, http_error(503, times=2))
        statuses = []
        for _ in range(3):
            with _raw_get(server, B07.url) as conn:
                head, _ = _read_head(conn)
                statuses.append(head.split(b" ")[1])
        assert statuses == [b"503", b"503", b"200"]


def test_summary_of_faults_survived_and_documents_lost(capsys: pytest.CaptureFixture) -> None:
    expected = {case.id for case in CASES} | {"gbk-article-without-charset"}
    if set(RESULTS) != expected:
        pytest.skip("the summary needs every fault case of this module to have run")
    classes = {outcome.fault for outcome in RESULTS.values()}
    survived = {o.fault for o in RESULTS.values() if o.survived} - {
        o.fault for o in RESULTS.values() if not o.survived
    }
    summary = {
        "fault_classes_injected": len(classes),
        "fault_classes_survived": len(survived),
        "cases_injected": len(RESULTS),
        "cases_survived": sum(o.survived for o in RESULTS.values()),
        "documents_lost": sum(o.documents_lost for o in RESULTS.values()),
        "rows_or_files_lost": sum(o.rows_lost for o in RESULTS.values()),
        "classes": sorted(classes),
    }
    out = REPO / "test-output"
    out.mkdir(exist_ok=True)
    (out / "faults-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    with capsys.disabled():
        print(
            f"\nfaults: {summary['fault_classes_survived']}/{summary['fault_classes_injected']}"
            f" classes survived ({summary['cases_survived']}/{summary['cases_injected']} cases),"
            f" documents lost: {summary['documents_lost']},"
            f" rows or raw files lost: {summary['rows_or_files_lost']}"
        )
    assert summary["documents_lost"] == 0 and summary["rows_or_files_lost"] == 0
    assert summary["fault_classes_survived"] == summary["fault_classes_injected"]
