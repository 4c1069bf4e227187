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
