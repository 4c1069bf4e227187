#!/usr/bin/env bash
# Run one scheduled `hotline refresh` on the archive in $HOTLINE_ARCHIVE_DIR and decide whether the
# result is worth publishing.
#
# hotline refresh exits 0 when every source ran and no document failed; 1 when some documents
# failed (they are retried by the next run); 2 when a source could not run at all; 3 when another
# run holds the archive's lock. 0, 1 and 2 all leave a consistent archive in which whatever did
# work is kept, so this script exits 0 for them (the workflow publishes) and reports 1 and 2 as
# warnings. 3 and anything else (a crash, a usage error) fail the step: nothing is published.
#
# Environment: HOTLINE_ARCHIVE_DIR (default data), HOTLINE_LOG_FILE (default logs/refresh.log),
# HOTLINE_REFRESH_ARGS (extra arguments, split on blanks, e.g. "--mirror samples/sites --json"),
# HOTLINE_FULL ("true" adds --full), HOTLINE (the command, default hotline on PATH).
# In GitHub Actions, status=<exit code> goes to $GITHUB_OUTPUT and a line to the job summary.
set -uo pipefail

dir="${HOTLINE_ARCHIVE_DIR:-data}"
log="${HOTLINE_LOG_FILE:-logs/refresh.log}"
hotline="${HOTLINE:-hotline}"
mkdir -p "$dir" "$(dirname "$log")"

args=(refresh --db "$dir/archive.db" --log-file "$log")
if [ "${HOTLINE_FULL:-false}" = "true" ]; then
    args+=(--full)
fi
# Word splitting is wanted here: the variable holds several arguments.
# shellcheck disable=SC2206
args+=(${HOTLINE_REFRESH_ARGS:-})

echo "refresh: $hotline ${args[*]}" >&2
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
# stderr is kept to tell a usage error from "a source could not run": click exits 2 for both.
"$hotline" "${args[@]}" 2>"$errors"
status=$?
cat "$errors" >&2
if [ "$status" = 2 ] && grep -q -- "--help' for help" "$errors"; then
    status=64 # a usage error (EX_USAGE): HOTLINE_REFRESH_ARGS or the command line is wrong
fi

case "$status" in
    0) meaning="every source ran, no document failed" ;;
    1) meaning="some documents failed; they are retried by the next run" ;;
    2) meaning="a source could not run at all (see $log and the source_status page)" ;;
    3) meaning="another run holds the archive's lock" ;;
    64) meaning="hotline refresh refused its arguments (a usage error)" ;;
    *) meaning="hotline refresh failed unexpectedly (see $log)" ;;
esac

if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "status=$status" >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    echo "hotline refresh exited $status: $meaning" >>"$GITHUB_STEP_SUMMARY"
fi

case "$status" in
    0)
        echo "refresh: exit 0: $meaning" >&2
        exit 0
        ;;
    1 | 2)
        if [ ! -f "$dir/archive.db" ]; then
            # An exit before anything was written (click also exits 2 on a usage error).
            echo "refresh: exit $status and no $dir/archive.db: nothing to publish" >&2
            exit "$status"
        fi
        # ::warning:: is a GitHub Actions annotation; elsewhere it is an ordinary line.
        echo "::warning::hotline refresh exited $status: $meaning; publishing what was archived" >&2
        exit 0
        ;;
    *)
        echo "::error::hotline refresh exited $status: $meaning; nothing is published" >&2
        exit "$status"
        ;;
esac
