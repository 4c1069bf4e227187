"""The Guangdong intensive platform (广东政府网站集约化), e.g. Zhanjiang.

Articles are ``/<column path>/content/post_<id>.html``; a column lists them as ``ul li a`` with
a ``span`` date; further pages are ``index_2.html``, ``index_3.html`` … (the first page has no
number). The page count is read from the pager ("共N页", or the 尾页 link) when it is there.

Pagination convention: as :mod:`scrapers.platforms.generic` (the first page lists every further
page when the count is known).
"""

from __future__ import annotations

from ..base import Attachment, ListingPage, Source
from . import common


def parse_listing(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> ListingPage:
    """A Guangdong column page: its ``li`` links with dates and its ``index_N.html`` pages."""
    soup = common.parse_html(common.decode(data, content_type))
    items = common.listing_items(soup, url, source.quirks.get("list_selector"))
    next_pages, total = common.numbered_pages(
        soup, url, source.quirks, default_stem="index", default_first=2
    )
    return ListingPage(items=items, next_pages=next_pages, total_pages=total)


def parse_attachments(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> list[Attachment]:
    """The files of a Guangdong article (``/attachment/…`` links in the body)."""
    return common.parse_attachments(data, url, source, content_type)
