#pragma once

// The --json result of the commands that report one outcome (callback, dispatch-test): the
// document they fill in as they go, printed at the end, with the error and exit code added when
// they fail (the error still goes to stderr as usual).

#include "crcr/context.hpp"
#include "crcr/error.hpp"
#include "crcr/payload.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <functional>

namespace crcr {

// Runs `body`, which fills `result`; when `print` is set, prints `result` on stdout, with
// "error" and "exit_code" when `body` throws. Returns `body`'s exit code, or rethrows.
inline ExitCode
with_json_result(bool print, Json& result, Context& ctx, const std::function<ExitCode()>& body) {
    try {
        const ExitCode code = body();
        if (print) {
            fmt::print(ctx.out, "{}\n", result.dump(2));
        }
        return code;
    } catch (const Error& e) {
        if (print) {
            result["error"] = e.what();
            result["exit_code"] = to_int(e.code());
            fmt::print(ctx.out, "{}\n", result.dump(2));
        }
        throw;
    }
}

} // namespace crcr
