#pragma once

// The payload-shape options shared by the commands that build a webhook body (`simulate`,
// `dispatch-test`): the builder's fields, or a captured body, with `--set` overrides.

#include "crcr/payload.hpp"
#include "crcr/random.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct PayloadOptions {
    PayloadShape shape;            // event and action are declared by each command
    std::string payload_file;      // start from this captured body instead of the builder
    std::vector<std::string> sets; // PATH=VALUE overrides

    bool operator==(const PayloadOptions&) const = default;
};

// Adds the shape options to `cmd` in the group "Payload shape". `repo_flag` names the option of
// the repository the event happens in ("--repo" for simulate; dispatch-test's --repo is the
// downstream, so it says "--upstream-repo"). --payload excludes the builder's options.
void add_payload_options(CLI::App& cmd, PayloadOptions& opts, const std::string& repo_flag);

// The body: built from the shape (or read from --payload), then the --set overrides applied.
// Throws `crcr::Error` (usage for shape problems) saying what is wrong.
Json make_payload(const PayloadOptions& opts,
                  Random& random,
                  std::chrono::system_clock::time_point now);

} // namespace crcr
