#pragma once

// A fake of the relay's callback endpoint on 127.0.0.1, doing what the production relay does
// with a callback (relay-contract section 6): invalid JSON refused before the token; the bearer
// OIDC token verified (RS256 against the test key, audience, expiry; identity from its
// `repository` claim); below L2 ignored; required fields; a 500 for a body that is an array or a
// run id that is not a number; the DISPATCHED -> IN_PROGRESS -> COMPLETED state machine per
// (delivery id, repo, run id, attempt, job name); a per-repo sliding 60 s rate limit counting
// every authenticated request. It can be told to answer 500/503, hang, or drop the connection,
// before or after recording the callback. It also serves a fake Actions OIDC token endpoint.

#include "test_server.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
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
    Reply
    callback(const RecordedRequest& request, const std::string& repo, const nlohmann::json& body);
    Reply token(const RecordedRequest& request);

    Clock m_clock;
    int m_rate_limit;
    mutable std::mutex m_mutex;
    std::string m_request_token;
    std::string m_actions_repository;
    std::map<std::string, int> m_levels;
    std::set<std::pair<std::string, std::string>> m_dispatches;
    std::map<std::string, std::string> m_states; // key -> IN_PROGRESS | COMPLETED
    std::map<std::string, std::deque<std::chrono::system_clock::time_point>> m_windows;
    std::deque<Injection> m_injected;
    std::vector<nlohmann::json> m_accepted;
    TestServer m_server; // last: it calls back into the members above
};

} // namespace crcr::test
