"""A cron-style loop of refreshes against a changing loopback site, and what the archive then says.

The story, one refresh a day (a --full walk on day 3, as the weekly timer does):

- day 1: the county's column lists the bulletins of May, June, July and September 2020 (August
  was never published); a second source, a town, lists one bulletin. Both archived.
- day 2: the county publishes October. Found by the incremental walk.
- day 3: the county corrects July's article (受理群众诉求 1000 -> 1100 件) and takes June down
  (gone from the listing, the page answers 404); the town's server starts answering 503.
  The --full walk finds the correction and the takedown.
- day 4: nothing new; the town still fails.
- day 5: the county publishes November.

The test then reads the runs table and the source_status view (status page), metric_revisions,
takedowns and the bulletins as Datasette would show them. Every figure below follows from the
story, not from running the code: e.g. the county's requests on day 2 are its listing page, the
October article (new) and nothing else (the walk stops at the first page all known).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from faults.harness import Bulletin, article_html, listing_html
from faults.server import FaultServer, http_error
from test_site import make_datasette, plugin_registry  # noqa: F401 (a fixture)

import scrapers.http
from archive.build import bulletin_id_for
from archive.refresh import refresh
from scrapers.base import Source
from scrapers.http import Fetcher

COUNTY_HOST = "hotline.fault.example"
TOWN_HOST = "rx.town.example"
COUNTY = Source(
    slug="storycounty",
    name="测试县",
    province="测试省",
    level="county",
    division_code=None,
    homepage=f"http://{COUNTY_HOST}/",
    listing_urls=(f"http://{COUNTY_HOST}/rx/index.html",),
    platform="generic",
    allowed_hosts=(COUNTY_HOST,),
)
TOWN = Source(
    slug="storytown",
    name="测试镇",
    province="测试省",
    level="county",
    division_code=None,
    homepage=f"http://{TOWN_HOST}/",
    listing_urls=(f"http://{TOWN_HOST}/rx/index.html",),
    platform="generic",
    allowed_hosts=(TOWN_HOST,),
)

MAY = Bulletin(5, "rx/202006/t20200605_05.html", 900, "95.0")
JUNE = Bulletin(6, "rx/202007/t20200705_06.html", 950, "95.2")
JULY = Bulletin(7, "rx/202008/t20200805_07.html", 1000, "96.1")
JULY_CORRECTED = Bulletin(7, "rx/202008/t20200805_07.html", 1100, "96.1")
SEPTEMBER = Bulletin(9, "rx/202010/t20201005_09.html", 1200, "96.5")
OCTOBER = Bulletin(10, "rx/202011/t20201105_10.html", 1300, "96.8")
NOVEMBER = Bulletin(11, "rx/202012/t20201205_11.html", 1400, "97.0")
TOWN_JULY = Bulletin(7, "rx/202008/t20200806_07.html", 300, "99.0")

DAYS = {
    1: "2020-11-20",
    2: "2020-11-21",
    3: "2020-11-22",
    4: "2020-11-23",
    5: "2020-12-06",
}


class Clock:
    """A fake UTC clock: each reading is one second after the last, within the story's day."""

    def __init__(self) -> None:
        self.day = DAYS[1]
        self.seconds = 0

    def set_day(self, day: int) -> None:
        self.day, self.seconds = DAYS[day], 0

    def __call__(self) -> str:
        self.seconds += 1
        return f"{self.day}T06:{self.seconds // 60:02d}:{self.seconds % 60:02d}Z"


@dataclass
class Story:
    db: Path
    run_starts: dict[int, str]  # day -> the started_at of that day's run


def _publish(root: Path, host: str, bulletins: list[Bulletin]) -> None:
    """Write the articles and the one listing page of a host (newest first)."""
    for bulletin in bulletins:
        path = root / host / bulletin.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_html(bulletin), encoding="utf-8")
    listing = root / host / "rx" / "index.html"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text(listing_html(bulletins, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("site")
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    clock = Clock()
    patch = pytest.MonkeyPatch()
    patch.setattr(scrapers.http, "_now_iso", clock)  # fetched_at on the same story clock
    run_starts: dict[int, str] = {}
    _publish(root, COUNTY_HOST, [SEPTEMBER, JULY, JUNE, MAY])
    _publish(root, TOWN_HOST, [TOWN_JULY])
    try:
        with FaultServer(root) as server:

            def run(day: int, *, full: bool = False) -> None:
                clock.set_day(day)
                run_starts[day] = f"{DAYS[day]}T06:00:01Z"  # the run's first clock reading
                fetcher = Fetcher(mirror=server.base_url, min_interval=0.0, retries=0)
                with fetcher:
                    refresh(db, [COUNTY, TOWN], fetcher, full=full, clock=clock)

            run(1)
            _publish(root, COUNTY_HOST, [OCTOBER, SEPTEMBER, JULY, JUNE, MAY])
            run(2)
            (root / COUNTY_HOST / JUNE.path).unlink()
            _publish(root, COUNTY_HOST, [OCTOBER, SEPTEMBER, JULY_CORRECTED, MAY])
            server.inject(TOWN.listing_urls[0], http_error(503))
            run(3, full=True)
            run(4)
            _publish(root, COUNTY_HOST, [NOVEMBER, OCTOBER, SEPTEMBER, JULY_CORRECTED, MAY])
            run(5)
    finally:
        patch.undo()
    yield Story(db, run_starts)


def query(story: Story, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(story.db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def bid(bulletin: Bulletin, host: str = COUNTY_HOST, source: Source = COUNTY) -> str:
    return bulletin_id_for(source.slug, f"http://{host}/{bulletin.path}")


# --- the runs table ---------------------------------------------------------------------------


def test_one_run_a_day_with_its_status_and_exit_code(story: Story) -> None:
    assert query(
        story, "SELECT id, command, full_walk, status, exit_code FROM runs ORDER BY id"
    ) == [
        (1, "refresh", 0, "ok", 0),
        (2, "refresh", 0, "ok", 0),
        (3, "refresh", 1, "errors", 2),
        (4, "refresh", 0, "errors", 2),
        (5, "refresh", 0, "errors", 2),
    ]


def test_runs_start_and_end_on_their_day(story: Story) -> None:
    runs = query(story, "SELECT id, started_at, ended_at FROM runs ORDER BY id")
    for (run_id, started, ended), day in zip(runs, DAYS, strict=True):
        assert started == story.run_starts[day], run_id
        assert ended is not None and ended[:10] == DAYS[day] and ended > started


def test_runs_count_what_was_new(story: Story) -> None:
    # Day 1: 4 county bulletins + 1 town bulletin; day 2 October; day 5 November.
    assert query(
        story, "SELECT id, sources, new_bulletins, updated_bulletins, errors FROM runs ORDER BY id"
    ) == [(1, 2, 5, 0, 0), (2, 2, 1, 0, 0), (3, 2, 0, 1, 1), (4, 2, 0, 0, 1), (5, 2, 1, 0, 1)]


def test_runs_count_the_takedown_on_day_3(story: Story) -> None:
    assert query(story, "SELECT id, taken_down FROM runs ORDER BY id") == [
        (1, 0),
        (2, 0),
        (3, 1),
        (4, 0),
        (5, 0),
    ]


def test_county_documents_per_run(story: Story) -> None:
    # Day 1: listing + 4 articles. Day 2: the listing changed, October is new. Day 3 (full):
    # the listing changed, July's article changed. Day 4: the listing 304, stop. Day 5: the
    # listing changed, November is new.
    assert query(
        story,
        "SELECT run_id, requests, not_modified, new_documents, changed_documents"
        " FROM run_sources WHERE source = 'storycounty' ORDER BY run_id",
    ) == [
        (1, 5, 0, 5, 0),
        (2, 2, 0, 1, 1),
        # listing + the 4 listed articles asked again; May, September, October answer 304
        (3, 5, 3, 0, 2),
        (4, 1, 1, 0, 0),
        (5, 2, 0, 1, 1),
    ]


def test_town_runs_record_the_error(story: Story) -> None:
    rows = query(
        story,
        "SELECT run_id, status, error FROM run_sources WHERE source = 'storytown' ORDER BY run_id",
    )
    assert [r[:2] for r in rows] == [
        (1, "ok"),
        (2, "ok"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
    ]
    assert rows[2][2] == f"listing page {TOWN.listing_urls[0]}: http 503"


# --- the status page --------------------------------------------------------------------------


def test_status_page_says_the_county_is_healthy_and_when_it_last_found_something(
    story: Story,
) -> None:
    assert query(
        story,
        "SELECT health, last_status, failing_since, consecutive_failures, bulletins,"
        " no_longer_online, runs FROM source_status WHERE source = 'storycounty'",
    ) == [("healthy", "ok", None, 0, 6, 1, 5)]
    # November was found on day 5, in the county's part of run 5.
    assert query(
        story, "SELECT last_new_bulletin_at FROM source_status WHERE source = 'storycounty'"
    ) == query(
        story, "SELECT started_at FROM run_sources WHERE run_id = 5 AND source = 'storycounty'"
    )


def test_status_page_says_since_when_the_town_is_failing(story: Story) -> None:
    ((health, error, since, count, last_success, last_new),) = query(
        story,
        "SELECT health, last_error, failing_since, consecutive_failures, last_success_at,"
        " last_new_bulletin_at FROM source_status WHERE source = 'storytown'",
    )
    assert (health, count) == ("failing", 3)
    assert error == f"listing page {TOWN.listing_urls[0]}: http 503"

    def town_start(run_id: int) -> str:
        ((started,),) = query(
            story,
            "SELECT started_at FROM run_sources WHERE run_id = ? AND source = 'storytown'",
            (run_id,),
        )
        return started

    assert (since, last_success, last_new) == (town_start(3), town_start(2), town_start(1))
    assert (since[:10], last_success[:10], last_new[:10]) == (DAYS[3], DAYS[2], DAYS[1])


# --- revisions --------------------------------------------------------------------------------


def test_the_correction_is_one_revision_old_new_and_when(story: Story) -> None:
    rows = query(
        story,
        "SELECT bulletin_id, metric, change, old_value, new_value, old_version, new_version"
        " FROM metric_revisions",
    )
    assert rows == [(bid(JULY), "requests_total", "changed", 1000.0, 1100.0, 1, 2)]
    ((revised_at,),) = query(story, "SELECT revised_at FROM metric_revisions")
    assert revised_at[:10] == DAYS[3]


def test_both_versions_of_july_are_kept(story: Story) -> None:
    versions = query(
        story,
        "SELECT version, seen_at, superseded_at FROM bulletin_versions WHERE bulletin_id = ?"
        " ORDER BY version",
        (bid(JULY),),
    )
    assert [v[0] for v in versions] == [1, 2]
    assert versions[0][1][:10] == DAYS[1] and versions[0][2] == versions[1][1]
    assert versions[1][1][:10] == DAYS[3] and versions[1][2] is None
    old = query(
        story,
        "SELECT value FROM superseded_metrics WHERE bulletin_id = ? AND version = 1"
        " AND metric = 'requests_total' AND derived = 0",
        (bid(JULY),),
    )
    new = query(
        story,
        "SELECT value FROM metrics WHERE bulletin_id = ? AND metric = 'requests_total'"
        " AND derived = 0",
        (bid(JULY),),
    )
    assert (old, new) == ([(1000.0,)], [(1100.0,)])
    # Both article bodies are in the archive, under the same URL.
    assert query(
        story,
        "SELECT count(*) FROM documents WHERE url = ?",
        (f"http://{COUNTY_HOST}/{JULY.path}",),
    ) == [(2,)]


def test_bulletins_never_changed_have_one_version(story: Story) -> None:
    assert query(
        story,
        "SELECT count(*) FROM bulletin_versions WHERE bulletin_id != ? AND version > 1",
        (bid(JULY),),
    ) == [(0,)]
    assert query(story, "SELECT count(*) FROM bulletin_versions") == [(8,)]


# --- takedowns --------------------------------------------------------------------------------


def test_june_is_recorded_as_taken_down_on_day_3(story: Story) -> None:
    rows = query(
        story,
        "SELECT url, source, bulletin_id, reason, back_online_at FROM takedowns",
    )
    assert rows == [
        (f"http://{COUNTY_HOST}/{JUNE.path}", "storycounty", bid(JUNE), "left the listing", None)
    ]
    ((missing_since, last_checked),) = query(
        story, "SELECT missing_since, last_checked_at FROM takedowns"
    )
    assert missing_since[:10] == DAYS[3]
    # The county's listing is one page: days 4 and 5 walked all of it and found June still gone.
    assert last_checked[:10] == DAYS[5]


def test_the_archived_copy_of_june_stays(story: Story) -> None:
    assert query(
        story,
        "SELECT b.period_label, m.value FROM bulletins b JOIN metrics m ON m.bulletin_id = b.id"
        " WHERE b.id = ? AND m.metric = 'requests_total' AND m.derived = 0",
        (bid(JUNE),),
    ) == [("2020-06", 950.0)]
    ((document_id,),) = query(story, "SELECT document_id FROM takedowns")
    (path,) = query(story, "SELECT path FROM documents WHERE id = ?", (document_id,))[0]
    assert (story.db.parent / path).is_file()


def test_every_county_bulletin_of_the_story_is_archived(story: Story) -> None:
    assert query(
        story,
        "SELECT period_label FROM bulletins WHERE source = 'storycounty' ORDER BY period_start",
    ) == [("2020-05",), ("2020-06",), ("2020-07",), ("2020-09",), ("2020-10",), ("2020-11",)]


# --- completeness calendar --------------------------------------------------------------------


def test_the_county_is_monthly_with_august_missing(story: Story) -> None:
    # Each bulletin is published on the 5th of the next month: a lag of 5 days for May (31st),
    # June (30th) ... so the median lag, and the grace before a month counts as due, is 5 days.
    # On day 5 (2020-12-06) November (due 12-05) is expected; December is not yet due.
    assert query(
        story,
        "SELECT cadence, first_period, last_expected, expected, found, missing,"
        " median_lag_days, as_of FROM source_calendars WHERE source = 'storycounty'",
    ) == [("month", "2020-05", "2020-11", 7, 6, 1, 5.0, DAYS[5])]
    assert query(
        story,
        "SELECT period_label, status, lag_days FROM calendar_periods"
        " WHERE source = 'storycounty' ORDER BY period_start",
    ) == [
        ("2020-05", "found", 5),
        ("2020-06", "found", 5),  # taken down, but archived: found
        ("2020-07", "found", 5),
        ("2020-08", "missing", None),
        ("2020-09", "found", 5),
        ("2020-10", "found", 5),
        ("2020-11", "found", 5),
    ]


def test_one_bulletin_tells_no_cadence(story: Story) -> None:
    assert query(
        story, "SELECT cadence, expected, missing FROM source_calendars WHERE source = 'storytown'"
    ) == [("unknown", 0, 0)]


# --- what a reader sees in Datasette ----------------------------------------------------------


@pytest.fixture(scope="module")
def site(story: Story, plugin_registry: None):  # noqa: F811 (the fixture imported above)
    return make_datasette(story.db)


@pytest.mark.asyncio
async def test_datasette_says_june_is_no_longer_online(site) -> None:
    response = await site.client.get(f"/archive/bulletins/{bid(JUNE)}")
    assert response.status_code == 200
    assert f"已下线 no longer online since {DAYS[3]} (left the listing)" in response.text
    # ...and a bulletin still online says nothing of the kind.
    response = await site.client.get(f"/archive/bulletins/{bid(MAY)}")
    assert "no longer online" not in response.text


@pytest.mark.asyncio
async def test_datasette_status_page_and_revisions(site) -> None:
    status = (await site.client.get("/archive/source_status.json?_shape=array")).json()
    assert [(r["source"], r["health"]) for r in status] == [
        ("storycounty", "healthy"),
        ("storytown", "failing"),
    ]
    revisions = (await site.client.get("/archive/metric_revisions.json?_shape=array")).json()
    assert [(r["metric"], r["old_value"], r["new_value"]) for r in revisions] == [
        ("requests_total", 1000.0, 1100.0)
    ]


@pytest.mark.asyncio
async def test_the_feed_tells_what_was_new_and_when(site) -> None:
    import xml.etree.ElementTree as ET

    atom = "{http://www.w3.org/2005/Atom}"
    response = await site.client.get("/archive/new_bulletins.atom?source=storycounty")
    assert response.status_code == 200
    entries = ET.fromstring(response.text).findall(f"{atom}entry")
    found = [
        (e.find(f"{atom}id").text.rsplit("/", 1)[1], e.find(f"{atom}updated").text[:10])
        for e in entries
    ]
    # Newest first: November (day 5), October (day 2), then day 1's four, July among them with
    # its first-seen day although it was revised on day 3 (a revision is not a new bulletin).
    assert found[:2] == [(bid(NOVEMBER), DAYS[5]), (bid(OCTOBER), DAYS[2])]
    assert sorted(found[2:]) == sorted((bid(b), DAYS[1]) for b in (MAY, JUNE, JULY, SEPTEMBER))
    overall = await site.client.get("/archive/new_bulletins.atom?source=")
    assert len(ET.fromstring(overall.text).findall(f"{atom}entry")) == 7


@pytest.mark.asyncio
async def test_a_figure_of_june_links_its_archived_copy_and_says_the_source_is_gone(site) -> None:
    response = await site.client.get(
        f"/archive/provenance?metric=requests_total&source=&bulletin={bid(JUNE)}"
    )
    assert response.status_code == 200
    ((document_id,),) = query_story_db(site)
    assert f"/-/raw/{document_id}" in response.text
    assert f"已下线 no longer online since {DAYS[3]} (left the listing)" in response.text


def query_story_db(site) -> list[tuple]:
    path = site.databases["archive"].path
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT document_id FROM takedowns").fetchall()
    finally:
        conn.close()
