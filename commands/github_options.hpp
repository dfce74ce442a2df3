#pragma once

// The GitHub API options shared by the commands that call GitHub (`dispatch-test`, `replay
// --dispatch-to`): the API base, a token or GitHub App credentials, and the rate-limit budget.

#include "crcr/context.hpp"
#include "crcr/github.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace crcr {

struct GitHubOptions {
    std::string api_url;          // default GITHUB_API_URL, then https://api.github.com
    std::string token_file;       // default GH_TOKEN, then GITHUB_TOKEN
    std::string app_id;           // default CRCR_APP_ID
    std::string private_key_file; // default CRCR_APP_PRIVATE_KEY_FILE
    std::optional<std::uint64_t> installation_id;
    double max_wait = 900; // seconds of rate-limit waiting allowed in a run

    bool operator==(const GitHubOptions&) const = default;
};

// Adds --api-url, --token-file, --app-id, --private-key, --installation-id and --max-wait to
// `cmd`, in the group "GitHub".
void add_github_options(CLI::App& cmd, GitHubOptions& opts);

// The API base: --api-url, GITHUB_API_URL, the host GH_HOST names as gh reads it (github.com:
// https://api.github.com; any other: https://GH_HOST/api/v3), then https://api.github.com. Warns
// when a GitHub Enterprise Server URL lacks its /api/v3.
std::string resolve_api_url(const GitHubOptions& opts, Context& ctx);

// The credentials, most explicit first: --token-file; --app-id/--private-key; CRCR_APP_ID with
// CRCR_APP_PRIVATE_KEY_FILE; GH_TOKEN; GITHUB_TOKEN. Nothing when there are none. Warns when a
// private key file is readable by other users. Throws `crcr::Error` (auth) for an empty token
// file, half of an App's credentials, or a key that is not an RSA PEM key.
std::optional<GitHubCredentials> resolve_credentials(const GitHubOptions& opts, Context& ctx);

// The credentials as `resolve_credentials` finds them; when there are none, throws the one
// "no GitHub credentials" error (auth) every command gives, naming what needs them (`purpose`:
// "--dispatch-to", say; empty for the command itself) and every place a token can come from.
GitHubCredentials
require_credentials(const GitHubOptions& opts, Context& ctx, std::string_view purpose = {});

// The same for credentials already resolved.
GitHubCredentials require_credentials(std::optional<GitHubCredentials> credentials,
                                      std::string_view purpose = {});

// Waits through `ctx` (its clock and sleep), notices on stderr, the --max-wait budget.
GitHubWaits github_waits(const GitHubOptions& opts, Context& ctx);

} // namespace crcr
