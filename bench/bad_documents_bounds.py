"""Time and peak memory of parsing each broken document (a benchmark to run by hand, not a test).

    .venv/bin/python bench/bad_documents_bounds.py [--limits] [--only NAME ...] [--markdown]

Generates the corpus of ``tests/bad_documents/make_corpus.py`` into a temporary directory
and parses every file with ``parsers.parse_document`` in a fresh process of its own, one
at a time (``tests/bad_documents/measure.py``). Prints, per file: its size, the outcome
(bulletin or ParseError, or "crash"/"killed"), the wall time of the parse, the peak RSS of
the parsing process (VmHWM, imports included) and of the largest process it ran (tesseract,
LibreOffice), and the error message. ``--limits`` adds the worst cases just inside the
parsers' caps (100,000 HTML tags, 2 million characters of text, 2 million spreadsheet rows).

tests/test_bad_documents.py asserts the safety bounds (< 60 s, < 1.5 GiB per document);
this script gives the real figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bad_documents.make_corpus import CORPUS, LIMIT_CASES, write_corpus  # noqa: E402
from bad_documents.measure import Measurement, measure_in_subprocess  # noqa: E402

MESSAGE_WIDTH = 110


def _size(path: Path) -> str:
    size = path.stat().st_size
    for unit in ("B", "KB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def _message(result: Measurement) -> str:
    if result.outcome == "bulletin":
        bulletin = result.bulletin or {}
        calls = next(
            (m["value"] for m in bulletin.get("metrics", []) if m["metric"] == "calls_inbound"),
            None,
        )
        text = f"{len(bulletin.get('metrics', []))} metrics"
        return text + (f", calls_inbound {calls:g}" if calls is not None else "")
    message = (result.message or "").replace("\n", " ")
    return message if len(message) <= MESSAGE_WIDTH else message[: MESSAGE_WIDTH - 1] + "…"


def main() -> None:
    """Measure every corpus file (and the limit cases with --limits) and print the table."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--limits", action="store_true", help="add the worst cases at the caps")
    options.add_argument("--only", nargs="+", metavar="NAME", help="measure only these files")
    options.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = options.parse_args()
    entries = list(CORPUS) + (list(LIMIT_CASES) if args.limits else [])
    if args.only:
        entries = [entry for entry in entries if entry.name in args.only]
    header = ("file", "size", "outcome", "wall s", "RSS MiB", "child MiB", "message")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bad-documents-") as tmp:
        paths = write_corpus(Path(tmp), [entry.name for entry in entries])
        for entry in entries:
            result = measure_in_subprocess(paths[entry.name])
            row = (
                entry.name,
                _size(paths[entry.name]),
                result.outcome,
                f"{result.wall_s:.2f}",
                f"{result.peak_rss_mib:.0f}",
                f"{result.children_peak_rss_mib:.0f}" if result.children_peak_rss_mib else "-",
                _message(result),
            )
            rows.append(row)
            if not args.markdown:
                print(
                    f"{row[0]:<32} {row[1]:>9} {row[2]:<10} {row[3]:>7} {row[4]:>7} {row[5]:>9}"
                    f"  {row[6]}",
                    flush=True,
                )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    worst_wall = max(rows, key=lambda row: float(row[3]))
    worst_rss = max(rows, key=lambda row: float(row[4]))
    print(
        f"\nslowest: {worst_wall[0]} {worst_wall[3]} s; "
        f"largest peak RSS: {worst_rss[0]} {worst_rss[4]} MiB"
    )


if __name__ == "__main__":
    main()
