"""Each source walked over HTTP from its own fixture mirror (tests/fixtures/<slug>/, mirror layout).

The walk must reach every page and article its mirror holds (listing pages, pagination, articles)
and nothing else; the links it follows to files the fixture does not hold (older articles,
attachments) come back as 404 failures, each named, and the run goes on (exit status 1).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from scrapers.mirror import mirror_path
from scrapers.registry import all_sources

FIXTURES = Path(__file__).parent / "fixtures"


def _mirror_files(root: Path) -> set[Path]:
    return {
        p
        for p in root.rglob("*")
        if p.is_file() and p.parent != root and not p.name.endswith((".headers.json", ".md"))
    }


@pytest.mark.parametrize("slug", [s.slug for s in all_sources()])
def test_source_walks_its_mirror(tmp_path: Path, slug: str) -> None:
    root = FIXTURES / slug
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        cli,
        ["scrape", "--db", str(db), "--mirror", str(root), "--source", slug, "--full", "--json"],
    )
    (report,) = json.loads(result.stdout)["sources"]
    assert report["error"] is None
    # Exit 1: the run went through, some documents failed (the links to files not mirrored).
    assert result.exit_code == (1 if report["failures"] else 0), result.output
    conn = sqlite3.connect(db)
    fetched = {mirror_path(root, url) for (url,) in conn.execute("select url from documents")}
    assert fetched == _mirror_files(root)
    for failure in report["failures"]:
        assert failure["reason"] == "http 404"
        assert not mirror_path(root, failure["url"]).exists()
    assert report["skipped"], "every fixture listing holds items that are not bulletins"
