#pragma once

#include "payload_options.hpp"

#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"
#include "crcr/payload.hpp"
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

struct SimulateOptions {
    PayloadOptions payload;  // event and action included
    std::string delivery_id; // X-GitHub-Delivery; random when empty
    WebhookSecretSources secret;
    bool include = false;     // print the HTTP request (headers, then body)
    bool as_dispatch = false; // print the downstream's repository_dispatch event instead
    std::string downstream = "example-org/pytorch-ci"; // the repository of --as-dispatch
    std::string output;                                // write capture records here
    bool force = false;                                // overwrite --output
    std::string send_url;                              // POST the delivery here
    double timeout = 10; // seconds to wait for --send (GitHub waits 10 s)
    std::optional<std::uint64_t> seed;
    std::string now;         // fixed time for timestamps
    std::uint64_t count = 1; // deliveries to write to --output

    bool operator==(const SimulateOptions&) const = default;
};

// Declares `simulate` on `parent`; `on_parsed` gets the options.
void add_simulate(CLI::App& parent, std::function<void(const SimulateOptions&)> on_parsed);

// Builds the delivery (or `count` of them) and prints, writes or sends it. With --send: `ok` on
// 2xx, `failure` on 4xx, `unavailable` on 5xx or no answer.
ExitCode run_simulate(const SimulateOptions& opts, Context& ctx);

} // namespace crcr
