"""The published site in a real browser: Chromium, driven by Playwright, against `hotline serve`.

The archive is the bundled sample built by `hotline demo`. Expected figures are read from the
five seed bulletins (/work/shared/seeds), never from the site's own output:

- 衡东县 2020-09 (seed 004): "市民对办理结果的满意率为97.80%".
- 湛江市 2021-01 (seed 001): "服務滿意率95.22%" (Traditional in the seed).
- 聊城市 2020 Q2 (seed 000): "综合满意率97.71%" (a quarter, not a month); the only seed with
  疫情防控 ("3.疫情防控问题14272件"), and with 物业 ("物业管理").
- 岳阳市云溪区 2020 Q2 (seed 003): "物業公司" (物业 once normalised to simplified script).
- 湛江市 and 衡东县 never write 物业, 物業 or 疫情防控.

Every test writes screenshots to test-output/screenshots/<test name>[-<step>].png (emptied at
the start of each run); a failing test adds <test name>-failed.png.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    REQUIRE_BROWSER,
    PageEvents,
    SampleArchive,
    SiteServer,
    browser_unavailable_reason,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        browser_unavailable_reason() is not None and not REQUIRE_BROWSER,
        reason=str(browser_unavailable_reason()),
    ),
]

ARCHIVE_TITLE = "12345 Hotline Bulletin Archive"
SOURCE_NAMES = ["聊城市", "湛江市", "岳阳市云溪区", "衡东县"]
LIAOCHENG_Q2_TITLE = "聊城:关于2020年第二季度群众来电办理情况的通告"
YUNXI_Q2_TITLE_PART = "2020年第二季度「12345」公众服务热线"
HENGDONG_TITLE = '"12345"政府服务热线9月份运行概况'
HENGDONG_EVIDENCE = "市民对办理结果的满意率为97.80%"
HENGDONG_URL = "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"

# Reads Datasette's results table (table pages and query pages alike) as one dict per row,
# keyed by column name (the td's "col-<name>" class), valued by the cell's visible text.
ROWS_JS = """
() => [...document.querySelectorAll('table.rows-and-columns tbody tr')].map(tr =>
  Object.fromEntries([...tr.querySelectorAll('td')].map(td => {
    const cls = [...td.classList].find(c => c.startsWith('col-'));
    return [cls ? cls.slice(4) : '?', td.innerText.trim()];
  })))
"""

# Counts what each dashboard chart drew: vega's SVG marks by type (g.mark-line, g.mark-rect, ...)
# that cover some area (a line through a single point has an empty box and does not count), or,
# for a canvas, the pixels that are not blank.
CHART_MARKS_JS = """
() => [...document.querySelectorAll('.dashboard-card-chart')].map(card => {
  const marks = {};
  for (const g of card.querySelectorAll('svg g.role-mark')) {
    const type = [...g.classList].find(c => c.startsWith('mark-'));
    const drawn = [...g.querySelectorAll('path, line, rect, circle')].filter(el => {
      const box = el.getBBox();
      return box.width > 0 || box.height > 0;
    }).length;
    marks[type] = (marks[type] || 0) + drawn;
  }
  let inked = 0;
  for (const canvas of card.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
  }
  const graphics = card.querySelector('svg.marks, canvas.marks, canvas') !== null;
  return {id: card.id, graphics, marks, inked};
})
"""


def rows(page: Any) -> list[dict[str, str]]:
    """The visible rows of the page's Datasette results table."""
    return page.evaluate(ROWS_JS)


def run_canned_query(page: Any, base_url: str, name: str, **params: str) -> None:
    """Open a canned query's page, fill its parameter fields as a reader would, and run it."""
    page.goto(f"{base_url}/archive/{name}")
    for param, value in params.items():
        page.fill(f'form.sql input[name="{param}"]', value)
    with page.expect_navigation():
        page.click('form.sql input[type="submit"]')
    page.wait_for_selector("table.rows-and-columns")


def test_home_page_says_what_the_archive_is_and_which_sources_it_covers(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    page.goto(site.base_url + "/")
    screenshot(page)
    assert ARCHIVE_TITLE in page.locator("h1").first.inner_text()
    text = page.locator("body").inner_text()
    assert "How to cite" in text
    missing = [name for name in SOURCE_NAMES if name not in text]
    assert not missing, f"home page does not name the sources {missing}"
    # Periods covered: the five seeds' periods, as the archive labels them.
    missing = [p for p in ("2015-06", "2020-Q2", "2020-09", "2021-01") if p not in text]
    assert not missing, f"home page does not name the periods {missing}"


def test_metric_across_sources_shows_each_citys_monthly_satisfaction_rate(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    run_canned_query(
        page,
        site.base_url,
        "metric_across_sources",
        metric="satisfaction_rate",
        period_type="month",
    )
    screenshot(page)
    shown = {(r["source"], r["period_label"], r["value"]) for r in rows(page)}
    assert ("hengdong", "2020-09", "97.8") in shown
    assert ("zhanjiang", "2021-01", "95.22") in shown
    # Liaocheng's 97.71 is a quarter's figure: period_type=month leaves it out.
    assert not any(source == "liaocheng" for source, _, _ in shown)
    assert HENGDONG_EVIDENCE in page.locator("table.rows-and-columns").inner_text()


def draw_dashboard(page: Any, url: str, ready_js: str) -> list[dict[str, Any]]:
    """Open the dashboard, wait until ready_js (over `charts`) holds, and say what each chart drew.

    The dashboard's own data requests (`*.json?sql=`) must all succeed and no script may fail.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    data_statuses: list[tuple[int, str]] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: data_statuses.append((r.status, r.url)) if ".json?sql=" in r.url else None,
    )
    page.goto(url)
    # vega draws asynchronously after fetching each chart's rows: wait for the marks themselves.
    try:
        page.wait_for_function(f"(charts => {ready_js})(({CHART_MARKS_JS})())")
    except PlaywrightTimeoutError:
        pass  # the caller's assertions say what was drawn instead
    page.wait_for_load_state("networkidle")
    charts = page.evaluate(CHART_MARKS_JS)
    assert charts, "no .dashboard-card-chart on the dashboard"
    blank = [
        c["id"] for c in charts if c["graphics"] and not (sum(c["marks"].values()) or c["inked"])
    ]
    assert blank == [], f"charts drawn empty: {charts}"
    assert data_statuses and all(status == 200 for status, _ in data_statuses), data_statuses
    assert errors == []
    return charts


def test_dashboard_draws_each_sources_satisfaction_rate_as_points_and_ranked_bars(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    # Four sources state a satisfaction rate (Liaocheng 2020 Q2, Zhanjiang 2021-01, Yunxi
    # 2020 Q2, Hengdong 2020-09): the default metric gives four points and four ranked bars.
    charts = draw_dashboard(
        page,
        site.base_url + "/-/dashboards/hotline",
        "charts.some(c => c.marks['mark-symbol'] >= 4) && charts.some(c => c.marks['mark-rect'] >= 4)",
    )
    screenshot(page)
    assert [c for c in charts if c["marks"].get("mark-symbol") == 4], charts
    assert [c for c in charts if c["marks"].get("mark-rect") == 4], charts


def test_dashboard_period_type_filter_redraws_the_charts_with_the_monthly_figures(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    # Monthly satisfaction rates: only Hengdong 2020-09 (97.80) and Zhanjiang 2021-01 (95.22).
    draw_dashboard(
        page,
        site.base_url + "/-/dashboards/hotline",
        "charts.some(c => c.marks['mark-rect'] >= 4)",
    )
    page.select_option("select#period_type", "month")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "period_type=month" in page.url
    charts = draw_dashboard(
        page,
        page.url,
        "charts.some(c => c.marks['mark-symbol'] === 2) && charts.some(c => c.marks['mark-rect'] === 2)",
    )
    screenshot(page)
    assert [c for c in charts if c["marks"].get("mark-symbol") == 2], charts
    (ranking,) = [c for c in charts if c["marks"].get("mark-rect") == 2]
    labels = page.locator(f"#{ranking['id']} svg.marks").text_content()
    assert "衡东县" in labels and "湛江市" in labels
    assert "聊城市" not in labels and "岳阳市云溪区" not in labels


def test_full_text_search_finds_liaocheng_q2_for_yiqing_fangkong(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    page.goto(site.base_url + "/archive/bulletins")
    page.fill('input[name="_search"]', "疫情防控")
    with page.expect_navigation():
        page.press('input[name="_search"]', "Enter")
    page.wait_for_selector("table.rows-and-columns")
    screenshot(page, full_page=False)  # the row holds the whole text: keep to the window
    found = rows(page)
    assert [r["title"] for r in found] == [LIAOCHENG_Q2_TITLE]


def test_search_text_finds_two_character_words_wuye(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    run_canned_query(page, site.base_url, "search_text", q="物业")
    screenshot(page)
    found = rows(page)
    titles = {r["title"] for r in found}
    assert LIAOCHENG_Q2_TITLE in titles
    assert any(YUNXI_Q2_TITLE_PART in t for t in titles), titles
    assert not {r["source"] for r in found} & {"hengdong", "zhanjiang"}
    # The context column shows the word where it was found.
    assert all("物业" in r["context"] for r in found if r["found_in"] == "bulletins.text")


def assert_raw_copy_on_click(site: SampleArchive, page: Any, link: Any) -> str:
    """Click a raw-copy link; the browser must receive the stored file byte for byte. Returns the sha256."""
    href = link.get_attribute("href")
    sha = href.rstrip("/").rsplit("/", 1)[1]
    ((stored_path, content_type),) = site.query(
        "select path, content_type from documents where id = ?", (sha,)
    )
    stored = (site.db_path.parent / stored_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == sha
    with page.expect_response(lambda r: "/-/raw/" in r.url) as response_info:
        link.click()
    response = response_info.value
    assert response.status == 200
    assert response.body() == stored
    assert response.headers["content-type"].split(";")[0] == content_type.split(";")[0]
    return sha


def hengdong_satisfaction_document() -> str:
    """SQL: the document Hengdong's satisfaction rate was read from."""
    return (
        "select m.document_id from metrics as m join bulletins as b on b.id = m.bulletin_id"
        " where m.metric = 'satisfaction_rate' and b.source = 'hengdong'"
    )


def test_provenance_query_leads_from_a_figure_to_its_evidence_and_raw_copy(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    run_canned_query(page, site.base_url, "provenance", metric="satisfaction_rate")
    row = page.locator("table.rows-and-columns tbody tr", has_text=HENGDONG_EVIDENCE)
    assert row.count() == 1
    screenshot(page, "query")
    row_text = row.inner_text()
    assert "97.8" in row_text
    assert HENGDONG_TITLE in row_text
    assert HENGDONG_URL in row_text
    sha = assert_raw_copy_on_click(site, page, row.locator('a[href*="/-/raw/"]').first)
    # The raw copy is the bulletin's own page: the document the figure was read from.
    assert site.query(hengdong_satisfaction_document()) == [(sha,)]
    assert site.query("select url from documents where id = ?", (sha,)) == [(HENGDONG_URL,)]
    screenshot(page, "raw-copy")

    unknown = page.request.get(f"{site.base_url}/-/raw/{'0' * 64}")
    assert unknown.status == 404


def test_metrics_table_links_a_figure_to_its_bulletin_and_raw_copy(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    table_url = (
        site.base_url + "/archive/metrics?metric=satisfaction_rate&bulletin_id__startswith=hengdong"
    )
    page.goto(table_url)
    page.wait_for_selector("table.rows-and-columns")
    screenshot(page, "metrics")
    (row,) = rows(page)
    assert row["value"] == "97.8"
    assert row["evidence"] == HENGDONG_EVIDENCE

    # One click from the figure to its archived original.
    raw_link = page.locator('table.rows-and-columns td.col-document_id a[href*="/-/raw/"]')
    sha = assert_raw_copy_on_click(site, page, raw_link)
    assert site.query(hengdong_satisfaction_document()) == [(sha,)]

    page.goto(table_url)
    page.locator('table.rows-and-columns td.col-bulletin_id a[href*="/archive/bulletins/"]').click()
    page.wait_for_load_state()
    screenshot(page, "bulletin", full_page=False)
    body = page.locator("body").inner_text()
    assert HENGDONG_TITLE in body
    assert "2020-09" in body


def test_a_bulletins_docx_attachment_downloads_byte_for_byte(
    site: SampleArchive, page: Any, screenshot: Any
) -> None:
    # Hengdong's article links a .docx of its two tables (samples/README.md, "Attachments").
    page.goto(
        site.base_url
        + "/archive/bulletin_documents?role=attachment&bulletin_id__startswith=hengdong"
    )
    page.wait_for_selector("table.rows-and-columns")
    screenshot(page)
    raw_link = page.locator('table.rows-and-columns td.col-document_id a[href*="/-/raw/"]')
    sha = raw_link.get_attribute("href").rsplit("/", 1)[1]
    ((stored_path, url),) = site.query("select path, url from documents where id = ?", (sha,))
    assert url == "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/2175343.docx"
    with page.expect_download() as download_info:
        raw_link.click()
    download = download_info.value
    assert Path(download.path()).read_bytes() == (site.db_path.parent / stored_path).read_bytes()
    assert download.suggested_filename.endswith(".docx")


XSS_MARKER = "xss-probe"
XSS_TITLE = (
    f'<script>window.__xss="{XSS_MARKER}";console.log("{XSS_MARKER}");alert("{XSS_MARKER}")</script>'
    f"<img src=x onerror=\"window.__xss=1;console.log('{XSS_MARKER}-img')\">公报"
)


@pytest.fixture(scope="module")
def hostile_site(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A copy of the sample archive with one more bulletin whose title and evidence are markup."""
    import sqlite_utils

    from archive.db import write_bulletin
    from parsers.model import Bulletin, Metric, Period

    directory = tmp_path_factory.mktemp("hostile-archive")
    db_path = directory / "archive.db"
    source = sqlite3.connect(demo_dir / "archive.db")
    target = sqlite3.connect(db_path)
    source.backup(target)
    source.close()
    target.close()
    db = sqlite_utils.Database(db_path)
    (document_id,) = db.execute(
        "select document_id from bulletin_documents as bd join bulletins as b"
        " on b.id = bd.bulletin_id where b.source = 'hengdong' and bd.role = 'article'"
    ).fetchone()
    bulletin = Bulletin(
        title=XSS_TITLE,
        period=Period("month", "2020-10-01", "2020-10-31", period_label="2020-10"),
        metrics=[Metric("satisfaction_rate", 12.5, "percent", evidence=XSS_TITLE)],
        text=f"{XSS_TITLE} 物业",
        original_text=XSS_TITLE,
    )
    write_bulletin(
        db,
        bulletin,
        bulletin_id="hengdong-xss",
        source="hengdong",
        url=None,
        document_ids={"article": document_id},
    )
    db.close()
    server = SiteServer(db_path)
    server.start()
    try:
        yield SampleArchive(db_path, server.base_url)
    finally:
        server.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/archive/bulletins/hengdong-xss",
        "/archive/bulletins?source=hengdong",
        "/archive/bulletin_comparison?source=hengdong",
        "/archive/metrics?bulletin_id=hengdong-xss",
        "/archive/metric_across_sources?metric=satisfaction_rate&period_type=month",
        "/archive/search_text?q=xss-probe",
        "/archive/provenance?bulletin=hengdong-xss",
        "/-/dashboards/hotline",
    ],
    ids=[
        "bulletin-row",
        "bulletins-table",
        "comparison-view",
        "metrics-table",
        "metric_across_sources",
        "search_text",
        "provenance",
        "dashboard",
    ],
)
def test_markup_in_a_bulletin_title_is_shown_as_text_and_never_runs(
    hostile_site: SampleArchive, page: Any, page_events: PageEvents, screenshot: Any, path: str
) -> None:
    response = page.goto(hostile_site.base_url + path)
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    screenshot(page)
    assert page.evaluate("window.__xss") is None
    assert page_events.dialogs == []
    assert not [m for m in page_events.console if XSS_MARKER in m]
    assert page.evaluate(
        "[...document.scripts].every(s => !s.textContent.includes('window.__xss'))"
    )
    assert page.locator("img[onerror]").count() == 0
    if not path.startswith("/-/dashboards"):
        # The markup is there, as text a reader can see.
        assert "<script>window.__xss" in page.locator("body").inner_text()
