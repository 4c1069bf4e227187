"""Atom feeds of new bulletins: the canned query new_bulletins rendered by datasette-atom.

A small archive written with archive.db's functions holds three bulletins of two sources
whose ingested_at times are in different time zones, one of them with a hostile title and
source URL; the feeds are fetched through Datasette's test client (site plugins loaded as
`hotline serve` loads them) and parsed with xml.etree.
"""

from __future__ import annotations

import hashlib
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette
from datasette.plugins import pm

from archive.build import build_from_manifest, bulletin_id_for
from archive.datasette_plugins import PLUGINS_DIR
from archive.db import ensure_db_shape, upsert_document, upsert_source, write_bulletin
from archive.paths import METADATA, SAMPLES_DIR
from parsers.model import Bulletin, Metric, Period

ATOM = "{http://www.w3.org/2005/Atom}"
TAG_PREFIX = "tag:hotline-archive,2026:bulletin/"
FEED_TITLE = "新入库的公报 / New bulletins"

HOSTILE_TITLE = "<script>alert(1)</script> & 湛江市2024年2月12345热线通报"
HOSTILE_URL = 'http://www.zhanjiang.gov.cn/post.html?id=1&x="2"'
LIAOCHENG_Q1_URL = "http://www.liaocheng.gov.cn/2024q1.html"
LIAOCHENG_Q2_URL = "http://www.liaocheng.gov.cn/2024q2.html"

# (source, url, title, period, published, ingested_at, metrics)
BULLETINS = (
    (
        "liaocheng",
        LIAOCHENG_Q1_URL,
        "聊城市2024年第一季度12345热线通报",
        ("quarter", "2024-01-01", "2024-03-31", "2024-Q1"),
        "2024-02-28",
        "2024-03-01T08:00:00Z",
        [("requests_total", 1000, "count"), ("satisfaction_rate", 98.5, "percent")],
    ),
    (
        "zhanjiang",
        HOSTILE_URL,
        HOSTILE_TITLE,
        ("month", "2024-02-01", "2024-02-29", "2024-02"),
        "2024-03-01",
        # 12:00 in Beijing is 04:00 UTC: earlier than Liaocheng's 08:00Z, although the text
        # sorts after it.
        "2024-03-01T12:00:00+08:00",
        [],
    ),
    (
        "liaocheng",
        LIAOCHENG_Q2_URL,
        "聊城市2024年第二季度12345热线通报",
        ("quarter", "2024-04-01", "2024-06-30", "2024-Q2"),
        "2024-07-01",
        "2024-07-02T00:00:00+00:00",
        [("requests_total", 1200, "count"), ("connection_rate", 99.1, "percent")],
    ),
)
Q1_ID = bulletin_id_for("liaocheng", LIAOCHENG_Q1_URL)
Q2_ID = bulletin_id_for("liaocheng", LIAOCHENG_Q2_URL)
HOSTILE_ID = bulletin_id_for("zhanjiang", HOSTILE_URL)


def write_archive(db_path: Path, order: tuple[int, ...] = (0, 1, 2)) -> None:
    """Write the three bulletins of BULLETINS, in the given order, as refresh would."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(db_path)
    ensure_db_shape(db)
    upsert_source(
        db,
        {
            "slug": "liaocheng",
            "name": "聊城市",
            "province": "山东省",
            "level": "prefecture",
            "homepage": "http://www.liaocheng.gov.cn/",
        },
    )
    upsert_source(db, {"slug": "zhanjiang", "name": "湛江市", "province": "广东省"})
    for index in order:
        source, url, title, (ptype, start, end, label), published, ingested, metrics = BULLETINS[
            index
        ]
        body = f"<p>{title}</p>".encode()
        sha = hashlib.sha256(body).hexdigest()
        upsert_document(
            db,
            url=url,
            final_url=None,
            source=source,
            path=f"raw/{sha[:2]}/{sha}",
            sha256=sha,
            size=len(body),
            format="html",
            content_type="text/html; charset=utf-8",
            fetched_at=ingested,
            ingested_at=ingested,
        )
        bulletin = Bulletin(
            title=title,
            published_date=published,
            period=Period(ptype, start, end, None, None, label),
            metrics=[Metric(key, value, unit, f"{key} {value}") for key, value, unit in metrics],
            text=title,
            original_text=title,
        )
        write_bulletin(
            db,
            bulletin,
            bulletin_id=bulletin_id_for(source, url),
            source=source,
            url=url,
            document_ids={"page": sha},
        )
    db.close()


def make_datasette(db_path: Path) -> Datasette:
    """Datasette as `hotline serve` starts it: immutable, metadata.yml, the site's plugins."""
    return Datasette(
        immutables=[str(db_path)],
        metadata=yaml.safe_load(METADATA.read_text(encoding="utf-8")),
        plugins_dir=str(PLUGINS_DIR),
        settings={"sql_time_limit_ms": 3000, "max_returned_rows": 1000},
    )


@pytest.fixture(scope="module")
def plugin_registry() -> Iterator[None]:
    """Unregister the plugins-dir modules afterwards: Datasette registers them process-wide."""
    before = {pm.get_name(p) for p in pm.get_plugins()}
    yield
    for plugin in list(pm.get_plugins()):
        if pm.get_name(plugin) not in before:
            pm.unregister(plugin)


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("feed") / "archive.db"
    write_archive(db_path)
    return db_path


@pytest.fixture(scope="module")
def site(small_archive: Path, plugin_registry: None) -> Datasette:
    return make_datasette(small_archive)


async def feed(ds: Datasette, path: str) -> ET.Element:
    """GET an Atom feed and parse it (ET.fromstring fails on XML that is not well-formed)."""
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> list[dict[str, str | None]]:
    """The fields of every entry, in document order."""
    found = []
    for entry in root.findall(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        found.append(
            {
                "id": entry.findtext(f"{ATOM}id"),
                "title": entry.findtext(f"{ATOM}title"),
                "updated": entry.findtext(f"{ATOM}updated"),
                "link": None if link is None else link.get("href"),
                "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
                "content": entry.findtext(f"{ATOM}content"),
                "content_type": entry.find(f"{ATOM}content").get("type"),
            }
        )
    return found


class HTMLCollector(HTMLParser):
    """The start tags, attributes and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text += data


def read_html(fragment: str | None) -> HTMLCollector:
    parser = HTMLCollector()
    parser.feed(fragment or "")
    parser.close()
    return parser


def assert_atom_structure(root: ET.Element) -> None:
    """The elements Atom (RFC 4287) requires of a feed and of each entry are there."""
    for name in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{name}") or "").strip(), name
    datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), name
        assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated")).tzinfo is not None


# --- the overall feed ------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path", ["/archive/new_bulletins.atom?source=", "/archive/new_bulletins.atom"]
)
async def test_overall_feed_newest_first(site: Datasette, path: str) -> None:
    root = await feed(site, path)
    assert_atom_structure(root)
    assert root.findtext(f"{ATOM}title") == FEED_TITLE
    # The newest entry dates the feed.
    assert root.findtext(f"{ATOM}updated") == "2024-07-02T00:00:00+00:00"
    found = entries(root)
    assert [e["id"] for e in found] == [
        TAG_PREFIX + Q2_ID,
        TAG_PREFIX + Q1_ID,
        TAG_PREFIX + HOSTILE_ID,
    ]
    assert [e["title"] for e in found] == [
        "聊城市：聊城市2024年第二季度12345热线通报",
        "聊城市：聊城市2024年第一季度12345热线通报",
        "湛江市：" + HOSTILE_TITLE,
    ]
    # ingested_at in UTC: +08:00 12:00 is 04:00, before Liaocheng Q1's 08:00.
    assert [e["updated"] for e in found] == [
        "2024-07-02T00:00:00+00:00",
        "2024-03-01T08:00:00+00:00",
        "2024-03-01T04:00:00+00:00",
    ]
    assert [e["author"] for e in found] == ["聊城市", "聊城市", "湛江市"]
    assert [e["link"] for e in found] == [f"bulletins/{i}" for i in (Q2_ID, Q1_ID, HOSTILE_ID)]


@pytest.mark.asyncio
async def test_entry_links_resolve_to_the_bulletin_page(site: Datasette) -> None:
    feed_url = "http://localhost/archive/new_bulletins.atom?source="
    root = await feed(site, feed_url.removeprefix("http://localhost"))
    first = entries(root)[0]
    page_url = urljoin(feed_url, first["link"])
    assert page_url == f"http://localhost/archive/bulletins/{Q2_ID}"
    page = await site.client.get(page_url.removeprefix("http://localhost"))
    assert page.status_code == 200
    # The archive page of the bulletin links its source.
    assert "聊城市2024年第二季度12345热线通报" in page.text and LIAOCHENG_Q2_URL in page.text


@pytest.mark.asyncio
async def test_content_summarises_period_figures_and_links(site: Datasette) -> None:
    found = {e["id"]: e for e in entries(await feed(site, "/archive/new_bulletins.atom"))}
    q1 = found[TAG_PREFIX + Q1_ID]
    assert q1["content_type"] == "html"
    html = read_html(q1["content"])
    assert html.tags == ["p", "p", "ul", "li", "li", "p", "a", "a"]
    assert html.text == (
        "聊城市2024年第一季度12345热线通报"
        "2024-Q1 (quarter), 发布 published 2024-02-28"
        "受理诉求总量 requests: 1000 件"
        "满意率 satisfaction rate: 98.5%"
        "本站存档 / archive page · 原文 / source: " + LIAOCHENG_Q1_URL
    )
    assert html.hrefs == [f"bulletins/{Q1_ID}", LIAOCHENG_Q1_URL]
    q2 = read_html(found[TAG_PREFIX + Q2_ID]["content"])
    assert "受理诉求总量 requests: 1200 件接通率 connection rate: 99.1%" in q2.text
    # No figures: said so, not an empty list.
    hostile = read_html(found[TAG_PREFIX + HOSTILE_ID]["content"])
    assert "ul" not in hostile.tags
    assert "未读出主要指标 / no headline figures read" in hostile.text


@pytest.mark.asyncio
async def test_hostile_title_and_url_are_escaped(site: Datasette) -> None:
    response = await site.client.get("/archive/new_bulletins.atom?source=zhanjiang")
    root = ET.fromstring(response.content)  # well-formed despite <, & and " in the data
    (entry,) = entries(root)
    # Title is Atom text: the parsed text is the title exactly as published.
    assert entry["title"] == "湛江市：" + HOSTILE_TITLE
    assert root.find(f"{ATOM}entry/{ATOM}title").get("type") in (None, "text")
    # Content is HTML: the title and URL are text and an attribute in it, never markup.
    html = read_html(entry["content"])
    assert "script" not in html.tags
    assert set(html.tags) <= {"p", "a"}
    assert html.text.startswith(HOSTILE_TITLE + "2024-02 (month), 发布 published 2024-03-01")
    assert html.hrefs == [f"bulletins/{HOSTILE_ID}", HOSTILE_URL]
    assert html.text.endswith("原文 / source: " + HOSTILE_URL)
    assert "<script" not in entry["content"]


# --- per-source feeds ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_per_source_feed_holds_only_that_source(site: Datasette) -> None:
    liaocheng = await feed(site, "/archive/new_bulletins.atom?source=liaocheng")
    assert_atom_structure(liaocheng)
    assert [e["id"] for e in entries(liaocheng)] == [TAG_PREFIX + Q2_ID, TAG_PREFIX + Q1_ID]
    assert liaocheng.findtext(f"{ATOM}updated") == "2024-07-02T00:00:00+00:00"
    zhanjiang = await feed(site, "/archive/new_bulletins.atom?source=zhanjiang")
    assert [e["id"] for e in entries(zhanjiang)] == [TAG_PREFIX + HOSTILE_ID]
    assert zhanjiang.findtext(f"{ATOM}updated") == "2024-03-01T04:00:00+00:00"


@pytest.mark.asyncio
async def test_source_without_bulletins_gives_an_empty_feed(site: Datasette) -> None:
    # datasette-atom alone answers 500 here (it dates the feed by its newest row).
    root = await feed(site, "/archive/new_bulletins.atom?source=hengdong")
    assert_atom_structure(root)
    assert root.findtext(f"{ATOM}title") == FEED_TITLE
    assert entries(root) == []


@pytest.mark.asyncio
async def test_query_page_offers_the_feed(site: Datasette) -> None:
    response = await site.client.get("/archive/new_bulletins?source=liaocheng")
    assert response.status_code == 200
    assert "new_bulletins.atom?source=liaocheng" in response.text
    rows = (await site.client.get("/archive/new_bulletins.json?_shape=array&source=")).json()
    assert [r["bulletin_id"] for r in rows] == [Q2_ID, Q1_ID, HOSTILE_ID]


# --- stable ids ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ids_stable_across_builds(
    small_archive: Path, tmp_path: Path, plugin_registry: None
) -> None:
    """The same bulletins written in another order into another archive keep their entry ids."""
    other = tmp_path / "again" / "archive.db"
    write_archive(other, order=(2, 1, 0))
    first = entries(await feed(make_datasette(small_archive), "/archive/new_bulletins.atom"))
    second = entries(await feed(make_datasette(other), "/archive/new_bulletins.atom"))
    assert [e["id"] for e in second] == [e["id"] for e in first]
    assert [e["updated"] for e in second] == [e["updated"] for e in first]


@pytest.mark.asyncio
async def test_sample_archive_feed_across_two_builds(tmp_path: Path, plugin_registry: None) -> None:
    """Two builds of the bundled samples: the same five entries, same ids, same order."""
    feeds = []
    for name in ("one", "two"):
        db_path = tmp_path / name / "archive.db"
        db_path.parent.mkdir()
        assert build_from_manifest(db_path, SAMPLES_DIR).failures == []
        # Served immutable, as `hotline serve` does after folding the write-ahead log in.
        conn = sqlite3.connect(db_path)
        conn.execute("pragma wal_checkpoint(truncate)")
        conn.close()
        feeds.append(entries(await feed(make_datasette(db_path), "/archive/new_bulletins.atom")))
    assert [e["id"] for e in feeds[0]] == [e["id"] for e in feeds[1]]
    conn = sqlite3.connect(tmp_path / "one" / "archive.db")
    labels = {
        TAG_PREFIX + bid: (source, label)
        for bid, source, label in conn.execute("select id, source, period_label from bulletins")
    }
    conn.close()
    # Every sample is stored at the same time (build.SAMPLES_INGESTED_AT), so the newest
    # publication comes first: 2021-02-08, 2020-12-13, 2020-10-15, 2020-07-15, 2015-07-13.
    assert [labels[e["id"]] for e in feeds[0]] == [
        ("zhanjiang", "2021-01"),
        ("yueyang-yunxi", "2020-Q2"),
        ("hengdong", "2020-09"),
        ("liaocheng", "2020-Q2"),
        ("liaocheng", "2015-06"),
    ]
    assert {e["updated"] for e in feeds[0]} == {"2026-11-22T00:00:00+00:00"}
