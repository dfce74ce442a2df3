#pragma once

// crcr's helper programs. A command whose libraries every other command would load at start-up
// for nothing runs in a program of its own, which crcr executes in its place, as git runs its
// remote helpers (git-remote-https), so that git itself does not link libcurl: `relay serve` and
// `relay status`
// run in crcr-relay, the one program that links cpp-httplib (with libssl, zlib and brotli) and
// SQLite. The helper is crcr itself with those commands' engine linked in, given the same
// command line, so parsing, errors and exit codes are the same. Installed, helpers live in
// crcr's libexec folder (../libexec/crcr from bin/); in a build folder, beside crcr.

#include <span>
#include <string>
#include <string_view>

namespace crcr {

// The helper `name` of the program at `self` (its resolved path): `<self's folder>/<libexec>/name`
// when that is an executable file, else `<self's folder>/name` when that is; "" when neither is.
std::string find_helper(std::string_view self, std::string_view libexec, std::string_view name);

// Replaces this process with the helper `name` of the running program (/proc/self/exe), found in
// `libexec` as `find_helper` does, given `argv` (argv[0] included; an empty one becomes `name`).
// Returns only by throwing `crcr::Error`, naming where it looked, when the helper is missing or
// cannot be executed.
[[noreturn]] void
exec_helper(std::string_view libexec, std::string_view name, std::span<const char* const> argv);

} // namespace crcr
