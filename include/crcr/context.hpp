#pragma once

#include "crcr/http.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

namespace crcr {

// A snapshot of environment variables. `main` takes the process's; tests build their own, so no
// command ever calls getenv.
class Environment {
public:
    Environment() = default;
    using Variables = std::map<std::string, std::string, std::less<>>;

    explicit Environment(Variables vars) : m_vars(std::move(vars)) {}

    // The value of `name`, or nothing when it is unset. An empty value counts as set.
    std::optional<std::string> get(std::string_view name) const;

    // The process environment (`environ`), read once.
    static Environment from_process();

private:
    Variables m_vars;
};

// Every side effect a command may use. `main` makes the real one; tests make one with string
// streams, a fake or loopback HTTP client, a fixed clock and a chosen environment, and run
// commands in-process.
struct Context {
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    HttpClient& http;
    // A new event loop for many requests in flight at once (replay --to): one per thread.
    std::function<std::unique_ptr<ConcurrentHttpClient>()> concurrent_http;
    const Environment& env;
    std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
    // Waits (rate limits, polling). Tests pass one that advances their clock instead.
    std::function<void(std::chrono::milliseconds)> sleep = [](std::chrono::milliseconds d) {
        std::this_thread::sleep_for(d);
    };
    // A fresh random seed for ids and SHAs when no --seed is given (tests fix it).
    std::function<std::uint64_t()> random_seed;
    bool out_is_terminal = false; // stdout is a terminal (colour, progress)
    bool err_is_terminal = false; // stderr is a terminal
    // The command line crcr was started with, argv[0] included: what a command that hands over
    // to a helper program passes on (crcr/helper.hpp). Empty in tests.
    std::span<const char* const> argv;
};

// Whether `env` configures a proxy for http:// requests (http_proxy, all_proxy, in either case),
// which only libcurl honours.
bool proxy_configured(const Environment& env);

// The certificate authorities `env` asks https:// requests to trust (`TlsTrust`): CURL_CA_BUNDLE,
// else SSL_CERT_FILE and SSL_CERT_DIR; an empty variable counts as unset.
TlsTrust tls_trust(const Environment& env);

// Whether to colour output written to a stream that is (or is not) a terminal: never when
// `NO_COLOR` is set to a non-empty value (as no-color.org says) or when `TERM` is "dumb".
bool use_color(bool is_terminal, const Environment& env);

} // namespace crcr
