"""What the platform readers share: decoding, list items with their dates, pagers, attachments.

Everything here is pure: page bytes or parsed trees in, :mod:`scrapers.base` dataclasses out.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, Tag

from parsers.errors import ParseError
from parsers.html import decode_html

from ..base import Attachment, ListingItem, Source

logger = logging.getLogger(__name__)

DOCUMENT_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
        ".wps",
        ".et",
        ".zip",
        ".rar",
        ".png",
        ".jpg",
        ".jpeg",
    }
)
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})
# Hanweb serves attachments through /module/download/downfile.jsp?…&showname=&filename=.
HANWEB_DOWNLOAD = "downfile.jsp"

# Dates as printed next to list links: 2024-12-12, 2024/12/12, 2024.12.12, 2024年12月12日.
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_PAGE_COUNT = re.compile(r"共\s*(\d+)\s*[页頁]|(?<!\d)\d+\s*/\s*(\d+)\s*[页頁]")
_NUMBERED_PAGE = re.compile(r"^(?P<stem>[^/]*?)_(?P<number>\d+)\.(?P<ext>[A-Za-z]+)$")
_PAGER_CLASS = re.compile(r"^(page|pages|pager|paging|pagination|page_?box|page_?list|fenye|fy)$")
# Where an article keeps its text on the platforms of sites.md.
BODY_SELECTORS = (
    "#zoom",
    "#zoomcon",
    "#artibody",
    ".TRS_Editor",
    "[id^=TRS_AUTOADD]",
    ".article-content",
    ".content",
)
ATTACHMENT_BLOCK_SELECTORS = (".fj", ".attachment", ".attachments", "#fj", ".xgfj")
# A picture is a bulletin table or chart when its alt/caption says so.
_TABLE_PICTURE_WORDS = re.compile(r"附表|附图|统计表|统计图|图\s*\d|表\s*\d|圖\s*\d|附圖|統計")
_ICON_NAME = re.compile(r"logo|icon|ico_|banner|share|qrcode|ewm|erweima|^ga\.png$", re.I)


def decode(data: bytes, content_type: str | None) -> str:
    """Page bytes -> text, with the charset of the Content-Type header when it names one."""
    text, _charset = decode_html(data, content_type)
    return text


def parse_html(text: str) -> BeautifulSoup:
    """An HTML tree of a decoded page."""
    return BeautifulSoup(text, "lxml")


def squeeze(text: str) -> str:
    """Whitespace runs as one space, ends stripped (link texts span lines on real sites)."""
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def find_date(text: str) -> date | None:
    """The first valid full date in ``text``, or None."""
    for match in _DATE.finditer(text):
        year, month, day = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def _is_followable(href: str | None) -> bool:
    """A real link, not a script call, an anchor or a mail address."""
    if not href:
        return False
    lowered = href.strip().lower()
    return not lowered.startswith(("javascript:", "#", "mailto:", "tel:"))


def item_from_element(element: Tag, base_url: str, need_date: bool) -> ListingItem | None:
    """The list item a ``li``/``tr`` holds: its first link, and the date printed beside it."""
    link = next((a for a in element.find_all("a", href=True) if _is_followable(a["href"])), None)
    if link is None:
        return None
    # The title attribute holds the full title where the link text is cut short ("...").
    title = squeeze(link.get("title") or "") or squeeze(link.get_text(" "))
    if not title:
        return None
    # The date is looked for outside the link so that dates inside titles are not taken.
    outside = [
        str(text)
        for text in element.find_all(string=True)
        if not isinstance(text, Comment)
        and text.parent.name not in ("script", "style")
        and not any(parent is link for parent in text.parents)
    ]
    published = find_date(" ".join(outside))
    if published is None and need_date:
        return None
    return ListingItem(
        url=urljoin(base_url, link["href"].strip()), title=title, published=published
    )


def listing_items(
    root: Tag, base_url: str, container_selector: str | None = None
) -> list[ListingItem]:
    """The dated links of ``li``/``tr`` elements, in page order, without repeats.

    With a container selector (from a source's quirks), every ``li``/``tr`` with a link inside
    it is an item, dated or not; without one, only elements carrying a date count, which tells
    list items from navigation menus.
    """
    if container_selector:
        containers = root.select(container_selector)
        if not containers:
            raise ParseError(f"no element matches the list selector {container_selector!r}")
        elements = [el for container in containers for el in container.find_all(["li", "tr"])]
        need_date = False
    else:
        elements = root.find_all(["li", "tr"])
        need_date = True
    items: list[ListingItem] = []
    seen: set[str] = set()
    for element in elements:
        # A list inside a list item is read through its own elements.
        if element.find(["li", "tr"]):
            continue
        item = item_from_element(element, base_url, need_date)
        if item is not None and item.url not in seen:
            seen.add(item.url)
            items.append(item)
    return items


def find_pager(soup: BeautifulSoup, selector: str | None = None) -> Tag | None:
    """The pagination block: the quirks' selector, else the last element with a pager class/id."""
    if selector:
        found = soup.select(selector)
        return found[-1] if found else None
    candidates = [
        tag
        for tag in soup.find_all(True)
        if any(_PAGER_CLASS.match(word.lower()) for word in tag.get("class") or [])
        or _PAGER_CLASS.match((tag.get("id") or "").lower())
    ]
    return candidates[-1] if candidates else None


def page_count(pager: Tag | None) -> int | None:
    """The number of pages a pager states ("共5页", "1/5页"), or None."""
    if pager is None:
        return None
    match = _PAGE_COUNT.search(pager.get_text(" "))
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def numbered_pages(
    soup: BeautifulSoup,
    url: str,
    quirks: dict,
    default_stem: str = "index",
    default_first: int = 2,
) -> tuple[list[str], int | None]:
    """Further pages named ``<stem>_<n>.<ext>`` (Guangdong, Hunan, generic): (URLs, page count).

    The first page (the one not named ``<stem>_<n>``) lists every further page when the pager
    states the count ("共N页") or links the last page; a later page lists nothing then. When the
    count cannot be known, each page lists the pager links after itself, so a walk that skips
    URLs it has already queued still reaches every page.
    """
    pager = find_pager(soup, quirks.get("pager_selector"))
    if pager is None:
        return [], None
    stem = quirks.get("page_stem", default_stem)
    first = int(quirks.get("first_page_number", default_first))
    ext = quirks.get("page_extension")
    linked: dict[int, str] = {}
    for link in pager.find_all("a", href=True):
        if not _is_followable(link["href"]):
            continue
        absolute = urljoin(url, link["href"].strip())
        match = _NUMBERED_PAGE.match(PurePosixPath(urlsplit(absolute).path).name)
        if match and match["stem"] == stem:
            linked.setdefault(int(match["number"]), absolute)
            ext = ext or match["ext"]
    if ext is None:
        ext = PurePosixPath(urlsplit(url).path).suffix.lstrip(".") or "html"
    here = _NUMBERED_PAGE.match(PurePosixPath(urlsplit(url).path).name)
    current = int(here["number"]) if here and here["stem"] == stem else None
    stated = page_count(pager)
    total = stated
    # Without "共N页", a link to the last page ("尾页") still gives the count.
    if total is None and linked and any("尾" in a.get_text() for a in pager.find_all("a")):
        total = max(linked) - first + 2
    if total is not None:
        if current is not None:
            return [], total
        return [urljoin(url, f"{stem}_{n}.{ext}") for n in range(first, first + total - 1)], total
    after = [linked[n] for n in sorted(linked) if current is None or n > current]
    return after, None


def _extension(path: str) -> str:
    """The lower-case extension of a URL path or file name ('' if none)."""
    return PurePosixPath(path).suffix.lower()


def _decode_query_value(raw: str) -> str:
    """A percent-encoded query value as text: UTF-8, else GB18030 (older sites encode GBK)."""
    data = unquote_to_bytes(raw.replace("+", " "))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def hanweb_download(url: str) -> Attachment | None:
    """A Hanweb ``downfile.jsp`` link as an attachment named by its ``showname`` parameter."""
    parts = urlsplit(url)
    if PurePosixPath(parts.path).name != HANWEB_DOWNLOAD:
        return None
    # Values are decoded here rather than by parse_qsl, which would force one charset on them.
    values = {
        key: _decode_query_value(value)
        for key, _, value in (pair.partition("=") for pair in parts.query.split("&"))
    }
    showname = values.get("showname", "").strip()
    filename = values.get("filename", "").strip()
    if not showname and not filename:
        return None
    name = showname or PurePosixPath(filename).name
    # showname sometimes drops the extension the stored file has.
    if showname and not _extension(showname) and _extension(filename):
        name += _extension(filename)
    return Attachment(url=url, name=name)


def attachment_scopes(soup: BeautifulSoup, quirks: dict) -> list[Tag]:
    """The parts of an article page that hold its own files: body, ``.fj`` and 附件 blocks."""
    selectors = quirks.get("body_selectors") or BODY_SELECTORS
    scopes: list[Tag] = []
    for selector in selectors:
        found = soup.select(selector)
        if found:
            scopes.append(found[0])
            break
    for selector in ATTACHMENT_BLOCK_SELECTORS:
        scopes.extend(soup.select(selector))
    # A block that starts with "附件" (outside the body on some sites) holds the files after it.
    for text in soup.find_all(string=re.compile(r"^\s*附\s*件")):
        block = text.find_parent(["div", "p", "td", "ul", "table"])
        # A bare "附件：" heading: its files are in the blocks beside it.
        if block is not None and block.find("a") is None:
            block = block.parent
        if block is not None:
            scopes.append(block)
    if not scopes and soup.body is not None:
        scopes.append(soup.body)
    return scopes


def _nearby_text(image: Tag) -> str:
    """The alt/title of a picture and the text of its block and the blocks around it."""
    parts = [image.get("alt") or "", image.get("title") or ""]
    block = image.find_parent(["p", "div", "td", "figure"])
    if block is not None:
        parts.append(block.get_text(" "))
        for sibling in (block.find_previous_sibling(), block.find_next_sibling()):
            if isinstance(sibling, Tag):
                parts.append(sibling.get_text(" "))
    return " ".join(parts)


def is_table_picture(image: Tag, quirks: dict) -> bool:
    """Whether a picture in the body is one of the bulletin's tables or charts, not furniture."""
    src = image.get("src") or ""
    name = PurePosixPath(urlsplit(src).path).name
    if _extension(name) not in IMAGE_EXTENSIONS or _ICON_NAME.search(name):
        return False
    if quirks.get("table_images"):
        return True
    return bool(_TABLE_PICTURE_WORDS.search(_nearby_text(image)))


def attachments_in(scopes: list[Tag], base_url: str, quirks: dict) -> list[Attachment]:
    """The document links and table pictures inside the given blocks, in page order."""
    found: list[Attachment] = []
    seen: set[str] = set()

    def add(attachment: Attachment) -> None:
        if attachment.url not in seen:
            seen.add(attachment.url)
            found.append(attachment)

    for scope in scopes:
        for element in scope.find_all(["a", "img"]):
            if element.name == "a":
                href = element.get("href")
                if not _is_followable(href):
                    continue
                url = urljoin(base_url, href.strip())
                download = hanweb_download(url)
                if download is not None:
                    add(download)
                elif _extension(urlsplit(url).path) in DOCUMENT_EXTENSIONS:
                    name = squeeze(element.get_text(" ")) or squeeze(element.get("title") or "")
                    add(Attachment(url=url, name=name or PurePosixPath(urlsplit(url).path).name))
            elif element.get("src") and is_table_picture(element, quirks):
                url = urljoin(base_url, element["src"].strip())
                add(Attachment(url=url, name=PurePosixPath(urlsplit(url).path).name))
    return found


def parse_attachments(
    data: bytes, url: str, source: Source, content_type: str | None = None
) -> list[Attachment]:
    """The files an article page links from its body, ``.fj`` and 附件 blocks."""
    soup = parse_html(decode(data, content_type))
    return attachments_in(attachment_scopes(soup, source.quirks), url, source.quirks)
