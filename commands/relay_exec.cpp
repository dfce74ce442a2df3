// `relay serve` and `relay status` in the crcr program of a shared-library build: they run in
// crcr-relay, crcr's helper program that links their engine (commands/relay_run.cpp) with
// cpp-httplib and SQLite, so that no other command loads those libraries at start-up. The options
// were parsed and checked already; crcr-relay parses the same command line again.

#include "relay.hpp"

#include "crcr/helper.hpp"
#include "crcr/version.hpp"

#include <ostream>

namespace crcr {

namespace {

[[noreturn]] void exec_relay(Context& ctx) {
    ctx.out.flush();
    ctx.err.flush();
    exec_helper(k_libexec_from_bindir, "crcr-relay", ctx.argv);
}

} // namespace

ExitCode run_relay_serve(const RelayServeOptions& /*opts*/, Context& ctx) {
    exec_relay(ctx);
}

ExitCode run_relay_status(const RelayStatusOptions& /*opts*/, Context& ctx) {
    exec_relay(ctx);
}

} // namespace crcr
