#include "crcr/secrets.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"

#include <fmt/format.h>

namespace crcr {

namespace {

std::string from_file(const std::string& path) {
    std::string secret = read_file(path, 1U << 20U);
    if (secret.ends_with("\r\n")) {
        secret.resize(secret.size() - 2);
    } else if (secret.ends_with('\n')) {
        secret.pop_back();
    }
    if (secret.empty()) {
        throw Error(fmt::format("webhook secret file '{}' is empty", path));
    }
    return secret;
}

} // namespace

std::optional<std::string> webhook_secret(const WebhookSecretSources& sources,
                                          const Environment& env) {
    if (!sources.secret_file.empty()) {
        return from_file(sources.secret_file);
    }
    if (sources.secret) {
        if (sources.secret->empty()) {
            throw Error("--secret is empty");
        }
        return sources.secret;
    }
    if (const std::optional<std::string> path = env.get("CRCR_WEBHOOK_SECRET_FILE")) {
        if (path->empty()) {
            throw Error(
                "CRCR_WEBHOOK_SECRET_FILE is set but empty: name the secret file, or unset it");
        }
        return from_file(*path);
    }
    if (std::optional<std::string> secret = env.get("CRCR_WEBHOOK_SECRET")) {
        if (secret->empty()) {
            throw Error("CRCR_WEBHOOK_SECRET is set but empty: set the secret, or unset it to send "
                        "unsigned deliveries");
        }
        return secret;
    }
    return std::nullopt;
}

} // namespace crcr
