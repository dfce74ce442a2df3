#include "test_support.hpp"

#include "crcr/dispatch.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using crcr::Json;

TEST_CASE("dispatch_body is the relay's: event_type twice, the delivery id, the payload verbatim") {
    const Json payload = Json::parse(R"({"action":"opened","number":1,"z":1.5,"a":null})");
    const Json body = crcr::dispatch_body("pull_request", "d-1", payload);
    CHECK(
        body.dump()
        == R"({"event_type":"pull_request","client_payload":{"event_type":"pull_request","delivery_id":"d-1","payload":{"action":"opened","number":1,"z":1.5,"a":null}}})");
}

TEST_CASE("preflight_dispatch checks GitHub's limits and finds the largest fields") {
    struct Case {
        std::string name;
        Json body;
        std::vector<std::string> want_problems;
        bool want_near;
    };
    const auto payload_of = [](std::size_t body_bytes) {
        return Json{{"pull_request",
                     {{"body", std::string(body_bytes, 'x')}, {"labels", Json::array({"a", "b"})}}},
                    {"number", 1}};
    };
    std::string accents;
    for (int i = 0; i < 100; ++i) {
        accents += "\u00e9"; // 2 bytes, 1 character
    }
    Json eleven = crcr::dispatch_body("push", "d", Json::object());
    for (int i = 0; i < 8; ++i) {
        eleven["client_payload"][fmt::format("k{}", i)] = i;
    }
    const Case cases[] = {
        {"small", crcr::dispatch_body("push", "d", payload_of(10)), {}, false},
        {"near the limit", crcr::dispatch_body("push", "d", payload_of(50'000)), {}, true},
        {"over the limit",
         crcr::dispatch_body("push", "d", payload_of(70'000)),
         {"client_payload is 70108 bytes of JSON; GitHub takes under 65536"},
         true},
        {"empty event type",
         crcr::dispatch_body("", "d", Json::object()),
         {"event_type must be 1 to 100 characters; it has 0"},
         false},
        {"100 characters",
         crcr::dispatch_body(std::string(100, 'e'), "d", Json::object()),
         {},
         false},
        {"101 characters",
         crcr::dispatch_body(std::string(101, 'e'), "d", Json::object()),
         {"event_type must be 1 to 100 characters; it has 101"},
         false},
        {"characters, not bytes", crcr::dispatch_body(accents, "d", Json::object()), {}, false},
        {"eleven keys",
         eleven,
         {"client_payload has 11 top-level properties; GitHub allows at most 10"},
         false},
        {"client_payload a string",
         Json{{"event_type", "push"}, {"client_payload", "{\"a\":1}"}},
         {"client_payload must be a JSON object"},
         false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::Preflight check = crcr::preflight_dispatch(c.body);
        CHECK(check.problems == c.want_problems);
        CHECK(check.near_limit() == c.want_near);
    }
    const crcr::Preflight big =
        crcr::preflight_dispatch(crcr::dispatch_body("push", "d", payload_of(50'000)));
    REQUIRE(big.largest.size() == 5);
    CHECK(big.largest[0].path == "payload.pull_request.body");
    CHECK(big.largest[0].bytes == 50'002);
    CHECK(big.largest[1].path == "payload.pull_request.labels");
    CHECK(big.largest[1].bytes == 9);
    CHECK(big.bytes
          == crcr::dispatch_body("push", "d", payload_of(50'000))["client_payload"].dump().size());
}

TEST_CASE("runs_started_by: dispatch runs since the dispatch, the one naming the delivery first") {
    const auto at = [](const char* iso) { return crcr::parse_time(iso); };
    const auto run =
        [&](std::uint64_t id, const char* event, const char* created, std::string title) {
            return crcr::WorkflowRun{.id = id,
                                     .display_title = std::move(title),
                                     .event = event,
                                     .created_at = at(created)};
        };
    const std::vector<crcr::WorkflowRun> runs = {
        run(5, "repository_dispatch", "2026-11-26T10:00:05Z", "PyTorch CI"),
        run(4, "repository_dispatch", "2026-11-26T10:00:03Z", "PR #1 (opened) - delivery d-42"),
        run(6, "repository_dispatch", "2026-11-26T10:00:06Z", "PR #2 (opened) - delivery d-421"),
        run(7, "repository_dispatch", "2026-11-26T10:00:07Z", "PR #3 (opened) - delivery xd-42"),
        run(3, "push", "2026-11-26T10:00:04Z", "d-42"),
        run(2, "repository_dispatch", "2026-11-26T09:59:00Z", "d-42 too early"),
    };
    const auto ids = [](const std::vector<crcr::WorkflowRun>& found) {
        std::vector<std::uint64_t> out;
        for (const auto& r : found) {
            out.push_back(r.id);
        }
        return out;
    };
    const auto since = at("2026-11-26T10:00:00Z");
    CHECK(ids(crcr::runs_started_by(runs, since, "d-42")) == std::vector<std::uint64_t>{4});
    CHECK(ids(crcr::runs_started_by(runs, since, "d-421")) == std::vector<std::uint64_t>{6});
    CHECK(ids(crcr::runs_started_by(runs, since, "d-other"))
          == std::vector<std::uint64_t>{4, 5, 6, 7});
    CHECK(ids(crcr::runs_started_by(runs, since, "")) == std::vector<std::uint64_t>{4, 5, 6, 7});
    CHECK(ids(crcr::runs_started_by(runs, at("2026-11-26T11:00:00Z"), "d-42")).empty());
}

TEST_CASE("parse_workflow_runs reads GitHub's list and refuses other shapes") {
    const auto runs = crcr::parse_workflow_runs(
        R"({"total_count":1,"workflow_runs":[{"id":7,"name":"CI","display_title":"t","event":"repository_dispatch","status":"completed","conclusion":"failure","html_url":"https://github.com/o/r/actions/runs/7","created_at":"2026-11-26T10:00:00Z"}]})");
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].id == 7);
    CHECK(runs[0].conclusion == "failure");
    CHECK(runs[0].created_at == crcr::parse_time("2026-11-26T10:00:00Z"));
    CHECK_THROWS_WITH(crcr::parse_workflow_runs("[]"),
                      "GitHub's answer to the workflow runs list is not a JSON object");
    CHECK_THROWS_WITH(crcr::parse_workflow_runs("{}"),
                      "GitHub's workflow runs list has no 'workflow_runs' array");
    CHECK_THROWS_WITH(crcr::parse_workflow_runs(R"({"workflow_runs":[{"id":"7"}]})"),
                      "GitHub's workflow run has no numeric 'id'");
    CHECK(crcr::conclusion_passes("success"));
    CHECK(crcr::conclusion_passes("skipped"));
    CHECK_FALSE(crcr::conclusion_passes("failure"));
    CHECK_FALSE(crcr::conclusion_passes("cancelled"));
    CHECK_FALSE(crcr::conclusion_passes(""));
}
