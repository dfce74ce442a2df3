#pragma once

// The relay's behaviour, without a network (relay-contract sections 2, 3 and 6): what it answers
// a webhook delivery and a callback, in its order of decisions and with its exact status codes
// and messages; the dispatches it makes (concurrently, through a port: recorded, or sent to
// GitHub); the callback state machine; the per-repository rate limit; the check runs production
// would create. `crcr relay serve` puts it behind an HTTP server; tests drive it directly too.

#include "crcr/allowlist.hpp"
#include "crcr/github.hpp"
#include "crcr/jwt.hpp"
#include "crcr/payload.hpp"
#include "crcr/relay_store.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crcr {

// The issuers whose OIDC tokens the relay accepts.
inline constexpr std::string_view k_github_oidc_issuer =
    "https://token.actions.githubusercontent.com";
inline constexpr std::string_view k_buildkite_oidc_issuer = "https://agent.buildkite.com";

// One structured log line: a level ("info", "warning", "error"), what happened, and fields.
// Never a secret: no tokens, signatures or bodies.
struct LogEntry {
    std::string level;
    std::string message;
    std::vector<std::pair<std::string, std::string>> fields;
};
using Log = std::function<void(const LogEntry&)>;

// The outcome of one repository_dispatch.
struct DispatchResult {
    bool ok = true;
    std::string error;     // why it failed
    int github_status = 0; // GitHub's answer, when one came
};
// Sends (or records) the dispatch `body` to `repo`. Called from several threads at once.
using Dispatcher = std::function<DispatchResult(const std::string& repo, const Json& body)>;

// The dispatcher of `relay serve --dispatch github`: the relay's repository_dispatch through
// `api`, with `auth`'s token for each repository, one at a time (GitHub asks for no concurrent
// mutating requests; `api` and `auth` serve one thread). Like production, any answer from GitHub
// counts as dispatched (a refusal is logged); no token or no answer is a failure. `api` and
// `auth` must outlive it.
Dispatcher github_dispatcher(GitHubApi& api, GitHubAuth& auth, Log log);

struct RelaySettings {
    std::string upstream = "pytorch/pytorch";
    std::string secret;               // the webhook secret
    int rate_limit = 100;             // callbacks per minute per repository
    std::size_t dispatch_workers = 8; // dispatches in flight per delivery
    std::string audience = "pytorch-cross-repo-ci-relay";
};

// An answer: its status and JSON body.
struct RelayAnswer {
    int status = 200;
    Json body;
};

class Relay {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;

    Relay(RelaySettings settings,
          Allowlist allowlist,
          Jwks jwks,
          RelayStore& store,
          Dispatcher dispatcher,
          Clock now,
          Log log);
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // Replaces the allowlist (requests in flight finish with the one they started with).
    void set_allowlist(Allowlist allowlist);

    // POST /github/webhook: `event` (X-GitHub-Event), `delivery_id` (X-GitHub-Delivery),
    // `signature` (X-Hub-Signature-256, when sent) and the exact body.
    RelayAnswer webhook(std::string_view event,
                        std::string_view delivery_id,
                        const std::optional<std::string>& signature,
                        const std::string& body);

    // POST /github/callback: the Authorization header (empty when absent) and the body.
    RelayAnswer callback(std::string_view authorization, const std::string& body);

private:
    struct Token;
    class Pool;
    Token verify_token(std::string_view authorization) const;
    RelayAnswer dispatch(std::string_view event,
                         std::string_view delivery_id,
                         const Json& payload,
                         const Allowlist& allowlist,
                         DeliveryRow& delivery);
    RelayAnswer backfill(const Json& payload, const Allowlist& allowlist);
    RelayAnswer rerun_check_run(const Json& payload, const Allowlist& allowlist, DeliveryRow& row);
    RelayAnswer
    rerun_check_suite(const Json& payload, const Allowlist& allowlist, DeliveryRow& row);
    RelayAnswer handle_callback(const std::string& repo, const Json& body, CallbackRow& row);
    // An L3+ callback's job, remembered for a later label, and its check run when one is wanted.
    // False where the relay fails on the echoed pull request's shape (500).
    bool record_job(const AllowlistEntry& entry,
                    const Json& body,
                    const CallbackRow& row,
                    const std::string& job_name);
    bool over_rate_limit(const std::string& repo);
    double seconds_now() const;

    RelaySettings m_settings;
    Jwks m_jwks;
    RelayStore& m_store;
    Dispatcher m_dispatcher;
    Clock m_now;
    Log m_log;
    mutable std::mutex m_mutex; // the allowlist pointer, the rate-limit windows, state steps
    std::shared_ptr<const Allowlist> m_allowlist;
    std::map<std::string, std::deque<std::chrono::system_clock::time_point>> m_windows;
    std::unique_ptr<Pool> m_pool; // the dispatch workers, shared by all deliveries
};

// The allowlist file of a running relay, re-read when it changes (size or modification time). A
// version with errors (validate-allowlist's rules) keeps the last good one, and says why.
class AllowlistFile {
public:
    // Reads `path`. Throws `crcr::Error` naming the file when it cannot be read or has errors.
    explicit AllowlistFile(std::string path);

    const Allowlist& current() const { return m_current; }

    // The new allowlist when the file changed and is valid; nothing otherwise (unchanged, or
    // broken: logged once per change with the first error and its line).
    std::optional<Allowlist> refresh(const Log& log);

private:
    std::string m_path;
    Allowlist m_current;
    std::string m_stamp; // size and modification time of the version last read
};

// `value` as compact JSON: what the relay stores, answers and dispatches. Bytes that are not
// UTF-8 (from a header: a delivery id, say) are written as U+FFFD instead of failing the request.
std::string json_text(const Json& value);

} // namespace crcr
