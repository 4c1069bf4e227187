#!/usr/bin/env bash
# Restore the archive a previous scheduled run published (the GitHub Actions workflow's first step).
#
# The archive is archive.db, the raw store raw/ and refresh-walks.json, carried between runs as
# the asset archive.tar.gz (with archive.tar.gz.sha256) of one rolling GitHub release. They are
# unpacked into $HOTLINE_ARCHIVE_DIR. "No release yet" starts a new, empty archive; any other
# failure stops here, so that a transient error never gets a fresh archive published over the
# old one (the old one keeps bulletins that have since been taken down from the sites).
#
# Environment: HOTLINE_ARCHIVE_DIR (default data), HOTLINE_RELEASE_TAG (default archive),
# PYTHON (default python3); `gh` on PATH, authenticated (GH_TOKEN).
set -euo pipefail

dir="${HOTLINE_ARCHIVE_DIR:-data}"
tag="${HOTLINE_RELEASE_TAG:-archive}"
python="${PYTHON:-python3}"

mkdir -p "$dir"
if [ -e "$dir/archive.db" ]; then
    # A machine that keeps its archive between runs (self-hosted runner): nothing to restore.
    echo "restore: $dir/archive.db already exists; keeping it"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! gh release view "$tag" >/dev/null 2>"$work/view.err"; then
    if grep -qi "release not found" "$work/view.err"; then
        echo "restore: no release '$tag' yet: starting a new archive in $dir"
        exit 0
    fi
    cat "$work/view.err" >&2
    echo "restore: cannot read release '$tag'; not starting from an empty archive" >&2
    exit 1
fi

# A release without the asset is not "no archive yet": something removed it, or the last upload
# broke off. Stop, so a person decides (the workflow's artifacts hold the last archives too).
gh release download "$tag" --pattern archive.tar.gz --pattern archive.tar.gz.sha256 --dir "$work"
(cd "$work" && sha256sum --check --quiet archive.tar.gz.sha256)

# Unpack only the archive's own files: regular files and directories under archive.db, raw/ and
# refresh-walks.json, never absolute paths, "..", links or devices.
"$python" - "$work/archive.tar.gz" "$dir" <<'PY'
import sys
import tarfile
from pathlib import PurePosixPath

ALLOWED = {"archive.db", "raw", "refresh-walks.json"}
src, dest = sys.argv[1], sys.argv[2]
with tarfile.open(src, "r:gz") as tar:
    members = tar.getmembers()
    names = set()
    for m in members:
        path = PurePosixPath(m.name)
        parts = [p for p in path.parts if p != "."]
        if path.is_absolute() or ".." in parts or not parts or parts[0] not in ALLOWED:
            sys.exit(f"restore: refusing archive member {m.name!r}")
        if not (m.isfile() or m.isdir()):
            sys.exit(f"restore: refusing archive member {m.name!r} (not a file or directory)")
        names.add("/".join(parts))
    if "archive.db" not in names:
        sys.exit("restore: the archive has no archive.db")
    extract = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    tar.extractall(dest, members=members, **extract)
print(f"restore: {len(members)} entries from release asset archive.tar.gz into {dest}")
PY
