#!/usr/bin/env bash
# Installs the Debian 12 packages crcr builds and tests with, only those that are missing.
# Idempotent and quiet when nothing is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libcli11-dev doctest-dev libfmt-dev libyaml-dev nlohmann-json3-dev
  libcurl4-openssl-dev libssl-dev libpugixml-dev openssl
  libcpp-httplib-dev libsqlite3-dev
  python3 python3-yaml groff-base man-db clang-format
  # ccache: the two builds of the test suite, and clones of the tree, share compiled objects
  ccache
  # the sanitized build and the fuzz targets are built with Clang 14 and its runtimes
  clang libclang-rt-14-dev libfuzzer-14-dev
  # the completion tests run each shell's script for real; the package test builds a .deb
  bash-completion zsh fish dpkg-dev
  # the package test runs lintian; the release test makes a bare Debian root with debootstrap
  lintian debootstrap
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
# Node.js and npm run the tests that check crcr's output against GitHub's npm packages; a
# machine that already has them (from any source) keeps its own.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
