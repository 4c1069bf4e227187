"""Scoring rules of archive.accuracy, on fake predictions (no parser involved)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive import accuracy
from archive.accuracy import Label, Report, Tally, evaluate, load_devset, load_seed_labels
from parsers.model import Breakdown, Bulletin, Metric, Period

UNITS = {"requests_total": "count", "satisfaction_rate": "percent", "overdue": "count"}
SEEDS_DIR = Path(__file__).parent / "fixtures" / "seeds"


def _label(**metrics: float) -> Label:
    return Label(doc_id="doc.txt", path=Path("doc.txt"), metrics=dict(metrics))


def _bulletin(*metrics: Metric, **kwargs: object) -> Bulletin:
    return Bulletin(metrics=list(metrics), **kwargs)


def _count(key: str, value: float, derived: bool = False) -> Metric:
    return Metric(key, value, "count", f"evidence of {key}", derived=derived)


def _percent(key: str, value: float) -> Metric:
    return Metric(key, value, "percent", f"evidence of {key}")


def _score(label: Label, bulletin: Bulletin | None) -> Report:
    report = Report(units=UNITS)
    report.add_document(label, bulletin)
    return report


def _counts(tally: Tally) -> tuple[int, int, int]:
    return (tally.tp, tally.fp, tally.fn)


def test_exact_count_is_a_true_positive() -> None:
    report = _score(_label(requests_total=388275), _bulletin(_count("requests_total", 388275)))
    assert _counts(report.metrics["requests_total"]) == (1, 0, 0)
    assert report.misses == []


def test_wrong_count_is_a_false_positive_and_a_false_negative() -> None:
    report = _score(_label(requests_total=388275), _bulletin(_count("requests_total", 388274)))
    assert _counts(report.metrics["requests_total"]) == (0, 1, 1)
    assert [(m.key, m.kind, m.expected, m.got) for m in report.misses] == [
        ("requests_total", "wrong", 388275, 388274)
    ]
    assert report.misses[0].evidence == "evidence of requests_total"


def test_percent_within_tolerance_matches_and_beyond_does_not() -> None:
    close = _score(
        _label(satisfaction_rate=97.71), _bulletin(_percent("satisfaction_rate", 97.715))
    )
    far = _score(_label(satisfaction_rate=97.71), _bulletin(_percent("satisfaction_rate", 97.716)))
    assert _counts(close.metrics["satisfaction_rate"]) == (1, 0, 0)
    assert _counts(far.metrics["satisfaction_rate"]) == (0, 1, 1)


def test_unlabelled_prediction_is_a_false_positive_and_missing_one_a_false_negative() -> None:
    report = _score(_label(requests_total=100), _bulletin(_count("overdue", 18)))
    assert _counts(report.metrics["overdue"]) == (0, 1, 0)
    assert _counts(report.metrics["requests_total"]) == (0, 0, 1)
    assert {(m.key, m.kind) for m in report.misses} == {
        ("overdue", "extra"),
        ("requests_total", "missed"),
    }


def test_derived_metrics_are_not_scored() -> None:
    report = _score(_label(), _bulletin(_count("overdue", 21, derived=True)))
    assert "overdue" not in report.metrics


def test_first_stated_metric_of_a_key_is_scored() -> None:
    bulletin = _bulletin(_count("requests_total", 10, derived=True), _count("requests_total", 100))
    report = _score(_label(requests_total=100), bulletin)
    assert _counts(report.metrics["requests_total"]) == (1, 0, 0)


def test_period_fields() -> None:
    label = _label()
    label.period = {
        "period_type": "quarter",
        "period_start": "2020-04-01",
        "period_end": "2020-06-30",
        "stat_start": None,
        "stat_end": None,
        "period_label": "2020-Q2",
        "published_date": "2020-07-15",
    }
    period = Period("quarter", "2020-04-01", "2020-06-29", "2020-03-26", None, "2020-Q2")
    report = _score(label, _bulletin(period=period, published_date=None))
    assert _counts(report.period["period_type"]) == (1, 0, 0)
    assert _counts(report.period["period_end"]) == (0, 1, 1)  # wrong
    assert _counts(report.period["stat_start"]) == (0, 1, 0)  # None label, predicted
    assert _counts(report.period["stat_end"]) == (0, 0, 0)  # None in both: not counted
    assert _counts(report.period["published_date"]) == (0, 0, 1)  # labelled, not predicted


def test_breakdowns_match_one_row_or_the_sum_of_rows_on_a_key() -> None:
    label = _label()
    label.nature = {"help": 200765, "consult": 145138}
    label.channel = {"mailbox": 12, "phone": 370135}
    rows = [
        Breakdown("nature", "求助", "help", 200765),
        Breakdown("nature", "咨询", "consult", 145139),
        Breakdown("nature", "无效", "invalid", 25129),
        Breakdown("nature", "转办工单", None, 7939),  # no key: not scored
        Breakdown("channel", "市长信箱", "mailbox", 2),
        Breakdown("channel", "县长信箱", "mailbox", 10),
        Breakdown("topic", "物业", None, 14238),
    ]
    report = _score(label, _bulletin(breakdowns=rows))
    nature = report.breakdowns["nature"]
    assert _counts(nature["help"]) == (1, 0, 0)
    assert _counts(nature["consult"]) == (0, 1, 1)
    assert _counts(nature["invalid"]) == (0, 1, 0)
    assert set(nature) == {"help", "consult", "invalid"}
    channel = report.breakdowns["channel"]
    assert _counts(channel["mailbox"]) == (1, 0, 0)
    assert _counts(channel["phone"]) == (0, 0, 1)


def test_precision_recall_and_micro() -> None:
    report = Report(units=UNITS)
    report.add_document(_label(requests_total=1, overdue=5), _bulletin(_count("requests_total", 1)))
    report.add_document(_label(requests_total=2), _bulletin(_count("requests_total", 3)))
    total = report.micro(report.metrics.values())
    assert _counts(total) == (1, 1, 2)
    assert total.precision == pytest.approx(1 / 2)
    assert total.recall == pytest.approx(1 / 3)
    assert Tally().precision is None and Tally().recall is None


def test_parse_failure_counts_as_all_false_negatives_and_run_goes_on(tmp_path: Path) -> None:
    for name in ("bad.txt", "good.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    labels = [
        Label("bad.txt", tmp_path / "bad.txt", metrics={"requests_total": 7}),
        Label("good.txt", tmp_path / "good.txt", metrics={"requests_total": 9}),
    ]

    def fake_parse(data: bytes, filename: str) -> Bulletin:
        if filename == "bad.txt":
            raise ValueError("broken table")
        return _bulletin(_count("requests_total", 9))

    report = evaluate(labels, fake_parse, UNITS)
    assert report.documents == ["bad.txt", "good.txt"]
    assert report.failures == [("bad.txt", "ValueError: broken table")]
    assert _counts(report.metrics["requests_total"]) == (1, 0, 1)


def _write_devset(root: Path) -> Path:
    devset = root / "devset"
    devset.mkdir()
    record = {
        "id": "d001",
        "files": ["d001.txt", "d001.html"],
        "published_date": "2023-09-12",
        "period": {"period_type": "month", "period_label": "2023-08", "period_start": "2023-08-01",
                   "period_end": "2023-08-31", "stat_start": None, "stat_end": None},
        "metrics": {"requests_total": 96482},
        "nature": {"consult": 52307},
        "channel": {},
    }  # fmt: skip
    (devset / "labels.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    for name in record["files"]:
        (devset / name).write_text("共受理96482件", encoding="utf-8")
    return devset


def test_load_devset_scores_txt_and_html_separately(tmp_path: Path) -> None:
    labels = load_devset(_write_devset(tmp_path))
    assert [label.doc_id for label in labels] == ["d001.txt", "d001.html"]
    assert labels[1].path == tmp_path / "devset" / "d001.html"
    assert labels[0].metrics == {"requests_total": 96482}
    assert labels[0].period["published_date"] == "2023-09-12"
    assert labels[0].period["period_label"] == "2023-08"


def test_load_seed_labels_reads_the_expected_files() -> None:
    labels = {label.doc_id: label for label in load_seed_labels(SEEDS_DIR)}
    assert len(labels) == 5
    seed = labels["liaocheng_2020q2_000.txt"]
    # Values read by hand from the bulletin (see liaocheng_2020q2_000.expected.yml).
    assert seed.metrics["requests_total"] == 388275
    assert seed.metrics["satisfaction_rate"] == 97.71
    assert seed.period["stat_start"] == "2020-03-26"
    assert seed.period["published_date"] == "2020-07-15"
    assert seed.channel["sms"] == 119
    assert seed.path.is_file()


def test_main_json_with_a_fake_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_parse(data: bytes, filename: str) -> Bulletin:
        if filename.endswith(".html"):
            raise ValueError("no html")
        return _bulletin(_count("requests_total", 96482))

    monkeypatch.setattr(accuracy, "_load_parser", lambda: fake_parse)
    empty_seeds = tmp_path / "seeds"
    empty_seeds.mkdir()
    devset = _write_devset(tmp_path)
    assert accuracy.main(["--devset", str(devset), "--seeds", str(empty_seeds), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"] == 2
    assert result["failures"] == [{"doc": "d001.html", "error": "ValueError: no html"}]
    assert result["metrics"]["requests_total"] == {
        "tp": 1, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.5,
    }  # fmt: skip
    assert result["breakdowns"]["nature"]["micro"]["fn"] == 2


def test_main_prints_tables_and_details(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        accuracy, "_load_parser", lambda: lambda data, name: _bulletin(_count("overdue", 3))
    )
    devset = _write_devset(tmp_path)
    assert (
        accuracy.main(["--devset", str(devset), "--seeds", str(tmp_path / "none"), "--details"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Headline metrics" in out and "Period fields" in out and "Breakdown: nature" in out
    assert "Misses" in out and "metric:overdue" in out


def test_default_devset_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DEVSET", "/some/where")
    assert accuracy.default_devset_dir() == Path("/some/where")
    monkeypatch.delenv("HOTLINE_DEVSET")
    assert accuracy.default_devset_dir() == accuracy.REPO_ROOT.parent / "shared" / "devset"
