"""The one HTTP layer: polite, bounded, conditional fetching for every source.

A :class:`Fetcher` owns one ``requests.Session`` and applies the project's rules to every
request: a User-Agent naming the project, connect and read timeouts, retries with exponential
backoff (honouring Retry-After), at most one request per ``min_interval`` per host, robots.txt,
conditional requests, a size cap, and redirects followed by hand and only to allowed hosts.

robots.txt policy (RFC 9309): fetched once per origin per Fetcher, through the same rate
limit; 2xx is obeyed (Crawl-delay, capped, raises the host's interval); 4xx, or a redirect that
may not be followed, means no rules (allow all); 5xx, timeouts and connection errors after the
retries mean the site is unreachable, and every URL of that origin fails with
"robots.txt unreachable" for the rest of the Fetcher's life.

Mirror mode (``mirror="http://127.0.0.1:PORT"``, see :mod:`scrapers.mirror`): all checks
(scheme, allowed hosts, robots, rate limit per real host) run on the real URL; only the
request itself goes to ``{mirror}/{host}{path}?{query}``. Results and redirect locations stay in
real-URL space.

A Fetcher is not thread-safe: use one per thread.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
import urllib.robotparser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from .base import FetchError, FetchResult

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "hotline-archive/0.1 (+https://github.com/hotline-archive/hotline-archive; "
    "open archive of 12345 bulletins)"
)
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 120.0  # seconds: a longer Retry-After is cut to this
MAX_CRAWL_DELAY = 60.0  # seconds: a longer robots.txt Crawl-delay is cut to this
CHUNK_SIZE = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

DEFAULT_PORTS = {"http": 80, "https": 443}
# robots.txt failures that make an origin unreachable (besides any 5xx); others mean no rules.
UNREACHABLE = frozenset({"http 429", "timeout", "connection error", "truncated"})


@dataclass
class _Response:
    """One HTTP exchange: status, headers and the (capped) body."""

    status: int
    headers: requests.structures.CaseInsensitiveDict
    content: bytes


class _Retryable(Exception):
    """A failure worth retrying: the reason, and the server's Retry-After if it sent one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds: 2024-07-15T09:30:00Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay seconds or HTTP date), capped; None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _is_private_literal(host: str) -> bool:
    """Whether a host is an IP literal of a loopback, private, link-local or reserved address."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve_addresses(host: str) -> list[str]:
    """The addresses a host name resolves to."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


class Fetcher:
    """Fetches URLs politely and returns :class:`FetchResult`; raises :class:`FetchError`."""

    def __init__(
        self,
        *,
        allowed_hosts: set[str] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout: float = 10,
        read_timeout: float = 30,
        retries: int = 3,
        backoff: float = 1.0,
        min_interval: float = 1.0,
        max_bytes: int = 50 * 1024 * 1024,
        respect_robots: bool = True,
        mirror: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        resolve: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.allowed_hosts = {host.lower() for host in allowed_hosts} if allowed_hosts else None
        self.user_agent = user_agent
        self.timeout = (connect_timeout, read_timeout)
        self.retries = retries
        self.backoff = backoff
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.respect_robots = respect_robots
        self.mirror = mirror.rstrip("/") if mirror else None
        self.clock = clock
        self.sleep = sleep
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self._resolve = resolve or _resolve_addresses
        self.session.headers["User-Agent"] = user_agent
        self._last_request: dict[str, float] = {}  # real host -> clock() at its last request
        self._host_interval: dict[str, float] = {}  # real host -> interval from Crawl-delay
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str | None] = {}

    # --- public -------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        method: str = "GET",
        data: dict[str, str] | None = None,
        allowed_hosts: set[str] | None = None,
    ) -> FetchResult:
        """Fetch a real URL (conditionally when validators are given), following allowed redirects."""
        allowed = self._allowed(url, allowed_hosts)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response, final_url = self._follow(url, method.upper(), data, headers, allowed)
        if response.status == 304:
            logger.info("%s %s: not modified", method, url)
            return FetchResult(
                url=url,
                final_url=final_url,
                status=304,
                content=b"",
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                fetched_at=_now_iso(),
            )
        logger.info("%s %s: %d, %d bytes", method, url, response.status, len(response.content))
        return FetchResult(
            url=url,
            final_url=final_url,
            status=response.status,
            content=response.content,
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            fetched_at=_now_iso(),
        )

    def close(self) -> None:
        """Close the session (when the Fetcher made it)."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- URL rules ----------------------------------------------------------------------

    def _allowed(self, url: str, allowed_hosts: set[str] | None) -> set[str]:
        """The hosts this fetch may touch: the call's, the Fetcher's, or else the URL's own host."""
        self._check_scheme(url)
        if allowed_hosts:
            allowed = {host.lower() for host in allowed_hosts}
        elif self.allowed_hosts:
            allowed = self.allowed_hosts
        else:
            allowed = {urlsplit(url).hostname or ""}
        self._check_host(url, url, allowed)
        return allowed

    @staticmethod
    def _check_scheme(url: str) -> None:
        """Refuse anything but an http(s) URL with a host."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise FetchError(url, f"unsupported scheme {parts.scheme or '(none)'!r}")
        if not parts.hostname:
            raise FetchError(url, "no host")

    @staticmethod
    def _check_host(original_url: str, url: str, allowed: set[str]) -> None:
        """Refuse a host outside ``allowed``, and private IP literals unless listed there."""
        host = (urlsplit(url).hostname or "").lower()
        if host not in allowed:
            if _is_private_literal(host):
                raise FetchError(original_url, f"refused private address {host}")
            raise FetchError(original_url, f"host {host} not allowed")

    def _check_resolves_public(self, url: str, host: str) -> None:
        """Refuse a host name that resolves to a private address (a DNS answer pointing inside).

        IP literals were judged by _check_host already (a listed literal is allowed on purpose).
        """
        if _is_ip_literal(host):
            return
        try:
            addresses = self._resolve(host)
        except OSError:
            return  # the request itself will fail with a connection error, retried as such
        private = [a for a in addresses if _is_private_literal(a)]
        if private:
            raise FetchError(url, f"refused private address {private[0]} (resolved from {host})")

    def _wire_url(self, url: str) -> str:
        """Where a real URL is requested: itself, or its place on the mirror server."""
        if self.mirror is None:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.port is not None and parts.port != DEFAULT_PORTS[parts.scheme]:
            host = f"{host}:{parts.port}"
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.mirror}/{host}{parts.path or '/'}{query}"

    # --- redirects ----------------------------------------------------------------------

    def _follow(
        self,
        url: str,
        method: str,
        data: dict[str, str] | None,
        headers: dict[str, str],
        allowed: set[str],
        *,
        robots: bool = True,
    ) -> tuple[_Response, str]:
        """Request ``url`` and follow up to MAX_REDIRECTS redirects within ``allowed``."""
        chain = [url]
        current = url
        while True:
            if robots and self.respect_robots:
                self._check_robots(url, current, allowed)
            response = self._request_with_retries(url, current, method, data, headers)
            if response.status not in REDIRECT_STATUSES:
                return self._final(url, response), current
            location = response.headers.get("Location")
            if not location:
                raise FetchError(url, f"http {response.status} without Location")
            try:
                # Servers send raw UTF-8 bytes, which http.client reads as latin-1.
                location = location.encode("latin-1").decode("utf-8")
            except UnicodeError:
                pass
            target = urldefrag_join(current, location)
            if len(chain) > MAX_REDIRECTS:
                reason = "redirect loop" if target in chain else "too many redirects"
                raise FetchError(url, reason)
            try:
                self._check_scheme(target)
            except FetchError as error:
                raise FetchError(url, f"redirect to {error.reason}") from None
            try:
                self._check_host(url, target, allowed)
            except FetchError as error:
                raise FetchError(url, f"redirect to {target} refused: {error.reason}") from None
            logger.info("%s: %d redirect to %s", current, response.status, target)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, data = "GET", None
            chain.append(target)
            current = target

    @staticmethod
    def _final(url: str, response: _Response) -> _Response:
        """Accept 2xx and 304; turn any other status into a FetchError."""
        if 200 <= response.status < 300 or response.status == 304:
            return response
        raise FetchError(url, f"http {response.status}")

    # --- robots.txt ---------------------------------------------------------------------

    def _check_robots(self, original_url: str, url: str, allowed: set[str]) -> None:
        """Refuse a URL that robots.txt of its origin disallows (or whose robots.txt is unreachable)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin, allowed)
        rules = self._robots[origin]
        if isinstance(rules, str):
            raise FetchError(original_url, f"robots.txt unreachable ({rules})")
        if rules is not None and not rules.can_fetch(self.user_agent, url):
            raise FetchError(original_url, "disallowed by robots.txt")

    def _load_robots(
        self, origin: str, allowed: set[str]
    ) -> urllib.robotparser.RobotFileParser | str | None:
        """The rules of an origin's robots.txt; None = no rules; a string = why it is unreachable."""
        robots_url = f"{origin}/robots.txt"
        try:
            response, _ = self._follow(robots_url, "GET", None, {}, allowed, robots=False)
        except FetchError as error:
            if error.reason in UNREACHABLE or error.reason.startswith("http 5"):
                logger.warning("%s: %s, origin treated as unreachable", robots_url, error.reason)
                return error.reason
            logger.info("%s: %s, no rules", robots_url, error.reason)
            return None
        rules = urllib.robotparser.RobotFileParser(robots_url)
        rules.parse(response.content.decode("utf-8", "replace").splitlines())
        delay = rules.crawl_delay(self.user_agent)
        if delay:
            host = urlsplit(origin).hostname or ""
            self._host_interval[host] = min(float(delay), MAX_CRAWL_DELAY)
        logger.info("%s: rules loaded", robots_url)
        return rules

    # --- one request --------------------------------------------------------------------

    def _request_with_retries(
        self,
        url: str,
        current: str,
        method: str,
        data: dict[str, str] | None,
        headers: dict[str, str],
    ) -> _Response:
        """One request to ``current``, retried with backoff on timeouts, connection errors, 429, 5xx."""
        for attempt in range(self.retries + 1):
            try:
                return self._request(current, method, data, headers)
            except _Retryable as failure:
                if attempt == self.retries:
                    raise FetchError(url, failure.reason) from None
                delay = failure.retry_after
                if delay is None:
                    delay = self.backoff * 2**attempt
                logger.warning(
                    "%s: %s, retry %d/%d in %.1f s",
                    current,
                    failure.reason,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                if delay > 0:
                    self.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _wait_turn(self, host: str) -> None:
        """Sleep until ``host`` may be asked again, then mark the request."""
        interval = max(self.min_interval, self._host_interval.get(host, 0.0))
        last = self._last_request.get(host)
        if last is not None:
            wait = last + interval - self.clock()
            if wait > 0:
                logger.debug("%s: waiting %.2f s (rate limit)", host, wait)
                self.sleep(wait)
        self._last_request[host] = self.clock()

    def _request(
        self, url: str, method: str, data: dict[str, str] | None, headers: dict[str, str]
    ) -> _Response:
        """Send one request for real URL ``url`` and read its body within the size cap."""
        host = (urlsplit(url).hostname or "").lower()
        if self.mirror is None:
            self._check_resolves_public(url, host)
        self._wait_turn(host)
        wire_url = self._wire_url(url)
        try:
            with self._send(wire_url, method, data, headers) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    raise _Retryable(f"http {status}", retry_after)
                if status in REDIRECT_STATUSES or status == 304 or method == "HEAD":
                    return _Response(status, response.headers, b"")
                content = self._read_body(url, response)
                return _Response(status, response.headers, content)
        except requests.Timeout:
            raise _Retryable("timeout") from None
        except requests.exceptions.ChunkedEncodingError:
            raise _Retryable("truncated") from None
        except requests.ConnectionError as error:
            if error.args and isinstance(error.args[0], ReadTimeoutError):
                raise _Retryable("timeout") from None
            raise _Retryable("connection error") from None
        except requests.RequestException as error:
            raise FetchError(url, f"request failed: {type(error).__name__}") from None

    @contextmanager
    def _send(
        self, wire_url: str, method: str, data: dict[str, str] | None, headers: dict[str, str]
    ) -> Iterator[requests.Response]:
        """Send a request without following redirects; the body is left to stream."""
        host = urlsplit(wire_url).hostname or ""
        # Loopback (the mirror, a test server) is never reached through a proxy from the environment.
        proxies = {"http": None, "https": None, "all": None} if _is_loopback(host) else None
        response = self.session.request(
            method,
            wire_url,
            data=data,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
            stream=True,
            proxies=proxies,
        )
        try:
            yield response
        finally:
            response.close()

    def _read_body(self, url: str, response: requests.Response) -> bytes:
        """The body, refused past max_bytes (by Content-Length first) or when cut short."""
        declared = response.headers.get("Content-Length")
        expected = int(declared) if declared and declared.strip().isdigit() else None
        if expected is not None and expected > self.max_bytes:
            raise FetchError(url, "over size cap")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(CHUNK_SIZE):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(url, "over size cap")
            chunks.append(chunk)
        # urllib3 already raises on a short body; this also covers encodings it does not check.
        if expected is not None and response.raw.tell() < expected:
            raise _Retryable("truncated")
        return b"".join(chunks)


def _is_loopback(host: str) -> bool:
    """Whether a host is a loopback IP literal or localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def urldefrag_join(base: str, location: str) -> str:
    """An absolute URL from a redirect Location relative to ``base``, without its fragment."""
    parts = urlsplit(urljoin(base, location.strip()))
    return urlunsplit(parts._replace(fragment=""))
