"""The ready-made schedules: the GitHub Actions workflow (parsed, then run), systemd units, crontab.

The workflow's `run:` steps are run in order in fresh working copies against the loopback mirror
(samples/sites), with a fake `gh` that keeps release assets in a directory: the first run finds
no release and publishes one, the second restores it and fetches nothing new.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from archive.paths import SAMPLES_DIR
from scrapers.registry import all_sources

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "refresh.yml"
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
CRONTAB = DEPLOY / "cron" / "hotline.crontab"
README = ROOT / "README.md"
# The venv running the tests holds the `hotline` the workflow's install step would provide.
VENV_BIN = Path(sys.executable).parent

# Sources whose sites are in samples/sites, and the bulletins each has there (one per seed).
MANIFEST = yaml.safe_load((SAMPLES_DIR / "manifest.yml").read_text(encoding="utf-8"))
SEED_BULLETINS = Counter(d["source"] for d in MANIFEST["documents"])
MIRRORED = sorted(SEED_BULLETINS)
# A source made unreachable in the test's mirror copy: `hotline refresh` then exits 2.
BROKEN = "tangshan"

# The documented command of the systemd service and the crontab line.
DOCUMENTED_COMMAND = (
    "/opt/hotline/.venv/bin/hotline refresh --db /var/lib/hotline/archive.db"
    " --log-file /var/log/hotline/refresh.log"
)

FAKE_GH = r'''
"""A fake `gh release` keeping each release's assets in $FAKE_GH_RELEASES/<tag>/."""
import fnmatch
import os
import shutil
import sys
from pathlib import Path

root = Path(os.environ["FAKE_GH_RELEASES"])
args = sys.argv[1:]
with open(root / "calls.log", "a", encoding="utf-8") as log:
    log.write(" ".join(args) + "\n")


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


if os.environ.get("FAKE_GH_DOWN"):
    fail("HTTP 502: Bad Gateway (https://api.github.com/repos/o/r/releases/tags/archive)")
if args[:1] != ["release"] or len(args) < 3:
    fail(f"fake gh: unsupported {args}")
command, tag, rest = args[1], args[2], args[3:]
release = root / tag
options_with_value = {"--title", "--notes", "--pattern", "--dir", "-p", "-D"}
files, options, i = [], {}, 0
while i < len(rest):
    if rest[i] in options_with_value:
        options.setdefault(rest[i], []).append(rest[i + 1])
        i += 2
    else:
        if not rest[i].startswith("--"):
            files.append(rest[i])
        i += 1
if command == "create":
    if release.is_dir():
        fail("a release with the same tag name already exists")
    release.mkdir(parents=True)
elif not release.is_dir():
    fail("release not found")
if command in ("create", "upload"):
    for name in files:
        target = release / Path(name).name
        if target.exists() and "--clobber" not in rest:
            fail(f"asset under the same name already exists: {target.name}")
        shutil.copyfile(name, target)
elif command == "download":
    dest = Path(options.get("--dir", ["."])[0])
    names = sorted(
        p.name for p in release.iterdir()
        if any(fnmatch.fnmatch(p.name, pat) for pat in options.get("--pattern", ["*"]))
    )
    if not names:
        fail("no assets match the file pattern")
    for name in names:
        shutil.copyfile(release / name, dest / name)
elif command == "view":
    print(f"title:\t{tag}\ntag:\t{tag}")
else:
    fail(f"fake gh: unsupported {args}")
'''


def load_workflow() -> dict:
    """The workflow as PyYAML reads it (the key `on` becomes True)."""
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def workflow_steps() -> list[dict]:
    """The steps of the workflow's one job."""
    jobs = load_workflow()["jobs"]
    assert list(jobs) == ["refresh"]
    return jobs["refresh"]["steps"]


def step_index(steps: list[dict], step_id: str) -> int:
    """The position of the step with this id."""
    return next(i for i, s in enumerate(steps) if s.get("id") == step_id)


def test_workflow_triggers_permissions_and_concurrency() -> None:
    wf = load_workflow()
    triggers = wf[True]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert len(crons) == 2
    for cron in crons:
        assert len(cron.split()) == 5, cron
    # The second entry is the weekly full walk: Sundays only; the refresh step names it.
    assert crons[1].split()[2:] == ["*", "*", "0"]
    refresh_step = workflow_steps()[step_index(workflow_steps(), "refresh")]
    assert f"github.event.schedule == '{crons[1]}'" in refresh_step["env"]["HOTLINE_FULL"]
    assert triggers["workflow_dispatch"]["inputs"]["full"]["type"] == "boolean"
    assert wf["permissions"] == {"contents": "write"}
    assert wf["concurrency"] == {"group": "hotline-refresh", "cancel-in-progress": False}
    assert wf["defaults"]["run"]["shell"] == "bash"


def test_workflow_steps_in_order() -> None:
    steps = workflow_steps()
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert uses.count("actions/upload-artifact") == 2
    install, restore, refresh, publish = (
        step_index(steps, name) for name in ("install", "restore", "refresh", "publish")
    )
    assert install < restore < refresh < publish
    assert "make setup" in steps[install]["run"]
    assert steps[restore]["run"].strip() == "deploy/archive-restore.sh"
    assert steps[refresh]["run"].strip() == "deploy/archive-refresh.sh"
    assert steps[publish]["run"].strip() == "deploy/archive-publish.sh"
    # Both gh steps get a token; the artifact of the archive comes after publishing.
    assert steps[restore]["env"]["GH_TOKEN"] == steps[publish]["env"]["GH_TOKEN"]
    artifact = next(
        i for i, s in enumerate(steps) if "dist/archive.tar.gz" in str(s.get("with", {}))
    )
    assert artifact > publish
    # Expressions are passed through env, never pasted into shell (no script injection).
    for step in steps:
        assert "${{" not in step.get("run", ""), step["name"]


def _resolve_env(env: dict | None, overrides: dict[str, str]) -> dict[str, str]:
    """A step's env with the GitHub expressions replaced by the test's values."""
    resolved = {}
    for key, value in (env or {}).items():
        value = "" if value is None else str(value)
        if "${{" in value:
            assert key in overrides, f"no test value for {key}: {value}"
            value = overrides[key]
        resolved[key] = value
    return resolved


def _working_copy(dest: Path) -> Path:
    """A checkout as the workflow sees it: the workflow, deploy/ and a copy of the mirror."""
    dest.mkdir()
    shutil.copytree(ROOT / ".github", dest / ".github")
    shutil.copytree(DEPLOY, dest / "deploy")
    shutil.copytree(SAMPLES_DIR / "sites", dest / "samples" / "sites")
    broken = next(s for s in all_sources() if s.slug == BROKEN)
    for url in broken.listing_urls:
        shutil.rmtree(dest / "samples" / "sites" / (urlsplit(url).hostname or ""), True)
    return dest


def _fake_gh(tmp_path: Path) -> tuple[Path, Path]:
    """A bin directory holding the fake gh, and the directory its releases live in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    gh.chmod(0o755)
    releases = tmp_path / "releases"
    releases.mkdir(exist_ok=True)
    return bin_dir, releases


def run_workflow(workdir: Path, bin_dir: Path, releases: Path, refresh_args: str) -> dict:
    """Run the workflow's `run:` steps in order as Actions would; stop at the first failure."""
    wf = load_workflow()
    job = wf["jobs"]["refresh"]
    github_output = workdir.parent / f"{workdir.name}.output"
    overrides = {"GH_TOKEN": "fake-token", "HOTLINE_REFRESH_ARGS": refresh_args}
    overrides["HOTLINE_FULL"] = "false"
    base = {
        "PATH": f"{bin_dir}:{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(workdir.parent),
        "LANG": "C.UTF-8",
        "FAKE_GH_RELEASES": str(releases),
        "GITHUB_WORKSPACE": str(workdir),
        "GITHUB_OUTPUT": str(github_output),
        "GITHUB_STEP_SUMMARY": str(workdir.parent / f"{workdir.name}.summary"),
        "GITHUB_PATH": str(workdir.parent / f"{workdir.name}.path"),
        "RUNNER_TEMP": str(workdir.parent),
    }
    results: dict[str, subprocess.CompletedProcess] = {}
    for step in job["steps"]:
        if "uses" in step:
            continue  # actions: asserted present, not run
        if step.get("id") == "install":
            continue  # make setup is slow: the venv's bin is on PATH instead
        env = {**base}
        for scope in (wf.get("env"), job.get("env"), step.get("env")):
            env.update(_resolve_env(scope, overrides))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        results[step["id"]] = proc
        if proc.returncode != 0:
            break
    outputs = (
        dict(line.split("=", 1) for line in github_output.read_text().split())
        if github_output.exists()
        else {}
    )
    return {"steps": results, "outputs": outputs}


def _db_rows(db: Path) -> tuple[list[tuple], int]:
    """The (source, url) of every bulletin, and the number of documents rows."""
    con = sqlite3.connect(db)
    try:
        bulletins = con.execute("SELECT source, url FROM bulletins ORDER BY 1, 2").fetchall()
        documents = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    finally:
        con.close()
    return bulletins, documents


def _refresh_json(proc: subprocess.CompletedProcess) -> dict[str, dict]:
    """The per-source reports of a refresh step run with --json."""
    return {s["source"]: s for s in json.loads(proc.stdout)["sources"]}


@pytest.mark.slow
def test_workflow_runs_twice_and_carries_the_archive(tmp_path: Path) -> None:
    bin_dir, releases = _fake_gh(tmp_path)
    sources = " ".join(f"--source {s}" for s in MIRRORED)

    # Run 1: no release yet; one source cannot run (exit 2), which is published anyway.
    run1 = run_workflow(
        _working_copy(tmp_path / "run1"),
        bin_dir,
        releases,
        f"--mirror samples/sites --json {sources} --source {BROKEN}",
    )
    steps = run1["steps"]
    assert list(steps) == ["restore", "refresh", "publish"]
    for name, proc in steps.items():
        assert proc.returncode == 0, f"{name}: {proc.stdout}\n{proc.stderr}"
    assert "no release 'archive' yet" in steps["restore"].stdout
    assert run1["outputs"]["status"] == "2"
    assert "::warning::hotline refresh exited 2" in steps["refresh"].stderr
    reports = _refresh_json(steps["refresh"])
    assert set(reports) == {*MIRRORED, BROKEN}
    assert reports[BROKEN]["error"] and "404" in reports[BROKEN]["error"]
    for slug in MIRRORED:
        assert reports[slug]["error"] is None
        assert reports[slug]["failures"] == []
        assert reports[slug]["new_bulletins"] == SEED_BULLETINS[slug]
    assert (tmp_path / "run1" / "logs" / "refresh.log").is_file()

    published = releases / "archive"
    assert {p.name for p in published.iterdir()} == {
        "archive.tar.gz",
        "archive.tar.gz.sha256",
        "archive.db",
    }
    with tarfile.open(published / "archive.tar.gz") as tar:
        top = {name.split("/")[0] for name in tar.getnames()}
    assert top == {"archive.db", "raw", "refresh-walks.json"}
    bulletins1, documents1 = _db_rows(published / "archive.db")
    assert Counter(source for source, _ in bulletins1) == SEED_BULLETINS
    # Every document fetched is one documents row.
    assert documents1 == sum(r["new_documents"] for r in reports.values())

    # Run 2, on a fresh checkout: the archive comes from the release, so every request is a
    # conditional one answered "not modified" and nothing new is stored.
    run2 = run_workflow(
        _working_copy(tmp_path / "run2"),
        bin_dir,
        releases,
        f"--mirror samples/sites --json {sources}",
    )
    steps = run2["steps"]
    for name, proc in steps.items():
        assert proc.returncode == 0, f"{name}: {proc.stdout}\n{proc.stderr}"
    assert list(steps) == ["restore", "refresh", "publish"]
    assert "into data" in steps["restore"].stdout
    assert run2["outputs"]["status"] == "0"
    reports = _refresh_json(steps["refresh"])
    assert set(reports) == set(MIRRORED)
    for slug, report in reports.items():
        assert report["error"] is None, slug
        assert report["requests"] > 0, slug
        assert report["not_modified"] == report["requests"], slug
        assert report["new_documents"] == report["changed_documents"] == 0, slug
        assert report["new_bulletins"] == report["updated_bulletins"] == 0, slug
    bulletins2, documents2 = _db_rows(published / "archive.db")
    assert bulletins2 == bulletins1
    assert documents2 == documents1
    calls = (releases / "calls.log").read_text().splitlines()
    assert [c.split()[1] for c in calls if c.split()[1] in ("create", "download")] == [
        "create",
        "download",
    ]


def _run_script(name: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(DEPLOY / name)],
        cwd=workdir,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "LANG": "C.UTF-8", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _release_with(releases: Path, members: dict[str, bytes], checksum_ok: bool = True) -> None:
    """Put an archive.tar.gz with these members (and its checksum) in the fake release."""
    import hashlib
    import io

    release = releases / "archive"
    release.mkdir(parents=True)
    with tarfile.open(release / "archive.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256((release / "archive.tar.gz").read_bytes()).hexdigest()
    if not checksum_ok:
        digest = "0" * 64
    (release / "archive.tar.gz.sha256").write_text(f"{digest}  archive.tar.gz\n")


def test_restore_stops_when_github_fails(tmp_path: Path) -> None:
    # Not "no release yet": starting empty would publish a fresh archive over the old one.
    bin_dir, releases = _fake_gh(tmp_path)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_GH_RELEASES": str(releases)}
    proc = _run_script("archive-restore.sh", tmp_path, {**env, "FAKE_GH_DOWN": "1"})
    assert proc.returncode == 1
    assert "HTTP 502" in proc.stderr
    assert not (tmp_path / "data" / "archive.db").exists()


def test_restore_stops_when_the_asset_is_missing(tmp_path: Path) -> None:
    bin_dir, releases = _fake_gh(tmp_path)
    (releases / "archive").mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_GH_RELEASES": str(releases)}
    proc = _run_script("archive-restore.sh", tmp_path, env)
    assert proc.returncode != 0
    assert "no assets match" in proc.stderr
    assert not (tmp_path / "data" / "archive.db").exists()


@pytest.mark.parametrize(
    ("members", "checksum_ok", "message"),
    [
        ({"archive.db": b"db", "../escaped": b"x"}, True, "refusing archive member '../escaped'"),
        ({"archive.db": b"db", "/etc/escaped": b"x"}, True, "refusing archive member"),
        ({"archive.db": b"db", "notes.txt": b"x"}, True, "refusing archive member 'notes.txt'"),
        ({"raw/ab/cd": b"x"}, True, "the archive has no archive.db"),
        ({"archive.db": b"db"}, False, "FAILED"),
    ],
    ids=["dotdot", "absolute", "foreign", "no-db", "checksum"],
)
def test_restore_refuses_a_bad_tarball(
    tmp_path: Path, members: dict[str, bytes], checksum_ok: bool, message: str
) -> None:
    bin_dir, releases = _fake_gh(tmp_path)
    _release_with(releases, members, checksum_ok)
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": f"{bin_dir}:{VENV_BIN}:/usr/bin:/bin", "FAKE_GH_RELEASES": str(releases)}
    proc = _run_script("archive-restore.sh", work, env)
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout
    assert not (work / "data" / "archive.db").exists()
    assert not (tmp_path / "escaped").exists()


def test_restore_unpacks_a_good_tarball_and_keeps_a_local_archive(tmp_path: Path) -> None:
    bin_dir, releases = _fake_gh(tmp_path)
    _release_with(
        releases,
        {"archive.db": b"db", "raw/ab/abcd": b"body", "refresh-walks.json": b'{"incomplete": []}'},
    )
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": f"{bin_dir}:{VENV_BIN}:/usr/bin:/bin", "FAKE_GH_RELEASES": str(releases)}
    proc = _run_script("archive-restore.sh", work, env)
    assert proc.returncode == 0, proc.stderr
    assert (work / "data" / "archive.db").read_bytes() == b"db"
    assert (work / "data" / "raw" / "ab" / "abcd").read_bytes() == b"body"
    assert (work / "data" / "refresh-walks.json").read_bytes() == b'{"incomplete": []}'
    # A second restore on the same machine leaves the local archive alone.
    (work / "data" / "archive.db").write_bytes(b"newer")
    proc = _run_script("archive-restore.sh", work, env)
    assert proc.returncode == 0
    assert "already exists" in proc.stdout
    assert (work / "data" / "archive.db").read_bytes() == b"newer"


FAKE_HOTLINE = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_HOTLINE_ARGS"
[ -n "$FAKE_HOTLINE_STDERR" ] && printf '%s\\n' "$FAKE_HOTLINE_STDERR" >&2
exit "$FAKE_HOTLINE_EXIT"
"""


def _fake_hotline(tmp_path: Path) -> Path:
    fake = tmp_path / "fake-hotline"
    fake.write_text(FAKE_HOTLINE)
    fake.chmod(0o755)
    return fake


# hotline's exit, whether archive.db exists, what it printed -> the script's exit and status.
REFRESH_CASES = [
    (0, True, "", 0, "0"),
    (1, True, "failed: x", 0, "1"),
    (2, True, "error: listing page: http 404", 0, "2"),
    (2, False, "error: listing page: http 404", 2, "2"),
    (2, True, "Try 'hotline refresh --help' for help.\n\nError: No such option: --x", 64, "64"),
    (3, True, "error: another refresh holds it", 3, "3"),
    (70, True, "Traceback", 70, "70"),
]


@pytest.mark.parametrize(("code", "has_db", "stderr", "exit_code", "status"), REFRESH_CASES)
def test_refresh_script_exit_codes(
    tmp_path: Path, code: int, has_db: bool, stderr: str, exit_code: int, status: str
) -> None:
    if has_db:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "archive.db").write_bytes(b"")
    env = {
        "HOTLINE": str(_fake_hotline(tmp_path)),
        "FAKE_HOTLINE_ARGS": str(tmp_path / "args"),
        "FAKE_HOTLINE_EXIT": str(code),
        "FAKE_HOTLINE_STDERR": stderr,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    proc = _run_script("archive-refresh.sh", tmp_path, env)
    assert proc.returncode == exit_code, proc.stderr
    assert (tmp_path / "output").read_text() == f"status={status}\n"
    if stderr:
        assert stderr.splitlines()[0] in proc.stderr  # hotline's own messages still shown


def test_refresh_script_arguments(tmp_path: Path) -> None:
    env = {
        "HOTLINE": str(_fake_hotline(tmp_path)),
        "FAKE_HOTLINE_ARGS": str(tmp_path / "args"),
        "FAKE_HOTLINE_EXIT": "0",
        "HOTLINE_FULL": "true",
        "HOTLINE_REFRESH_ARGS": "--mirror samples/sites  --source liaocheng",
    }
    assert _run_script("archive-refresh.sh", tmp_path, env).returncode == 0
    assert (tmp_path / "args").read_text().splitlines() == [
        "refresh",
        "--db",
        "data/archive.db",
        "--log-file",
        "logs/refresh.log",
        "--full",
        "--mirror",
        "samples/sites",
        "--source",
        "liaocheng",
    ]
    assert (tmp_path / "logs").is_dir()  # the log's directory exists before hotline opens it


def test_publish_without_an_archive_fails(tmp_path: Path) -> None:
    bin_dir, releases = _fake_gh(tmp_path)
    env = {"PATH": f"{bin_dir}:{VENV_BIN}:/usr/bin:/bin", "FAKE_GH_RELEASES": str(releases)}
    proc = _run_script("archive-publish.sh", tmp_path, env)
    assert proc.returncode == 1
    assert "nothing to publish" in proc.stderr
    assert not (releases / "archive").exists()


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize(
    ("service", "extra"),
    [("hotline-refresh.service", []), ("hotline-refresh-full.service", ["--full"])],
)
def test_systemd_service(service: str, extra: list[str]) -> None:
    unit = _unit(SYSTEMD / service)
    svc = unit["Service"]
    assert svc["Type"] == "oneshot"
    assert svc["SuccessExitStatus"].split() == ["1"]  # 2 and 3 leave the unit failed
    workdir = svc["WorkingDirectory"]
    command = shlex.split(svc["ExecStart"])
    assert command[0] == f"{workdir}/.venv/bin/hotline"
    assert command[1 : 2 + len(extra)] == ["refresh", *extra]
    rest = command[2 + len(extra) :]
    assert rest == shlex.split(DOCUMENTED_COMMAND)[2:]
    options = dict(zip(rest[::2], rest[1::2], strict=True))
    writable = svc["ReadWritePaths"].split()
    assert str(Path(options["--db"]).parent) in writable
    assert str(Path(options["--log-file"]).parent) in writable
    assert "network-online.target" in unit["Unit"]["After"]


@pytest.mark.parametrize(
    ("timer", "days"),
    [("hotline-refresh.timer", "Mon..Sat"), ("hotline-refresh-full.timer", "Sun")],
)
def test_systemd_timer(timer: str, days: str) -> None:
    unit = _unit(SYSTEMD / timer)
    t = unit["Timer"]
    assert t["Persistent"] == "true"
    assert re.fullmatch(r"\d+(h|min|s)", t["RandomizedDelaySec"])
    # The daily and the weekly full run fall on different days, so one never meets the other's lock.
    assert t["OnCalendar"].split()[0] == days
    assert (SYSTEMD / t["Unit"]).is_file()
    assert t["Unit"] == timer.replace(".timer", ".service")
    assert unit["Install"]["WantedBy"] == "timers.target"


def _cron_line() -> tuple[list[str], str]:
    lines = [
        line
        for line in CRONTAB.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    return fields[:5], fields[5]


def test_crontab_line_fields_and_command() -> None:
    times, command = _cron_line()
    for field in times:
        assert re.fullmatch(r"[\d*,/-]+", field), field
    assert "%" not in command  # cron would turn it into a newline
    assert command.startswith(DOCUMENTED_COMMAND + " ")
    assert DOCUMENTED_COMMAND.replace("/opt/hotline/", "") in README.read_text(encoding="utf-8")


@pytest.mark.parametrize(("code", "mailed"), [(0, False), (1, False), (2, True), (3, True)])
def test_crontab_line_prints_only_when_a_person_should_look(
    tmp_path: Path, code: int, mailed: bool
) -> None:
    # Run the line as cron would (sh -c), the paths moved into tmp_path and hotline faked.
    _, command = _cron_line()
    command = command.replace("/opt/hotline/.venv/bin/hotline", str(_fake_hotline(tmp_path)))
    command = command.replace("/var/log/hotline", str(tmp_path))
    env = {
        "PATH": "/usr/bin:/bin",
        "FAKE_HOTLINE_ARGS": str(tmp_path / "args"),
        "FAKE_HOTLINE_EXIT": str(code),
        "FAKE_HOTLINE_STDERR": "warning: something",
    }
    proc = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    assert proc.stderr == ""
    if mailed:
        assert proc.stdout.startswith(f"hotline refresh exited {code} ")
    else:
        assert proc.stdout == ""
    assert (tmp_path / "refresh.stderr").read_text() == "warning: something\n"
    assert (tmp_path / "args").read_text().split() == [
        "refresh",
        "--db",
        "/var/lib/hotline/archive.db",
        "--log-file",
        f"{tmp_path}/refresh.log",
    ]


def test_scripts_are_executable() -> None:
    for name in ("archive-restore.sh", "archive-refresh.sh", "archive-publish.sh"):
        assert os.access(DEPLOY / name, os.X_OK), name
