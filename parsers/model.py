"""Dataclasses a parsed bulletin is made of.

Parsers return these and nothing else: no I/O, no database. ``Bulletin.to_json``
gives the object defined in ``shared/spec/vocabulary.md`` (the contract of
``hotline parse FILE --json``); extra keys are additions, never renames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Period:
    """What a bulletin reports on, as ISO dates (see vocabulary.md, "Period")."""

    period_type: str | None = None  # week, month, quarter, half_year, year, other
    period_start: str | None = None
    period_end: str | None = None
    stat_start: str | None = None
    stat_end: str | None = None
    period_label: str | None = None


@dataclass
class Metric:
    """One headline figure on a canonical key, with the text it was read from."""

    metric: str
    value: float | int
    unit: str  # "count" or "percent"
    evidence: str
    derived: bool = False
    document: str | None = None  # name of the document the value was read from
    location: str | None = None  # e.g. "paragraph 3", "table 1 row 4", "page 2"


@dataclass
class Breakdown:
    """One category of a breakdown (nature, channel, topic, unit, scope)."""

    dimension: str
    category: str
    category_key: str | None = None
    count: int | None = None
    share_pct: float | None = None
    change_pct: float | None = None
    evidence: str = ""
    document: str | None = None
    location: str | None = None  # e.g. "line 12" of the document's prose


@dataclass
class Table:
    """A table as printed: header cells (merged headers joined with "/") and body rows."""

    title: str | None
    header: list[str]
    rows: list[list[str]]
    document: str | None = None
    page: int | None = None  # PDF page, 1-based (the first page of a table that runs over pages)
    ocr: bool = (
        False  # cells read by OCR: kept only when a totals row or stated totals confirm them
    )


@dataclass
class UnitRow:
    """One cell of a table in long form (vocabulary.md, "Unit tables")."""

    table_index: int  # position of the table in Bulletin.tables
    table_title: str | None
    row_index: int  # 0-based body row index
    unit_name: str  # as printed
    unit_key: str  # normalised, stable across bulletins
    column_header: str  # merged headers joined with "/"
    column_key: str | None  # canonical column key where one fits
    value: float | int | None
    text: str  # the cell as printed
    is_total: bool = False
    document: str | None = None


@dataclass
class Check:
    """A consistency check; a failure is a warning about the source, never a repair."""

    check: str
    status: str  # "pass" or "fail"
    severity: str  # "info" for a pass, "warning" for a fail
    message: str
    expected: float | None = None
    actual: float | None = None


@dataclass
class ExtractedDocument:
    """What a format reader (pdf, docx, doc, xls/xlsx, image) gets out of one file, before any
    reading of figures: its text (tables rendered in place as "cell | cell |" lines), its tables,
    and what the file says about itself."""

    text: str
    tables: list[Table] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # e.g. title, author, created
    pages: int | None = None  # PDF pages read
    ocr: bool = False  # text or tables came from OCR


@dataclass
class Bulletin:
    """A parsed bulletin: everything one document (or one article and its attachments) says."""

    title: str | None = None
    issuer: str | None = None
    published_date: str | None = None
    period: Period = field(default_factory=Period)
    metrics: list[Metric] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    unit_rows: list[UnitRow] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    issue_number: str | None = None
    script: str = "simplified"  # script of the source text: simplified or traditional
    text: str = ""  # normalised text (simplified, half-width)
    original_text: str = ""  # text as extracted, before normalisation
    documents: list[str] = field(default_factory=list)
    source_meta: dict[str, str] = field(default_factory=dict)  # e.g. <meta> tags of a page

    def metric(self, key: str) -> Metric | None:
        """The metric with this key, or None when the bulletin does not state it."""
        return next((m for m in self.metrics if m.metric == key), None)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the parse contract (vocabulary.md)."""
        return {
            "title": self.title,
            "issuer": self.issuer,
            "published_date": self.published_date,
            "issue_number": self.issue_number,
            "script": self.script,
            "period": asdict(self.period),
            "metrics": [asdict(m) for m in self.metrics],
            "breakdowns": [asdict(b) for b in self.breakdowns],
            "tables": [asdict(t) for t in self.tables],
            "unit_rows": [asdict(u) for u in self.unit_rows],
            "checks": [asdict(c) for c in self.checks],
            "documents": list(self.documents),
        }
