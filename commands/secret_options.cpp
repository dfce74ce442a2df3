#include "secret_options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

namespace crcr {

void add_secret_options(CLI::App& cmd, WebhookSecretSources& sources, const std::string& group) {
    CLI::Option* file = cmd.add_option("--secret-file",
                                       sources.secret_file,
                                       "File holding the webhook secret (default: "
                                       "CRCR_WEBHOOK_SECRET_FILE, then CRCR_WEBHOOK_SECRET)");
    file->type_name("FILE")->group(group);
    CLI::Option* value = cmd.add_option(
        "--secret",
        sources.secret,
        "The webhook secret itself (visible to other processes; prefer --secret-file)");
    value->type_name("SECRET")->group(group);
    file->excludes(value);
}

std::optional<std::string> resolve_secret(const WebhookSecretSources& sources, Context& ctx) {
    if (sources.secret && sources.secret_file.empty()) {
        fmt::print(ctx.err,
                   "crcr: warning: --secret is visible to other processes on this machine; use "
                   "--secret-file or CRCR_WEBHOOK_SECRET_FILE\n");
    }
    return webhook_secret(sources, ctx.env);
}

} // namespace crcr
