#pragma once

// A fake GitHub REST API on 127.0.0.1 for the commands that call GitHub: repositories, tokens
// with permissions, a GitHub App (JWTs verified with its public key, claims checked against the
// fake's clock), installations and installation tokens, repository dispatches that start workflow
// runs, and the runs list with ETags. It answers with GitHub's status codes, headers and error
// bodies, and records as a problem anything crcr sends that GitHub would not take or that breaks
// the relay contract (a missing header, a body that is not JSON, a JWT with bad claims).

#include "test_server.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace crcr::test {

struct FakeRepo {
    bool is_private = false;
    std::uint64_t installation_id = 0; // the App's installation; 0: the App is not installed
    bool workflow_listens = true;      // a dispatch starts a run
    // The run's status at each poll of the runs list; the last one stays.
    std::vector<std::string> statuses = {"queued", "in_progress", "completed"};
    std::string conclusion = "success";
    std::string run_name = "PyTorch CI"; // the workflow's name
    std::string run_title;               // display_title; "{delivery}" is replaced; default: name
    int runs_per_dispatch = 1;           // workflows listening to the dispatch
};

struct FakeToken {
    bool can_push = true;
    bool can_read_actions = true;
    bool all_repos = true;       // sees every repository, private ones included
    std::set<std::string> repos; // otherwise only these (and public ones)
    std::string classic_scopes;  // a classic token (X-OAuth-Scopes) when not empty
};

struct FakeApp {
    std::string id;
    std::string public_key_pem;
    std::set<std::string> permissions = {"contents:write", "actions:read", "metadata:read"};
    std::string slug = "pytorch-fdn-cross-repo-ci-relay";
};

// What `crcr doctor` reads of a repository (tests/support/fake_github_doctor.cpp): its metadata,
// files by branch, workflows, Actions' settings. Served without a token when it is public.
struct FakeRepoData {
    std::string full_name; // GitHub's canonical case
    std::string default_branch = "main";
    std::string owner_type = "Organization";
    std::chrono::seconds pushed_ago{3600}; // the last push, before the fake's clock
    std::map<std::string, std::map<std::string, std::string>> files; // branch -> path -> text
    std::set<std::string> disabled_workflows;                        // paths
    bool actions_enabled = true;
    std::set<std::string> admin_tokens; // may read Actions' settings; empty: any token
};

// An organization: the Apps installed on it, and the tokens of its owners (who may list them).
struct FakeOrg {
    std::vector<std::string> app_slugs;
    std::set<std::string> owner_tokens;
};

// One webhook delivery attempt in a hook's log (GitHub's "webhook delivery").
struct FakeDelivery {
    std::uint64_t id = 0; // 0: the fake numbers it
    std::string guid;
    std::chrono::system_clock::time_point delivered_at;
    bool redelivery = false;
    double duration = 0.2;
    std::string status = "OK";
    int status_code = 200;
    std::string event = "pull_request";
    std::string action = "opened";
    std::string payload = "{}";                  // the request's JSON body
    std::string response_body = "{\"ok\":true}"; // the relay's answer
};

// A hook's delivery log: "app", "repos/OWNER/NAME/hooks/ID" or "orgs/ORG/hooks/ID".
struct FakeHook {
    std::vector<FakeDelivery> deliveries;
    std::set<std::string> tokens; // tokens allowed to read it (repo and org hooks); empty: any
    // What a redelivery records: the relay's answer to it.
    std::string redelivery_status = "OK";
    int redelivery_code = 200;
};

class FakeGitHub {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    // `prefix` is the API's path ("" for api.github.com, "/api/v3" for Enterprise Server).
    explicit FakeGitHub(Clock clock, std::string prefix = "");

    // The API base URL crcr should use.
    std::string url() const;

    void add_repo(const std::string& full_name, FakeRepo repo = {});
    void add_token(const std::string& token, FakeToken token_info = {});
    void remove_repo(const std::string& full_name);
    void remove_token(const std::string& token);
    void set_app(FakeApp app);
    // The next requests whose "METHOD /path" (without the prefix and query) starts with
    // `prefix` get these answers, in order, instead of the fake's own.
    void inject(const std::string& prefix, std::vector<Reply> replies);
    // The next request starting with `prefix` is handled as usual (a dispatch starts its runs),
    // and then answered with `reply`: GitHub took it but said otherwise (a 502 from its edge).
    void inject_after_handling(const std::string& prefix, Reply reply);
    // Webhook delivery logs (tests/support/fake_github_deliveries.cpp), listed at most
    // `page_size` a page.
    void add_hook(const std::string& name, FakeHook hook, std::size_t page_size = 100);
    // The delivery ids GitHub was asked to redeliver (and did), in order.
    std::vector<std::uint64_t> redelivered() const;
    // Moves the fake's clock (GitHub's) relative to the test's.
    void set_clock_offset(std::chrono::seconds offset);
    // For `crcr doctor` (fake_github_doctor.cpp): a repository's data (adds the repository), an
    // organization, a user, a past repository_dispatch run, and a problem for any request that
    // is not a GET.
    void set_repo_data(FakeRepoData data, bool is_private = false);
    void set_org(const std::string& login, FakeOrg org);
    void add_user(const std::string& login);
    void add_run(const std::string& repo, std::chrono::system_clock::time_point created_at);
    void expect_read_only();

    std::vector<RecordedRequest> requests() const { return m_server.requests(); }
    // How many TCP connections crcr opened to it so far.
    int connections() const { return m_server.connections(); }
    // "METHOD /path" of every request, prefix and query removed.
    std::vector<std::string> calls() const;
    // What crcr sent that GitHub or the contract would not accept; empty when all was right.
    std::vector<std::string> problems() const;
    // Dispatch bodies GitHub accepted.
    std::vector<std::string> dispatches() const;

private:
    struct Run {
        std::uint64_t id;
        std::string repo;
        std::string name;
        std::string title;
        std::chrono::system_clock::time_point created_at;
        std::size_t polls = 0;
    };
    Reply handle(const RecordedRequest& request);
    Reply route(const RecordedRequest& request, const std::string& path);
    std::optional<Reply> route_repo_data(const RecordedRequest& request,
                                         const std::vector<std::string>& parts,
                                         const std::string& query);
    Reply json_reply(int status, const std::string& body) const;
    Reply error_reply(int status, const std::string& message, const std::string& docs = "") const;
    std::optional<Reply> check_jwt(const RecordedRequest& request);
    Reply dispatch(const RecordedRequest& request, const std::string& repo);
    std::optional<Reply> route_deliveries(const RecordedRequest& request,
                                          const std::vector<std::string>& parts,
                                          std::string_view query);
    Reply
    runs_list(const RecordedRequest& request, const std::string& repo, std::string_view query);
    std::chrono::system_clock::time_point now() const;
    const FakeToken* token_of(const RecordedRequest& request) const;
    bool visible(const FakeToken& token, const std::string& repo) const;

    Clock m_clock;
    std::string m_prefix;
    mutable std::mutex m_mutex;
    std::map<std::string, FakeRepo> m_repos;
    std::map<std::string, FakeToken> m_tokens;
    std::optional<FakeApp> m_app;
    std::vector<std::pair<std::string, std::deque<Reply>>> m_injected;
    std::vector<std::pair<std::string, Reply>> m_injected_after;
    std::chrono::seconds m_offset{0};
    std::vector<std::string> m_problems;
    std::vector<std::string> m_dispatches;
    std::vector<Run> m_runs;
    std::map<std::string, FakeHook> m_hooks;
    std::size_t m_delivery_page_size = 100;
    std::vector<std::uint64_t> m_redelivered;
    std::uint64_t m_next_id = 9'000'000'001;
    std::map<std::string, FakeRepoData> m_repo_data; // by lowercase name
    std::map<std::string, FakeOrg> m_orgs;           // by lowercase login
    std::set<std::string> m_users;                   // lowercase logins
    bool m_read_only = false;
    TestServer m_server; // last: it calls back into the members above
};

// Writes `body` (a request's JSON, a GET's query parameters, or with operation
// "answer@STATUS@OPERATION" an answer) into CRCR_TEST_CAPTURE_DIR, for the e2e test that checks
// them against @octokit/openapi; nothing when it is unset.
void capture(const std::string& operation, const std::string& body);

// A fresh RSA key pair in PEM ("PRIVATE KEY" PKCS#8, "PUBLIC KEY"), generated once per process.
struct RsaKeyPair {
    std::string private_pem;
    std::string public_pem;
};
const RsaKeyPair& test_rsa_key();
// A fresh RSA key pair of `bits` (a short one, for "too weak" cases).
RsaKeyPair rsa_key_of(unsigned bits);
// A fresh EC (P-256) private key in PEM, for "not an RSA key" cases.
std::string test_ec_private_key();

} // namespace crcr::test
