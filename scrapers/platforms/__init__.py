"""Platform readers: pure functions from a CMS's pages to listing items, further pages and files.

Each platform module has
``parse_listing(data, url, source, content_type=None) -> ListingPage`` and
``parse_attachments(data, url, source, content_type=None) -> list[Attachment]``.

- ``trs``: TRS WCM (``createPageHTML`` pagination, 0-based ``index_1.html``; ``./P0….docx``).
- ``hanweb``: Hanweb jcms (inline ``<datastore>`` records, ``dataproxy.jsp`` GET requests,
  ``downfile.jsp?…&showname=`` attachments).
- ``guangdong``: the Guangdong intensive platform (``index_2.html`` …).
- ``generic``: any ``li``/``tr`` list with dates and a numbered pager.
- ``hunan``: the Hunan platform, read the same way as ``generic`` (same functions).

Pagination convention, the same for all: ``next_pages`` is absolute URLs in walking order. A
page that knows how many pages there are lists all further pages when it is the first one and
none otherwise, so the walker gets the full list once; where the count is not known a page lists
the further pages it can see. The walker queues each URL it has not queued before.

A source may name other hosts' platforms in ``quirks["host_platforms"]`` (``{host: platform}``),
e.g. a news portal republishing a city's bulletins: :func:`platform_for` picks by the URL's host.
"""

from __future__ import annotations

from types import ModuleType
from urllib.parse import urlsplit

from ..base import Source
from . import generic, guangdong, hanweb, hunan, trs

PLATFORMS: dict[str, ModuleType] = {
    "trs": trs,
    "hanweb": hanweb,
    "guangdong": guangdong,
    "hunan": hunan,
    "generic": generic,
}


def get_platform(name: str) -> ModuleType:
    """The reader module of a platform name; KeyError naming the known ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(
            f"unknown platform {name!r}; known: {', '.join(sorted(PLATFORMS))}"
        ) from None


def platform_for(source: Source, url: str) -> ModuleType:
    """The reader for a page of ``source`` at ``url``: the host's own platform, else the source's."""
    host = (urlsplit(url).hostname or "").lower()
    return get_platform(source.quirks.get("host_platforms", {}).get(host, source.platform))
