"""``hotline new-source``: the files of a new source, from one saved listing page.

The pure parts guess the CMS platform from the page bytes (a table of markers, each with the
evidence it gives) and render the source module and its tests; :func:`scaffold` writes them
into a repository root. Nothing here claims anything about the live site: the page may have
been saved by hand, and the module says "not verified live" until a live run is recorded.

The tests follow the repository's convention, which ``tests/test_registry.py`` checks: a
source's tests are ``test_<module>_…`` functions in ``tests/test_sources.py``, and its pages are
saved under ``tests/fixtures/<slug>/<host>/<path>`` (the :func:`scrapers.mirror.mirror_path`
layout). The expected values are left as a placeholder that makes the tests fail until a person
has read them from the saved page: they are never filled in from the reader's own output.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from scrapers.base import ListingPage, Source
from scrapers.filters import is_bulletin_title
from scrapers.mirror import mirror_path
from scrapers.platforms import get_platform
from scrapers.platforms.common import decode

logger = logging.getLogger(__name__)

LEVELS = ("prefecture", "district", "county", "province")
TODO = "TODO"
# The placeholder of an expected value in the generated tests (None is a real answer for some).
FILL_IN = "FILL IN"
# Lowercase ascii words joined by "-": the module name is the slug with "-" -> "_".
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
SOURCES_DIR = Path("scrapers") / "sources"
FIXTURES_DIR = Path("tests") / "fixtures"
TESTS_FILE = Path("tests") / "test_sources.py"


class ScaffoldError(Exception):
    """The scaffold was refused (bad slug or URL, existing source, missing repository parts)."""


# --- guessing the platform ----------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A trace a CMS leaves in its column pages, and how much it tells."""

    platform: str
    evidence: str  # what was seen, as the report says it
    pattern: re.Pattern[str]
    # 2: the CMS's own machinery (pager script, data proxy, URL scheme); 1: a hint that other
    # sites share (a province's ICP record, a word in an attribute).
    weight: int


MARKERS: tuple[Marker, ...] = (
    Marker("trs", "createPageHTML(...) pager script", re.compile(r"createPageHTML\s*\("), 2),
    Marker(
        "trs",
        "TRS body container (TRS_Editor / TRS_AUTOADD)",
        re.compile(r"TRS_Editor|TRS_AUTOADD"),
        2,
    ),
    Marker(
        "trs",
        "TRS article links YYYYMM/tYYYYMMDD_<id>.html",
        re.compile(r"""href=["'][^"']*/\d{6}/t\d{8}_\d+\.s?html?["']""", re.I),
        1,
    ),
    Marker("hanweb", "jcms <datastore> inline records", re.compile(r"<datastore\b", re.I), 2),
    Marker("hanweb", "jcms dataproxy.jsp data proxy", re.compile(r"dataproxy\.jsp", re.I), 2),
    Marker("hanweb", "<recordset> of CDATA records", re.compile(r"<recordset\b", re.I), 1),
    Marker("hanweb", "jpage unitid", re.compile(r"\bunitid\b", re.I), 1),
    Marker(
        "hanweb",
        "Hanweb article links /art/YYYY/M/D/art_<cid>_<aid>.html",
        re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html"),
        2,
    ),
    Marker("hanweb", "Hanweb column path /col/col<cid>/", re.compile(r"/col/col\d+/"), 1),
    Marker(
        "guangdong",
        "Guangdong platform article links content/post_<id>.html",
        re.compile(r"content/post_\d+\.html"),
        2,
    ),
    Marker(
        "guangdong", "link to gdzwfw.gov.cn (广东政务服务网)", re.compile(r"gdzwfw\.gov\.cn"), 1
    ),
    Marker("guangdong", "Guangdong ICP record (粤ICP备)", re.compile(r"[粤粵]ICP[备備]"), 1),
    Marker(
        "guangdong",
        "Guangdong site code (SiteIDCode 44…)",
        re.compile(r"""name=["']SiteIDCode["']\s+content=["']44\d""", re.I),
        1,
    ),
    Marker(
        "hunan",
        "Hunan platform article links content_<id>.html",
        re.compile(r"""[/"']content_\d+\.html"""),
        2,
    ),
)
# A platform is guessed only with this much evidence: hints alone leave the page generic.
MIN_SCORE = 2
# Ties go to the platform named first (the more specific reader).
PLATFORM_ORDER = ("trs", "hanweb", "guangdong", "hunan")


@dataclass(frozen=True)
class PlatformGuess:
    """The platform a page looks like, and the markers that say so."""

    platform: str
    evidence: tuple[str, ...]  # the markers of the guessed platform (empty for generic)
    scores: dict[str, int]  # every platform with a marker, and its score
    hints: tuple[str, ...] = ()  # markers of other platforms seen (too weak or outscored)

    def describe(self) -> str:
        """One line: the platform and why."""
        if self.evidence:
            return f"{self.platform} (from: {'; '.join(self.evidence)})"
        seen = f"; hints seen: {'; '.join(self.hints)}" if self.hints else ""
        return f"generic (no platform's markers strong enough{seen})"


def guess_platform(data: bytes, content_type: str | None = None) -> PlatformGuess:
    """Guess the CMS of a listing page from its bytes by the markers of :data:`MARKERS`."""
    text = decode(data, content_type)
    found = [marker for marker in MARKERS if marker.pattern.search(text)]
    scores: dict[str, int] = {}
    for marker in found:
        scores[marker.platform] = scores.get(marker.platform, 0) + marker.weight
    ranked = sorted(
        (platform for platform in scores if scores[platform] >= MIN_SCORE),
        key=lambda platform: (-scores[platform], PLATFORM_ORDER.index(platform)),
    )
    platform = ranked[0] if ranked else "generic"
    evidence = tuple(marker.evidence for marker in found if marker.platform == platform)
    hints = tuple(
        f"{marker.platform}: {marker.evidence}" for marker in found if marker.platform != platform
    )
    return PlatformGuess(platform=platform, evidence=evidence, scores=scores, hints=hints)


# --- what is written ----------------------------------------------------------------------


@dataclass(frozen=True)
class NewSource:
    """What the command was told about the new source (None: not given, left as a TODO)."""

    slug: str
    listing_url: str
    name: str | None = None
    province: str | None = None
    level: str | None = None
    division_code: str | None = None

    @property
    def module(self) -> str:
        """The module name: the slug with "-" -> "_"."""
        return self.slug.replace("-", "_")

    @property
    def host(self) -> str:
        """The listing URL's host, lower case."""
        return (urlsplit(self.listing_url).hostname or "").lower()

    @property
    def homepage(self) -> str:
        """The site's root on the listing URL's scheme and host (port included)."""
        parts = urlsplit(self.listing_url)
        return f"{parts.scheme}://{parts.netloc.lower()}/"

    def missing(self) -> list[str]:
        """The fields left as TODO markers."""
        fields = ("name", "province", "level", "division_code")
        return [field for field in fields if getattr(self, field) is None]


def check_request(request: NewSource) -> None:
    """Refuse a bad slug, a URL that is not http(s) with a host, or an unknown level."""
    if not _SLUG.match(request.slug):
        raise ScaffoldError(
            f"bad slug {request.slug!r}: lowercase ascii letters and digits, words joined by "
            "'-', starting with a letter (e.g. 'yueyang-yunxi')"
        )
    parts = urlsplit(request.listing_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScaffoldError(f"not an http(s) URL: {request.listing_url!r}")
    if request.level is not None and request.level not in LEVELS:
        raise ScaffoldError(f"bad level {request.level!r}: one of {', '.join(LEVELS)}")
    try:
        mirror_path(Path("."), request.listing_url)
    except ValueError as exc:
        raise ScaffoldError(f"the listing URL cannot be saved as a fixture: {exc}") from None


def _literal(value: str) -> str:
    """A double-quoted Python string literal (the repository's formatter style)."""
    return json.dumps(value, ensure_ascii=False)


def _todo(what: str) -> str:
    """The marker left in a field that was not given."""
    return f"{TODO}: {what}"


def fixture_relpath(request: NewSource) -> Path:
    """Where the listing page is saved, relative to the repository root."""
    return mirror_path(FIXTURES_DIR / request.slug, request.listing_url)


def notes(request: NewSource, guess: PlatformGuess, today: date, origin: str) -> str:
    """The source's ``quirks["notes"]``: scaffolded, what was guessed, not verified live."""
    given = [
        field
        for field in ("name", "province", "level", "division_code")
        if field not in request.missing()
    ]
    missing = request.missing()
    parts = [
        f"Scaffolded by `hotline new-source` on {today.isoformat()} from {origin}, saved "
        f"unedited as {fixture_relpath(request).as_posix()}.",
        f"Platform guessed: {guess.describe()}.",
        f"Given on the command line: {', '.join(given) or 'nothing'}"
        + (f"; still TODO: {', '.join(missing)}." if missing else "."),
        "Listing page, pagination and hosts modelled from one saved page, not verified live.",
    ]
    return " ".join(parts)


def render_module(request: NewSource, guess: PlatformGuess, today: date, origin: str) -> str:
    """The text of ``scrapers/sources/<module>.py``."""
    name = request.name or _todo("名称")
    province = request.province or _todo("省")
    level = request.level or _todo(" | ".join(LEVELS))
    code = (
        _literal(request.division_code)
        if request.division_code is not None
        else _literal(_todo("GB/T 2260 code, or None if unknown"))
    )
    title = request.name or request.slug
    return f'''"""{title}: scaffolded by `hotline new-source` from its listing page ({guess.platform} platform guessed)."""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug={_literal(request.slug)},
    name={_literal(name)},
    province={_literal(province)},
    level={_literal(level)},
    division_code={code},
    homepage={_literal(request.homepage)},
    listing_urls=({_literal(request.listing_url)},),
    platform={_literal(guess.platform)},
    allowed_hosts=({_literal(request.host)},),
    quirks={{
        "notes": {_literal(notes(request, guess, today, origin))},
    }},
    verified_live=None,
)
'''


def render_tests(
    request: NewSource, guess: PlatformGuess, today: date, content_type: str | None
) -> str:
    """The section appended to ``tests/test_sources.py``: tests failing until filled in by hand.

    It uses that file's helpers (``listing``, ``triples``, ``is_bulletin_title``, ``pytest``).
    """
    module = request.module
    prefix = module.upper()
    fixture = fixture_relpath(request).as_posix()
    header = f"# --- {request.slug}: scaffolded by `hotline new-source` on {today.isoformat()} "
    header += "-" * max(0, 100 - len(header))
    return f'''

{header}
# Platform guessed: {guess.platform}. Read the saved page by hand (an editor or a browser) and
# replace each {FILL_IN!r} below with what it shows; never paste what the reader prints.

{prefix}_LISTING = {_literal(request.listing_url)}
{prefix}_FIXTURE = {_literal(fixture)}
{prefix}_CONTENT_TYPE = {_literal(content_type or "text/html")}
# (url, title, date(...) or None) of every list item of the page, in page order.
{prefix}_EXPECTED_ITEMS = {_literal(FILL_IN)}
# The absolute URLs of the further pages the page announces, and the page count (None: unknown).
{prefix}_EXPECTED_NEXT_PAGES = {_literal(FILL_IN)}
{prefix}_EXPECTED_TOTAL_PAGES = {_literal(FILL_IN)}
# The titles of the items that are hotline bulletins (not notices or news), in page order.
{prefix}_EXPECTED_BULLETIN_TITLES = {_literal(FILL_IN)}


def _{module}_expected(value: object, what: str) -> object:
    """An expected value, or a failure asking for it while it is still the placeholder."""
    if value == {_literal(FILL_IN)}:
        pytest.fail(f"fill in the expected {{what}} read by hand from {{{prefix}_FIXTURE}}")
    return value


def _{module}_page() -> ListingPage:
    """The saved listing page read by the source's platform reader."""
    return listing({_literal(request.slug)}, {prefix}_LISTING, {prefix}_CONTENT_TYPE)


def test_{module}_source_declares_who_publishes() -> None:
    source = get_source({_literal(request.slug)})
    fields = ("name", "province", "level", "division_code")
    todo = [field for field in fields if {_literal(TODO)} in str(getattr(source, field))]
    assert not todo, f"fill in {{', '.join(todo)}} in scrapers/sources/{module}.py"


def test_{module}_page_1_items() -> None:
    expected = _{module}_expected({prefix}_EXPECTED_ITEMS, "items")
    assert triples(_{module}_page()) == expected


def test_{module}_page_1_next_pages() -> None:
    next_pages = _{module}_expected({prefix}_EXPECTED_NEXT_PAGES, "next pages")
    total_pages = _{module}_expected({prefix}_EXPECTED_TOTAL_PAGES, "page count")
    page = _{module}_page()
    assert (page.next_pages, page.total_pages) == (next_pages, total_pages)


def test_{module}_bulletin_filter() -> None:
    expected = _{module}_expected({prefix}_EXPECTED_BULLETIN_TITLES, "bulletin titles")
    titles = [item.title for item in _{module}_page().items]
    assert [title for title in titles if is_bulletin_title(title)[0]] == expected
'''


def render_fixture_readme(request: NewSource, today: date, origin: str) -> str:
    """The fixture folder's README.md: where the page came from."""
    relative = fixture_relpath(request).relative_to(FIXTURES_DIR / request.slug).as_posix()
    return (
        f"# {request.slug} fixtures (mirror layout: `<host>/<url path>`)\n\n"
        f"`{relative}` is the listing page {request.listing_url}, saved unedited by "
        f"`hotline new-source` on {today.isoformat()} from {origin}. Add the further pages and "
        "one article (with its attachments' links) the same way as the other sources do.\n"
    )


# --- what the reader sees (printed for the person filling in, never written into tests) ----


@dataclass(frozen=True)
class Preview:
    """What the guessed platform's reader makes of the page, or why it could not read it."""

    page: ListingPage | None
    error: str | None


def preview(source: Source, data: bytes, content_type: str | None) -> Preview:
    """Read the page with the source's platform reader; a reader error is reported, not raised."""
    try:
        page = get_platform(source.platform).parse_listing(
            data, source.listing_urls[0], source, content_type
        )
    except Exception as exc:  # the person filling in needs to see any failure, not a traceback
        return Preview(page=None, error=f"{type(exc).__name__}: {exc}")
    return Preview(page=page, error=None)


def preview_lines(result: Preview, shown: int = 5) -> list[str]:
    """The preview as lines for the terminal."""
    if result.page is None:
        return [f"the reader could not read the page: {result.error}"]
    page = result.page
    lines = [f"the reader finds {len(page.items)} items; the first {min(shown, len(page.items))}:"]
    for item in page.items[:shown]:
        keep, why = is_bulletin_title(item.title)
        published = item.published.isoformat() if item.published else "no date"
        lines.append(f"  {published}  {item.title}  [{'bulletin' if keep else 'not'}: {why}]")
        lines.append(f"      {item.url}")
    lines.append(f"further pages announced: {len(page.next_pages)}; page count: {page.total_pages}")
    lines.extend(f"  {url}" for url in page.next_pages[:3])
    return lines


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaffolded:
    """What :func:`scaffold` wrote and guessed."""

    guess: PlatformGuess
    source: Source
    fixture: Path
    module: Path
    tests: Path
    readme: Path
    preview: Preview


def _source(request: NewSource, guess: PlatformGuess) -> Source:
    """The ``Source`` the rendered module declares (for the preview)."""
    return Source(
        slug=request.slug,
        name=request.name or _todo("名称"),
        province=request.province or _todo("省"),
        level=request.level or _todo(" | ".join(LEVELS)),
        division_code=request.division_code,
        homepage=request.homepage,
        listing_urls=(request.listing_url,),
        platform=guess.platform,
        allowed_hosts=(request.host,),
        quirks={},
    )


def check_root(root: Path, request: NewSource) -> None:
    """Refuse a root that is not a checkout, or a slug that exists there in any form."""
    tests_file = root / TESTS_FILE
    if not (root / SOURCES_DIR).is_dir() or not tests_file.is_file():
        raise ScaffoldError(f"{root} has no {SOURCES_DIR} or {TESTS_FILE}: not the repository")
    module_path = root / SOURCES_DIR / f"{request.module}.py"
    if module_path.exists():
        raise ScaffoldError(f"source {request.slug!r} exists: {module_path}")
    fixtures = root / FIXTURES_DIR / request.slug
    if fixtures.exists():
        raise ScaffoldError(f"fixtures for {request.slug!r} exist: {fixtures}")
    # The names the scaffold writes; "test_<module>_" alone would also match a longer slug's
    # tests (test_yueyang_ in test_yueyang_yunxi_...).
    written = rf"^(def _{request.module}_page\(|{request.module.upper()}_LISTING = )"
    if re.search(written, tests_file.read_text("utf-8"), re.M):
        raise ScaffoldError(f"{TESTS_FILE} already has a section for {request.slug!r}")


def fetch_listing(url: str) -> tuple[bytes, str | None]:
    """Fetch the listing page politely (robots.txt, one request per second, size cap)."""
    from scrapers.http import Fetcher

    host = (urlsplit(url).hostname or "").lower()
    with Fetcher(allowed_hosts={host}) as fetcher:
        result = fetcher.fetch(url)
    if result.status != 200:
        raise ScaffoldError(f"{url} answered {result.status}")
    if result.final_url != url:
        # The tests read the page by its listing URL; say so, since links resolve differently.
        logger.warning("%s redirected to %s; saved under the listing URL", url, result.final_url)
    return result.content, result.content_type


def scaffold(
    root: Path,
    request: NewSource,
    data: bytes,
    content_type: str | None,
    origin: str,
    today: date,
) -> Scaffolded:
    """Write the fixture, the source module and the tests of a new source into ``root``."""
    check_request(request)
    check_root(root, request)
    guess = guess_platform(data, content_type)
    fixture = root / fixture_relpath(request)
    module_path = root / SOURCES_DIR / f"{request.module}.py"
    tests_file = root / TESTS_FILE
    readme = root / FIXTURES_DIR / request.slug / "README.md"
    fixture.parent.mkdir(parents=True, exist_ok=True)
    fixture.write_bytes(data)
    readme.write_text(render_fixture_readme(request, today, origin), encoding="utf-8")
    module_path.write_text(render_module(request, guess, today, origin), encoding="utf-8")
    existing = tests_file.read_text("utf-8").rstrip("\n") + "\n"
    tests_file.write_text(
        existing + render_tests(request, guess, today, content_type), encoding="utf-8"
    )
    logger.info("scaffolded %s (%s) into %s", request.slug, guess.platform, root)
    source = _source(request, guess)
    return Scaffolded(
        guess=guess,
        source=source,
        fixture=fixture,
        module=module_path,
        tests=tests_file,
        readme=readme,
        preview=preview(source, data, content_type),
    )
