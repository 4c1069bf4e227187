"""The ``hotline`` command: one subcommand per pipeline stage."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table as RichTable

from parsers import ParseError
from parsers.bulletin import DocumentInput, parse_bulletin
from parsers.model import Bulletin

from . import build as build_module
from .lock import ArchiveLock, ArchiveLocked, lock_holder
from .paths import METADATA, SAMPLES_DIR
from .refresh import platform_module, source_row

logger = logging.getLogger(__name__)

# Exit status of a command refused because another one holds the archive's lock.
EXIT_LOCKED = 3
# Exit status of a refresh that stopped on an unexpected error (a bug), as sysexits' EX_SOFTWARE:
# apart from 1 (some documents failed), which a scheduler treats as success.
EXIT_CRASHED = 70


def _lock_or_exit(db_path: Path, command: str) -> ArchiveLock:
    """Take the archive's lock for a writing command, or print who holds it and exit 3."""
    try:
        return ArchiveLock(db_path, command).acquire()
    except ArchiveLocked as exc:
        logger.error("%s refused: %s", command, exc)
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)


def _log_to_file(path: Path | None) -> None:
    """Append INFO and above, with times, to ``path`` (for runs nobody watches: cron, timers)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "hotline_log_file", False)]:
        root.removeHandler(old)  # one log file per process (commands invoked again in tests)
        old.close()
    handler.hotline_log_file = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # The console handler keeps its own level (-v); the root lets INFO through to the file.
    for other in root.handlers:
        if other is not handler and other.level == logging.NOTSET:
            other.setLevel(root.level)
    root.setLevel(min(root.level, logging.INFO))


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """An open archive of China's 12345 government-hotline bulletins."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False)],
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON object of the parse contract."
)
@click.option("--each", is_flag=True, help="Parse every file as a bulletin of its own.")
@click.option("--content-type", default=None, help="HTTP Content-Type the file was served with.")
def parse(paths: tuple[Path, ...], as_json: bool, each: bool, content_type: str | None) -> None:
    """Parse a bulletin (an article and its attachments, or a directory of them) and print what it states.

    The files given together are one bulletin, the first being the article
    (HTML, text, PDF, DOCX, DOC, XLS/XLSX or an image of a table); a directory
    stands for its files in name order. With --each, every file is parsed as a
    bulletin of its own and a file that fails does not stop the others. With
    --json, print the object defined in shared/spec/vocabulary.md (a JSON list
    with --each). The exit code is 1 when a document failed.
    """
    files = [
        f
        for p in paths
        for f in (sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p])
    ]
    groups = [[f] for f in files] if each else [files]
    results = []
    failed = 0
    for group in groups:
        inputs = [DocumentInput(f.name, f.read_bytes(), content_type) for f in group]
        try:
            bulletin = parse_bulletin(inputs)
        except ParseError as exc:
            failed += 1
            click.echo(f"error: {', '.join(str(f) for f in group)}: {exc}", err=True)
            continue
        failed += sum(1 for c in bulletin.checks if c.check.startswith("document:"))
        for check in bulletin.checks:
            if check.check.startswith("document:"):
                click.echo(f"error: {check.message}", err=True)
        results.append(bulletin)
        if not as_json:
            _print_summary(group[0], bulletin)
    if as_json:
        payload = [b.to_json() for b in results]
        click.echo(
            json.dumps(
                payload if each else (payload[0] if payload else None), ensure_ascii=False, indent=2
            )
        )
    if failed:
        sys.exit(1)


def _print_summary(path: Path, bulletin: Bulletin) -> None:
    console = Console()
    period = bulletin.period
    console.print(f"[bold]{bulletin.title or path.name}[/bold]")
    console.print(
        f"issuer: {bulletin.issuer or '-'}   published: {bulletin.published_date or '-'}   "
        f"period: {period.period_label or '-'} ({period.period_type or '-'})"
        + (
            f"   statistics window: {period.stat_start} .. {period.stat_end}"
            if period.stat_start
            else ""
        )
    )
    table = RichTable("metric", "value", "evidence", title="headline metrics")
    for m in bulletin.metrics:
        table.add_row(m.metric, f"{m.value:g}" + ("%" if m.unit == "percent" else ""), m.evidence)
    console.print(table)
    if bulletin.breakdowns:
        bd = RichTable("dimension", "category", "key", "count", "share %", "change %")
        for b in bulletin.breakdowns:
            bd.add_row(
                b.dimension,
                b.category,
                b.category_key or "",
                "" if b.count is None else str(b.count),
                "" if b.share_pct is None else f"{b.share_pct:g}",
                "" if b.change_pct is None else f"{b.change_pct:g}",
            )
        console.print(bd)
    console.print(f"tables: {len(bulletin.tables)}, unit rows: {len(bulletin.unit_rows)}")
    for check in bulletin.checks:
        if check.status != "pass":
            console.print(f"[yellow]check {check.check}: {check.status}[/yellow] {check.message}")


@cli.command()
@click.option(
    "--db", "db_path", default="archive.db", show_default=True, type=click.Path(path_type=Path)
)
@click.option(
    "--samples",
    "samples_dir",
    default=str(SAMPLES_DIR),
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory holding manifest.yml and the stored documents.",
)
@click.option(
    "--from-store",
    is_flag=True,
    help="Parse every archived bulletin again from the raw store beside the database (after a parser change).",
)
def build(db_path: Path, samples_dir: Path, from_store: bool) -> None:
    """Build archive.db from stored documents: the bundled samples' manifest, or with --from-store the raw store.

    Safe to run again: each bulletin's rows are replaced in one transaction, so
    two runs give the same database. A document that fails to parse is reported
    and skipped; what is already archived for it stays. Exit code 1 when any failed.
    """
    with _lock_or_exit(db_path, "build"):
        if from_store:
            report = build_module.rebuild_from_store(db_path)
        else:
            report = build_module.build_from_manifest(db_path, samples_dir)
    for failure in report.failures:
        click.echo(f"error: {failure}", err=True)
    click.echo(
        f"{db_path}: {report.bulletins} bulletins from {report.documents} documents"
        + (f", {len(report.failures)} failed" if report.failures else "")
    )
    if report.failures:
        sys.exit(1)


@cli.command()
@click.option(
    "--db", "db_path", default="archive.db", show_default=True, type=click.Path(path_type=Path)
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="0.0.0.0 to listen on every interface."
)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--metadata", default=str(METADATA), show_default=True, type=click.Path(exists=True))
@click.option(
    "--setting",
    "extra_settings",
    type=(str, str),
    multiple=True,
    help="A further Datasette setting, e.g. --setting base_url /hotline/ (repeatable).",
)
@click.option(
    "--live",
    is_flag=True,
    help="Open the database read-only, not immutable: for serving while refreshes write to it.",
)
def serve(
    db_path: Path,
    host: str,
    port: int,
    metadata: str,
    extra_settings: tuple[tuple[str, str], ...] = (),
    live: bool = False,
) -> None:
    """Serve archive.db read-only with Datasette: metadata, canned queries, dashboard, raw copies.

    SQL has a time limit, the site's own plugins (archive/datasette_plugins: raw copies at
    /-/raw/<sha256>, provenance links, empty Atom feeds) and the installed ones
    (datasette-dashboards, datasette-vega, datasette-block-robots, datasette-atom) are loaded.

    By default the database is opened immutable: the snapshot to publish, when nothing writes
    to the file while it is served (serve a copy, or stop serving during a refresh). SQLite
    takes no locks on an immutable file and may return wrong results if it changes underneath,
    so serve refuses (exit 3) while a refresh, scrape or build holds the archive's lock.
    With --live the database is opened read-only (SQLite mode=ro) and read through its
    write-ahead log: every query sees the archive as of one committed transaction, so
    refreshes can run while it is served; the database file is then not offered for download.
    """
    from .datasette_plugins import PLUGINS_DIR

    if not db_path.exists():
        raise click.ClickException(f"{db_path} does not exist: run `hotline build` first")
    holder = None if live else lock_holder(db_path)
    if holder is not None:
        writer = f"{holder.command or 'refresh'} (pid {holder.pid or 'unknown'})"
        click.echo(
            f"error: a {writer} is writing {db_path}: an immutable server could read it"
            " half-written; wait for it, or serve with --live",
            err=True,
        )
        sys.exit(EXIT_LOCKED)
    if db_path.stem != "archive":
        # Datasette names the database after the file; metadata.yml describes "archive".
        click.echo(
            f"warning: {db_path.name} is served as database {db_path.stem!r}; the descriptions,"
            " queries and dashboard of metadata.yml are for archive.db",
            err=True,
        )
    settings = {
        "sql_time_limit_ms": 3000,
        "max_returned_rows": 1000,
        "allow_download": "on",
        # Facet suggestions try every column of every table page (about 4 s a comparison page
        # on a million metric rows, bench/load_datasette.py); the useful facets are configured.
        "suggest_facets": "off",
    }
    settings.update(dict(extra_settings))
    if live:
        # A read-only connection reads the write-ahead log too: no checkpoint is needed.
        args = [sys.executable, "-m", "datasette", "serve", str(db_path.resolve())]
    else:
        _checkpoint(db_path)
        args = [sys.executable, "-m", "datasette", "serve", "-i", str(db_path.resolve())]
    args += ["--metadata", str(Path(metadata).resolve()), "--plugins-dir", str(PLUGINS_DIR)]
    args += ["--host", host, "--port", str(port)]
    for name, value in settings.items():
        args += ["--setting", name, str(value)]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"Serving {db_path} at http://{shown}:{port}/ (Ctrl-C to stop)")
    logger.info("starting Datasette: %s", " ".join(args))
    # execv replaces the process: what is still buffered would be lost.
    sys.stdout.flush()
    os.execv(sys.executable, args)


def _checkpoint(db_path: Path) -> None:
    """Fold the write-ahead log into the database file: an immutable reader never reads the log,
    so rows still in archive.db-wal would be invisible to Datasette."""
    import sqlite3

    try:
        conn = sqlite3.connect(db_path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        click.echo(f"warning: could not checkpoint {db_path}: {exc}", err=True)


def _selected_sources(slugs: tuple[str, ...]) -> list:
    from scrapers.registry import all_sources, get_source

    if not slugs:
        return all_sources()
    try:
        return [get_source(slug) for slug in slugs]
    except KeyError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from exc


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the sources as JSON.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the sources: who publishes, where, on which platform, and whether verified live."""
    if ctx.invoked_subcommand:
        return
    rows = [
        {
            **source_row(s),
            "listing_urls": list(s.listing_urls),
            "allowed_hosts": list(s.allowed_hosts),
            "status": s.status,
        }  # fmt: skip
        for s in _selected_sources(())
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = RichTable("slug", "name", "level", "platform", "listing", "status")
    for row in rows:
        table.add_row(
            row["slug"],
            row["name"],
            row["level"],
            row["platform"],
            "\n".join(row["listing_urls"]),
            row["status"],
        )
    Console().print(table)


@sources.command("check")
@click.option("--source", "slugs", multiple=True, help="Only these sources (slug); repeatable.")
@click.option(
    "--mirror",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check against a mirror directory instead of the live sites.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sources_check(slugs: tuple[str, ...], mirror: Path | None, as_json: bool) -> None:
    """Fetch each source's first listing page and say whether it answers, how many bulletins it lists, and the newest date.

    Run it where the internet is reachable to learn which sources work live.
    """
    from scrapers.filters import is_bulletin_title

    results = []
    with _fetcher(mirror) as fetcher:
        for source in _selected_sources(slugs):
            for url in source.listing_urls:
                platform = platform_module(source, url)
                row = {"source": source.slug, "url": url}
                try:
                    result = fetcher.fetch(url, allowed_hosts=set(source.allowed_hosts))
                    page = platform.parse_listing(result.content, url, source, result.content_type)
                    kept = [i for i in page.items if is_bulletin_title(i.title)[0]]
                    dates = [i.published for i in kept if i.published]
                    row.update(ok=True, bulletins=len(kept), pages=page.total_pages,
                               newest=max(dates).isoformat() if dates else None)  # fmt: skip
                except Exception as exc:  # report any failure of this source and go on
                    row.update(ok=False, error=str(exc))
                results.append(row)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for row in results:
            state = (
                f"ok, {row['bulletins']} bulletins, newest {row['newest']}"
                if row["ok"]
                else f"FAILED: {row['error']}"
            )
            click.echo(f"{row['source']}: {row['url']}: {state}")
    if not all(r["ok"] for r in results):
        sys.exit(1)


MIRROR_MIN_INTERVAL = 0.02


class _fetcher:
    """A Fetcher for the live sites, or for a mirror directory served on loopback (context manager)."""

    def __init__(self, mirror: Path | None, min_interval: float | None = None) -> None:
        self.mirror = mirror
        self.min_interval = min_interval
        self.server = None
        self.fetcher = None

    def __enter__(self):
        from scrapers.http import Fetcher
        from scrapers.mirror import MirrorServer

        options = {}
        if self.mirror is not None:
            self.server = MirrorServer(self.mirror).__enter__()
            options["mirror"] = self.server.base_url
            # The mirror is our own loopback server: the per-host pause is for government servers.
            options["min_interval"] = MIRROR_MIN_INTERVAL
        if self.min_interval is not None:
            options["min_interval"] = self.min_interval
        self.fetcher = Fetcher(**options)
        return self.fetcher

    def __exit__(self, *exc: object) -> None:
        if self.fetcher is not None:
            self.fetcher.close()
        if self.server is not None:
            self.server.__exit__(None, None, None)


def _run_refresh(db_path: Path, slugs: tuple[str, ...], mirror: Path | None, full: bool, parse: bool,
                 as_json: bool, min_interval: float | None = None,
                 log_file: Path | None = None) -> list:  # fmt: skip
    from .refresh import refresh

    _log_to_file(log_file)
    selected = _selected_sources(slugs)
    console = Console(stderr=True)
    # One writer per archive: a second refresh, scrape, demo or build refuses (exit 3).
    with (
        _lock_or_exit(db_path, "refresh" if parse else "scrape"),
        _fetcher(mirror, min_interval) as fetcher,
    ):
        try:
            if console.is_terminal and not as_json:
                with console.status("refreshing") as status:
                    reports = refresh(
                        db_path, selected, fetcher, full=full, parse=parse, progress=status.update
                    )
            else:
                reports = refresh(db_path, selected, fetcher, full=full, parse=parse)
        except Exception:
            logger.exception("the run stopped on an unexpected error")
            sys.exit(EXIT_CRASHED)
    if as_json:
        click.echo(
            json.dumps(
                {"db": str(db_path), "sources": [r.to_json() for r in reports]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        table = RichTable("source", "requests", "not modified", "new docs", "changed docs", "new bulletins",
                          "updated", "skipped", "failed", "error")  # fmt: skip
        for r in reports:
            table.add_row(r.source, str(r.requests), str(r.not_modified), str(r.new_documents),
                          str(r.changed_documents), str(r.new_bulletins), str(r.updated_bulletins),
                          str(len(r.skipped)), str(len(r.failures)), r.error or "")  # fmt: skip
        Console().print(table)
        for r in reports:
            for failure in r.failures:
                click.echo(f"failed: {r.source}: {failure['url']}: {failure['reason']}", err=True)
    return reports


_db_option = click.option(
    "--db", "db_path", default="archive.db", show_default=True, type=click.Path(path_type=Path)
)
_source_option = click.option(
    "--source", "slugs", multiple=True, help="Only these sources (slug); repeatable."
)
_mirror_option = click.option(
    "--mirror",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Serve this mirror directory on 127.0.0.1 and fetch from it instead of the live sites (see README).",
)
_full_option = click.option(
    "--full",
    is_flag=True,
    help="Walk every listing page and ask again (conditionally) for every archived bulletin, "
    "which also finds the ones taken down.",
)
_log_file_option = click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the run's log (INFO and above, with times) to this file.",
)


@cli.command()
@_db_option
@_source_option
@_mirror_option
@_full_option
@_log_file_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def scrape(
    db_path: Path,
    slugs: tuple[str, ...],
    mirror: Path | None,
    full: bool,
    log_file: Path | None,
    as_json: bool,
) -> None:
    """Fetch new and changed listing pages, articles and attachments into the raw store (no parsing).

    Exit status as for refresh.
    """
    from .refresh import exit_code_for

    reports = _run_refresh(db_path, slugs, mirror, full, False, as_json, log_file=log_file)
    sys.exit(exit_code_for(reports))


@cli.command("refresh")
@_db_option
@_source_option
@_mirror_option
@_full_option
@_log_file_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def refresh_command(
    db_path: Path,
    slugs: tuple[str, ...],
    mirror: Path | None,
    full: bool,
    log_file: Path | None,
    as_json: bool,
) -> None:
    """Scrape, then parse what is new or changed into archive.db; print what was done per source.

    Every run is recorded in the runs and run_sources tables (the status page
    /archive/source_status). Exit status: 0 every source ran and nothing failed;
    1 every source ran but some documents failed (reported, retried next run);
    2 a source could not run at all; 3 another run holds the archive's lock;
    70 the run stopped on an unexpected error (a bug: see the log).
    """
    from .refresh import exit_code_for

    reports = _run_refresh(db_path, slugs, mirror, full, True, as_json, log_file=log_file)
    sys.exit(exit_code_for(reports))


@cli.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Stop after building archive.db.")
def demo(db_path: Path, host: str, port: int, no_serve: bool) -> None:
    """The whole pipeline on the bundled sample sites: serve them on loopback, refresh, build archive.db, serve Datasette."""
    from scrapers.registry import all_sources

    sites = SAMPLES_DIR / "sites"
    mirrored = [
        s.slug for s in all_sources() if all((sites / h).is_dir() for h in _listing_hosts(s))
    ]
    reports = _run_refresh(db_path, tuple(mirrored), sites, False, True, False)
    if any(r.error for r in reports):
        sys.exit(2)
    if not no_serve:
        ctx = click.get_current_context()
        ctx.invoke(serve, db_path=db_path, host=host, port=port, metadata=str(METADATA))


def _listing_hosts(source) -> set[str]:
    from urllib.parse import urlsplit

    return {urlsplit(u).hostname or "" for u in source.listing_urls}


@cli.command("new-source")
@click.argument("slug")
@click.argument("listing_url")
@click.option(
    "--from-file",
    "page_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The listing page saved by hand (instead of fetching LISTING_URL).",
)
@click.option("--name", default=None, help="Who publishes, e.g. 聊城市 (else a TODO).")
@click.option("--province", default=None, help="The province, e.g. 山东省 (else a TODO).")
@click.option(
    "--level", type=click.Choice(["prefecture", "district", "county", "province"]), default=None
)
@click.option("--division-code", default=None, help="GB/T 2260 code (else a TODO).")
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Repository root to write into (default: this checkout).",
)
def new_source(
    slug: str,
    listing_url: str,
    page_file: Path | None,
    name: str | None,
    province: str | None,
    level: str | None,
    division_code: str | None,
    root: Path | None,
) -> None:
    """Scaffold a new source from its listing page: fixture, scrapers/sources module, failing tests.

    Exit status 2 when refused (bad slug or URL, the slug exists), 1 when the page cannot be fetched.
    """
    from datetime import date

    from scrapers.base import FetchError

    from . import scaffold as sc
    from .paths import REPO_ROOT

    root = root or REPO_ROOT
    request = sc.NewSource(slug, listing_url, name, province, level, division_code)
    try:
        sc.check_request(request)
        sc.check_root(root, request)
        if page_file is not None:
            data, content_type, origin = page_file.read_bytes(), None, f"the file {page_file.name}"
        else:
            data, content_type = sc.fetch_listing(listing_url)
            origin = "the live site"
        done = sc.scaffold(root, request, data, content_type, origin, date.today())
    except sc.ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except FetchError as exc:
        click.echo(f"error: could not fetch the listing page: {exc}", err=True)
        sys.exit(1)
    click.echo(f"platform: {done.guess.describe()}")
    for path in (done.fixture, done.readme, done.module, done.tests):
        click.echo(f"wrote {path}")
    for line in sc.preview_lines(done.preview):
        click.echo(line)
    missing = ", ".join(request.missing())
    todo = f" and {missing} in {done.module.relative_to(root)}" if missing else ""
    click.echo(
        f"next: read {done.fixture.relative_to(root)} by hand and fill in the {sc.FILL_IN!r} "
        f"values of the {slug} section at the end of tests/test_sources.py{todo}; then run "
        f".venv/bin/pytest tests/test_sources.py -k test_{request.module}_ and add {slug!r} to "
        "EXPECTED in tests/test_registry.py."
    )


if __name__ == "__main__":
    cli()
