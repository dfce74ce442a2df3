#!/usr/bin/env bash
# The requests crcr sends GitHub (dispatch-test's tests against the fake GitHub API), checked
# against GitHub's REST description, @octokit/openapi: the dispatch body, the installation
# token request, the runs list's and deliveries list's query parameters; and the fake's answers
# to the deliveries requests (list, record, redelivery), so the fake speaks GitHub's shapes.
set -euo pipefail
tests=$1
schema_dir=$(cd "$(dirname "$0")/../schema" && pwd)
"$schema_dir/install.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Not one of ctest's entries: its cases are not counted as run (tests/check_cases_ran.sh).
env -u CRCR_TEST_CASES_RAN CRCR_TEST_CAPTURE_DIR="$tmp" "$tests" --test-case='dispatch-test*,deliveries*' >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
node "$schema_dir/check-github-requests.mjs" "$tmp"
