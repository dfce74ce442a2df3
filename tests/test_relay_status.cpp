#include "crcr/relay_status.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

// One delivery dispatched to two repositories, one callback and one check run, and a callback
// that matches no delivery.
crcr::RelayStatus sample_status() {
    crcr::DeliveryStatus delivery;
    delivery.delivery = {.delivery_id = "d-1",
                         .event = "pull_request",
                         .action = "opened",
                         .head_sha = "abc",
                         .received_at = 1'700'000'000,
                         .status = 200,
                         .answer = R"({"ok":true})",
                         .decision = "dispatched"};
    delivery.dispatches = {
        {.delivery_id = "d-1", .repo = "org/a", .level = "L2", .at = 1'700'000'001, .ok = true},
        {.delivery_id = "d-1",
         .repo = "org/b",
         .level = "L4",
         .at = 1'700'000'001,
         .ok = false,
         .error = "GitHub answered 404"}};
    delivery.callbacks = {{.at = 1'700'000'060,
                           .repo = "org/a",
                           .delivery_id = "d-1",
                           .run_id = "7",
                           .run_attempt = "1",
                           .job_name = "test",
                           .workflow = "ci",
                           .status = "completed",
                           .conclusion = "success",
                           .answer_status = 200,
                           .answer = "{}",
                           .execution_time = 12.5}};
    delivery.check_runs = {{.at = 1'700'000'060,
                            .repo = "org/a",
                            .name = "crcr/org/a/ci/test",
                            .status = "completed",
                            .conclusion = "success",
                            .blocks_merge = true}};
    crcr::CallbackRow stray{.at = 1'700'000'100,
                            .delivery_id = "d-9",
                            .status = "in_progress",
                            .answer_status = 401,
                            .answer = R"({"detail":"Bad token"})"};
    return crcr::RelayStatus{.path = "state.db",
                             .deliveries = 1,
                             .dispatches = 2,
                             .callbacks = 2,
                             .check_runs = 1,
                             .recent = {delivery},
                             .unmatched = {stray}};
}

} // namespace

TEST_CASE("format_relay_status: totals, then each delivery and what became of it") {
    const std::string text = crcr::format_relay_status(sample_status());
    CHECK(text.starts_with("state.db: 1 deliveries, 2 dispatches, 2 callbacks, 1 check runs\n"));
    CHECK(text.find("\n2023-11-14T22:13:20Z pull_request opened d-1  200 dispatched\n")
          != std::string::npos);
    CHECK(text.find("  dispatch   org/a                            L2  ok\n") != std::string::npos);
    CHECK(text.find("  dispatch   org/b                            L4  GitHub answered 404\n")
          != std::string::npos);
    CHECK(text.find("  callback   org/a                            run 7/1 test  completed "
                    "success  200  queue -  run 12.500 s\n")
          != std::string::npos);
    CHECK(text.find("  check run  crcr/org/a/ci/test  completed success  (blocks merge)\n")
          != std::string::npos);
    CHECK(
        text.ends_with("\nCallbacks without a delivery here:\n  2023-11-14T22:15:00Z (no verified "
                       "token)              d-9 in_progress  401 {\"detail\":\"Bad token\"}\n"));
}

TEST_CASE("relay_status_json: the document of relay status --json") {
    const crcr::Json doc = crcr::relay_status_json(sample_status());
    CHECK(doc["state"] == "state.db");
    CHECK(doc["totals"]["dispatches"] == 2);
    REQUIRE(doc["deliveries"].size() == 1);
    const crcr::Json& d = doc["deliveries"][0];
    CHECK(d["answer"]["ok"] == true);
    CHECK(d["dispatches"][1]["error"] == "GitHub answered 404");
    CHECK(d["dispatches"][0]["error"].is_null());
    CHECK(d["callbacks"][0]["queue_time"].is_null());
    CHECK(d["callbacks"][0]["execution_time"] == 12.5);
    CHECK(d["check_runs"][0]["blocks_merge"] == true);
    CHECK(doc["other_callbacks"][0]["answer"]["detail"] == "Bad token");
}

TEST_CASE("format_arrivals: a verdict, then what never arrived and what was never accepted") {
    crcr::Arrivals arrivals;
    CHECK(crcr::format_arrivals("s.db", arrivals) == "s.db: no delivery records to compare\n");
    arrivals.deliveries = 3;
    CHECK(crcr::format_arrivals("s.db", arrivals)
          == "s.db: all 3 deliveries arrived and were accepted\n");
    arrivals.never_arrived = {{"g-1", "push", "", "pulled.jsonl:1", {}}};
    arrivals.never_accepted = {{"g-2", "pull_request", "closed", "pulled.jsonl:2", {500, 502}}};
    CHECK(crcr::format_arrivals("s.db", arrivals)
          == "s.db: 1 of 3 deliveries never arrived, 1 arrived but were never accepted\n"
             "\nNever arrived:\n  g-1  push  pulled.jsonl:1\n"
             "\nArrived, never answered 2xx:\n"
             "  g-2  pull_request closed  answered 500, 502  pulled.jsonl:2\n");
    const crcr::Json doc = crcr::arrivals_json("s.db", arrivals);
    CHECK(doc["never_accepted"][0]["answers"] == crcr::Json::array({500, 502}));
    CHECK(doc["never_arrived"][0]["action"].is_null());
}
