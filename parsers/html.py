"""Bulletin web pages: decode the bytes, find the article body, read its text and tables.

Government sites run a handful of CMSs (TRS WCM, Hanweb jcms, provincial platforms): the
body sits in ``.TRS_Editor``, ``div#TRS_AUTOADD_…``, ``#zoom`` or between the Hanweb
``ContentStart``/``ContentEnd`` meta tags, and around it are navigation, an info line
(来源/发布时间/浏览量/字号), share and print buttons, related-links lists and a footer.
Only the body is returned, as plain text with one block per line; its tables are also
returned as :class:`Table` objects with merged header cells joined by "/".
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag

from .errors import ParseError
from .grid import joined_header, printed_rows
from .model import Table
from .normalize import parse_cell_number

logger = logging.getLogger(__name__)

# Parsing costs ~1.2 s and ~40 MB of memory per MB of markup: the cap bounds both (~25 s,
# ~1 GB), far above any bulletin page (well under 1 MB).
MAX_PAGE_BYTES = 20 * 1024 * 1024
# The parse tree costs ~1.4 KB per element: a flood of tiny tags ("<b>" * 5,000,000) would
# take gigabytes from a page under the byte cap. Bulletin pages hold a few thousand.
MAX_TAGS = 100_000
_TAG_START = re.compile(r"<[A-Za-z]")


@dataclass
class HtmlDocument:
    """What a bulletin page says: title, meta tags, publication date, body text and tables."""

    title: str | None
    meta: dict[str, str]
    published: str | None
    text: str
    tables: list[Table]
    charset: str


# --- decoding ------------------------------------------------------------------

# GB2312 and GBK pages routinely use characters outside their declared set; GB18030 is the
# superset every browser decodes them with.
_GB_LABELS = {
    "gb2312", "gb_2312", "gb_2312-80", "gbk", "x-gbk", "cp936", "ms936", "windows-936",
    "euc-cn", "x-euc-cn", "csgb2312", "chinese", "iso-ir-58", "csiso58gb231280", "gb18030",
}  # fmt: skip
# Browsers decode Big5 with the HKSCS extensions.
_BIG5_LABELS = {"big5", "big5-hkscs", "x-x-big5", "cn-big5", "csbig5", "cp950"}
_WEAK_HTTP_LABELS = {"iso-8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}

# Charsets accepted from detection: the ones Chinese pages are written in. Single-byte and
# EBCDIC guesses for undeclared bytes are decoding garbage, not a page.
_DETECTABLE = {"gb18030", "big5hkscs", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"}
_MARKUP = re.compile(r"<\s*[A-Za-z!/?]")
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""")
_BINARY_SIGNATURES = {
    b"%PDF": "PDF",
    b"PK\x03\x04": "ZIP/Office",
    b"\xd0\xcf\x11\xe0": "OLE/Office",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"\xff\xd8\xff": "JPEG",
}
_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
]


def canonical_charset(label: str | None) -> str | None:
    """A charset label as a Python codec name ('GB2312' -> 'gb18030'); None when unknown."""
    if not label:
        return None
    # Also accept a whole Content-Type value: "text/html; charset=GBK".
    name = label.lower().rsplit("charset=", 1)[-1].strip().strip("\"';").strip()
    if name in _GB_LABELS:
        return "gb18030"
    if name in _BIG5_LABELS:
        return "big5hkscs"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in {"gb2312", "gbk"}:
        return "gb18030"
    return codec


def _declared_charset(data: bytes) -> str | None:
    """The charset the page declares in <meta charset>, <meta http-equiv> or <?xml encoding>."""
    head = data[:32768]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii", "ignore")
    return None


def _decode_cleanly(data: bytes, charset: str) -> str | None:
    """The bytes decoded with this charset, or None when more than 1% of the characters fail."""
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        return None
    bad = text.count("\ufffd")
    if bad == 0:
        return text
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return text if bad * 100 <= non_ascii else None


def _has_controls(text: str) -> bool:
    """More than 0.5% control characters: binary data, not text."""
    controls = sum(1 for ch in text if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return controls * 200 > max(len(text), 1)


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Bytes -> (text, charset used): BOM, HTTP charset, page declaration, then detection."""
    if not data.strip():
        raise ParseError("empty page")
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise ParseError(f"not an HTML page: the bytes are a {kind} file")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            if _has_controls(text):
                raise ParseError(f"not a text page: control characters when decoded as {name}")
            return text.lstrip("\ufeff"), name

    http = canonical_charset(http_charset)
    # requests reports ISO-8859-1 for a Content-Type without charset: that label means "not
    # said", so it is used only when nothing else decodes the page.
    weak_http = http_charset is not None and http_charset.strip().lower() in _WEAK_HTTP_LABELS
    candidates = [
        c for c in (None if weak_http else http, canonical_charset(_declared_charset(data))) if c
    ]
    candidates.append("utf-8")
    if b"\x00" not in data:
        for charset in dict.fromkeys(candidates):
            text = _decode_cleanly(data, charset)
            if text is not None and not _has_controls(text):
                logger.debug("decoded with %s", charset)
                return text, charset
    try:
        text, charset = _detect(data)
    except ParseError:
        text = _decode_cleanly(data, http) if http and weak_http else None
        if text is None or _has_controls(text) or not _MARKUP.search(text):
            raise
        charset = http
    logger.debug("charset detected as %s", charset)
    return text, charset


def _detect(data: bytes) -> tuple[str, str]:
    """Decode bytes that declare no usable charset, with charset-normalizer's ranking."""
    from charset_normalizer import from_bytes

    for match in from_bytes(data):
        charset = canonical_charset(match.encoding)
        if charset not in _DETECTABLE:
            continue
        text = _decode_cleanly(data, charset)
        if text is not None and _MARKUP.search(text) and not _has_controls(text):
            return text, charset
    # Chinese government pages without a declaration are GB-encoded more often than not.
    text = _decode_cleanly(data, "gb18030") if b"\x00" not in data else None
    if text is not None and _MARKUP.search(text) and not _has_controls(text):
        return text, "gb18030"
    raise ParseError("not a text page: no charset decodes these bytes into HTML")


# --- text helpers ----------------------------------------------------------------

_CJK = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff"
# Ideographs plus CJK and full-width punctuation: a space between two of these is a line
# wrap in the source, never a word separator.
_WIDE = _CJK + "\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_NEWLINE_BETWEEN_CJK = re.compile(rf"(?<=[{_WIDE}])[ \t\r\f\v]*\n\s*(?=[{_WIDE}])")
_SPACE_BETWEEN_WIDE = re.compile(rf"(?<=[{_WIDE}])\s+(?=[{_WIDE}])")
_SPACES = re.compile(r"\s+")


def _clean_inline(raw: str) -> str:
    """One block's text: zero-width characters dropped, source line wraps closed, spaces collapsed."""
    text = _INVISIBLE.sub("", raw)
    # A source line break between Chinese characters renders as nothing (CSS Text 3).
    text = _NEWLINE_BETWEEN_CJK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _clean_cell(raw: str) -> str:
    """A table cell's text: spaces collapsed, wrap spaces inside Chinese names removed."""
    return _SPACE_BETWEEN_WIDE.sub("", _clean_inline(raw))


# --- DOM clean-up ------------------------------------------------------------------

_DROP_TAGS = [
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "rt", "rp", "input", "button", "select", "textarea", "option",
]  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# class/id words of page furniture that CMS templates put next to (or inside) the body.
_FURNITURE_CLASS = re.compile(
    r"(?:^|[-_])(?:share|bdshare|bdsharebuttonbox|fenxiang|print|dayin|close|guanbi|related|"
    r"relate|xgxx|xgwz|xglj|xgxw|xgyd|xgwj|tuijian|footer|foot|nav|navbar|crumb|crumbs|"
    r"breadcrumb|position|location|weizhi|pagination|pager|prevnext|sxp|sxy|qrcode|ewm|erweima|"
    r"toolbar|fontsize|zihao|copyright|banquan)(?:$|[-_])",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"^\s*[【\[]?\s*(?:相关链接|相关文章|相关焦点|相关阅读|相关新闻|相关信息|相关稿件|相关内容|"
    r"推荐阅读|延伸阅读|猜你喜欢|热点推荐|热门文章)\s*[】\]]?\s*[:：]?\s*$"
)


def _drop_invisible(root: Tag) -> None:
    """Remove scripts, styles, ruby pinyin (<rt>, <rp>), form controls and hidden elements."""
    for tag in root.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in root.find_all(style=_HIDDEN_STYLE):
        if not tag.decomposed:
            tag.decompose()
    for tag in root.find_all(attrs={"hidden": True}):
        if not tag.decomposed:
            tag.decompose()


def _class_words(tag: Tag) -> list[str]:
    """The tag's class names and id."""
    classes = tag.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    ident = tag.get("id")
    return [*classes, ident] if isinstance(ident, str) else list(classes)


def _drop_furniture(body: Tag) -> None:
    """Remove share/print/navigation/footer widgets and related-links blocks inside the body."""
    lengths = _text_lengths(body)
    body_text = _own_text_length(lengths, body)
    for tag in body.find_all(True):
        if tag.decomposed or tag.name in {"table", "tbody", "thead", "tr", "td", "th"}:
            continue
        is_furniture = tag.name in {"nav", "footer"} or any(
            _FURNITURE_CLASS.search(word) for word in _class_words(tag)
        )
        # A widget is small: a class word on a container holding much of the body is a
        # coincidence (id="print_content"), not furniture.
        if is_furniture and _own_text_length(lengths, tag) < 0.3 * body_text:
            tag.decompose()
    _drop_info_blocks(body)
    for string in body.find_all(string=_RELATED_HEADING):
        if not isinstance(string, NavigableString) or string.parent is None:
            continue
        _drop_related_block(string, body)


def _drop_info_blocks(body: Tag) -> None:
    """Remove the smallest elements holding an info line (来源：… 发布时间：… 浏览次数：…).

    Removing the element, not just the line, also removes a counter printed in a block of
    its own after its label, and the metadata table of 政府信息公开 pages (索引号, 发布机构).
    """
    info_blocks = []
    for tag in body.find_all(True):
        text = tag.get_text("")
        if len(text) <= 300 and "。" not in text and len(_INFO_LABELS.findall(text)) >= 2:
            info_blocks.append(tag)
    for tag in info_blocks:
        if not tag.decomposed and not any(
            other is not tag and tag in other.parents for other in info_blocks
        ):
            tag.decompose()


def _drop_related_block(heading_text: NavigableString, body: Tag) -> None:
    """Remove a related-links heading and the link list that follows it."""
    heading = heading_text.parent
    while heading is not body and heading.parent is not body and heading.name in _INLINE_TAGS:
        heading = heading.parent
    if heading is body:
        heading_text.extract()
        return
    container = heading.parent
    if container is not None and container is not body:
        lengths = _text_lengths(container)
        total, links = lengths[id(container)]
        heading_length = len(_SPACES.sub("", heading.get_text()))
        if total and links >= 0.6 * (total - heading_length):
            container.decompose()
            return
    for sibling in list(heading.next_siblings):
        if isinstance(sibling, Tag):
            total, links = _text_lengths(sibling)[id(sibling)]
            if total and links < 0.6 * total:
                break
            sibling.decompose()
        elif isinstance(sibling, NavigableString) and sibling.strip():
            break
    heading.decompose()


# --- finding the body ---------------------------------------------------------------

_CMS_BODY_SELECTORS = [".TRS_Editor", "div[id^=TRS_AUTOADD_]", "#zoom"]
_GENERIC_BODY_SELECTORS = [
    ".article-content", ".article_content", ".articleContent", "#ArticleContent",
    ".art-content", ".news-content", ".news_content", ".newsContent", ".detail-content",
    ".content-text", ".contentText", ".main-txt", ".pages_content", ".xl-content", "#content",
    ".content", ".zw", "#zw", ".detail", ".article", "#article", "article", ".view", ".con",
]  # fmt: skip
_CONTENT_MARKERS = re.compile(
    r"""<meta\b[^>]*?name\s*=\s*["']?ContentStart\b[^>]*>(.*?)"""
    r"""<meta\b[^>]*?name\s*=\s*["']?ContentEnd\b""",
    re.IGNORECASE | re.DOTALL,
)
_CONTAINER_TAGS = {
    "div", "section", "article", "main", "td", "table", "tbody", "tr", "center", "form", "font",
    "span", "body",
}  # fmt: skip
_MIN_BODY_CHARS = 10


def _text_lengths(root: Tag) -> dict[int, tuple[int, int]]:
    """For every tag under root (by id): (characters of text, characters of link text)."""
    lengths: dict[int, tuple[int, int]] = {}
    # An explicit stack, not recursion: broken pages nest thousands of unclosed tags deep.
    # Each entry: the tag, its children still to visit, whether inside a link, its sums.
    stack: list[tuple[Tag, Iterator[PageElement], bool, list[int]]] = [
        (root, iter(root.children), root.name == "a", [0, 0])
    ]
    while stack:
        node, children, in_link, sums = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            lengths[id(node)] = (sums[0], sums[1])
            if stack:
                parent_sums = stack[-1][3]
                parent_sums[0] += sums[0]
                parent_sums[1] += sums[1]
        elif isinstance(child, Tag):
            stack.append((child, iter(child.children), in_link or child.name == "a", [0, 0]))
        elif type(child) is NavigableString:
            count = len(_SPACES.sub("", child))
            sums[0] += count
            sums[1] += count if in_link else 0
    return lengths


def _own_text_length(lengths: dict[int, tuple[int, int]], tag: Tag) -> int:
    """Characters of non-link text under the tag."""
    total, links = lengths.get(id(tag), (0, 0))
    return total - links


def _tighten(node: Tag, lengths: dict[int, tuple[int, int]]) -> Tag:
    """Descend into the child container that holds nearly all of the node's non-link text."""
    while True:
        own = _own_text_length(lengths, node)
        children = [c for c in node.find_all(True, recursive=False) if c.name in _CONTAINER_TAGS]
        if not children or own == 0:
            break
        best = max(children, key=lambda c: _own_text_length(lengths, c))
        if _own_text_length(lengths, best) < 0.8 * own:
            break
        node = best
    # Stopping inside a table's rows would lose the table: keep the table whole.
    while node.name in {"table", "tbody", "thead", "tfoot", "tr"} and node.parent is not None:
        node = node.parent
    return node


def _pick_largest(candidates: list[Tag], lengths: dict[int, tuple[int, int]]) -> Tag | None:
    """The candidate with most non-link text, if it has some and is not mostly links."""
    usable = []
    for tag in candidates:
        total, links = lengths.get(id(tag), (0, 0))
        if total - links >= _MIN_BODY_CHARS and links <= 0.5 * total:
            usable.append(tag)
    if not usable:
        return None
    return max(usable, key=lambda t: _own_text_length(lengths, t))


def _simple_selector_matches(root: Tag, selectors: list[str]) -> list[Tag]:
    """``root.select(selector)`` for each simple selector (".class", "#id" or a tag name) in
    turn, concatenated, from one walk of the tree: one ``select`` per selector costs a walk
    each, which on a large page is most of the parse."""
    indexes: dict[tuple[str, str], list[int]] = {}
    for index, selector in enumerate(selectors):
        kind = selector[0] if selector[0] in ".#" else ""
        indexes.setdefault((kind, selector.lstrip(".#")), []).append(index)
    found: list[list[Tag]] = [[] for _ in selectors]
    for tag in root.find_all(True):
        keys = [(".", word) for word in (tag.get("class") or [])]
        ident = tag.get("id")
        if isinstance(ident, str):
            keys.append(("#", ident))
        keys.append(("", tag.name))
        for index in sorted({i for key in keys for i in indexes.get(key, ())}):
            found[index].append(tag)
    return [tag for matches in found for tag in matches]


def _find_body(soup: BeautifulSoup, html: str) -> tuple[Tag, str, str]:
    """The article body element, the page text before it, and the rule that found it."""
    markers = _CONTENT_MARKERS.search(html)
    if markers:
        fragment = BeautifulSoup(f"<div>{markers.group(1)}</div>", "lxml")
        _drop_invisible(fragment)
        root = fragment.find("div")
        if isinstance(root, Tag):
            lengths = _text_lengths(root)
            if _own_text_length(lengths, root) >= _MIN_BODY_CHARS:
                before = BeautifulSoup(html[: markers.start()], "lxml")
                _drop_invisible(before)
                return root, before.get_text("\n"), "ContentStart/ContentEnd"

    page = soup.body or soup
    lengths = _text_lengths(page)
    body: Tag | None = None
    rule = ""
    cms = [tag for selector in _CMS_BODY_SELECTORS for tag in page.select(selector)]
    body = _pick_largest(cms, lengths)
    if body is not None:
        rule = "CMS container"
        # An outer CMS container (#zoom) with clearly more text than the inner one
        # (.TRS_Editor) holds body parts the editor div left out.
        for outer in cms:
            if outer is not body and body in outer.descendants:
                outer_own = _own_text_length(lengths, outer)
                if outer_own > 1.2 * _own_text_length(lengths, body) + 50:
                    body = outer
    if body is None:
        generic = _simple_selector_matches(page, _GENERIC_BODY_SELECTORS)
        found = _pick_largest(generic, lengths)
        if found is not None:
            body, rule = _tighten(found, lengths), "article container"
    if body is None:
        body, rule = _tighten(page, lengths), "text density"
    before = "\n".join(
        reversed([s for s in body.find_all_previous(string=True) if type(s) is NavigableString])
    )
    return body, before, rule


# --- rendering blocks and tables ----------------------------------------------------

_INLINE_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i",
    "img", "kbd", "label", "mark", "nobr", "q", "ruby", "s", "samp", "small", "span", "strike",
    "strong", "sub", "sup", "time", "tt", "u", "var", "wbr", "o:p", "st1:chsdate",
}  # fmt: skip


@dataclass
class _Line:
    """One rendered block: its text, how much of it is link text, and its table if any."""

    text: str
    link_chars: int = 0
    table: int | None = None  # index into the rendered tables for table rows

    @property
    def link_ratio(self) -> float:
        return self.link_chars / max(len(self.text), 1)


@dataclass
class _Cell:
    """A table cell as printed, with the row it starts in and its spans."""

    text: str
    is_header: bool
    row: int
    rowspan: int
    colspan: int


@dataclass
class _RenderedTable:
    """A data table read from the DOM: rows as printed, joined header, body rows, title hint."""

    printed: list[list[str]]
    title_hint: str | None
    header: list[str]
    rows: list[list[str]]


class _Renderer:
    """Walks a body element and turns it into lines; data tables become Table grids."""

    def __init__(self) -> None:
        self.lines: list[_Line] = []
        self.tables: list[_RenderedTable] = []
        self._parts: list[str] = []
        self._link_chars = 0

    def flush(self) -> None:
        text = _clean_inline("".join(self._parts))
        if text:
            self.lines.append(_Line(text, min(self._link_chars, len(text))))
        self._parts = []
        self._link_chars = 0

    def walk(self, node: Tag, in_link: bool = False) -> None:
        # An explicit stack, not recursion: broken pages nest thousands of unclosed tags deep.
        # Each entry: the children still to visit, whether inside a link, flush when done.
        stack: list[tuple[Iterator[PageElement], bool, bool]] = [
            (iter(node.children), in_link, False)
        ]
        while stack:
            children, link, block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if block:
                    self.flush()
            elif type(child) is NavigableString:
                self._parts.append(str(child))
                if link:
                    self._link_chars += len(_SPACES.sub("", child))
            elif isinstance(child, Tag):
                name = child.name
                if name == "br":
                    self.flush()
                elif name == "table":
                    self.flush()
                    self.table(child)
                elif name in _INLINE_TAGS or ":" in name:
                    stack.append((iter(child.children), link or name == "a", False))
                else:
                    self.flush()
                    stack.append((iter(child.children), link, True))

    def table(self, element: Tag) -> None:
        parsed = _read_table(element)
        if parsed is None:
            # A layout table (nested tables, a single row or column): its cells are blocks.
            for cell in element.find_all(["td", "th", "caption"]):
                if cell.find_parent("table") is element:
                    self.flush()
                    self.walk(cell)
                    self.flush()
            return
        index = len(self.tables)
        self.tables.append(parsed)
        for printed in parsed.printed:
            # A one-cell row (a title or note spanning the table) reads as a plain line.
            text = printed[0] if len(printed) == 1 else " ".join(f"{cell} |" for cell in printed)
            self.lines.append(_Line(text, table=index))


def _cell_text(cell: Tag) -> str:
    """The text of a table cell, blocks joined with spaces."""
    renderer = _Renderer()
    renderer.walk(cell)
    renderer.flush()
    return _clean_cell(" ".join(line.text for line in renderer.lines))


def _span(cell: Tag, attribute: str, limit: int) -> int:
    """A rowspan/colspan value, 1 when missing or malformed."""
    match = re.match(r"\s*(\d+)", str(cell.get(attribute) or ""))
    return max(1, min(int(match.group(1)), limit)) if match else 1


def _own_rows(table: Tag) -> list[Tag]:
    """The table's rows, not those of tables nested in its cells."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _in_head(tr: Tag, table: Tag) -> bool:
    """Whether the row is in its table's <thead> (the search stops at the table: a page
    nested thousands of tags deep must not be walked up for every row)."""
    for parent in tr.parents:
        if parent is table:
            return False
        if parent.name == "thead":
            return True
    return False


def _build_grid(table: Tag) -> list[list[_Cell | None]]:
    """Resolve rowspan/colspan into a full grid; spanned positions share one _Cell."""
    rows = _own_rows(table)
    grid: list[list[_Cell | None]] = [[] for _ in rows]
    for r, tr in enumerate(rows):
        in_head = _in_head(tr, table)
        c = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            rowspan = _span(td, "rowspan", len(rows) - r)
            colspan = _span(td, "colspan", 200)
            cell = _Cell(_cell_text(td), td.name == "th" or in_head, r, rowspan, colspan)
            for dr in range(rowspan):
                target = grid[r + dr]
                while len(target) < c + colspan:
                    target.append(None)
                for dc in range(colspan):
                    target[c + dc] = cell
            c += colspan
    width = max((len(row) for row in grid), default=0)
    for row in grid:
        row.extend([None] * (width - len(row)))
    return grid


def _text(cell: _Cell | None) -> str:
    return cell.text if cell is not None else ""


def _drop_empty(grid: list[list[_Cell | None]]) -> list[list[_Cell | None]]:
    """Remove rows and columns that are empty throughout."""
    grid = [row for row in grid if any(_text(cell) for cell in row)]
    if not grid:
        return grid
    keep = [c for c in range(len(grid[0])) if any(_text(row[c]) for row in grid)]
    return [[row[c] for c in keep] for row in grid]


def _is_full_width(row: list[_Cell | None]) -> bool:
    """A row that is one cell spanning the whole table (a title, unit or note line)."""
    return len(row) > 1 and row[0] is not None and all(cell is row[0] for cell in row)


def _is_figure(text: str) -> bool:
    return parse_cell_number(text) is not None


def _renumber(grid: list[list[_Cell | None]]) -> None:
    """Set each cell's start row and spans from the grid as it now stands."""
    rows_of: dict[int, list[int]] = {}
    cells: dict[int, _Cell] = {}
    for r, row in enumerate(grid):
        for cell in row:
            if cell is not None:
                cells[id(cell)] = cell
                seen = rows_of.setdefault(id(cell), [])
                if not seen or seen[-1] != r:
                    seen.append(r)
    for key, cell in cells.items():
        cell.row = rows_of[key][0]
        cell.rowspan = len(rows_of[key])
        cell.colspan = sum(1 for other in grid[cell.row] if other is cell)


def _header_row_count(grid: list[list[_Cell | None]]) -> int:
    """Leading rows that are header: th rows, rows without figures, rows under a header rowspan."""
    has_figures = [any(_is_figure(_text(cell)) for cell in row) for row in grid]
    all_th = [all(c.is_header for c in row if c is not None and c.text) for row in grid]
    # Some CMSs mark every cell as th: then th says nothing about the header.
    th_means_header = not all(all_th)
    count = reach = 0
    for r, row in enumerate(grid[:-1]):
        new_cells = list({id(c): c for c in row if c is not None and c.row == r}.values())
        texts = [c.text for c in new_cells if c.text]
        figures = sum(1 for text in texts if _is_figure(text))
        is_header = (
            r < reach
            or (bool(texts) and th_means_header and all_th[r])
            or (figures == 0 and any(has_figures[r + 1 :]))
            or (any(c.colspan > 1 for c in new_cells) and figures * 2 < len(texts))
        )
        if not is_header:
            break
        count = r + 1
        reach = max([reach] + [r + c.rowspan for c in new_cells])
    if count == 0 and not any(has_figures):
        count = 1
    return min(max(count, reach), len(grid) - 1)


def _read_table(element: Tag) -> _RenderedTable | None:
    """A data table's grid, header and body rows; None for layout tables."""
    if element.find("table") is not None:
        return None
    grid = _drop_empty(_build_grid(element))
    _renumber(grid)
    if len(grid) < 2 or len(grid[0]) < 2:
        return None
    printed = printed_rows(grid)
    caption = element.find("caption")
    title_hint = _clean_inline(caption.get_text(" ")) if isinstance(caption, Tag) else None
    # Full-width single-cell rows at the top are a title or a unit line, at the bottom a note.
    while grid and _is_full_width(grid[0]):
        text = _text(grid[0][0])
        if not title_hint and _looks_like_title(text):
            title_hint = text
        grid = grid[1:]
    while grid and _is_full_width(grid[-1]):
        grid = grid[:-1]
    if len(grid) < 2:
        return None
    _renumber(grid)
    header_rows = _header_row_count(grid)
    return _RenderedTable(
        printed=printed,
        title_hint=title_hint or None,
        header=joined_header(grid, header_rows),
        rows=[[_text(cell) for cell in row] for row in grid[header_rows:]],
    )


# --- noise lines and table titles ------------------------------------------------------

# Labels of the info line under a title; counted only when followed by a colon.
# Short generic labels (来源, 作者) count only when not the end of a longer word (诉求来源).
_INFO_LABELS = re.compile(
    r"(?:信息来源|文章来源|稿件来源|发布时间|发布日期|发布机构|发布者|更新时间|浏览量|浏览次数|访问量|"
    r"访问次数|点击数|点击量|点击率|阅读量|阅读次数|责任编辑|"
    rf"(?<![{_CJK}])(?:来源|作者|编辑|字号|字体))\s*[:：]"
)
_INFO_LINE_START = re.compile(
    r"^[【\[（(]?\s*(?:信息来源|文章来源|稿件来源|来源|发布时间|发布日期|更新时间|浏览量|浏览次数|访问量|"
    r"访问次数|点击数|点击量|阅读量|阅读次数|字号|字体|作者|责任编辑|编辑|分享到|分享|扫一扫)"
    r"\s*[:：]"
)
_BUTTON_WORDS = re.compile(
    r"打印本页|打印此页|打印文章|打印|关闭窗口|关闭本页|关闭|返回顶部|返回|收藏本页|收藏|分享到|分享|"
    r"新浪微博|腾讯微博|微博|微信|朋友圈|QQ空间|QQ|字号|字体|默认|扫一扫在手机打开当前页|扫一扫|"
    r"[大中小]|[\s【】\[\]()（）|:：/·>＞]"
)
_FOOTER = re.compile(
    r"版权所有|ICP备|ICP证|备案号|公网安备|网站标识码|技术支持\s*[:：]|主办单位\s*[:：]|^主办\s*[:：]|"
    r"建议使用.{0,30}(?:分辨率|浏览器)|Copyright|©"
)
_SITE_LINKS = re.compile(r"网站地图|联系我们|隐私声明|使用帮助|无障碍")
_NAVIGATION = re.compile(r"^(?:当前位置|您当前的位置|您的位置|您现在的位置|所在位置|位置)\s*[:：]")
_PREV_NEXT = re.compile(r"^[【\[]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[】\]]?\s*[:：]?")
_HAS_DATE = re.compile(r"\d{4}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}")
_BARE_VALUE = re.compile(r"^[\d,.:：\s/-]{1,20}$")
_ENDS_WITH_DATE = re.compile(r"\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?\s*[)）\]]?$")


def _is_noise(line: _Line) -> bool:
    """Page furniture: info line, buttons, navigation, footer, previous/next links."""
    text = line.text
    if len(text) <= 200 and (_FOOTER.search(text) or _NAVIGATION.search(text)):
        return True
    if len(text) <= 40 and _SITE_LINKS.search(text):
        return True
    if _PREV_NEXT.search(text):
        return True
    if len(text) <= 80 and _INFO_LINE_START.search(text):
        return True
    if len(text) <= 200 and "。" not in text and len(_INFO_LABELS.findall(text)) >= 2:
        return True
    if (
        len(text) <= 100
        and "。" not in text
        and _INFO_LABELS.search(text)
        and _HAS_DATE.search(text)
    ):
        return True
    return not _BUTTON_WORDS.sub("", text)


def _filter_lines(lines: list[_Line], title: str | None) -> list[_Line]:
    """Drop noise lines and related-links lists; table rows and the title line always stay."""
    kept: list[_Line] = []
    in_related = dropped_label = False
    for line in lines:
        if line.table is not None:
            in_related = False
            kept.append(line)
            continue
        if title and _SPACES.sub("", line.text) == _SPACES.sub("", title):
            in_related = False
            kept.append(line)
            continue
        if _RELATED_HEADING.match(line.text):
            in_related = True
            continue
        if in_related:
            if line.link_ratio >= 0.5 or _ENDS_WITH_DATE.search(line.text):
                continue
            in_related = False
        if _is_noise(line):
            dropped_label = line.text.endswith(("：", ":"))
            continue
        if dropped_label and _BARE_VALUE.match(line.text):
            # The value of a dropped label printed in its own block (浏览次数：\n1826).
            dropped_label = False
            continue
        dropped_label = False
        kept.append(line)
    return kept


_TITLE_WORDS = re.compile(
    r"^(?:附表|表)\s*[0-9一二三四五六七八九十]+|情况表|统计表|一览表|汇总表|明细表|排名表|排行榜|"
    r"情况$|排名$|统计$|情况[(（].*[)）]$"
)
_LEAD_IN_TAIL = re.compile(
    r"(?:具体情况|详细情况|具体|详细|详情)?(?:如下表|如下|见下表|详见下表|见表\s*\d*|详见表\s*\d*|附后)"
    r"[)）]?\s*[:：。]?\s*$"
)
_UNIT_LINE = re.compile(r"^[(（]?\s*(?:计量)?单位\s*[:：]")
_TABLE_NUMBER_LINE = re.compile(r"^(?:附表|表)\s*[0-9一二三四五六七八九十]+\s*[:：.、]?$")
_SENTENCE_BREAK = re.compile(r"[。；;！!？?，,：:]")


def _looks_like_title(text: str) -> bool:
    """A short line without sentence punctuation, or one that names a table."""
    if not text or len(text) > 80 or _UNIT_LINE.match(text) or text.endswith(("：", ":")):
        return False
    if _TITLE_WORDS.search(text):
        return True
    return len(text) <= 50 and not re.search(r"[。；;，,！!？?]", text) and not _is_figure(text)


def _title_from_lead_in(text: str) -> str | None:
    """'各县区办理情况如下表：' -> '各县区办理情况' (the last clause, lead-in words dropped)."""
    match = _LEAD_IN_TAIL.search(text)
    if not match:
        return None
    clause = _SENTENCE_BREAK.split(text[: match.start()].rstrip("：:，,"))[-1].strip()
    return clause if 2 <= len(clause) <= 50 else None


def _title_before(lines: list[_Line], position: int) -> str | None:
    """The table title from the lines before a table: a title line or a lead-in sentence."""
    previous = [line.text for line in lines[:position] if line.table is None]
    while previous and _UNIT_LINE.match(previous[-1]):
        previous.pop()
    if not previous:
        return None
    # Only the block right before counts: rows of an earlier table end the search.
    if position > 0 and lines[position - 1].table is not None:
        return None
    last = previous[-1]
    lead_in = _title_from_lead_in(last)
    if lead_in:
        return lead_in
    if _looks_like_title(last):
        if len(previous) > 1 and _TABLE_NUMBER_LINE.match(previous[-2]):
            return f"{previous[-2].rstrip('：:.、')} {last}"
        return last
    return None


def _clean_title(text: str | None) -> str | None:
    if not text:
        return None
    text = _SPACES.sub(" ", text).strip().rstrip("：:")
    return text or None


# --- meta, title, publication date ------------------------------------------------------

_DATE = (
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}秒?)?)?"
)
_PUBLISHED_LABELLED = re.compile(
    rf"(?:发布时间|发布日期|发稿时间|发文日期|公开日期|发表时间|发表日期|上传时间)\s*[:：]?\s*({_DATE})"
)
_DATE_LABELLED = re.compile(rf"(?:日期|时间)\s*[:：]\s*({_DATE})")
_SOURCE_LINE_DATE = re.compile(rf"来源\s*[:：][^\n]{{0,40}}?({_DATE})")
_PUBDATE_KEYS = ["pubdate", "publishdate", "publishtime", "firstpublishedtime", "publish_date"]
_SITE_SUFFIX = re.compile(r"(?:人民政府|政府网|门户网站|门户|网站|官网|政务网|政务服务网)$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\s[-–—|]\s|\|)\s*")


def _read_meta(soup: BeautifulSoup) -> dict[str, str]:
    """Every <meta name=… content=…> of the page, first occurrence wins."""
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if isinstance(name, str) and isinstance(content, str) and name.strip():
            meta.setdefault(name.strip(), content.strip())
    return meta


def _meta_value(meta: dict[str, str], keys: list[str]) -> str | None:
    lowered = {key.lower(): value for key, value in meta.items()}
    for key in keys:
        if lowered.get(key):
            return lowered[key]
    return None


def _page_title(soup: BeautifulSoup, meta: dict[str, str]) -> str | None:
    """<meta ArticleTitle>, else the article's <h1>/<h2>, else <title> without the site name."""
    article_title = _meta_value(meta, ["articletitle"])
    if article_title:
        return _clean_inline(article_title)
    head_title = soup.title.get_text() if soup.title else ""
    head_title = _clean_inline(head_title)
    site_names = {v for k, v in meta.items() if k.lower() in {"sitename", "columnname"} and v}
    headings = [_clean_inline(h.get_text()) for h in soup.find_all(["h1", "h2"])]
    headings = [h for h in headings if len(h) >= 6 and h not in site_names]
    for heading in headings:
        if head_title and heading in head_title:
            return heading
    if headings:
        # A site logo or a sidebar heading is shorter than an article title.
        return max(headings, key=len)
    if not head_title:
        return None
    parts = [part for part in _TITLE_SEPARATORS.split(head_title) if part]
    while len(parts) > 1 and (parts[-1] in site_names or _SITE_SUFFIX.search(parts[-1])):
        parts.pop()
    # What is left besides the article title is a column name, shorter than the title.
    return max(parts, key=len) if parts else None


def _published(meta: dict[str, str], before_body: str, page_text: str) -> str | None:
    """Meta PubDate, else the 发布时间 date near the title (before the body), else anywhere."""
    value = _meta_value(meta, _PUBDATE_KEYS)
    if value:
        return value
    for text in (before_body, page_text):
        for pattern in (_PUBLISHED_LABELLED, _DATE_LABELLED, _SOURCE_LINE_DATE):
            matches = pattern.findall(text)
            if matches:
                # The labelled date nearest the body is the article's, not a top-bar date.
                return _SPACES.sub(" ", matches[-1 if text is before_body else 0]).strip()
    return None


# --- entry point ---------------------------------------------------------------------


def _more_tags_than(html: str, limit: int) -> bool:
    """Whether the markup opens more than ``limit`` tags (counting stops past the limit)."""
    for count, _ in enumerate(_TAG_START.finditer(html), start=1):
        if count > limit:
            return True
    return False


def extract_html(
    data: bytes, http_charset: str | None = None, document: str | None = None
) -> HtmlDocument:
    """Decode a bulletin page and extract its title, meta, date, body text and tables."""
    label = document or "HTML page"
    if len(data) > MAX_PAGE_BYTES:
        raise ParseError(f"{label}: {len(data)} bytes, over the limit of {MAX_PAGE_BYTES} bytes")
    try:
        html, charset = decode_html(data, http_charset)
    except ParseError as error:
        raise ParseError(f"{label}: {error}") from None
    if _more_tags_than(html, MAX_TAGS):
        raise ParseError(f"{label}: more than {MAX_TAGS} tags (a bulletin page has a few thousand)")
    soup = BeautifulSoup(html, "lxml")
    meta = _read_meta(soup)
    title = _page_title(soup, meta)
    _drop_invisible(soup)
    body, before_body, rule = _find_body(soup, html)
    logger.debug("body found by %s", rule)
    published = _published(meta, before_body, soup.get_text("\n"))

    _drop_furniture(body)
    renderer = _Renderer()
    renderer.walk(body)
    renderer.flush()
    lines = _filter_lines(renderer.lines, title)

    tables: list[Table] = []
    for index, rendered in enumerate(renderer.tables):
        position = next((i for i, line in enumerate(lines) if line.table == index), None)
        if position is None:
            continue
        table_title = rendered.title_hint or _title_before(lines, position)
        tables.append(
            Table(
                title=_clean_title(table_title),
                header=rendered.header,
                rows=rendered.rows,
                document=document,
            )
        )
    text = "\n".join(line.text for line in lines)
    if not text:
        raise ParseError(f"{label}: no article text found on the page")
    return HtmlDocument(title, meta, published, text, tables, charset)
