#include "callback.hpp"
#include "fake_relay.hpp"
#include "test_support.hpp"

#include "crcr/payload.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

using crcr::test::FakeRelay;
using crcr::test::Reply;
using crcr::test::TestClock;

namespace {

constexpr const char* k_downstream = "my-org/pytorch-ci";
constexpr const char* k_delivery = "6d3e7f80-1a2b-4c5d-8e9f-0a1b2c3d4e5f";

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A fake relay that dispatched k_delivery to k_downstream (at L2), the job's Actions
// environment, and its OIDC token.
struct CallbackFixture {
    TestClock clock;
    FakeRelay relay{[this] { return clock.now(); }};
    std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
    crcr::test::TempDir dir;
    crcr::Environment::Variables env;

    CallbackFixture() {
        relay.set_level(k_downstream, 2);
        relay.add_dispatch(k_delivery, k_downstream);
        const crcr::Json event = {{"action", "pull_request"},
                                  {"client_payload",
                                   {{"event_type", "pull_request"},
                                    {"delivery_id", k_delivery},
                                    {"payload", {{"action", "opened"}, {"number", 170000}}}}}};
        env = {{"GITHUB_ACTIONS", "true"},
               {"GITHUB_EVENT_PATH", dir.write("event.json", event.dump())},
               {"GITHUB_WORKFLOW", "PyTorch CI"},
               {"GITHUB_JOB", "build"},
               {"GITHUB_RUN_ID", "9876543210"},
               {"GITHUB_RUN_ATTEMPT", "1"},
               {"GITHUB_REPOSITORY", k_downstream},
               {"GITHUB_SERVER_URL", "https://github.com"},
               {"CRCR_CALLBACK_URL", relay.callback_url() + "/"},
               {"CRCR_OIDC_TOKEN",
                crcr::test::make_test_jwt(crcr::test::actions_claims(k_downstream, clock.now()))}};
    }

    crcr::test::CliRun run(std::vector<std::string> args) {
        args.insert(args.begin(), "callback");
        return crcr::test::run_crcr(args, crcr::Environment(env), http.get(), "", &clock);
    }
};

} // namespace

TEST_CASE("callback: command line") {
    CLI::App app;
    crcr::CallbackOptions got;
    crcr::add_callback(app, [&got](const crcr::CallbackOptions& o) { got = o; });
    app.parse("callback --status completed --conclusion failure --job-name 'build (cuda)' --junit "
              "a.xml --junit b.xml "
              "--url https://relay/github/callback --token-file t --max-time 30 --retry-on-500 "
              "--json --check-run-id 55",
              false);
    crcr::CallbackOptions want;
    want.status = "completed";
    want.conclusion = "failure";
    want.job_name = "build (cuda)";
    want.junit = {"a.xml", "b.xml"};
    want.url = "https://relay/github/callback";
    want.token_file = "t";
    want.max_time = 30;
    want.retry_on_500 = true;
    want.json = true;
    want.check_run_id = "55";
    CHECK(got == want);
    for (const char* bad : {"callback --status done",
                            "callback --status completed --test-results passed=1 --junit a.xml",
                            "callback --status completed --event-type nightly",
                            "callback --status completed --sha abc",
                            "callback --status completed --event-type weekly --sha abc",
                            "callback --json --dry-run --status completed"}) {
        CAPTURE(bad);
        CLI::App other;
        crcr::add_callback(other, [](const crcr::CallbackOptions&) {});
        CHECK_THROWS_AS(other.parse(bad, false), CLI::ParseError);
    }
}

TEST_CASE(
    "callback: in_progress then completed, the relay's exact body from the Actions environment") {
    CallbackFixture f;
    const auto started = f.run({"--status", "in_progress"});
    CHECK(started.code == 0);
    CHECK(started.out
          == "callback accepted: in_progress for job 'build' (run 9876543210, attempt 1)\n");
    CHECK(started.err == "");
    const auto done = f.run({"--status",
                             "completed",
                             "--conclusion",
                             "success",
                             "--test-results",
                             "passed=10,failed=0,skipped=2"});
    CHECK(done.code == 0);
    const auto accepted = f.relay.accepted();
    REQUIRE(accepted.size() == 2);
    CHECK(
        f.relay.requests().at(0).body
        == R"({"event_type":"pull_request","delivery_id":"6d3e7f80-1a2b-4c5d-8e9f-0a1b2c3d4e5f","payload":{"action":"opened","number":170000},"workflow":{"schema_version":"1","status":"in_progress","conclusion":null,"name":"PyTorch CI","job_name":"build","run_id":"9876543210","run_attempt":"1","check_run_id":"9876543210-1","url":"https://github.com/my-org/pytorch-ci/actions/runs/9876543210","started_at":"2026-09-21T14:13:20Z","completed_at":null}})");
    CHECK(accepted[1]["workflow"]["status"] == "completed");
    CHECK(accepted[1]["workflow"]["conclusion"] == "success");
    CHECK(accepted[1]["workflow"]["completed_at"] == "2026-09-21T14:13:20Z");
    CHECK(accepted[1]["workflow"]["test_results"]
          == nlohmann::json::parse(R"({"passed":10,"failed":0,"skipped":2})"));
    const auto request = f.relay.requests().at(0);
    CHECK(request.target == "/github/callback"); // the trailing slash of the URL removed
    CHECK(request.header("Content-Type") == "application/json");
    CHECK(request.header("Authorization") == "Bearer " + f.env["CRCR_OIDC_TOKEN"]);
}

TEST_CASE("callback: matrix legs need distinct job names") {
    CallbackFixture f;
    for (const char* leg : {"build (cpu)", "build (npu)"}) {
        CHECK(f.run({"--status", "in_progress", "--job-name", leg}).code == 0);
    }
    for (const char* leg : {"build (cpu)", "build (npu)"}) {
        CHECK(f.run({"--status", "completed", "--conclusion", "failure", "--job-name", leg}).code
              == 0);
    }
    CHECK(f.relay.accepted().size() == 4);
    // Legs sharing a name collide in the relay's state store.
    CHECK(f.run({"--status", "in_progress", "--job-name", "test"}).code == 0);
    const auto second_leg = f.run({"--status", "in_progress", "--job-name", "test"});
    CHECK(second_leg.code == 1);
    CHECK(has(second_leg.err,
              "crcr: error: the relay refused the callback (400 callback rejected: invalid state "
              "transition delivery_id="
                  + std::string(k_delivery)
                  + " repo=my-org/pytorch-ci "
                    "status=in_progress): each job reports in_progress once"));
    CHECK(has(second_leg.err, "matrix legs need distinct --job-name values"));
}

TEST_CASE("callback: the relay's answers, each with its exit code and explanation") {
    struct Case {
        std::string name;
        std::function<void(CallbackFixture&)> arrange;
        std::vector<std::string> args;
        int want_code;
        std::string want_err;
        int want_requests;
    };
    const std::vector<std::string> completed = {"--status", "completed", "--conclusion", "success"};
    const Case cases[] = {
        {"completed without in_progress",
         [](auto&) {},
         completed,
         1,
         "invalid state transition delivery_id=" + std::string(k_delivery)
             + " repo=my-org/pytorch-ci status=completed",
         1},
        {"no dispatch record",
         [](CallbackFixture& f) {
             f.relay.add_dispatch("other", k_downstream);
             f.env["GITHUB_EVENT_PATH"] = f.dir.write(
                 "other.json",
                 R"({"client_payload":{"event_type":"push","delivery_id":"nope","payload":{}}})");
         },
         {"--status", "in_progress"},
         1,
         "(400 callback rejected: no matching dispatch record): the relay has no dispatch of this "
         "delivery to this repository",
         1},
        {"below L2 is ignored",
         [](CallbackFixture& f) { f.relay.set_level(k_downstream, 1); },
         {"--status", "in_progress"},
         0,
         "crcr: warning: the relay ignored the callback: 'my-org/pytorch-ci' is below L2 or not in "
         "the allowlist",
         1},
        {"token signed by another key",
         [](CallbackFixture& f) {
             std::string token = f.env["CRCR_OIDC_TOKEN"];
             // Not the last character: some of its bits are base64url padding, which decoders
             // ignore, so changing it left the signature valid one time in four.
             char& c = token[token.size() - 10];
             c = c == 'A' ? 'B' : 'A';
             f.env["CRCR_OIDC_TOKEN"] = token;
         },
         {"--status", "in_progress"},
         4,
         "the relay refused the token (401 Invalid authorization token): it checks the OIDC "
         "token's signature, audience (pytorch-cross-repo-ci-relay)",
         1},
        {"403 for a pipeline",
         [](CallbackFixture& f) {
             f.relay.inject({{Reply{.status = 403,
                                    .body = R"({"detail":"Unregistered Buildkite pipeline"})"}}});
         },
         {"--status", "in_progress"},
         4,
         "(403 Unregistered Buildkite pipeline): a Buildkite pipeline must be registered",
         1},
        {"500 is not retried",
         [](CallbackFixture& f) {
             f.relay.inject(
                 {{Reply{
                       .status = 500,
                       .body =
                           R"({"detail":"Failed to forward to HUD; please retry with progressive backoff"})"},
                   true}});
         },
         {"--status", "in_progress"},
         5,
         "the relay answered 500 (Failed to forward to HUD; please retry with progressive "
         "backoff): HUD failed after the relay's own retries; the relay recorded the step before "
         "calling HUD",
         1},
        {"a 418 is a failure",
         [](CallbackFixture& f) { f.relay.inject({{Reply{.status = 418, .body = "teapot"}}}); },
         {"--status", "in_progress"},
         1,
         "the relay answered 418 (teapot)",
         1},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CallbackFixture f;
        c.arrange(f);
        const auto result = f.run(c.args);
        CAPTURE(result.err);
        CHECK(result.code == c.want_code);
        CHECK(has(result.err, c.want_err));
        CHECK(f.relay.callback_requests() == c.want_requests);
        CHECK_FALSE(has(result.out + result.err, f.env["CRCR_OIDC_TOKEN"]));
    }
}

TEST_CASE("callback retries only what the relay rejected before recording anything") {
    struct Case {
        std::string name;
        std::vector<FakeRelay::Injection> injected;
        std::vector<std::string> extra;
        int want_code;
        int want_requests;
        std::size_t want_accepted;
        std::string want_err;
    };
    const Reply limited{.status = 429,
                        .body = R"({"detail":"rate limit exceeded for my-org/pytorch-ci"})"};
    const Reply unavailable{.status = 503, .body = R"({"detail":"state store unavailable"})"};
    const Reply hud_failed{.status = 500, .body = R"({"detail":"Internal server error"})"};
    const Reply dropped{.action = Reply::Action::close_silently};
    const Case cases[] = {
        {"429 three times, then taken",
         {{limited}, {limited}, {limited}},
         {},
         0,
         4,
         1,
         "callback attempt 3 failed (429 rate limit exceeded for my-org/pytorch-ci); trying again "
         "in "},
        {"503 then taken",
         {{unavailable}},
         {},
         0,
         2,
         1,
         "callback attempt 1 failed (503 state store unavailable)"},
        {"no answer, not recorded, then taken",
         {{dropped}},
         {},
         0,
         2,
         1,
         "callback attempt 1 failed (no answer: "},
        {"no answer but recorded: the retry's 400 means it landed",
         {{dropped, true}},
         {},
         0,
         2,
         1,
         "crcr: note: the relay already had this in_progress step"},
        {"500 with --retry-on-500: recorded, so the retry's 400 means it landed",
         {{hud_failed, true}},
         {"--retry-on-500"},
         0,
         2,
         1,
         "crcr: note: the relay already had this in_progress step"},
        {"429 forever: out of time",
         std::vector<FakeRelay::Injection>(40, {limited}),
         {"--max-time", "60"},
         5,
         -1,
         0,
         "crcr: error: the relay did not take the callback after "},
        {"connection reset mid-answer, recorded",
         {{Reply{.status = 200,
                 .body = std::string(200, ' '),
                 .action = Reply::Action::reset_mid_body},
           true}},
         {},
         0,
         2,
         1,
         "crcr: note: the relay already had this in_progress step"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CallbackFixture f;
        f.relay.inject(c.injected);
        std::vector<std::string> args = {"--status", "in_progress"};
        args.insert(args.end(), c.extra.begin(), c.extra.end());
        const auto result = f.run(args);
        CAPTURE(result.err);
        CHECK(result.code == c.want_code);
        if (c.want_requests >= 0) {
            CHECK(f.relay.callback_requests() == c.want_requests);
        }
        CHECK(f.relay.accepted().size() == c.want_accepted);
        CHECK(has(result.err, c.want_err));
        long long slept = 0;
        for (const long long s : f.clock.sleeps()) {
            CHECK(s >= 1); // never sub-second: each retry counts against the relay's window
            slept += s;
        }
        CHECK(slept < (c.extra == std::vector<std::string>{"--max-time", "60"} ? 60 : 120));
    }
}

TEST_CASE("callback: a hanging relay is timed out and retried within --max-time") {
    CallbackFixture f;
    f.relay.inject({{Reply{.status = 200,
                           .body = R"({"ok":true,"status":"in_progress"})",
                           .delay = std::chrono::milliseconds(2'500)}}});
    const auto result = f.run({"--status", "in_progress", "--max-time", "6"}); // 1.5 s an attempt
    CAPTURE(result.err);
    CHECK(result.code == 0);
    CHECK(f.relay.callback_requests() == 2);
}

TEST_CASE("callback mints the OIDC token inside Actions, with the relay's audience") {
    CallbackFixture f;
    f.env.erase("CRCR_OIDC_TOKEN");
    f.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f.relay.token_request_url();
    f.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "request-token-secret";
    f.relay.set_actions("request-token-secret", k_downstream);
    const auto result = f.run({"--status", "in_progress"});
    CHECK(result.code == 0);
    const auto requests = f.relay.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].target
          == "/_apis/oidc/token?api-version=2.0&audience=pytorch-cross-repo-ci-relay");
    CHECK(requests[0].header("Authorization") == "Bearer request-token-secret");
    CHECK(f.relay.accepted().size() == 1);
    CHECK_FALSE(has(result.out + result.err, "request-token-secret"));

    f.relay.set_actions("another", k_downstream);
    const auto refused = f.run({"--status", "completed", "--conclusion", "success"});
    CHECK(refused.code == 4);
    CHECK(has(refused.err,
              "GitHub Actions would not mint an OIDC token (401 Bad token): the job needs "
              "'permissions: id-token: write'"));
}

TEST_CASE("callback: token problems are named before anything is sent") {
    struct Case {
        std::string name;
        std::function<void(CallbackFixture&)> arrange;
        std::string want;
    };
    const Case cases[] = {
        {"no token in Actions",
         [](CallbackFixture& f) { f.env.erase("CRCR_OIDC_TOKEN"); },
         "cannot mint an OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set, so the job lacks "
         "'permissions: id-token: write'"},
        {"no token outside Actions",
         [](CallbackFixture& f) {
             f.env.erase("CRCR_OIDC_TOKEN");
             f.env.erase("GITHUB_ACTIONS");
         },
         "no OIDC token: --token-file or CRCR_OIDC_TOKEN"},
        {"not a JWT",
         [](CallbackFixture& f) { f.env["CRCR_OIDC_TOKEN"] = "ghp_notajwt"; },
         "the OIDC token is not usable: the token is not a JWT"},
        {"expired",
         [](CallbackFixture& f) {
             f.env["CRCR_OIDC_TOKEN"] = crcr::test::make_test_jwt(crcr::test::actions_claims(
                 k_downstream, f.clock.now() - std::chrono::minutes(10)));
         },
         "the OIDC token expired 5 min ago (tokens live about 5 minutes"},
        {"wrong audience",
         [](CallbackFixture& f) {
             f.env["CRCR_OIDC_TOKEN"] = crcr::test::make_test_jwt(
                 crcr::test::actions_claims(k_downstream, f.clock.now(), "sts.amazonaws.com"));
         },
         "the OIDC token's audience is \"sts.amazonaws.com\", and the relay accepts only "
         "'pytorch-cross-repo-ci-relay'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CallbackFixture f;
        c.arrange(f);
        const auto result = f.run({"--status", "in_progress"});
        CHECK(result.code == 4);
        CHECK(has(result.err, c.want));
        CHECK(f.relay.requests().empty());
    }
}

TEST_CASE("callback: bad input is a clear error, nothing sent") {
    struct Case {
        std::string name;
        std::function<std::vector<std::string>(CallbackFixture&)> arrange;
        int want_code;
        std::string want;
    };
    const Case cases[] = {
        {"event file missing",
         [](CallbackFixture& f) {
             f.env["GITHUB_EVENT_PATH"] = f.dir.path("nope.json");
             return std::vector<std::string>{"--status", "in_progress"};
         },
         1,
         "nope.json"},
        {"no event file at all",
         [](CallbackFixture& f) {
             f.env.erase("GITHUB_EVENT_PATH");
             return std::vector<std::string>{"--status", "in_progress"};
         },
         2,
         "no event file: --event-file, or GITHUB_EVENT_PATH"},
        {"event file not JSON",
         [](CallbackFixture& f) {
             return std::vector<std::string>{"--status",
                                             "in_progress",
                                             "--event-file",
                                             f.dir.write("e.json", "{\"a\":\n  nope}")};
         },
         1,
         "e.json' is not JSON: line 2, column 4"},
        {"no client_payload",
         [](CallbackFixture& f) {
             return std::vector<std::string>{"--status",
                                             "in_progress",
                                             "--event-file",
                                             f.dir.write("e.json", R"({"action":"opened"})")};
         },
         1,
         "has no 'client_payload' object"},
        {"completed without conclusion",
         [](CallbackFixture&) {
             return std::vector<std::string>{"--status", "completed"};
         },
         2,
         "--status completed needs --conclusion"},
        {"unknown conclusion",
         [](CallbackFixture&) {
             return std::vector<std::string>{"--status", "completed", "--conclusion", "passed"};
         },
         2,
         "--conclusion 'passed' is not a GitHub conclusion"},
        {"malformed test results",
         [](CallbackFixture&) {
             return std::vector<std::string>{
                 "--status", "completed", "--conclusion", "success", "--test-results", "passed=a"};
         },
         2,
         "has 'passed=a', not a count"},
        {"invalid JUnit",
         [](CallbackFixture& f) {
             return std::vector<std::string>{"--status",
                                             "completed",
                                             "--conclusion",
                                             "success",
                                             "--junit",
                                             f.dir.write("r.xml", "<testsuite>\n<testcase>")};
         },
         1,
         "r.xml:2:10: not well-formed XML"},
        {"run id not a number",
         [](CallbackFixture& f) {
             f.env["GITHUB_RUN_ID"] = "latest";
             return std::vector<std::string>{"--status", "in_progress"};
         },
         2,
         "run id 'latest' is not an integer (the relay answers 500 to it)"},
        {"empty job name",
         [](CallbackFixture&) {
             return std::vector<std::string>{"--status", "in_progress", "--job-name", ""};
         },
         2,
         "no job name"},
        {"no status",
         [](CallbackFixture&) { return std::vector<std::string>{}; },
         2,
         "--status is required"},
        {"self-report in progress",
         [](CallbackFixture&) {
             return std::vector<std::string>{"--status",
                                             "in_progress",
                                             "--event-type",
                                             "nightly",
                                             "--sha",
                                             std::string(40, 'a')};
         },
         2,
         "one --status completed callback"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CallbackFixture f;
        const auto args = c.arrange(f);
        const auto result = f.run(args);
        CHECK(result.code == c.want_code);
        CHECK(has(result.err, c.want));
        CHECK(f.relay.requests().empty());
    }
}

TEST_CASE("callback: JUnit reports are counted and summed") {
    CallbackFixture f;
    const std::string a = f.dir.write(
        "a.xml",
        R"(<testsuites><testsuite><testcase name="x"/><testcase name="y"><failure/></testcase></testsuite></testsuites>)");
    const std::string b = f.dir.write(
        "b.xml",
        R"(<testsuite><testcase name="z"><skipped/></testcase><testcase name="w"/><testcase name="v"><error/></testcase></testsuite>)");
    CHECK(f.run({"--status", "in_progress"}).code == 0);
    const auto result = f.run({"--status",
                               "completed",
                               "--conclusion",
                               "failure",
                               "--junit",
                               a,
                               "--junit",
                               b,
                               "--artifact-url",
                               "https://example.com/logs"});
    CHECK(result.code == 0);
    const auto workflow = f.relay.accepted().at(1)["workflow"];
    CHECK(workflow["test_results"]
          == nlohmann::json::parse(R"({"passed":2,"failed":2,"skipped":1})"));
    CHECK(workflow["artifact_url"] == "https://example.com/logs");
}

TEST_CASE("callback: a nightly self-report needs no event file") {
    CallbackFixture f;
    f.env.erase("GITHUB_EVENT_PATH");
    const std::string sha = "0123456789abcdef0123456789abcdef01234567";
    const auto result = f.run({"--status",
                               "completed",
                               "--conclusion",
                               "success",
                               "--event-type",
                               "nightly",
                               "--sha",
                               sha});
    CHECK(result.code == 0);
    const auto body = f.relay.accepted().at(0);
    CHECK(body["event_type"] == "nightly");
    CHECK(body["delivery_id"] == sha);
    CHECK(body["payload"]
          == nlohmann::json::parse(R"({"repository":{"full_name":"pytorch/pytorch"},"head_sha":")"
                                   + sha + "\"}"));
}

TEST_CASE("callback --explain-token shows the claims, not the signature, and sends nothing") {
    CallbackFixture f;
    const auto result = f.run({"--explain-token"});
    CHECK(result.code == 0);
    CHECK(has(result.out, "header: {\"alg\":\"RS256\",\"kid\":\"test\",\"typ\":\"JWT\"}\n"));
    CHECK(has(result.out, "iss: \"https://token.actions.githubusercontent.com\"\n"));
    CHECK(has(result.out, "aud: \"pytorch-cross-repo-ci-relay\"  (as the relay requires)\n"));
    CHECK(has(result.out,
              "repository: \"my-org/pytorch-ci\"  (the relay's identity for the caller)\n"));
    CHECK(has(result.out, "exp: 1790000300  (2026-09-21T14:18:20Z, 5 min left)\n"));
    CHECK(has(result.out, "other claims: "));
    const std::string token = f.env["CRCR_OIDC_TOKEN"];
    CHECK_FALSE(has(result.out, token.substr(token.rfind('.') + 1)));
    CHECK(f.relay.requests().empty());
}

TEST_CASE(
    "callback --dry-run prints the request with the token redacted, --json prints the result") {
    CallbackFixture f;
    const auto dry = f.run({"--status", "in_progress", "--dry-run"});
    CHECK(dry.code == 0);
    CHECK(dry.out.starts_with("POST " + f.relay.callback_url()
                              + "\nContent-Type: application/json\n"));
    CHECK(has(dry.out, "Authorization: Bearer ***\n"));
    CHECK(has(dry.out, "\"workflow\":{\"schema_version\":\"1\",\"status\":\"in_progress\""));
    CHECK_FALSE(has(dry.out, f.env["CRCR_OIDC_TOKEN"]));
    CHECK(f.relay.requests().empty());

    const auto json = f.run({"--status", "in_progress", "--json"});
    CHECK(json.code == 0);
    CHECK(
        crcr::Json::parse(json.out).dump()
        == R"({"delivery_id":"6d3e7f80-1a2b-4c5d-8e9f-0a1b2c3d4e5f","job_name":"build","status":"in_progress","attempts":1,"http_status":200,"landed_earlier":false})");
    const auto again = f.run({"--status", "in_progress", "--json"});
    CHECK(again.code == 1);
    CHECK(crcr::Json::parse(again.out)["exit_code"] == 1);
}

TEST_CASE("callback outside GitHub Actions: the run URL from the token's repository, or none") {
    CallbackFixture f;
    for (const char* variable :
         {"GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL", "GITHUB_RUN_ID"}) {
        f.env.erase(variable);
    }
    // Built from the token's `repository` claim, the relay's identity of the caller.
    const auto from_token = f.run({"--status", "in_progress", "--run-id", "77"});
    CAPTURE(from_token.err);
    CHECK(from_token.code == 0);
    REQUIRE(f.relay.accepted().size() == 1);
    CHECK(f.relay.accepted()[0]["workflow"]["url"]
          == "https://github.com/my-org/pytorch-ci/actions/runs/77");
    // No token to read it from (a dry run needs none): sent without a URL, not refused.
    f.env.erase("CRCR_OIDC_TOKEN");
    const auto dry = f.run({"--status", "in_progress", "--run-id", "78", "--dry-run"});
    CHECK(dry.code == 0);
    CHECK(has(dry.err, "no run URL"));
    const std::string body = dry.out.substr(dry.out.find("\n\n") + 2);
    CHECK(crcr::Json::parse(body)["workflow"].contains("url") == false);
    CHECK(crcr::Json::parse(body)["workflow"]["run_id"] == "78");
}
