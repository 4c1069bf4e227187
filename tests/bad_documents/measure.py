"""Parse one document in a fresh process and report the outcome, wall time and peak memory.

    .venv/bin/python tests/bad_documents/measure.py FILE

prints one JSON object: ``outcome`` ("bulletin", "ParseError" or "crash" for any other
exception), the exception's type and message, ``wall_s``, ``peak_rss_mib`` (this process's
VmHWM from /proc/self/status) and ``children_peak_rss_mib`` (the largest child process the
parse ran, e.g. tesseract or LibreOffice: ``getrusage(RUSAGE_CHILDREN)``), and for a
bulletin its contract JSON and its text. :func:`measure_in_subprocess` runs it under a timeout and an
address-space limit (set by the child itself), so that a hang or a bomb ends the child, never the caller.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Safety nets of the child process, well beyond the bounds the tests assert: they turn a
# runaway parse into a failed measurement instead of a hung or swapping machine.
KILL_AFTER_S = 180.0
ADDRESS_SPACE_LIMIT = 8 << 30


@dataclass
class Measurement:
    """What parsing one document in its own process gave."""

    name: str
    outcome: str  # "bulletin", "ParseError", "crash", "killed" (timeout or signal)
    error_type: str | None
    message: str | None
    wall_s: float
    peak_rss_mib: float
    children_peak_rss_mib: float
    bulletin: dict[str, Any] | None
    text: str | None = None
    stderr: str = ""

    @property
    def peak_mib(self) -> float:
        """The larger of the parser's own peak RSS and that of any process it ran."""
        return max(self.peak_rss_mib, self.children_peak_rss_mib)


def _vm_hwm_kib() -> int:
    """Peak resident set size of this process (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: Path) -> dict[str, Any]:
    """Parse ``path`` with parsers.parse_document in this process; the report as a dict."""
    sys.path.insert(0, str(ROOT))
    from parsers import ParseError, parse_document

    data = path.read_bytes()
    bulletin = text = None
    error_type = message = None
    start = time.perf_counter()
    try:
        parsed = parse_document(data, path.name)
        bulletin, text = parsed.to_json(), parsed.text
        outcome = "bulletin"
    except ParseError as error:
        outcome, error_type, message = "ParseError", type(error).__name__, str(error)
    except BaseException as error:  # noqa: BLE001 (any other exception is what we look for)
        outcome, error_type = "crash", type(error).__name__
        message = "".join(traceback.format_exception(error))[-2000:]
    wall = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "name": path.name,
        "outcome": outcome,
        "error_type": error_type,
        "message": message,
        "wall_s": wall,
        "peak_rss_mib": _vm_hwm_kib() / 1024,
        "children_peak_rss_mib": children / 1024,
        "bulletin": bulletin,
        "text": text,
    }


def measure_in_subprocess(path: Path, kill_after_s: float = KILL_AFTER_S) -> Measurement:
    """Parse ``path`` in a fresh Python process (address space and time limited)."""
    command = [sys.executable, str(Path(__file__).resolve()), str(path)]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=kill_after_s,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode(errors="replace") if expired.stderr else ""
        return Measurement(
            path.name, "killed", None, f"no result after {kill_after_s:.0f} s",
            time.perf_counter() - start, 0.0, 0.0, None, None, stderr[-2000:],
        )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return Measurement(
            path.name, "killed", None, f"child exited with {done.returncode}",
            time.perf_counter() - start, 0.0, 0.0, None, None, done.stderr[-2000:],
        )  # fmt: skip
    report = json.loads(lines[-1])
    return Measurement(**report, stderr=done.stderr[-2000:])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE")
    # Set here, not by the parent: the limit holds for this process and what it runs.
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    print(json.dumps(measure(Path(sys.argv[1])), ensure_ascii=False))
