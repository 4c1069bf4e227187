"""Tests for the fetcher, over loopback only: a scripted server and the mirror server."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scrapers.base import FetchError
from scrapers.http import DEFAULT_USER_AGENT, Fetcher, parse_retry_after
from scrapers.mirror import MirrorServer

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "samples" / "sites"
A = "www.a.gov.cn"
B = "www.b.gov.cn"


# --- a scripted loopback server -----------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer; ``length`` None omits Content-Length, an int declares that length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None | str = "actual"
    delay: float = 0.0


@dataclass
class Hit:
    """One request the scripted server received."""

    arrived: float  # time.monotonic()
    method: str
    path: str
    headers: dict[str, str]


class ScriptedServer:
    """Answers each path with its list of replies in turn (the last one repeats); 404 otherwise."""

    def __init__(self, routes: dict[str, list[Reply]]) -> None:
        self.routes = routes
        self.hits: list[Hit] = []
        self.release = threading.Event()  # ends the delays of slow replies at teardown
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def answer(self) -> None:
                with lock:
                    outer.hits.append(
                        Hit(time.monotonic(), self.command, self.path, dict(self.headers))
                    )
                    replies = outer.routes.get(self.path, [Reply(404)])
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if reply.delay:
                    outer.release.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.length == "actual":
                    self.send_header("Content-Length", str(len(reply.body)))
                elif reply.length is not None:
                    self.send_header("Content-Length", str(reply.length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_HEAD = answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self) -> list[str]:
        """The paths requested, in order."""
        return [hit.path for hit in self.hits]

    def __enter__(self) -> ScriptedServer:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeTime:
    """A clock that only moves when slept on; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture()
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def serve() -> Iterator:
    """Start scripted servers for a test and stop them after it."""
    servers: list[ScriptedServer] = []

    def start(routes: dict[str, list[Reply]]) -> ScriptedServer:
        server = ScriptedServer(routes).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


def fetcher_for(base_url: str, fake: FakeTime, **options) -> Fetcher:
    """A mirror-mode fetcher with fake time, no robots and no rate limit unless asked for."""
    settings = {
        "mirror": base_url,
        "allowed_hosts": {A, B},
        "respect_robots": False,
        "min_interval": 0.0,
        "clock": fake.clock,
        "sleep": fake.sleep,
    }
    settings.update(options)
    return Fetcher(**settings)


def reason_of(error: pytest.ExceptionInfo[FetchError]) -> str:
    return error.value.reason


# --- results and headers ------------------------------------------------------------------


def test_result_keeps_the_real_url_and_passes_headers_through(serve, fake: FakeTime) -> None:
    gbk = "市民服务热线(12345)月报".encode("gbk")
    headers = {
        "Content-Type": "text/html; charset=GBK",
        "ETag": '"v1"',
        "Last-Modified": "Mon, 15 Jul 2024 09:30:00 GMT",
    }
    server = serve({f"/{A}/col/a.html?x=1": [Reply(200, gbk, headers)]})
    result = fetcher_for(server.base_url, fake).fetch(f"http://{A}/col/a.html?x=1")
    assert result.url == f"http://{A}/col/a.html?x=1"
    assert result.final_url == f"http://{A}/col/a.html?x=1"
    assert result.status == 200
    assert result.content == gbk  # undecoded: decoding is the parser's job
    assert result.content_type == "text/html; charset=GBK"
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 15 Jul 2024 09:30:00 GMT"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.fetched_at)
    assert not result.not_modified


def test_user_agent_names_the_project_and_a_contact_url(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": [Reply(200, b"x")]})
    fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    user_agent = server.hits[0].headers["User-Agent"]
    assert user_agent == DEFAULT_USER_AGENT
    assert user_agent.startswith("hotline-archive/")
    assert "+https://github.com/hotline-archive/hotline-archive" in user_agent


def test_gbk_sample_page_is_returned_byte_for_byte(fake: FakeTime) -> None:
    url = "http://www.liaocheng.gov.cn/zmhd/12345rxyb/201507/t20150713_583247.html"
    path = SITES / "www.liaocheng.gov.cn/zmhd/12345rxyb/201507/t20150713_583247.html"
    with MirrorServer(SITES) as mirror:
        result = fetcher_for(mirror.base_url, fake, allowed_hosts=None).fetch(url)
    assert result.content == path.read_bytes()
    assert result.content_type == "text/html"  # the header: the charset is only in <meta>
    with pytest.raises(UnicodeDecodeError):
        result.content.decode("utf-8")


def test_post_form_reaches_the_mirror_file(tmp_path: Path, fake: FakeTime) -> None:
    folder = tmp_path / A / "module/web/jpage"
    folder.mkdir(parents=True)
    (folder / "dataproxy.jsp__columnid%3D7%26page%3D2").write_bytes(b"<datastore/>")
    with MirrorServer(tmp_path) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake)
        url = f"http://{A}/module/web/jpage/dataproxy.jsp?page=2"
        result = fetcher.fetch(url, method="POST", data={"columnid": "7"})
        assert [(method, path) for method, path, _ in mirror.requests] == [
            ("POST", f"/{A}/module/web/jpage/dataproxy.jsp?page=2")
        ]
    assert result.content == b"<datastore/>"
    assert result.content_type == "text/xml"


def test_http_error_is_not_retried(serve, fake: FakeTime) -> None:
    server = serve({})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(f"http://{A}/missing.html")
    assert reason_of(error) == "http 404"
    assert error.value.url == f"http://{A}/missing.html"
    assert len(server.hits) == 1
    assert fake.sleeps == []


# --- retries ------------------------------------------------------------------------------


def test_503_then_200_is_retried_after_a_backoff(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": [Reply(503), Reply(200, b"ok")]})
    result = fetcher_for(server.base_url, fake, backoff=1.0).fetch(f"http://{A}/a.html")
    assert result.content == b"ok"
    assert len(server.hits) == 2
    assert fake.sleeps == [1.0]


def test_backoff_doubles_and_the_last_failure_is_reported(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": [Reply(502), Reply(500), Reply(503)]})
    fetcher = fetcher_for(server.base_url, fake, retries=2, backoff=0.5)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/a.html")
    assert reason_of(error) == "http 503"
    assert len(server.hits) == 3
    assert fake.sleeps == [0.5, 1.0]


def test_429_retry_after_seconds_is_honoured(serve, fake: FakeTime) -> None:
    replies = [Reply(429, headers={"Retry-After": "2"}), Reply(200, b"ok")]
    server = serve({f"/{A}/a.html": replies})
    result = fetcher_for(server.base_url, fake, backoff=1.0).fetch(f"http://{A}/a.html")
    assert result.content == b"ok"
    assert fake.sleeps == [2.0]


def test_long_retry_after_is_capped(serve, fake: FakeTime) -> None:
    replies = [Reply(503, headers={"Retry-After": "86400"}), Reply(200, b"ok")]
    server = serve({f"/{A}/a.html": replies})
    fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert fake.sleeps == [120.0]


def test_retry_after_http_date() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now) == 120.0  # capped
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_timeout_is_retried_then_reported(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/slow.html": [Reply(200, b"late", delay=2.0)]})
    fetcher = fetcher_for(server.base_url, fake, read_timeout=0.05, retries=1, backoff=0.25)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/slow.html")
    assert reason_of(error) == "timeout"
    assert len(server.hits) == 2
    assert fake.sleeps == [0.25]


def test_connection_refused_is_retried_then_reported(fake: FakeTime) -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = fetcher_for(f"http://127.0.0.1:{port}", fake, retries=2, backoff=1.0)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/a.html")
    assert reason_of(error) == "connection error"
    assert fake.sleeps == [1.0, 2.0]


# --- rate limit ---------------------------------------------------------------------------


def test_one_host_waits_min_interval_two_hosts_do_not_wait(serve, fake: FakeTime) -> None:
    server = serve(
        {
            f"/{A}/1.html": [Reply(200)],
            f"/{A}/2.html": [Reply(200)],
            f"/{A}/3.html": [Reply(200)],
            f"/{B}/1.html": [Reply(200)],
        }
    )
    fetcher = fetcher_for(server.base_url, fake, min_interval=1.0)
    fetcher.fetch(f"http://{A}/1.html")
    assert fake.sleeps == []
    fetcher.fetch(f"http://{B}/1.html")  # another host: no wait
    assert fake.sleeps == []
    fetcher.fetch(f"http://{A}/2.html")  # same host, no time passed: a full interval
    assert fake.sleeps == [1.0]
    fake.now += 0.75  # time spent elsewhere counts
    fetcher.fetch(f"http://{A}/3.html")
    assert fake.sleeps == [1.0, pytest.approx(0.25)]
    fake.now += 5
    fetcher.fetch(f"http://{B}/1.html")
    assert len(fake.sleeps) == 2
    assert len(server.hits) == 5


def test_backoff_sleep_counts_towards_the_interval(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": [Reply(503), Reply(200)]})
    fetcher_for(server.base_url, fake, min_interval=1.0, backoff=3.0).fetch(f"http://{A}/a.html")
    assert fake.sleeps == [3.0]  # no extra rate-limit wait after a 3 s backoff


def test_real_gaps_between_requests_to_one_host(serve) -> None:
    routes = {f"/{A}/{n}.html": [Reply(200, b"x")] for n in range(3)}
    server = serve(routes)
    fetcher = Fetcher(
        mirror=server.base_url, allowed_hosts={A}, respect_robots=False, min_interval=0.1
    )
    for n in range(3):
        fetcher.fetch(f"http://{A}/{n}.html")
    arrivals = [hit.arrived for hit in server.hits]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert len(gaps) == 2
    assert all(gap >= 0.1 - 0.02 for gap in gaps), gaps  # lower bound only, with tolerance


# --- conditional requests -----------------------------------------------------------------


def test_conditional_request_gets_304(tmp_path: Path, fake: FakeTime) -> None:
    (tmp_path / A).mkdir()
    (tmp_path / A / "a.html").write_bytes(b"<html>a</html>")
    with MirrorServer(tmp_path) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake)
        first = fetcher.fetch(f"http://{A}/a.html")
        again = fetcher.fetch(f"http://{A}/a.html", etag=first.etag)
        by_date = fetcher.fetch(f"http://{A}/a.html", last_modified=first.last_modified)
        sent = [headers for _, _, headers in mirror.requests]
    assert first.status == 200
    assert first.etag is not None
    assert again.status == 304
    assert again.not_modified
    assert again.content == b""
    assert again.etag == first.etag
    assert by_date.status == 304
    assert sent[1]["If-None-Match"] == first.etag
    assert sent[2]["If-Modified-Since"] == first.last_modified
    assert "If-None-Match" not in sent[0]


def test_changed_file_is_not_304(tmp_path: Path, fake: FakeTime) -> None:
    (tmp_path / A).mkdir()
    page = tmp_path / A / "a.html"
    page.write_bytes(b"<html>old</html>")
    with MirrorServer(tmp_path) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake)
        first = fetcher.fetch(f"http://{A}/a.html")
        page.write_bytes(b"<html>new</html>")
        second = fetcher.fetch(f"http://{A}/a.html", etag=first.etag)
    assert second.status == 200
    assert second.content == b"<html>new</html>"
    assert second.etag != first.etag


# --- size cap and truncation --------------------------------------------------------------


def test_content_length_over_the_cap_is_refused_before_reading(serve, fake: FakeTime) -> None:
    # The body is short: reading it would end in "truncated", not in "over size cap".
    server = serve({f"/{A}/big.pdf": [Reply(200, b"x" * 10, length=10_000_000)]})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake, max_bytes=1000).fetch(f"http://{A}/big.pdf")
    assert reason_of(error) == "over size cap"
    assert len(server.hits) == 1


def test_streamed_body_over_the_cap_is_refused(serve, fake: FakeTime) -> None:
    server = serve(
        {
            f"/{A}/big.pdf": [Reply(200, b"x" * 5000, length=None)],
            f"/{A}/fits.pdf": [Reply(200, b"y" * 1000, length=None)],
        }
    )
    fetcher = fetcher_for(server.base_url, fake, max_bytes=1000)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/big.pdf")
    assert reason_of(error) == "over size cap"
    assert fetcher.fetch(f"http://{A}/fits.pdf").content == b"y" * 1000


def test_truncated_body_is_an_error(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/cut.html": [Reply(200, b"x" * 10, length=20)]})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake, retries=1).fetch(f"http://{A}/cut.html")
    assert reason_of(error) == "truncated"
    assert len(server.hits) == 2  # a cut connection is retried like any connection error


# --- redirects and URL rules --------------------------------------------------------------


def redirect(location: str, status: int = 302) -> list[Reply]:
    return [Reply(status, headers={"Location": location})]


def test_redirect_within_the_host_is_followed(serve, fake: FakeTime) -> None:
    server = serve(
        {
            f"/{A}/old.html": redirect("/new/page.html", 301),
            f"/{A}/new/page.html": redirect("next.html"),
            f"/{A}/new/next.html": [Reply(200, b"here")],
        }
    )
    result = fetcher_for(server.base_url, fake).fetch(f"http://{A}/old.html")
    assert result.content == b"here"
    assert result.url == f"http://{A}/old.html"
    assert result.final_url == f"http://{A}/new/next.html"
    assert server.paths() == [f"/{A}/old.html", f"/{A}/new/page.html", f"/{A}/new/next.html"]


def test_redirect_to_another_allowed_host_and_to_https(serve, fake: FakeTime) -> None:
    server = serve(
        {f"/{A}/a.html": redirect(f"https://{B}/b.html"), f"/{B}/b.html": [Reply(200, b"b")]}
    )
    result = fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert result.final_url == f"https://{B}/b.html"
    assert result.content == b"b"


def test_redirect_to_another_host_is_refused_and_not_requested(serve, fake: FakeTime) -> None:
    server = serve(
        {
            f"/{A}/a.html": redirect("http://evil.example/x.html"),
            "/evil.example/x.html": [Reply(200, b"evil")],
        }
    )
    fetcher = fetcher_for(server.base_url, fake)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/a.html")
    assert "evil.example not allowed" in reason_of(error)
    assert server.paths() == [f"/{A}/a.html"]


def test_per_call_allowed_hosts_replace_the_fetchers(serve, fake: FakeTime) -> None:
    server = serve(
        {f"/{A}/a.html": redirect(f"http://{B}/b.html"), f"/{B}/b.html": [Reply(200, b"b")]}
    )
    fetcher = fetcher_for(server.base_url, fake)
    with pytest.raises(FetchError):
        fetcher.fetch(f"http://{A}/a.html", allowed_hosts={A})
    assert server.paths() == [f"/{A}/a.html"]
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/a.html", allowed_hosts={B})
    assert reason_of(error) == f"host {A} not allowed"


def test_without_allowed_hosts_only_the_urls_own_host(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": redirect(f"http://{B}/b.html")})
    fetcher = fetcher_for(server.base_url, fake, allowed_hosts=None)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/a.html")
    assert reason_of(error).endswith(f"host {B} not allowed")


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/www.a.gov.cn/b.html",
        "http://10.0.0.1/b.html",
        "http://[::1]/b.html",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_redirect_to_a_private_address_is_refused(serve, fake: FakeTime, location: str) -> None:
    server = serve({f"/{A}/a.html": []})
    port = server.base_url.rsplit(":", 1)[1]
    server.routes[f"/{A}/a.html"] = redirect(location.format(port=port))
    server.routes[f"/{A}/b.html"] = [Reply(200, b"b")]
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert "private address" in reason_of(error)
    assert server.paths() == [f"/{A}/a.html"]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://www.a.gov.cn/a.txt"])
def test_redirect_to_another_scheme_is_refused(serve, fake: FakeTime, location: str) -> None:
    server = serve({f"/{A}/a.html": redirect(location)})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert "unsupported scheme" in reason_of(error)
    assert len(server.hits) == 1


def test_redirect_loop_is_an_error(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": redirect("/b.html"), f"/{A}/b.html": redirect("/a.html")})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert reason_of(error) == "redirect loop"
    assert len(server.hits) == 6  # the first request and five redirects


def test_more_than_five_redirects_is_an_error(serve, fake: FakeTime) -> None:
    routes = {f"/{A}/{n}.html": redirect(f"/{n + 1}.html") for n in range(10)}
    server = serve(routes)
    fetcher = fetcher_for(server.base_url, fake)
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"http://{A}/0.html")
    assert reason_of(error) == "too many redirects"
    server.routes[f"/{A}/5.html"] = [Reply(200, b"five")]
    assert fetcher.fetch(f"http://{A}/0.html").content == b"five"  # exactly five is fine


def test_redirect_without_location_is_an_error(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/a.html": [Reply(302)]})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(f"http://{A}/a.html")
    assert reason_of(error) == "http 302 without Location"


def test_post_redirected_with_303_becomes_get(serve, fake: FakeTime) -> None:
    server = serve(
        {f"/{A}/form.jsp": redirect("/done.html", 303), f"/{A}/done.html": [Reply(200, b"done")]}
    )
    fetcher = fetcher_for(server.base_url, fake)
    result = fetcher.fetch(f"http://{A}/form.jsp", method="POST", data={"q": "1"})
    assert result.content == b"done"
    assert [hit.method for hit in server.hits] == ["POST", "GET"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "unsupported scheme 'file'"),
        ("ftp://www.a.gov.cn/a.txt", "unsupported scheme 'ftp'"),
        ("www.a.gov.cn/a.html", "unsupported scheme '(none)'"),
        ("http://www.c.gov.cn/a.html", "host www.c.gov.cn not allowed"),
    ],
)
def test_urls_refused_without_a_request(serve, fake: FakeTime, url: str, reason: str) -> None:
    server = serve({})
    with pytest.raises(FetchError) as error:
        fetcher_for(server.base_url, fake).fetch(url)
    assert reason_of(error) == reason
    assert server.hits == []


def test_mirror_redirect_from_headers_json_is_real_url_space(
    tmp_path: Path, fake: FakeTime
) -> None:
    folder = tmp_path / A / "col"
    folder.mkdir(parents=True)
    (folder / "old.html.headers.json").write_text(
        '{"status": 301, "headers": {"Location": "http://www.a.gov.cn/col/new.html"}}'
    )
    (folder / "new.html").write_bytes(b"new")
    with MirrorServer(tmp_path) as mirror:
        result = fetcher_for(mirror.base_url, fake).fetch(f"http://{A}/col/old.html")
    assert result.final_url == f"http://{A}/col/new.html"
    assert result.content == b"new"


def test_mirror_folder_redirect_keeps_the_real_url(fake: FakeTime) -> None:
    with MirrorServer(SITES) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, allowed_hosts=None)
        result = fetcher.fetch("http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj")
    assert result.final_url == "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/"
    expected = SITES / "www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/index.html"
    assert result.content == expected.read_bytes()


def test_direct_mode_fetches_a_listed_loopback_host(serve, fake: FakeTime) -> None:
    server = serve({"/a.html": [Reply(200, b"direct")], "/r.html": redirect("http://10.0.0.1/")})
    fetcher = Fetcher(
        allowed_hosts={"127.0.0.1"}, respect_robots=False, clock=fake.clock, sleep=fake.sleep
    )
    result = fetcher.fetch(f"{server.base_url}/a.html")
    assert result.final_url == f"{server.base_url}/a.html"
    assert result.content == b"direct"
    with pytest.raises(FetchError) as error:
        fetcher.fetch(f"{server.base_url}/r.html")
    assert "private address 10.0.0.1" in reason_of(error)
    fetcher.close()


# --- robots.txt ---------------------------------------------------------------------------


def robots_mirror(tmp_path: Path, robots: str | None) -> Path:
    """A mirror with two pages on host A and, if given, its robots.txt."""
    (tmp_path / A / "private").mkdir(parents=True)
    (tmp_path / A / "open.html").write_bytes(b"open")
    (tmp_path / A / "private" / "x.html").write_bytes(b"private")
    if robots is not None:
        (tmp_path / A / "robots.txt").write_text(robots)
    return tmp_path


def test_robots_disallowed_path_is_not_requested(tmp_path: Path, fake: FakeTime) -> None:
    root = robots_mirror(tmp_path, "User-agent: *\nDisallow: /private/\n")
    with MirrorServer(root) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, respect_robots=True)
        with pytest.raises(FetchError) as error:
            fetcher.fetch(f"http://{A}/private/x.html")
        assert fetcher.fetch(f"http://{A}/open.html").content == b"open"
        paths = [path for _, path, _ in mirror.requests]
    assert reason_of(error) == "disallowed by robots.txt"
    assert paths == [f"/{A}/robots.txt", f"/{A}/open.html"]  # robots.txt once, then the page


def test_robots_rules_for_our_user_agent(tmp_path: Path, fake: FakeTime) -> None:
    robots = "User-agent: hotline-archive\nDisallow: /\n\nUser-agent: *\nDisallow:\n"
    with MirrorServer(robots_mirror(tmp_path, robots)) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, respect_robots=True)
        with pytest.raises(FetchError) as error:
            fetcher.fetch(f"http://{A}/open.html")
    assert reason_of(error) == "disallowed by robots.txt"


def test_missing_robots_allows_all(tmp_path: Path, fake: FakeTime) -> None:
    with MirrorServer(robots_mirror(tmp_path, None)) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, respect_robots=True)
        assert fetcher.fetch(f"http://{A}/private/x.html").content == b"private"


def test_robots_goes_through_the_rate_limit(tmp_path: Path, fake: FakeTime) -> None:
    with MirrorServer(robots_mirror(tmp_path, None)) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, respect_robots=True, min_interval=1.0)
        fetcher.fetch(f"http://{A}/open.html")
    assert fake.sleeps == [1.0]  # robots.txt, one interval, then the page


def test_robots_crawl_delay_lengthens_the_interval(tmp_path: Path, fake: FakeTime) -> None:
    robots = "User-agent: *\nCrawl-delay: 5\nDisallow: /private/\n"
    with MirrorServer(robots_mirror(tmp_path, robots)) as mirror:
        fetcher = fetcher_for(mirror.base_url, fake, respect_robots=True, min_interval=1.0)
        fetcher.fetch(f"http://{A}/open.html")
        fetcher.fetch(f"http://{A}/open.html")
    assert fake.sleeps == [5.0, 5.0]


def test_robots_server_error_makes_the_site_unreachable(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/robots.txt": [Reply(503)], f"/{A}/a.html": [Reply(200, b"a")]})
    fetcher = fetcher_for(server.base_url, fake, respect_robots=True, retries=1)
    for _ in range(2):
        with pytest.raises(FetchError) as error:
            fetcher.fetch(f"http://{A}/a.html")
        assert reason_of(error) == "robots.txt unreachable (http 503)"
    assert server.paths() == [f"/{A}/robots.txt"] * 2  # one retry, then remembered


def test_robots_forbidden_means_no_rules(serve, fake: FakeTime) -> None:
    server = serve({f"/{A}/robots.txt": [Reply(403)], f"/{A}/a.html": [Reply(200, b"a")]})
    fetcher = fetcher_for(server.base_url, fake, respect_robots=True)
    assert fetcher.fetch(f"http://{A}/a.html").content == b"a"


def test_a_host_name_resolving_to_a_private_address_is_refused_and_never_requested() -> None:
    """DNS can point a public-looking name inside (10.x, 127.x): judged by the answer, not the name."""
    seen: list[str] = []
    fetcher = Fetcher(
        allowed_hosts={"www.inside.example"},
        respect_robots=False,
        resolve=lambda host: seen.append(host) or ["10.1.2.3"],
    )
    with pytest.raises(FetchError) as error:
        fetcher.fetch("http://www.inside.example/12345/index.html")
    assert (
        error.value.reason == "refused private address 10.1.2.3 (resolved from www.inside.example)"
    )
    assert seen == ["www.inside.example"]
