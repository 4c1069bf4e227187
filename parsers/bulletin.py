"""One document in, one structured bulletin out: the parsing pipeline.

``parse_document`` is a pure function of the bytes (and the name and HTTP
content type they came with): it decodes, normalises, and reads title, issuer,
dates, period, metrics, breakdowns, tables and checks.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import PurePosixPath

from .checks import run_checks
from .clauses import split_sentences
from .errors import ParseError, UnsupportedFormatError
from .metrics import extract, nature_from_tables
from .model import Bulletin, Period
from .normalize import detect_script, normalize_text
from .scope import ScopeContext, own_names_from
from .text import (
    body_without_metadata,
    decode_text,
    guess_issuer,
    guess_title,
    strip_furniture,
)

logger = logging.getLogger(__name__)

HTML_SUFFIXES = {".html", ".htm", ".shtml", ".jhtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php"}
TEXT_SUFFIXES = {".txt", ".text"}
OTHER_FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".xls": "xls",
    ".xlsx": "xlsx",
    ".wps": "doc",
}


def detect_format(data: bytes, filename: str = "", content_type: str | None = None) -> str:
    """'html' or 'txt' (or the name of a format the next parsers handle), from bytes first, then name and type."""
    head = data[:2048].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if head.startswith(b"pk\x03\x04"):
        return "xlsx" if filename.lower().endswith(".xlsx") else "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls" if filename.lower().endswith(".xls") else "doc"
    suffix = PurePosixPath(filename.lower()).suffix
    ctype = (content_type or "").lower()
    if (
        suffix in HTML_SUFFIXES
        or "html" in ctype
        or head.startswith((b"<!doctype", b"<html", b"<?xml"))
    ):
        return "html"
    if suffix in TEXT_SUFFIXES or ctype.startswith("text/plain"):
        return "txt"
    if suffix in OTHER_FORMATS:
        return OTHER_FORMATS[suffix]
    if b"<body" in head or b"<head" in head or b"<meta" in head:
        return "html"
    return "txt"


def _charset_of(content_type: str | None) -> str | None:
    m = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    return m.group(1) if m else None


def _period_months(period: Period) -> set[int]:
    if not period.period_start or not period.period_end:
        return set()
    start, end = date.fromisoformat(period.period_start), date.fromisoformat(period.period_end)
    months, y, m = set(), start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.add(m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


_TABLE_LINE = re.compile(r"\||\t|\S {4,}\S")


def _prose(text: str) -> str:
    """Text without table lines and 来源/发布时间 lines: what the metric rules read."""
    return "\n".join(
        line for line in body_without_metadata(text).split("\n") if not _TABLE_LINE.search(line)
    )


def parse_document(data: bytes, filename: str = "", content_type: str | None = None) -> Bulletin:
    """Parse one HTML or plain-text bulletin into a :class:`Bulletin`. Raises ParseError."""
    from .period import parse_issue_number, parse_period, parse_published_date
    from .tables import find_text_tables, table_checks, unit_rows

    if not data.strip():
        raise ParseError(f"{filename or 'document'}: empty document")
    fmt = detect_format(data, filename, content_type)
    meta: dict[str, str] = {}
    title: str | None = None
    tables = []
    if fmt == "html":
        from .html import extract_html

        page = extract_html(data, _charset_of(content_type), document=filename or None)
        raw_text, meta, title, tables = page.text, dict(page.meta), page.title, list(page.tables)
        if page.published and "PubDate" not in meta:
            meta["PubDate"] = page.published
    elif fmt == "txt":
        raw_text = decode_text(data)
    else:
        raise UnsupportedFormatError(
            f"{filename or 'document'}: {fmt} documents are not parsed yet"
        )

    if not raw_text.strip():
        raise ParseError(f"{filename or 'document'}: no text found")
    normalised = normalize_text(raw_text)
    text = strip_furniture(normalised)
    meta = {k: normalize_text(v) for k, v in meta.items()}
    title = normalize_text(title).strip() if title else guess_title(text)
    if not tables:
        # Tables are read before the furniture goes: short "cell |" lines look like furniture.
        tables = find_text_tables(normalised, document=filename or None)

    published = parse_published_date(text, meta)
    period = parse_period(text, published, title)
    issuer = guess_issuer(title, text)
    ctx = ScopeContext(own_names_from(issuer, title), period.period_type, _period_months(period))
    extraction = extract(split_sentences(_prose(text)), ctx, document=filename or None)
    if not any(b.dimension == "nature" for b in extraction.breakdowns):
        extraction.breakdowns.extend(nature_from_tables(tables))
    rows = unit_rows(tables)
    checks = run_checks(extraction.metrics, extraction.breakdowns) + table_checks(tables, rows)
    logger.debug(
        "%s: %d metrics, %d breakdowns",
        filename,
        len(extraction.metrics),
        len(extraction.breakdowns),
    )
    return Bulletin(
        title=title,
        issuer=issuer,
        published_date=published,
        period=period,
        metrics=extraction.metrics,
        breakdowns=extraction.breakdowns,
        tables=tables,
        unit_rows=rows,
        checks=checks,
        issue_number=parse_issue_number(text),
        script=detect_script(raw_text),
        text=text,
        original_text=raw_text,
        documents=[filename] if filename else [],
        source_meta=meta,
    )
