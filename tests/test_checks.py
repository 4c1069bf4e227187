"""Consistency checks: parts against totals, shares, rate ranges; failures warn, never repair."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from parsers import parse_document
from parsers.checks import run_checks
from parsers.model import Breakdown, Metric

DEVSET = Path(
    os.environ.get("HOTLINE_DEVSET", Path(__file__).resolve().parents[2] / "shared" / "devset")
)


def _metric(key: str, value: float) -> Metric:
    return Metric(key, value, "count", "")


def _parts(*counts: int, other: bool = True) -> list[Breakdown]:
    keys = ["consult", "help", "complaint", "other" if other else "report"]
    return [
        Breakdown("nature", k, k, c, location="line 3") for k, c in zip(keys, counts, strict=False)
    ]


def test_parts_add_up() -> None:
    checks = run_checks([_metric("requests_total", 100)], _parts(50, 30, 15, 5))
    assert [(c.check, c.status) for c in checks] == [("nature_sum", "pass")]


def test_parts_short_of_the_total_fail_when_the_list_is_complete() -> None:
    (check,) = run_checks([_metric("requests_total", 700)], _parts(50, 30, 15, 5))
    assert (check.status, check.severity, check.expected, check.actual) == (
        "fail",
        "warning",
        700,
        100,
    )


def test_a_partial_list_is_incomplete_not_failed() -> None:
    (check,) = run_checks([_metric("requests_total", 700)], _parts(50, 30, 15, 5, other=False))
    assert (check.status, check.severity) == ("incomplete", "info")


def test_parts_may_divide_the_work_orders() -> None:
    metrics = [_metric("requests_total", 120), _metric("work_orders_total", 100)]
    (check,) = run_checks(metrics, _parts(50, 30, 15, 5))
    assert check.status == "pass" and "work_orders_total" in check.message


def test_stated_shares_are_checked() -> None:
    parts = _parts(50, 30, 15, 5)
    parts[0].share_pct = 60.0  # 50 of 100 is 50%
    checks = {c.check: c for c in run_checks([_metric("requests_total", 100)], parts)}
    assert checks["nature_shares"].status == "fail"


def test_rate_out_of_range() -> None:
    checks = run_checks([Metric("satisfaction_rate", 101.2, "percent", "")], [])
    assert [(c.check, c.status) for c in checks] == [("rate_range:satisfaction_rate", "fail")]


def test_direct_plus_transferred() -> None:
    metrics = [
        _metric("requests_total", 100),
        _metric("resolved_directly", 60),
        _metric("transferred", 30),
    ]
    (check,) = run_checks(metrics, [])
    assert (check.check, check.status, check.actual) == ("direct_plus_transferred", "fail", 90)


def _labels() -> list[dict]:
    if not (DEVSET / "labels.jsonl").exists():
        return []
    return [
        json.loads(line)
        for line in (DEVSET / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    ]


@pytest.mark.skipif(not _labels(), reason="../shared/devset is not present")
@pytest.mark.parametrize("label", _labels(), ids=lambda lab: lab["id"])
def test_devset_failed_checks_are_the_labelled_ones(label: dict) -> None:
    """A check fails exactly where the devset labels a publishing error (d025 nature, d035 channels)."""
    for name in label["files"]:
        bulletin = parse_document((DEVSET / name).read_bytes(), name)
        failed = [
            c for c in bulletin.checks if c.status == "fail" and not c.check.startswith("table_")
        ]
        assert bool(failed) == bool(label["checks"]), [c.message for c in failed]
        if label["id"] == "d025":
            assert [(c.check, c.actual - c.expected) for c in failed] == [("nature_sum", -600)]
        if label["id"] == "d035":
            assert [(c.check, c.actual - c.expected) for c in failed] == [("channel_sum", -700)]
