#pragma once

// `relay serve`'s engine: the emulator's log, its key set, and the run that wires the allowlist
// file, the state, the dispatcher, the relay and its server together until SIGINT or SIGTERM.
// The command (`commands/relay.cpp`) checks the options, resolves the secret, and calls
// `serve_relay_emulator`.

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/jwt.hpp"
#include "crcr/relay.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>

namespace crcr {

// Log lines on `out`: "TIME LEVEL message key=value ..." (a value with a space, quote or "="
// quoted as JSON; empty fields left out) or, with `json`, one JSON object per line. Each line is
// written whole and flushed, whichever thread logs it.
class LogWriter {
public:
    LogWriter(std::ostream& out,
              bool json,
              std::function<std::chrono::system_clock::time_point()> now);

    void operator()(const LogEntry& entry);

private:
    std::ostream& m_out;
    bool m_json;
    std::function<std::chrono::system_clock::time_point()> m_now;
    std::mutex m_mutex;
};

// The key set that verifies callback tokens from `source`: a file, or an http(s) URL fetched
// with `http`; an empty one for an empty `source`. Throws `crcr::Error` naming `source` when it
// cannot be read (a URL answering other than 200: unavailable) or is not a key set.
Jwks load_jwks(const std::string& source, HttpClient& http);

struct RelayEmulatorSettings {
    std::string host = "127.0.0.1";
    int port = 8080; // 0: a free one
    std::string allowlist;
    std::string secret;
    std::string upstream_repo = "pytorch/pytorch";
    std::string oidc_jwks; // FILE or URL; empty: every callback refused
    int rate_limit = 100;
    std::string dispatch = "record";
    std::size_t dispatch_workers = 8;
    std::size_t threads = 16;
    std::string state; // empty: under the user's state directory
    bool json_log = false;
    // The dispatcher, made once the log is up (with `--dispatch github`, GitHub's, whose
    // credentials are resolved then); null: dispatches are recorded only.
    std::function<Dispatcher(const Log&)> make_dispatcher;
};

// Serves the relay as `settings` say: prints its URL on `ctx.out` once bound, logs on `ctx.err`,
// re-reads the allowlist file when it changes, and stops on SIGINT or SIGTERM (blocked in every
// thread but one, which it starts) after answering the requests in flight. Returns `ok` then.
// Throws `crcr::Error` when it cannot start (an allowlist with errors, a key set or state that
// cannot be read, an address that cannot be bound).
ExitCode serve_relay_emulator(const RelayEmulatorSettings& settings, Context& ctx);

} // namespace crcr
