#include "test_support.hpp"

#include "crcr/delivery.hpp"
#include "crcr/error.hpp"
#include "crcr/random.hpp"
#include "crcr/replay.hpp"
#include "crcr/signature.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace {

using namespace std::chrono_literals;

// `n` signed deliveries as capture records, one a line; their delivery ids (the records' keys)
// in `ids` when given.
std::string capture_lines(int n, std::vector<std::string>* ids = nullptr) {
    crcr::Random random(7);
    std::string text;
    for (int i = 0; i < n; ++i) {
        const crcr::Delivery d =
            crcr::make_delivery("pull_request",
                                "opened",
                                fmt::format(R"({{"action":"opened","number":{}}})", i),
                                std::string("old"),
                                random);
        text += crcr::capture_record(d) + "\n";
        if (ids != nullptr) {
            ids->push_back(d.id);
        }
    }
    return text;
}

// Answers each request with the status `answer` picks for it (from its attempt number, 1 up,
// counted by X-GitHub-Delivery), and keeps what arrived.
class ScriptedReceiver final : public crcr::HttpClient {
public:
    explicit ScriptedReceiver(std::function<crcr::HttpResponse(int attempt)> answer)
        : m_answer(std::move(answer)) {}
    crcr::HttpResponse send(const crcr::HttpRequest& request) override {
        const std::string id = header_of(request, "X-GitHub-Delivery");
        requests.push_back(request);
        return m_answer(++m_attempts[id]);
    }
    static std::string header_of(const crcr::HttpRequest& request, std::string_view name) {
        for (const auto& header : request.headers) {
            if (header.first == name) {
                return header.second;
            }
        }
        return "";
    }
    std::vector<crcr::HttpRequest> requests;

private:
    std::function<crcr::HttpResponse(int)> m_answer;
    std::map<std::string, int> m_attempts;
};

struct EngineRun {
    crcr::ExitCode code = crcr::ExitCode::ok;
    std::string out;
    std::string err;
    std::vector<long long> sleeps; // seconds
};

// Runs the engine in-process: requests to `receiver` (one at a time), time from a test clock.
EngineRun run_engine(const crcr::ReplaySettings& settings,
                     crcr::HttpClient& receiver,
                     const std::string& input = "") {
    crcr::test::TestClock clock;
    crcr::test::SerializedHttpClient serialized(receiver);
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    const crcr::Environment env;
    crcr::Context ctx{
        in,
        out,
        err,
        serialized,
        [&serialized] { return std::make_unique<crcr::SequentialHttpClient>(serialized); },
        env};
    ctx.now = [&clock] { return clock.now(); };
    ctx.sleep = [&clock](std::chrono::milliseconds d) { clock.sleep(d); };
    ctx.random_seed = [] { return std::uint64_t{42}; };
    EngineRun run;
    run.code = crcr::replay(settings, ctx);
    run.out = out.str();
    run.err = err.str();
    run.sleeps = clock.sleeps();
    return run;
}

crcr::HttpResponse answer(int status, crcr::HttpHeaders headers = {}) {
    crcr::HttpResponse response;
    response.status = status;
    response.headers = std::move(headers);
    return response;
}

} // namespace

TEST_CASE("outcome_name") {
    CHECK(crcr::outcome_name(crcr::ReplayOutcome::delivered) == "delivered");
    CHECK(crcr::outcome_name(crcr::ReplayOutcome::rejected) == "rejected");
    CHECK(crcr::outcome_name(crcr::ReplayOutcome::failed) == "failed");
    CHECK(crcr::outcome_name(crcr::ReplayOutcome::skipped) == "skipped");
}

TEST_CASE("LatencyStats") {
    SUBCASE("none: zeros") {
        const crcr::LatencyStats stats;
        CHECK(stats.mean() == 0);
        CHECK(stats.p99() == 0);
    }
    SUBCASE("the 99th percentile is the top of its bucket, within a tenth of a decade") {
        struct Case {
            std::string name;
            int fast; // deliveries of 1 ms
            int slow; // of 1000 ms
            double p99_at_least;
            double p99_below;
        };
        const Case cases[] = {
            {"all fast", 100, 0, 1.0, 1.26},
            {"1 % slow", 99, 1, 1.0, 1.26},
            {"2 % slow", 98, 2, 1000, 1260},
        };
        for (const Case& c : cases) {
            CAPTURE(c.name);
            crcr::LatencyStats stats;
            for (int i = 0; i < c.fast; ++i) {
                stats.add(1);
            }
            for (int i = 0; i < c.slow; ++i) {
                stats.add(1000);
            }
            CHECK(stats.mean() == doctest::Approx((c.fast + 1000.0 * c.slow) / (c.fast + c.slow)));
            CHECK(stats.p99() >= c.p99_at_least);
            CHECK(stats.p99() < c.p99_below);
        }
    }
    SUBCASE("beyond the buckets: counted in the last and the first") {
        crcr::LatencyStats stats;
        stats.add(1e9);
        CHECK(stats.p99() == doctest::Approx(1e6));
        crcr::LatencyStats tiny;
        tiny.add(0);
        CHECK(tiny.p99() == doctest::Approx(0.001 * 1.2589).epsilon(0.001));
    }
}

TEST_CASE("append_state_line and load_replay_state") {
    const crcr::test::TempDir dir;
    const std::string latin1_key = "caf\xe9.json:1";
    const std::string other_latin1_key = "caf\xe8.json:1";
    std::string lines;
    crcr::append_state_line(lines, "a.jsonl:1", "sending");
    crcr::append_state_line(lines, latin1_key, "sending");
    crcr::append_state_line(lines, other_latin1_key, "failed");
    crcr::append_state_line(lines, "a.jsonl:1", "delivered"); // the last line for a key wins
    crcr::append_state_line(lines, "quote\"d", "rejected");
    CHECK(lines.starts_with("{\"key\":\"a.jsonl:1\",\"outcome\":\"sending\"}\n"
                            "{\"key_base64url\":\"Y2Fm6S5qc29uOjE\",\"outcome\":\"sending\"}\n"));
    lines += "{\"key\":\"cut short\",\"outc"; // a crash in the middle of a line
    const std::string path = dir.write("run.state", lines + "\nnot json\n{\"key\":1}\n");
    const std::unordered_map<std::string, std::string> want = {{"a.jsonl:1", "delivered"},
                                                               {latin1_key, "sending"},
                                                               {other_latin1_key, "failed"},
                                                               {"quote\"d", "rejected"}};
    CHECK(crcr::load_replay_state(path) == want);
    CHECK(crcr::load_replay_state("").empty());
}

TEST_CASE("append_report_line") {
    // The line appended for `finished`, parsed; checks it is one line after what was there.
    const auto line_of = [](const crcr::ReplayFinished& finished) {
        std::string out = "before\n";
        crcr::append_report_line(out, finished, "http://t/");
        REQUIRE(out.starts_with("before\n"));
        REQUIRE(out.ends_with("}\n"));
        const std::string line = out.substr(7, out.size() - 8);
        CHECK(line.find('\n') == std::string::npos);
        return nlohmann::json::parse(line);
    };
    SUBCASE("delivered") {
        crcr::ReplayFinished finished;
        finished.subject = {"k", "f.jsonl:3", "pull_request", "opened"};
        finished.result.outcome = crcr::ReplayOutcome::delivered;
        finished.result.status = 200;
        finished.result.attempts = 1;
        finished.result.latency_ms = 1.23456;
        finished.result.delivery_id = "id-1";
        CHECK(line_of(finished)
              == nlohmann::json{{"delivery_id", "id-1"},
                                {"key", "k"},
                                {"source", "f.jsonl:3"},
                                {"event", "pull_request"},
                                {"action", "opened"},
                                {"target", "http://t/"},
                                {"outcome", "delivered"},
                                {"status", 200},
                                {"attempts", 1},
                                {"latency_ms", 1.235},
                                {"error", nullptr},
                                {"may_have_dispatched", false}});
    }
    SUBCASE("failed without an answer, no action, bytes that need escaping") {
        crcr::ReplayFinished finished;
        finished.subject = {"k\n\"", "f:1", "push", ""};
        finished.result.outcome = crcr::ReplayOutcome::failed;
        finished.result.attempts = 4;
        finished.result.delivery_id = "id\x01";
        finished.result.error = "reset\t";
        finished.result.may_have_dispatched = true;
        CHECK(line_of(finished)
              == nlohmann::json{{"delivery_id", "id\x01"},
                                {"key", "k\n\""},
                                {"source", "f:1"},
                                {"event", "push"},
                                {"action", nullptr},
                                {"target", "http://t/"},
                                {"outcome", "failed"},
                                {"status", nullptr},
                                {"attempts", 4},
                                {"latency_ms", 0},
                                {"error", "reset\t"},
                                {"may_have_dispatched", true}});
    }
}

TEST_CASE("Pacer") {
    crcr::test::TestClock clock;
    std::istringstream in;
    std::ostringstream out;
    const crcr::Environment env;
    crcr::test::NoNetworkHttpClient http;
    crcr::Context ctx{in, out, out, http, {}, env};
    ctx.now = [&clock] { return clock.now(); };
    ctx.sleep = [&clock](std::chrono::milliseconds d) { clock.sleep(d); };
    SUBCASE("4 a second: a start every 250 ms, no burst") {
        crcr::Pacer pacer(4, ctx);
        const crcr::TimePoint t0 = clock.now();
        CHECK(pacer.try_take(t0));
        CHECK_FALSE(pacer.try_take(t0));
        CHECK_FALSE(pacer.try_take(t0 + 249ms));
        CHECK(pacer.next(t0) == t0 + 250ms);
        CHECK(pacer.try_take(t0 + 250ms));
        CHECK(pacer.next(t0 + 10s) == t0 + 10s); // late: due now, not in a burst of the missed
    }
    SUBCASE("wait sleeps until the next start, and takes it") {
        crcr::Pacer pacer(0.5, ctx);
        pacer.wait();
        pacer.wait();
        pacer.wait();
        CHECK(clock.sleeps() == std::vector<long long>{2, 2});
    }
    SUBCASE("no rate: always due") {
        crcr::Pacer pacer(0, ctx);
        const crcr::TimePoint t0 = clock.now();
        for (int i = 0; i < 100; ++i) {
            CHECK(pacer.try_take(t0));
        }
        pacer.wait();
        CHECK(clock.sleeps().empty());
    }
}

TEST_CASE("ReplayInputs") {
    const crcr::test::TempDir dir;
    dir.write("b.jsonl", "{\"n\":2}\n\n{\"n\":3}\n");
    dir.write("a.jsonl", "{\"n\":1}\n");
    dir.write("c.jsonl", "{\"n\":4}\n{\"n\":"); // the rest cannot be read in step
    const std::vector<std::string> inputs = {dir.path(), dir.path("missing"), "-"};
    std::istringstream stdin_text("{\"n\":5}");
    std::vector<std::string> reported;
    crcr::ReplayInputs records(
        inputs, stdin_text, [&reported](const crcr::Error& e) { reported.push_back(e.what()); });
    std::vector<std::string> got;
    std::string location;
    while (const std::optional<crcr::JsonValueReader::Value> value = records.next(location)) {
        got.push_back(std::string(value->text) + " at " + location);
    }
    const std::vector<std::string> want = {
        "{\"n\":1} at " + dir.path("a.jsonl") + ":1",
        "{\"n\":2} at " + dir.path("b.jsonl") + ":1",
        "{\"n\":3} at " + dir.path("b.jsonl") + ":3",
        "{\"n\":4} at " + dir.path("c.jsonl") + ":1",
        "{\"n\":5} at <stdin>:1",
    };
    CHECK(got == want);
    REQUIRE(reported.size() == 2);
    CHECK(reported[0].find(dir.path("c.jsonl")) != std::string::npos);
    CHECK(reported[1].find(dir.path("missing")) != std::string::npos);
}

TEST_CASE("crcr::replay sends each record once, and retries only what cannot have been acted on") {
    const crcr::test::TempDir dir;
    const std::string captures = dir.write("in.jsonl", capture_lines(3));
    struct Case {
        std::string name;
        std::function<crcr::HttpResponse(int)> answer;
        bool retry_unsafe;
        crcr::ExitCode code;
        std::size_t requests;
        std::string summary;
    };
    const Case cases[] = {
        {"all 200",
         [](int) { return answer(200); },
         false,
         crcr::ExitCode::ok,
         3,
         "3 delivered, 0 rejected, 0 failed, 0 skipped"},
        {"400: rejected, not retried",
         [](int) { return answer(400); },
         false,
         crcr::ExitCode::failure,
         3,
         "0 delivered, 3 rejected, 0 failed"},
        {"500: may have dispatched, not retried",
         [](int) { return answer(500); },
         false,
         crcr::ExitCode::unavailable,
         3,
         "0 delivered, 0 rejected, 3 failed (3 of the rejected and failed may have dispatched)"},
        {"500 with --retry-unsafe: retried",
         [](int n) { return answer(n == 1 ? 500 : 200); },
         true,
         crcr::ExitCode::ok,
         6,
         "3 delivered"},
        {"429 then 200: retried",
         [](int n) { return answer(n == 1 ? 429 : 200); },
         false,
         crcr::ExitCode::ok,
         6,
         "3 delivered"},
        {"always 503 with Retry-After: 1 + --retries attempts",
         [](int) {
             return answer(503, {{"Retry-After", "5"}});
         },
         false,
         crcr::ExitCode::unavailable,
         12,
         "0 delivered, 0 rejected, 3 failed, 0 skipped"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        ScriptedReceiver receiver(c.answer);
        const crcr::ReplaySettings settings{.inputs = {captures},
                                            .to = "http://127.0.0.1:9/github/webhook",
                                            .secret = "s3cret",
                                            .concurrency = 2,
                                            .retry_unsafe = c.retry_unsafe};
        const EngineRun run = run_engine(settings, receiver);
        CHECK(run.code == c.code);
        CHECK(receiver.requests.size() == c.requests);
        CHECK(run.err.find("crcr: replay: " + c.summary) != std::string::npos);
        for (const crcr::HttpRequest& request : receiver.requests) {
            CHECK(
                crcr::verify_signature("s3cret",
                                       request.body,
                                       ScriptedReceiver::header_of(request, "X-Hub-Signature-256"))
                == crcr::SignatureCheck::match);
        }
    }
}

TEST_CASE("crcr::replay --state: a resumed run skips what was done, and what was in flight") {
    const crcr::test::TempDir dir;
    std::vector<std::string> ids;
    const std::string captures = dir.write("in.jsonl", capture_lines(3, &ids));
    std::string state;
    crcr::append_state_line(state, ids[0], "delivered");
    crcr::append_state_line(state, ids[1], "sending");
    const std::string state_path = dir.write("run.state", state);
    ScriptedReceiver receiver([](int) { return answer(200); });
    const crcr::ReplaySettings settings{.inputs = {captures},
                                        .to = "http://127.0.0.1:9/github/webhook",
                                        .report = dir.path("report.jsonl"),
                                        .state = state_path};
    const EngineRun run = run_engine(settings, receiver);
    CHECK(run.code == crcr::ExitCode::ok);
    REQUIRE(receiver.requests.size() == 1);
    CHECK(ScriptedReceiver::header_of(receiver.requests[0], "X-GitHub-Delivery") == ids[2]);
    CHECK(run.err.find("1 delivered, 0 rejected, 0 failed, 2 skipped (1 uncertain)")
          != std::string::npos);
    const std::unordered_map<std::string, std::string> after = crcr::load_replay_state(state_path);
    CHECK(after.at(ids[2]) == "delivered");
    CHECK(after.at(ids[1]) == "sending"); // skipped deliveries leave the state as it was
}

TEST_CASE("crcr::replay --dry-run lists what would be sent and sends nothing") {
    ScriptedReceiver receiver([](int) { return answer(200); });
    const crcr::ReplaySettings settings{
        .inputs = {"-"}, .to = "http://127.0.0.1:9/github/webhook", .limit = 2, .dry_run = true};
    const EngineRun run = run_engine(settings, receiver, capture_lines(3));
    CHECK(run.code == crcr::ExitCode::ok);
    CHECK(receiver.requests.empty());
    CHECK(run.out.find("POST http://127.0.0.1:9/github/webhook pull_request/opened ") == 0);
    CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 2);
    CHECK(run.err.find("crcr: dry run: would send 2 deliveries") != std::string::npos);
}
