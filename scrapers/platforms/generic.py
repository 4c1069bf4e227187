"""Any list page: ``li``/``tr`` elements with a link and a date, and a numbered pager.

Quirks (all optional): ``list_selector`` (CSS selector of the list container; every ``li``/``tr``
inside it is then an item, dated or not), ``pager_selector`` (CSS selector of the pager),
``page_stem`` / ``first_page_number`` / ``page_extension`` (further pages are
``<stem>_<n>.<ext>`` from ``first_page_number`` on; default ``index_2.html``, ``index_3.html`` …),
``body_selectors`` (where an article keeps its text), ``table_images`` (keep every picture in
the body as a table).

Pagination convention: when the pager states the page count ("共N页") or links the last page,
the first page lists every further page and later pages list none; otherwise each page lists
the numbered pager links after itself (a walk that skips URLs already queued reaches them all).
"""

from __future__ import annotations

from ..base import Attachment, ListingPage, Source
from . import common


def parse_listing(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> ListingPage:
    """A list page: its dated links and the further numbered pages its pager names."""
    soup = common.parse_html(common.decode(data, content_type))
    items = common.listing_items(soup, url, source.quirks.get("list_selector"))
    next_pages, total = common.numbered_pages(soup, url, source.quirks)
    return ListingPage(items=items, next_pages=next_pages, total_pages=total)


def parse_attachments(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> list[Attachment]:
    """The files an article links from its body, ``.fj`` and 附件 blocks."""
    return common.parse_attachments(data, url, source, content_type)
