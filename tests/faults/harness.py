"""The temporary site, the refresh run and the archive snapshot used by the fault tests.

The site is a county's bulletin column written for these tests: the article pages and their
figures are invented (they never reach the bundled samples or a published archive); the PDF
attachments are the document fixtures of tests/fixtures/documents (real Hengdong and Liaocheng
tables). Two bulletins a listing page, newest first, the page count stated on page 1.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from archive.refresh import SourceReport, refresh
from scrapers.base import Source
from scrapers.http import Fetcher

from .server import FaultServer

HOST = "hotline.fault.example"
SOURCE = Source(
    slug="faultcounty",
    name="测试县",
    province="测试省",
    level="county",
    division_code=None,
    homepage=f"http://{HOST}/",
    listing_urls=(f"http://{HOST}/rx/index.html",),
    platform="generic",
    allowed_hosts=(HOST,),
)
SIZE_CAP = 2 * 1024 * 1024  # the Fetcher's max_bytes in these tests
READ_TIMEOUT = 0.3  # seconds: a held or dripping answer fails fast
RETRIES = 1
BACKOFF = 0.01
DOCUMENTS = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
PER_PAGE = 2


def url(path: str) -> str:
    """The real URL of a path on the test site."""
    return f"http://{HOST}/{path}"


@dataclass(frozen=True)
class Bulletin:
    """One bulletin of the test site: its article (invented figures) and optional PDF."""

    month: int  # of 2020
    path: str  # the article's path on the site
    total: int | None = None  # 受理群众诉求 N 件 in the article; None: "详见附件"
    rate: str | None = None
    pdf: str | None = None  # the attachment's path on the site
    pdf_fixture: str | None = None  # its file in tests/fixtures/documents

    @property
    def url(self) -> str:
        return url(self.path)

    @property
    def pdf_url(self) -> str:
        assert self.pdf is not None
        return url(self.pdf)

    @property
    def title(self) -> str:
        return f"测试县2020年{self.month}月份12345热线运行情况"


B07 = Bulletin(7, "rx/202008/t20200905_07.html", 1000, "96.1")
B08 = Bulletin(8, "rx/202009/t20200910_08.html", 2000, "95.5")
B09 = Bulletin(
    9,
    "rx/202010/t20201015_09.html",
    pdf="rx/202010/P020201015.pdf",
    pdf_fixture="hengdong_2020-09_tables.pdf",
)
B10 = Bulletin(
    10,
    "rx/202011/t20201105_10.html",
    3000,
    "97.0",
    pdf="rx/202011/P020201105.pdf",
    pdf_fixture="liaocheng_2015-06_tables.pdf",
)
B11 = Bulletin(11, "rx/202012/t20201205_11.html", 3100, "97.2")
B12 = Bulletin(12, "rx/202101/t20210105_12.html", 3200, "97.4")
FIRST_RUN = (B09, B08, B07)  # newest first, as the listing shows them


def listing_page_url(number: int) -> str:
    """The URL of listing page ``number`` (1 = index.html)."""
    return url("rx/index.html" if number == 1 else f"rx/index_{number}.html")


def article_html(bulletin: Bulletin, charset: str | None = "utf-8") -> str:
    """The article page of a bulletin; ``charset`` None leaves the page without a declaration."""
    meta = f'<meta charset="{charset}">' if charset else ""
    if bulletin.total is not None:
        body = (
            f"<p>{bulletin.month}月份,测试县12345热线共受理群众诉求{bulletin.total}件,"
            f"群众满意率{bulletin.rate}%。</p>"
        )
    else:
        body = "<p>详见附件。</p>"
    attachment = (
        f'<div class="fj">附件:<a href="./{bulletin.pdf.rsplit("/", 1)[1]}">'
        f"{bulletin.month}月份运行情况.pdf</a></div>"
        if bulletin.pdf
        else ""
    )
    return (
        f"<html><head>{meta}<title>{bulletin.title}</title>"
        f'<meta name="ArticleTitle" content="{bulletin.title}">'
        f'<meta name="PubDate" content="{_published(bulletin)}"></head>'
        f'<body><h1>{bulletin.title}</h1><div id="zoom">{body}</div>{attachment}</body></html>'
    )


def _published(bulletin: Bulletin) -> str:
    year, month = (2020, bulletin.month + 1) if bulletin.month < 12 else (2021, 1)
    return f"{year}-{month:02d}-05"


def listing_html(items: list[Bulletin], page_count: int) -> str:
    """One listing page of these bulletins, with a pager stating the page count."""
    lis = "".join(
        f'<li><a href="/{b.path}">{b.title}</a><span>{_published(b)}</span></li>' for b in items
    )
    links = " ".join(f'<a href="index_{n}.html">{n}</a>' for n in range(2, page_count + 1))
    pager = f'<div class="page">共{page_count}页 {links}</div>' if page_count > 1 else ""
    return (
        '<html><head><meta charset="utf-8"></head><body>'
        f'<ul class="list">{lis}</ul>{pager}</body></html>'
    )


@dataclass
class Site:
    """The mirror directory of the test site."""

    root: Path

    def write(self, path: str, content: str | bytes) -> None:
        """Write one file of the site (str as UTF-8)."""
        target = self.root / HOST / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)

    def publish(self, *bulletins: Bulletin) -> None:
        """Write these bulletins (newest first) and the listing pages that show them."""
        for bulletin in bulletins:
            self.write(bulletin.path, article_html(bulletin))
            if bulletin.pdf and bulletin.pdf_fixture:
                self.write(bulletin.pdf, (DOCUMENTS / bulletin.pdf_fixture).read_bytes())
        pages = [list(bulletins[i : i + PER_PAGE]) for i in range(0, len(bulletins), PER_PAGE)]
        for number, items in enumerate(pages, start=1):
            page_path = listing_page_url(number).removeprefix(f"http://{HOST}/")
            self.write(page_path, listing_html(items, len(pages)))


@dataclass
class Run:
    """One refresh: its report and the seconds the Fetcher slept (fake sleep)."""

    report: SourceReport
    sleeps: list[float] = field(default_factory=list)


def run_refresh(db: Path, server: FaultServer, *, full: bool = False) -> Run:
    """One refresh of the test source through the fault server, with small timeouts."""
    sleeps: list[float] = []
    fetcher = Fetcher(
        mirror=server.base_url,
        connect_timeout=1.0,
        read_timeout=READ_TIMEOUT,
        retries=RETRIES,
        backoff=BACKOFF,
        min_interval=0.0,
        max_bytes=SIZE_CAP,
        sleep=sleeps.append,
    )
    with fetcher:
        (report,) = refresh(db, [SOURCE], fetcher, full=full)
    return Run(report, sleeps)


# --- the archive, row by row ----------------------------------------------------------


@dataclass
class Snapshot:
    """Every row of every table (FTS shadow tables aside) and every raw file of an archive."""

    tables: dict[str, list[tuple]]
    files: dict[str, bytes]


def snapshot(db: Path) -> Snapshot:
    """The archive's rows (``select * from <t> order by 1``) and raw store files now."""
    conn = sqlite3.connect(db)
    try:
        names = [
            name
            for _, name, kind, *_ in conn.execute("PRAGMA table_list")
            if kind in ("table", "virtual") and not name.startswith("sqlite_")
        ]
        tables = {
            name: conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall() for name in names
        }
    finally:
        conn.close()
    raw = db.parent / "raw"
    files = {
        path.relative_to(db.parent).as_posix(): path.read_bytes()
        for path in sorted(raw.rglob("*"))
        if path.is_file() and not path.name.startswith(".tmp-")
    }
    return Snapshot(tables, files)


@dataclass
class Losses:
    """What an earlier snapshot held that a later one lacks (a changed row counts as lost)."""

    rows: dict[str, list[tuple]]  # table -> rows gone or changed
    files: list[str]  # raw files gone or changed

    @property
    def documents(self) -> int:
        """Archived documents lost: documents rows and raw files."""
        return len(self.rows.get("documents", [])) + len(self.files)

    @property
    def total(self) -> int:
        """Rows and files lost, all tables."""
        return sum(len(rows) for rows in self.rows.values()) + len(self.files)


# Recomputed from the bulletins at the end of every run (archive.db.update_completeness): a gap
# that a new bulletin fills, or a month that fell due, changes these rows without losing anything.
DERIVED_TABLES = frozenset({"source_calendars", "calendar_periods"})


def losses(before: Snapshot, after: Snapshot) -> Losses:
    """The rows and files of ``before`` that ``after`` does not hold unchanged (derived tables aside)."""
    rows: dict[str, list[tuple]] = {}
    for table, old_rows in before.tables.items():
        if table in DERIVED_TABLES:
            continue
        missing = Counter(old_rows) - Counter(after.tables.get(table, []))
        if missing:
            rows[table] = sorted(missing.elements(), key=repr)
    files = [path for path, data in before.files.items() if after.files.get(path) != data]
    return Losses(rows, files)


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of one query on the archive."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
