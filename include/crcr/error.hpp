#pragma once

#include "crcr/exit_code.hpp"

#include <stdexcept>
#include <string>

namespace crcr {

// The one exception type of crcr: "cannot go on". Thrown where the problem is found, with a
// message in git's grammar (lowercase, subject in single quotes, cause after a colon, no full
// stop), and caught only in `run_cli`, which prints `crcr: error: <message>` and exits with
// `code()`. Expected outcomes (findings, HTTP 404s, signature mismatches) are values, not errors.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ExitCode code = ExitCode::failure)
        : std::runtime_error(message), m_code(code) {}

    // The exit status this error ends the process with.
    ExitCode code() const { return m_code; }

private:
    ExitCode m_code;
};

} // namespace crcr
