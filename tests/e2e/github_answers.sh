#!/usr/bin/env bash
# The answers the fake GitHub API serves `crcr doctor` (its tests), checked against GitHub's REST
# description, @octokit/openapi: repository, contents, Actions' settings and workflows,
# installations, users, the App.
set -euo pipefail
tests=$1
schema_dir=$(cd "$(dirname "$0")/../schema" && pwd)
"$schema_dir/install.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Not one of ctest's entries: its cases are not counted as run (tests/check_cases_ran.sh).
env -u CRCR_TEST_CASES_RAN CRCR_TEST_ANSWER_DIR="$tmp" "$tests" --test-case='doctor:*' >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
rm "$tmp/log"
node "$schema_dir/check-github-answers.mjs" "$tmp"
