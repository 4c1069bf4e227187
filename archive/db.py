"""The one module that writes archive.db, the normalised SQLite archive served by Datasette.

Layout (every column is described in metadata.yml):

- ``sources``: one row per publishing hotline (slug, name, level, ...).
- ``documents``: one row per stored file version, content-addressed: id = sha256 of the bytes.
- ``bulletins``: one row per parsed bulletin, with its period and normalised text, and a copy
  of its source's province and level (so that Datasette can facet on them).
- ``bulletin_documents``: which documents (article, attachments) a bulletin was read from.
- ``metrics``, ``breakdowns``, ``bulletin_tables``, ``unit_rows``, ``checks``: what the parser
  found, one row per figure / category / table / table cell / check.
- ``bulletin_comparison`` (view): one row per bulletin, one column per headline metric key.
- ``bulletins_fts``: FTS5 index (trigram tokenizer) over bulletins.title and bulletins.text,
  kept in sync by triggers.

Child rows get deterministic ids, ``f"{bulletin_id}:{position:04d}"`` (position in the
Bulletin's list), so rebuilding from the same inputs gives the same rows. Nothing here reads
the clock: the only times stored are the ones the caller passes in.

The full-text index joins on the implicit rowid of ``bulletins`` (whose primary key is text);
SQLite does not promise to keep such rowids across ``VACUUM``, so run
``db["bulletins"].rebuild_fts()`` after a VACUUM.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import sqlite_utils
import yaml

from parsers.model import Bulletin

logger = logging.getLogger(__name__)

SOURCE_LEVELS = ("province", "prefecture", "district", "county")
DOCUMENT_FORMATS = ("html", "txt", "pdf", "docx", "doc", "xls", "xlsx", "image")
COMPARISON_VIEW = "bulletin_comparison"
# Fields of a bulletin's source copied onto the bulletins row (for facets); kept in step by
# upsert_source, write_bulletin and ensure_db_shape.
SOURCE_COPIED_FIELDS = ("province", "level")
FTS_COLUMNS = ("title", "text")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_METRIC_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class TableSpec:
    """Shape of one table: typed columns in display order, keys and indexes."""

    name: str
    columns: dict[str, type]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    not_null: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = field(default=())


TABLE_SPECS: tuple[TableSpec, ...] = (
    TableSpec(
        name="sources",
        columns={
            "slug": str,
            "name": str,
            "province": str,
            "level": str,
            "division_code": str,
            "homepage": str,
            "platform": str,
            "notes": str,
        },
        pk="slug",
        not_null=("name",),
        indexes=(("province",), ("level",)),
    ),
    TableSpec(
        name="documents",
        columns={
            "id": str,
            "url": str,
            "final_url": str,
            "source": str,
            "parent_id": str,
            "path": str,
            "format": str,
            "content_type": str,
            "http_status": int,
            "etag": str,
            "last_modified": str,
            "sha256": str,
            "size": int,
            "fetched_at": str,
            "ingested_at": str,
        },
        pk="id",
        foreign_keys=(("source", "sources", "slug"), ("parent_id", "documents", "id")),
        not_null=("source", "format", "sha256", "size", "ingested_at"),
        indexes=(("source",), ("parent_id",), ("url",), ("format",)),
    ),
    TableSpec(
        name="bulletins",
        columns={
            "id": str,
            "source": str,
            "province": str,
            "level": str,
            "url": str,
            "title": str,
            "issuer": str,
            "published_date": str,
            "period_type": str,
            "period_start": str,
            "period_end": str,
            "stat_start": str,
            "stat_end": str,
            "period_label": str,
            "year": int,
            "issue_number": str,
            "script": str,
            "text": str,
            "original_text": str,
            "source_meta": str,
            "ingested_at": str,
        },
        pk="id",
        foreign_keys=(("source", "sources", "slug"),),
        not_null=("source",),
        indexes=(
            ("source",),
            ("province",),
            ("level",),
            ("period_type",),
            ("period_start",),
            ("year",),
            ("published_date",),
        ),
    ),
    TableSpec(
        name="bulletin_documents",
        columns={"bulletin_id": str, "document_id": str, "role": str, "name": str},
        pk=("bulletin_id", "document_id"),
        foreign_keys=(("bulletin_id", "bulletins", "id"), ("document_id", "documents", "id")),
        not_null=("role",),
        indexes=(("document_id",),),
    ),
    TableSpec(
        name="bulletin_tables",
        columns={
            "id": str,
            "bulletin_id": str,
            "table_index": int,
            "title": str,
            "header": str,
            "body": str,
            "n_rows": int,
            "n_columns": int,
            "document_id": str,
            "page": int,
        },
        pk="id",
        foreign_keys=(("bulletin_id", "bulletins", "id"), ("document_id", "documents", "id")),
        not_null=("bulletin_id", "table_index"),
        indexes=(("bulletin_id",), ("document_id",)),
    ),
    TableSpec(
        name="unit_rows",
        columns={
            "id": str,
            "bulletin_id": str,
            "table_id": str,
            "table_index": int,
            "table_title": str,
            "row_index": int,
            "unit_name": str,
            "unit_key": str,
            "column_header": str,
            "column_key": str,
            "value": float,
            "text": str,
            "is_total": int,
            "document_id": str,
        },
        pk="id",
        foreign_keys=(
            ("bulletin_id", "bulletins", "id"),
            ("table_id", "bulletin_tables", "id"),
            ("document_id", "documents", "id"),
        ),
        not_null=("bulletin_id", "table_id", "unit_name", "unit_key", "is_total"),
        indexes=(("bulletin_id",), ("table_id",), ("unit_key",), ("column_key",), ("document_id",)),
    ),
    TableSpec(
        name="metrics",
        columns={
            "id": str,
            "bulletin_id": str,
            "metric": str,
            "value": float,
            "unit": str,
            "evidence": str,
            "derived": int,
            "document_id": str,
            "location": str,
        },
        pk="id",
        foreign_keys=(("bulletin_id", "bulletins", "id"), ("document_id", "documents", "id")),
        not_null=("bulletin_id", "metric", "value", "unit", "derived"),
        # (bulletin_id, metric) serves both "all metrics of a bulletin" and the comparison view.
        indexes=(("bulletin_id", "metric"), ("metric",), ("document_id",)),
    ),
    TableSpec(
        name="breakdowns",
        columns={
            "id": str,
            "bulletin_id": str,
            "dimension": str,
            "category": str,
            "category_key": str,
            "count": int,
            "share_pct": float,
            "change_pct": float,
            "evidence": str,
            "document_id": str,
        },
        pk="id",
        foreign_keys=(("bulletin_id", "bulletins", "id"), ("document_id", "documents", "id")),
        not_null=("bulletin_id", "dimension", "category"),
        indexes=(
            ("bulletin_id",),
            ("dimension", "category_key"),
            ("category",),
            ("document_id",),
        ),
    ),
    TableSpec(
        name="checks",
        columns={
            "id": str,
            "bulletin_id": str,
            "check_name": str,
            "status": str,
            "severity": str,
            "message": str,
            "expected": float,
            "actual": float,
        },
        pk="id",
        foreign_keys=(("bulletin_id", "bulletins", "id"),),
        not_null=("bulletin_id", "check_name", "status"),
        indexes=(("bulletin_id",), ("check_name",), ("status",)),
    ),
)

TABLES: tuple[str, ...] = tuple(spec.name for spec in TABLE_SPECS)
_SPECS = {spec.name: spec for spec in TABLE_SPECS}

# Delete children before the rows they reference; insert in the opposite order.
_BULLETIN_CHILD_TABLES = (
    "unit_rows",
    "bulletin_tables",
    "metrics",
    "breakdowns",
    "checks",
    "bulletin_documents",
)


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    text = resources.files("parsers").joinpath("vocabulary.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def headline_metrics() -> dict[str, dict[str, str]]:
    """The headline metric keys of parsers/vocabulary.yml with their unit, zh and en text."""
    return dict(_vocabulary()["metrics"])


def comparison_view_sql(metrics: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """SELECT of the bulletin_comparison view: one row per bulletin, one column per metric key.

    Only stated values (derived = 0) fill the metric columns; derived values stay in
    ``metrics``. Counts that are whole numbers are shown as integers.
    """
    metrics = headline_metrics() if metrics is None else metrics
    metric_columns = []
    for key, spec in metrics.items():
        if not _METRIC_KEY.fullmatch(key):
            raise ValueError(f"metric key {key!r} is not a plain identifier")
        value = "m.value"
        if spec.get("unit") == "count":
            value = "CASE WHEN m.value = CAST(m.value AS INTEGER) THEN CAST(m.value AS INTEGER) ELSE m.value END"
        metric_columns.append(
            f"  (SELECT {value} FROM metrics AS m WHERE m.bulletin_id = b.id"
            f" AND m.metric = '{key}' AND m.derived = 0 ORDER BY m.id LIMIT 1) AS {key},"
        )
    lines = [
        "SELECT",
        "  b.id AS bulletin_id,",
        "  b.source AS source,",
        "  s.name AS source_name,",
        "  b.province AS province,",
        "  b.level AS level,",
        "  b.issuer AS issuer,",
        "  b.period_type AS period_type,",
        "  b.period_label AS period_label,",
        "  b.period_start AS period_start,",
        "  b.period_end AS period_end,",
        "  b.year AS year,",
        "  b.published_date AS published_date,",
        "  b.title AS title,",
        *metric_columns,
        "  b.url AS url",
        "FROM bulletins AS b",
        "LEFT JOIN sources AS s ON s.slug = b.source",
        "ORDER BY b.period_start, b.source, b.id",
    ]
    return "\n".join(lines)


def _enable_foreign_keys(db: sqlite_utils.Database) -> None:
    # The pragma is a no-op inside a transaction, so it can only be set between them.
    if not db.conn.in_transaction:
        db.execute("PRAGMA foreign_keys = ON")


def _create_table(db: sqlite_utils.Database, spec: TableSpec) -> None:
    table = db.table(spec.name)
    if not table.exists():
        table.create(
            spec.columns,
            pk=spec.pk,
            foreign_keys=list(spec.foreign_keys),
            not_null=set(spec.not_null),
        )
    else:
        # An older archive: add the columns introduced since (nullable, no foreign key).
        existing = set(table.columns_dict)
        for column, column_type in spec.columns.items():
            if column not in existing:
                logger.info("adding column %s.%s", spec.name, column)
                table.add_column(column, column_type)
    for columns in spec.indexes:
        table.create_index(
            list(columns),
            index_name=f"idx_{spec.name}_{'_'.join(columns)}",
            if_not_exists=True,
        )


def ensure_db_shape(db: sqlite_utils.Database) -> None:
    """Create every table, view, index, foreign key and the FTS index if missing; safe to run again (idempotent)."""
    db.enable_wal()
    _enable_foreign_keys(db)
    with db.atomic():
        for spec in TABLE_SPECS:
            _create_table(db, spec)
        db.table("bulletins").enable_fts(
            list(FTS_COLUMNS), tokenize="trigram", create_triggers=True, replace=True
        )
        db.create_view(COMPARISON_VIEW, comparison_view_sql(), replace=True)
        _copy_source_fields(db)


def _copy_source_fields(db: sqlite_utils.Database, slug: str | None = None) -> None:
    """Copy each source's province and level onto its bulletins where they differ.

    Datasette facets only on a table's own columns, so bulletins keep a copy; only rows that
    differ are touched, so running it again changes nothing (and re-indexes nothing).
    """
    assignments = ", ".join(
        f"{c} = (SELECT s.{c} FROM sources AS s WHERE s.slug = bulletins.source)"
        for c in SOURCE_COPIED_FIELDS
    )
    differs = " OR ".join(
        f"{c} IS NOT (SELECT s.{c} FROM sources AS s WHERE s.slug = bulletins.source)"
        for c in SOURCE_COPIED_FIELDS
    )
    sql = f"UPDATE bulletins SET {assignments} WHERE ({differs})"
    if slug is None:
        db.execute(sql)
    else:
        db.execute(sql + " AND source = ?", [slug])


def _require_shape(db: sqlite_utils.Database) -> None:
    missing = [name for name in TABLES if not db.table(name).exists()]
    if missing:
        raise RuntimeError(f"archive tables missing ({', '.join(missing)}): run ensure_db_shape")


def _require_source(db: sqlite_utils.Database, source: str) -> None:
    row = db.execute("SELECT 1 FROM sources WHERE slug = ?", [source]).fetchone()
    if row is None:
        raise ValueError(f"unknown source {source!r}: call upsert_source first")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _upsert_sql(table: str, columns: Sequence[str], pk: Sequence[str], update: str) -> str:
    names = ", ".join(_quote(c) for c in columns)
    params = ", ".join(f":{c}" for c in columns)
    conflict = ", ".join(_quote(c) for c in pk)
    return (
        f"INSERT INTO {_quote(table)} ({names}) VALUES ({params}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {update}"
    )


def upsert_source(db: sqlite_utils.Database, source: dict) -> None:
    """sources row keyed by slug: slug, name (聊城市), province, level (prefecture/district/county/province), division_code, homepage, platform, notes.

    Keys left out keep their stored value; unknown keys raise ValueError.
    """
    _require_shape(db)
    columns = _SPECS["sources"].columns
    unknown = sorted(set(source) - set(columns))
    if unknown:
        raise ValueError(f"unknown source fields: {', '.join(unknown)}")
    slug = source.get("slug")
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ValueError(f"source slug must be lowercase ascii, digits, '-' or '_': {slug!r}")
    if not source.get("name"):
        raise ValueError(f"source {slug!r} has no name")
    level = source.get("level")
    if level is not None and level not in SOURCE_LEVELS:
        raise ValueError(f"source {slug!r}: level {level!r} is not one of {SOURCE_LEVELS}")
    given = [c for c in columns if c in source]
    update = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in given if c != "slug")
    _enable_foreign_keys(db)
    with db.atomic():
        db.execute(_upsert_sql("sources", given, ["slug"], update), {c: source[c] for c in given})
        _copy_source_fields(db, slug)


def upsert_document(
    db: sqlite_utils.Database,
    *,
    url: str | None,
    final_url: str | None,
    source: str,
    path: str | None,
    sha256: str,
    size: int,
    format: str,
    content_type: str | None,
    fetched_at: str | None,
    ingested_at: str,
    parent_id: str | None = None,
    http_status: int | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> str:
    """documents row, one per stored file version; id = sha256 of the bytes (content-addressed). Returns the id.

    Storing the same bytes again keeps the earliest fetched_at and ingested_at (when this
    version was first seen) and updates the other fields with the new non-null values.
    """
    _require_shape(db)
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"sha256 must be 64 lowercase hex digits: {sha256!r}")
    if format not in DOCUMENT_FORMATS:
        raise ValueError(f"document format {format!r} is not one of {DOCUMENT_FORMATS}")
    if size < 0:
        raise ValueError(f"negative document size: {size}")
    if path is not None and (path.startswith("/") or ".." in path.split("/")):
        raise ValueError(f"document path must be relative to the archive: {path!r}")
    if parent_id == sha256:
        raise ValueError("a document cannot be its own parent")
    _require_source(db, source)
    if parent_id is not None:
        if db.execute("SELECT 1 FROM documents WHERE id = ?", [parent_id]).fetchone() is None:
            raise ValueError(f"parent document {parent_id!r} is not stored yet")
    row = {
        "id": sha256,
        "url": url,
        "final_url": final_url,
        "source": source,
        "parent_id": parent_id,
        "path": path,
        "format": format,
        "content_type": content_type,
        "http_status": http_status,
        "etag": etag,
        "last_modified": last_modified,
        "sha256": sha256,
        "size": size,
        "fetched_at": fetched_at,
        "ingested_at": ingested_at,
    }
    updates = []
    for column in row:
        if column in ("id", "sha256", "size"):
            continue
        new, old = f"excluded.{_quote(column)}", f"documents.{_quote(column)}"
        if column in ("fetched_at", "ingested_at"):
            # ISO timestamps compare as text; min() is NULL when either side is.
            updates.append(f"{_quote(column)} = COALESCE(MIN({old}, {new}), {old}, {new})")
        else:
            updates.append(f"{_quote(column)} = COALESCE({new}, {old})")
    _enable_foreign_keys(db)
    with db.atomic():
        db.execute(_upsert_sql("documents", list(row), ["id"], ", ".join(updates)), row)
    return sha256


def _child_id(bulletin_id: str, position: int) -> str:
    return f"{bulletin_id}:{position:04d}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _year(period_start: str | None) -> int | None:
    if period_start and re.fullmatch(r"\d{4}-\d{2}-\d{2}", period_start):
        return int(period_start[:4])
    return None


class _DocumentResolver:
    """Maps the document names used inside a Bulletin to documents.id."""

    def __init__(self, bulletin_id: str, document_ids: Mapping[str, str]) -> None:
        self.bulletin_id = bulletin_id
        self.document_ids = dict(document_ids)
        distinct = set(self.document_ids.values())
        # With a single document every row necessarily came from it.
        self.only = next(iter(distinct)) if len(distinct) == 1 else None

    def __call__(self, name: str | None) -> str | None:
        if name is None:
            return self.only
        if name not in self.document_ids:
            raise ValueError(
                f"bulletin {self.bulletin_id!r} refers to document {name!r},"
                f" which is not in document_ids ({', '.join(sorted(self.document_ids))})"
            )
        return self.document_ids[name]


def _bulletin_rows(
    db: sqlite_utils.Database,
    bulletin: Bulletin,
    bulletin_id: str,
    source: str,
    url: str | None,
    document_ids: Mapping[str, str],
) -> dict[str, list[dict[str, Any]]]:
    """Every row to store for one bulletin, by table, before anything is written."""
    doc = _DocumentResolver(bulletin_id, document_ids)
    doc_ids = sorted(set(document_ids.values()))
    stored = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "SELECT id, parent_id, ingested_at FROM documents WHERE id IN"
            f" ({', '.join('?' for _ in doc_ids)})",
            doc_ids,
        ).fetchall()
    }
    missing = [d for d in doc_ids if d not in stored]
    if missing:
        raise ValueError(f"documents not stored yet (call upsert_document): {', '.join(missing)}")

    period = bulletin.period
    ingested = [stored[d][1] for d in doc_ids if stored[d][1]]
    province, level = db.execute(
        "SELECT province, level FROM sources WHERE slug = ?", [source]
    ).fetchone()
    rows: dict[str, list[dict[str, Any]]] = {
        "bulletins": [
            {
                "id": bulletin_id,
                "source": source,
                "province": province,
                "level": level,
                "url": url,
                "title": bulletin.title,
                "issuer": bulletin.issuer,
                "published_date": bulletin.published_date,
                "period_type": period.period_type,
                "period_start": period.period_start,
                "period_end": period.period_end,
                "stat_start": period.stat_start,
                "stat_end": period.stat_end,
                "period_label": period.period_label,
                "year": _year(period.period_start),
                "issue_number": bulletin.issue_number,
                "script": bulletin.script,
                "text": bulletin.text,
                "original_text": bulletin.original_text,
                "source_meta": _json(dict(sorted(bulletin.source_meta.items())))
                if bulletin.source_meta
                else None,
                "ingested_at": min(ingested) if ingested else None,
            }
        ]
    }

    names: dict[str, str] = {}
    for name, document_id in document_ids.items():
        names.setdefault(document_id, name)
    rows["bulletin_documents"] = [
        {
            "bulletin_id": bulletin_id,
            "document_id": document_id,
            # Attachments are stored with the page that links them as parent.
            "role": "attachment" if stored[document_id][0] else "article",
            "name": names[document_id],
        }
        for document_id in doc_ids
    ]

    table_ids = {i: _child_id(bulletin_id, i) for i in range(len(bulletin.tables))}
    rows["bulletin_tables"] = [
        {
            "id": table_ids[i],
            "bulletin_id": bulletin_id,
            "table_index": i,
            "title": t.title,
            "header": _json(t.header),
            "body": _json(t.rows),
            "n_rows": len(t.rows),
            "n_columns": max([len(t.header), *(len(r) for r in t.rows)]),
            "document_id": doc(t.document),
            "page": t.page,
        }
        for i, t in enumerate(bulletin.tables)
    ]

    unit_rows = []
    for i, u in enumerate(bulletin.unit_rows):
        if u.table_index not in table_ids:
            raise ValueError(
                f"bulletin {bulletin_id!r}: unit row {i} points at table {u.table_index},"
                f" but the bulletin has {len(bulletin.tables)} tables"
            )
        unit_rows.append(
            {
                "id": _child_id(bulletin_id, i),
                "bulletin_id": bulletin_id,
                "table_id": table_ids[u.table_index],
                "table_index": u.table_index,
                "table_title": u.table_title,
                "row_index": u.row_index,
                "unit_name": u.unit_name,
                "unit_key": u.unit_key,
                "column_header": u.column_header,
                "column_key": u.column_key,
                "value": _number(u.value),
                "text": u.text,
                "is_total": int(u.is_total),
                "document_id": doc(u.document),
            }
        )
    rows["unit_rows"] = unit_rows

    known_metrics = headline_metrics()
    for m in bulletin.metrics:
        if m.metric not in known_metrics:
            logger.warning("bulletin %s: metric %r is not in vocabulary.yml", bulletin_id, m.metric)
    rows["metrics"] = [
        {
            "id": _child_id(bulletin_id, i),
            "bulletin_id": bulletin_id,
            "metric": m.metric,
            "value": _number(m.value),
            "unit": m.unit,
            "evidence": m.evidence,
            "derived": int(m.derived),
            "document_id": doc(m.document),
            "location": m.location,
        }
        for i, m in enumerate(bulletin.metrics)
    ]
    rows["breakdowns"] = [
        {
            "id": _child_id(bulletin_id, i),
            "bulletin_id": bulletin_id,
            "dimension": b.dimension,
            "category": b.category,
            "category_key": b.category_key,
            "count": b.count,
            "share_pct": _number(b.share_pct),
            "change_pct": _number(b.change_pct),
            "evidence": b.evidence,
            "document_id": doc(b.document),
        }
        for i, b in enumerate(bulletin.breakdowns)
    ]
    rows["checks"] = [
        {
            "id": _child_id(bulletin_id, i),
            "bulletin_id": bulletin_id,
            "check_name": c.check,
            "status": c.status,
            "severity": c.severity,
            "message": c.message,
            "expected": _number(c.expected),
            "actual": _number(c.actual),
        }
        for i, c in enumerate(bulletin.checks)
    ]
    return rows


def _insert_rows(db: sqlite_utils.Database, table: str, rows: Iterable[dict[str, Any]]) -> None:
    columns = list(_SPECS[table].columns)
    sql = (
        f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})"
    )
    db.conn.executemany(sql, [{c: row[c] for c in columns} for row in rows])


def _delete_bulletin_children(db: sqlite_utils.Database, bulletin_id: str) -> None:
    for table in _BULLETIN_CHILD_TABLES:
        db.execute(f"DELETE FROM {_quote(table)} WHERE bulletin_id = ?", [bulletin_id])


def write_bulletin(
    db: sqlite_utils.Database,
    bulletin: Bulletin,
    *,
    bulletin_id: str,
    source: str,
    url: str | None,
    document_ids: dict[str, str],
) -> None:
    """Replace everything stored for this bulletin_id (bulletins row + its metrics, breakdowns, tables, unit rows, checks,
    bulletin_documents links) in ONE transaction, so re-running gives the same database and a failure leaves the previous
    version intact. document_ids maps the names used in Metric.document / Table.document etc. to documents.id.
    """
    _require_shape(db)
    if not isinstance(bulletin_id, str) or not bulletin_id.strip():
        raise ValueError(f"bulletin_id must be a non-empty string: {bulletin_id!r}")
    _require_source(db, source)
    rows = _bulletin_rows(db, bulletin, bulletin_id, source, url, document_ids)

    bulletin_columns = list(_SPECS["bulletins"].columns)
    # Update in place rather than delete + insert, so the row keeps its rowid (the FTS key).
    update = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in bulletin_columns[1:])
    upsert_bulletin = _upsert_sql("bulletins", bulletin_columns, ["id"], update)

    _enable_foreign_keys(db)
    with db.atomic():
        _delete_bulletin_children(db, bulletin_id)
        db.execute(upsert_bulletin, rows["bulletins"][0])
        for table in reversed(_BULLETIN_CHILD_TABLES):
            _insert_rows(db, table, rows[table])
    logger.debug(
        "wrote bulletin %s: %d metrics, %d breakdowns, %d tables, %d unit rows, %d checks",
        bulletin_id,
        len(rows["metrics"]),
        len(rows["breakdowns"]),
        len(rows["bulletin_tables"]),
        len(rows["unit_rows"]),
        len(rows["checks"]),
    )
