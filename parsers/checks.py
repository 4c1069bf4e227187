"""Consistency checks of a bulletin's figures: do the parts add up to the total?

A failed check is a warning about the source document; nothing is ever changed
to make it pass.
"""

from __future__ import annotations

from .model import Breakdown, Check, Metric

_SHARE_TOLERANCE = 0.06  # percentage points: shares are printed rounded to 0.01
RATE_KEYS = {
    "connection_rate",
    "first_call_connection_rate",
    "direct_resolution_rate",
    "completion_rate",
    "on_time_completion_rate",
    "on_time_reply_rate",
    "satisfaction_rate",
}


def _passed(name: str, message: str, expected: float, actual: float) -> Check:
    return Check(name, "pass", "info", message, expected, actual)


def _failed(name: str, message: str, expected: float, actual: float) -> Check:
    return Check(name, "fail", "warning", message, expected, actual)


def _totals(metrics: dict[str, Metric]) -> list[tuple[str, float]]:
    return [(k, metrics[k].value) for k in ("requests_total", "work_orders_total") if k in metrics]


def parts_sum_check(
    name: str, parts: list[Breakdown], metrics: dict[str, Metric], complete: bool
) -> Check | None:
    """Parts of one dimension against the total they divide (requests, else work orders).

    A list that names no "other" category may leave categories out: when it falls
    short of every total it is reported as incomplete (info), not as an error.
    """
    counted = [p for p in parts if p.count is not None]
    totals = _totals(metrics)
    if len(counted) < 3 or not totals:
        return None
    total_sum = sum(p.count for p in counted)
    for key, total in totals:
        if total_sum == total:
            return _passed(name, f"{name}: parts add up to {key} {total:g}", total, total_sum)
    key, total = totals[0]
    if total_sum < total and not complete:
        return Check(
            name,
            "incomplete",
            "info",
            f"{name}: listed parts sum to {total_sum:g} of {key} {total:g}; the list may be partial",
            total,
            total_sum,
        )
    return _failed(
        name,
        f"{name}: parts sum to {total_sum:g}, {key} is {total:g} (difference {total_sum - total:+g})",
        total,
        total_sum,
    )


def share_checks(name: str, parts: list[Breakdown], total: float | None) -> list[Check]:
    """Stated shares against count / total * 100."""
    if not total:
        return []
    stated = [p for p in parts if p.share_pct is not None and p.count is not None]
    if not stated:
        return []
    bad = []
    for p in stated:
        computed = p.count / total * 100
        if abs(computed - p.share_pct) > _SHARE_TOLERANCE:
            bad.append(f"{p.category} {p.share_pct:g}% stated, {computed:.2f}% computed")
    if bad:
        return [_failed(f"{name}_shares", "; ".join(bad), 0, len(bad))]
    return [_passed(f"{name}_shares", f"{len(stated)} stated shares match their counts", 0, 0)]


def _one_list(parts: list[Breakdown]) -> list[Breakdown]:
    """The parts of the longest list stated in one place: a channel named again in another
    section (省长信箱 in its own chapter) is not part of the list that divides the total."""
    groups: dict[str | None, list[Breakdown]] = {}
    for part in parts:
        groups.setdefault(part.location, []).append(part)
    return max(groups.values(), key=len, default=[])


def run_checks(metrics: list[Metric], breakdowns: list[Breakdown]) -> list[Check]:
    """All checks of a bulletin's headline metrics and breakdowns."""
    by_key = {m.metric: m for m in metrics}
    checks: list[Check] = []
    for dimension in ("nature", "channel"):
        parts = _one_list([b for b in breakdowns if b.dimension == dimension])
        complete = any(b.category_key in {"other", "invalid"} for b in parts)
        shares = [b.share_pct for b in parts if b.share_pct is not None]
        if shares and abs(sum(shares) - 100) <= 0.5:
            complete = True
        check = parts_sum_check(f"{dimension}_sum", parts, by_key, complete)
        if check:
            checks.append(check)
            checks.extend(share_checks(dimension, parts, check.expected))
    if "resolved_directly" in by_key and "transferred" in by_key:
        total_sum = by_key["resolved_directly"].value + by_key["transferred"].value
        totals = _totals(by_key)
        if totals:
            match = next((k for k, t in totals if t == total_sum), None)
            if match:
                checks.append(
                    _passed(
                        "direct_plus_transferred",
                        f"direct + transferred = {match}",
                        total_sum,
                        total_sum,
                    )
                )
            else:
                key, total = totals[0]
                checks.append(
                    _failed(
                        "direct_plus_transferred",
                        f"direct + transferred = {total_sum:g}, {key} is {total:g}",
                        total,
                        total_sum,
                    )
                )
    for metric in metrics:
        if metric.metric in RATE_KEYS:
            ok = 0 <= metric.value <= 100
            check = (_passed if ok else _failed)(
                f"rate_range:{metric.metric}",
                f"{metric.metric} {metric.value:g} {'within' if ok else 'outside'} 0-100",
                100,
                metric.value,
            )
            checks.append(check)
    return checks
