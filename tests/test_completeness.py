"""archive/completeness.py (cadence, expected periods, gaps, publication lag) and its tables."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils
import yaml

from archive.completeness import (
    BulletinPeriod,
    CalendarPeriod,
    build_calendar,
    grace_for,
    infer_cadence,
    median_lag,
    publication_lag_days,
    slot_of,
    slot_period,
)
from archive.db import (
    ensure_db_shape,
    update_completeness,
    upsert_document,
    upsert_source,
    write_bulletin,
)
from parsers.model import Bulletin, Period

ROOT = Path(__file__).resolve().parent.parent
QUERIES = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["databases"][
    "archive"
]["queries"]


def b(
    bulletin_id: str, period_type: str | None, start: str, end: str, published: str | None = None
) -> BulletinPeriod:
    return BulletinPeriod(bulletin_id, period_type, start, end, published)


def summary(periods: tuple[CalendarPeriod, ...]) -> list[tuple]:
    return [(p.period_label, p.status, p.bulletin_ids) for p in periods]


# --- publication lag -------------------------------------------------------------------------


def test_publication_lag_days() -> None:
    assert publication_lag_days("2021-02-03", "2021-01-31") == 3
    # Published before the period ended (a stat window closing on the 25th): negative.
    assert publication_lag_days("2021-01-25", "2021-01-31") == -6
    assert publication_lag_days("2024-03-12", "2024-02-29") == 12  # leap year
    assert publication_lag_days(None, "2021-01-31") is None
    assert publication_lag_days("2021-02-03", None) is None
    assert publication_lag_days("2021-02", "2021-01-31") is None


def test_median_lag_odd_even_and_missing_dates() -> None:
    assert median_lag([3, None, 1, 2]) == 2.0
    assert median_lag([4, 1, 3, 2]) == 2.5
    assert median_lag([10, -2]) == 4.0
    assert median_lag([None, None]) is None
    assert median_lag([]) is None


def test_grace_from_median_or_default() -> None:
    assert grace_for("month", 11.5) == (11.5, "median publication lag 11.5 days")
    # A period cannot be due before it ends, whatever the lag.
    assert grace_for("week", -1.0) == (0.0, "median publication lag -1 days")
    assert grace_for("quarter", None) == (
        45.0,
        "default for quarterly bulletins (45 days; no publication dates)",
    )


# --- cadence ---------------------------------------------------------------------------------


def test_cadence_main_series_wins() -> None:
    bulletins = [
        *(b(f"m{m}", "month", f"2023-{m:02d}-01", f"2023-{m:02d}-28") for m in range(1, 12)),
        b("y", "year", "2023-01-01", "2023-12-31"),
    ]
    cadence = infer_cadence(bulletins)
    assert (cadence.period_type, cadence.count, cadence.total) == ("month", 11, 12)
    assert cadence.basis == "11 of 12 bulletins are monthly"


def test_cadence_too_few_or_none() -> None:
    few = [
        b("m", "month", "2023-01-01", "2023-01-31"),
        b("q", "quarter", "2023-04-01", "2023-06-30"),
        b("o", "other", "2023-02-10", "2023-02-17"),
    ]
    cadence = infer_cadence(few)
    assert cadence.period_type is None and cadence.name == "unknown"
    assert cadence.basis == (
        "too few to tell: 1 monthly, 1 quarterly of 3 bulletins"
        " (at least 2 of one period type are needed)"
    )
    # Ten-day and holiday reports (other) have no calendar, however many there are.
    others = [b(f"o{i}", "other", f"2023-0{i}-01", f"2023-0{i}-10") for i in range(1, 6)]
    assert infer_cadence(others).basis == (
        "none of 5 bulletins has a week, month, quarter, half-year or year period"
    )
    assert infer_cadence([]).basis == "no bulletins archived"
    calendar = build_calendar(few, "2024-01-01")
    assert calendar.periods == () and (calendar.expected, calendar.missing) == (0, 0)
    assert calendar.grace_days is None and calendar.grace_basis == "cadence unknown"


def test_cadence_tie_takes_the_shorter_period() -> None:
    bulletins = [
        b("q1", "quarter", "2023-01-01", "2023-03-31"),
        b("m1", "month", "2023-04-01", "2023-04-30"),
        b("q2", "quarter", "2023-04-01", "2023-06-30"),
        b("m2", "month", "2023-05-01", "2023-05-31"),
    ]
    cadence = infer_cadence(bulletins)
    assert cadence.period_type == "month"
    assert cadence.basis == (
        "2 of 4 bulletins are monthly (as many are quarterly; the shorter period is taken)"
    )


# --- periods ---------------------------------------------------------------------------------


def test_slot_periods_and_labels() -> None:
    assert slot_period("month", slot_of("month", date(2023, 12, 1))) == (
        "2023-12",
        date(2023, 12, 1),
        date(2023, 12, 31),
    )
    assert slot_of("month", date(2024, 1, 1)) == slot_of("month", date(2023, 12, 1)) + 1
    assert slot_period("quarter", slot_of("quarter", date(2023, 11, 5))) == (
        "2023-Q4",
        date(2023, 10, 1),
        date(2023, 12, 31),
    )
    assert slot_period("half_year", slot_of("half_year", date(2022, 7, 1))) == (
        "2022-H2",
        date(2022, 7, 1),
        date(2022, 12, 31),
    )
    assert slot_period("year", 2023) == ("2023", date(2023, 1, 1), date(2023, 12, 31))
    # ISO weeks: 2024-12-30 (a Monday) starts 2025-W01; a Friday start stays in its week.
    week = slot_of("week", date(2024, 12, 30))
    assert slot_period("week", week) == ("2025-W01", date(2024, 12, 30), date(2025, 1, 5))
    assert slot_period("week", week - 1) == ("2024-W52", date(2024, 12, 23), date(2024, 12, 29))
    assert slot_period("week", week, 4) == ("2025-W01", date(2025, 1, 3), date(2025, 1, 9))
    assert slot_of("week", date(2025, 1, 5)) == week  # Sunday: the same ISO week


def test_monthly_with_a_gap() -> None:
    bulletins = [
        b("a", "month", "2024-01-01", "2024-01-31", "2024-02-10"),  # lag 10
        b("b", "month", "2024-02-01", "2024-02-29", "2024-03-12"),  # lag 12
        b("c", "month", "2024-04-01", "2024-04-30", "2024-05-08"),  # lag 8
    ]
    calendar = build_calendar(bulletins, "2024-06-15")
    assert calendar.cadence.basis == "3 of 3 bulletins are monthly"
    assert calendar.median_lag_days == 10.0 and calendar.grace_days == 10.0
    # May is due on 05-31 + 10 days = 06-10 (missing by 06-15); June on 07-10 (not listed).
    assert summary(calendar.periods) == [
        ("2024-01", "found", ("a",)),
        ("2024-02", "found", ("b",)),
        ("2024-03", "missing", ()),
        ("2024-04", "found", ("c",)),
        ("2024-05", "missing", ()),
    ]
    assert calendar.periods[2] == CalendarPeriod(
        "2024-03", "2024-03-01", "2024-03-31", "2024-04-10", "missing"
    )
    assert calendar.periods[1].lag_days == 12 and calendar.periods[1].published_date == "2024-03-12"
    assert (calendar.first_period, calendar.last_expected) == ("2024-01", "2024-05")
    assert (calendar.expected, calendar.found, calendar.missing) == (5, 3, 2)


def test_weekly_across_a_year_end() -> None:
    bulletins = [
        b("w52", "week", "2024-12-23", "2024-12-29", "2024-12-31"),  # lag 2
        b("w01", "week", "2024-12-30", "2025-01-05", "2025-01-08"),  # lag 3
        b("w03", "week", "2025-01-13", "2025-01-19", "2025-01-21"),  # lag 2
    ]
    calendar = build_calendar(bulletins, "2025-01-29")
    assert calendar.median_lag_days == 2.0
    # W04 (01-20..01-26) is due 01-28; W05 (ends 02-02) is not due by 01-29.
    assert summary(calendar.periods) == [
        ("2024-W52", "found", ("w52",)),
        ("2025-W01", "found", ("w01",)),
        ("2025-W02", "missing", ()),
        ("2025-W03", "found", ("w03",)),
        ("2025-W04", "missing", ()),
    ]
    gap = calendar.periods[2]
    assert (gap.period_start, gap.period_end, gap.due_date) == (
        "2025-01-06",
        "2025-01-12",
        "2025-01-14",
    )


def test_weekly_friday_to_thursday_and_a_week_found_before_due() -> None:
    bulletins = [
        b("f1", "week", "2024-03-01", "2024-03-07"),
        b("f2", "week", "2024-03-08", "2024-03-14"),
        b("f4", "week", "2024-03-22", "2024-03-28"),
    ]
    calendar = build_calendar(bulletins, "2024-03-30")
    # No publication dates: the default grace of a week (7 days).
    assert (calendar.median_lag_days, calendar.grace_days) == (None, 7.0)
    assert calendar.grace_basis == "default for weekly bulletins (7 days; no publication dates)"
    # The gap keeps the source's Friday start; f4 is due only on 04-04 but is already there.
    assert [(p.period_label, p.period_start, p.period_end, p.due_date, p.status) for p in calendar.periods] == [
        ("2024-W09", "2024-03-01", "2024-03-07", "2024-03-14", "found"),
        ("2024-W10", "2024-03-08", "2024-03-14", "2024-03-21", "found"),
        ("2024-W11", "2024-03-15", "2024-03-21", "2024-03-28", "missing"),
        ("2024-W12", "2024-03-22", "2024-03-28", "2024-04-04", "found"),
    ]  # fmt: skip


def test_quarterly_with_even_count_median() -> None:
    bulletins = [
        b("q1", "quarter", "2023-01-01", "2023-03-31", "2023-04-20"),  # lag 20
        b("q2", "quarter", "2023-04-01", "2023-06-30", "2023-07-25"),  # lag 25
        b("q4", "quarter", "2023-10-01", "2023-12-31", "2024-01-30"),  # lag 30
        b("q4b", "quarter", "2023-10-01", "2023-12-31", "2024-02-05"),  # lag 36, same quarter
    ]
    calendar = build_calendar(bulletins, "2024-05-20")
    # Median of 20, 25, 30, 36 = 27.5, rounded up to 28 days for the due dates.
    assert calendar.median_lag_days == 27.5 and calendar.grace_days == 27.5
    assert summary(calendar.periods) == [
        ("2023-Q1", "found", ("q1",)),
        ("2023-Q2", "found", ("q2",)),
        ("2023-Q3", "missing", ()),
        ("2023-Q4", "found", ("q4", "q4b")),
        ("2024-Q1", "missing", ()),
    ]
    assert calendar.periods[2].due_date == "2023-10-28"
    assert calendar.periods[4].due_date == "2024-04-28"
    assert (calendar.expected, calendar.found, calendar.missing) == (5, 3, 2)


def test_duplicates_earliest_published_first() -> None:
    bulletins = [
        b("d1", "month", "2024-01-01", "2024-01-31", "2024-02-12"),  # lag 12
        b("d2", "month", "2024-01-01", "2024-01-31", "2024-02-05"),  # lag 5
        b("feb", "month", "2024-02-01", "2024-02-29", "2024-03-09"),  # lag 9
    ]
    calendar = build_calendar(bulletins, "2024-03-20")
    assert calendar.median_lag_days == 9.0
    jan = calendar.periods[0]
    assert (jan.period_label, jan.status, jan.bulletin_ids) == ("2024-01", "found", ("d2", "d1"))
    assert (jan.published_date, jan.lag_days) == ("2024-02-05", 5)
    assert (calendar.expected, calendar.found, calendar.missing) == (2, 2, 0)


def test_mixed_monthly_and_annual() -> None:
    bulletins = [
        b("nov", "month", "2023-11-01", "2023-11-30", "2023-12-15"),  # lag 15
        b("dec", "month", "2023-12-01", "2023-12-31", "2024-01-14"),  # lag 14
        b("year", "year", "2023-01-01", "2023-12-31", "2024-03-01"),  # lag 61, not monthly
        b("jan", "month", "2024-01-01", "2024-01-31", "2024-02-20"),  # lag 20
    ]
    calendar = build_calendar(bulletins, "2024-03-10")
    assert calendar.cadence.basis == "3 of 4 bulletins are monthly"
    # The annual report's lag stays out of the median (with it: 17.5).
    assert calendar.median_lag_days == 15.0
    # February is due 02-29 + 15 = 03-15: not yet listed on 03-10.
    assert summary(calendar.periods) == [
        ("2023-11", "found", ("nov",)),
        ("2023-12", "found", ("dec",)),
        ("2024-01", "found", ("jan",)),
    ]


def test_as_of_before_a_period_is_due() -> None:
    bulletins = [
        b("jan", "month", "2024-01-01", "2024-01-31"),
        b("feb", "month", "2024-02-01", "2024-02-29"),
    ]
    # No dates: grace 30 days, so March (ends 03-31) is due on 04-30.
    before = build_calendar(bulletins, "2024-04-29")
    assert summary(before.periods) == [
        ("2024-01", "found", ("jan",)),
        ("2024-02", "found", ("feb",)),
    ]
    on_due = build_calendar(bulletins, "2024-04-30")
    assert summary(on_due.periods)[-1] == ("2024-03", "missing", ())
    assert on_due.missing == 1
    # Judged before even the first period is due: the archived periods are still listed.
    early = build_calendar(bulletins, "2024-02-10")
    assert (early.expected, early.found, early.missing) == (2, 2, 0)
    with pytest.raises(ValueError):
        build_calendar(bulletins, "soon")


# --- the tables ------------------------------------------------------------------------------


def _doc(db: sqlite_utils.Database, name: str, fetched_at: str) -> str:
    data = f"zhanjiang {name}".encode()
    sha = hashlib.sha256(data).hexdigest()
    upsert_document(
        db,
        url=f"https://www.zhanjiang.gov.cn/{name}.html",
        final_url=None,
        source="zhanjiang",
        path=f"raw/{sha[:2]}/{sha}",
        sha256=sha,
        size=len(data),
        format="html",
        content_type="text/html",
        fetched_at=fetched_at,
        ingested_at=fetched_at,
    )
    return sha


def _write(
    db: sqlite_utils.Database, bulletin_id: str, period: Period, published: str, fetched_at: str
) -> None:
    doc = _doc(db, bulletin_id, fetched_at)
    write_bulletin(
        db,
        Bulletin(title=bulletin_id, published_date=published, period=period),
        bulletin_id=bulletin_id,
        source="zhanjiang",
        url=f"https://www.zhanjiang.gov.cn/{bulletin_id}.html",
        document_ids={"page": doc},
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = sqlite_utils.Database(tmp_path / "archive.db")
    ensure_db_shape(database)
    upsert_source(database, {"slug": "zhanjiang", "name": "湛江市", "level": "prefecture"})
    upsert_source(database, {"slug": "quiet", "name": "某县", "level": "county"})
    # January counts from the 26th to the 25th and still fills January.
    january = Period("month", "2021-01-01", "2021-01-31", "2020-12-26", "2021-01-25", "2021-01")
    _write(database, "zj-2021-01", january, "2021-02-03", "2021-02-04T01:00:00Z")  # lag 3
    february = Period("month", "2021-02-01", "2021-02-28", None, None, "2021-02")
    _write(database, "zj-2021-02", february, "2021-03-05", "2021-03-06T01:00:00Z")  # lag 5
    april = Period("month", "2021-04-01", "2021-04-30", None, None, "2021-04")
    _write(database, "zj-2021-04", april, "2021-05-04", "2021-06-10T08:00:00Z")  # lag 4
    year = Period("year", "2020-01-01", "2020-12-31", None, None, "2020")
    _write(database, "zj-2020", year, "2021-01-20", "2021-01-21T01:00:00Z")  # lag 20
    yield database
    database.close()


def _rows(db: sqlite_utils.Database, table: str) -> list[dict]:
    order = "source" if table == "source_calendars" else "id"
    return list(db.query(f"SELECT * FROM {table} ORDER BY {order}"))


def test_update_completeness_tables(db: sqlite_utils.Database) -> None:
    update_completeness(db)  # as_of = date of the latest fetch, 2021-06-10
    assert _rows(db, "source_calendars") == [
        {
            "source": "quiet",
            "cadence": "unknown",
            "basis": "no bulletins archived",
            "first_period": None,
            "last_expected": None,
            "expected": 0,
            "found": 0,
            "missing": 0,
            "median_lag_days": None,
            "grace_days": None,
            "grace_basis": "cadence unknown",
            "as_of": "2021-06-10",
        },
        {
            "source": "zhanjiang",
            "cadence": "month",
            "basis": "3 of 4 bulletins are monthly",
            "first_period": "2021-01",
            "last_expected": "2021-05",
            "expected": 5,
            "found": 3,
            "missing": 2,
            "median_lag_days": 4.0,  # of 3, 5, 4 (the annual report's 20 left out)
            "grace_days": 4.0,
            "grace_basis": "median publication lag 4 days",
            "as_of": "2021-06-10",
        },
    ]
    periods = _rows(db, "calendar_periods")
    assert [
        (p["id"], p["period_start"], p["period_end"], p["due_date"], p["status"], p["bulletin_id"],
         p["bulletin_count"], p["bulletin_ids"], p["published_date"], p["lag_days"])
        for p in periods
    ] == [
        ("zhanjiang:2021-01", "2021-01-01", "2021-01-31", "2021-02-04", "found", "zj-2021-01",
         1, '["zj-2021-01"]', "2021-02-03", 3),
        ("zhanjiang:2021-02", "2021-02-01", "2021-02-28", "2021-03-04", "found", "zj-2021-02",
         1, '["zj-2021-02"]', "2021-03-05", 5),
        ("zhanjiang:2021-03", "2021-03-01", "2021-03-31", "2021-04-04", "missing", None,
         0, None, None, None),
        ("zhanjiang:2021-04", "2021-04-01", "2021-04-30", "2021-05-04", "found", "zj-2021-04",
         1, '["zj-2021-04"]', "2021-05-04", 4),
        ("zhanjiang:2021-05", "2021-05-01", "2021-05-31", "2021-06-04", "missing", None,
         0, None, None, None),
    ]  # fmt: skip
    assert {(p["source"], p["cadence"]) for p in periods} == {("zhanjiang", "month")}
    assert [p["period_label"] for p in periods][:2] == ["2021-01", "2021-02"]


def test_update_completeness_twice_same_rows_and_replaces(db: sqlite_utils.Database) -> None:
    update_completeness(db)
    first = (_rows(db, "source_calendars"), _rows(db, "calendar_periods"))
    update_completeness(db)
    assert (_rows(db, "source_calendars"), _rows(db, "calendar_periods")) == first
    # Judged on 2021-04-20: March (due 04-04) is missing, April (due 05-04) already found,
    # May not listed; no row of the previous calendar is left behind.
    update_completeness(db, as_of="2021-04-20T12:00:00Z")
    periods = _rows(db, "calendar_periods")
    assert [(p["period_label"], p["status"]) for p in periods] == [
        ("2021-01", "found"),
        ("2021-02", "found"),
        ("2021-03", "missing"),
        ("2021-04", "found"),
    ]
    calendars = {r["source"]: r for r in _rows(db, "source_calendars")}
    assert calendars["zhanjiang"]["as_of"] == "2021-04-20"
    assert (calendars["zhanjiang"]["expected"], calendars["zhanjiang"]["missing"]) == (4, 1)
    with pytest.raises(ValueError):
        update_completeness(db, as_of="yesterday")


def test_canned_queries_missing_periods_and_publication_lag(db: sqlite_utils.Database) -> None:
    update_completeness(db)
    gaps = list(db.query(QUERIES["missing_periods"]["sql"], {"source": ""}))
    assert [(g["source"], g["period_label"], g["due_date"], g["found"], g["expected"]) for g in gaps] == [
        ("zhanjiang", "2021-03", "2021-04-04", 3, 5),
        ("zhanjiang", "2021-05", "2021-06-04", 3, 5),
    ]  # fmt: skip
    assert list(db.query(QUERIES["missing_periods"]["sql"], {"source": "quiet"})) == []
    lags = list(db.query(QUERIES["publication_lag"]["sql"], {"source": "zhanjiang"}))
    assert [(r["bulletin_id"], r["lag_days"], r["median_lag_days"]) for r in lags] == [
        ("zj-2020", 20, 4.0),
        ("zj-2021-02", 5, 4.0),
        ("zj-2021-04", 4, 4.0),
        ("zj-2021-01", 3, 4.0),
    ]
