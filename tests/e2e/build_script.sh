#!/usr/bin/env bash
# scripts/build.sh on a small tree of its own: exits 0 when the build succeeds, and non-zero,
# showing the compiler's or CMake's message, when configuring or building fails, also on an
# incremental build after a good one (where the old binaries would still be there).
#   tests/e2e/build_script.sh SOURCE_DIR
set -uo pipefail
source_dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CCACHE_DISABLE=1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir -p "$tmp/tree/scripts"
cp "$source_dir/scripts/build.sh" "$tmp/tree/scripts/"
cat >"$tmp/tree/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(probe LANGUAGES CXX)
add_executable(probe main.cpp)
CMAKE
echo 'int main() { return 0; }' >"$tmp/tree/main.cpp"

# build NAME: runs the script on the tree, keeping its status and output.
build() {
  out=$("$tmp/tree/scripts/build.sh" "$@" 2>&1)
  status=$?
}

build build
[ "$status" -eq 0 ] || fail "a good tree: exit $status: $out"
[ -x "$tmp/tree/build/probe" ] || fail "a good tree: no binary"

echo 'int main() { return undeclared_name; }' >"$tmp/tree/main.cpp"
build build
[ "$status" -ne 0 ] || fail "a compile error after a good build: exit 0"
grep -q undeclared_name <<<"$out" || fail "a compile error: the compiler's message is not shown: $out"

echo 'message(FATAL_ERROR "deliberately broken")' >>"$tmp/tree/CMakeLists.txt"
build fresh
[ "$status" -ne 0 ] || fail "a configure error: exit 0"
grep -q 'deliberately broken' <<<"$out" || fail "a configure error: CMake's message is not shown: $out"

[ "$failures" -eq 0 ] && echo "build.sh: 3 cases passed" || exit 1
