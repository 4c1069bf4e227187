"""What a source is, and what fetching and listing give back: the contracts between the scraper parts.

- A *source* (one module in ``scrapers/sources/``) declares a ``SOURCE = Source(...)``: who
  publishes, where the listing pages are, which CMS platform serves them and its quirks as data.
- A *platform* (``scrapers/platforms/``) knows how that CMS paginates and links: pure functions
  from page bytes to :class:`ListingPage` and from an article page to its attachments.
- The *fetcher* (``scrapers/http.py``) does all network I/O and returns :class:`FetchResult`.
- The *raw store* (``scrapers/store.py``) keeps every fetched body unedited, named by its hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class FetchError(Exception):
    """A URL could not be fetched; ``reason`` says why in a few words (timeout, http 503, robots, ...)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Source:
    """One publisher of bulletins and how its site is built."""

    slug: str  # lowercase ascii, the module name with "_" -> "-"
    name: str  # 聊城市
    province: str  # 山东省
    level: str  # province, prefecture, district, county
    division_code: str | None  # GB/T 2260, where known
    homepage: str
    listing_urls: tuple[str, ...]  # first page of each bulletin column
    platform: str  # trs, hanweb, guangdong, hunan, generic
    allowed_hosts: tuple[str, ...]  # hosts that may be fetched (redirects elsewhere are refused)
    quirks: dict = field(default_factory=dict)  # platform parameters as data (selectors, ids, ...)
    verified_live: str | None = (
        None  # date of a recorded run against the live site; None = modelled only
    )

    @property
    def status(self) -> str:
        """'verified live on DATE' or 'modelled, not verified live'."""
        return (
            f"verified live on {self.verified_live}"
            if self.verified_live
            else "modelled, not verified live"
        )


@dataclass(frozen=True)
class ListingItem:
    """One link of a listing page."""

    url: str  # absolute
    title: str
    published: date | None


@dataclass(frozen=True)
class ListingPage:
    """A listing page read: its items and the URLs of the further pages it announces."""

    items: list[ListingItem]
    next_pages: list[str]  # absolute URLs (or, for Hanweb, dataproxy request URLs) in order
    total_pages: int | None = None


@dataclass(frozen=True)
class Attachment:
    """A file linked from an article."""

    url: str  # absolute
    name: str  # the file's real name (Hanweb: from showname=)


@dataclass
class FetchResult:
    """One HTTP exchange as the fetcher saw it."""

    url: str  # as requested (the real URL, also in mirror mode)
    final_url: str  # after redirects (real URL space)
    status: int  # 200, or 304 when not modified
    content: bytes  # empty for 304
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: str  # ISO 8601 UTC

    @property
    def not_modified(self) -> bool:
        return self.status == 304
