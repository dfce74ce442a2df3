#pragma once

// A webhook delivery as GitHub sends it to the relay (relay-contract section 2): the headers,
// the signature over the exact body bytes, the capture record crcr writes and replays, the
// repository_dispatch event a downstream job then sees, and what the relay does with it.

#include "crcr/http.hpp"
#include "crcr/payload.hpp"
#include "crcr/random.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

struct Delivery {
    std::string event;
    std::string action; // the payload's "action", if any
    std::string id;     // X-GitHub-Delivery
    HttpHeaders headers;
    std::string body; // the exact bytes sent and signed
};

// Builds the delivery of `body` for `event` (and the payload's `action`, empty if none):
// GitHub's full header set, with a random (or the given) delivery id, hook id, App id and
// Hookshot version, and both signatures when `secret` is set. The body is not re-serialised.
Delivery make_delivery(std::string_view event,
                       std::string_view action,
                       std::string body,
                       const std::optional<std::string>& secret,
                       Random& random,
                       std::string_view delivery_id = {});

// The "action" of a webhook payload, or "" when it has none.
std::string action_of(const Json& payload);

// One capture record (a single JSON line, no newline): {"crcr_capture": 1, "delivery_id",
// "event", "action", "headers": {name: value, ...}, "body": "<the exact body>"}. `crcr replay`
// reads it back and can send the same bytes again.
std::string capture_record(const Delivery& delivery);

// The delivery as an HTTP request: "POST <path> HTTP/1.1", the headers, a blank line, the body.
std::string http_request_text(const Delivery& delivery, std::string_view path = "/github/webhook");

// The `github.event` of the `repository_dispatch` run the relay starts in `downstream` for this
// delivery: `action` (the event type), `branch`, `client_payload` = {event_type, delivery_id,
// payload}, `repository`, `sender` (the relay's App) and `installation`.
Json dispatch_event(const Delivery& delivery,
                    const Json& payload,
                    std::string_view downstream,
                    Random& random,
                    std::chrono::system_clock::time_point now);

// Distinct deliveries from one body, fast (for `simulate --count`): each variant replaces every
// commit SHA in the body with a fresh one (the same SHA the same way everywhere, so values that
// agree keep agreeing; 40 zeros stay) and moves every timestamp by a shift. Building and
// serialising a payload each time would cost ten times more.
class BodyVariants {
public:
    explicit BodyVariants(std::string body);

    // The body with fresh SHAs from `random` and timestamps `shift` later.
    std::string next(Random& random, std::chrono::seconds shift) const;

    // A variant and the JSON string literal of it that capture_record writes.
    struct Variant {
        std::string body;
        std::string literal;
    };
    // The same as `next`, in `out`, with its literal: SHAs and timestamps never need escaping, so
    // both are the template escaped once, patched in place (`out` is only ever filled by this
    // BodyVariants). A bulk run copies and escapes nothing per delivery.
    void next(Random& random, std::chrono::seconds shift, Variant& out) const;

private:
    struct Sha {
        std::vector<std::size_t> offsets;
        std::vector<std::size_t> literal_offsets;
    };
    struct Timestamp {
        std::size_t offset;
        std::size_t literal_offset;
        std::chrono::system_clock::time_point when;
    };
    std::string m_body;
    std::string m_literal;
    std::vector<Sha> m_shas;
    std::vector<Timestamp> m_timestamps;
};

// The capture records of `count` deliveries of `event` built from `variants`, delivery i with
// its timestamps i seconds later, each record followed by a newline: the same bytes as
//   capture_record(make_delivery(event, action, variants.next(random, i s), secret, random))
// for i = 0, 1, ... in turn, with `random` left where that loop leaves it. They are passed to
// `write` in order, many records at a time, never two calls at once. Up to `threads` threads
// build them (both HMACs are most of the cost): each delivery takes the same number of random
// draws, so a thread starts delivery i where the loop would be (Random::skip).
void write_capture_records(std::string_view event,
                           std::string_view action,
                           const BodyVariants& variants,
                           const std::optional<std::string>& secret,
                           Random& random,
                           std::uint64_t count,
                           unsigned threads,
                           const std::function<void(std::string_view)>& write);

// What the relay does with a delivery, in its order of decisions.
struct Route {
    enum class Kind {
        dispatch, // repository_dispatch to every repo at L1..L4
        backfill, // labeled with ciflow/crcr/<device>: L3 check runs, no dispatch
        rerun,    // check_run / check_suite rerequested: re-run downstream runs
        ignored,  // answered 200 {"ignored": true}
    };
    Kind kind = Kind::ignored;
    std::string reason; // why, for people: "the relay ignores 'issues' events"
};

// The relay's decision for `event` with `payload`, given its upstream repository.
Route route_webhook(std::string_view event,
                    const Json& payload,
                    std::string_view upstream = "pytorch/pytorch");

} // namespace crcr
