"""One document in, one structured bulletin out: the parsing pipeline.

``parse_document`` is a pure function of the bytes (and the name and HTTP
content type they came with): it decodes, normalises, and reads title, issuer,
dates, period, metrics, breakdowns, tables and checks.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from .checks import run_checks
from .clauses import split_sentences
from .errors import ParseError, UnsupportedFormatError
from .metrics import extract, nature_from_tables
from .model import Breakdown, Bulletin, Check, Metric, Period, Table, UnitRow
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
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".xls": "xls",
    ".xlsx": "xlsx",
    ".wps": "doc",
}


# A bulletin is a few thousand characters and reading costs ~1.5 s per million: a text
# this long (a log, a dump, a whole archive in one file) is refused, not read for minutes.
MAX_TEXT_CHARS = 2_000_000

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def _zip_format(data: bytes, filename: str) -> str:
    """docx or xlsx from the members of an Office Open XML zip (the content decides, not the name)."""
    import io
    import zipfile

    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return "xlsx" if filename.lower().endswith(".xlsx") else "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return "docx"


def detect_format(data: bytes, filename: str = "", content_type: str | None = None) -> str:
    """The document's format (html, txt, pdf, docx, doc, xlsx, xls, image): the bytes decide, then name and type."""
    raw_head = data[:2048]
    if raw_head.startswith(_IMAGE_MAGIC):
        return "image"
    head = raw_head.lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if raw_head.startswith(b"PK\x03\x04"):
        return _zip_format(data, filename)
    if raw_head.startswith(b"\xd0\xcf\x11\xe0"):
        # OLE compound file: its directory names the streams (UTF-16): Word has "WordDocument",
        # Excel "Workbook" (or "Book" before Excel 97).
        if "WordDocument".encode("utf-16-le") in data:
            return "doc"
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "xls"
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


@dataclass
class DocumentInput:
    """One file of a bulletin: its name, its bytes and the HTTP content type it was served with."""

    name: str
    data: bytes
    content_type: str | None = None


@dataclass
class ReadDocument:
    """A document after its format reader and normalisation, before any figure is read."""

    name: str
    format: str
    raw_text: str
    text: str  # normalised, furniture removed
    tables: list[Table]
    meta: dict[str, str]
    title: str | None
    ocr: bool = False


def _read_format(
    doc: DocumentInput, fmt: str
) -> tuple[str, list[Table], dict[str, str], str | None, bool]:
    """(raw text, tables, meta, title, ocr) from the format reader for ``fmt``."""
    name = doc.name or None
    if fmt == "html":
        from .html import extract_html

        page = extract_html(doc.data, _charset_of(doc.content_type), document=name)
        meta = dict(page.meta)
        if page.published and "PubDate" not in meta:
            meta["PubDate"] = page.published
        return page.text, list(page.tables), meta, page.title, False
    if fmt == "txt":
        return decode_text(doc.data), [], {}, None, False
    if fmt == "pdf":
        from .pdf import read_pdf

        extracted = read_pdf(doc.data, name)
        if extracted.meta.get("text_layer") == "none":
            from .ocr import ocr_pdf_pages

            extracted = ocr_pdf_pages(doc.data, name)
    elif fmt == "docx":
        from .docx import read_docx

        extracted = read_docx(doc.data, name)
    elif fmt == "doc":
        from .doc import read_doc

        extracted = read_doc(doc.data, name)
    elif fmt == "xlsx":
        from .spreadsheet import read_xlsx

        extracted = read_xlsx(doc.data, name)
    elif fmt == "xls":
        from .spreadsheet import read_xls

        extracted = read_xls(doc.data, name)
    elif fmt == "image":
        from .ocr import read_image

        extracted = read_image(doc.data, name)
    else:
        raise UnsupportedFormatError(f"{doc.name or 'document'}: {fmt} documents are not parsed")
    for table in extracted.tables:
        table.document = table.document or name
    return (
        extracted.text,
        extracted.tables,
        dict(extracted.meta),
        extracted.meta.get("title"),
        extracted.ocr,
    )


def read_document(doc: DocumentInput) -> ReadDocument:
    """Run the format reader and normalise the text. Raises ParseError naming the document."""
    from .tables import find_text_tables

    label = doc.name or "document"
    if not doc.data.strip():
        raise ParseError(f"{label}: empty document")
    fmt = detect_format(doc.data, doc.name, doc.content_type)
    try:
        raw_text, tables, meta, title, ocr = _read_format(doc, fmt)
    except ParseError as error:
        if label in str(error):
            raise
        # Every message names its document: a batch reports many failures at once.
        raise type(error)(f"{label}: {error}") from error
    if len(raw_text) > MAX_TEXT_CHARS:
        raise ParseError(
            f"{label}: {len(raw_text)} characters of text, over the limit of {MAX_TEXT_CHARS}"
        )
    if not raw_text.strip() and not tables:
        raise ParseError(f"{label}: no text found")
    normalised = normalize_text(raw_text)
    text = strip_furniture(normalised)
    meta = {k: normalize_text(v) for k, v in meta.items()}
    title = normalize_text(title).strip() if title else guess_title(text)
    if not tables:
        # Tables are read before the furniture goes: short "cell |" lines look like furniture.
        tables = find_text_tables(normalised, document=doc.name or None)
    for table in tables:
        table.title = normalize_text(table.title) if table.title else table.title
        table.header = [normalize_text(c) for c in table.header]
        table.rows = [[normalize_text(c) for c in row] for row in table.rows]
    return ReadDocument(doc.name, fmt, raw_text, text, tables, meta, title, ocr)


def parse_document(data: bytes, filename: str = "", content_type: str | None = None) -> Bulletin:
    """Parse one bulletin document (HTML, text, PDF, DOCX, DOC, XLS/XLSX, image). Raises ParseError."""
    return parse_bulletin([DocumentInput(filename, data, content_type)])


def parse_bulletin(documents: list[DocumentInput]) -> Bulletin:
    """One bulletin from its article and attachments (the article first).

    Title, dates and period come from the first document that states them; each
    headline metric from the first document that states it, and it names that
    document; tables and unit rows come from every document. An attachment that
    cannot be read becomes a failed check and the rest goes on; when no document
    can be read, ParseError.
    """
    from .period import parse_issue_number, parse_period, parse_published_date
    from .tables import table_checks, unit_rows

    read: list[ReadDocument] = []
    errors: list[Check] = []
    for doc in documents:
        try:
            read.append(read_document(doc))
        except ParseError as exc:
            if len(documents) == 1:
                raise
            errors.append(Check(f"document:{doc.name}", "fail", "warning", str(exc)))
    if not read:
        raise ParseError("; ".join(c.message for c in errors) or "no documents")

    article = read[0]
    title = next((d.title for d in read if d.title), None)
    meta = {k: v for d in reversed(read) for k, v in d.meta.items()}
    published = next((p for d in read if (p := parse_published_date(d.text, d.meta))), None)
    period = next(
        (p for d in read if (p := parse_period(d.text, published, title)).period_type), Period()
    )
    issuer = next((i for d in read if (i := guess_issuer(title, d.text))), None)
    ctx = ScopeContext(own_names_from(issuer, title), period.period_type, _period_months(period))

    metrics: list[Metric] = []
    breakdowns: list[Breakdown] = []
    for doc in read:
        found = extract(split_sentences(_prose(doc.text)), ctx, document=doc.name or None)
        have = {m.metric for m in metrics}
        metrics.extend(m for m in found.metrics if m.metric not in have)
        dimensions = {b.dimension for b in breakdowns}
        breakdowns.extend(b for b in found.breakdowns if b.dimension not in dimensions)
    tables, duplicates = _distinct_tables([t for doc in read for t in doc.tables])
    if not any(b.dimension == "nature" for b in breakdowns):
        breakdowns.extend(nature_from_tables(tables))
    rows = unit_rows(tables)
    checks = errors + duplicates + run_checks(metrics, breakdowns) + table_checks(tables, rows)
    checks += _ocr_checks(tables, rows)
    logger.debug("%s: %d metrics, %d breakdowns", article.name, len(metrics), len(breakdowns))
    return Bulletin(
        title=title,
        issuer=issuer,
        published_date=published,
        period=period,
        metrics=metrics,
        breakdowns=breakdowns,
        tables=tables,
        unit_rows=rows,
        checks=checks,
        issue_number=next((n for d in read if (n := parse_issue_number(d.text))), None),
        script=detect_script(article.raw_text),
        text="\n\n".join(d.text for d in read),
        original_text="\n\n".join(d.raw_text for d in read),
        documents=[d.name for d in read if d.name],
        source_meta=meta,
    )


def _distinct_tables(tables: list[Table]) -> tuple[list[Table], list[Check]]:
    """The tables without repeats: an attachment often carries the article's own tables again,
    and archiving both would count every unit twice. The first copy (the article's) is kept."""
    seen: dict[tuple, Table] = {}
    kept: list[Table] = []
    checks: list[Check] = []
    for table in tables:
        key = (
            tuple(" ".join(h.split()) for h in table.header),
            tuple(tuple("".join(c.split()) for c in row) for row in table.rows),
        )
        first = seen.get(key)
        if first is None:
            seen[key] = table
            kept.append(table)
            continue
        checks.append(
            Check(
                f"duplicate_table:{table.title or len(kept)}",
                "pass",
                "info",
                f"{table.document} repeats the table {first.title!r} of {first.document}: kept once",
            )
        )
    return kept, checks


def _ocr_checks(tables: list[Table], rows: list[UnitRow]) -> list[Check]:
    """OCR'd tables count only when their totals row confirms them; otherwise their values are withdrawn."""
    checks = []
    for index, table in enumerate(tables):
        if not table.ocr:
            continue
        from .ocr import confirmed_by_totals

        name = f"ocr_confirmed:{table.title or index}"
        if confirmed_by_totals(table):
            checks.append(Check(name, "pass", "info", "OCR'd table confirmed by its totals row"))
            continue
        for row in rows:
            if row.table_index == index:
                row.value = None  # an unconfirmed OCR figure is not archived as a number
        checks.append(
            Check(
                name,
                "fail",
                "warning",
                "OCR'd table not confirmed by a totals row: values withheld",
            )
        )
    return checks
