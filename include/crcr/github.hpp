#pragma once

// GitHub's REST API as the relay uses it (relay-contract section 4): its request headers, its
// rate limits (wait as asked, within a budget, never retrying anything else), conditional GETs,
// and the two ways to authenticate: a token, or a GitHub App (JWT -> installation -> installation
// token). Shared by `dispatch-test`, `replay --dispatch-to` and the relay emulator.

#include "crcr/error.hpp"
#include "crcr/http.hpp"
#include "crcr/jwt.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crcr {

inline constexpr std::string_view k_github_api_url = "https://api.github.com";
inline constexpr std::string_view k_github_api_version = "2022-11-28";

// How long GitHub asks a client to wait, when `response` is a rate-limit answer: 403 or 429 with
// `retry-after` (that many seconds), with `x-ratelimit-remaining: 0` (until `x-ratelimit-reset`),
// or with a secondary rate limit message (at least 60 s, doubling with each earlier `attempt`).
// Nothing for any other answer, including a 403 that is a missing permission.
struct RateLimit {
    std::chrono::seconds wait;
    std::string why; // "secondary rate limit", "primary rate limit (core) until 10:57:03 UTC", ...
};
std::optional<RateLimit>
rate_limit_of(const HttpResponse& response, std::chrono::system_clock::time_point now, int attempt);

// An HTTP date ("Thu, 26 Nov 2026 20:00:43 GMT", RFC 9110's IMF-fixdate), as in GitHub's `Date`
// header: GitHub's clock. Nothing when `text` is not one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// GitHub's error message in an error answer's body ({"message": ..., "errors": [...]}), with the
// errors' own messages appended; the raw body (shortened) when it is not GitHub's JSON.
std::string github_error_message(const HttpResponse& response);

// How a command waits and reports while talking to GitHub.
struct GitHubWaits {
    std::function<std::chrono::system_clock::time_point()> now;
    std::function<void(std::chrono::milliseconds)> sleep;
    std::function<void(const std::string&)> notice;          // "rate-limited ...; waiting 60 s"
    std::chrono::seconds max_wait{std::chrono::minutes(15)}; // in total, over a whole run
    std::chrono::milliseconds timeout{30'000};               // for each request's answer
};

// A client of one GitHub API base (https://api.github.com, or https://HOST/api/v3).
class GitHubApi {
public:
    // Throws `crcr::Error` (usage) when `api_url` is not an http(s) URL.
    GitHubApi(HttpClient& http, std::string_view api_url, GitHubWaits waits);

    const std::string& base_url() const { return m_base; }
    std::chrono::system_clock::time_point now() const { return m_waits.now(); }

    // A request for `path` ("/repos/o/r/dispatches") with GitHub's headers: Accept,
    // X-GitHub-Api-Version, User-Agent, `Authorization: Bearer <bearer>` and, with a body,
    // Content-Type: application/json; the waits' timeout.
    HttpRequest request(std::string_view method,
                        std::string_view path,
                        std::string_view bearer,
                        std::string body = {}) const;

    // Sends `request`. Rate-limit answers are waited out as GitHub asks and the request sent
    // again, within the waits' budget (past it: `crcr::Error`, unavailable); every other answer,
    // 5xx included, is returned as it is. GETs are conditional (If-None-Match with the last
    // ETag): GitHub does not count a 304 against the rate limit, and the cached answer is
    // returned.
    HttpResponse send(const HttpRequest& request);

private:
    HttpClient& m_http;
    std::string m_base;
    GitHubWaits m_waits;
    std::chrono::seconds m_waited{0};
    std::map<std::string, HttpResponse, std::less<>> m_etag_cache; // by URL
};

// Who talks to GitHub.
struct GitHubCredentials {
    // A token (classic, fine-grained, or an installation token), with where it came from.
    std::string token;
    std::string token_source; // "GH_TOKEN", "--token-file 'gh.txt'"
    // Or a GitHub App: its id (or client id) and private key.
    std::string app_id;
    std::string private_key_source;
    std::optional<RsaPrivateKey> private_key;
    std::optional<std::uint64_t> installation_id; // looked up per repository when unset

    bool is_app() const { return private_key.has_value(); }
};

// Turns credentials into the bearer token for a repository: the token itself, or for an App a
// fresh JWT, the installation of the repository (`GET /repos/{o}/{r}/installation`, unless the
// id is given) and an installation token (`POST /app/installations/{id}/access_tokens`, limited
// to the repository and to `permissions`), cached for the run. Failures are explained: the App
// not installed, a JWT refused because this machine's clock is off, a permission missing.
class GitHubAuth {
public:
    GitHubAuth(GitHubApi& api,
               GitHubCredentials credentials,
               nlohmann::json permissions = {{"contents", "write"}});

    // The bearer token to act on `repo` ("owner/name"). Throws `crcr::Error`.
    std::string token_for(std::string_view repo);

    const GitHubCredentials& credentials() const { return m_credentials; }

private:
    struct InstallationToken {
        std::string token;
        std::chrono::system_clock::time_point expires_at;
    };
    std::uint64_t installation_of(std::string_view repo, const std::string& jwt);
    InstallationToken
    mint(std::uint64_t installation, std::string_view repo, const std::string& jwt);

    GitHubApi& m_api;
    GitHubCredentials m_credentials;
    nlohmann::json m_permissions;
    std::map<std::string, InstallationToken, std::less<>> m_tokens; // by repository, lowercase
};

// Why GitHub refused an App's JWT (a 401), as a `crcr::Error` (auth): the App id and key to
// check, or this machine's clock when GitHub's `Date` shows it off by more than 30 s.
Error app_jwt_refused(const HttpResponse& response,
                      const GitHubCredentials& credentials,
                      std::chrono::system_clock::time_point now);

// Why a GitHub answer failed, as a `crcr::Error` with the exit code of cli.md: 401/403 auth,
// 5xx unavailable, other 4xx failure. `what` says what was attempted ("dispatch to 'o/r'").
// `hint`, when given, is appended: what to do about it.
Error github_failure(std::string_view what,
                     const HttpResponse& response,
                     std::string_view hint = {});

} // namespace crcr
