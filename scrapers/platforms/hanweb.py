"""Hanweb (大汉) jcms column pages, their ``dataproxy.jsp`` answers, and articles.

A column page inlines its first records as CDATA inside ``<script type="text/xml"><datastore>``;
its ``<nextgroup>`` names the data proxy (``/module/web/jpage/dataproxy.jsp``, older sites
``/module/jpage/dataproxy.jsp``) with the column's fields (appid, webid, path, columnid, unitid,
webname, permissiontype). The page's script asks the proxy for the following records with
``startrecord``/``endrecord``/``perpage`` (one request per group of ``perPage × groupSize``
records). A static ``index_1.html`` does not exist on these sites.

Requests: the further pages are GET URLs carrying the proxy's form fields (``col=1`` and the
nextgroup fields) in the query together with ``startrecord``, ``endrecord`` and ``perpage``.
The proxy reads its parameters the servlet way, from query and form alike, and the mirror merges
a POST's form into the query the same way, so GET and POST name the same answer.

Pagination convention: the column page lists every further request when it knows the record
count (``<totalrecord>`` in the datastore, or ``totalRecord`` in the pager script); otherwise it
lists the first one. A proxy answer (``<datastore>`` root with ``<totalrecord>``) lists the
requests after its own. A walk that skips URLs it has already queued reaches every record once.

Without a ``<nextgroup>``, the fields come from the source's quirks: ``columnid``, ``unitid``,
``webid``, ``appid``, ``perpage``, ``group_size``, ``proxy_path``, ``webname``, ``path``.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from parsers.errors import ParseError

from ..base import Attachment, ListingItem, ListingPage, Source
from . import common

logger = logging.getLogger(__name__)

DEFAULT_PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PER_PAGE = 15
DEFAULT_GROUP_SIZE = 3

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record\b[^>]*>(.*?)</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup\b[^>]*>(.*?)</nextgroup>", re.S | re.I)
_TOTAL_RECORD_TAG = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_TOTAL_PAGE_TAG = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)
_CDATA = re.compile(r"^\s*<!\[CDATA\[(.*)\]\]>\s*$", re.S)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
# The pager script's settings: $('#unitid').jpage({ totalRecord: 52, perPage: 15, groupSize: 3 })
_SCRIPT_NUMBER = r"\b{name}\b\s*[:=]\s*['\"]?(\d+)"
_XML_ROOT = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?<datastore\b", re.I)


def _unwrap(raw: str) -> str:
    """A CDATA section's content, or an escaped element's text unescaped."""
    match = _CDATA.match(raw)
    return match.group(1) if match else html.unescape(raw)


def _script_number(text: str, name: str) -> int | None:
    """A number the jpage pager script sets (``totalRecord: 52``), or None."""
    match = re.search(_SCRIPT_NUMBER.format(name=name), text, re.I)
    return int(match.group(1)) if match else None


def is_proxy_answer(text: str) -> bool:
    """Whether a decoded body is a ``dataproxy.jsp`` answer (an XML ``<datastore>`` root)."""
    return bool(_XML_ROOT.match(text))


def _records(datastore: str, base_url: str) -> list[ListingItem]:
    """The list items of a datastore's ``<record>`` elements, in order, without repeats."""
    items: list[ListingItem] = []
    seen: set[str] = set()
    for raw in _RECORD.findall(datastore):
        fragment = BeautifulSoup(_unwrap(raw), "lxml")
        elements = fragment.find_all(["li", "tr"]) or [fragment]
        for element in elements:
            item = common.item_from_element(element, base_url, need_date=False)
            if item is not None and item.url not in seen:
                seen.add(item.url)
                items.append(item)
    return items


def _proxy_fields(datastore: str, base_url: str, quirks: dict) -> tuple[str, list[tuple[str, str]]]:
    """The proxy URL (no query) and its column fields, from ``<nextgroup>`` or the quirks."""
    nextgroup = _NEXTGROUP.search(datastore)
    href = _HREF.search(_unwrap(nextgroup.group(1))) if nextgroup else None
    if href:
        target = urljoin(base_url, html.unescape(href.group(1)))
        parts = urlsplit(target)
        fields = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in ("page", "startrecord", "endrecord", "perpage")
        ]
        if not any(key == "col" for key, _ in fields):
            fields.insert(0, ("col", "1"))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), fields
    if "columnid" not in quirks:
        raise ParseError("Hanweb page without <nextgroup>, and no columnid in the quirks")
    fields = [("col", "1"), ("appid", str(quirks.get("appid", 1)))]
    for key in ("webid", "path", "columnid", "unitid", "webname"):
        if key in quirks:
            fields.append((key, str(quirks[key])))
    fields.append(("permissiontype", "0"))
    return urljoin(base_url, quirks.get("proxy_path", DEFAULT_PROXY_PATH)), fields


def proxy_url(
    proxy: str, fields: list[tuple[str, str]], start: int, end: int, per_page: int
) -> str:
    """The GET URL asking the proxy for records ``start``..``end`` (1-based, inclusive)."""
    query = [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(per_page))]
    return f"{proxy}?{urlencode(query + fields, quote_via=quote)}"


def _requests_after(
    proxy: str,
    fields: list[tuple[str, str]],
    first_missing: int,
    total: int,
    per_page: int,
    group: int,
) -> list[str]:
    """Proxy GET URLs for records ``first_missing``..``total``, one per group of records."""
    return [
        proxy_url(proxy, fields, start, start + group - 1, per_page)
        for start in range(first_missing, total + 1, group)
    ]


def _parse_proxy_answer(text: str, url: str) -> ListingPage:
    """A ``dataproxy.jsp`` answer: its records, and the requests after its own."""
    items = _records(text, url)
    total_match = _TOTAL_RECORD_TAG.search(text)
    pages_match = _TOTAL_PAGE_TAG.search(text)
    total_pages = int(pages_match.group(1)) if pages_match else None
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    if total_match is None or "startrecord" not in params or "endrecord" not in params:
        return ListingPage(items=items, next_pages=[], total_pages=total_pages)
    start, end = int(params["startrecord"]), int(params["endrecord"])
    per_page = int(params.get("perpage") or DEFAULT_PER_PAGE)
    fields = [(k, v) for k, v in query if k not in ("startrecord", "endrecord", "perpage")]
    proxy = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    group = end - start + 1
    next_pages = _requests_after(proxy, fields, end + 1, int(total_match.group(1)), per_page, group)
    return ListingPage(items=items, next_pages=next_pages, total_pages=total_pages)


def parse_listing(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> ListingPage:
    """A Hanweb column page or ``dataproxy.jsp`` answer: its records and the further requests."""
    text = common.decode(data, content_type)
    if is_proxy_answer(text):
        return _parse_proxy_answer(text, url)
    quirks = source.quirks
    # A page may carry several jpage lists (side columns): the quirks' unitid names the one.
    unit_at = text.find(f'id="{quirks["unitid"]}"') if "unitid" in quirks else -1
    match = _DATASTORE.search(text, max(unit_at, 0))
    if match is None:
        # Some column pages render the list as plain HTML: read it like any list page.
        logger.info("no <datastore> in %s: reading it as a plain list", url)
        soup = common.parse_html(text)
        items = common.listing_items(soup, url, quirks.get("list_selector"))
        return ListingPage(items=items, next_pages=[], total_pages=None)
    datastore = match.group(0)
    items = _records(datastore, url)
    shown = len(_RECORD.findall(datastore))
    per_page = _script_number(text, "perPage") or int(quirks.get("perpage", DEFAULT_PER_PAGE))
    group_size = _script_number(text, "groupSize") or int(
        quirks.get("group_size", DEFAULT_GROUP_SIZE)
    )
    group = per_page * group_size
    total_tag = _TOTAL_RECORD_TAG.search(datastore)
    total = int(total_tag.group(1)) if total_tag else _script_number(text, "totalRecord")
    total_pages = -(-total // per_page) if total is not None else None
    if total is not None and shown >= total:
        return ListingPage(items=items, next_pages=[], total_pages=total_pages)
    if total is None and shown < group:
        # Fewer records than one group: the column has no more.
        return ListingPage(items=items, next_pages=[], total_pages=1 if shown else None)
    proxy, fields = _proxy_fields(datastore, url, quirks)
    if total is None:
        next_pages = [proxy_url(proxy, fields, shown + 1, shown + group, per_page)]
    else:
        next_pages = _requests_after(proxy, fields, shown + 1, total, per_page, group)
    return ListingPage(items=items, next_pages=next_pages, total_pages=total_pages)


def parse_attachments(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> list[Attachment]:
    """The files of a Hanweb article: ``downfile.jsp`` links named by ``showname``, and others."""
    return common.parse_attachments(data, url, source, content_type)
