#pragma once

#include "crcr/context.hpp"

#include <optional>
#include <string>

namespace crcr {

// Where a webhook secret may come from, most specific first.
struct WebhookSecretSources {
    std::string secret_file;           // --secret-file
    std::optional<std::string> secret; // --secret (visible to other processes: callers warn)

    bool operator==(const WebhookSecretSources&) const = default;
};

// The webhook signing secret: `--secret-file`, then `--secret`, then the file named by
// `CRCR_WEBHOOK_SECRET_FILE`, then `CRCR_WEBHOOK_SECRET`; nothing when none is set. One trailing
// newline of a file is dropped. Throws `crcr::Error` for an unreadable file or an empty secret.
std::optional<std::string> webhook_secret(const WebhookSecretSources& sources,
                                          const Environment& env);

} // namespace crcr
