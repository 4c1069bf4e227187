"""A fault-injection HTTP server: a mirror directory on 127.0.0.1 whose answer is set per URL.

Requests come in mirror form, as :class:`scrapers.http.Fetcher` sends them in mirror mode:
``http://127.0.0.1:PORT/<host>/<path>?<query>`` stands for the real URL
``http://<host>/<path>?<query>``. A URL without a fault is served from the mirror directory
(layout of :mod:`scrapers.mirror`; ETag and If-None-Match, no Last-Modified so a rewritten
file with the same bytes stays "not modified"). A URL with a fault gets the fault instead:

- ``http_error(503)``, ``rate_limited(retry_after=7)``: a status (and Retry-After);
- ``no_answer()``: the request is read and never answered until the client hangs up;
- ``slow_drip()``: headers, then the body one byte a second;
- ``connection_reset()``: headers and half the body, then a TCP reset (SO_LINGER 0);
- ``short_body()``: a Content-Length longer than the body, then the connection closes;
- ``redirect(location)``: a 302 to a location in real-URL space (absolute or a path);
- ``page(body, content_type)``: 200 with any body (an error page, a GBK page, robots.txt);
- ``oversize(size)``: 200 with ``size`` bytes, with or without Content-Length.

A fault answers ``times`` requests (every request when None), then the URL is normal again.
Every request is logged (method, mirror path, real URL, headers), also the refused ones, so a
test can assert that a URL was never asked for. Nothing a handler does blocks :meth:`stop`:
held and dripping answers end when the server stops.
"""

from __future__ import annotations

import hashlib
import logging
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from scrapers.mirror import content_type_for, mirror_path

logger = logging.getLogger(__name__)

# What a fault does with the connection; "answer" sends a whole (possibly odd) response.
ANSWER, HOLD, DRIP, RESET, SHORT = "answer", "hold", "drip", "reset", "short"
ERROR_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>系统繁忙</title></head>'
    "<body><h1>系统繁忙,请稍后再试</h1><p>Service temporarily unavailable.</p></body></html>"
).encode()


@dataclass
class Fault:
    """How to answer one URL instead of serving its file."""

    behaviour: str = ANSWER
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the mirror file's own body (drip, reset, short)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    times: int | None = None  # faulty answers before the URL is normal again; None = always
    drip_interval: float = 1.0  # seconds between two bytes of a slow drip
    served: int = 0  # faulty answers given so far


def http_error(status: int, times: int | None = None) -> Fault:
    """A server error page with this status (500, 502, 503, 404, ...)."""
    return Fault(
        ANSWER, status, {"Content-Type": "text/html; charset=utf-8"}, ERROR_PAGE, times=times
    )


def rate_limited(retry_after: int, times: int | None = None) -> Fault:
    """429 Too Many Requests with a Retry-After in seconds."""
    headers = {"Content-Type": "text/plain", "Retry-After": str(retry_after)}
    return Fault(ANSWER, 429, headers, b"too many requests\n", times=times)


def no_answer(times: int | None = None) -> Fault:
    """Accept and read the request, never answer it."""
    return Fault(HOLD, times=times)


def slow_drip(interval: float = 1.0, times: int | None = None) -> Fault:
    """The file's headers at once, then its body one byte per ``interval`` seconds."""
    return Fault(DRIP, drip_interval=interval, times=times)


def connection_reset(times: int | None = None) -> Fault:
    """The file's headers and half its body, then a TCP reset."""
    return Fault(RESET, times=times)


def short_body(times: int | None = None) -> Fault:
    """The file's body under a Content-Length 100 bytes longer, then a clean close."""
    return Fault(SHORT, times=times)


def redirect(location: str, status: int = 302, times: int | None = None) -> Fault:
    """A redirect to ``location`` (real-URL space: an absolute URL or a path on the real host)."""
    return Fault(ANSWER, status, {"Location": location}, b"", times=times)


def page(body: bytes, content_type: str, times: int | None = None) -> Fault:
    """Status 200 with this body and Content-Type, whatever the URL's file holds."""
    return Fault(ANSWER, 200, {"Content-Type": content_type}, body, times=times)


def oversize(size: int, *, send_length: bool = True, times: int | None = None) -> Fault:
    """Status 200 with ``size`` bytes of HTML, declared in Content-Length or not."""
    filler = b"<html><body>" + b"x" * max(size - 26, 0) + b"</body></html>"
    headers = {"Content-Type": "text/html"}
    return Fault(ANSWER, 200, headers, filler[:size], send_length=send_length, times=times)


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str  # as sent: /<host>/<path>?<query>
    url: str  # the real URL it stands for
    headers: dict[str, str]

    @property
    def host(self) -> str:
        """The real host asked for."""
        return (urlsplit(self.url).hostname or "").lower()


def real_url(mirror_request_path: str) -> str:
    """The real URL a mirror-form request path ``/<host>/<path>?<query>`` stands for."""
    parts = urlsplit(mirror_request_path)
    host, _, rest = parts.path.lstrip("/").partition("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"http://{host}/{rest}{query}"


class _FaultHandler(BaseHTTPRequestHandler):
    """Answers one request (HTTP/1.0: one request per connection) with its fault or its file."""

    server: _FaultHTTPServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer()

    def do_HEAD(self) -> None:
        """Answer a HEAD like a GET (the Fetcher does not send HEAD during a refresh)."""
        self._answer()

    def do_POST(self) -> None:
        """Answer a POST like a GET, after reading its form."""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        """Log at debug level instead of writing to stderr."""
        logger.debug("fault server %s: " + format, self.address_string(), *args)

    def _answer(self) -> None:
        url = real_url(self.path)
        self.server.record(Request(self.command, self.path, url, dict(self.headers.items())))
        fault = self.server.take_fault(url)
        if fault is None:
            self._serve_file(url)
            return
        logger.debug("fault server: %s gets %s %d", url, fault.behaviour, fault.status)
        if fault.behaviour == HOLD:
            self._hold()
            return
        body = fault.body if fault.body is not None else self._file_body(url)
        if body is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not found\n")
            return
        headers = {"Content-Type": self._file_type(url), **fault.headers}
        if fault.behaviour == ANSWER:
            self._send(fault.status, headers, body, length=len(body) if fault.send_length else None)
        elif fault.behaviour == SHORT:
            self._send(fault.status, headers, body, length=len(body) + 100)
        elif fault.behaviour == RESET:
            self._reset(headers, body)
        elif fault.behaviour == DRIP:
            self._drip(headers, body, fault.drip_interval)
        else:
            raise ValueError(f"unknown fault behaviour {fault.behaviour!r}")

    # --- files ------------------------------------------------------------------------

    def _path(self, url: str) -> Path | None:
        try:
            path = mirror_path(self.server.root, url)
        except ValueError:
            return None
        return path if path.is_file() else None

    def _file_body(self, url: str) -> bytes | None:
        path = self._path(url)
        return path.read_bytes() if path is not None else None

    def _file_type(self, url: str) -> str:
        path = self._path(url)
        return content_type_for(path) if path is not None else "text/html"

    def _serve_file(self, url: str) -> None:
        body = self._file_body(url)
        if body is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not found\n")
            return
        etag = '"' + hashlib.sha256(body).hexdigest() + '"'
        if etag in [tag.strip() for tag in self.headers.get("If-None-Match", "").split(",")]:
            self._send(304, {"ETag": etag}, b"", length=None)
            return
        self._send(200, {"Content-Type": self._file_type(url), "ETag": etag}, body)

    # --- answers ----------------------------------------------------------------------

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, *, length: int | None = -1
    ) -> None:
        """Status, headers, Content-Length (the body's by default; None leaves it out), body."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(len(body) if length == -1 else length))
        self.end_headers()
        if body and self.command != "HEAD":
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (an over-cap body refused on its Content-Length)

    def _hold(self) -> None:
        """Say nothing until the client closes the connection or the server stops."""
        sock = self.connection
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if not readable:
                continue
            try:
                if not sock.recv(4096):
                    return  # the client hung up: its timeout fired
            except OSError:
                return

    def _drip(self, headers: dict[str, str], body: bytes, interval: float) -> None:
        """Headers at once, then one byte per ``interval`` until done, hung up on, or stopped."""
        self._send(200, headers, b"", length=len(body))
        for index in range(len(body)):
            try:
                self.wfile.write(body[index : index + 1])
            except OSError:
                return
            if self.server.stopping.wait(interval):
                return

    def _reset(self, headers: dict[str, str], body: bytes) -> None:
        """Headers and half the body, then an abortive close: the client reads a TCP RST."""
        self._send(200, headers, body[: len(body) // 2], length=len(body))
        # Let the partial answer reach the client before the reset: the reset is mid-response.
        self.server.stopping.wait(0.1)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()


class _FaultHTTPServer(ThreadingHTTPServer):
    """The threading server behind :class:`FaultServer`: its root, faults and request log."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, Fault] = {}
        self.log: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _FaultHandler)

    def record(self, request: Request) -> None:
        """Append a request to the log."""
        with self._lock:
            self.log.append(request)

    def take_fault(self, url: str) -> Fault | None:
        """The fault to answer ``url`` with now, counting it; None when the URL is normal."""
        with self._lock:
            fault = self.faults.get(url)
            if fault is None:
                return None
            if fault.times is not None and fault.served >= fault.times:
                del self.faults[url]
                return None
            fault.served += 1
            return fault

    def handle_error(self, request: object, client_address: tuple) -> None:
        """Clients hanging up mid-answer are expected here: log quietly."""
        logger.debug("fault server: error answering %s", client_address, exc_info=True)


class FaultServer:
    """Serves a mirror directory with per-URL faults on 127.0.0.1 (context manager)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.base_url = ""
        self._server: _FaultHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultServer:
        """Bind a free port and start answering."""
        self._server = _FaultHTTPServer(self.root)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fault-server-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """End held and dripping answers, stop answering and release the port."""
        if self._server is None or self._thread is None:
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def _running(self) -> _FaultHTTPServer:
        if self._server is None:
            raise RuntimeError("the fault server was never started")
        return self._server

    def inject(self, url: str, fault: Fault) -> None:
        """Answer the real URL ``url`` with ``fault`` from now on (or ``fault.times`` times)."""
        with self._running._lock:
            self._running.faults[url] = fault

    def clear(self, url: str | None = None) -> None:
        """Remove the fault of ``url``, or every fault."""
        with self._running._lock:
            if url is None:
                self._running.faults.clear()
            else:
                self._running.faults.pop(url, None)

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order."""
        with self._running._lock:
            return list(self._running.log)

    def requested(self, url: str) -> bool:
        """Whether the real URL ``url`` was ever asked for."""
        return any(request.url == url for request in self.requests)

    def requested_host(self, host: str) -> bool:
        """Whether any URL on the real host ``host`` was ever asked for."""
        return any(request.host == host.lower() for request in self.requests)
