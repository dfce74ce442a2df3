#pragma once

// GitHub's webhook delivery log (`crcr deliveries`): listing a hook's deliveries with GitHub's
// cursor pagination, reading one delivery's record, and deciding which failures can be
// redelivered without starting downstream CI twice. A redelivery carries the original GUID, and
// the relay dispatches it again to every repository before its state store refuses a second
// DISPATCHED record (relay-contract section 2), so a failure is redelivered only when its
// recorded answer proves the relay never dispatched it.

#include "crcr/github.hpp"
#include "crcr/payload.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// Which webhook's log: the GitHub App's own hook, or a repository's or organization's hook.
struct HookTarget {
    enum class Kind { app, repo, org };
    Kind kind = Kind::app;
    std::string owner; // repo: "OWNER/NAME"; org: "ORG"; app: empty
    std::uint64_t hook_id = 0;

    bool operator==(const HookTarget&) const = default;
};

// The API path of the hook's deliveries: "/app/hook/deliveries",
// "/repos/OWNER/NAME/hooks/ID/deliveries" or "/orgs/ORG/hooks/ID/deliveries".
std::string deliveries_path(const HookTarget& hook);

// One entry of a deliveries list (GitHub's "simple webhook delivery").
struct DeliverySummary {
    std::uint64_t id = 0;
    std::string guid; // X-GitHub-Delivery: the same on every attempt of one event
    std::chrono::system_clock::time_point delivered_at;
    bool redelivery = false;
    double duration = 0; // seconds GitHub waited for the answer
    std::string status;  // "OK", "Invalid HTTP Response: 502", "timed out", "failed to connect"
    int status_code = 0; // 0: no HTTP answer
    std::string event;
    std::string action; // "" when the event has none

    // Whether GitHub counts the attempt as delivered (its status "OK").
    bool ok() const { return status == "OK"; }
};

// The entries of one page of a deliveries list (a JSON array), newest first as GitHub sends
// them. Throws `crcr::Error` naming `source` when it is not GitHub's shape.
std::vector<DeliverySummary> parse_delivery_list(std::string_view body, std::string_view source);

// The `cursor` query value of the `rel="next"` link in a Link header value (RFC 8288: links
// separated by commas, each `<URL>` with `;` parameters), percent-decoded; nothing when there is
// no next link or it has no cursor.
std::optional<std::string> next_cursor(std::string_view link);

// A point in time given as an ISO 8601 UTC time or "@EPOCH" (`parse_time`), or as a duration
// before `now`: a whole number followed by s, m, h or d ("90m", "3h", "2d"). Throws
// `crcr::Error` (usage) for anything else.
std::chrono::system_clock::time_point parse_since(std::string_view text,
                                                  std::chrono::system_clock::time_point now);

// Which deliveries a command works on.
struct DeliveryFilter {
    bool failed = false; // only attempts GitHub does not count as delivered
    std::string event;   // empty: any
    std::string action;  // empty: any
    std::string guid;    // empty: any

    bool matches(const DeliverySummary& delivery) const;
};

// The bearer token for each request (an App's JWT is made fresh each time: a long run outlives
// one).
using Bearer = std::function<std::string()>;

// Where and as whom a command reads a hook's log.
struct DeliveriesClient {
    GitHubApi& api;
    Bearer bearer;
    HookTarget hook;
    const GitHubCredentials* credentials = nullptr; // explains a refused App JWT; may be null
};

// Lists the hook's deliveries newest first, following GitHub's cursors (per_page 100) until a
// page reaches past `since` or there is none after it; entries older than `since` are left out.
// `on_page` (may be empty) hears the number listed so far, for progress. Throws `crcr::Error`
// explaining a refusal (`deliveries_failure`) or a cursor that repeats.
std::vector<DeliverySummary> list_deliveries(const DeliveriesClient& client,
                                             std::chrono::system_clock::time_point since,
                                             const std::function<void(std::size_t)>& on_page = {});

// One delivery's record (GitHub's "webhook delivery"), as `crcr replay` reads it.
struct DeliveryRecord {
    DeliverySummary summary;
    std::string url;       // where GitHub sent it
    Json request_headers;  // object
    Json request_payload;  // object, or null
    Json response_headers; // object, or null
    std::optional<std::string> response_body;
    std::string text; // the record as GitHub sent it
};

// Parses GitHub's answer to GET .../deliveries/{id}. Throws `crcr::Error` naming `source`.
DeliveryRecord parse_delivery_record(std::string_view body, std::string_view source);

// GETs one delivery's record. Throws `crcr::Error` explaining a refusal (404: no such delivery).
DeliveryRecord get_delivery(const DeliveriesClient& client, std::uint64_t id);

// Why GitHub refused a deliveries request, as a `crcr::Error` with cli.md's exit code and the
// fix: which credentials and permission the hook's log needs (the App's JWT for the App's hook;
// admin:repo_hook or "Webhooks" for a repository's; admin:org_hook for an organization's).
// `credentials` (may be null) tells an App's refused JWT (clock skew explained) from a token.
Error deliveries_failure(std::string_view what,
                         const HttpResponse& response,
                         const HookTarget& hook,
                         const GitHubCredentials* credentials,
                         std::chrono::system_clock::time_point now);

// What the relay may have done with a failed attempt, from its recorded answer.
enum class Dispatched {
    no,    // never reached the relay's handler, or rejected before dispatching
    maybe, // the relay handled it, or may still have after GitHub gave up
};

// The reading of one failed attempt: `response_body` is the recorded answer's body (needed only
// for a 5xx: the relay's own JSON tells it apart from its front end's).
struct AttemptReading {
    Dispatched dispatched = Dispatched::no;
    std::string why; // for people: "no HTTP answer (failed to connect): never reached the relay"
};
AttemptReading read_attempt(const DeliverySummary& attempt,
                            const std::optional<std::string>& response_body);

// Whether reading `attempt` needs its recorded answer's body (a 5xx).
bool needs_response_body(const DeliverySummary& attempt);

// What a previous `redeliver` run recorded (`--state FILE`, JSON Lines).
struct RedeliveryState {
    struct Entry {
        std::uint64_t id = 0; // the delivery asked to be redelivered
        std::chrono::system_clock::time_point at;
        bool confirmed = false; // GitHub answered 202; otherwise the POST may or may not have
                                // landed (the run stopped before its answer)
    };
    std::map<std::string, Entry> by_guid;
    std::optional<std::chrono::system_clock::time_point> checked_until; // last complete run

    // The lines that record, for `AppendFile`: before a POST, after its 202, after a refusal (it
    // did not land), and at the end of a complete run.
    static std::string
    posting_line(std::string_view guid, std::uint64_t id, std::chrono::system_clock::time_point at);
    static std::string redelivered_line(std::string_view guid,
                                        std::uint64_t id,
                                        std::chrono::system_clock::time_point at);
    static std::string refused_line(std::string_view guid, std::uint64_t id);
    static std::string checked_line(std::chrono::system_clock::time_point until);
};

// Reads the complete lines of a state file, in order (a later line about a GUID wins). Throws
// `crcr::Error` with `source:line` for a line that is not one of the four shapes.
RedeliveryState parse_redelivery_state(const std::vector<std::string>& lines,
                                       std::string_view source);

// The decision about one event (one GUID, all its listed attempts).
struct RedeliveryDecision {
    enum class Kind {
        redeliver,           // every failed attempt is proven not dispatched
        may_have_dispatched, // acts only with --force
        done,                // delivered, or redelivered already
    };
    Kind kind = Kind::done;
    std::string guid;
    std::uint64_t id = 0;                        // the attempt to redeliver: the newest failed one
    DeliverySummary newest;                      // the newest failed attempt
    std::chrono::system_clock::time_point first; // the event's first listed attempt
    std::string reason;                          // one line
    std::vector<std::string> details;            // per attempt, for --explain
};

// Decides, oldest event (first attempt) first, for every GUID in `deliveries` with a failed attempt
// that `filter` selects. `response_body(id)` gives a 5xx attempt's recorded answer (GET of its
// record). `state` holds what earlier runs redelivered: those are done, and an unconfirmed POST
// is done when GitHub lists a redelivery of the GUID after it, otherwise may have dispatched.
std::vector<RedeliveryDecision>
decide_redeliveries(const std::vector<DeliverySummary>& deliveries,
                    const DeliveryFilter& filter,
                    const RedeliveryState& state,
                    const std::function<std::optional<std::string>(std::uint64_t)>& response_body);

} // namespace crcr
