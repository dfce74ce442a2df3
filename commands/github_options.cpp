#include "github_options.hpp"

#include "option_checks.hpp"

#include "crcr/files.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>

namespace crcr {

namespace {

// A token without surrounding whitespace (files usually end with a newline).
std::string trimmed(std::string text) {
    const std::size_t end = text.find_last_not_of(" \t\r\n");
    text.erase(end == std::string::npos ? 0 : end + 1);
    const std::size_t start = text.find_first_not_of(" \t\r\n");
    return start == std::string::npos ? std::string() : text.substr(start);
}

// The variable's value when it is set and not empty (an empty variable counts as unset, as gh
// does).
std::optional<std::string> non_empty(const Environment& env, std::string_view name) {
    std::optional<std::string> value = env.get(name);
    if (value && trimmed(*value).empty()) {
        return std::nullopt;
    }
    return value;
}

void warn_if_readable_by_others(const std::string& path, Context& ctx) {
    std::error_code ec;
    const std::filesystem::perms perms = std::filesystem::status(path, ec).permissions();
    using std::filesystem::perms;
    if (!ec && (perms & (perms::group_read | perms::others_read)) != perms::none) {
        fmt::print(ctx.err,
                   "crcr: warning: private key '{}' is readable by other users (mode {:04o}): "
                   "chmod 600 '{}'\n",
                   path,
                   static_cast<unsigned>(perms) & 0777U,
                   path);
    }
}

GitHubCredentials app_credentials(const GitHubOptions& opts, Context& ctx) {
    GitHubCredentials credentials;
    credentials.app_id =
        !opts.app_id.empty() ? opts.app_id : non_empty(ctx.env, "CRCR_APP_ID").value_or("");
    const std::string key_file = !opts.private_key_file.empty()
                                     ? opts.private_key_file
                                     : non_empty(ctx.env, "CRCR_APP_PRIVATE_KEY_FILE").value_or("");
    if (credentials.app_id.empty()) {
        throw Error("a GitHub App private key needs the App's id: --app-id or CRCR_APP_ID (the "
                    "App id or client id from the App's settings page)",
                    ExitCode::auth);
    }
    if (key_file.empty()) {
        throw Error(fmt::format("GitHub App '{}' needs its private key: --private-key FILE or "
                                "CRCR_APP_PRIVATE_KEY_FILE",
                                credentials.app_id),
                    ExitCode::auth);
    }
    warn_if_readable_by_others(key_file, ctx);
    credentials.private_key_source = fmt::format("'{}'", key_file);
    credentials.private_key.emplace(read_file(key_file, 1U << 20U), key_file);
    credentials.installation_id = opts.installation_id;
    return credentials;
}

} // namespace

void add_github_options(CLI::App& cmd, GitHubOptions& opts) {
    const std::string group = "GitHub";
    cmd.add_option("--api-url",
                   opts.api_url,
                   "API base (default GITHUB_API_URL, then GH_HOST as gh reads it, then "
                   "https://api.github.com; Enterprise Server: https://HOST/api/v3)")
        ->type_name("URL")
        ->group(group);
    CLI::Option* token_file =
        cmd.add_option("--token-file",
                       opts.token_file,
                       "File holding a GitHub token (default GH_TOKEN, then GITHUB_TOKEN)")
            ->type_name("FILE")
            ->group(group);
    CLI::Option* app_id =
        cmd.add_option("--app-id", opts.app_id, "GitHub App id or client id (default CRCR_APP_ID)")
            ->type_name("ID")
            ->group(group);
    CLI::Option* key =
        cmd.add_option("--private-key",
                       opts.private_key_file,
                       "The App's private key, PEM (default CRCR_APP_PRIVATE_KEY_FILE)")
            ->type_name("FILE")
            ->group(group);
    CLI::Option* installation =
        cmd.add_option("--installation-id",
                       opts.installation_id,
                       "The App's installation (default: looked up for the repository)")
            ->type_name("ID")
            ->transform(whole_number(k_github_id))
            ->group(group);
    token_file->excludes(app_id)->excludes(key)->excludes(installation);
    cmd.add_option("--max-wait",
                   opts.max_wait,
                   "Seconds to wait out rate limits in all before giving up (default 900)")
        ->type_name("SECONDS")
        ->check(real_number(k_wait_seconds))
        ->group(group);
}

std::string resolve_api_url(const GitHubOptions& opts, Context& ctx) {
    std::string url = opts.api_url;
    if (url.empty()) {
        const std::optional<std::string> host = non_empty(ctx.env, "GH_HOST");
        url =
            non_empty(ctx.env, "GITHUB_API_URL")
                .value_or(!host || *host == "github.com" ? std::string(k_github_api_url)
                                                         : fmt::format("https://{}/api/v3", *host));
    }
    while (url.ends_with('/')) {
        url.pop_back();
    }
    const bool github_com = url == k_github_api_url;
    if (!github_com && url.find("/api/") == std::string::npos && url.starts_with("https://")) {
        fmt::print(ctx.err,
                   "crcr: warning: API URL '{}' has no /api/ path: GitHub Enterprise Server "
                   "serves its REST API at https://HOST/api/v3\n",
                   redact_url(url));
    }
    return url;
}

std::optional<GitHubCredentials> resolve_credentials(const GitHubOptions& opts, Context& ctx) {
    if (!opts.token_file.empty()) {
        GitHubCredentials credentials;
        credentials.token = trimmed(read_file(opts.token_file, 1U << 20U));
        credentials.token_source = fmt::format("--token-file '{}'", opts.token_file);
        if (credentials.token.empty()) {
            throw Error(fmt::format("token file '{}' is empty", opts.token_file), ExitCode::auth);
        }
        return credentials;
    }
    if (!opts.app_id.empty() || !opts.private_key_file.empty() || non_empty(ctx.env, "CRCR_APP_ID")
        || non_empty(ctx.env, "CRCR_APP_PRIVATE_KEY_FILE")) {
        return app_credentials(opts, ctx);
    }
    if (opts.installation_id) {
        throw Error("--installation-id needs GitHub App credentials (--app-id and --private-key)",
                    ExitCode::usage);
    }
    for (const std::string_view name : {"GH_TOKEN", "GITHUB_TOKEN"}) {
        if (const auto token = non_empty(ctx.env, name)) {
            return GitHubCredentials{.token = trimmed(*token), .token_source = std::string(name)};
        }
    }
    return std::nullopt;
}

GitHubWaits github_waits(const GitHubOptions& opts, Context& ctx) {
    return GitHubWaits{
        .now = ctx.now,
        .sleep = ctx.sleep,
        .notice = [&ctx](const std::string& text) { fmt::print(ctx.err, "crcr: {}\n", text); },
        .max_wait = std::chrono::seconds(static_cast<long long>(opts.max_wait))};
}

GitHubCredentials
require_credentials(const GitHubOptions& opts, Context& ctx, std::string_view purpose) {
    return require_credentials(resolve_credentials(opts, ctx), purpose);
}

GitHubCredentials require_credentials(std::optional<GitHubCredentials> credentials,
                                      std::string_view purpose) {
    if (!credentials) {
        throw Error(fmt::format("no GitHub credentials{}{}: set GH_TOKEN or GITHUB_TOKEN, or "
                                "--token-file, or a GitHub App's --app-id and --private-key "
                                "(CRCR_APP_ID, CRCR_APP_PRIVATE_KEY_FILE); logged in with the "
                                "GitHub CLI? GH_TOKEN=$(gh auth token)",
                                purpose.empty() ? "" : " for ",
                                purpose),
                    ExitCode::auth);
    }
    return std::move(*credentials);
}

} // namespace crcr
