#include "test_support.hpp"

#include "crcr/callback.hpp"
#include "crcr/error.hpp"

#include <doctest/doctest.h>

using crcr::Json;

namespace {

crcr::WorkflowReport completed() {
    return crcr::WorkflowReport{.status = "completed",
                                .conclusion = "success",
                                .name = "PyTorch CI",
                                .job_name = "build (cpu)",
                                .run_id = "123",
                                .run_attempt = "2",
                                .url = "https://github.com/o/r/actions/runs/123",
                                .started_at = "2026-11-26T10:00:00Z",
                                .completed_at = "2026-11-26T10:30:00Z"};
}

} // namespace

TEST_CASE(
    "callback_body: the client_payload echoed, then the workflow object in the relay's shape") {
    const Json client_payload =
        Json::parse(R"({"event_type":"pull_request","delivery_id":"d-1","payload":{"number":5}})");
    crcr::WorkflowReport report = completed();
    report.test_results = crcr::TestCounts{10, 1, 2};
    report.artifact_url = "https://example.com/a";
    CHECK(
        crcr::callback_body(client_payload, report).dump()
        == R"json({"event_type":"pull_request","delivery_id":"d-1","payload":{"number":5},"workflow":{"schema_version":"1","status":"completed","conclusion":"success","name":"PyTorch CI","job_name":"build (cpu)","run_id":"123","run_attempt":"2","check_run_id":"123-2","url":"https://github.com/o/r/actions/runs/123","started_at":"2026-11-26T10:00:00Z","completed_at":"2026-11-26T10:30:00Z","test_results":{"passed":10,"failed":1,"skipped":2},"artifact_url":"https://example.com/a"}})json");
    crcr::WorkflowReport started{.status = "in_progress",
                                 .name = "CI",
                                 .job_name = "j",
                                 .run_id = "1",
                                 .run_attempt = "1",
                                 .check_run_id = "987654",
                                 .url = "u",
                                 .started_at = "2026-11-26T10:00:00Z"};
    const Json body = crcr::callback_body(client_payload, started);
    CHECK(body["workflow"]["conclusion"].is_null());
    CHECK(body["workflow"]["completed_at"].is_null());
    CHECK(body["workflow"]["check_run_id"] == "987654");
    CHECK_FALSE(body["workflow"].contains("test_results"));
    CHECK_FALSE(body["workflow"].contains("artifact_url"));
    started.url.clear(); // the relay does not need it
    CHECK_FALSE(crcr::callback_body(client_payload, started)["workflow"].contains("url"));
}

TEST_CASE("callback_body refuses what the relay would refuse or answer 500 to") {
    struct Case {
        std::string name;
        std::function<void(crcr::WorkflowReport&)> change;
        std::string want;
    };
    const Case cases[] = {
        {"unknown status",
         [](auto& r) { r.status = "queued"; },
         "--status 'queued' is not in_progress or completed"},
        {"completed without conclusion",
         [](auto& r) { r.conclusion = ""; },
         "--status completed needs --conclusion: success, failure, cancelled"},
        {"unknown conclusion",
         [](auto& r) { r.conclusion = "passed"; },
         "--conclusion 'passed' is not a GitHub conclusion"},
        {"in progress with a conclusion",
         [](auto& r) { r.status = "in_progress"; },
         "--conclusion goes with --status completed"},
        {"run id not a number",
         [](auto& r) { r.run_id = "12a"; },
         "run id '12a' is not an integer (the relay answers 500 to it)"},
        {"run attempt not a number",
         [](auto& r) { r.run_attempt = "first"; },
         "run attempt 'first' is not an integer"},
        {"no run id",
         [](auto& r) { r.run_id = ""; },
         "no run id: --run-id, or GITHUB_RUN_ID inside GitHub Actions"},
        {"no job name",
         [](auto& r) { r.job_name = ""; },
         "no job name: --job-name, or GITHUB_JOB inside GitHub Actions"},
        {"no workflow name", [](auto& r) { r.name = ""; }, "no workflow name: --workflow-name,"},
        {"nothing a run says, all named at once",
         [](auto& r) { r.name = r.job_name = r.run_id = r.run_attempt = ""; },
         "no workflow name, job name, run id or run attempt: --workflow-name, --job-name, "
         "--run-id and --run-attempt, or GITHUB_WORKFLOW, GITHUB_JOB, GITHUB_RUN_ID and "
         "GITHUB_RUN_ATTEMPT inside GitHub Actions"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        crcr::WorkflowReport report = completed();
        c.change(report);
        try {
            crcr::callback_body(Json::object(), report);
            FAIL("accepted");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).starts_with(c.want));
            CHECK(e.code() == crcr::ExitCode::usage);
        }
    }
}

TEST_CASE("client_payload_of takes the dispatch event's client_payload and explains other files") {
    const Json payload = crcr::client_payload_of(
        R"({"action":"pull_request","client_payload":{"event_type":"pull_request","delivery_id":"d","payload":{},"workflow":{"old":1}}})",
        "e.json");
    CHECK(payload.dump() == R"({"event_type":"pull_request","delivery_id":"d","payload":{}})");
    struct Case {
        std::string json;
        std::string want;
    };
    const Case cases[] = {
        {"{", "event file 'e.json' is not JSON: line 1, column 2"},
        {"[]", "event file 'e.json' is a JSON array, not an object"},
        {R"({"action":"opened","pull_request":{}})",
         "event file 'e.json' has no 'client_payload' object"},
        {R"({"client_payload":"{}"})", "event file 'e.json' has no 'client_payload' object"},
        {R"({"client_payload":{"payload":{}}})",
         "event file 'e.json': client_payload has no 'delivery_id'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.json);
        CHECK_THROWS_WITH_AS(crcr::client_payload_of(c.json, "e.json"),
                             doctest::Contains(c.want.c_str()),
                             crcr::Error);
    }
}

TEST_CASE("self_report_payload is the contract's nightly and periodic payload") {
    const std::string sha(40, 'a');
    CHECK(crcr::self_report_payload("nightly", sha).dump()
          == R"({"event_type":"nightly","delivery_id":")" + sha
                 + R"(","payload":{"repository":{"full_name":"pytorch/pytorch"},"head_sha":")" + sha
                 + R"("}})");
    CHECK_THROWS_WITH(crcr::self_report_payload("weekly", sha),
                      "--event-type 'weekly' is not nightly or periodic");
    CHECK_THROWS_WITH(crcr::self_report_payload("periodic", "abc"),
                      "--sha 'abc' is not a commit SHA (40 lowercase hex digits)");
}

TEST_CASE(
    "callback_backoff: full jitter over a window sized to the relay's 60 s, never sub-second") {
    crcr::Random random(7);
    const long long windows[] = {5'000, 10'000, 20'000, 40'000, 60'000, 60'000, 60'000};
    for (int retry = 0; retry < 7; ++retry) {
        long long low = 1'000'000;
        long long high = 0;
        for (int i = 0; i < 500; ++i) {
            const long long wait = crcr::callback_backoff(retry, std::nullopt, random).count();
            low = std::min(low, wait);
            high = std::max(high, wait);
        }
        CAPTURE(retry);
        CHECK(low >= 1'000);
        CHECK(high <= windows[retry]);
        CHECK(high - low > windows[retry] / 2); // spread over the window: jitter
    }
    const crcr::HttpResponse asked{.status = 429, .headers = {{"Retry-After", "17"}}};
    CHECK(crcr::callback_backoff(0, asked, random).count() == 17'000);
    const crcr::HttpResponse zero{.status = 503, .headers = {{"retry-after", "0"}}};
    CHECK(crcr::callback_backoff(3, zero, random).count() == 1'000);
    // However long: a wait beyond --max-time ends the callback, it is never a reason to hurry.
    const crcr::HttpResponse long_wait{.status = 429, .headers = {{"Retry-After", "999999"}}};
    CHECK(crcr::callback_backoff(0, long_wait, random).count() == 999'999'000);
    const crcr::HttpResponse huge{.status = 503,
                                  .headers = {{"Retry-After", "99999999999999999999999"}}};
    CHECK(crcr::callback_backoff(0, huge, random).count() == 1'000'000'000'000);
}
