#!/usr/bin/env bash
# Installs the pinned npm packages of tests/schema once (tests/npm-install.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm-install.sh" "$here"
