#pragma once

namespace crcr {

// The process exit status of every crcr command (cli.md, "Conventions"). Scripts branch on these,
// so the values never change; `man crcr` documents them under EXIT STATUS.
enum class ExitCode {
    ok = 0,          // success; nothing to report
    failure = 1,     // the check found problems, the input is invalid, or the remote side said no
    usage = 2,       // the command line is invalid
    auth = 4,        // credentials missing, invalid or without the needed permission
    unavailable = 5, // no response, timeout, 5xx or rate-limited: safe to try again later
};

// The numeric process status for `code`.
constexpr int to_int(ExitCode code) {
    return static_cast<int>(code);
}

} // namespace crcr
