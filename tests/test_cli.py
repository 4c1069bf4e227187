"""The hotline command: help for every command, and the parse contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from archive.cli import cli
from archive.paths import SAMPLES_DIR

MANIFEST = yaml.safe_load((SAMPLES_DIR / "manifest.yml").read_text(encoding="utf-8"))
SAMPLE_PAGES = [SAMPLES_DIR / d["path"] for d in MANIFEST["documents"]]
PERIOD_FIELDS = {
    "period_type",
    "period_start",
    "period_end",
    "stat_start",
    "stat_end",
    "period_label",
}


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    doc = (cli.commands[command].help or "").strip()
    assert doc, f"{command} has no docstring"
    assert " ".join(doc.splitlines()[0].split()) in " ".join(result.output.split())


@pytest.mark.parametrize("page", SAMPLE_PAGES, ids=lambda p: p.name)
def test_parse_json_contract(page: Path) -> None:
    result = CliRunner().invoke(cli, ["parse", str(page), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {
        "title",
        "issuer",
        "published_date",
        "period",
        "metrics",
        "breakdowns",
        "tables",
        "checks",
    } <= set(out)
    assert set(out["period"]) == PERIOD_FIELDS
    assert out["metrics"], "every sample states headline figures"
    for metric in out["metrics"]:
        assert {"metric", "value", "unit", "evidence"} <= set(metric)
        assert metric["unit"] in {"count", "percent"}
        assert metric["evidence"]
    for check in out["checks"]:
        assert {"check", "severity", "message"} <= set(check)


def test_parse_json_values_of_the_hengdong_page() -> None:
    page = next(p for p in SAMPLE_PAGES if "hengdong" in str(p))
    out = json.loads(CliRunner().invoke(cli, ["parse", str(page), "--json"]).output)
    metrics = {m["metric"]: m["value"] for m in out["metrics"]}
    # read from the seed: 接收市民来电总量4630次, 综合办结率98.41%, 发布时间:2020-10-15
    assert metrics["calls_inbound"] == 4630
    assert metrics["completion_rate"] == 98.41
    assert out["published_date"] == "2020-10-15"
    assert out["period"]["period_label"] == "2020-09"


def test_bad_document_fails_alone(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    good = SAMPLE_PAGES[0]
    result = CliRunner().invoke(cli, ["parse", "--each", str(empty), str(good), "--json"])
    assert result.exit_code == 1
    assert "empty.txt" in result.stderr
    payload = json.loads(result.stdout)
    assert len(payload) == 1  # the good one was still parsed


def test_summary_without_json() -> None:
    page = next(p for p in SAMPLE_PAGES if "hengdong" in str(p))
    result = CliRunner().invoke(cli, ["parse", str(page)])
    assert result.exit_code == 0
    assert "calls_inbound" in result.output and "4630" in result.output


DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devset"
DEVSET_FILES = (
    sorted(DEVSET.glob("d*.txt")) + sorted(DEVSET.glob("d*.html")) if DEVSET.exists() else []
)


@pytest.mark.skipif(not DEVSET_FILES, reason="../shared/devset is not present")
@pytest.mark.parametrize("path", DEVSET_FILES, ids=lambda p: p.name)
def test_parse_json_contract_on_the_devset(path: Path) -> None:
    result = CliRunner().invoke(cli, ["parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["period"]) == PERIOD_FIELDS
    assert out["period"]["period_type"] in {
        "week",
        "month",
        "quarter",
        "half_year",
        "year",
        "other",
    }
    assert {m["metric"] for m in out["metrics"]} <= set(yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "parsers" / "vocabulary.yml").read_text(encoding="utf-8")
    )["metrics"])  # fmt: skip
