"""Refresh: walk each source's listing pages, fetch what is new or changed, store it, parse it.

Network I/O goes through :class:`scrapers.http.Fetcher`, bodies into the raw store,
rows through :mod:`archive.db`. A listing walk stops at the first page whose
bulletins are all known, unless ``full``; the bulletins of the pages walked are then fetched
oldest page first, so that a run killed half-way never leaves unfetched bulletins behind a
page that looks complete. Each bulletin is written in one transaction. A document that
fails is reported with its reason and retried on the next run (nothing is recorded for it):
a source whose last walk did not end cleanly (a failure, an error, a killed run) has every
listing page walked next time, since what failed may sit behind a page now all known. An
attachment named .pdf/.docx/.xlsx... whose bytes are an HTML page (a login or error page
served with status 200) is such a failure, never stored as a version of the file.
A source whose first listing page cannot be fetched reports an error and the others go on.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import sqlite_utils

from parsers import DocumentInput, ParseError, detect_format, parse_bulletin
from scrapers.base import Attachment, FetchError, FetchResult, ListingItem, Source
from scrapers.filters import is_bulletin_title
from scrapers.platforms import platform_for
from scrapers.store import RawStore

from . import db as archive_db
from .build import bulletin_id_for

logger = logging.getLogger(__name__)

WALK_STATE_FILE = "refresh-walks.json"  # beside archive.db: sources whose last walk failed
# Attachment types an HTML page never is: a page served in their place is a failure.
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et")
_HTML_TAG = re.compile(rb"<(?:html|head|body)[\s>]", re.IGNORECASE)
# Answers that say a URL archived before is gone (not a failure worth retrying).
GONE_REASONS = ("http 404", "http 410")
LEFT_LISTING = "left the listing"
# Exit codes of `hotline refresh` (see exit_code_for); 3 (locked) is the CLI's own.
EXIT_OK, EXIT_PARTIAL, EXIT_SOURCE_ERROR = 0, 1, 2


def utc_now() -> str:
    """The current UTC time as ISO 8601 with seconds, as the Fetcher stamps fetched_at."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SourceReport:
    """What one source's refresh did."""

    source: str
    requests: int = 0
    not_modified: int = 0
    new_documents: int = 0
    changed_documents: int = 0
    new_bulletins: int = 0
    updated_bulletins: int = 0
    skipped: list[dict] = field(
        default_factory=list
    )  # listing items that are not bulletins, and why
    failures: list[dict] = field(default_factory=list)  # {"url", "reason"}: retried next run
    taken_down: list[dict] = field(default_factory=list)  # {"url", "reason"}: archived, now gone
    back_online: list[str] = field(default_factory=list)  # URLs missing before, answering again
    error: str | None = None  # the source could not run at all

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class _Fetched:
    """A document after fetching: its stored id and bytes, and whether it is new or changed."""

    doc_id: str
    content: bytes
    content_type: str | None
    changed: bool  # a body never stored before for this URL


def source_row(source: Source) -> dict:
    """The sources table row of a Source."""
    return {
        "slug": source.slug,
        "name": source.name,
        "province": source.province,
        "level": source.level,
        "division_code": source.division_code,
        "homepage": source.homepage,
        "platform": source.platform,
    }


def platform_module(source: Source, url: str | None = None):
    """The platform module that reads this source's page at ``url`` (a host may have its own)."""
    return platform_for(source, url or source.listing_urls[0])


class Refresher:
    """One refresh run over an archive directory (archive.db and raw/ beside it)."""

    def __init__(
        self,
        db_path: Path,
        fetcher,
        *,
        full: bool = False,
        parse: bool = True,
        progress: Callable[[str], None] | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.clock = clock
        self.db = sqlite_utils.Database(db_path)
        archive_db.ensure_db_shape(self.db)
        self.store = RawStore(Path(db_path).resolve().parent / "raw")
        swept = (
            self.store.sweep_temporary()
        )  # a killed run's half-written bodies, never named by hash
        if swept:
            logger.info("removed %d temporary files left by an interrupted run", swept)
        self.walks = WalkState(Path(db_path).resolve().parent / WALK_STATE_FILE)
        self.unfinished = self.walks.load()  # as the run starts; None: unknown, walk all
        self.fetcher = fetcher
        self.full = full
        self.parse = parse
        self.progress = progress or (lambda message: None)
        self.report = SourceReport("")  # the report of the source being refreshed

    # --- documents ------------------------------------------------------------------

    def _latest(self, url: str) -> dict | None:
        rows = self.db.query(
            "select * from documents where url = ? order by fetched_at desc, rowid desc limit 1",
            [url],
        )
        return next(iter(rows), None)

    def _fetch(
        self,
        report: SourceReport,
        source: Source,
        url: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        conditional: bool = True,
    ) -> _Fetched | None:
        """Fetch ``url`` (conditionally when stored before) and store a new body. None when unchanged."""
        latest = self._latest(url)
        report.requests += 1
        result: FetchResult = self.fetcher.fetch(
            url,
            etag=latest["etag"] if latest and conditional else None,
            last_modified=latest["last_modified"] if latest and conditional else None,
            allowed_hosts=set(source.allowed_hosts),
        )
        self._back_online(report, url)
        if result.not_modified and latest:
            report.not_modified += 1
            return _Fetched(
                latest["id"], self.store.read(latest["id"]), latest["content_type"], False
            )
        expected = expected_document_type(name, url) if parent_id is not None else None
        if expected and is_html_page(result.content):
            # Stored, the error page would become a version of the file and feed the bulletin.
            raise FetchError(url, f"html page where a {expected} was expected")
        sha = self.store.put(result.content)
        changed = latest is None or latest["id"] != sha
        file_name = name or unquote(PurePosixPath(urlsplit(url).path).name) or "index.html"
        with self.db.conn:
            archive_db.upsert_document(
                self.db,
                url=url,
                final_url=result.final_url,
                source=source.slug,
                path=self.store.relative_path(sha),
                sha256=sha,
                size=len(result.content),
                format=detect_format(result.content, file_name, result.content_type),
                content_type=result.content_type,
                fetched_at=result.fetched_at,
                ingested_at=result.fetched_at,
                parent_id=parent_id,
                http_status=result.status,
                etag=result.etag,
                last_modified=result.last_modified,
            )
        if changed:
            if latest is None:
                report.new_documents += 1
            else:
                report.changed_documents += 1
        return _Fetched(sha, result.content, result.content_type, changed)

    # --- takedowns ------------------------------------------------------------------

    def _gone(
        self, report: SourceReport, source: Source, exc: FetchError, bulletin_url: str
    ) -> bool:
        """Record a takedown when an archived URL answers 404/410; False for other failures."""
        stored = self._latest(exc.url)
        if exc.reason not in GONE_REASONS or stored is None:
            return False
        bulletin_id = bulletin_id_for(source.slug, bulletin_url)
        known = self.db["bulletins"].count_where("id = ?", [bulletin_id]) > 0
        if archive_db.record_takedown(
            self.db,
            url=exc.url,
            source=source.slug,
            reason=exc.reason,
            checked_at=self.clock(),
            bulletin_id=bulletin_id if known else None,
            document_id=stored["id"],
        ):
            logger.warning("%s: %s no longer online (%s)", source.slug, exc.url, exc.reason)
        report.taken_down.append({"url": exc.url, "reason": exc.reason})
        return True

    def _back_online(self, report: SourceReport, url: str, reasons: tuple[str, ...] = ()) -> None:
        if archive_db.record_back_online(self.db, url, checked_at=self.clock(), reasons=reasons):
            logger.info("%s is online again", url)
            report.back_online.append(url)

    def _left_listing(self, report: SourceReport, source: Source, listed: set[str]) -> None:
        """After a complete walk: archived bulletins no listing page names any more are gone.

        Most of them gone at once says more about the listing (a redesign, a pager no longer
        read) than about the bulletins: then nothing is concluded, and a failure says why.
        """
        rows = list(
            self.db.query(
                "SELECT b.id, b.url FROM bulletins AS b WHERE b.source = ? AND b.url IS NOT NULL",
                [source.slug],
            )
        )
        gone = [row for row in rows if row["url"] not in listed]
        if len(gone) >= 2 and 2 * len(gone) > len(rows):
            reason = (
                f"{len(gone)} of {len(rows)} archived bulletins are missing from a complete"
                " listing walk: the listing has probably changed; no takedown recorded"
            )
            logger.warning("%s: %s", source.slug, reason)
            report.failures.append({"url": source.listing_urls[0], "reason": reason})
            return
        for row in rows:
            if row["url"] in listed:
                self._back_online(report, row["url"], (LEFT_LISTING,))
                continue
            stored = self._latest(row["url"])
            if archive_db.record_takedown(
                self.db,
                url=row["url"],
                source=source.slug,
                reason=LEFT_LISTING,
                checked_at=self.clock(),
                bulletin_id=row["id"],
                document_id=stored["id"] if stored else None,
            ):
                logger.warning("%s: %s has left the listing", source.slug, row["url"])
                report.taken_down.append({"url": row["url"], "reason": LEFT_LISTING})

    # --- listing walk ---------------------------------------------------------------

    def run_source(self, source: Source) -> SourceReport:
        """Refresh one source."""
        report = self.report = SourceReport(source.slug)
        with self.db.conn:
            archive_db.upsert_source(self.db, source_row(source))
        resume = self.unfinished is None or source.slug in self.unfinished
        if resume:
            logger.info("%s: last walk did not end cleanly, walking every page", source.slug)
        self.walks.mark(source.slug, incomplete=True)  # until this walk ends cleanly
        listed: set[str] = set()  # every item URL the listing pages walked name
        complete = True  # every listing page walked, none failed: absence means gone
        for listing_url in source.listing_urls:
            platform = platform_module(source, listing_url)
            pages, index = [listing_url], 0
            to_fetch: list[list[ListingItem]] = []  # per listing page walked, newest page first
            while index < len(pages):
                page_url = pages[index]
                index += 1
                self.progress(f"{source.slug}: {page_url}")
                try:
                    page = self._fetch(report, source, page_url)
                except FetchError as exc:
                    if index == 1:
                        report.error = f"listing page {page_url}: {exc.reason}"
                        return report
                    report.failures.append({"url": page_url, "reason": exc.reason})
                    complete = False
                    continue
                listing = platform.parse_listing(page.content, page_url, source, page.content_type)
                listed.update(item.url for item in listing.items)
                if index == 1:
                    pages += [u for u in listing.next_pages if u not in pages]
                kept: list[ListingItem] = []
                for item in listing.items:
                    keep, reason = is_bulletin_title(item.title)
                    if keep:
                        kept.append(item)
                    else:
                        report.skipped.append(
                            {"url": item.url, "title": item.title, "reason": reason}
                        )
                known = [item for item in kept if self._bulletin_known(source, platform, item.url)]
                to_fetch.append([item for item in kept if self.full or item not in known])
                if kept and len(known) == len(kept) and not (self.full or resume):
                    complete = complete and index >= len(pages)
                    break  # incremental: this page holds nothing new, nor will the older ones
            # Oldest page first: a run cut short (killed) leaves what it did not reach on the
            # newest pages, which the next walk reads before it stops at a page all known.
            # Newest first, a run killed after page 1 would leave page 2 behind a known page 1.
            for items in reversed(to_fetch):
                for item in items:
                    self._bulletin(report, source, platform, item)
        if complete and not report.failures:
            self._left_listing(report, source, listed)
        self.walks.mark(source.slug, incomplete=bool(report.failures))
        return report

    def _bulletin_known(self, source: Source, platform, url: str) -> bool:
        """Archived with every attachment: an attachment that failed last time makes it unknown (retried)."""
        article = self._latest(url)
        bulletin_id = bulletin_id_for(source.slug, url)
        if article is None or self.db["bulletins"].count_where("id = ?", [bulletin_id]) == 0:
            return False
        stored = self.store.read(article["id"])
        attachments = platform.parse_attachments(stored, url, source, article["content_type"])
        return all(self._latest(a.url) is not None for a in attachments)

    def _bulletin(self, report: SourceReport, source: Source, platform, item: ListingItem) -> None:
        """Fetch an article and its attachments; parse them into one bulletin when anything is new."""
        self.progress(f"{source.slug}: {item.title}")
        try:
            article = self._fetch(report, source, item.url)
        except FetchError as exc:
            if not self._gone(report, source, exc, item.url):
                report.failures.append({"url": item.url, "reason": exc.reason})
            return
        documents = [DocumentInput(_name(item.url), article.content, article.content_type)]
        document_ids = {_name(item.url): article.doc_id}
        changed = article.changed
        attachments: list[Attachment] = platform.parse_attachments(
            article.content, item.url, source, article.content_type
        )
        for attachment in attachments:
            try:
                fetched = self._fetch(
                    report, source, attachment.url, name=attachment.name, parent_id=article.doc_id
                )
            except FetchError as exc:
                if not self._gone(report, source, exc, item.url):
                    report.failures.append({"url": attachment.url, "reason": exc.reason})
                stored = self._latest(attachment.url)
                if stored is None:
                    continue
                # The version archived before stands in: a changed article re-parsed without
                # it would drop the attachment's figures, and the next run would not bring them
                # back (the attachment is stored, so the bulletin counts as known).
                fetched = _Fetched(
                    stored["id"], self.store.read(stored["id"]), stored["content_type"], False
                )
            documents.append(DocumentInput(attachment.name, fetched.content, fetched.content_type))
            document_ids[attachment.name] = fetched.doc_id
            changed = changed or fetched.changed
        bulletin_id = bulletin_id_for(source.slug, item.url)
        exists = self.db["bulletins"].count_where("id = ?", [bulletin_id]) > 0
        if not self.parse or (exists and not changed):
            return
        try:
            bulletin = parse_bulletin(documents)
        except ParseError as exc:
            report.failures.append({"url": item.url, "reason": f"parse: {exc}"})
            return
        bulletin.issuer = source.name  # the source is the issuer; the text's naming is a guess
        if not bulletin.title:
            bulletin.title = item.title
        if not bulletin.published_date and item.published:
            bulletin.published_date = item.published.isoformat()
        archive_db.write_bulletin(
            self.db,
            bulletin,
            bulletin_id=bulletin_id,
            source=source.slug,
            url=item.url,
            document_ids=document_ids,
        )
        if exists:
            report.updated_bulletins += 1
        else:
            report.new_bulletins += 1


def expected_document_type(name: str | None, url: str) -> str | None:
    """The document type (pdf, docx, xlsx...) an attachment's name or URL path promises, if any."""
    for candidate in (name or "", unquote(urlsplit(url).path)):
        suffix = PurePosixPath(candidate.strip().lower()).suffix
        if suffix in DOCUMENT_SUFFIXES:
            return suffix[1:]
    return None


def is_html_page(content: bytes) -> bool:
    """Whether a body is an HTML page (not a PDF, Office file or image that merely mentions tags)."""
    if detect_format(content) not in ("html", "txt"):
        return False
    return _HTML_TAG.search(content[:4096]) is not None


class WalkState:
    """The sources whose last listing walk did not end cleanly, kept in a JSON file.

    An incremental walk stops at the first page whose bulletins are all known, which is only
    safe after a walk that ended cleanly: a document that failed (or a run killed) on page 3
    while pages 1-2 were archived would otherwise never be reached again. A missing file means
    every walk ended cleanly; an unreadable one, that none did.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> set[str] | None:
        """The slugs of the sources whose last walk is incomplete; None when unreadable."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
            return set(data["incomplete"])
        except FileNotFoundError:
            return set()
        except (ValueError, KeyError, TypeError):
            logger.warning("%s unreadable: every source walks all its pages", self.path)
            return None

    def mark(self, slug: str, *, incomplete: bool) -> None:
        """Record whether the source's walk is incomplete (written atomically)."""
        slugs = self.load()
        if slugs is not None and (slug in slugs) == incomplete:
            return
        slugs = slugs or set()  # unreadable: rewritten from this source on
        slugs = slugs | {slug} if incomplete else slugs - {slug}
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"incomplete": sorted(slugs)}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def _name(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name) or "index.html"


def exit_code_for(reports: list[SourceReport]) -> int:
    """0: every source ran, nothing failed; 1: some documents failed (retried next run);
    2: a source could not run at all."""
    if any(r.error for r in reports):
        return EXIT_SOURCE_ERROR
    if any(r.failures for r in reports):
        return EXIT_PARTIAL
    return EXIT_OK


def refresh(
    db_path: Path,
    sources: list[Source],
    fetcher,
    *,
    full: bool = False,
    parse: bool = True,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], str] = utc_now,
) -> list[SourceReport]:
    """Refresh every source; one source's failure never stops the others.

    The run is recorded in the runs table (one run_sources row per source as it ends), so a
    run killed half-way stays visible: the next run marks it interrupted.
    """
    refresher = Refresher(db_path, fetcher, full=full, parse=parse, progress=progress, clock=clock)
    run_id = archive_db.start_run(
        refresher.db, command="refresh" if parse else "scrape", started_at=clock(), full_walk=full
    )
    reports = []
    for source in sources:
        started = clock()
        try:
            report = refresher.run_source(source)
        except Exception as exc:  # one source's bug or bad page must not stop the rest
            logger.exception("%s failed", source.slug)
            report = (
                refresher.report
                if refresher.report.source == source.slug
                else SourceReport(source.slug)
            )
            report.error = f"{type(exc).__name__}: {exc}"
        reports.append(report)
        if report.error:
            logger.error("%s: %s", source.slug, report.error)
        for failure in report.failures:
            logger.warning("%s: failed: %s: %s", source.slug, failure["url"], failure["reason"])
        logger.info(
            "%s: %d requests, %d new and %d changed documents, %d new and %d updated bulletins,"
            " %d failed, %d no longer online",
            source.slug, report.requests, report.new_documents, report.changed_documents,
            report.new_bulletins, report.updated_bulletins, len(report.failures),
            len(report.taken_down),
        )  # fmt: skip
        try:
            # run_source stored the sources row first thing: the foreign key holds.
            archive_db.record_run_source(
                refresher.db, run_id, report.to_json(), started_at=started, ended_at=clock()
            )
        except Exception:  # the record of a run must not lose the run itself
            logger.exception("%s: could not record the run", source.slug)
    if parse:
        with refresher.db.conn:
            refresher.db.execute("INSERT INTO bulletins_fts(bulletins_fts) VALUES('optimize')")
        try:
            # Judged as of this run's day: a period is missing once it is due by then.
            archive_db.update_completeness(refresher.db, as_of=clock()[:10])
        except Exception:  # the calendar is derived: never let it cost the run its record
            logger.exception("could not update the completeness calendar")
    archive_db.finish_run(refresher.db, run_id, ended_at=clock(), exit_code=exit_code_for(reports))
    refresher.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    refresher.db.close()
    return reports
