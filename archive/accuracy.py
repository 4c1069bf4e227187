"""Precision and recall of the parser on the labelled devset and the seed fixtures.

Run as ``python -m archive.accuracy`` (``make accuracy``). This is a report, not a pass/fail
test: every labelled document is parsed with ``parsers.parse_document`` and each predicted
field is scored against its label.

Scoring, per metric key, period field and breakdown category:

- a prediction that matches the label (counts exactly, percentages within 0.005) is a TP;
- a prediction with a wrong value counts as one FP and one FN;
- a prediction on a key the label does not have is an FP;
- a labelled key with no prediction is an FN.

Period fields that are None in both label and prediction are not counted. Metrics with
``derived=True`` are not scored: labels hold figures stated in the text only. A breakdown
category matches when one of its rows, or the sum of its rows, equals the label. A document
whose parse raises counts as all FN, and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    # Imported lazily at run time so that this module imports while the parser is unfinished.
    from parsers.model import Bulletin, Metric

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS_DIR = REPO_ROOT / "tests" / "fixtures" / "seeds"
VOCABULARY_PATH = REPO_ROOT / "parsers" / "vocabulary.yml"
PERCENT_TOLERANCE = 0.005
PERIOD_FIELDS = (
    "period_type",
    "period_start",
    "period_end",
    "stat_start",
    "stat_end",
    "period_label",
    "published_date",
)
BREAKDOWN_DIMENSIONS = ("nature", "channel")

ParseFunction = Callable[[bytes, str], "Bulletin"]


def default_devset_dir() -> Path:
    """$HOTLINE_DEVSET, else ../shared/devset next to the repository."""
    env = os.environ.get("HOTLINE_DEVSET")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "devset"


def metric_units() -> dict[str, str]:
    """Metric key -> "count" or "percent", from parsers/vocabulary.yml."""
    vocabulary = yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8"))
    return {key: spec["unit"] for key, spec in vocabulary["metrics"].items()}


# --- labels ---------------------------------------------------------------------------


@dataclass
class Label:
    """What one document should parse to, as far as the benchmark scores it."""

    doc_id: str
    path: Path
    metrics: dict[str, float] = field(default_factory=dict)
    period: dict[str, str | None] = field(default_factory=dict)  # PERIOD_FIELDS
    nature: dict[str, int] = field(default_factory=dict)
    channel: dict[str, int] = field(default_factory=dict)


def _period_of(period: dict[str, Any], published_date: str | None) -> dict[str, str | None]:
    fields = {name: period.get(name) for name in PERIOD_FIELDS if name != "published_date"}
    fields["published_date"] = published_date
    return {name: None if value is None else str(value) for name, value in fields.items()}


def load_devset(devset_dir: Path) -> list[Label]:
    """One Label per file of every line of labels.jsonl (.txt and .html scored separately)."""
    labels = []
    lines = (devset_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        for name in record["files"]:
            labels.append(
                Label(
                    doc_id=name,
                    path=devset_dir / name,
                    metrics=dict(record.get("metrics") or {}),
                    period=_period_of(record.get("period") or {}, record.get("published_date")),
                    nature=dict(record.get("nature") or {}),
                    channel=dict(record.get("channel") or {}),
                )
            )
    return labels


def load_seed_labels(seeds_dir: Path) -> list[Label]:
    """One Label per ``<seed>.expected.yml`` (hand-read values of a real bulletin)."""
    labels = []
    for expected_path in sorted(seeds_dir.glob("*.expected.yml")):
        seed_id = expected_path.name.removesuffix(".expected.yml")
        expected = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
        labels.append(
            Label(
                doc_id=f"{seed_id}.txt",
                path=seeds_dir / f"{seed_id}.txt",
                metrics={key: spec["value"] for key, spec in expected["metrics"].items()},
                period=_period_of(expected["period"], expected.get("published_date")),
                nature=dict(expected.get("nature") or {}),
                channel=dict(expected.get("channel") or {}),
            )
        )
    return labels


# --- scoring --------------------------------------------------------------------------


@dataclass
class Tally:
    """True positives, false positives and false negatives of one field."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP), or None when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN), or None when nothing was labelled."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def to_json(self) -> dict[str, Any]:
        """Counts, precision and recall as a JSON object."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
        }


@dataclass
class Miss:
    """One scored field that was not a TP: missed (FN), extra (FP) or wrong (FP and FN)."""

    doc: str
    group: str  # "metric", "period", "nature", "channel"
    key: str
    kind: str  # "missed", "extra", "wrong"
    expected: Any
    got: Any
    evidence: str = ""


def values_match(unit: str, expected: float, got: float) -> bool:
    """Counts match exactly; percentages within PERCENT_TOLERANCE."""
    if unit == "count":
        return float(got) == float(expected)
    return abs(float(got) - float(expected)) <= PERCENT_TOLERANCE + 1e-9


def _score_field(
    tally: Tally,
    expected: Any,
    got: Any,
    matches: bool,
) -> str | None:
    """Add one field's outcome to the tally; the kind of miss, or None for a TP or a skip."""
    if expected is None and got is None:
        return None
    if expected is None:
        tally.fp += 1
        return "extra"
    if got is None:
        tally.fn += 1
        return "missed"
    if matches:
        tally.tp += 1
        return None
    tally.fp += 1
    tally.fn += 1
    return "wrong"


@dataclass
class Report:
    """Tallies per field over all documents, with the misses and the parse failures."""

    units: dict[str, str]
    documents: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    metrics: dict[str, Tally] = field(default_factory=dict)
    period: dict[str, Tally] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, Tally]] = field(
        default_factory=lambda: {d: {} for d in BREAKDOWN_DIMENSIONS}
    )
    misses: list[Miss] = field(default_factory=list)

    def add_document(self, label: Label, bulletin: Bulletin | None) -> None:
        """Score one document; ``bulletin`` None means the parse failed (all FN)."""
        self.documents.append(label.doc_id)
        self._score_metrics(label, bulletin)
        self._score_period(label, bulletin)
        for dimension in BREAKDOWN_DIMENSIONS:
            self._score_breakdown(label, bulletin, dimension)

    def add_failure(self, label: Label, error: str) -> None:
        """Record a failed parse and count every labelled field as FN."""
        self.failures.append((label.doc_id, error))
        self.add_document(label, None)

    def _score_metrics(self, label: Label, bulletin: Bulletin | None) -> None:
        predicted: dict[str, Metric] = {}
        for metric in bulletin.metrics if bulletin else []:
            if not metric.derived and metric.metric not in predicted:
                predicted[metric.metric] = metric
        for key in sorted(set(label.metrics) | set(predicted)):
            expected = label.metrics.get(key)
            metric = predicted.get(key)
            got = metric.value if metric else None
            unit = self.units.get(key, "percent")
            matches = expected is not None and got is not None and values_match(unit, expected, got)
            kind = _score_field(self.metrics.setdefault(key, Tally()), expected, got, matches)
            if kind:
                evidence = metric.evidence if metric else ""
                self.misses.append(Miss(label.doc_id, "metric", key, kind, expected, got, evidence))

    def _score_period(self, label: Label, bulletin: Bulletin | None) -> None:
        for name in PERIOD_FIELDS:
            expected = label.period.get(name)
            if bulletin is None:
                got = None
            elif name == "published_date":
                got = bulletin.published_date
            else:
                got = getattr(bulletin.period, name)
            kind = _score_field(
                self.period.setdefault(name, Tally()), expected, got, expected == got
            )
            if kind:
                self.misses.append(Miss(label.doc_id, "period", name, kind, expected, got))

    def _score_breakdown(self, label: Label, bulletin: Bulletin | None, dimension: str) -> None:
        labelled: dict[str, int] = getattr(label, dimension)
        rows: dict[str, list[int]] = {}
        evidence: dict[str, str] = {}
        for row in bulletin.breakdowns if bulletin else []:
            if row.dimension == dimension and row.category_key and row.count is not None:
                rows.setdefault(row.category_key, []).append(row.count)
                evidence.setdefault(row.category_key, row.evidence)
        tallies = self.breakdowns[dimension]
        for key in sorted(set(labelled) | set(rows)):
            expected = labelled.get(key)
            counts = rows.get(key)
            got = None if counts is None else (counts[0] if len(counts) == 1 else counts)
            # Several rows on one key (two mailboxes) may add up to the labelled figure.
            matches = counts is not None and (expected in counts or sum(counts) == expected)
            kind = _score_field(tallies.setdefault(key, Tally()), expected, got, matches)
            if kind:
                miss = Miss(
                    label.doc_id, dimension, key, kind, expected, got, evidence.get(key, "")
                )
                self.misses.append(miss)

    def micro(self, tallies: Iterable[Tally]) -> Tally:
        """The sum of several tallies (micro-averaged precision and recall)."""
        total = Tally()
        for tally in tallies:
            total.add(tally)
        return total

    def overall(self) -> Tally:
        """Micro P/R over all headline metrics and period fields."""
        return self.micro([*self.metrics.values(), *self.period.values()])

    def to_json(self) -> dict[str, Any]:
        """The whole report as a JSON object."""
        return {
            "documents": len(self.documents),
            "failures": [{"doc": doc, "error": error} for doc, error in self.failures],
            "metrics": {key: t.to_json() for key, t in sorted(self.metrics.items())},
            "metrics_micro": self.micro(self.metrics.values()).to_json(),
            "period": {
                name: self.period[name].to_json() for name in PERIOD_FIELDS if name in self.period
            },
            "period_micro": self.micro(self.period.values()).to_json(),
            "breakdowns": {
                dimension: {
                    "categories": {key: t.to_json() for key, t in sorted(tallies.items())},
                    "micro": self.micro(tallies.values()).to_json(),
                }
                for dimension, tallies in self.breakdowns.items()
            },
            "overall_micro": self.overall().to_json(),
            "misses": [vars(miss) for miss in self.misses],
        }


def _load_parser() -> ParseFunction:
    """parsers.parse_document, or a stand-in raising why it cannot be imported."""
    try:
        from parsers import parse_document
    except Exception as exc:  # a half-written parser package fails in many ways
        message = f"parsers.parse_document is not available: {exc}"

        def unavailable(data: bytes, filename: str) -> Bulletin:
            raise ImportError(message)

        return unavailable
    return parse_document


def evaluate(labels: Iterable[Label], parse: ParseFunction, units: dict[str, str]) -> Report:
    """Parse every labelled document with ``parse`` and score it."""
    report = Report(units=units)
    for label in labels:
        try:
            bulletin = parse(label.path.read_bytes(), label.path.name)
        except Exception as exc:  # any crash is one failed document, not the end of the run
            logger.warning("%s: parse failed: %s", label.doc_id, exc)
            report.add_failure(label, f"{type(exc).__name__}: {exc}")
            continue
        report.add_document(label, bulletin)
    return report


# --- output ---------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _tally_table(title: str, tallies: dict[str, Tally], micro: Tally) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("key", "TP", "FP", "FN", "precision", "recall"):
        table.add_column(column, justify="left" if column == "key" else "right")
    for key, tally in tallies.items():
        table.add_row(
            key,
            str(tally.tp),
            str(tally.fp),
            str(tally.fn),
            _fmt(tally.precision),
            _fmt(tally.recall),
        )
    table.add_section()
    table.add_row(
        "micro",
        str(micro.tp),
        str(micro.fp),
        str(micro.fn),
        _fmt(micro.precision),
        _fmt(micro.recall),
    )
    return table


def print_report(report: Report, details: bool = False) -> None:
    """Rich tables: metrics, period fields, breakdowns, overall, failures and (optionally) misses."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        # Piped to a file or a pager: wide enough that evidence sentences stay readable.
        console = Console(width=160)
    console.print(
        f"{len(report.documents)} documents scored, {len(report.failures)} parse failures"
    )
    console.print(
        _tally_table(
            "Headline metrics",
            dict(sorted(report.metrics.items())),
            report.micro(report.metrics.values()),
        )
    )
    period = {name: report.period[name] for name in PERIOD_FIELDS if name in report.period}
    console.print(_tally_table("Period fields", period, report.micro(period.values())))
    for dimension, tallies in report.breakdowns.items():
        console.print(
            _tally_table(
                f"Breakdown: {dimension}",
                dict(sorted(tallies.items())),
                report.micro(tallies.values()),
            )
        )
    overall = report.overall()
    console.print(
        f"Overall (metrics + period fields): precision {_fmt(overall.precision)}, "
        f"recall {_fmt(overall.recall)} (TP {overall.tp}, FP {overall.fp}, FN {overall.fn})"
    )
    if report.failures:
        failures = Table(title="Parse failures (counted as all FN)", title_justify="left")
        failures.add_column("doc", overflow="fold")
        failures.add_column("error")
        for doc, error in report.failures:
            failures.add_row(doc, error)
        console.print(failures)
    if details and report.misses:
        misses = Table(title="Misses", title_justify="left")
        for column in ("doc", "field", "kind", "expected", "got", "evidence"):
            misses.add_column(column, overflow="fold")  # a report must not truncate
        for miss in report.misses:
            misses.add_row(
                miss.doc,
                f"{miss.group}:{miss.key}",
                miss.kind,
                "" if miss.expected is None else str(miss.expected),
                "" if miss.got is None else str(miss.got),
                miss.evidence,
            )
        console.print(misses)


def main(argv: list[str] | None = None) -> int:
    """Command line: score the devset and the seeds, print the report."""
    parser = argparse.ArgumentParser(
        prog="python -m archive.accuracy", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--devset",
        type=Path,
        default=None,
        help="devset directory (default: $HOTLINE_DEVSET or ../shared/devset)",
    )
    parser.add_argument(
        "--seeds",
        type=Path,
        default=DEFAULT_SEEDS_DIR,
        help="directory of <seed>.txt + <seed>.expected.yml",
    )
    parser.add_argument(
        "--details",
        action="store_true",
        help="print every miss (doc, key, expected, got, evidence)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    devset_dir = args.devset or default_devset_dir()
    labels: list[Label] = []
    if (devset_dir / "labels.jsonl").is_file():
        labels += load_devset(devset_dir)
    else:
        print(
            f"warning: no devset at {devset_dir} (labels.jsonl missing); scoring the seeds only",
            file=sys.stderr,
        )
    if args.seeds.is_dir():
        labels += load_seed_labels(args.seeds)
    if not labels:
        print("error: no labelled documents found", file=sys.stderr)
        return 2

    report = evaluate(labels, _load_parser(), metric_units())
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_report(report, details=args.details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
