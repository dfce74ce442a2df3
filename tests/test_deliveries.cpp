#include "crcr/deliveries.hpp"
#include "crcr/error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using crcr::DeliverySummary;
using crcr::Dispatched;
using crcr::RedeliveryDecision;
using std::chrono::system_clock;

const system_clock::time_point k_now = crcr::parse_time("2026-12-06T12:00:00Z");

DeliverySummary attempt(std::uint64_t id,
                        const std::string& guid,
                        const std::string& time,
                        int code,
                        const std::string& status,
                        bool redelivery = false) {
    DeliverySummary d;
    d.id = id;
    d.guid = guid;
    d.delivered_at = crcr::parse_time(time);
    d.status_code = code;
    d.status = status;
    d.redelivery = redelivery;
    d.event = "pull_request";
    d.action = "opened";
    d.duration = 0.5;
    return d;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const crcr::Error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("deliveries_path") {
    CHECK(crcr::deliveries_path({}) == "/app/hook/deliveries");
    CHECK(crcr::deliveries_path({crcr::HookTarget::Kind::repo, "o/r", 7})
          == "/repos/o/r/hooks/7/deliveries");
    CHECK(crcr::deliveries_path({crcr::HookTarget::Kind::org, "o", 9})
          == "/orgs/o/hooks/9/deliveries");
}

TEST_CASE("next_cursor") {
    struct Case {
        std::string name;
        std::string link;
        std::optional<std::string> want;
    };
    const Case cases[] = {
        {"GitHub's",
         R"(<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel="next")",
         "v1_12077215967"},
        {"next after prev",
         R"(<https://h/x?cursor=a>; rel="prev", <https://h/x?per_page=2&cursor=b%3D>; rel="next")",
         "b="},
        {"unquoted rel, several types", "<https://h/x?cursor=c>; rel=\"last next\"", "c"},
        {"no next", R"(<https://h/x?cursor=a>; rel="prev")", std::nullopt},
        {"empty", "", std::nullopt},
        {"next without a cursor", R"(<https://h/x?page=2>; rel="next")", std::nullopt},
        {"not a link", "rel=\"next\"", std::nullopt},
        {"unclosed", "<https://h/x?cursor=a; rel=\"next\"", std::nullopt},
        {"percent at the end", R"(<https://h/x?cursor=a%2>; rel="next")", "a%2"},
        {"fragment", R"(<https://h/x?cursor=z#frag>; rel="next")", "z"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::next_cursor(c.link) == c.want);
    }
}

TEST_CASE("parse_since") {
    CHECK(crcr::parse_since("3h", k_now) == k_now - std::chrono::hours(3));
    CHECK(crcr::parse_since("90m", k_now) == k_now - std::chrono::minutes(90));
    CHECK(crcr::parse_since("45s", k_now) == k_now - std::chrono::seconds(45));
    CHECK(crcr::parse_since("2d", k_now) == k_now - std::chrono::hours(48));
    CHECK(crcr::parse_since("2026-12-06T10:00:00Z", k_now)
          == crcr::parse_time("2026-12-06T10:00:00Z"));
    for (const std::string bad : {"", "h", "0h", "3x", "-3h", "3.5h", "99999999d", "yesterday"}) {
        CAPTURE(bad);
        CHECK(error_of([&] { crcr::parse_since(bad, k_now); }).find("neither a time")
              != std::string::npos);
    }
}

TEST_CASE("parse_delivery_list") {
    const std::string page = R"([{"id":2,"guid":"g2","delivered_at":"2026-12-06T11:00:00Z",
        "redelivery":true,"duration":0.03,"status":"OK","status_code":200,"event":"push",
        "action":null,"installation_id":1,"repository_id":null},
       {"id":1,"guid":"g1","delivered_at":"2026-12-06T10:00:00Z","redelivery":false,
        "duration":10.0,"status":"timed out","status_code":0,"event":"pull_request",
        "action":"opened","installation_id":1,"repository_id":2,"throttled_at":null}])";
    const std::vector<DeliverySummary> got = crcr::parse_delivery_list(page, "page 1");
    REQUIRE(got.size() == 2);
    CHECK(got[0].id == 2);
    CHECK(got[0].ok());
    CHECK(got[0].redelivery);
    CHECK(got[0].action.empty());
    CHECK(got[1].status_code == 0);
    CHECK(got[1].action == "opened");
    CHECK_FALSE(got[1].ok());
    CHECK(got[1].delivered_at == crcr::parse_time("2026-12-06T10:00:00Z"));

    struct Case {
        std::string name;
        std::string body;
        std::string want;
    };
    const Case cases[] = {
        {"not JSON", "<html>", "page 1 is not JSON"},
        {"an object", R"({"message":"x"})", "not a JSON array"},
        {"an entry not an object", "[1]", "delivery [0] is not an object"},
        {"no guid", R"([{"id":1}])", "delivery [0]: no 'guid'"},
        {"negative id", R"([{"id":-1}])", "'id' is not a positive integer"},
        {"bad time",
         R"([{"id":1,"guid":"g","delivered_at":"soon","status":"OK","event":"e"}])",
         "'delivered_at' is not an ISO 8601 time"},
        {"status code out of range",
         R"([{"id":1,"guid":"g","delivered_at":"2026-12-06T10:00:00Z","status":"OK","event":"e",
             "redelivery":false,"duration":1,"status_code":100000,"action":null}])",
         "'status_code' is not an HTTP status or 0"},
        {"action a number",
         R"([{"id":1,"guid":"g","delivered_at":"2026-12-06T10:00:00Z","status":"OK","event":"e",
             "redelivery":false,"duration":1,"status_code":200,"action":3}])",
         "'action' is not a string or null"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string what = error_of([&] { crcr::parse_delivery_list(c.body, "page 1"); });
        CAPTURE(what);
        CHECK(what.find(c.want) != std::string::npos);
    }
}

TEST_CASE("read_attempt") {
    struct Case {
        std::string name;
        int code;
        std::string status;
        double duration;
        std::optional<std::string> body;
        Dispatched want;
        std::string why;
    };
    const Case cases[] = {
        {"connection refused", 0, "failed to connect", 0.1, {}, Dispatched::no, "never reached"},
        {"timed out", 0, "Timed out", 10, {}, Dispatched::maybe, "10 s"},
        {"slow, no text", 0, "", 10.2, {}, Dispatched::maybe, "10 s"},
        {"200 after the timeout", 200, "timed out", 11, {}, Dispatched::maybe, "answered 200"},
        {"bad signature", 401, "Invalid HTTP Response: 401", 0.1, {}, Dispatched::no, "401"},
        {"front end 502",
         502,
         "Invalid HTTP Response: 502",
         0.1,
         R"({"message": "Internal server error"})",
         Dispatched::no,
         "front"},
        {"502 html",
         502,
         "Invalid HTTP Response: 502",
         0.1,
         "<html>bad gateway</html>",
         Dispatched::no,
         "front"},
        {"503 no body",
         503,
         "Invalid HTTP Response: 503",
         0.1,
         std::nullopt,
         Dispatched::no,
         "front"},
        {"relay 502 with failed",
         502,
         "Invalid HTTP Response: 502",
         2,
         R"({"detail": {"message": "No downstream dispatch succeeded", "failed": [{"repo": "org/one", "error": "x"}, {"repo": "org/two"}]}})",
         Dispatched::maybe,
         "org/one, org/two"},
        {"relay 500",
         500,
         "Invalid HTTP Response: 500",
         0.3,
         R"({"detail": "Internal server error"})",
         Dispatched::maybe,
         "handler"},
        {"gateway timeout", 504, "Invalid HTTP Response: 504", 9, {}, Dispatched::maybe, "504"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DeliverySummary d = attempt(1, "g", "2026-12-06T10:00:00Z", c.code, c.status);
        d.duration = c.duration;
        const crcr::AttemptReading got = crcr::read_attempt(d, c.body);
        CAPTURE(got.why);
        CHECK(got.dispatched == c.want);
        CHECK(got.why.find(c.why) != std::string::npos);
    }
    CHECK(crcr::needs_response_body(attempt(1, "g", "2026-12-06T10:00:00Z", 502, "x")));
    CHECK_FALSE(crcr::needs_response_body(attempt(1, "g", "2026-12-06T10:00:00Z", 504, "x")));
    CHECK_FALSE(crcr::needs_response_body(attempt(1, "g", "2026-12-06T10:00:00Z", 0, "x")));
}

TEST_CASE("parse_redelivery_state") {
    using State = crcr::RedeliveryState;
    const auto t1 = crcr::parse_time("2026-12-06T10:00:00Z");
    const auto t2 = crcr::parse_time("2026-12-06T10:05:00Z");
    std::vector<std::string> lines = {State::posting_line("a", 1, t1),
                                      State::redelivered_line("a", 1, t1),
                                      State::posting_line("b", 2, t1),
                                      State::posting_line("c", 3, t1),
                                      State::refused_line("c", 3),
                                      State::checked_line(t2)};
    for (std::string& line : lines) {
        REQUIRE(line.ends_with('\n'));
        line.pop_back();
    }
    const State state = crcr::parse_redelivery_state(lines, "s");
    REQUIRE(state.by_guid.size() == 2);
    CHECK(state.by_guid.at("a").confirmed);
    CHECK_FALSE(state.by_guid.at("b").confirmed);
    CHECK(state.by_guid.at("b").id == 2);
    CHECK(state.checked_until == t2);

    struct Case {
        std::string name;
        std::string line;
        std::string want;
    };
    const Case cases[] = {
        {"not JSON", "{", "s:1: not a JSON object"},
        {"unknown", R"({"x":1})", "s:1: no 'posting'"},
        {"empty guid", R"({"posting":"","id":1,"at":"2026-12-06T10:00:00Z"})", "s:1: no 'posting'"},
        {"no id", R"({"posting":"g","at":"2026-12-06T10:00:00Z"})", "no delivery 'id'"},
        {"bad time", R"({"redelivered":"g","id":1,"at":"then"})", "'at' is not a time"},
        {"checked not a time", R"({"checked_until":5})", "no 'checked_until' time"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string what = error_of([&] { crcr::parse_redelivery_state({c.line}, "s"); });
        CAPTURE(what);
        CHECK(what.find(c.want) != std::string::npos);
    }
}

TEST_CASE("decide_redeliveries") {
    const std::vector<DeliverySummary> log = {
        attempt(10, "ok", "2026-12-06T09:00:00Z", 200, "OK"),
        attempt(11, "refused", "2026-12-06T09:10:00Z", 0, "failed to connect"),
        attempt(12, "twice", "2026-12-06T09:20:00Z", 0, "failed to connect"),
        attempt(13, "redone", "2026-12-06T09:05:00Z", 502, "Invalid HTTP Response: 502"),
        attempt(14, "redone", "2026-12-06T11:00:00Z", 200, "OK", true),
        attempt(15, "dispatched", "2026-12-06T09:30:00Z", 502, "Invalid HTTP Response: 502"),
        attempt(16, "timeout", "2026-12-06T09:40:00Z", 0, "timed out"),
        attempt(17, "twice", "2026-12-06T10:20:00Z", 503, "Invalid HTTP Response: 503", true),
        attempt(18, "pending-landed", "2026-12-06T09:50:00Z", 0, "failed to connect"),
        attempt(19, "pending-landed", "2026-12-06T11:30:00Z", 0, "failed to connect", true),
        attempt(20, "pending-lost", "2026-12-06T09:55:00Z", 0, "failed to connect"),
        attempt(21, "in-state", "2026-12-06T09:56:00Z", 404, "Invalid HTTP Response: 404"),
    };
    crcr::RedeliveryState state;
    state.by_guid["pending-landed"] = {18, crcr::parse_time("2026-12-06T11:29:50Z"), false};
    state.by_guid["pending-lost"] = {20, crcr::parse_time("2026-12-06T11:40:00Z"), false};
    state.by_guid["in-state"] = {21, crcr::parse_time("2026-12-06T11:00:00Z"), true};
    std::vector<std::uint64_t> bodies_read;
    const auto body = [&](std::uint64_t id) -> std::optional<std::string> {
        bodies_read.push_back(id);
        if (id == 15) {
            return R"({"detail":{"message":"No downstream dispatch succeeded","failed":[{"repo":"org/one","error":"GitHub dispatch failed: state"}]}})";
        }
        return R"({"message":"Service Unavailable"})";
    };
    const std::vector<RedeliveryDecision> got = crcr::decide_redeliveries(log, {}, state, body);
    struct Want {
        std::string guid;
        RedeliveryDecision::Kind kind;
        std::uint64_t id;
        std::string reason;
    };
    using Kind = RedeliveryDecision::Kind;
    const std::vector<Want> want = {
        {"redone", Kind::done, 13, "attempt 14"},
        {"refused", Kind::redeliver, 11, "never reached"},
        {"twice", Kind::redeliver, 17, "503 without the relay's"},
        {"dispatched", Kind::may_have_dispatched, 15, "org/one"},
        {"timeout", Kind::may_have_dispatched, 16, "10 s"},
        {"pending-landed", Kind::done, 19, "landed (attempt 19"},
        {"pending-lost", Kind::may_have_dispatched, 20, "GitHub lists no redelivery"},
        {"in-state", Kind::done, 21, "redelivered already"},
    };
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(want[i].guid);
        CAPTURE(got[i].reason);
        CHECK(got[i].guid == want[i].guid);
        CHECK(got[i].kind == want[i].kind);
        CHECK(got[i].id == want[i].id);
        CHECK(got[i].reason.find(want[i].reason) != std::string::npos);
    }
    CHECK(bodies_read == std::vector<std::uint64_t>{15, 17});
    CHECK(got[2].details.size() == 2); // both failed attempts of "twice" explained

    SUBCASE("filters select events") {
        const auto only = crcr::decide_redeliveries(log, {.guid = "timeout"}, state, body);
        REQUIRE(only.size() == 1);
        CHECK(only[0].guid == "timeout");
        CHECK(crcr::decide_redeliveries(log, {.event = "push"}, state, body).empty());
    }
}
