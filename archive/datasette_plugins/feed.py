"""Datasette plugin: Atom feeds that also work when a query finds nothing.

datasette-atom 0.9 renders ``.atom`` for any query returning atom_id, atom_title and
atom_updated (the canned query ``new_bulletins`` of metadata.yml), but fails with a server error
when there are no rows: it takes the feed's updated time from the newest row. A feed reader
subscribed to a source that has no bulletins yet (or to a mistyped slug) should get a valid
feed without entries, so this renderer hands rows to datasette-atom and answers an empty
result itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import datasette_atom
from datasette import hookimpl
from datasette.utils.asgi import Response
from feedgen.feed import FeedGenerator

logger = logging.getLogger(__name__)


def render_atom(
    datasette, request, sql, columns, rows, database, table, query_name, view_name, data
):
    """Render rows as Atom with datasette-atom; without rows, a feed that has no entries."""
    if rows or not datasette_atom.REQUIRED_COLUMNS.issubset(columns):
        return datasette_atom.render_atom(
            datasette, request, sql, columns, rows, database, table, query_name, view_name, data
        )
    title = request.args.get("_feed_title", sql)
    if query_name:
        queries = (datasette.metadata(database=database) or {}).get("queries") or {}
        title = (queries.get(query_name) or {}).get("title") or title
    fg = FeedGenerator()
    fg.id(request.url)
    fg.link(href=request.url, rel="self")
    fg.title(title)
    # Atom requires an updated time; with nothing to date the feed by, it is now.
    fg.updated(datetime.now(UTC))
    logger.debug("empty Atom feed for %s", request.url)
    return Response(
        fg.atom_str(pretty=True), content_type="application/xml; charset=utf-8", status=200
    )


# trylast: pluggy calls this after datasette-atom's hook, so Datasette, which keeps the last
# renderer registered for an extension, uses this one for .atom.
@hookimpl(trylast=True)
def register_output_renderer():
    return {
        "extension": "atom",
        "render": render_atom,
        "can_render": datasette_atom.can_render_atom,
    }
