#pragma once

// The webhook-secret options shared by the commands that sign or verify deliveries.

#include "crcr/context.hpp"
#include "crcr/secrets.hpp"

#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

// Adds `--secret-file FILE` and `--secret VALUE` to `cmd`, bound to `sources`.
void add_secret_options(CLI::App& cmd,
                        WebhookSecretSources& sources,
                        const std::string& group = "Options");

// The secret from `sources` and the environment; warns on ctx.err when it was given with
// --secret (visible to other processes).
std::optional<std::string> resolve_secret(const WebhookSecretSources& sources, Context& ctx);

} // namespace crcr
