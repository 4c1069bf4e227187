"""TRS WCM (拓尔思) column pages and articles.

A column's first page is ``<column>/index.html``; further pages are ``index_1.html``,
``index_2.html`` … (0-based: ``index_1.html`` is the second page). The static HTML has no links
to them: JavaScript ``createPageHTML(pageCount, currentIndex, "index", "html")`` writes the pager,
so the page count is read from that call. Newer templates pass the pager's element id first and
the record count last (``createPageHTML("page_div", 5, 0, "index", "html", 88)``).

Pagination convention: the first page (``currentIndex`` 0) lists every further page in
``next_pages``; later pages list none, so a walk gets the full list once.

Articles keep their text in ``div#zoom`` / ``.TRS_Editor`` / ``div#TRS_AUTOADD_…``; attachments
sit in the article's ``YYYYMM/`` folder as ``./P0<yyyymmdd><digits>.<ext>``, usually in a
``div.fj`` "附件：" block, and pictures are ``W0….jpg/png``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin

from ..base import Attachment, ListingPage, Source
from . import common

logger = logging.getLogger(__name__)

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")


def page_call(text: str) -> tuple[int, int, str, str] | None:
    """(page count, current index, file stem, extension) of a ``createPageHTML`` call, or None."""
    match = _CREATE_PAGE.search(text)
    if not match:
        return None
    args = [arg.strip().strip("'\"") for arg in match.group(1).split(",")]
    # The newer form starts with the pager element's id.
    if args and not args[0].isdigit():
        args = args[1:]
    if len(args) < 4 or not (args[0].isdigit() and args[1].isdigit()):
        logger.warning("unreadable createPageHTML call: %s", match.group(0))
        return None
    return int(args[0]), int(args[1]), args[2], args[3]


def parse_listing(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> ListingPage:
    """A TRS column page: its dated links, and on the first page the URLs of the others."""
    text = common.decode(data, content_type)
    soup = common.parse_html(text)
    items = common.listing_items(soup, url, source.quirks.get("list_selector"))
    call = page_call(text)
    if call is None:
        return ListingPage(items=items, next_pages=[], total_pages=None)
    count, current, stem, extension = call
    next_pages = (
        [urljoin(url, f"{stem}_{index}.{extension}") for index in range(1, count)]
        if current == 0
        else []
    )
    return ListingPage(items=items, next_pages=next_pages, total_pages=count)


def parse_attachments(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> list[Attachment]:
    """The files of a TRS article: ``.fj`` / 附件 links and the body's table pictures."""
    return common.parse_attachments(data, url, source, content_type)
