"""``hotline new-source``: the platform guess, the files written, and the tests it writes failing.

Every scaffold here goes into a temporary copy of the repository (``--root``), never into this
checkout: a new source there would change the registry's meta-tests. The copy carries its own
``scrapers/`` so that the generated tests, run by pytest in a subprocess with the copy first on
``PYTHONPATH``, find the new source through the copy's registry, as they would in a checkout.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from archive import scaffold
from archive.cli import cli
from archive.scaffold import MARKERS, guess_platform
from scrapers.base import FetchError
from scrapers.mirror import mirror_path
from scrapers.platforms import PLATFORMS, platform_for
from scrapers.registry import all_sources

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
LIAOCHENG_PAGE = FIXTURES / "liaocheng/www.liaocheng.gov.cn/zmhd/12345rxyb/index.html"
TANGSHAN_PAGE = FIXTURES / "tangshan/www.tangshan.gov.cn/zhuzhan/12345zwfwbmrxtjsj/index.html"
BIN = Path(sys.executable).parent

# --- the guess -------------------------------------------------------------------------------

TRS_PAGER = "createPageHTML(...) pager script"
TRS_LINKS = "TRS article links YYYYMM/tYYYYMMDD_<id>.html"
GUESSES = [
    # ./201508/t20150806_586214.html links and createPageHTML(3, 0, "index", "html").
    ("liaocheng/www.liaocheng.gov.cn/zmhd/12345rxyb/index.html", "trs", (TRS_PAGER, TRS_LINKS)),
    # <div id="4571234"><script type="text/xml"><datastore> with a <nextgroup> to dataproxy.jsp.
    (
        "yichun/12345.yichun.gov.cn/yxtb/rxyb/index.html",
        "hanweb",
        (
            "jcms <datastore> inline records",
            "jcms dataproxy.jsp data proxy",
            "<recordset> of CDATA records",
            "jpage unitid",
        ),
    ),
    # The proxy's XML answer: a <datastore> root with its <recordset>, no proxy URL inside.
    (
        "yichun/12345.yichun.gov.cn/module/web/jpage/dataproxy.jsp__appid%3D1%26col%3D1"
        "%26columnid%3D7365%26endrecord%3D10%26path%3D%252F%26permissiontype%3D0%26perpage%3D5"
        "%26startrecord%3D6%26unitid%3D4571234%26webid%3D12",
        "hanweb",
        ("jcms <datastore> inline records", "<recordset> of CDATA records"),
    ),
    # content/post_1398215.html links, 粵ICP備05008716號 and SiteIDCode 4408000001.
    (
        "zhanjiang/www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/index.html",
        "guangdong",
        (
            "Guangdong platform article links content/post_<id>.html",
            "Guangdong ICP record (粤ICP备)",
            "Guangdong site code (SiteIDCode 44…)",
        ),
    ),
    # href="content_1754829.html".
    (
        "yueyang-yunxi/www.yunxi.gov.cn/27310/27316/27345/index.html",
        "hunan",
        ("Hunan platform article links content_<id>.html",),
    ),
    ("tangshan/www.tangshan.gov.cn/zhuzhan/12345zwfwbmrxtjsj/index.html", "generic", ()),
    ("hengdong/www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/index.html", "generic", ()),
    ("liaocheng/www.zhongyuan-news.example/zhoubian/liaocheng/index.html", "generic", ()),
]


@pytest.mark.parametrize(
    ("path", "platform", "evidence"), GUESSES, ids=[g[0][:30] for g in GUESSES]
)
def test_guess_names_the_platform_and_its_markers(
    path: str, platform: str, evidence: tuple[str, ...]
) -> None:
    guess = guess_platform((FIXTURES / path).read_bytes())
    assert (guess.platform, guess.evidence, guess.hints) == (platform, evidence, ())


@pytest.mark.parametrize(
    ("source", "url"),
    [(source, url) for source in all_sources() for url in source.listing_urls],
    ids=lambda value: value if isinstance(value, str) else value.slug,
)
def test_guess_agrees_with_the_platform_each_source_declares(source, url: str) -> None:
    page = mirror_path(FIXTURES / source.slug, url).read_bytes()
    assert PLATFORMS[guess_platform(page).platform] is platform_for(source, url)


def test_a_hint_alone_leaves_a_page_generic() -> None:
    page = (
        "<ul><li><a href='/a/1.html'>12345热线1月运行情况</a><span>2024-02-01</span></li></ul>"
        "<p>粤ICP备05008716号</p>"
    ).encode()
    guess = guess_platform(page)
    assert (guess.platform, guess.evidence) == ("generic", ())
    assert guess.hints == ("guangdong: Guangdong ICP record (粤ICP备)",)
    assert guess.describe() == (
        "generic (no platform's markers strong enough; hints seen: "
        "guangdong: Guangdong ICP record (粤ICP备))"
    )


def test_machinery_outweighs_a_province_hint() -> None:
    # A Guangdong site on TRS: the pager script (2) beats the ICP record (1).
    page = '<script>createPageHTML(2, 0, "index", "html");</script><p>粤ICP备1号</p>'.encode()
    guess = guess_platform(page)
    assert (guess.platform, guess.evidence) == ("trs", (TRS_PAGER,))
    assert guess.scores == {"trs": 2, "guangdong": 1}


def test_markers_are_data_naming_known_platforms() -> None:
    assert {marker.platform for marker in MARKERS} == set(PLATFORMS) - {"generic"}
    assert {marker.weight for marker in MARKERS} == {1, 2}


# --- the command, in a copy of the repository ------------------------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of what the source tests need: the packages, samples, the source tests, fixtures."""
    root = tmp_path_factory.mktemp("repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("archive", "parsers", "scrapers", "samples", "tests/fixtures"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("pyproject.toml", "tests/conftest.py", "tests/test_sources.py"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copy2(ROOT / "tests/test_registry.py", root / "tests/test_registry.py")
    before = sorted(path.name for path in (ROOT / "scrapers/sources").iterdir())
    yield root
    # The checkout itself is never written to.
    assert sorted(path.name for path in (ROOT / "scrapers/sources").iterdir()) == before


def new_source(*args: str):
    """Run ``hotline new-source`` with these arguments."""
    return CliRunner().invoke(cli, ["new-source", *args])


def load_module(path: Path, slug: str) -> ModuleType:
    """Import a generated source module from its file, without registering it."""
    spec = importlib.util.spec_from_file_location(f"scrapers.sources.{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest in ``root`` with the copy's packages first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


XS = "http://www.xinshi.example/zmhd/rxyb/"


def test_scaffold_writes_fixture_module_and_tests(repo: Path) -> None:
    original_tests = (repo / "tests/test_sources.py").read_text("utf-8")
    result = new_source(
        "xinshi",
        XS + "index.html",
        "--from-file",
        str(LIAOCHENG_PAGE),
        "--root",
        str(repo),
        "--name",
        "新市",
        "--province",
        "山东省",
        "--level",
        "prefecture",
        "--division-code",
        "371599",
    )
    assert result.exit_code == 0, result.output
    assert f"platform: trs (from: {TRS_PAGER}; {TRS_LINKS})" in result.output
    # The page's 4 list items and createPageHTML(3, 0, ...): index_1.html and index_2.html.
    assert "the reader finds 4 items; the first 4:" in result.output
    assert "further pages announced: 2; page count: 3" in result.output

    fixture = repo / "tests/fixtures/xinshi/www.xinshi.example/zmhd/rxyb/index.html"
    assert fixture.read_bytes() == LIAOCHENG_PAGE.read_bytes()  # GBK bytes, unedited
    assert "saved unedited by `hotline new-source`" in (
        repo / "tests/fixtures/xinshi/README.md"
    ).read_text("utf-8")

    source = load_module(repo / "scrapers/sources/xinshi.py", "xinshi").SOURCE
    assert (source.slug, source.name, source.province, source.level, source.division_code) == (
        "xinshi",
        "新市",
        "山东省",
        "prefecture",
        "371599",
    )
    assert source.homepage == "http://www.xinshi.example/"
    assert source.listing_urls == (XS + "index.html",)
    assert (source.platform, source.allowed_hosts) == ("trs", ("www.xinshi.example",))
    assert source.verified_live is None
    assert source.quirks["notes"].startswith("Scaffolded by `hotline new-source` on ")
    assert f"Platform guessed: trs (from: {TRS_PAGER}; {TRS_LINKS})." in source.quirks["notes"]
    assert source.quirks["notes"].endswith("not verified live.")

    tests = (repo / "tests/test_sources.py").read_text("utf-8")
    assert tests.startswith(original_tests)
    added = tests[len(original_tests) :]
    assert [line for line in added.splitlines() if line.startswith("def test_")] == [
        "def test_xinshi_source_declares_who_publishes() -> None:",
        "def test_xinshi_page_1_items() -> None:",
        "def test_xinshi_page_1_next_pages() -> None:",
        "def test_xinshi_bulletin_filter() -> None:",
    ]
    # Nothing the reader found is written into the tests.
    assert "t20150806_586214" not in added and "公示" not in added


NC = "http://www.newcity.example/rx/tjsj/"
NC_FILES = "http://www.newcity.example/zhuzhan/12345zwfwbmrxtjsj/"
# Read by hand from the Tangshan page saved under the new URL: four li items with their dates
# (root-relative links, so on the new host), a pager "共2页" linking index_2.html, and three
# titles of monthly 运行情况 (the fourth announces a system upgrade: a notice).
HAND_READ = {
    'NEWCITY_EXPECTED_ITEMS = "FILL IN"': f"""NEWCITY_EXPECTED_ITEMS = [
    ("{NC_FILES}20220805/1093622.html", "唐山市12345政务服务便民热线2022年7月份运行情况", date(2022, 8, 5)),
    ("{NC_FILES}20220706/1089154.html", "唐山市12345政务服务便民热线2022年6月份运行情况", date(2022, 7, 6)),
    ("{NC_FILES}20220624/1087731.html", "关于12345热线系统升级期间暂停服务的公告", date(2022, 6, 24)),
    ("{NC_FILES}20220607/1084370.html", "唐山市12345政务服务便民热线2022年5月份运行情况", date(2022, 6, 7)),
]""",
    'NEWCITY_EXPECTED_NEXT_PAGES = "FILL IN"': f'NEWCITY_EXPECTED_NEXT_PAGES = ["{NC}index_2.html"]',
    'NEWCITY_EXPECTED_TOTAL_PAGES = "FILL IN"': "NEWCITY_EXPECTED_TOTAL_PAGES = 2",
    'NEWCITY_EXPECTED_BULLETIN_TITLES = "FILL IN"': """NEWCITY_EXPECTED_BULLETIN_TITLES = [
    "唐山市12345政务服务便民热线2022年7月份运行情况",
    "唐山市12345政务服务便民热线2022年6月份运行情况",
    "唐山市12345政务服务便民热线2022年5月份运行情况",
]""",
}
NEWCITY_TESTS = [
    "tests/test_sources.py::test_newcity_source_declares_who_publishes",
    "tests/test_sources.py::test_newcity_page_1_items",
    "tests/test_sources.py::test_newcity_page_1_next_pages",
    "tests/test_sources.py::test_newcity_bulletin_filter",
]


def test_generated_tests_fail_until_filled_in_by_hand_then_pass(repo: Path) -> None:
    result = new_source(
        "newcity", NC + "index.html", "--from-file", str(TANGSHAN_PAGE), "--root", str(repo)
    )
    assert result.exit_code == 0, result.output
    assert "platform: generic (no platform's markers strong enough)" in result.output

    lint = [str(BIN / "ruff"), "check", "scrapers/sources/newcity.py", "tests/test_sources.py"]
    assert subprocess.run(lint, cwd=repo, capture_output=True).returncode == 0
    lint[1:2] = ["format", "--check"]
    assert subprocess.run(lint, cwd=repo, capture_output=True).returncode == 0

    run = run_pytest(repo, *NEWCITY_TESTS)
    assert run.returncode == 1, run.stdout
    assert "4 failed" in run.stdout
    fixture = "tests/fixtures/newcity/www.newcity.example/rx/tjsj/index.html"
    for what in ("items", "next pages", "bulletin titles"):
        assert f"Failed: fill in the expected {what} read by hand from {fixture}" in run.stdout
    expected = "fill in name, province, level, division_code in scrapers/sources/newcity.py"
    assert expected in run.stdout

    # The registry's per-source meta-tests accept the new source (fixtures, tests, hosts, notes);
    # only the hand-typed list of sources in test_registry.py would need the new slug.
    meta = run_pytest(repo, "tests/test_registry.py", "-k", "newcity")
    assert meta.returncode == 1
    assert "7 passed" in meta.stdout
    assert "FAILED tests/test_registry.py::test_source_declares_what_the_issue_says[newcity]" in (
        meta.stdout
    )

    tests_file = repo / "tests/test_sources.py"
    text = tests_file.read_text("utf-8")
    for placeholder, value in HAND_READ.items():
        assert text.count(placeholder) == 1
        text = text.replace(placeholder, value)
    tests_file.write_text(text, encoding="utf-8")
    module_file = repo / "scrapers/sources/newcity.py"
    module = module_file.read_text("utf-8")
    module = module.replace('name="TODO: 名称"', 'name="新城市"')
    module = module.replace('province="TODO: 省"', 'province="河北省"')
    module = module.replace('"TODO: prefecture | district | county | province"', '"prefecture"')
    module = module.replace('"TODO: GB/T 2260 code, or None if unknown"', "None")
    module_file.write_text(module, encoding="utf-8")

    run = run_pytest(repo, *NEWCITY_TESTS)
    assert run.returncode == 0, run.stdout
    assert "4 passed" in run.stdout


def test_a_slug_that_prefixes_another_is_not_taken_for_it(repo: Path) -> None:
    # test_yueyang_yunxi_... tests exist; "yueyang" is still a new source.
    result = new_source(
        "yueyang",
        "http://www.yueyang.example/rx/index.html",
        "--from-file",
        str(TANGSHAN_PAGE),
        "--root",
        str(repo),
    )
    assert result.exit_code == 0, result.output
    assert (repo / "scrapers/sources/yueyang.py").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tangshan", "http://www.tangshan.gov.cn/x/index.html"), "source 'tangshan' exists"),
        (("yueyang-yunxi", "http://www.yunxi.gov.cn/x/"), "source 'yueyang-yunxi' exists"),
        (("New-City", "http://www.x.example/"), "bad slug 'New-City'"),
        (("new_city", "http://www.x.example/"), "bad slug 'new_city'"),
        (("1city", "http://www.x.example/"), "bad slug '1city'"),
        (("new--city", "http://www.x.example/"), "bad slug 'new--city'"),
        (("新城", "http://www.x.example/"), "bad slug '新城'"),
        (("newtown", "ftp://www.x.example/list.html"), "not an http(s) URL"),
        (("newtown", "file:///etc/passwd"), "not an http(s) URL"),
        (("newtown", "www.x.example/index.html"), "not an http(s) URL"),
        (("newtown", "http:///index.html"), "not an http(s) URL"),
    ],
)
def test_refusals_exit_2_and_write_nothing(repo: Path, args: tuple[str, str], message: str) -> None:
    tests_before = (repo / "tests/test_sources.py").read_bytes()
    sources_before = sorted((repo / "scrapers/sources").iterdir())
    fixtures_before = sorted((repo / "tests/fixtures").iterdir())
    result = new_source(*args, "--from-file", str(TANGSHAN_PAGE), "--root", str(repo))
    assert result.exit_code == 2
    assert message in result.output
    assert (repo / "tests/test_sources.py").read_bytes() == tests_before
    assert sorted((repo / "scrapers/sources").iterdir()) == sources_before
    assert sorted((repo / "tests/fixtures").iterdir()) == fixtures_before


def test_an_unknown_level_is_refused(repo: Path) -> None:
    result = new_source("newtown", "http://www.x.example/", "--level", "city", "--root", str(repo))
    assert result.exit_code == 2
    assert "Invalid value for '--level'" in result.output


def test_a_page_that_cannot_be_fetched_exits_1_and_writes_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(url: str) -> tuple[bytes, str | None]:
        raise FetchError(url, "robots")

    monkeypatch.setattr(scaffold, "fetch_listing", refuse)
    result = new_source("newtown", "http://www.newtown.example/rx/", "--root", str(repo))
    assert result.exit_code == 1
    assert "could not fetch the listing page: http://www.newtown.example/rx/: robots" in (
        result.output
    )
    assert not (repo / "scrapers/sources/newtown.py").exists()
    assert not (repo / "tests/fixtures/newtown").exists()
