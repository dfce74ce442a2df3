#pragma once

// The relay's callback endpoint on 127.0.0.1 for `crcr callback`'s tests: the relay emulator's
// own decisions (crcr::Relay, over an in-memory state, tokens checked against the test key),
// with what a test needs around them: levels and dispatch records set directly, and answers
// injected instead of (or after) handling a callback: 500/503, a hang, a dropped connection. It
// also serves a fake Actions OIDC token endpoint.

#include "test_server.hpp"

#include "crcr/relay.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace crcr::test {

// An RS256 JWT signed with test_rsa_key() carrying `claims`.
std::string make_test_jwt(const nlohmann::json& claims);

// GitHub Actions OIDC claims for `repository`, valid from `now` for 5 minutes.
nlohmann::json actions_claims(const std::string& repository,
                              std::chrono::system_clock::time_point now,
                              const std::string& audience = "pytorch-cross-repo-ci-relay");

class FakeRelay {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    // What to do with the next callback instead of (or after) handling it.
    struct Injection {
        Reply reply;
        bool record_first = false; // handle the callback (state saved), then answer `reply`
    };

    explicit FakeRelay(Clock clock, int rate_limit = 100);

    // http://127.0.0.1:<port>/github/callback
    std::string callback_url() const;
    // The fake Actions token endpoint, as ACTIONS_ID_TOKEN_REQUEST_URL holds it.
    std::string token_request_url() const;
    // The request token the token endpoint accepts; the repository its tokens name.
    void set_actions(const std::string& request_token, const std::string& repository);

    void set_level(const std::string& repo, int level);
    void add_dispatch(const std::string& delivery_id, const std::string& repo);
    void inject(std::vector<Injection> injections);

    // Callbacks the relay accepted (state recorded), as sent.
    std::vector<nlohmann::json> accepted() const;
    // Every request received, the token endpoint's included.
    std::vector<RecordedRequest> requests() const { return m_server.requests(); }
    // Requests to the callback endpoint.
    int callback_requests() const;

private:
    Reply handle(const RecordedRequest& request);
    Reply token(const RecordedRequest& request);

    Clock m_clock;
    mutable std::mutex m_mutex;
    std::string m_request_token;
    std::string m_actions_repository;
    std::map<std::string, int> m_levels;
    std::deque<Injection> m_injected;
    std::vector<nlohmann::json> m_accepted;
    RelayStore m_store{":memory:"};
    Relay m_relay;
    TestServer m_server; // last: it calls back into the members above
};

} // namespace crcr::test
