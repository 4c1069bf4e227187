"""Datasette plugin: provenance one click away from any figure.

Every ``document_id`` cell (metrics, breakdowns, unit_rows, bulletin_tables,
bulletin_documents, query results) and every ``raw_url`` cell of a query is rendered as links
to the document's row, to its archived raw copy (``/-/raw/<sha256>``) and to the URL it was
fetched from. Only values that are 64 hex digits are linked and every text is escaped, so
nothing from the data becomes markup.

A URL the archive found no longer online (the takedowns table) says so wherever it is shown:
beside a document's source link and in the ``url`` column of bulletins, the comparison view and
documents, with the date it went missing; the archived copy stays one click away.
"""

from __future__ import annotations

import re

from datasette import hookimpl
from markupsafe import Markup, escape

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
RAW_URL = re.compile(r"/-/raw/([0-9a-f]{64})")
DOCUMENT_COLUMNS = ("document_id", "parent_id")
# Tables and views whose url column is a published page the archive may have seen go offline.
URL_TABLES = ("bulletins", "bulletin_comparison", "documents")
# Columns of the documents table that hold its own hash.
OWN_HASH_COLUMNS = ("sha256",)


def _link(href: str, text: str, title: str | None = None) -> str:
    title_attr = f' title="{escape(title)}"' if title else ""
    return f'<a href="{escape(href)}"{title_attr}>{escape(text)}</a>'


# (id(datasette), database, table) of the tables seen to exist: tables are never dropped, so a
# page of 1000 document cells asks SQLite once, not 1000 times.
_EXISTING: set[tuple[int, str, str]] = set()


async def _exists(datasette, database: str, table: str) -> bool:
    key = (id(datasette), database, table)
    if key in _EXISTING:
        return True
    if await datasette.get_database(database).table_exists(table):
        _EXISTING.add(key)
        return True
    return False


async def _document_source(
    datasette, database: str, sha256: str
) -> tuple[str | None, tuple[str, str] | None]:
    """The URL a document was fetched from, and (missing_since, reason) if it is no longer online.

    One query per document cell: a query page shows up to 1000 of them.
    """
    if not await _exists(datasette, database, "documents"):
        return None, None
    db = datasette.get_database(database)
    if await _exists(datasette, database, "takedowns"):
        sql = (
            "select coalesce(d.final_url, d.url), t.missing_since, t.reason from documents as d"
            " left join takedowns as t on t.url = d.url and t.back_online_at is null"
            " where d.id = ?"
        )
    else:
        sql = "select coalesce(final_url, url), null, null from documents where id = ?"
    row = (await db.execute(sql, [sha256])).first()
    if row is None:
        return None, None
    return row[0], ((row[1], row[2]) if row[1] else None)


async def _takedown(datasette, database: str, url: str) -> tuple[str, str] | None:
    """(missing_since, reason) when the archive found ``url`` no longer online."""
    if not await _exists(datasette, database, "takedowns"):
        return None
    row = (
        await datasette.get_database(database).execute(
            "select missing_since, reason from takedowns where url = ? and back_online_at is null",
            [url],
        )
    ).first()
    return (row[0], row[1]) if row else None


def _offline_note(missing_since: str, reason: str) -> str:
    day = (missing_since or "")[:10]
    return (
        f'<span class="offline" title="{escape(reason)}">'
        f"已下线 no longer online since {escape(day)} ({escape(reason)})</span>"
    )


async def document_links(datasette, database: str, sha256: str, with_row: bool = True) -> Markup:
    """Links for one document: its documents row, its raw copy and its source URL."""
    parts = []
    if with_row:
        row_path = datasette.urls.row(database, "documents", sha256)
        parts.append(_link(row_path, f"{sha256[:12]}…", sha256))
    parts.append(_link(datasette.urls.path(f"/-/raw/{sha256}"), "原件 raw copy"))
    url, gone = await _document_source(datasette, database, sha256)
    if url and url.startswith(("http://", "https://")):
        parts.append(_link(url, "来源 source", url))
        if gone:
            parts.append(_offline_note(*gone))
    return Markup(" · ".join(parts))


async def url_cell(datasette, database: str, url: str) -> Markup | None:
    """A published page's URL, with a note when the archive found it no longer online."""
    gone = await _takedown(datasette, database, url)
    if gone is None:
        return None  # Datasette's own rendering
    return Markup(f"{_link(url, url)} · {_offline_note(*gone)}")


@hookimpl
def render_cell(value, column, table, database, datasette):
    """Render document ids and raw-copy paths as provenance links; leave other cells alone."""
    if isinstance(value, dict):
        # Table pages pass an expanded foreign key as {"value": ..., "label": ...}.
        value = value.get("value")
    if not isinstance(value, str):
        return None
    if column in DOCUMENT_COLUMNS and SHA256_HEX.fullmatch(value):
        return document_links(datasette, database, value)
    if table == "documents" and column in OWN_HASH_COLUMNS and SHA256_HEX.fullmatch(value):
        return document_links(datasette, database, value, with_row=False)
    if column == "url" and table in URL_TABLES and value.startswith(("http://", "https://")):
        return url_cell(datasette, database, value)
    if column == "raw_url":
        match = RAW_URL.fullmatch(value)
        if match:
            return Markup(_link(datasette.urls.path(value), value))
    return None
