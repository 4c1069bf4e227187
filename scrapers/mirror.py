"""A mirror directory of websites, and a loopback HTTP server that serves it.

Layout (one folder per host): ``DIR/<host>/<url path>``.

- A path ending in ``/`` (or empty) maps to ``index.html`` in that folder.
- A query string maps to a sibling file ``<file name>__<query>``: the parameters are decoded,
  sorted, re-encoded (``urlencode`` with ``quote``) and the result is percent-encoded once more
  with ``quote(query, safe="")``, so ``/module/web/jpage/dataproxy.jsp?page=2&columnid=1`` is
  ``DIR/<host>/module/web/jpage/dataproxy.jsp__columnid%3D1%26page%3D2``.
- A POST's form fields are extra query parameters, merged before sorting.
- ``http`` and ``https`` share the folder; a non-default port is part of it (``host:8080``).
- ``<file>.headers.json`` beside a file may override the answer: ``{"status": 404}``,
  ``{"status": 302, "headers": {"Location": "/other.html"}}`` (the file itself may then be
  absent), ``{"headers": {"Content-Type": "...", "ETag": null}}`` (null removes a header).

The server answers ``http://127.0.0.1:<port>/<host>/<path>?<query>``; redirect locations it
sends (its own, and those of ``.headers.json``) are in real-URL space: an absolute real URL or a
path on the real host. ``python -m scrapers.mirror DIR [--port P]`` serves DIR from a shell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import threading
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from types import TracebackType
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

logger = logging.getLogger(__name__)

HEADERS_SUFFIX = ".headers.json"
QUERY_SEPARATOR = "__"
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_FOLDER = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
_MAX_FORM_BYTES = 1024 * 1024

HTML = "text/html"
XML = "text/xml"
OCTET_STREAM = "application/octet-stream"
# Pages declare their charset in <meta>, so no charset parameter is added here.
CONTENT_TYPES = {
    ".html": HTML,
    ".htm": HTML,
    ".shtml": HTML,
    ".jhtml": HTML,
    ".jsp": HTML,
    ".xml": XML,
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".wps": "application/kswps",
    ".et": "application/kset",
    ".zip": "application/zip",
    ".rar": "application/vnd.rar",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
}


def _host_folder(url: str) -> str:
    """The folder name of a URL's host: the lower-case host name, plus a non-default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port  # ValueError for a malformed port
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    if not _HOST_FOLDER.match(host):
        raise ValueError(f"host of {url!r} cannot be a mirror folder")
    return host


def canonical_query(query: str, form: dict[str, str] | None = None) -> str:
    """The query string and form fields as one query: parameters decoded, sorted, re-encoded."""
    pairs = parse_qsl(query, keep_blank_values=True)
    pairs.extend((form or {}).items())
    return urlencode(sorted(pairs), quote_via=quote)


MAX_NAME_BYTES = 200


def mirror_path(root: Path, url: str, form: dict[str, str] | None = None) -> Path:
    """The file under ``root`` that holds ``url`` (with a POST's ``form`` fields); ValueError if none can."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url}")
    host = _host_folder(url)
    raw_segments = (parts.path or "/").split("/")[1:]
    segments: list[str] = []
    for raw in raw_segments:
        segment = unquote(raw)
        if segment in ("", "."):
            continue
        if segment == ".." or "/" in segment or "\\" in segment or "\x00" in segment:
            raise ValueError(f"path segment {raw!r} would leave the mirror: {url}")
        segments.append(segment)
    if not raw_segments or raw_segments[-1] in ("", ".") or not segments:
        segments.append("index.html")
    query = canonical_query(parts.query, form)
    if query:
        encoded = quote(query, safe="")
        if len(f"{segments[-1]}{QUERY_SEPARATOR}{encoded}".encode()) > MAX_NAME_BYTES:
            # File systems cap names at 255 bytes: a long query (Hanweb's webname=…) is named by its hash.
            encoded = "sha256-" + hashlib.sha256(query.encode()).hexdigest()
        segments[-1] = f"{segments[-1]}{QUERY_SEPARATOR}{encoded}"
    return root.joinpath(host, *segments)


def url_for_path(root: Path, path: Path) -> str:
    """The http URL a file of the mirror under ``root`` answers for (inverse of mirror_path)."""
    relative = PurePosixPath(*path.relative_to(root).parts)
    host, *segments = relative.parts
    if not segments:
        raise ValueError(f"{path} is a host folder, not a file")
    query = ""
    name, separator, encoded_query = segments[-1].rpartition(QUERY_SEPARATOR)
    # Only a suffix that decodes to parameters is a query: file names may contain "__" too.
    if separator and name and "=" in unquote(encoded_query):
        segments[-1] = name
        query = "?" + unquote(encoded_query)
    return f"http://{host}/" + "/".join(quote(segment) for segment in segments) + query


def content_type_for(path: Path) -> str:
    """The Content-Type the mirror sends for a file, from its extension (dataproxy answers: XML)."""
    name, _, encoded_query = path.name.partition(QUERY_SEPARATOR)
    if name == "dataproxy.jsp":
        return XML
    if name == "downfile.jsp" and encoded_query:
        # Hanweb downloads: the file type is only in the filename/showname parameters.
        params = dict(parse_qsl(unquote(encoded_query), keep_blank_values=True))
        for key in ("filename", "showname"):
            suffix = PurePosixPath(params.get(key, "")).suffix.lower()
            if suffix in CONTENT_TYPES:
                return CONTENT_TYPES[suffix]
        return OCTET_STREAM
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), OCTET_STREAM)


def _etag_matches(header: str, etag: str | None) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak comparison, as RFC 9110 asks)."""
    if etag is None:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _not_modified_since(header: str, last_modified: str | None) -> bool:
    """Whether Last-Modified is not later than an If-Modified-Since header (False if unreadable)."""
    if last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False


class _MirrorHandler(BaseHTTPRequestHandler):
    """Answers GET, HEAD and POST from the mirror directory of its server."""

    server: _MirrorHTTPServer
    # HTTP/1.0: every answer closes its connection, so bodies shorter than a declared
    # Content-Length (a test override) end cleanly at the close.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        """Serve a file."""
        self._answer("GET")

    def do_HEAD(self) -> None:
        """Serve a file's headers."""
        self._answer("HEAD")

    def do_POST(self) -> None:
        """Serve a file named by the query and the form fields together."""
        self._answer("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Log requests at debug level instead of writing to stderr."""
        logger.debug("mirror %s: " + format, self.address_string(), *args)

    def _read_form(self) -> dict[str, str]:
        """The urlencoded form fields of a POST body."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_FORM_BYTES:
            raise ValueError("form body too large")
        body = self.rfile.read(length) if length > 0 else b""
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    def _answer(self, method: str) -> None:
        """Find the file for the request and send it, a 304, a redirect or an error."""
        self.server.record(method, self.path, dict(self.headers.items()))
        try:
            form = self._read_form() if method == "POST" else None
            real_url = self._real_url()
            path = mirror_path(self.server.root, real_url, form)
            self._check_inside_root(path)
            override = self._override(path)
        except ValueError as error:
            logger.debug("mirror refuses %s: %s", self.path, error)
            self._send(HTTPStatus.BAD_REQUEST, {"Content-Type": "text/plain"}, b"bad request\n")
            return
        parts = urlsplit(real_url)
        if mirror_path(self.server.root, parts._replace(query="").geturl()).is_dir():
            # As real servers do: a folder without its trailing slash is redirected.
            location = parts._replace(path=parts.path + "/").geturl()
            self._send(HTTPStatus.MOVED_PERMANENTLY, {"Location": location}, b"")
            return
        exists = path.is_file() and not path.name.endswith(HEADERS_SUFFIX)
        if not exists and override is None:
            self._send(HTTPStatus.NOT_FOUND, {"Content-Type": "text/plain"}, b"not found\n")
            return
        body = path.read_bytes() if exists else b""
        headers: dict[str, str | None] = {"Content-Type": content_type_for(path)}
        if exists:
            headers["ETag"] = '"' + hashlib.sha256(body).hexdigest() + '"'
            headers["Last-Modified"] = formatdate(path.stat().st_mtime, usegmt=True)
        status = HTTPStatus.OK
        if override is not None:
            status = int(override.get("status", status))
            for name, value in override.get("headers", {}).items():
                headers[name] = None if value is None else str(value)
        sent = {name: value for name, value in headers.items() if value is not None}
        if status == HTTPStatus.OK and method in ("GET", "HEAD") and self._not_modified(sent):
            validators = {k: v for k, v in sent.items() if k in ("ETag", "Last-Modified")}
            self._send(HTTPStatus.NOT_MODIFIED, validators, b"", with_length=False)
            return
        self._send(status, sent, b"" if method == "HEAD" else body, declared_length=len(body))

    def _real_url(self) -> str:
        """The real URL a request path ``/<host>/<path>?<query>`` stands for."""
        parts = urlsplit(self.path)
        host, _, rest = parts.path.lstrip("/").partition("/")
        if not host:
            raise ValueError("no host folder in the path")
        query = f"?{parts.query}" if parts.query else ""
        return f"http://{host}/{rest}{query}"

    def _check_inside_root(self, path: Path) -> None:
        """Refuse a path that resolves outside the mirror (symlinks included)."""
        root = self.server.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise ValueError(f"{path} is outside the mirror")

    def _override(self, path: Path) -> dict | None:
        """The ``.headers.json`` override beside a file, if there is one."""
        override_path = path.with_name(path.name + HEADERS_SUFFIX)
        if not override_path.is_file():
            return None
        override = json.loads(override_path.read_text("utf-8"))
        if not isinstance(override, dict):
            raise ValueError(f"{override_path}: not a JSON object")
        return override

    def _not_modified(self, headers: dict[str, str]) -> bool:
        """Whether the request's validators match (If-None-Match wins over If-Modified-Since)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return _etag_matches(if_none_match, headers.get("ETag"))
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is not None:
            return _not_modified_since(if_modified_since, headers.get("Last-Modified"))
        return False

    def _send(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        with_length: bool = True,
        declared_length: int | None = None,
    ) -> None:
        """Send a status line, headers (Content-Length unless overridden or removed) and a body."""
        self.send_response(status)
        if with_length and "Content-Length" not in headers:
            if declared_length is None:
                declared_length = len(body)
            # An override of Content-Length to null removes it: the body then ends at the close.
            headers = {"Content-Length": str(declared_length), **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


class _MirrorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its mirror root and logs the requests it gets."""

    daemon_threads = True

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.log: list[tuple[str, str, dict]] = []
        self._log_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _MirrorHandler)

    def record(self, method: str, path: str, headers: dict) -> None:
        """Append a request to the log (from any handler thread)."""
        with self._log_lock:
            self.log.append((method, path, headers))

    def handle_error(self, request: object, client_address: tuple) -> None:
        """Log handler errors (clients hanging up early, mostly) quietly instead of on stderr."""
        logger.debug("mirror: error answering %s", client_address, exc_info=True)


class MirrorServer:
    """Serves a mirror directory on 127.0.0.1 in a background thread (context manager)."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = Path(root)
        self.port = port
        self.base_url = ""
        self._server: _MirrorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[tuple[str, str, dict]]:
        """(method, path, headers) of every request received so far, in order."""
        return self._server.log if self._server is not None else []

    def start(self) -> MirrorServer:
        """Bind the port and start answering."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"mirror directory not found: {self.root}")
        self._server = _MirrorHTTPServer(self.root, self.port)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mirror-{port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("serving mirror %s at %s", self.root, self.base_url)
        return self

    def stop(self) -> None:
        """Stop answering and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve a mirror directory until interrupted: ``python -m scrapers.mirror DIR [--port P]``."""
    parser = argparse.ArgumentParser(prog="python -m scrapers.mirror", description=main.__doc__)
    parser.add_argument("directory", type=Path, help="mirror directory (one folder per host)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    args = parser.parse_args(argv)
    with MirrorServer(args.directory, args.port) as server:
        print(f"Serving {args.directory} at {server.base_url}/<host>/<path>", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
