#!/usr/bin/env python3
"""crcr's YAML loader against PyYAML's safe_load (what the relay uses) on a corpus: both must
accept or reject the same files, and yield the same values when they accept."""
import json
import pathlib
import subprocess
import sys

import yaml

dump, corpus = sys.argv[1], pathlib.Path(sys.argv[2])
passed = failed = 0
for path in sorted(corpus.glob("*.yml")):
    try:
        want = json.loads(json.dumps(yaml.safe_load(path.read_bytes()), default=str))
        want_error = False
    except (yaml.YAMLError, RecursionError) as e:
        want, want_error = f"{type(e).__name__}: {e}", True
    out = subprocess.run([dump, str(path)], capture_output=True, text=True, check=True).stdout.strip()
    got_error = out.startswith("ERROR ")
    got = out if got_error else json.loads(out)
    if got_error != want_error or (not want_error and got != want):
        failed += 1
        print(f"FAIL {path.name}\n  PyYAML: {want}\n  crcr:   {got}")
    else:
        passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
