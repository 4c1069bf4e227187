"""Fixtures for the real-browser tests: a sample archive served by `hotline serve`, and Chromium.

Playwright drives Debian's Chromium (/usr/bin/chromium, from apt) and never a browser of its
own: `playwright install` downloads one, which this project's machines cannot do.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own calls home (updates, sync, QUIC) are refused by a closed network: switch them
# off. --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
SERVER_START_SECONDS = 60
PAGE_TIMEOUT_MS = 20_000
# Width the page would need to show its widest scrolling table without a scroll bar.
WIDEST_JS = """
() => Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll(
  '.table-wrapper')].map(w => w.scrollWidth + document.documentElement.clientWidth - w.clientWidth))
"""

# Scrolls the results table to a third of the window, so a window-sized shot shows the
# filters above it and its first row.
TABLE_INTO_VIEW_JS = """
() => {
  const table = document.querySelector('table.rows-and-columns');
  if (table) window.scrollTo(0, table.getBoundingClientRect().top + window.scrollY
    - window.innerHeight / 3);
}
"""

# In CI (CI=true) a missing browser fails the tests instead of skipping them, so that a broken
# install step cannot pass as green.
REQUIRE_BROWSER = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here (None when Playwright and Chromium are both installed)."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def skip_or_fail_without_browser() -> None:
    """Skip (or in CI fail) the calling test when Playwright or Chromium is missing."""
    if reason := browser_unavailable_reason():
        if REQUIRE_BROWSER:
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    """Register the browser marker."""
    config.addinivalue_line(
        "markers", "browser: drives Chromium through Playwright against `hotline serve`"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Remember each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _hotline_command() -> list[str]:
    # The console script installed beside this interpreter is what `make run` uses.
    script = shutil.which("hotline", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "archive.cli"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SiteServer:
    """A `hotline serve` subprocess on a free loopback port."""

    db_path: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server's stdout and stderr go."""
        return self.db_path.with_suffix(f".serve-{self.port}.log")

    def start(self) -> None:
        """Start the server and wait until it answers (fails with its log when it exits)."""
        command = [*_hotline_command(), "serve", "--db", str(self.db_path)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        logger.info("starting %s", " ".join(command))
        with self.log_path.open("wb") as log:
            # A session of its own, so stop() reaches any child the command starts.
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"`hotline serve` exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/-/versions.json", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"`hotline serve` did not answer on {self.base_url}:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server process group (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass(frozen=True)
class SampleArchive:
    """The sample archive built by `hotline demo` and the server showing it."""

    db_path: Path
    base_url: str

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a read-only SQL query on archive.db (for expected values that are ids)."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


def build_demo_archive(directory: Path) -> Path:
    """archive.db (with raw/ beside it) built by `hotline demo --no-serve` in directory."""
    db_path = directory / "archive.db"
    result = subprocess.run(
        [*_hotline_command(), "demo", "--db", str(db_path), "--no-serve"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"hotline demo failed:\n{result.stdout}\n{result.stderr}"
    return db_path


@pytest.fixture(scope="session", autouse=True)
def fresh_screenshots() -> None:
    """Empty the screenshot folder once per run, so every PNG in it is from this run."""
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding archive.db and raw/ built by `hotline demo --db X --no-serve`."""
    skip_or_fail_without_browser()
    directory = tmp_path_factory.mktemp("browser-archive")
    build_demo_archive(directory)
    return directory


@pytest.fixture(scope="module")
def site(demo_dir: Path) -> Iterator[SampleArchive]:
    """The sample archive served by `hotline serve` on a free port, stopped afterwards."""
    server = SiteServer(demo_dir / "archive.db")
    server.start()
    try:
        yield SampleArchive(server.db_path, server.base_url)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (module scope: no event loop outlives it)."""
    skip_or_fail_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageEvents:
    """What the page said while a test ran: console messages, uncaught errors, dialogs."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def page_events() -> PageEvents:
    """Console messages, page errors and dialogs seen by the `page` fixture."""
    return PageEvents()


@pytest.fixture
def page(browser: Any, page_events: PageEvents, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (own context, 1280x900, zh-CN); screenshot `<test>-failed.png` on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.on("console", lambda m: page_events.console.append(f"{m.type}: {m.text}"))
    new_page.on("pageerror", lambda e: page_events.errors.append(str(e)))

    def dismiss(dialog: Any) -> None:
        page_events.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    new_page.on("dialog", dismiss)
    try:
        yield new_page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            new_page.screenshot(
                path=SCREENSHOTS / f"{request.node.name}-failed.png", full_page=True
            )
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Any:
    """shot(page, step=None, full_page=True): PNG at test-output/screenshots/<test name>[-<step>].png.

    full_page=False keeps to the window (for pages as long as a bulletin's whole text).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(target_page: Any, step: str | None = None, full_page: bool = True) -> Path:
        name = request.node.name + (f"-{step}" if step else "")
        path = SCREENSHOTS / f"{name}.png"
        # Datasette scrolls wide tables inside their wrapper: widen the window to show every column.
        viewport = target_page.viewport_size
        if not full_page:
            target_page.evaluate(TABLE_INTO_VIEW_JS)
        width = target_page.evaluate(WIDEST_JS) if full_page else 0
        if width > viewport["width"]:
            target_page.set_viewport_size({"width": min(width, 3000), "height": viewport["height"]})
        target_page.screenshot(path=path, full_page=full_page)
        target_page.set_viewport_size(viewport)
        return path

    return shot
