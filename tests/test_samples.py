"""Tests for the bundled sample sites: manifest, unedited seed text, charsets, listings."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SITES = SAMPLES / "sites"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
MANIFEST: dict[str, Any] = yaml.safe_load((SAMPLES / "manifest.yml").read_text("utf-8"))
DOCUMENTS: list[dict[str, Any]] = MANIFEST["documents"]
LISTINGS: list[dict[str, Any]] = MANIFEST["listings"]
SOURCES = {source["slug"]: source for source in MANIFEST["sources"]}

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
    """Return the listing that holds a document."""
    return next(
        listing
        for listing in LISTINGS
        if any(item["url"] == document["url"] for item in listing["items"])
    )


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


@pytest.mark.parametrize("entry", DOCUMENTS + LISTINGS, ids=doc_id)
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
    listed = {SAMPLES / entry["path"] for entry in DOCUMENTS + LISTINGS}
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


@pytest.mark.parametrize("entry", DOCUMENTS + LISTINGS, ids=doc_id)
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


@pytest.mark.parametrize("listing", LISTINGS, ids=doc_id)
def test_listing_links_to_its_articles_and_declares_the_rest(listing: dict[str, Any]) -> None:
    page = parse(listing)
    links = {urljoin(listing["url"], href): text for href, text in page.links}
    document_urls = {document["url"] for document in DOCUMENTS}
    bulletins = [item for item in listing["items"] if item["bulletin"]]
    assert bulletins
    for item in listing["items"]:
        assert links[item["url"]] == item.get("link_text", item["title"])
        assert item["date"] in "\n".join(page.outside)
        assert (item["url"] in document_urls) == item["bulletin"]
        assert mirror_path(item["url"]).is_file() == item["bulletin"]
    in_column = {
        url for url in links if url.startswith(column_prefix(listing)) and url != listing["url"]
    }
    assert in_column == {item["url"] for item in listing["items"]}


@pytest.mark.parametrize("document", DOCUMENTS, ids=doc_id)
def test_article_links_exist_or_are_declared_absent(document: dict[str, Any]) -> None:
    page = parse(document, document["body_container"])
    listing = listing_of(document)
    declared = {item["url"] for item in listing["items"]} | set(document["absent_links"])
    for href, _text in page.links:
        url = urljoin(document["url"], href)
        if url.startswith(column_prefix(listing)) or url.endswith(ATTACHMENT_EXTENSIONS):
            assert mirror_path(url).is_file() or url in declared, url
    for url in document["absent_links"]:
        assert not mirror_path(url).exists()
        assert any(urljoin(document["url"], href) == url for href, _text in page.links)


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
