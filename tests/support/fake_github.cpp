#include "fake_github.hpp"

#include "crcr/jwt.hpp"
#include "crcr/payload.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>

namespace crcr::test {

namespace {

using nlohmann::json;
using std::chrono::system_clock;

constexpr std::string_view k_docs = "https://docs.github.com/rest";

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return text;
}

std::string http_date(system_clock::time_point when) {
    const std::time_t t = system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buffer;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i] == '+' ? ' ' : text[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        const std::size_t eq = part.find('=');
        out[percent_decode(part.substr(0, eq))] =
            eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    return out;
}

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string pem_of(EVP_PKEY* key, bool private_key) {
    const std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (private_key) {
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
        PEM_write_bio_PUBKEY(bio.get(), key);
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

} // namespace

void capture(const std::string& operation, const std::string& body) {
    static std::atomic<int> counter{0};
    const char* dir = std::getenv("CRCR_TEST_CAPTURE_DIR");
    if (dir == nullptr || *dir == '\0') {
        return;
    }
    std::ofstream(fmt::format("{}/{}.{}.json", dir, operation, counter++)) << body;
}

const RsaKeyPair& test_rsa_key() {
    static const RsaKeyPair pair = rsa_key_of(2048);
    return pair;
}

RsaKeyPair rsa_key_of(unsigned bits) {
    const std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_RSA_gen(bits));
    return RsaKeyPair{pem_of(key.get(), true), pem_of(key.get(), false)};
}

std::string test_ec_private_key() {
    const std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
    return pem_of(key.get(), true);
}

FakeGitHub::FakeGitHub(Clock clock, std::string prefix)
    : m_clock(std::move(clock)), m_prefix(std::move(prefix)),
      m_server([this](const RecordedRequest& request) { return handle(request); }) {}

std::string FakeGitHub::url() const {
    return m_server.url(m_prefix);
}

void FakeGitHub::add_repo(const std::string& full_name, FakeRepo repo) {
    const std::lock_guard lock(m_mutex);
    m_repos[lower(full_name)] = std::move(repo);
}

void FakeGitHub::remove_repo(const std::string& full_name) {
    const std::lock_guard lock(m_mutex);
    m_repos.erase(lower(full_name));
}

void FakeGitHub::remove_token(const std::string& token) {
    const std::lock_guard lock(m_mutex);
    m_tokens.erase(token);
}

void FakeGitHub::add_token(const std::string& token, FakeToken token_info) {
    const std::lock_guard lock(m_mutex);
    m_tokens[token] = std::move(token_info);
}

void FakeGitHub::set_app(FakeApp app) {
    const std::lock_guard lock(m_mutex);
    m_app = std::move(app);
}

void FakeGitHub::inject(const std::string& prefix, std::vector<Reply> replies) {
    const std::lock_guard lock(m_mutex);
    m_injected.emplace_back(prefix, std::deque<Reply>(replies.begin(), replies.end()));
}

void FakeGitHub::inject_after_handling(const std::string& prefix, Reply reply) {
    const std::lock_guard lock(m_mutex);
    m_injected_after.emplace_back(prefix, std::move(reply));
}

void FakeGitHub::set_clock_offset(std::chrono::seconds offset) {
    const std::lock_guard lock(m_mutex);
    m_offset = offset;
}

std::vector<std::string> FakeGitHub::calls() const {
    std::vector<std::string> out;
    for (const RecordedRequest& request : m_server.requests()) {
        std::string path = request.target.substr(0, request.target.find('?'));
        if (path.starts_with(m_prefix)) {
            path.erase(0, m_prefix.size());
        }
        out.push_back(request.method + " " + path);
    }
    return out;
}

std::vector<std::string> FakeGitHub::problems() const {
    const std::lock_guard lock(m_mutex);
    return m_problems;
}

std::vector<std::string> FakeGitHub::dispatches() const {
    const std::lock_guard lock(m_mutex);
    return m_dispatches;
}

system_clock::time_point FakeGitHub::now() const {
    return m_clock() + m_offset;
}

Reply FakeGitHub::json_reply(int status, const std::string& body) const {
    Reply reply;
    reply.status = status;
    reply.reason = status == 200 ? "OK" : status == 201 ? "Created" : "Error";
    reply.headers = {{"Content-Type", "application/json; charset=utf-8"},
                     {"Date", http_date(now())},
                     {"X-GitHub-Api-Version-Selected", "2022-11-28"},
                     {"x-ratelimit-limit", "5000"},
                     {"x-ratelimit-remaining", "4999"},
                     {"x-ratelimit-resource", "core"}};
    reply.body = body;
    return reply;
}

Reply FakeGitHub::error_reply(int status,
                              const std::string& message,
                              const std::string& docs) const {
    return json_reply(status,
                      json{{"message", message},
                           {"documentation_url", docs.empty() ? std::string(k_docs) : docs},
                           {"status", std::to_string(status)}}
                          .dump());
}

Reply FakeGitHub::handle(const RecordedRequest& request) {
    const std::lock_guard lock(m_mutex);
    std::string path = request.target.substr(0, request.target.find('?'));
    if (!path.starts_with(m_prefix)) {
        m_problems.push_back("request outside the API prefix: " + request.target);
        return error_reply(404, "Not Found");
    }
    path.erase(0, m_prefix.size());
    const std::string call = request.method + " " + path;
    for (auto& [prefix, replies] : m_injected) {
        if (call.starts_with(prefix) && !replies.empty()) {
            Reply reply = replies.front();
            replies.pop_front();
            reply.headers.emplace_back("Date", http_date(now()));
            return reply;
        }
    }
    if (request.header("Accept") != "application/vnd.github+json") {
        m_problems.push_back(call + ": Accept is not application/vnd.github+json");
    }
    if (request.header("X-GitHub-Api-Version") != "2022-11-28") {
        m_problems.push_back(call + ": X-GitHub-Api-Version is not 2022-11-28");
    }
    if (!request.header("User-Agent")) {
        return error_reply(403,
                           "Request forbidden by administrative rules. Please make sure your "
                           "request has a User-Agent header");
    }
    if (request.method == "POST" && !request.body.empty()
        && request.header("Content-Type") != "application/json") {
        m_problems.push_back(call + ": Content-Type is not application/json");
    }
    Reply handled = route(request, path);
    for (auto it = m_injected_after.begin(); it != m_injected_after.end(); ++it) {
        if (call.starts_with(it->first)) {
            handled = it->second;
            handled.headers.emplace_back("Date", http_date(now()));
            m_injected_after.erase(it);
            break;
        }
    }
    return handled;
}

Reply FakeGitHub::route(const RecordedRequest& request, const std::string& path) {
    std::vector<std::string> parts;
    for (std::size_t start = 1; start <= path.size();) {
        const std::size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash - start));
        start = slash == std::string::npos ? path.size() + 1 : slash + 1;
    }
    const std::string query = request.target.find('?') == std::string::npos
                                  ? ""
                                  : request.target.substr(request.target.find('?') + 1);
    if (auto reply = route_repo_data(request, parts, query)) {
        return *reply;
    }
    if (auto answered = route_deliveries(request, parts, query)) {
        return *answered;
    }
    if (parts.size() >= 3 && parts[0] == "repos") {
        const std::string repo = lower(parts[1] + "/" + parts[2]);
        if (parts.size() == 4 && parts[3] == "installation" && request.method == "GET") {
            if (auto refused = check_jwt(request)) {
                return *refused;
            }
            const auto found = m_repos.find(repo);
            if (found == m_repos.end() || found->second.installation_id == 0) {
                return error_reply(404, "Not Found");
            }
            return json_reply(200,
                              json{{"id", found->second.installation_id},
                                   {"app_id", m_app->id},
                                   {"target_type", "Organization"},
                                   {"account", {{"login", parts[1]}}}}
                                  .dump());
        }
        if (parts.size() == 4 && parts[3] == "dispatches" && request.method == "POST") {
            return dispatch(request, repo);
        }
        if (parts.size() == 3 && request.method == "GET") {
            const FakeToken* token = token_of(request);
            if (token == nullptr) {
                return error_reply(401, "Bad credentials");
            }
            if (!visible(*token, repo)) {
                return error_reply(404, "Not Found");
            }
            return json_reply(200,
                              json{{"full_name", parts[1] + "/" + parts[2]},
                                   {"private", m_repos[repo].is_private},
                                   {"permissions",
                                    {{"admin", false},
                                     {"maintain", false},
                                     {"push", token->can_push},
                                     {"triage", false},
                                     {"pull", true}}}}
                                  .dump());
        }
        if (parts.size() == 5 && parts[3] == "actions" && parts[4] == "runs"
            && request.method == "GET") {
            return runs_list(request, repo, query);
        }
    }
    if (parts.size() == 4 && parts[0] == "app" && parts[1] == "installations"
        && parts[3] == "access_tokens" && request.method == "POST") {
        if (auto refused = check_jwt(request)) {
            return *refused;
        }
        capture("apps--create-installation-access-token", request.body);
        const std::uint64_t installation = std::stoull(parts[2]);
        std::vector<std::string> installed;
        for (const auto& [name, repo] : m_repos) {
            if (repo.installation_id == installation) {
                installed.push_back(name);
            }
        }
        if (installed.empty()) {
            return error_reply(404, "Not Found");
        }
        const json body = json::parse(request.body, nullptr, false);
        if (!body.is_object()) {
            return error_reply(400, "Problems parsing JSON");
        }
        FakeToken minted{.can_push = false, .can_read_actions = false, .all_repos = false};
        const json permissions = body.value("permissions", json::object());
        const json repositories = body.value("repositories", json::array());
        for (const auto& [permission, level] : permissions.items()) {
            if (m_app->permissions.count(permission + ":" + level.get<std::string>()) == 0) {
                return error_reply(422,
                                   "The permissions requested are not granted to this "
                                   "installation.");
            }
            minted.can_push = minted.can_push || (permission == "contents" && level == "write");
            minted.can_read_actions = minted.can_read_actions || permission == "actions";
        }
        for (const json& name : repositories) {
            const auto match = std::find_if(installed.begin(), installed.end(), [&](auto& full) {
                return full.substr(full.find('/') + 1) == lower(name.get<std::string>());
            });
            if (match == installed.end()) {
                return error_reply(422,
                                   "There is at least one repository that does not exist or is "
                                   "not accessible to the parent installation.");
            }
            minted.repos.insert(*match);
        }
        const std::string token = fmt::format("ghs_fake{}", m_next_id++);
        m_tokens[token] = minted;
        return json_reply(201,
                          json{{"token", token},
                               {"expires_at", iso8601(now() + std::chrono::hours(1))},
                               {"permissions", permissions},
                               {"repository_selection", "selected"}}
                              .dump());
    }
    return error_reply(404, "Not Found");
}

std::optional<Reply> FakeGitHub::check_jwt(const RecordedRequest& request) {
    const std::string authorization = request.header("Authorization").value_or("");
    if (!m_app || !authorization.starts_with("Bearer ")) {
        return error_reply(401, "A JSON web token could not be decoded");
    }
    DecodedJwt jwt;
    try {
        jwt = decode_jwt(authorization.substr(7));
    } catch (const std::exception&) {
        return error_reply(401, "A JSON web token could not be decoded");
    }
    bool verified = false;
    try {
        verified = jwt.header.value("alg", "") == "RS256"
                   && RsaPublicKey::from_pem(m_app->public_key_pem, "the App's key")
                          .verify_rs256(jwt.signing_input, jwt.signature);
    } catch (const std::exception&) {
        verified = false; // an App whose registered key is not this one
    }
    if (!verified) {
        return error_reply(401, "A JSON web token could not be decoded");
    }
    if (!jwt.claims.contains("iat") || !jwt.claims["iat"].is_number_integer()
        || !jwt.claims.contains("exp") || !jwt.claims["exp"].is_number_integer()) {
        m_problems.push_back("JWT without integer iat and exp");
        return error_reply(401, "A JSON web token could not be decoded");
    }
    if (jwt.claims.value("iss", json()).dump() != json(m_app->id).dump()) {
        return error_reply(401, "'Issuer' claim ('iss') must be an Integer");
    }
    const auto iat = jwt.claims["iat"].get<long long>();
    const auto exp = jwt.claims["exp"].get<long long>();
    const auto github_now =
        std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
    if (exp - iat > 660) {
        m_problems.push_back(
            fmt::format("JWT lifetime {} s is longer than GitHub allows", exp - iat));
    }
    if (iat > github_now) {
        return error_reply(401,
                           "'Issued at' claim ('iat') must be an Integer representing the time "
                           "that the assertion was issued");
    }
    if (exp <= github_now) {
        return error_reply(401,
                           "'Expiration time' claim ('exp') must be a numeric value representing "
                           "the future time at which the assertion expires");
    }
    if (exp > github_now + 600) {
        return error_reply(401, "'Expiration time' claim ('exp') is too far in the future");
    }
    return std::nullopt;
}

const FakeToken* FakeGitHub::token_of(const RecordedRequest& request) const {
    const std::string authorization = request.header("Authorization").value_or("");
    if (!authorization.starts_with("Bearer ")) {
        return nullptr;
    }
    const auto found = m_tokens.find(authorization.substr(7));
    return found == m_tokens.end() ? nullptr : &found->second;
}

bool FakeGitHub::visible(const FakeToken& token, const std::string& repo) const {
    const auto found = m_repos.find(repo);
    if (found == m_repos.end()) {
        return false;
    }
    return !found->second.is_private || token.all_repos || token.repos.count(repo) != 0;
}

Reply FakeGitHub::dispatch(const RecordedRequest& request, const std::string& repo) {
    const FakeToken* token = token_of(request);
    if (token == nullptr) {
        return error_reply(401, "Bad credentials");
    }
    if (!visible(*token, repo) || (!token->all_repos && token->repos.count(repo) == 0)) {
        return error_reply(404, "Not Found");
    }
    if (!token->can_push) {
        if (!token->classic_scopes.empty()) {
            return error_reply(404, "Not Found"); // classic tokens without `repo` see a 404
        }
        Reply reply = error_reply(403, "Resource not accessible by personal access token");
        reply.headers.emplace_back("x-accepted-github-permissions", "contents=write");
        return reply;
    }
    capture("repos--create-dispatch-event", request.body);
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
        return error_reply(400, "Problems parsing JSON");
    }
    if (!body.contains("event_type") || !body["event_type"].is_string()) {
        return error_reply(422, "Invalid request.\n\n\"event_type\" wasn't supplied.");
    }
    const std::string event_type = body["event_type"];
    if (event_type.empty() || event_type.size() > 100) {
        return error_reply(422, "event_type must be between 1 and 100 characters");
    }
    const json client_payload = body.value("client_payload", json::object());
    if (!client_payload.is_object()) {
        return error_reply(422,
                           fmt::format("Invalid request.\n\nFor 'properties/client_payload', {} "
                                       "is not an object.",
                                       client_payload.dump()));
    }
    if (client_payload.size() > 10) {
        return error_reply(422,
                           fmt::format("No more than 10 properties are allowed; {} were supplied.",
                                       client_payload.size()));
    }
    if (client_payload.dump().size() >= 65'536) {
        return error_reply(422, "client_payload is too large.");
    }
    // The relay contract, beyond GitHub's own rules.
    if (client_payload.value("event_type", "") != event_type
        || !client_payload.value("delivery_id", json()).is_string()
        || !client_payload.value("payload", json()).is_object() || client_payload.size() != 3) {
        m_problems.push_back("client_payload is not {event_type, delivery_id, payload}: "
                             + client_payload.dump().substr(0, 200));
    }
    m_dispatches.push_back(request.body);
    const FakeRepo& target = m_repos[repo];
    if (target.workflow_listens) {
        const std::string delivery = client_payload.value("delivery_id", "");
        for (int i = 0; i < target.runs_per_dispatch; ++i) {
            std::string title = target.run_title.empty() ? target.run_name : target.run_title;
            if (const std::size_t at = title.find("{delivery}"); at != std::string::npos) {
                title.replace(at, 10, delivery);
            }
            m_runs.push_back(Run{m_next_id++,
                                 repo,
                                 target.run_name + (i > 0 ? fmt::format(" {}", i + 1) : ""),
                                 title,
                                 now()});
        }
    }
    Reply reply = json_reply(204, "");
    reply.reason = "No Content";
    return reply;
}

Reply FakeGitHub::runs_list(const RecordedRequest& request,
                            const std::string& repo,
                            std::string_view query) {
    const FakeToken* token = token_of(request);
    if (token == nullptr) {
        return error_reply(401, "Bad credentials");
    }
    if (!visible(*token, repo)) {
        return error_reply(404, "Not Found");
    }
    if (!token->can_read_actions && m_repos[repo].is_private) {
        Reply reply = error_reply(403, "Resource not accessible by integration");
        reply.headers.emplace_back("x-accepted-github-permissions", "actions=read");
        return reply;
    }
    const auto params = parse_query(query);
    capture("actions--list-workflow-runs-for-repo", json(params).dump());
    if (params.count("event") == 0 || params.at("event") != "repository_dispatch") {
        m_problems.push_back("runs list without event=repository_dispatch");
    }
    std::optional<system_clock::time_point> since;
    if (params.count("created") != 0) {
        const std::string created = params.at("created");
        if (!created.starts_with(">=")) {
            m_problems.push_back("runs list created filter is not >=: " + created);
        } else {
            since = parse_time(created.substr(2));
        }
    }
    const FakeRepo& config = m_repos[repo];
    json runs = json::array();
    for (auto it = m_runs.rbegin(); it != m_runs.rend(); ++it) { // newest first, as GitHub
        Run& run = *it;
        if (run.repo != repo || (since && run.created_at < *since)) {
            continue;
        }
        const std::string status = config.statuses[std::min(run.polls, config.statuses.size() - 1)];
        ++run.polls;
        const auto [owner, name] =
            std::make_pair(repo.substr(0, repo.find('/')), repo.substr(repo.find('/') + 1));
        runs.push_back(
            {{"id", run.id},
             {"name", run.name},
             {"display_title", run.title},
             {"event", "repository_dispatch"},
             {"status", status},
             {"conclusion", status == "completed" ? json(config.conclusion) : json()},
             {"html_url",
              fmt::format("https://github.com/{}/{}/actions/runs/{}", owner, name, run.id)},
             {"created_at", iso8601(run.created_at)}});
    }
    const std::string body = json{{"total_count", runs.size()}, {"workflow_runs", runs}}.dump();
    const std::string etag = fmt::format("W/\"{:x}\"", std::hash<std::string>()(body));
    if (request.header("If-None-Match") == etag) {
        Reply reply = json_reply(304, "");
        reply.reason = "Not Modified";
        reply.headers.emplace_back("ETag", etag);
        return reply;
    }
    Reply reply = json_reply(200, body);
    reply.headers.emplace_back("ETag", etag);
    return reply;
}

} // namespace crcr::test
