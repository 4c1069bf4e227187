"""The source registry: found by listing scrapers/sources/, each source with fixtures and tests."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from scrapers import sources as sources_package
from scrapers.base import Source
from scrapers.mirror import mirror_path
from scrapers.platforms import PLATFORMS, get_platform
from scrapers.registry import all_sources, get_source

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).parent
SOURCE_FOLDER = ROOT / "scrapers" / "sources"
MANIFEST = yaml.safe_load((ROOT / "samples" / "manifest.yml").read_text("utf-8"))

# What the issue asks for, typed from it.
EXPECTED = {
    "liaocheng": ("聊城市", "山东省", "prefecture", "371500", "trs"),
    "zhanjiang": ("湛江市", "广东省", "prefecture", "440800", "guangdong"),
    "yueyang-yunxi": ("岳阳市云溪区", "湖南省", "district", "430603", "hunan"),
    "hengdong": ("衡东县", "湖南省", "county", "430424", "generic"),
    "tangshan": ("唐山市", "河北省", "prefecture", "130200", "generic"),
    "yichun": ("宜春市", "江西省", "prefecture", "360900", "hanweb"),
}
SOURCES = all_sources()


def test_all_six_sources_are_found() -> None:
    assert [source.slug for source in SOURCES] == sorted(EXPECTED)


def test_sources_are_the_modules_of_the_folder() -> None:
    modules = sorted(
        path.stem.replace("_", "-")
        for path in SOURCE_FOLDER.glob("*.py")
        if not path.stem.startswith("_")
    )
    assert modules == [source.slug for source in SOURCES]


def test_slugs_are_unique() -> None:
    slugs = [source.slug for source in SOURCES]
    assert len(slugs) == len(set(slugs))


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_source_declares_what_the_issue_says(source: Source) -> None:
    assert (
        source.name,
        source.province,
        source.level,
        source.division_code,
        source.platform,
    ) == EXPECTED[source.slug]


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_source_has_fixtures(source: Source) -> None:
    folder = TESTS / "fixtures" / source.slug
    assert folder.is_dir(), f"no fixtures for {source.slug}: add tests/fixtures/{source.slug}/"
    assert any(path.is_file() for path in folder.rglob("*"))


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_source_has_a_listing_fixture_for_each_listing_url(source: Source) -> None:
    for url in source.listing_urls:
        assert mirror_path(TESTS / "fixtures" / source.slug, url).is_file(), url


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_source_has_tests(source: Source) -> None:
    module = source.slug.replace("-", "_")
    tests = (TESTS / "test_sources.py").read_text("utf-8")
    names = re.findall(rf"^def (test_{module}_\w+)\(", tests, re.M)
    assert len(names) >= 3, f"tests/test_sources.py has no test_{module}_... tests"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_listing_hosts_are_allowed(source: Source) -> None:
    assert source.listing_urls
    for url in (*source.listing_urls, source.homepage):
        assert urlsplit(url).scheme in ("http", "https")
        assert urlsplit(url).hostname in source.allowed_hosts, url


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_status_is_modelled_not_verified_live(source: Source) -> None:
    assert source.verified_live is None
    assert source.status == "modelled, not verified live"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_platforms_are_known(source: Source) -> None:
    assert get_platform(source.platform) is PLATFORMS[source.platform]
    for platform in source.quirks.get("host_platforms", {}).values():
        assert platform in PLATFORMS


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.slug)
def test_quirks_say_what_is_modelled(source: Source) -> None:
    assert "not verified live" in source.quirks["notes"]


@pytest.mark.parametrize("seed", MANIFEST["sources"], ids=lambda seed: seed["slug"])
def test_seed_sources_match_the_bundled_samples(seed: dict) -> None:
    source = get_source(seed["slug"])
    assert source.name == seed["name"]
    assert source.province == seed["province"]
    assert source.level == seed["level"]
    assert source.division_code == seed["division_code"]
    assert source.homepage == seed["homepage"]
    assert source.platform == seed["platform"]
    assert set(seed["hosts"]) <= set(source.allowed_hosts)
    listings = [entry["url"] for entry in MANIFEST["listings"] if entry["source"] == seed["slug"]]
    assert sorted(source.listing_urls) == sorted(listings)
    for document in MANIFEST["documents"]:
        if document["source"] == seed["slug"]:
            assert urlsplit(document["url"]).hostname in source.allowed_hosts


def test_republishing_portal_is_read_as_a_generic_page() -> None:
    quirks = get_source("liaocheng").quirks
    assert quirks["host_platforms"] == {"www.zhongyuan-news.example": "generic"}


def test_get_source_names_the_known_slugs() -> None:
    assert get_source("yueyang-yunxi").name == "岳阳市云溪区"
    with pytest.raises(KeyError, match="unknown source 'beijing'; known: hengdong, liaocheng"):
        get_source("beijing")


def test_a_module_declaring_another_slug_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "some_city.py").write_text(
        "from scrapers.base import Source\n"
        "SOURCE = Source(slug='other', name='x', province='x', level='county',\n"
        "    division_code=None, homepage='http://x.example/', listing_urls=(),\n"
        "    platform='generic', allowed_hosts=())\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sources_package, "__path__", [str(tmp_path)])
    monkeypatch.delitem(sys.modules, "scrapers.sources.some_city", raising=False)
    try:
        with pytest.raises(ValueError, match="declares slug 'other', expected 'some-city'"):
            all_sources()
    finally:
        sys.modules.pop("scrapers.sources.some_city", None)


def test_a_module_without_source_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty_city.py").write_text("NAME = 'x'\n", encoding="utf-8")
    monkeypatch.setattr(sources_package, "__path__", [str(tmp_path)])
    try:
        with pytest.raises(TypeError, match="empty_city.py has no SOURCE"):
            all_sources()
    finally:
        sys.modules.pop("scrapers.sources.empty_city", None)
