"""Completeness calendar of a source: its cadence, the periods it should have published, the gaps.

Pure functions: no database and no clock. ``archive.db.update_completeness`` reads the
bulletins, passes them here with the date to judge by (``as_of``) and stores the result.

Rules (also in metadata.yml):

- Cadence: the period type (week, month, quarter, half_year, year) that most of a source's
  bulletins have. Bulletins of type ``other`` (ten-day, holiday or free date ranges) have no
  calendar, so they never make the cadence. A tie goes to the shorter period. Fewer than
  ``MIN_BULLETINS`` bulletins of the winning type: cadence unknown, no period expected and no
  gap claimed. A source with several series (monthly reports and an annual one) gets the
  calendar of its main series only; the other bulletins are not placed on it.
- Periods are the nominal ones (period_start .. period_end), never the statistics window: a
  month bulletin counting from the 26th to the 25th still fills its month.
- Weeks are ISO weeks (label 2025-W01, the ISO week of the period's first day, as the parser
  labels them). A source whose weeks run e.g. Friday to Thursday keeps its own weekday: an
  expected week without a bulletin starts on the weekday most of the source's weeks start on.
- Publication lag of a bulletin = published_date - period_end in days (negative when published
  before the period ended; None without a date). The source's median lag is taken over the
  bulletins of its main cadence (over all its bulletins when the cadence is unknown).
- A period is due ``grace`` days after it ends: grace = the source's median lag (at least 0)
  when known, else ``DEFAULT_GRACE_DAYS`` of the cadence; the due date is
  period_end + grace rounded up to whole days, and on that day (as_of >= due_date) the
  period is expected.
- Listed periods run from the source's first found period to the last one due by ``as_of``:
  each is "found" (with every bulletin for it: duplicates stay one period) or "missing" (a
  gap). Periods not yet due are not listed, unless a bulletin for one is already there (then
  it is "found" and counts as expected).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

logger = logging.getLogger(__name__)

# Shortest period first: the order breaks ties between cadences.
CADENCES = ("week", "month", "quarter", "half_year", "year")
CADENCE_WORDS = {
    "week": "weekly",
    "month": "monthly",
    "quarter": "quarterly",
    "half_year": "half-yearly",
    "year": "yearly",
}
# How long after its end a period is awaited when the source's own lag is unknown.
DEFAULT_GRACE_DAYS = {"week": 7, "month": 30, "quarter": 45, "half_year": 60, "year": 90}
MIN_BULLETINS = 2
UNKNOWN = "unknown"
FOUND = "found"
MISSING = "missing"


@dataclass(frozen=True)
class BulletinPeriod:
    """The fields of one bulletin the calendar needs (ISO date strings)."""

    bulletin_id: str
    period_type: str | None
    period_start: str | None
    period_end: str | None
    published_date: str | None = None


@dataclass(frozen=True)
class Cadence:
    """The main cadence of a source and why: ``period_type`` None when unknown."""

    period_type: str | None
    count: int
    total: int
    basis: str

    @property
    def name(self) -> str:
        """The cadence as stored: a period type, or "unknown"."""
        return self.period_type or UNKNOWN


@dataclass(frozen=True)
class CalendarPeriod:
    """One period of a source's calendar: found (with its bulletins) or missing."""

    period_label: str
    period_start: str
    period_end: str
    due_date: str
    status: str
    bulletin_ids: tuple[str, ...] = ()
    published_date: str | None = None
    lag_days: int | None = None


@dataclass(frozen=True)
class SourceCalendar:
    """A source's cadence, grace, median lag and listed periods as of a date."""

    cadence: Cadence
    as_of: str
    median_lag_days: float | None
    grace_days: float | None
    grace_basis: str
    periods: tuple[CalendarPeriod, ...]

    @property
    def first_period(self) -> str | None:
        """Label of the first listed period."""
        return self.periods[0].period_label if self.periods else None

    @property
    def last_expected(self) -> str | None:
        """Label of the last listed period."""
        return self.periods[-1].period_label if self.periods else None

    @property
    def expected(self) -> int:
        """Number of listed periods."""
        return len(self.periods)

    @property
    def found(self) -> int:
        """Listed periods with at least one bulletin."""
        return sum(1 for p in self.periods if p.status == FOUND)

    @property
    def missing(self) -> int:
        """Listed periods without a bulletin (gaps)."""
        return sum(1 for p in self.periods if p.status == MISSING)


def parse_date(value: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD, longer timestamps cut to their date), or None."""
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def publication_lag_days(published_date: str | None, period_end: str | None) -> int | None:
    """Days from the end of the period to publication; None when either date is unknown."""
    published, end = parse_date(published_date), parse_date(period_end)
    if published is None or end is None:
        return None
    return (published - end).days


def median_lag(lags: Iterable[int | None]) -> float | None:
    """Median of the known lags (mean of the middle two for an even count); None without any."""
    known = sorted(lag for lag in lags if lag is not None)
    if not known:
        return None
    middle = len(known) // 2
    if len(known) % 2:
        return float(known[middle])
    return (known[middle - 1] + known[middle]) / 2


def _placeable(bulletins: Iterable[BulletinPeriod]) -> list[BulletinPeriod]:
    """Bulletins with a calendar period type and a readable period_start."""
    return [
        b for b in bulletins if b.period_type in CADENCES and parse_date(b.period_start) is not None
    ]


def infer_cadence(bulletins: Sequence[BulletinPeriod]) -> Cadence:
    """The period type most of the bulletins have, with the basis in words."""
    total = len(bulletins)
    counts = Counter(b.period_type for b in _placeable(bulletins))
    if not counts:
        basis = (
            "no bulletins archived"
            if total == 0
            else f"none of {total} bulletins has a week, month, quarter, half-year or year period"
        )
        return Cadence(None, 0, total, basis)
    best = max(CADENCES, key=lambda c: (counts[c], -CADENCES.index(c)))
    n = counts[best]
    if n < MIN_BULLETINS:
        seen = ", ".join(f"{counts[c]} {CADENCE_WORDS[c]}" for c in CADENCES if counts[c])
        return Cadence(
            None,
            n,
            total,
            f"too few to tell: {seen} of {total} bulletins"
            f" (at least {MIN_BULLETINS} of one period type are needed)",
        )
    basis = f"{n} of {total} bulletins are {CADENCE_WORDS[best]}"
    tied = [c for c in CADENCES if c != best and counts[c] == n]
    if tied:
        basis += f" (as many are {', '.join(CADENCE_WORDS[c] for c in tied)}; the shorter period is taken)"
    return Cadence(best, n, total, basis)


# --- periods as consecutive slot numbers --------------------------------------------------------


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def slot_of(cadence: str, start: date) -> int:
    """Number of the period of ``cadence`` that contains ``start``; consecutive periods differ by 1."""
    if cadence == "week":
        # date(1, 1, 1) is a Monday with ordinal 1: ISO weeks are the blocks of 7 ordinals.
        return (start.toordinal() - 1) // 7
    if cadence == "month":
        return start.year * 12 + start.month - 1
    if cadence == "quarter":
        return start.year * 4 + (start.month - 1) // 3
    if cadence == "half_year":
        return start.year * 2 + (start.month - 1) // 6
    if cadence == "year":
        return start.year
    raise ValueError(f"no calendar for period type {cadence!r}")


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def slot_period(cadence: str, slot: int, week_offset: int = 0) -> tuple[str, date, date]:
    """Label, first and last day of period ``slot`` (a week starts ``week_offset`` days after Monday)."""
    if cadence == "week":
        monday = date.fromordinal(slot * 7 + 1)
        year, week, _ = monday.isocalendar()
        start = monday + timedelta(days=week_offset)
        return f"{year}-W{week:02d}", start, start + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[cadence]
    first = slot * months
    start = _month_start(first)
    end = _month_start(first + months) - timedelta(days=1)
    if cadence == "month":
        label = f"{start:%Y-%m}"
    elif cadence == "quarter":
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    elif cadence == "half_year":
        label = f"{start.year}-H{1 if start.month == 1 else 2}"
    else:
        label = str(start.year)
    return label, start, end


def week_offset(starts: Iterable[date]) -> int:
    """The weekday (0 = Monday) most weeks start on; Monday when none, earliest weekday on a tie."""
    counts = Counter(day.weekday() for day in starts)
    if not counts:
        return 0
    return max(range(7), key=lambda d: (counts[d], -d))


def grace_for(cadence: str, median_lag_days: float | None) -> tuple[float, str]:
    """Days after its end a period is awaited, and where that number comes from."""
    if median_lag_days is not None:
        grace = max(0.0, median_lag_days)
        return grace, f"median publication lag {median_lag_days:g} days"
    grace = float(DEFAULT_GRACE_DAYS[cadence])
    return (
        grace,
        f"default for {CADENCE_WORDS[cadence]} bulletins ({grace:g} days; no publication dates)",
    )


def _publication_order(b: BulletinPeriod) -> tuple[bool, str, str]:
    # The earliest published bulletin stands for the period; undated ones after, then by id.
    return (b.published_date is None, b.published_date or "", b.bulletin_id)


def build_calendar(bulletins: Sequence[BulletinPeriod], as_of: str) -> SourceCalendar:
    """The completeness calendar of one source's bulletins as of ``as_of`` (an ISO date)."""
    judged = parse_date(as_of)
    if judged is None:
        raise ValueError(f"as_of must be an ISO date: {as_of!r}")
    cadence = infer_cadence(bulletins)
    if cadence.period_type is None:
        lag = median_lag(publication_lag_days(b.published_date, b.period_end) for b in bulletins)
        return SourceCalendar(cadence, judged.isoformat(), lag, None, "cadence unknown", ())

    kind = cadence.period_type
    series = [b for b in _placeable(bulletins) if b.period_type == kind]
    lag = median_lag(publication_lag_days(b.published_date, b.period_end) for b in series)
    grace, grace_basis = grace_for(kind, lag)
    grace_delta = timedelta(days=math.ceil(grace))

    by_slot: dict[int, list[BulletinPeriod]] = {}
    starts = [d for b in series if (d := parse_date(b.period_start)) is not None]
    for b, start in zip(series, starts, strict=True):
        by_slot.setdefault(slot_of(kind, start), []).append(b)
    offset = week_offset(starts) if kind == "week" else 0

    periods: list[CalendarPeriod] = []
    first, last_found = min(by_slot), max(by_slot)
    slot = first
    while True:
        label, start, end = slot_period(kind, slot, offset)
        found = sorted(by_slot.get(slot, []), key=_publication_order)
        if found:
            # The bulletin's own dates: a week may be 8 days around a holiday, or start elsewhere.
            start = parse_date(found[0].period_start) or start
            end = parse_date(found[0].period_end) or end
        due = end + grace_delta
        if not found and due > judged:
            if slot > last_found:
                break
            slot += 1
            continue
        periods.append(
            CalendarPeriod(
                period_label=label,
                period_start=start.isoformat(),
                period_end=end.isoformat(),
                due_date=due.isoformat(),
                status=FOUND if found else MISSING,
                bulletin_ids=tuple(b.bulletin_id for b in found),
                published_date=found[0].published_date if found else None,
                lag_days=publication_lag_days(found[0].published_date, found[0].period_end)
                if found
                else None,
            )
        )
        slot += 1
    return SourceCalendar(cadence, judged.isoformat(), lag, grace, grace_basis, tuple(periods))
