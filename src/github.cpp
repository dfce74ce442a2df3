#include "crcr/github.hpp"

#include "crcr/error.hpp"
#include "crcr/payload.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace crcr {

namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

constexpr int k_max_rate_limit_retries = 8;
constexpr std::size_t k_max_message = 400;

std::optional<long long> parse_integer(std::string_view text) {
    long long value = 0;
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

std::string clock_time(system_clock::time_point when) {
    const std::string iso = iso8601(when); // 2026-11-26T10:57:03Z
    return iso.substr(11, 8) + " UTC";
}

} // namespace

std::optional<system_clock::time_point> parse_http_date(std::string_view text) {
    constexpr std::array<std::string_view, 12> k_months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int day = 0;
    int year = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    std::array<char, 4> month{};
    const std::string copy(text);
    if (std::sscanf(copy.c_str(),
                    "%*3s, %2d %3s %4d %2d:%2d:%2d GMT",
                    &day,
                    month.data(),
                    &year,
                    &hour,
                    &minute,
                    &second)
        != 6) {
        return std::nullopt;
    }
    const auto* found = std::find(k_months.begin(), k_months.end(), std::string_view(month.data()));
    if (found == k_months.end()) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{
        std::chrono::year(year),
        std::chrono::month(static_cast<unsigned>(found - k_months.begin() + 1)),
        std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute)
           + seconds(second);
}

std::optional<RateLimit>
rate_limit_of(const HttpResponse& response, system_clock::time_point now, int attempt) {
    if (response.status != 403 && response.status != 429) {
        return std::nullopt;
    }
    if (const std::optional<seconds> wait = retry_after(response)) {
        return RateLimit{std::max(*wait, seconds(1)),
                         fmt::format("it sent retry-after: {}", *response.header("retry-after"))};
    }
    const auto remaining = response.header("x-ratelimit-remaining");
    const auto reset = response.header("x-ratelimit-reset");
    if (remaining == "0" && reset) {
        if (const auto epoch = parse_integer(*reset)) {
            const system_clock::time_point at{seconds(*epoch)};
            const auto wait = std::chrono::duration_cast<seconds>(at - now) + seconds(1);
            return RateLimit{std::max(wait, seconds(1)),
                             fmt::format("primary rate limit{} resets at {}",
                                         response.header("x-ratelimit-resource")
                                             ? " (" + *response.header("x-ratelimit-resource") + ")"
                                             : "",
                                         clock_time(at))};
        }
    }
    const std::string message = github_error_message(response);
    if (response.status == 429 || icontains(message, "rate limit")) {
        const seconds wait = seconds(60) * (1LL << std::min(attempt, 4));
        return RateLimit{wait,
                         icontains(message, "secondary") ? "secondary rate limit"
                                                         : "rate limit, no wait given"};
    }
    return std::nullopt;
}

std::string github_error_message(const HttpResponse& response) {
    std::string out;
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
        out = body["message"].get<std::string>();
        if (body.contains("errors") && body["errors"].is_array()) {
            for (const nlohmann::json& error : body["errors"]) {
                if (error.is_string()) {
                    out += "; " + error.get<std::string>();
                } else if (error.is_object() && error.contains("message")
                           && error["message"].is_string()) {
                    out += "; " + error["message"].get<std::string>();
                } else if (error.is_object() && error.contains("code")
                           && error["code"].is_string()) {
                    const Json field = error.value("field", Json(""));
                    out += fmt::format("; {} {}",
                                       field.is_string() ? field.get<std::string>() : "",
                                       error["code"].get<std::string>());
                }
            }
        }
    } else {
        out = response.body.empty() ? response.reason : response.body;
    }
    // One line, printable, bounded: the body may be anything a proxy sent.
    std::string clean;
    for (const char c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            if (!clean.empty() && clean.back() != ' ') {
                clean += ' ';
            }
        } else {
            clean += c;
        }
    }
    if (clean.size() > k_max_message) {
        clean.resize(k_max_message);
        clean += "...";
    }
    return clean.empty() ? "no message" : clean;
}

GitHubApi::GitHubApi(HttpClient& http, std::string_view api_url, GitHubWaits waits)
    : m_http(http), m_base(api_url), m_waits(std::move(waits)) {
    while (m_base.ends_with('/')) {
        m_base.pop_back();
    }
    if (!m_base.starts_with("https://") && !m_base.starts_with("http://")) {
        throw Error(fmt::format("API URL '{}' is not an http:// or https:// URL (GitHub: {}, "
                                "Enterprise Server: https://HOST/api/v3)",
                                redact_url(api_url),
                                k_github_api_url),
                    ExitCode::usage);
    }
}

HttpRequest GitHubApi::request(std::string_view method,
                               std::string_view path,
                               std::string_view bearer,
                               std::string body) const {
    HttpRequest request;
    request.method = std::string(method);
    request.url = m_base + std::string(path);
    request.headers = {{"Accept", "application/vnd.github+json"},
                       {"X-GitHub-Api-Version", std::string(k_github_api_version)},
                       {"User-Agent", user_agent()},
                       {"Authorization", fmt::format("Bearer {}", bearer)}};
    if (!body.empty()) {
        request.headers.emplace_back("Content-Type", "application/json");
    }
    request.body = std::move(body);
    request.timeout = m_waits.timeout;
    return request;
}

HttpResponse GitHubApi::send(const HttpRequest& request) {
    const bool conditional = request.method == "GET";
    for (int attempt = 0;; ++attempt) {
        HttpRequest sent = request;
        const auto cached = conditional ? m_etag_cache.find(request.url) : m_etag_cache.end();
        if (cached != m_etag_cache.end()) {
            sent.headers.emplace_back("If-None-Match", *cached->second.header("etag"));
        }
        HttpResponse response = m_http.send(sent);
        if (response.status == 304 && cached != m_etag_cache.end()) {
            return cached->second;
        }
        if (conditional && response.status == 200 && response.header("etag")) {
            m_etag_cache[request.url] = response;
        }
        const std::optional<RateLimit> limit = rate_limit_of(response, m_waits.now(), attempt);
        if (!limit) {
            return response;
        }
        if (attempt >= k_max_rate_limit_retries || m_waited + limit->wait > m_waits.max_wait) {
            throw Error(fmt::format("GitHub is rate limiting {} {} ({}; {}): it asks to wait {} s, "
                                    "beyond the budget of {} s (--max-wait); try again later",
                                    request.method,
                                    redact_url(request.url),
                                    limit->why,
                                    github_error_message(response),
                                    limit->wait.count(),
                                    m_waits.max_wait.count()),
                        ExitCode::unavailable);
        }
        m_waits.notice(fmt::format("rate-limited by GitHub ({}, {}); waiting {} s, then trying "
                                   "again",
                                   response.status,
                                   limit->why,
                                   limit->wait.count()));
        m_waits.sleep(limit->wait);
        m_waited += limit->wait;
    }
}

GitHubAuth::GitHubAuth(GitHubApi& api, GitHubCredentials credentials, nlohmann::json permissions)
    : m_api(api), m_credentials(std::move(credentials)), m_permissions(std::move(permissions)) {}

std::string GitHubAuth::token_for(std::string_view repo) {
    if (!m_credentials.is_app()) {
        return m_credentials.token;
    }
    const std::string key = to_lower_ascii(repo);
    const auto cached = m_tokens.find(key);
    // Installation tokens last an hour: a long run (replay) gets a new one before it expires.
    if (cached != m_tokens.end()
        && cached->second.expires_at - m_api.now() > std::chrono::minutes(5)) {
        return cached->second.token;
    }
    const std::string jwt =
        make_app_jwt(*m_credentials.private_key, m_credentials.app_id, m_api.now());
    const std::uint64_t installation =
        m_credentials.installation_id ? *m_credentials.installation_id : installation_of(repo, jwt);
    InstallationToken token = mint(installation, repo, jwt);
    m_tokens[key] = token;
    return token.token;
}

std::uint64_t GitHubAuth::installation_of(std::string_view repo, const std::string& jwt) {
    const HttpResponse response =
        m_api.send(m_api.request("GET", fmt::format("/repos/{}/installation", repo), jwt));
    if (response.status == 404) {
        throw Error(fmt::format("the GitHub App '{}' is not installed on '{}' (or the repository "
                                "does not exist): install the App on the repository, or finish "
                                "the relay's onboarding for it",
                                m_credentials.app_id,
                                repo),
                    ExitCode::auth);
    }
    if (response.status == 401) {
        throw app_jwt_refused(response, m_credentials, m_api.now());
    }
    if (response.status != 200) {
        throw github_failure(fmt::format("looking up the App's installation on '{}'", repo),
                             response);
    }
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("id") || !body["id"].is_number_unsigned()) {
        throw Error(fmt::format("GitHub's answer to the installation lookup for '{}' has no "
                                "numeric 'id'",
                                repo),
                    ExitCode::unavailable);
    }
    return body["id"].get<std::uint64_t>();
}

GitHubAuth::InstallationToken
GitHubAuth::mint(std::uint64_t installation, std::string_view repo, const std::string& jwt) {
    // Least privilege: a token for this one repository, with only what a dispatch needs.
    const std::string name(repo.substr(repo.find('/') + 1));
    const nlohmann::ordered_json request = {{"repositories", {name}},
                                            {"permissions", m_permissions}};
    const HttpResponse response =
        m_api.send(m_api.request("POST",
                                 fmt::format("/app/installations/{}/access_tokens", installation),
                                 jwt,
                                 request.dump()));
    if (response.status == 401) {
        throw app_jwt_refused(response, m_credentials, m_api.now());
    }
    if (response.status == 404) {
        throw Error(fmt::format("GitHub has no installation {} of App '{}': check "
                                "--installation-id (or leave it out to look it up)",
                                installation,
                                m_credentials.app_id),
                    ExitCode::auth);
    }
    if (response.status == 422) {
        std::vector<std::string> wanted;
        for (const auto& [permission, level] : m_permissions.items()) {
            wanted.push_back(fmt::format("{}: {}", permission, level.get<std::string>()));
        }
        throw Error(fmt::format("GitHub would not issue an installation token for '{}' ({}): the "
                                "App needs the permissions '{}' and installation {} must include "
                                "the repository and have accepted them",
                                repo,
                                github_error_message(response),
                                fmt::join(wanted, ", "),
                                installation),
                    ExitCode::auth);
    }
    if (response.status != 201) {
        throw github_failure(fmt::format("getting an installation token for '{}'", repo), response);
    }
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string()
        || body["token"].get<std::string>().empty()) {
        throw Error("GitHub's installation token answer has no 'token'", ExitCode::unavailable);
    }
    InstallationToken token{body["token"].get<std::string>(), m_api.now() + std::chrono::hours(1)};
    if (body.contains("expires_at") && body["expires_at"].is_string()) {
        try {
            token.expires_at = parse_time(body["expires_at"].get<std::string>());
        } catch (const Error&) {
            // keep the documented hour
        }
    }
    return token;
}

Error app_jwt_refused(const HttpResponse& response,
                      const GitHubCredentials& credentials,
                      system_clock::time_point now) {
    std::string hint = fmt::format(
        "check that App id '{}' belongs to the key in {} and that the key was not deleted",
        credentials.app_id,
        credentials.private_key_source);
    if (const auto date = response.header("date")) {
        if (const auto github_now = parse_http_date(*date)) {
            const auto skew = std::chrono::duration_cast<seconds>(now - *github_now).count();
            if (skew > 30 || skew < -30) {
                hint = fmt::format("this machine's clock is {} s {} GitHub's, and GitHub checks "
                                   "the JWT's iat and exp against its own: set the clock "
                                   "(timedatectl set-ntp true)",
                                   skew > 0 ? skew : -skew,
                                   skew > 0 ? "ahead of" : "behind");
            }
        }
    }
    return Error(fmt::format("GitHub refused the App's JWT ({} {}): {}",
                             response.status,
                             github_error_message(response),
                             hint),
                 ExitCode::auth);
}

Error github_failure(std::string_view what, const HttpResponse& response, std::string_view hint) {
    std::string message = fmt::format(
        "{}: GitHub answered {} ({})", what, response.status, github_error_message(response));
    if (const auto accepted = response.header("x-accepted-github-permissions")) {
        message += fmt::format("; GitHub accepts tokens with: {}", *accepted);
    }
    if (!hint.empty()) {
        message += fmt::format(": {}", hint);
    }
    ExitCode code = ExitCode::failure;
    if (response.status == 401 || response.status == 403) {
        code = ExitCode::auth;
    } else if (response.status >= 500) {
        code = ExitCode::unavailable;
    }
    return Error(message, code);
}

} // namespace crcr
