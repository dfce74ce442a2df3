#pragma once

#include "github_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/secrets.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct ReplayOptions {
    std::vector<std::string> inputs; // files, folders, or - for standard input
    std::string to;                  // a webhook URL (the relay's /github/webhook)
    std::string dispatch_to;         // or a repository, as the relay's repository_dispatch
    std::string event;               // the event of bare payloads
    WebhookSecretSources secret;
    bool new_delivery_id = false;
    bool legacy_signature = false;
    std::vector<std::string> filters; // KEY=VALUE, ANDed
    std::optional<std::uint64_t> limit;
    unsigned concurrency = 4;
    double rate = 0;           // deliveries per second; 0: as fast as possible
    double timeout = 10;       // seconds for each request (GitHub waits 10 s for a webhook)
    unsigned retries = 3;      // webhooks: more attempts after what cannot have been acted on
    bool retry_unsafe = false; // and after 5xx or answers lost after sending: may dispatch again
    bool dry_run = false;
    std::string report; // JSON Lines, appended
    std::string state;  // resumable runs
    bool resend_failed = false;
    GitHubOptions github;

    bool operator==(const ReplayOptions&) const = default;
};

// Declares `replay` on `parent`; `on_parsed` gets the options.
void add_replay(CLI::App& parent, std::function<void(const ReplayOptions&)> on_parsed);

// Sends every captured delivery again. `ok` when all were delivered (2xx), `failure` when any
// was rejected (4xx) or unreadable, `unavailable` when any failed (no answer, 5xx).
ExitCode run_replay(const ReplayOptions& opts, Context& ctx);

} // namespace crcr
