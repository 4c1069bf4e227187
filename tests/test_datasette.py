"""Datasette on the sample archive, through Datasette's own test client."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from archive.paths import METADATA


@pytest.fixture(scope="module")
def datasette(sample_archive: Path) -> Datasette:
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    return Datasette([str(sample_archive)], metadata=metadata, immutables=[])


def _db(ds: Datasette) -> str:
    return next(iter(ds.databases.keys() - {"_internal"}))


@pytest.mark.asyncio
async def test_bulletins_table(datasette: Datasette) -> None:
    response = await datasette.client.get(f"/{_db(datasette)}/bulletins.json?_shape=array")
    assert response.status_code == 200
    assert {row["source"] for row in response.json()} == {
        "liaocheng",
        "zhanjiang",
        "yueyang-yunxi",
        "hengdong",
    }


@pytest.mark.asyncio
async def test_comparison_view(datasette: Datasette) -> None:
    response = await datasette.client.get(
        f"/{_db(datasette)}/bulletin_comparison.json?_shape=array&source=liaocheng&period_label=2020-Q2"
    )
    rows = response.json()
    assert len(rows) == 1
    assert rows[0]["requests_total"] == 388275  # 共受理群众诉求388275件
    assert rows[0]["satisfaction_rate"] == 97.71  # 综合满意率97.71%


@pytest.mark.asyncio
async def test_full_text_search_finds_the_seed(datasette: Datasette) -> None:
    response = await datasette.client.get(
        f"/{_db(datasette)}/bulletins.json?_shape=array&_search=疫情防控"
    )
    rows = response.json()
    assert [(r["source"], r["period_label"]) for r in rows] == [("liaocheng", "2020-Q2")]


@pytest.mark.asyncio
async def test_two_character_search(datasette: Datasette) -> None:
    response = await datasette.client.get(f"/{_db(datasette)}/search_text.json?_shape=array&q=物业")
    assert response.status_code == 200
    rows = response.json()
    assert rows and any("liaocheng" in str(r.values()) for r in rows)
