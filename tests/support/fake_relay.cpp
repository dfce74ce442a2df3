#include "fake_relay.hpp"

#include "fake_github.hpp"

#include "crcr/jwt.hpp"

#include <fmt/format.h>

namespace crcr::test {

namespace {

using nlohmann::json;

Jwks test_jwks() {
    const RsaPrivateKey key(test_rsa_key().private_pem, "test key");
    return Jwks::parse(json{{"keys", json::array({key.public_jwk("test")})}}.dump(), "test");
}

Reply detail(int status, const std::string& text) {
    return Reply{.status = status,
                 .reason = "X",
                 .headers = {{"Content-Type", "application/json"}},
                 .body = json{{"detail", text}}.dump()};
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
    : m_clock(std::move(clock)),
      m_relay(
          RelaySettings{.rate_limit = rate_limit},
          Allowlist{},
          test_jwks(),
          m_store,
          [](const std::string&, const Json&) { return DispatchResult{}; },
          m_clock,
          [](const LogEntry&) {}),
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
    Allowlist allowlist;
    for (const auto& [name, number] : m_levels) {
        allowlist.entries.push_back(AllowlistEntry{
            .repo = name, .device = number == 3 ? "npu" : "", .level = static_cast<Level>(number)});
    }
    m_relay.set_allowlist(std::move(allowlist));
}

void FakeRelay::add_dispatch(const std::string& delivery_id, const std::string& repo) {
    m_store.advance(
        StateKey{.delivery_id = delivery_id, .repo = repo},
        std::nullopt,
        StateRecord{.state = "DISPATCHED",
                    .at = std::chrono::duration<double>(m_clock().time_since_epoch()).count()});
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
    const RelayAnswer answer =
        m_relay.callback(request.header("Authorization").value_or(""), request.body);
    if (answer.status == 200 && answer.body.value("status", "") != "ignored") {
        m_accepted.push_back(json::parse(request.body));
    }
    if (injected) {
        return injected->reply; // recorded, then the connection dropped or HUD failed
    }
    return Reply{.status = answer.status,
                 .headers = {{"Content-Type", "application/json"}},
                 .body = answer.body.dump()};
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
