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

from parsers import ParseError, parse_document
from parsers.model import Bulletin

from . import build as build_module
from .paths import METADATA, REPO_ROOT, SAMPLES_DIR

logger = logging.getLogger(__name__)


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
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON object of the parse contract."
)
@click.option("--content-type", default=None, help="HTTP Content-Type the file was served with.")
def parse(files: tuple[Path, ...], as_json: bool, content_type: str | None) -> None:
    """Parse bulletin documents (HTML or plain text) and print what they state.

    With --json, print the object defined in shared/spec/vocabulary.md (one
    object per file; a JSON list when several files are given). A document that
    cannot be parsed is reported on stderr and the others go on; the exit code is
    1 when any failed.
    """
    results = []
    failed = 0
    for path in files:
        try:
            bulletin = parse_document(path.read_bytes(), path.name, content_type)
        except ParseError as exc:
            failed += 1
            click.echo(f"error: {path}: {exc}", err=True)
            continue
        results.append(bulletin)
        if not as_json:
            _print_summary(path, bulletin)
    if as_json:
        payload = [b.to_json() for b in results]
        out = payload[0] if len(files) == 1 and payload else payload
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
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
def build(db_path: Path, samples_dir: Path) -> None:
    """Build archive.db from the stored documents (by default the bundled samples).

    Safe to run again: each bulletin's rows are replaced in one transaction, so
    two runs give the same database. A document that fails to parse is reported
    and skipped; what is already archived for it stays. Exit code 1 when any failed.
    """
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--metadata", default=str(METADATA), show_default=True, type=click.Path(exists=True))
def serve(db_path: Path, host: str, port: int, metadata: str) -> None:
    """Serve archive.db with Datasette, with its metadata (descriptions, facets, queries)."""
    if not db_path.exists():
        raise click.ClickException(f"{db_path} does not exist: run `hotline build` first")
    args = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db_path),
        "--metadata",
        metadata,
        "--host",
        host,
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "3000",
    ]
    logger.info("starting Datasette: %s", " ".join(args))
    os.chdir(REPO_ROOT)
    os.execv(sys.executable, args)


if __name__ == "__main__":
    cli()
