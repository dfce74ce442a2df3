#!/usr/bin/env bash
# Installs the pinned npm packages of tests/workflow once (tests/npm-install.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm-install.sh" "$here"
