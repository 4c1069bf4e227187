"""Tests for the bundled sample sites: manifest, unedited seed text, charsets, listings,
pagination and attachments."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook

from scrapers import mirror
from scrapers.filters import is_bulletin_title
from scrapers.platforms import platform_for
from scrapers.registry import get_source

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SITES = SAMPLES / "sites"
DOCUMENT_FIXTURES = ROOT / "tests" / "fixtures" / "documents"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
MANIFEST: dict[str, Any] = yaml.safe_load((SAMPLES / "manifest.yml").read_text("utf-8"))
DOCUMENTS: list[dict[str, Any]] = MANIFEST["documents"]
LISTINGS: list[dict[str, Any]] = MANIFEST["listings"]
SOURCES = {source["slug"]: source for source in MANIFEST["sources"]}


def pages_of(listing: dict[str, Any]) -> list[dict[str, Any]]:
    """A listing's pages in order; further pages take the first page's other fields."""
    first = {key: value for key, value in listing.items() if key != "more_pages"}
    return [first] + [{**first, **page} for page in listing.get("more_pages", [])]


LISTING_PAGES = [page for listing in LISTINGS for page in pages_of(listing)]
ATTACHMENTS = [
    {**attachment, "source": document["source"]}
    for document in DOCUMENTS
    for attachment in document["attachments"]
]

# The attachments the samples must carry, read by hand from the brief of the mirror: the
# two bulletins whose real tables exist as document fixtures link them; no other article
# links a file (the other seeds' attachments have unknown content).
LC_2015 = "http://www.liaocheng.gov.cn/zmhd/12345rxyb/201507/"
HD_2020 = "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/"
EXPECTED_ATTACHMENTS = {
    LC_2015 + "t20150713_583247.html": [
        (
            LC_2015 + "P020150713392614058732.xlsx",
            "6月份各承办单位办理来电情况.xlsx",
            "liaocheng_2015-06_tables.xlsx",
        )
    ],
    HD_2020 + "i2175342.html": [
        (
            HD_2020 + "2175343.docx",
            "9月份群众诉求问题分类统计及成员单位工单办理情况.docx",
            "hengdong_2020-09_tables.docx",
        )
    ],
    "http://www.zhongyuan-news.example/zhoubian/liaocheng/2020/0715/68532.html": [],
    "http://www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/content/post_1398215.html": [],
    "http://www.yunxi.gov.cn/27310/27316/27345/content_1754829.html": [],
}

# WHATWG: the labels gb2312 and gbk both mean the GBK decoder; gb18030 is its superset.
DECODERS = {"utf-8": "utf-8", "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030"}

# Lines of each seed that are page chrome (read by hand from the seeds): they belong
# in the page furniture (header, breadcrumb, h1, info line, footer, listing), not in
# the bulletin body. For seed 003 every line from "相關焦點" on is chrome too.
CHROME_LINES = {
    "000_5af7f0b63c462ffc.txt": [
        "0310-3111082 3047798688@qq.com",
        "首页 > 周边 > 聊城 > 正文",
        "聊城:关于2020年第二季度群众来电办理情况的通告",
        "来源:聊城日报编辑:胡浩亮发布时间:2020-07-15 15:07:45",
        "©2018中原新闻网站版权所有",
    ],
    "001_6042179daa519de6.txt": ["關于2021年1月份群眾訴求分析研判情況的通報"],
    "002_4021d749a9c88b68.txt": [],
    "003_f506935e597fb905.txt": [
        "2020年第二季度「12345」公眾服務熱線和「市長信箱」「區長信箱...",
        "2020-12-13 嶽陽市人民政府",
    ],
    "004_4a1945551eb7f6d2.txt": ["来源:衡东县“12345”热线中心 发布时间:2020-10-15"],
}
CHROME_FROM = {"003_f506935e597fb905.txt": "相關焦點"}

BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "title"}
ATTACHMENT_EXTENSIONS = (".doc", ".docx", ".xls", ".xlsx", ".pdf", ".zip", ".rar")


def norm(text: str) -> str:
    """Collapse every run of whitespace (incl. U+3000, no-break space) to one space."""
    return " ".join(text.split())


class Page(HTMLParser):
    """Text blocks, table rows, links and meta tags of a page, split at its body container."""

    def __init__(self, container: str) -> None:
        super().__init__(convert_charrefs=True)
        self.container_tag, self.container_id = container.split("#")
        self.depth = 0  # > 0 while inside the body container
        self.skip = 0  # > 0 inside <script>/<style>
        self.table_depth = 0
        self.blocks: list[str] = []  # outside tables, inside the body container
        self.outside: list[str] = []  # everything outside the body container
        self.rows: list[list[str]] = []  # table rows inside the body container
        self.row_attrs: list[list[dict[str, str | None]]] = []
        self.links: list[tuple[str, str]] = []  # (href, link text)
        self.meta: dict[str, str] = {}
        self.h1: list[str] = []
        self._text: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._attrs: list[dict[str, str | None]] = []
        self._link: tuple[str, list[str]] | None = None
        self._in_h1 = False

    def _flush(self) -> None:
        text = norm("".join(self._text))
        self._text = []
        if text:
            (self.blocks if self.depth else self.outside).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "meta" and attr.get("name"):
            self.meta[str(attr["name"])] = str(attr.get("content"))
        if tag == "a" and attr.get("href"):
            self._link = (str(attr["href"]), [])
        if tag == "h1":
            self._in_h1 = True
        if self.depth:
            if tag == self.container_tag:
                self.depth += 1
        elif tag == self.container_tag and attr.get("id") == self.container_id:
            self._flush()
            self.depth = 1
            return
        if self.depth and tag == "table":
            self.table_depth += 1
        if self.table_depth:
            if tag == "tr":
                self._row, self._attrs = [], []
            elif tag in ("td", "th"):
                self._cell = []
                self._attrs.append(attr)
            return
        if tag in BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], norm("".join(self._link[1]))))
            self._link = None
        if tag == "h1":
            self._in_h1 = False
        if self.table_depth:
            if tag in ("td", "th") and self._cell is not None and self._row is not None:
                self._row.append(norm("".join(self._cell)))
                self._cell = None
            elif tag == "tr" and self._row is not None:
                self.rows.append(self._row)
                self.row_attrs.append(self._attrs)
                self._row = None
            elif tag == "table":
                self.table_depth -= 1
            return
        if tag in BLOCK_TAGS:
            self._flush()
        if self.depth and tag == self.container_tag:
            self.depth -= 1
            if not self.depth:
                self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self._link is not None:
            self._link[1].append(data)
        if self._in_h1:
            self.h1.append(data)
        if self._cell is not None:
            self._cell.append(data)
        elif not self.table_depth:
            self._text.append(data)


def mirror_path(url: str) -> Path:
    """Return where the mirror keeps the page for a URL."""
    parts = urlsplit(url)
    return SITES / str(parts.hostname) / parts.path.lstrip("/")


def declared_charset(content_type: str, data: bytes) -> str:
    """Return the charset from the Content-Type header, else from the page's <meta>."""
    header = re.search(r"charset=([\w-]+)", content_type)
    if header:
        return header.group(1).lower()
    meta = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data[:1024], re.IGNORECASE)
    assert meta, "page declares no charset"
    return meta.group(1).decode("ascii").lower()


def decode(entry: dict[str, Any]) -> str:
    """Decode a manifest page the way a browser would, from its declared charset."""
    data = (SAMPLES / entry["path"]).read_bytes()
    return data.decode(DECODERS[declared_charset(entry["content_type"], data)])


def parse(entry: dict[str, Any], container: str = "body#none") -> Page:
    """Parse a manifest page, splitting at the given body container."""
    page = Page(container)
    page.feed(decode(entry))
    page.close()
    return page


def seed_text(seed: str) -> str:
    """Return a bundled seed's text."""
    return (SAMPLES / "seeds" / seed).read_text(encoding="utf-8")


def body_lines(seed: str) -> list[str]:
    """Return the seed's non-blank, non-chrome lines."""
    lines = seed_text(seed).split("\n")
    if seed in CHROME_FROM:
        lines = lines[: lines.index(CHROME_FROM[seed])]
    return [line for line in lines if norm(line) and line not in CHROME_LINES[seed]]


def is_table_line(line: str) -> bool:
    """Tell table rows in the seeds: tab-separated (002) or pipe-formatted (004)."""
    return "\t" in line or "|" in line


def expected_cells(line: str) -> list[str]:
    """Cells of a seed table line: all of them for tab lines, the non-blank ones for pipes."""
    if "\t" in line:
        return [norm(cell) for cell in line.split("\t")]
    return [norm(cell) for cell in line.split("|") if norm(cell)]


def column_prefix(listing: dict[str, Any]) -> str:
    """Return the URL of the listing's column directory."""
    return listing["url"].rsplit("/", 1)[0] + "/"


def listing_of(document: dict[str, Any]) -> dict[str, Any]:
    """Return the listing that holds a document (on any of its pages)."""
    return next(
        listing
        for listing in LISTINGS
        if any(
            item["url"] == document["url"] for page in pages_of(listing) for item in page["items"]
        )
    )


def listing_of_page(page: dict[str, Any]) -> dict[str, Any]:
    """Return the listing a listing page belongs to."""
    return next(listing for listing in LISTINGS if page in pages_of(listing))


def doc_id(entry: dict[str, Any]) -> str:
    """Name a parametrised case after its seed or URL."""
    return entry.get("seed") or entry["url"]


def test_manifest_covers_the_five_seeds_once() -> None:
    seeds = sorted(path.name for path in (SAMPLES / "seeds").glob("*.txt"))
    assert seeds == sorted(CHROME_LINES)
    assert sorted(document["seed"] for document in DOCUMENTS) == seeds


def test_sources_are_well_formed() -> None:
    assert set(SOURCES) == {"liaocheng", "zhanjiang", "yueyang-yunxi", "hengdong"}
    assert SOURCES["liaocheng"]["division_code"] == "371500"
    assert SOURCES["zhanjiang"]["division_code"] == "440800"
    assert SOURCES["yueyang-yunxi"]["division_code"] == "430603"
    assert SOURCES["hengdong"]["division_code"] == "430424"
    for slug, source in SOURCES.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", slug)
        assert source["level"] in {"prefecture", "district", "county", "province"}
        assert source["platform"] in {"trs", "hanweb", "guangdong", "hunan", "generic"}
        assert urlsplit(source["homepage"]).hostname in source["hosts"]


@pytest.mark.parametrize("entry", DOCUMENTS + LISTING_PAGES + ATTACHMENTS, ids=doc_id)
def test_manifest_paths_exist_and_mirror_the_url(entry: dict[str, Any]) -> None:
    assert (SAMPLES / entry["path"]).is_file()
    assert SAMPLES / entry["path"] == mirror_path(entry["url"])
    assert entry["source"] in SOURCES
    hosts = set(SOURCES[entry["source"]]["hosts"]) | {
        document["republished_by"]["host"]
        for document in DOCUMENTS
        if document["source"] == entry["source"] and document.get("republished_by")
    }
    assert urlsplit(entry["url"]).hostname in hosts


def test_every_file_under_sites_is_in_the_manifest() -> None:
    listed = {SAMPLES / entry["path"] for entry in DOCUMENTS + LISTING_PAGES + ATTACHMENTS}
    assert {path for path in SITES.rglob("*") if path.is_file()} == listed


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_page_body_is_the_seed_text_unedited(document: dict[str, Any]) -> None:
    page = parse(document, document["body_container"])
    lines = body_lines(document["seed"])
    expected_text = [norm(line) for line in lines if not is_table_line(line)]
    assert page.blocks == expected_text
    expected_rows = [expected_cells(line) for line in lines if is_table_line(line)]
    if any("|" in line for line in lines):
        assert [[cell for cell in row if cell] for row in page.rows] == expected_rows
    else:
        assert page.rows == expected_rows


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_chrome_lines_stay_out_of_the_body(document: dict[str, Any]) -> None:
    page = parse(document, document["body_container"])
    body = "\n".join(page.blocks)
    for line in CHROME_LINES[document["seed"]]:
        assert norm(line) not in body


def test_portal_page_shows_the_seed_chrome_in_its_furniture() -> None:
    document = DOCUMENTS[0]
    assert document["seed"] == "000_5af7f0b63c462ffc.txt"
    page = parse(document, document["body_container"])
    furniture = "\n".join(page.outside)
    for line in CHROME_LINES[document["seed"]]:
        assert norm(line) in furniture
    assert document["republished_by"]["name"] == "中原新闻网站"
    assert "聊城市12345" in document["issuer"]


def test_seed_tables_are_html_tables_with_a_two_row_header() -> None:
    document = next(d for d in DOCUMENTS if d["seed"] == "004_4a1945551eb7f6d2.txt")
    page = parse(document, document["body_container"])
    header_at = page.rows.index(["单位名称", "受理案件数", "待办理数", "未及时签收数", "超期工单"])
    spans = {
        text: attrs
        for text, attrs in zip(page.rows[header_at], page.row_attrs[header_at], strict=True)
    }
    assert spans["超期工单"].get("colspan") == "2"
    assert all(spans[name].get("rowspan") == "2" for name in ["单位名称", "待办理数"])
    assert page.rows[header_at + 1] == ["超期已办结", "超期未办理"]
    assert page.rows[-1] == ["合 计", "456", "46", "0", "18", "3"]


def test_gb2312_page_needs_a_gbk_decoder() -> None:
    document = next(d for d in DOCUMENTS if d["charset"] == "gb2312")
    data = (SAMPLES / document["path"]).read_bytes()
    assert document["content_type"] == "text/html"
    assert b'content="text/html; charset=gb2312"' in data[:300]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")  # the "繁體" switch uses 體, a GBK-only character
    text = data.decode("gb18030")
    assert "6 月份，共呼入群众来电 43853 个" in text
    assert "繁體" in text


@pytest.mark.parametrize("entry", DOCUMENTS + LISTING_PAGES, ids=doc_id)
def test_declared_charset_matches_the_manifest(entry: dict[str, Any]) -> None:
    data = (SAMPLES / entry["path"]).read_bytes()
    in_page = declared_charset("", data)
    assert in_page == entry["charset"]
    assert declared_charset(entry["content_type"], data) == in_page
    decode(entry)


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_title_and_dates(document: dict[str, Any]) -> None:
    page = parse(document, document["body_container"])
    assert norm("".join(page.h1)) == document["title"]
    furniture = "\n".join(page.outside)
    if document["published_date"] is None:
        assert "PubDate" not in page.meta
        return
    assert document["published_date"] in furniture
    if not document.get("republished_by"):
        assert page.meta["PubDate"] == document["published_date"]
        assert page.meta["ArticleTitle"] == document["title"]


def test_every_listing_has_a_bulletin() -> None:
    for listing in LISTINGS:
        assert any(item["bulletin"] for page in pages_of(listing) for item in page["items"])


@pytest.mark.parametrize("listing_page", LISTING_PAGES, ids=doc_id)
def test_listing_links_to_its_articles_and_declares_the_rest(listing_page: dict[str, Any]) -> None:
    page = parse(listing_page)
    links = {urljoin(listing_page["url"], href): text for href, text in page.links}
    document_urls = {document["url"] for document in DOCUMENTS}
    for item in listing_page["items"]:
        assert links[item["url"]] == item.get("link_text", item["title"])
        assert item["date"] in "\n".join(page.outside)
        assert (item["url"] in document_urls) == item["bulletin"]
        assert mirror_path(item["url"]).is_file() == item["bulletin"]
    column_pages = {other["url"] for other in pages_of(listing_of_page(listing_page))}
    in_column = {
        url
        for url in links
        if url.startswith(column_prefix(listing_page)) and url not in column_pages
    }
    assert in_column == {item["url"] for item in listing_page["items"]}
    # Pager links stay inside the column and reach pages that exist.
    for url in links.keys() & column_pages:
        assert mirror_path(url).is_file()


def document_links(entry: dict[str, Any]) -> list[str]:
    """The absolute URLs of the documents (by extension) a page links."""
    page = parse(entry)
    urls = [urljoin(entry["url"], href) for href, _text in page.links]
    return [url for url in urls if urlsplit(url).path.lower().endswith(ATTACHMENT_EXTENSIONS)]


@pytest.mark.parametrize("entry", DOCUMENTS + LISTING_PAGES, ids=doc_id)
def test_no_page_links_a_document_the_mirror_lacks(entry: dict[str, Any]) -> None:
    for url in document_links(entry):
        assert mirror_path(url).is_file(), url


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_article_links_are_in_the_mirror_or_unrelated_listing_items(
    document: dict[str, Any],
) -> None:
    page = parse(document, document["body_container"])
    listing = listing_of(document)
    unrelated = {
        item["url"] for page in pages_of(listing) for item in page["items"] if not item["bulletin"]
    }
    for href, _text in page.links:
        url = urljoin(document["url"], href)
        if url.startswith(column_prefix(listing)):
            assert mirror_path(url).is_file() or url in unrelated, url
    assert set(document_links(document)) == {a["url"] for a in document["attachments"]}


def test_manifest_attachments_are_the_expected_ones() -> None:
    assert {document["url"] for document in DOCUMENTS} == set(EXPECTED_ATTACHMENTS)
    for document in DOCUMENTS:
        found = [
            (attachment["url"], attachment["name"], Path(attachment["copied_from"]).name)
            for attachment in document["attachments"]
        ]
        assert found == EXPECTED_ATTACHMENTS[document["url"]], document["url"]


@pytest.mark.parametrize("attachment", ATTACHMENTS, ids=doc_id)
def test_attachment_bytes_are_the_document_fixture(attachment: dict[str, Any]) -> None:
    fixture = ROOT / attachment["copied_from"]
    assert fixture.parent == DOCUMENT_FIXTURES
    assert (SAMPLES / attachment["path"]).read_bytes() == fixture.read_bytes()
    assert mirror.content_type_for(SAMPLES / attachment["path"]) == attachment["content_type"]


def test_attachments_hold_the_bulletins_real_tables() -> None:
    """The copied files are the seeds' tables (cells read by hand from seeds 002 and 004)."""
    hengdong = Document(str(mirror_path(HD_2020 + "2175343.docx")))
    assert [p.text for p in hengdong.paragraphs][1] == "〔2020〕第9期"
    category = [[cell.text for cell in row.cells] for row in hengdong.tables[0].rows]
    assert category[1] == ["交通运输管理", "56", "55", "0", "0.00%"]
    workbook = load_workbook(mirror_path(LC_2015 + "P020150713392614058732.xlsx"))
    assert workbook.sheetnames == ["各县（市、区）平台办理情况表", "各市直部门平台办理情况表"]
    counties = workbook["各县（市、区）平台办理情况表"]
    assert (counties["A3"].value, counties["B3"].value) == ("高新区", 262)


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_platform_reader_finds_the_attachments_in_the_mirror(document: dict[str, Any]) -> None:
    source = get_source(document["source"])
    data = (SAMPLES / document["path"]).read_bytes()
    found = platform_for(source, document["url"]).parse_attachments(
        data, document["url"], source, document["content_type"]
    )
    expected = [(url, name) for url, name, _file in EXPECTED_ATTACHMENTS[document["url"]]]
    assert [(attachment.url, attachment.name) for attachment in found] == expected
    for attachment in found:
        assert mirror.mirror_path(SITES, attachment.url).is_file()


# --- pagination -----------------------------------------------------------------------------

LC_COLUMN = "http://www.liaocheng.gov.cn/zmhd/12345rxyb/"
PORTAL_COLUMN = "http://www.zhongyuan-news.example/zhoubian/liaocheng/"


def read_listing(slug: str, url: str) -> Any:
    """The bundled listing page at ``url`` read by the source's platform reader."""
    source = get_source(slug)
    data = mirror.mirror_path(SITES, url).read_bytes()
    return platform_for(source, url).parse_listing(data, url, source, "text/html")


def test_liaocheng_trs_column_has_two_pages() -> None:
    first = mirror_path(LC_COLUMN + "index.html").read_bytes()
    second = mirror_path(LC_COLUMN + "index_1.html").read_bytes()
    assert b'createPageHTML(2, 0, "index", "html");' in first
    assert b'createPageHTML(2, 1, "index", "html");' in second
    page_1 = read_listing("liaocheng", LC_COLUMN + "index.html")
    page_2 = read_listing("liaocheng", LC_COLUMN + "index_1.html")
    assert (page_1.next_pages, page_1.total_pages) == ([LC_COLUMN + "index_1.html"], 2)
    assert (page_2.next_pages, page_2.total_pages) == ([], 2)
    assert not mirror_path(LC_COLUMN + "index_2.html").exists()


def test_liaocheng_first_page_holds_only_newer_notices() -> None:
    page_1 = read_listing("liaocheng", LC_COLUMN + "index.html")
    assert [item.published for item in page_1.items] == [
        date(2015, 8, 6),
        date(2015, 7, 30),
        date(2015, 7, 24),
        date(2015, 7, 17),
    ]
    assert [is_bulletin_title(item.title)[1] for item in page_1.items] == [
        "a notice, not figures (公示)",
        "a notice, not figures (招聘)",
        "a notice, not figures (会议)",
        "a notice, not figures (值班)",
    ]
    assert not any(mirror_path(item.url).exists() for item in page_1.items)


def test_liaocheng_second_page_holds_the_2015_bulletin_among_older_items() -> None:
    page_2 = read_listing("liaocheng", LC_COLUMN + "index_1.html")
    kept = [item for item in page_2.items if is_bulletin_title(item.title)[0]]
    assert [(item.url, item.title) for item in kept] == [
        (LC_2015 + "t20150713_583247.html", "市民服务热线(12345)月报[2015]第6期")
    ]
    assert page_2.items[0] == kept[0]
    assert all(item.published <= date(2015, 7, 13) for item in page_2.items)


def test_portal_column_has_two_pages() -> None:
    page_1 = read_listing("liaocheng", PORTAL_COLUMN + "index.html")
    page_2 = read_listing("liaocheng", PORTAL_COLUMN + "index_2.html")
    assert page_1.next_pages == [PORTAL_COLUMN + "index_2.html"]
    assert page_2.next_pages == []
    assert [item.published for item in page_2.items] == [
        date(2020, 7, 8),
        date(2020, 7, 6),
        date(2020, 7, 3),
        date(2020, 6, 30),
    ]
    assert not any(is_bulletin_title(item.title)[0] for item in page_2.items)
    # The numbered pager: page 1 links page 2 (and names it the last), page 2 links back.
    first = mirror_path(PORTAL_COLUMN + "index.html").read_text("utf-8")
    second = mirror_path(PORTAL_COLUMN + "index_2.html").read_text("utf-8")
    assert '<a href="index_2.html">尾页</a>' in first
    assert '<a href="index.html">1</a><span class="current">2</span>' in second


@pytest.mark.parametrize("listing", LISTINGS, ids=doc_id)
def test_walking_each_listing_reaches_every_page_once(listing: dict[str, Any]) -> None:
    """A walk that queues the first page's next_pages reads the manifest's pages in order."""
    expected = [page["url"] for page in pages_of(listing)]
    walked, queue = [], [listing["url"]]
    while queue:
        url = queue.pop(0)
        walked.append(url)
        read = read_listing(listing["source"], url)
        queue += [next_url for next_url in read.next_pages if next_url not in walked + queue]
        page = next(page for page in pages_of(listing) if page["url"] == url)
        assert [item.url for item in read.items] == [item["url"] for item in page["items"]]
    assert walked == expected


def test_zhanjiang_keeps_converter_artefacts() -> None:
    document = next(d for d in DOCUMENTS if d["source"] == "zhanjiang")
    blocks = parse(document, document["body_container"]).blocks
    assert "?。ㄒ唬┰V求總體情況" in blocks
    assert "一、訴求量情況" in blocks
    assert any("各縣(市、區(qū))人民政府(管委會)" in block for block in blocks)


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="shared seeds not available")
def test_bundled_seeds_are_byte_copies_of_the_shared_seeds() -> None:
    for seed in CHROME_LINES:
        assert (SAMPLES / "seeds" / seed).read_bytes() == (SHARED_SEEDS / seed).read_bytes()


def test_make_pages_reproduces_the_mirror_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SAMPLES / "make_pages.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    made = {
        path.relative_to(tmp_path) for path in (tmp_path / "sites").rglob("*") if path.is_file()
    }
    bundled = {path.relative_to(SAMPLES) for path in SITES.rglob("*") if path.is_file()}
    assert made == bundled
    for relative in sorted(made):
        assert (tmp_path / relative).read_bytes() == (SAMPLES / relative).read_bytes(), relative
