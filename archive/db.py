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

from . import completeness

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


METRICS_SPEC = TableSpec(
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
    # (bulletin_id, metric) serves "all metrics of a bulletin"; the longer one answers each
    # metric column of the comparison view from the index alone (no row look-up, no sort).
    indexes=(
        ("bulletin_id", "metric"),
        ("bulletin_id", "metric", "derived", "id", "value"),
        ("metric",),
        ("document_id",),
    ),
)

BREAKDOWNS_SPEC = TableSpec(
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
)


def _superseded_spec(
    name: str,
    live: TableSpec,
    *,
    not_null: tuple[str, ...],
    indexes: tuple[tuple[str, ...], ...],
) -> TableSpec:
    """The table keeping a live table's rows of superseded bulletin versions: the live table's
    columns with the version they belonged to (derived, so the two never drift apart)."""
    copied = {c: t for c, t in live.columns.items() if c not in ("id", "bulletin_id")}
    return TableSpec(
        name=name,
        columns={"id": str, "version_id": str, "bulletin_id": str, "version": int, **copied},
        pk="id",
        foreign_keys=(
            ("version_id", "bulletin_versions", "id"),
            ("bulletin_id", "bulletins", "id"),
            ("document_id", "documents", "id"),
        ),
        not_null=("version_id", "bulletin_id", "version", *not_null),
        indexes=(*indexes, ("version_id",)),
    )


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
            # In period order within a period type / a source: metric_across_sources,
            # source_series and provenance walk these instead of sorting every bulletin
            # (when sqlite_stat1 tells the planner how selective they are; see bench/).
            ("period_type", "period_start", "source"),
            ("source", "period_start"),
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
    METRICS_SPEC,
    BREAKDOWNS_SPEC,
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
    # --- what the refreshes did: run history, takedowns, revisions ----------------------------
    TableSpec(
        name="runs",
        columns={
            "id": int,
            "command": str,
            "full_walk": int,
            "started_at": str,
            "ended_at": str,
            "status": str,
            "exit_code": int,
            "sources": int,
            "requests": int,
            "new_documents": int,
            "changed_documents": int,
            "new_bulletins": int,
            "updated_bulletins": int,
            "failed": int,
            "errors": int,
            "taken_down": int,
        },
        pk="id",
        not_null=("command", "started_at", "status"),
        indexes=(("started_at",), ("status",)),
    ),
    TableSpec(
        name="run_sources",
        columns={
            "id": str,
            "run_id": int,
            "source": str,
            "started_at": str,
            "ended_at": str,
            "status": str,
            "requests": int,
            "not_modified": int,
            "new_documents": int,
            "changed_documents": int,
            "new_bulletins": int,
            "updated_bulletins": int,
            "skipped": int,
            "failed": int,
            "taken_down": int,
            "error": str,
            "failures": str,
        },
        pk="id",
        foreign_keys=(("run_id", "runs", "id"), ("source", "sources", "slug")),
        not_null=("run_id", "source", "started_at", "status"),
        indexes=(("source", "started_at"), ("run_id",), ("status",)),
    ),
    TableSpec(
        name="takedowns",
        columns={
            "url": str,
            "source": str,
            "bulletin_id": str,
            "document_id": str,
            "reason": str,
            "missing_since": str,
            "last_checked_at": str,
            "back_online_at": str,
        },
        pk="url",
        foreign_keys=(
            ("source", "sources", "slug"),
            ("bulletin_id", "bulletins", "id"),
            ("document_id", "documents", "id"),
        ),
        not_null=("source", "reason", "missing_since"),
        indexes=(("source",), ("bulletin_id",), ("back_online_at",)),
    ),
    TableSpec(
        name="bulletin_versions",
        columns={
            "id": str,
            "bulletin_id": str,
            "version": int,
            "documents": str,
            "seen_at": str,
            "superseded_at": str,
            "title": str,
            "period_label": str,
        },
        pk="id",
        foreign_keys=(("bulletin_id", "bulletins", "id"),),
        not_null=("bulletin_id", "version", "documents"),
        indexes=(("bulletin_id", "version"),),
    ),
    _superseded_spec(
        "superseded_metrics",
        METRICS_SPEC,
        not_null=("metric", "value", "derived"),
        indexes=(("bulletin_id", "version", "metric"),),
    ),
    _superseded_spec(
        "superseded_breakdowns",
        BREAKDOWNS_SPEC,
        not_null=("dimension", "category"),
        indexes=(("bulletin_id", "version", "dimension"),),
    ),
    # --- completeness calendar (archive/completeness.py; replaced by update_completeness) -------
    TableSpec(
        name="source_calendars",
        columns={
            "source": str,
            "cadence": str,
            "basis": str,
            "first_period": str,
            "last_expected": str,
            "expected": int,
            "found": int,
            "missing": int,
            "median_lag_days": float,
            "grace_days": float,
            "grace_basis": str,
            "as_of": str,
        },
        pk="source",
        foreign_keys=(("source", "sources", "slug"),),
        not_null=("cadence", "basis", "expected", "found", "missing", "as_of"),
        indexes=(("cadence",),),
    ),
    TableSpec(
        name="calendar_periods",
        columns={
            "id": str,
            "source": str,
            "cadence": str,
            "period_label": str,
            "period_start": str,
            "period_end": str,
            "due_date": str,
            "status": str,
            "bulletin_id": str,
            "bulletin_count": int,
            "bulletin_ids": str,
            "published_date": str,
            "lag_days": int,
        },
        pk="id",
        foreign_keys=(("source", "sources", "slug"), ("bulletin_id", "bulletins", "id")),
        not_null=("source", "cadence", "period_label", "period_start", "period_end", "status"),
        indexes=(("source", "period_start"), ("status",), ("bulletin_id",)),
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
        # No ORDER BY: a view that sorts cannot be flattened into the queries around it, so
        # Datasette's count(*) and facets would compute every metric column of every bulletin
        # (20 s on a million metric rows). Datasette sorts it by period (metadata.yml: sort).
    ]
    return "\n".join(lines)


SOURCE_STATUS_VIEW = "source_status"
# One row per source: how its refreshes have gone (the status page of an operator).
SOURCE_STATUS_SQL = """
SELECT
  s.slug AS source,
  s.name AS source_name,
  CASE
    WHEN last.status IS NULL THEN 'never run'
    WHEN last.status = 'error' THEN 'failing'
    WHEN last.status = 'partial' THEN 'partial'
    ELSE 'healthy'
  END AS health,
  last.started_at AS last_run_at,
  last.status AS last_status,
  last.error AS last_error,
  last.failed AS last_failed,
  (SELECT max(r.started_at) FROM run_sources AS r
    WHERE r.source = s.slug AND r.status != 'error') AS last_success_at,
  (SELECT min(r.started_at) FROM run_sources AS r
    WHERE r.source = s.slug AND r.status = 'error'
      AND r.started_at > coalesce((SELECT max(ok.started_at) FROM run_sources AS ok
                                    WHERE ok.source = s.slug AND ok.status != 'error'), ''))
    AS failing_since,
  (SELECT count(*) FROM run_sources AS r
    WHERE r.source = s.slug AND r.status = 'error'
      AND r.started_at > coalesce((SELECT max(ok.started_at) FROM run_sources AS ok
                                    WHERE ok.source = s.slug AND ok.status != 'error'), ''))
    AS consecutive_failures,
  (SELECT max(r.started_at) FROM run_sources AS r
    WHERE r.source = s.slug AND r.new_bulletins > 0) AS last_new_bulletin_at,
  (SELECT count(*) FROM bulletins AS b WHERE b.source = s.slug) AS bulletins,
  (SELECT max(b.published_date) FROM bulletins AS b WHERE b.source = s.slug) AS newest_published,
  (SELECT count(*) FROM takedowns AS t
    WHERE t.source = s.slug AND t.back_online_at IS NULL) AS no_longer_online,
  (SELECT count(*) FROM run_sources AS r WHERE r.source = s.slug) AS runs
FROM sources AS s
LEFT JOIN run_sources AS last ON last.id = (
  SELECT r.id FROM run_sources AS r WHERE r.source = s.slug
  ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1)
ORDER BY s.slug
""".strip()

# The CTE both revision views share: each version with the one after it, and when that was seen.
_VERSION_PAIRS_CTE = """
pairs AS (
  SELECT old.bulletin_id, old.version AS old_version, new.version AS new_version,
         new.seen_at AS revised_at
  FROM bulletin_versions AS old
  JOIN bulletin_versions AS new
    ON new.bulletin_id = old.bulletin_id AND new.version = old.version + 1
),
""".lstrip()

METRIC_REVISIONS_VIEW = "metric_revisions"
# Each stated headline value that differs between two consecutive versions of a bulletin
# (the first stated row per metric, as in bulletin_comparison): old, new, and when.
METRIC_REVISIONS_SQL = f"""
WITH stated AS (
  SELECT sm.bulletin_id, sm.version, sm.metric, sm.value, sm.evidence, sm.document_id, sm.id
  FROM superseded_metrics AS sm WHERE sm.derived = 0
  UNION ALL
  SELECT m.bulletin_id, v.version, m.metric, m.value, m.evidence, m.document_id, m.id
  FROM metrics AS m
  JOIN bulletin_versions AS v ON v.bulletin_id = m.bulletin_id AND v.superseded_at IS NULL
  WHERE m.derived = 0
),
firsts AS (
  SELECT * FROM (
    SELECT stated.*, row_number() OVER (
      PARTITION BY bulletin_id, version, metric ORDER BY id) AS n
    FROM stated)
  WHERE n = 1
),
{_VERSION_PAIRS_CTE}keys AS (
  SELECT DISTINCT p.bulletin_id, p.old_version, p.new_version, p.revised_at, f.metric
  FROM pairs AS p
  JOIN firsts AS f
    ON f.bulletin_id = p.bulletin_id AND f.version IN (p.old_version, p.new_version)
)
SELECT
  k.bulletin_id AS bulletin_id,
  b.source AS source,
  b.period_label AS period_label,
  k.metric AS metric,
  CASE WHEN o.value IS NULL THEN 'added' WHEN n.value IS NULL THEN 'removed'
       ELSE 'changed' END AS change,
  o.value AS old_value,
  n.value AS new_value,
  k.revised_at AS revised_at,
  k.old_version AS old_version,
  k.new_version AS new_version,
  o.evidence AS old_evidence,
  n.evidence AS new_evidence,
  o.document_id AS old_document_id,
  n.document_id AS new_document_id
FROM keys AS k
JOIN bulletins AS b ON b.id = k.bulletin_id
LEFT JOIN firsts AS o
  ON o.bulletin_id = k.bulletin_id AND o.version = k.old_version AND o.metric = k.metric
LEFT JOIN firsts AS n
  ON n.bulletin_id = k.bulletin_id AND n.version = k.new_version AND n.metric = k.metric
WHERE o.value IS NOT n.value
ORDER BY k.revised_at DESC, k.bulletin_id, k.metric
""".strip()

BREAKDOWN_REVISIONS_VIEW = "breakdown_revisions"
# The same for breakdowns (nature, channel, topic): each category whose count, share or change
# differs between consecutive versions, matched on (dimension, category_key or category).
BREAKDOWN_REVISIONS_SQL = f"""
WITH vals AS (
  SELECT sb.bulletin_id, sb.version, sb.dimension, coalesce(sb.category_key, sb.category) AS k,
         sb.category, sb.count, sb.share_pct, sb.change_pct, sb.evidence, sb.id
  FROM superseded_breakdowns AS sb
  UNION ALL
  SELECT b.bulletin_id, v.version, b.dimension, coalesce(b.category_key, b.category),
         b.category, b.count, b.share_pct, b.change_pct, b.evidence, b.id
  FROM breakdowns AS b
  JOIN bulletin_versions AS v ON v.bulletin_id = b.bulletin_id AND v.superseded_at IS NULL
),
firsts AS (
  SELECT * FROM (
    SELECT vals.*, row_number() OVER (
      PARTITION BY bulletin_id, version, dimension, k ORDER BY id) AS n
    FROM vals)
  WHERE n = 1
),
{_VERSION_PAIRS_CTE}keys AS (
  SELECT DISTINCT p.bulletin_id, p.old_version, p.new_version, p.revised_at, f.dimension, f.k
  FROM pairs AS p
  JOIN firsts AS f
    ON f.bulletin_id = p.bulletin_id AND f.version IN (p.old_version, p.new_version)
)
SELECT
  k.bulletin_id AS bulletin_id,
  b.source AS source,
  b.period_label AS period_label,
  k.dimension AS dimension,
  coalesce(n.category, o.category) AS category,
  CASE WHEN o.id IS NULL THEN 'added' WHEN n.id IS NULL THEN 'removed'
       ELSE 'changed' END AS change,
  o.count AS old_count,
  n.count AS new_count,
  o.share_pct AS old_share_pct,
  n.share_pct AS new_share_pct,
  o.change_pct AS old_change_pct,
  n.change_pct AS new_change_pct,
  k.revised_at AS revised_at,
  k.old_version AS old_version,
  k.new_version AS new_version,
  o.evidence AS old_evidence,
  n.evidence AS new_evidence
FROM keys AS k
JOIN bulletins AS b ON b.id = k.bulletin_id
LEFT JOIN firsts AS o ON o.bulletin_id = k.bulletin_id AND o.version = k.old_version
  AND o.dimension = k.dimension AND o.k = k.k
LEFT JOIN firsts AS n ON n.bulletin_id = k.bulletin_id AND n.version = k.new_version
  AND n.dimension = k.dimension AND n.k = k.k
WHERE o.id IS NULL OR n.id IS NULL OR o.count IS NOT n.count
  OR o.share_pct IS NOT n.share_pct OR o.change_pct IS NOT n.change_pct
ORDER BY k.revised_at DESC, k.bulletin_id, k.dimension, k.k
""".strip()

EXTRA_VIEWS = {
    SOURCE_STATUS_VIEW: SOURCE_STATUS_SQL,
    METRIC_REVISIONS_VIEW: METRIC_REVISIONS_SQL,
    BREAKDOWN_REVISIONS_VIEW: BREAKDOWN_REVISIONS_SQL,
}


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
        for name, sql in EXTRA_VIEWS.items():
            db.create_view(name, sql, replace=True)
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
    update = ", ".join(
        # ingested_at is when the bulletin was first archived: a later version keeps it (the
        # feed of new bulletins dates entries by it; versions have their own seen_at).
        "ingested_at = COALESCE(MIN(bulletins.ingested_at, excluded.ingested_at),"
        " bulletins.ingested_at, excluded.ingested_at)"
        if c == "ingested_at"
        else f"{_quote(c)} = excluded.{_quote(c)}"
        for c in bulletin_columns[1:]
    )
    upsert_bulletin = _upsert_sql("bulletins", bulletin_columns, ["id"], update)

    _enable_foreign_keys(db)
    with db.atomic():
        exists = db.execute("SELECT 1 FROM bulletins WHERE id = ?", [bulletin_id]).fetchone()
        # The bulletins row first (the versions refer to it), then the old values are kept
        # (when a document changed) before the old child rows go.
        db.execute(upsert_bulletin, rows["bulletins"][0])
        _keep_version(db, bulletin_id, document_ids, rows["bulletins"][0], existed=bool(exists))
        _delete_bulletin_children(db, bulletin_id)
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


# --- versions of a bulletin -----------------------------------------------------------------


def _keep_rows(
    db: sqlite_utils.Database,
    live: str,
    kept: str,
    bulletin_id: str,
    version_id: str,
    version: int,
) -> None:
    """Copy a bulletin's rows of ``live`` into ``kept`` (see _superseded_spec) as ``version``.

    The row id becomes the version id plus the row's position ("x-1@1:0003").
    """
    copied = [
        c for c in _SPECS[kept].columns if c not in ("id", "version_id", "bulletin_id", "version")
    ]
    names = ", ".join(_quote(c) for c in ["id", "version_id", "bulletin_id", "version", *copied])
    values = ", ".join(f"r.{_quote(c)}" for c in copied)
    db.execute(
        f"INSERT INTO {_quote(kept)} ({names})"
        " SELECT ? || substr(r.id, length(r.bulletin_id) + 1), ?, r.bulletin_id, ?,"
        f" {values} FROM {_quote(live)} AS r WHERE r.bulletin_id = ?",
        [version_id, version_id, version, bulletin_id],
    )


def _keep_version(
    db: sqlite_utils.Database,
    bulletin_id: str,
    document_ids: Mapping[str, str],
    bulletin_row: Mapping[str, Any],
    *,
    existed: bool,
) -> None:
    """Record which documents this write reads; a new set of documents is a new version.

    The same documents parsed again (a better parser, a rebuild) stay the same version. When a
    document changed, the version being replaced keeps its stated and derived metric values
    in superseded_metrics and superseded_breakdowns, so that both versions' values stay.
    Runs inside write_bulletin's transaction, before the old rows are deleted.
    """
    documents = _json(dict(sorted(document_ids.items())))
    doc_ids = sorted(set(document_ids.values()))
    seen_at = db.execute(
        f"SELECT max(ingested_at) FROM documents WHERE id IN ({', '.join('?' for _ in doc_ids)})",
        doc_ids,
    ).fetchone()[0]
    current = db.execute(
        "SELECT id, version, documents FROM bulletin_versions"
        " WHERE bulletin_id = ? AND superseded_at IS NULL ORDER BY version DESC LIMIT 1",
        [bulletin_id],
    ).fetchone()
    if current is not None and sorted(set(json.loads(current[2]).values())) == doc_ids:
        db.execute(
            "UPDATE bulletin_versions SET title = ?, period_label = ? WHERE id = ?",
            [bulletin_row["title"], bulletin_row["period_label"], current[0]],
        )
        return
    if current is None and existed:
        # Archived before versions were kept: its stored rows become version 1.
        stored = db.execute(
            "SELECT document_id, name FROM bulletin_documents WHERE bulletin_id = ?",
            [bulletin_id],
        ).fetchall()
        old_ids = sorted({d for d, _ in stored})
        if old_ids == doc_ids:
            current = None  # the same documents: this write is version 1 itself
        else:
            db.execute(
                "INSERT INTO bulletin_versions (id, bulletin_id, version, documents, seen_at)"
                " VALUES (?, ?, 1, ?, (SELECT max(ingested_at) FROM documents WHERE id IN"
                f" ({', '.join('?' for _ in old_ids)})))",
                [f"{bulletin_id}@1", bulletin_id, _json(dict(sorted((n, d) for d, n in stored))),
                 *old_ids],
            )  # fmt: skip
            current = (f"{bulletin_id}@1", 1, None)
    version = 1
    if current is not None:
        version_id, old_version = current[0], current[1]
        version = old_version + 1
        db.execute(
            "UPDATE bulletin_versions SET superseded_at = ? WHERE id = ?", [seen_at, version_id]
        )
        for live, kept in (
            ("metrics", "superseded_metrics"),
            ("breakdowns", "superseded_breakdowns"),
        ):
            _keep_rows(db, live, kept, bulletin_id, version_id, old_version)
    db.execute(
        "INSERT INTO bulletin_versions (id, bulletin_id, version, documents, seen_at, title,"
        " period_label) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [f"{bulletin_id}@{version}", bulletin_id, version, documents, seen_at,
         bulletin_row["title"], bulletin_row["period_label"]],
    )  # fmt: skip


# --- runs and takedowns ---------------------------------------------------------------------

RUN_STATUSES = ("running", "ok", "partial", "errors", "interrupted")
RUN_SOURCE_STATUSES = ("ok", "partial", "error")


def start_run(db: sqlite_utils.Database, *, command: str, started_at: str, full_walk: bool) -> int:
    """A new runs row (status running); returns its id.

    Runs left "running" by an earlier process are marked "interrupted": the caller holds the
    archive's lock, so no other run can still be going.
    """
    _require_shape(db)
    with db.atomic():
        db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        cursor = db.execute(
            "INSERT INTO runs (command, full_walk, started_at, status) VALUES (?, ?, ?, 'running')",
            [command, int(full_walk), started_at],
        )
    return int(cursor.lastrowid)


def record_run_source(
    db: sqlite_utils.Database,
    run_id: int,
    report: Mapping[str, Any],
    *,
    started_at: str,
    ended_at: str,
) -> None:
    """The run_sources row of one source's part of a run (``report``: SourceReport.to_json())."""
    _require_shape(db)
    failures = list(report.get("failures") or [])
    status = "error" if report.get("error") else "partial" if failures else "ok"
    row = {
        "id": f"{run_id}:{report['source']}",
        "run_id": run_id,
        "source": report["source"],
        "started_at": started_at,
        "ended_at": ended_at,
        "status": status,
        "requests": report.get("requests", 0),
        "not_modified": report.get("not_modified", 0),
        "new_documents": report.get("new_documents", 0),
        "changed_documents": report.get("changed_documents", 0),
        "new_bulletins": report.get("new_bulletins", 0),
        "updated_bulletins": report.get("updated_bulletins", 0),
        "skipped": len(report.get("skipped") or []),
        "failed": len(failures),
        "taken_down": len(report.get("taken_down") or []),
        "error": report.get("error"),
        "failures": _json(failures) if failures else None,
    }
    columns = list(row)
    update = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c != "id")
    _enable_foreign_keys(db)
    with db.atomic():
        db.execute(_upsert_sql("run_sources", columns, ["id"], update), row)


def finish_run(db: sqlite_utils.Database, run_id: int, *, ended_at: str, exit_code: int) -> None:
    """Close a run: its end, exit code, status and the totals of its run_sources rows."""
    _require_shape(db)
    status = {0: "ok", 1: "partial"}.get(exit_code, "errors")
    with db.atomic():
        db.execute(
            """UPDATE runs SET ended_at = :ended_at, exit_code = :exit_code, status = :status,
            sources = (SELECT count(*) FROM run_sources WHERE run_id = :id),
            requests = (SELECT coalesce(sum(requests), 0) FROM run_sources WHERE run_id = :id),
            new_documents = (SELECT coalesce(sum(new_documents), 0) FROM run_sources WHERE run_id = :id),
            changed_documents = (SELECT coalesce(sum(changed_documents), 0) FROM run_sources WHERE run_id = :id),
            new_bulletins = (SELECT coalesce(sum(new_bulletins), 0) FROM run_sources WHERE run_id = :id),
            updated_bulletins = (SELECT coalesce(sum(updated_bulletins), 0) FROM run_sources WHERE run_id = :id),
            failed = (SELECT coalesce(sum(failed), 0) FROM run_sources WHERE run_id = :id),
            errors = (SELECT count(*) FROM run_sources WHERE run_id = :id AND status = 'error'),
            taken_down = (SELECT coalesce(sum(taken_down), 0) FROM run_sources WHERE run_id = :id)
            WHERE id = :id""",
            {"ended_at": ended_at, "exit_code": exit_code, "status": status, "id": run_id},
        )


def record_takedown(
    db: sqlite_utils.Database,
    *,
    url: str,
    source: str,
    reason: str,
    checked_at: str,
    bulletin_id: str | None = None,
    document_id: str | None = None,
) -> bool:
    """Note that an archived URL is no longer online (404/410, or gone from its listing).

    The archived copy is untouched. Returns True when this is news (the URL was online until
    now); a URL already known to be missing only gets its last_checked_at moved on.
    """
    _require_shape(db)
    _require_source(db, source)
    _enable_foreign_keys(db)
    with db.atomic():
        row = db.execute("SELECT back_online_at FROM takedowns WHERE url = ?", [url]).fetchone()
        if row is not None and row[0] is None:
            db.execute("UPDATE takedowns SET last_checked_at = ? WHERE url = ?", [checked_at, url])
            return False
        db.execute(
            "INSERT INTO takedowns (url, source, bulletin_id, document_id, reason, missing_since,"
            " last_checked_at, back_online_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)"
            " ON CONFLICT (url) DO UPDATE SET source = excluded.source,"
            " bulletin_id = excluded.bulletin_id, document_id = excluded.document_id,"
            " reason = excluded.reason, missing_since = excluded.missing_since,"
            " last_checked_at = excluded.last_checked_at, back_online_at = NULL",
            [url, source, bulletin_id, document_id, reason, checked_at, checked_at],
        )
    return True


def record_back_online(
    db: sqlite_utils.Database, url: str, *, checked_at: str, reasons: Sequence[str] | None = None
) -> bool:
    """A URL recorded as missing answers again (or is listed again); True when it was missing.

    ``reasons`` limits it to takedowns of those reasons (being listed again says nothing about
    a URL that answered 404).
    """
    _require_shape(db)
    sql = "UPDATE takedowns SET back_online_at = ?, last_checked_at = ? WHERE url = ?"
    sql += " AND back_online_at IS NULL"
    params: list[Any] = [checked_at, checked_at, url]
    if reasons:
        sql += f" AND reason IN ({', '.join('?' for _ in reasons)})"
        params += list(reasons)
    with db.atomic():
        cursor = db.execute(sql, params)
    return cursor.rowcount > 0


# --- completeness calendar ----------------------------------------------------------------


def _default_as_of(db: sqlite_utils.Database) -> str | None:
    """The date the archive was last fed: max fetched_at, else max ingested_at, else the latest
    bulletin date. Never the clock, so that building twice gives the same rows."""
    for sql in (
        "SELECT max(fetched_at) FROM documents",
        "SELECT max(ingested_at) FROM documents",
        "SELECT max(published_date) FROM bulletins",
        "SELECT max(period_end) FROM bulletins",
    ):
        value = db.execute(sql).fetchone()[0]
        if completeness.parse_date(value) is not None:
            return value[:10]
    return None


def calendar_rows(
    source: str, calendar: completeness.SourceCalendar
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The source_calendars row and the calendar_periods rows of one source's calendar."""
    cadence = calendar.cadence.name
    summary = {
        "source": source,
        "cadence": cadence,
        "basis": calendar.cadence.basis,
        "first_period": calendar.first_period,
        "last_expected": calendar.last_expected,
        "expected": calendar.expected,
        "found": calendar.found,
        "missing": calendar.missing,
        "median_lag_days": calendar.median_lag_days,
        "grace_days": calendar.grace_days,
        "grace_basis": calendar.grace_basis,
        "as_of": calendar.as_of,
    }
    periods = [
        {
            "id": f"{source}:{p.period_label}",
            "source": source,
            "cadence": cadence,
            "period_label": p.period_label,
            "period_start": p.period_start,
            "period_end": p.period_end,
            "due_date": p.due_date,
            "status": p.status,
            "bulletin_id": p.bulletin_ids[0] if p.bulletin_ids else None,
            "bulletin_count": len(p.bulletin_ids),
            "bulletin_ids": _json(list(p.bulletin_ids)) if p.bulletin_ids else None,
            "published_date": p.published_date,
            "lag_days": p.lag_days,
        }
        for p in calendar.periods
    ]
    return summary, periods


def update_completeness(db: sqlite_utils.Database, as_of: str | None = None) -> None:
    """Replace source_calendars and calendar_periods (archive/completeness.py) in one transaction.

    One source_calendars row per source (bulletins or not), judged as of ``as_of`` (an ISO
    date or timestamp; default: the date of the latest documents.fetched_at, see
    _default_as_of). Without any date to judge by, both tables are left empty.
    """
    _require_shape(db)
    judged = as_of[:10] if as_of else _default_as_of(db)
    if judged is not None and completeness.parse_date(judged) is None:
        raise ValueError(f"as_of must be an ISO date: {as_of!r}")
    by_source: dict[str, list[completeness.BulletinPeriod]] = {
        slug: [] for (slug,) in db.execute("SELECT slug FROM sources ORDER BY slug").fetchall()
    }
    for row in db.execute(
        "SELECT id, source, period_type, period_start, period_end, published_date"
        " FROM bulletins ORDER BY source, id"
    ).fetchall():
        by_source.setdefault(row[1], []).append(
            completeness.BulletinPeriod(row[0], row[2], row[3], row[4], row[5])
        )
    summaries: list[dict[str, Any]] = []
    periods: list[dict[str, Any]] = []
    if judged is not None:
        for source, bulletins in by_source.items():
            summary, rows = calendar_rows(source, completeness.build_calendar(bulletins, judged))
            summaries.append(summary)
            periods.extend(rows)
    _enable_foreign_keys(db)
    with db.atomic():
        db.execute("DELETE FROM calendar_periods")
        db.execute("DELETE FROM source_calendars")
        _insert_rows(db, "source_calendars", summaries)
        _insert_rows(db, "calendar_periods", periods)
    logger.info(
        "completeness as of %s: %d sources, %d periods, %d missing",
        judged,
        len(summaries),
        len(periods),
        sum(1 for p in periods if p["status"] == completeness.MISSING),
    )
