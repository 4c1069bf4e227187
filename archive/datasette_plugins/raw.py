"""Datasette plugin: ``/-/raw/<sha256>`` serves an archived document byte for byte.

The government page may be gone; the archive keeps every fetched file under its sha256
(documents.id). This route looks the hash up in the served databases, reads the stored file
from the raw store beside the database file (or, for the bundled samples' ``samples/...``
paths, from the repository), checks that the bytes still hash to the id and returns them with
the content type they were served with. Anything else is a 404: only 64 hex digits are
accepted and a path is never taken from the request.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from datasette import hookimpl
from datasette.utils.asgi import Response

logger = logging.getLogger(__name__)

# This file is archive/datasette_plugins/raw.py. No import from the archive package: the plugin
# also runs where only the plugins folder is copied (datasette publish --plugins-dir).
REPO_ROOT = Path(__file__).resolve().parents[2]

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# documents.path of the bundled samples is relative to the repository, not to the database.
SAMPLES_PREFIX = "samples/"
CONTENT_TYPES = {
    "html": "text/html",
    "txt": "text/plain; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image": "application/octet-stream",
}
_DOCUMENT_SQL = """
select d.path, d.content_type, d.format, d.url, d.final_url,
  (select bd.name from bulletin_documents as bd where bd.document_id = d.id
   order by bd.bulletin_id limit 1) as name
from documents as d where d.id = ?
"""


class RawCopy(NamedTuple):
    """A stored document ready to send: its bytes, content type and file name."""

    body: bytes
    content_type: str
    filename: str


def stored_file(db_path: str | Path, relative: str) -> Path | None:
    """The stored file a documents.path names, or None when it is missing or outside the store."""
    if not relative or relative.startswith("/") or ".." in PurePosixPath(relative).parts:
        return None
    base = Path(db_path).resolve().parent
    if relative.startswith(SAMPLES_PREFIX) and not (base / relative).is_file():
        base = REPO_ROOT
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def download_name(sha256: str, name: str | None, url: str | None, file_format: str) -> str:
    """File name for Content-Disposition: the name the bulletin used, the URL's last segment, or the hash."""
    for candidate in (name, unquote(PurePosixPath(urlsplit(url or "").path).name)):
        candidate = (candidate or "").strip().replace("\\", "/").split("/")[-1]
        if candidate and candidate not in (".", ".."):
            return candidate
    suffix = "" if file_format in ("image", None) else f".{file_format}"
    return f"{sha256}{suffix}"


def content_disposition(filename: str) -> str:
    """An inline Content-Disposition header with the name percent-encoded (RFC 6266 / 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "document"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def find_raw_copy(datasette, sha256: str) -> RawCopy | None:
    """Look the document up in every served database with a documents table; None if not stored."""
    for name, database in datasette.databases.items():
        if name == "_internal" or database.path is None:
            continue
        if not await database.table_exists("documents"):
            continue
        row = (await database.execute(_DOCUMENT_SQL, [sha256])).first()
        if row is None:
            continue
        path = stored_file(database.path, row["path"] or "")
        if path is None:
            logger.warning("document %s: stored file %r is missing", sha256, row["path"])
            return None
        body = path.read_bytes()
        if hashlib.sha256(body).hexdigest() != sha256:
            # Never pass off other bytes as the archived copy.
            logger.error("document %s: %s no longer matches its hash", sha256, path)
            return None
        content_type = row["content_type"] or CONTENT_TYPES.get(
            row["format"], "application/octet-stream"
        )
        url = row["final_url"] or row["url"]
        return RawCopy(body, content_type, download_name(sha256, row["name"], url, row["format"]))
    return None


async def not_found(datasette, request, message: str) -> Response:
    """Datasette's 404 page (returned, not raised, so that no traceback is logged)."""
    html = await datasette.render_template(
        "error.html", {"ok": False, "error": message, "status": 404, "title": None}, request=request
    )
    return Response.html(html, status=404)


async def raw_copy(request, datasette) -> Response:
    """Serve /-/raw/<sha256>: the archived bytes with their stored content type, else 404."""
    sha256 = request.url_vars["sha256"]
    if not SHA256_HEX.fullmatch(sha256):
        return await not_found(datasette, request, "Not a document id (64 hex digits)")
    copy = await find_raw_copy(datasette, sha256.lower())
    if copy is None:
        return await not_found(datasette, request, f"No archived copy of {sha256}")
    headers = {
        "X-Content-Type-Options": "nosniff",
        # The copy is someone else's page: no scripts, no access to this site's origin.
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    if not copy.content_type.lower().startswith("text/html"):
        headers["Content-Disposition"] = content_disposition(copy.filename)
    return Response(copy.body, headers=headers, content_type=copy.content_type)


@hookimpl
def register_routes():
    """Add the /-/raw/<sha256> route."""
    return [(r"^/-/raw/(?P<sha256>[^/]+)$", raw_copy)]
