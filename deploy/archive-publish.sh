#!/usr/bin/env bash
# Pack the archive in $HOTLINE_ARCHIVE_DIR and publish it as the assets of one rolling GitHub
# release, where the next run's deploy/archive-restore.sh finds it.
#
# Assets: archive.tar.gz (archive.db, raw/, refresh-walks.json: what the next refresh needs),
# archive.tar.gz.sha256, and archive.db alone for readers who only want the database.
# The packed files are left in $HOTLINE_DIST_DIR for the workflow's upload-artifact step.
#
# Environment: HOTLINE_ARCHIVE_DIR (default data), HOTLINE_RELEASE_TAG (default archive),
# HOTLINE_DIST_DIR (default dist), PYTHON (default python3); `gh` on PATH, authenticated.
set -euo pipefail

dir="${HOTLINE_ARCHIVE_DIR:-data}"
tag="${HOTLINE_RELEASE_TAG:-archive}"
dist="${HOTLINE_DIST_DIR:-dist}"
python="${PYTHON:-python3}"

if [ ! -f "$dir/archive.db" ]; then
    echo "publish: no $dir/archive.db: nothing to publish" >&2
    exit 1
fi

# Fold the write-ahead log into archive.db, so the packed file alone is the whole database
# (refresh does this as it ends; a run killed before that would leave rows only in the WAL).
"$python" - "$dir/archive.db" <<'PY'
import sqlite3
import sys

con = sqlite3.connect(sys.argv[1])
busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
con.close()
if busy:
    sys.exit("publish: archive.db is in use by another process; not packing a half-written copy")
PY

mkdir -p "$dist"
members=(archive.db)
[ -d "$dir/raw" ] && members+=(raw)
[ -f "$dir/refresh-walks.json" ] && members+=(refresh-walks.json)
tar -czf "$dist/archive.tar.gz" -C "$dir" "${members[@]}"
(cd "$dist" && sha256sum archive.tar.gz >archive.tar.gz.sha256)
cp "$dir/archive.db" "$dist/archive.db"
echo "publish: packed ${members[*]} into $dist/archive.tar.gz ($(du -h "$dist/archive.tar.gz" | cut -f1))"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! gh release view "$tag" >/dev/null 2>"$work/view.err"; then
    if ! grep -qi "release not found" "$work/view.err"; then
        cat "$work/view.err" >&2
        exit 1
    fi
    gh release create "$tag" --title "12345 hotline archive" \
        --notes "The archive as the last scheduled refresh left it: archive.tar.gz (archive.db, raw/, refresh-walks.json) and archive.db. Replaced by every run."
fi
# The tarball goes first and its checksum last: an upload that breaks off in between leaves a
# checksum that does not match, and the next restore stops instead of using a partial archive.
gh release upload "$tag" "$dist/archive.tar.gz" --clobber
gh release upload "$tag" "$dist/archive.db" --clobber
gh release upload "$tag" "$dist/archive.tar.gz.sha256" --clobber
echo "publish: release '$tag' updated"
