"""Build archive.db from stored documents: parse each one and hand it to the writer.

For now the stored documents are the bundled samples listed in
``samples/manifest.yml``; the scrapers' raw store will feed the same function.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import sqlite_utils
import yaml

from parsers import ParseError, detect_format, parse_document

from . import db as archive_db

logger = logging.getLogger(__name__)

# The bundled samples have no fetch time of their own: this is when they were bundled.
# A constant keeps `hotline build` reproducible (two runs, the same database).
SAMPLES_INGESTED_AT = "2026-11-22T00:00:00+00:00"
SOURCE_FIELDS = ("slug", "name", "province", "level", "division_code", "homepage", "platform")


@dataclass
class BuildReport:
    """What a build did."""

    documents: int = 0
    bulletins: int = 0
    failures: list[str] = field(default_factory=list)


def bulletin_id_for(source: str, url: str) -> str:
    """Stable id of the bulletin published at ``url``: the same page keeps its id across rebuilds."""
    return f"{source}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]}"


def load_manifest(samples_dir: Path) -> dict:
    """The samples manifest (sources and documents)."""
    with (samples_dir / "manifest.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def build_from_manifest(db_path: Path, samples_dir: Path) -> BuildReport:
    """Parse every document of the manifest into the archive at ``db_path``."""
    manifest = load_manifest(samples_dir)
    db = sqlite_utils.Database(db_path)
    archive_db.ensure_db_shape(db)
    for source in manifest.get("sources", []):
        archive_db.upsert_source(db, {k: source.get(k) for k in SOURCE_FIELDS if k in source})
    report = BuildReport()
    for entry in manifest.get("documents", []):
        path = samples_dir / entry["path"]
        name = PurePosixPath(entry["path"]).name
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.failures.append(f"{entry['path']}: cannot read: {exc}")
            continue
        report.documents += 1
        sha = hashlib.sha256(data).hexdigest()
        fmt = detect_format(data, name, entry.get("content_type"))
        try:
            bulletin = parse_document(data, name, entry.get("content_type"))
        except ParseError as exc:
            report.failures.append(f"{entry['path']}: {exc}")
            logger.error("%s: %s", entry["path"], exc)
            continue
        # The source is the issuer: its name is known, the text's own naming is only a guess.
        bulletin.issuer = next(
            (s["name"] for s in manifest["sources"] if s["slug"] == entry["source"]),
            bulletin.issuer,
        )
        with db.conn:
            doc_id = archive_db.upsert_document(
                db,
                url=entry.get("url"),
                final_url=entry.get("url"),
                source=entry["source"],
                path=str(PurePosixPath("samples") / entry["path"]),
                sha256=sha,
                size=len(data),
                format=fmt,
                content_type=entry.get("content_type"),
                fetched_at=None,
                ingested_at=SAMPLES_INGESTED_AT,
            )
        archive_db.write_bulletin(
            db,
            bulletin,
            bulletin_id=bulletin_id_for(entry["source"], entry.get("url") or sha),
            source=entry["source"],
            url=entry.get("url"),
            document_ids={name: doc_id},
        )
        report.bulletins += 1
        logger.info("%s: %d metrics", entry["path"], len(bulletin.metrics))
    # Judged as of the documents' own dates (not the clock), so a second build gives the same rows.
    archive_db.update_completeness(db)
    # Merge the full-text index's segments, so that a rebuild leaves the same index as a first build.
    with db.conn:
        db.execute("INSERT INTO bulletins_fts(bulletins_fts) VALUES('optimize')")
    return report


def rebuild_from_store(db_path: Path) -> BuildReport:
    """Parse every archived bulletin again from its stored documents (raw/ beside archive.db).

    For re-applying an improved parser: the documents are the unedited bodies the
    refreshes stored; each bulletin's rows are replaced in one transaction.
    """
    from parsers import DocumentInput, parse_bulletin

    db = sqlite_utils.Database(db_path)
    archive_db.ensure_db_shape(db)
    root = Path(db_path).resolve().parent
    names = {row["slug"]: row["name"] for row in db.query("select slug, name from sources")}
    report = BuildReport()
    for row in list(db.query("select id, source, url, title from bulletins order by id")):
        stored = list(
            db.query(
                "select bd.name, d.id, d.path, d.content_type from bulletin_documents bd"
                " join documents d on d.id = bd.document_id where bd.bulletin_id = ?"
                " order by bd.role != 'article', bd.name",
                [row["id"]],
            )
        )
        try:
            inputs = [
                DocumentInput(d["name"], (root / d["path"]).read_bytes(), d["content_type"])
                for d in stored
            ]
            bulletin = parse_bulletin(inputs)
        except (OSError, ParseError) as exc:
            report.failures.append(f"{row['id']}: {exc}")
            continue
        report.documents += len(stored)
        bulletin.issuer = names.get(row["source"], bulletin.issuer)
        bulletin.title = bulletin.title or row["title"]
        archive_db.write_bulletin(
            db,
            bulletin,
            bulletin_id=row["id"],
            source=row["source"],
            url=row["url"],
            document_ids={d["name"]: d["id"] for d in stored},
        )
        report.bulletins += 1
    archive_db.update_completeness(db)
    with db.conn:
        db.execute("INSERT INTO bulletins_fts(bulletins_fts) VALUES('optimize')")
    return report
