"""Speed and memory of the document readers (a benchmark to run by hand, not a test).

    .venv/bin/python bench/bench_documents.py [--repeat N]

Prints pages per second of our PDF reader (``parsers.pdf.read_pdf``, tables included),
pdfplumber's bare ``extract_text`` over all pages and pypdfium2's plain text, on the shared
fixture PDFs and on a 200-page PDF; the time to read the fixture DOCX files and to parse the
sample HTML pages; and the peak memory (maximum RSS) of each PDF reader on the 200-page PDF.

The 200-page PDF is made once from the pages of the Liaocheng fixture (pypdfium2's
``import_pages``) into a cache directory outside the repository. Each memory figure comes from
a fresh Python process (``resource.getrusage`` in the child), next to the figure of a process
that only imports the libraries.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOCUMENTS = ROOT / "tests" / "fixtures" / "documents"
FIXTURE_PDFS = [
    DOCUMENTS / "hengdong_2020-09_tables.pdf",
    DOCUMENTS / "liaocheng_2015-06_tables.pdf",
]
FIXTURE_DOCX = [path.with_suffix(".docx") for path in FIXTURE_PDFS]
SITES = ROOT / "samples" / "sites"
BIG_PAGES = 200
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hotline-archive" / "bench"
READERS = ("read_pdf", "pdfplumber", "pypdfium2")


# --- the PDF readers measured ------------------------------------------------------


def ours(data: bytes) -> int:
    """Our full read: text and tables. Returns the pages read."""
    from parsers.pdf import read_pdf

    return read_pdf(data, max_pages=10_000).pages or 0


def plumber_text(data: bytes) -> int:
    """pdfplumber's bare extract_text over all pages, each page closed after use."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.close()
        return len(pdf.pages)


def pdfium_text(data: bytes) -> int:
    """pypdfium2's plain text of every page."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        return len(pdf)
    finally:
        pdf.close()


MEASURED: dict[str, Callable[[bytes], int]] = {
    "read_pdf": ours,
    "pdfplumber": plumber_text,
    "pypdfium2": pdfium_text,
}


# --- helpers -----------------------------------------------------------------------


def best_time(function: Callable[[], object], repeat: int, warm_up: bool = True) -> float:
    """The fastest of ``repeat`` runs, in seconds (after one warm-up run if asked)."""
    if warm_up:
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def big_pdf() -> Path:
    """The 200-page PDF: the Liaocheng fixture's pages repeated (made once, cached)."""
    path = CACHE / f"liaocheng_tables_x{BIG_PAGES}.pdf"
    if path.exists():
        return path
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(FIXTURE_PDFS[1].read_bytes())
    target = pdfium.PdfDocument.new()
    while len(target) < BIG_PAGES:
        count = min(len(source), BIG_PAGES - len(target))
        target.import_pages(source, list(range(count)))
    CACHE.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    target.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def peak_rss_mib(reader: str | None, path: Path) -> float:
    """Maximum RSS of a fresh process that runs ``reader`` on ``path`` (None: imports only)."""
    command = [sys.executable, __file__, "--child", reader or "imports", str(path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)["max_rss_kib"] / 1024


def child(reader: str, path: Path) -> None:
    """Run one reader in this (fresh) process and print its peak RSS as JSON."""
    import pdfplumber  # noqa: F401  (every child loads the same libraries)
    import pypdfium2  # noqa: F401

    import parsers.pdf  # noqa: F401

    data = path.read_bytes()
    if reader != "imports":
        MEASURED[reader](data)
    print(json.dumps({"max_rss_kib": _peak_rss_kib()}))


def _peak_rss_kib() -> int:
    """This process's peak RSS: VmHWM on Linux (ru_maxrss can carry the parent's peak over
    fork and exec), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def read_docx_function() -> tuple[str, Callable[[bytes], object]]:
    """Our DOCX reader when it is there, else python-docx's plain load."""
    try:
        from parsers.docx import read_docx

        return "parsers.docx.read_docx", read_docx
    except ImportError:
        import docx

        return "python-docx Document()", lambda data, name=None: docx.Document(io.BytesIO(data))


def row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        cell.ljust(width) if i == 0 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PDF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    missing = [path.name for path in FIXTURE_PDFS + FIXTURE_DOCX if not path.exists()]
    if missing:
        sys.exit(f"missing fixtures {missing}: run tests/fixtures/documents/make_documents.py")

    big = big_pdf()
    inputs = {path.name: path.read_bytes() for path in [*FIXTURE_PDFS, big]}
    widths = [34, 6, 14, 14, 14, 10]
    print(f"PDF: pages per second (best of {args.repeat} runs)")
    print(row(["file", "pages", *READERS, "ours/plb"], widths))
    for name, data in inputs.items():
        pages = pdfium_text(data)
        small = pages < BIG_PAGES  # the big file: one run each, it is long enough
        speeds = {
            reader: pages
            / best_time(lambda f=MEASURED[reader], d=data: f(d), args.repeat if small else 1, small)
            for reader in READERS
        }
        ratio = speeds["read_pdf"] / speeds["pdfplumber"]
        print(
            row([name, str(pages), *(f"{speeds[r]:.0f}" for r in READERS), f"{ratio:.1f}x"], widths)
        )

    print(f"\nPeak memory (max RSS, MiB, fresh process) on {big.name}:")
    baseline = peak_rss_mib(None, big)
    print(row(["imports only", f"{baseline:.0f}"], [34, 8]))
    for reader in READERS:
        peak = peak_rss_mib(reader, big)
        print(row([reader, f"{peak:.0f}", f"(+{peak - baseline:.0f})"], [34, 8, 8]))

    label, read_docx = read_docx_function()
    print(f"\nDOCX with {label}: ms per file (best of {args.repeat})")
    for path in FIXTURE_DOCX:
        data = path.read_bytes()
        seconds = best_time(lambda d=data, n=path.name: read_docx(d, n), args.repeat)
        print(row([path.name, f"{seconds * 1000:.1f}"], [34, 8]))

    from parsers import parse_document

    pages = sorted(SITES.rglob("*.htm*"))
    print(f"\nHTML with parsers.parse_document: ms per page (best of {args.repeat})")
    total = 0.0
    for path in pages:
        data = path.read_bytes()
        seconds = best_time(lambda d=data, n=path.name: parse_document(d, n), args.repeat)
        total += seconds
        print(row([str(path.relative_to(SITES))[-34:], f"{seconds * 1000:.1f}"], [34, 8]))
    print(row([f"all {len(pages)} pages", f"{total * 1000:.1f}"], [34, 8]))


if __name__ == "__main__":
    main()
