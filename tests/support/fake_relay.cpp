#include "fake_relay.hpp"

#include "fake_github.hpp"

#include "crcr/jwt.hpp"

#include <fmt/format.h>

namespace crcr::test {

namespace {

using nlohmann::json;

Reply detail(int status, const std::string& text) {
    return Reply{.status = status,
                 .reason = "X",
                 .headers = {{"Content-Type", "application/json"}},
                 .body = json{{"detail", text}}.dump()};
}

bool is_number(const json& value) {
    if (value.is_number_integer()) {
        return true;
    }
    if (!value.is_string()) {
        return false;
    }
    const std::string text = value.get<std::string>();
    return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

std::string make_test_jwt(const json& claims) {
    const RsaPrivateKey key(test_rsa_key().private_pem, "test key");
    return make_rs256_jwt(key, "test", claims);
}

json actions_claims(const std::string& repository,
                    std::chrono::system_clock::time_point now,
                    const std::string& audience) {
    const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    return json{{"iss", "https://token.actions.githubusercontent.com"},
                {"aud", audience},
                {"sub", fmt::format("repo:{}:ref:refs/heads/main", repository)},
                {"repository", repository},
                {"repository_owner", repository.substr(0, repository.find('/'))},
                {"run_id", "123"},
                {"iat", t},
                {"nbf", t},
                {"exp", t + 300}};
}

FakeRelay::FakeRelay(Clock clock, int rate_limit)
    : m_clock(std::move(clock)), m_rate_limit(rate_limit),
      m_server([this](const RecordedRequest& request) { return handle(request); }) {}

std::string FakeRelay::callback_url() const {
    return m_server.url("/github/callback");
}

std::string FakeRelay::token_request_url() const {
    return m_server.url("/_apis/oidc/token?api-version=2.0");
}

void FakeRelay::set_actions(const std::string& request_token, const std::string& repository) {
    const std::lock_guard lock(m_mutex);
    m_request_token = request_token;
    m_actions_repository = repository;
}

void FakeRelay::set_level(const std::string& repo, int level) {
    const std::lock_guard lock(m_mutex);
    m_levels[repo] = level;
}

void FakeRelay::add_dispatch(const std::string& delivery_id, const std::string& repo) {
    const std::lock_guard lock(m_mutex);
    m_dispatches.emplace(delivery_id, repo);
}

void FakeRelay::inject(std::vector<Injection> injections) {
    const std::lock_guard lock(m_mutex);
    m_injected.insert(m_injected.end(), injections.begin(), injections.end());
}

std::vector<json> FakeRelay::accepted() const {
    const std::lock_guard lock(m_mutex);
    return m_accepted;
}

int FakeRelay::callback_requests() const {
    int n = 0;
    for (const RecordedRequest& request : m_server.requests()) {
        n += request.target == "/github/callback" ? 1 : 0;
    }
    return n;
}

Reply FakeRelay::handle(const RecordedRequest& request) {
    const std::lock_guard lock(m_mutex);
    if (request.target.starts_with("/_apis/oidc/token")) {
        return token(request);
    }
    if (request.target != "/github/callback") {
        return detail(404, "Not Found");
    }
    if (request.method != "POST") {
        return detail(405, "Method Not Allowed");
    }
    std::optional<Injection> injected;
    if (!m_injected.empty()) {
        injected = m_injected.front();
        m_injected.pop_front();
        if (!injected->record_first) {
            return injected->reply;
        }
    }
    // The relay's order: JSON first, then the token, then the rate limit, then the body.
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
        return detail(400, "Invalid JSON");
    }
    std::string token = request.header("Authorization").value_or("");
    if (token.starts_with("Bearer ")) {
        token.erase(0, 7);
    }
    if (token.empty()) {
        return detail(401, "Missing authorization token");
    }
    std::string repo;
    try {
        const DecodedJwt jwt = decode_jwt(token);
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(m_clock().time_since_epoch()).count();
        if (!RsaPublicKey::from_pem(test_rsa_key().public_pem, "test key")
                 .verify_rs256(jwt.signing_input, jwt.signature)
            || jwt.claims.value("aud", "") != "pytorch-cross-repo-ci-relay"
            || jwt.claims.value("exp", 0LL) <= now || !jwt.claims.contains("repository")) {
            return detail(401, "Invalid authorization token");
        }
        repo = jwt.claims["repository"].get<std::string>();
    } catch (const std::exception&) {
        return detail(401, "Invalid authorization token");
    }
    // Sliding 60 s window over every authenticated request, rejected ones and 429s included.
    auto& window = m_windows[repo];
    const auto now = m_clock();
    while (!window.empty() && now - window.front() >= std::chrono::seconds(60)) {
        window.pop_front();
    }
    window.push_back(now);
    if (static_cast<int>(window.size()) > m_rate_limit) {
        return detail(429, "rate limit exceeded for " + repo);
    }
    Reply reply = callback(request, repo, body);
    if (injected) {
        return injected->reply; // recorded, then the connection dropped or HUD failed
    }
    return reply;
}

Reply FakeRelay::callback(const RecordedRequest& /*request*/,
                          const std::string& repo,
                          const json& body) {
    if (!body.is_object()) {
        return detail(500, "Internal server error");
    }
    const int level = m_levels.count(repo) != 0 ? m_levels[repo] : 0;
    if (level < 2) {
        return Reply{.status = 200, .body = R"({"ok":true,"status":"ignored"})"};
    }
    const json workflow = body.value("workflow", json::object());
    for (const auto& [field, present] : {std::pair{"delivery_id", body.contains("delivery_id")},
                                         std::pair{"workflow.status", workflow.contains("status")},
                                         std::pair{"workflow.run_id", workflow.contains("run_id")},
                                         std::pair{"workflow.name", workflow.contains("name")}}) {
        if (!present) {
            return detail(400, fmt::format("callback body missing required field: {}", field));
        }
    }
    if (!is_number(workflow["run_id"]) || !is_number(workflow.value("run_attempt", json("1")))) {
        return detail(500, "Internal server error");
    }
    const std::string status = workflow.value("status", "");
    if (status != "in_progress" && status != "completed") {
        return detail(400, "unknown callback status: " + status);
    }
    for (const char* hud_field : {"job_name", "check_run_id"}) {
        if (!workflow.contains(hud_field) || workflow[hud_field].is_null()) {
            return detail(
                400, fmt::format("callback body missing required field: workflow.{}", hud_field));
        }
    }
    const std::string event_type = body.value("event_type", "");
    if (event_type == "nightly" || event_type == "periodic") {
        m_accepted.push_back(body);
        return Reply{.status = 200, .body = json{{"ok", true}, {"status", status}}.dump()};
    }
    const std::string delivery = body["delivery_id"].get<std::string>();
    if (m_dispatches.count({delivery, repo}) == 0) {
        return detail(400, "callback rejected: no matching dispatch record");
    }
    const std::string key = fmt::format("{}|{}|{}|{}|{}",
                                        delivery,
                                        repo,
                                        workflow["run_id"].dump(),
                                        workflow.value("run_attempt", json()).dump(),
                                        workflow["job_name"].dump());
    const std::string from = m_states.count(key) != 0 ? m_states[key] : "DISPATCHED";
    const std::string to = status == "in_progress" ? "IN_PROGRESS" : "COMPLETED";
    if (!((from == "DISPATCHED" && to == "IN_PROGRESS")
          || (from == "IN_PROGRESS" && to == "COMPLETED"))) {
        return detail(
            400,
            fmt::format("callback rejected: invalid state transition from {} to {}", from, to));
    }
    m_states[key] = to;
    m_accepted.push_back(body);
    return Reply{.status = 200, .body = json{{"ok", true}, {"status", status}}.dump()};
}

Reply FakeRelay::token(const RecordedRequest& request) {
    if (request.header("Authorization") != "Bearer " + m_request_token || m_request_token.empty()) {
        return Reply{.status = 401, .reason = "Unauthorized", .body = R"({"message":"Bad token"})"};
    }
    const std::size_t at = request.target.find("audience=");
    const std::string audience = at == std::string::npos ? "" : request.target.substr(at + 9);
    if (request.target.find("api-version=2.0") == std::string::npos) {
        return Reply{.status = 400, .body = R"({"message":"api-version missing"})"};
    }
    return Reply{
        .status = 200,
        .body = json{{"count", 1},
                     {"value",
                      make_test_jwt(actions_claims(m_actions_repository, m_clock(), audience))}}
                    .dump()};
}

} // namespace crcr::test
