#include "fake_github.hpp"
#include "replay.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

#include "crcr/delivery.hpp"
#include "crcr/files.hpp"
#include "crcr/signature.hpp"
#include "crcr/utf8.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>

using crcr::test::Reply;
using crcr::test::TestServer;

namespace {

constexpr const char* k_secret = "replay secret";

bool includes(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A relay stand-in that checks every signature (recomputed here) and counts deliveries by id.
struct Receiver {
    std::mutex mutex;
    std::map<std::string, int> counts;
    std::vector<std::string> bad_signatures;
    int sha1_good = 0;  // requests with a right X-Hub-Signature
    int sha1_other = 0; // with a wrong one
    std::function<Reply(const crcr::test::RecordedRequest&, int)> answer; // nth request (0-based)
    int seen = 0;
    TestServer server{[this](const crcr::test::RecordedRequest& request) {
        std::lock_guard lock(mutex);
        const std::string id = request.header("X-GitHub-Delivery").value_or("?");
        if (request.header("X-Hub-Signature-256") != crcr::sign_sha256(k_secret, request.body)) {
            bad_signatures.push_back(id);
        }
        if (const auto sha1 = request.header("X-Hub-Signature")) {
            ++(*sha1 == crcr::sign_sha1(k_secret, request.body) ? sha1_good : sha1_other);
        }
        const Reply reply =
            answer ? answer(request, seen)
                   : Reply{.status = 202, .reason = "Accepted", .body = "{\"ok\":true}"};
        ++seen;
        if (reply.status >= 200 && reply.status < 300 && reply.action == Reply::Action::respond) {
            ++counts[id];
        }
        return reply;
    }};
};

// `n` signed captured deliveries (simulate's records) in a file; their ids in order.
std::vector<std::string> write_captures(const crcr::test::TempDir& dir,
                                        const std::string& name,
                                        int n,
                                        const std::string& event = "pull_request") {
    crcr::Random random(static_cast<std::uint64_t>(n) * 7 + name.size());
    std::string text;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
        const std::string body = fmt::format(
            R"({{"action":"{}","number":{},"repository":{{"full_name":"pytorch/pytorch"}},"note":"caf\u00e9 \ud83d\ude80  spaced"}})",
            i % 2 == 0 ? "opened" : "synchronize",
            100 + i);
        const crcr::Delivery d = crcr::make_delivery(
            event, i % 2 == 0 ? "opened" : "synchronize", body, std::string("old secret"), random);
        text += crcr::capture_record(d) + "\n";
        ids.push_back(d.id);
    }
    dir.write(name, text);
    return ids;
}

// Replay's event loops as `main` makes them: the plain client for http://, libcurl's behind it.
std::unique_ptr<crcr::ConcurrentHttpClient> event_loop() {
    return crcr::make_plain_concurrent_http_client(crcr::make_curl_concurrent_http_client(), false);
}

crcr::Environment replay_secret_env() {
    return crcr::Environment(crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET", k_secret}});
}

// `crcr replay <args...>` sending webhooks as `main` does, with libcurl's event loop.
crcr::test::CliRun replay(std::vector<std::string> args,
                          crcr::HttpClient& http,
                          const crcr::Environment& env = replay_secret_env()) {
    args.insert(args.begin(), "replay");
    return crcr::test::run_crcr(args, env, &http, "", nullptr, event_loop);
}

} // namespace

TEST_CASE("replay: command line") {
    CLI::App app;
    crcr::ReplayOptions got;
    crcr::add_replay(app, [&got](const crcr::ReplayOptions& o) { got = o; });
    app.parse("replay a.jsonl dir - --to http://r/github/webhook --new-delivery-id --filter "
              "event=push --filter pr=3 --limit 5 "
              "--concurrency 8 --rate 100 --timeout 2 --retries 1 --retry-unsafe --report r.jsonl "
              "--state s.jsonl --resend-failed --event push",
              false);
    crcr::ReplayOptions want;
    want.inputs = {"a.jsonl", "dir", "-"};
    want.to = "http://r/github/webhook";
    want.new_delivery_id = true;
    want.filters = {"event=push", "pr=3"};
    want.limit = 5;
    want.concurrency = 8;
    want.rate = 100;
    want.timeout = 2;
    want.retries = 1;
    want.retry_unsafe = true;
    want.report = "r.jsonl";
    want.state = "s.jsonl";
    want.resend_failed = true;
    want.event = "push";
    CHECK(got == want);
    const auto no_target = crcr::test::run_crcr({"replay", "a.jsonl"});
    CHECK(no_target.code == 2);
    CHECK(includes(no_target.err, "replay needs a target: --to URL or --dispatch-to OWNER/NAME"));
    CHECK(crcr::test::run_crcr({"replay", "a", "--to", "x", "--dispatch-to", "o/r"}).code == 2);
    CHECK(crcr::test::run_crcr({"replay", "a", "--dispatch-to", "o/r", "--legacy-signature"}).code
          == 2);
    CHECK(crcr::test::run_crcr({"replay", "a", "--to", "ftp://x"}).code == 2);
    // The same missing-credentials error as every command, naming what needs them.
    const auto no_credentials = crcr::test::run_crcr({"replay", "a", "--dispatch-to", "o/r"});
    CHECK(no_credentials.code == 4);
    CHECK(includes(no_credentials.err,
                   "no GitHub credentials for --dispatch-to: set GH_TOKEN or GITHUB_TOKEN, or "
                   "--token-file, or a GitHub App's --app-id and --private-key (CRCR_APP_ID, "
                   "CRCR_APP_PRIVATE_KEY_FILE); logged in with the GitHub CLI? GH_TOKEN=$(gh auth "
                   "token)"));
    CHECK(crcr::test::run_crcr({"replay", "a", "--to", "http://x", "--concurrency", "0"}).code
          == 2);
}

TEST_CASE("replay --legacy-signature adds X-Hub-Signature, without it the stale one is dropped") {
    const crcr::test::TempDir dir;
    write_captures(dir, "c.jsonl", 6); // captured with both signatures, by another secret
    const auto http = crcr::make_curl_http_client();
    for (const bool legacy : {false, true}) {
        CAPTURE(legacy);
        Receiver receiver;
        std::vector<std::string> args = {
            dir.path("c.jsonl"), "--to", receiver.server.url("/github/webhook")};
        if (legacy) {
            args.emplace_back("--legacy-signature");
        }
        CHECK(replay(args, *http).code == 0);
        CHECK(receiver.bad_signatures.empty());
        CHECK(receiver.sha1_good == (legacy ? 6 : 0));
        CHECK(receiver.sha1_other == 0);
    }
}

TEST_CASE("replay --to: every delivery arrives once, signed again, body bytes unchanged") {
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 20);
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("c.jsonl"),
                                "--to",
                                receiver.server.url("/github/webhook"),
                                "--concurrency",
                                "4",
                                "--report",
                                dir.path("r.jsonl")},
                               *http);
    CHECK(result.code == 0);
    CHECK(includes(result.err, "crcr: replay: 20 delivered, 0 rejected, 0 failed, 0 skipped"));
    CHECK(receiver.bad_signatures.empty());
    CHECK(receiver.counts.size() == 20);
    for (const auto& id : ids) {
        CHECK(receiver.counts[id] == 1);
    }
    // The raw body: spacing and \u escapes arrive as they were captured.
    const auto requests = receiver.server.requests();
    for (const auto& request : requests) {
        CHECK(includes(request.body, "\"note\":\"caf\\u00e9 \\ud83d\\ude80  spaced\""));
        CHECK(request.header("X-GitHub-Event") == "pull_request");
        CHECK(request.target == "/github/webhook");
    }
    CHECK(receiver.server.connections() <= 4); // kept-alive connections, one per sender
    const auto report = crcr::read_complete_lines(dir.path("r.jsonl"));
    CHECK(report.size() == 20);
    const crcr::Json line = crcr::Json::parse(report[0]);
    CHECK(line["outcome"] == "delivered");
    CHECK(line["status"] == 202);
    CHECK(line["attempts"] == 1);
    CHECK(line["target"] == receiver.server.url("/github/webhook"));
}

TEST_CASE("replay --new-delivery-id, --filter, --limit, --dry-run") {
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 10);
    const auto http = crcr::make_curl_http_client();
    {
        Receiver receiver;
        CHECK(
            replay({dir.path("c.jsonl"), "--to", receiver.server.url(), "--new-delivery-id"}, *http)
                .code
            == 0);
        CHECK(receiver.counts.size() == 10);
        for (const auto& id : ids) {
            CHECK(receiver.counts.count(id) == 0);
        }
    }
    {
        Receiver receiver;
        CHECK(replay({dir.path("c.jsonl"),
                      "--to",
                      receiver.server.url(),
                      "--filter",
                      "action=synchronize",
                      "--filter",
                      "pr=103"},
                     *http)
                  .code
              == 0);
        CHECK(receiver.counts.size() == 1);
        CHECK(receiver.counts.count(ids[3]) == 1);
    }
    {
        Receiver receiver;
        const auto limited = replay({dir.path("c.jsonl"),
                                     "--to",
                                     receiver.server.url(),
                                     "--limit",
                                     "3",
                                     "--concurrency",
                                     "4"},
                                    *http);
        CHECK(limited.code == 0);
        CHECK(receiver.counts.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) { // the first three, whichever loop sent them
            CHECK(receiver.counts.count(ids[i]) == 1);
        }
    }
    {
        Receiver receiver;
        const auto dry = replay({dir.path("c.jsonl"),
                                 "--to",
                                 receiver.server.url(),
                                 "--dry-run",
                                 "--filter",
                                 "event=pull_request"},
                                *http);
        CHECK(dry.code == 0);
        CHECK(receiver.server.requests().empty());
        CHECK(includes(dry.out,
                       "POST " + receiver.server.url() + " pull_request/opened " + ids[0] + " "));
        CHECK(includes(dry.err, "crcr: dry run: would send 10 deliveries"));
    }
}

TEST_CASE(
    "replay: receiver faults are retried or reported, the report accounts for every delivery") {
    // Only what the relay cannot have acted on is retried by default: it may dispatch before any
    // 5xx (a repeated delivery id is dispatched again, then answered 502) or a lost answer.
    struct Case {
        std::string name;
        std::function<Reply(const crcr::test::RecordedRequest&, int)> answer;
        std::vector<std::string> extra_args;
        int want_code;
        std::string want_summary;
        int want_requests;
        int want_may_have_dispatched; // report lines saying so (delivered after a risky retry too)
    };
    const auto first_then_ok = [](Reply first) {
        return [first](const crcr::test::RecordedRequest&, int n) {
            return n == 0 ? first : Reply{.status = 200};
        };
    };
    const Reply error_500{.status = 500, .reason = "Error"};
    const Reply dropped{.action = Reply::Action::close_silently};
    const Reply slow{.status = 200, .delay = std::chrono::milliseconds(1'500)};
    const Case cases[] = {
        {"a 500 is not retried: it may have dispatched",
         first_then_ok(error_500),
         {},
         5,
         "5 delivered, 0 rejected, 1 failed (1 of the rejected and failed may have dispatched)",
         6,
         1},
        {"a 500 with --retry-unsafe, then taken",
         first_then_ok(error_500),
         {"--retry-unsafe"},
         0,
         "6 delivered, 0 rejected, 0 failed",
         7,
         1},
        {"a 502 to every delivery (a redelivered id): one attempt each, not 4",
         [](const auto&, int) { return Reply{.status = 502, .body = R"({"detail":"x"})"}; },
         {},
         5,
         "0 delivered, 0 rejected, 6 failed (6 of the rejected and failed may have dispatched)",
         6,
         6},
        {"a 429 with Retry-After, then taken",
         first_then_ok(Reply{.status = 429, .headers = {{"Retry-After", "2"}}}),
         {},
         0,
         "6 delivered, 0 rejected, 0 failed",
         7,
         0},
        {"a 503 with Retry-After, then taken",
         first_then_ok(Reply{.status = 503, .headers = {{"Retry-After", "1"}}}),
         {},
         0,
         "6 delivered, 0 rejected, 0 failed",
         7,
         0},
        {"a 503 without Retry-After is not retried",
         first_then_ok(Reply{.status = 503}),
         {},
         5,
         "1 failed (1 of the rejected and failed may have dispatched)",
         6,
         1},
        {"a dropped connection is not retried: the request arrived",
         first_then_ok(dropped),
         {},
         5,
         "1 failed (1 of the rejected and failed may have dispatched)",
         6,
         1},
        {"a dropped connection with --retry-unsafe, then taken",
         first_then_ok(dropped),
         {"--retry-unsafe"},
         0,
         "6 delivered, 0 rejected, 0 failed",
         7,
         1},
        {"a 401 is a rejection, not retried",
         first_then_ok(Reply{.status = 401, .body = "bad signature"}),
         {},
         1,
         "5 delivered, 1 rejected, 0 failed",
         6,
         0},
        {"too slow: timed out, not retried",
         first_then_ok(slow),
         {},
         5,
         "5 delivered, 0 rejected, 1 failed (1 of the rejected and failed may have dispatched)",
         6,
         1},
        {"too slow with --retry-unsafe: timed out, then taken",
         first_then_ok(slow),
         {"--retry-unsafe"},
         0,
         "6 delivered",
         7,
         1},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::TempDir dir;
        write_captures(dir, "c.jsonl", 6);
        Receiver receiver;
        receiver.answer = c.answer;
        const auto http = crcr::make_curl_http_client();
        std::vector<std::string> args = {dir.path("c.jsonl"),
                                         "--to",
                                         receiver.server.url(),
                                         "--timeout",
                                         "0.5",
                                         "--concurrency",
                                         "1",
                                         "--report",
                                         dir.path("r.jsonl")};
        args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
        const auto result = replay(args, *http); // the waits before retries pass at once
        CAPTURE(result.err);
        CHECK(result.code == c.want_code);
        CHECK(includes(result.err, c.want_summary));
        CHECK(includes(result.err, "may have dispatched") == (c.want_code == 5));
        // Each receiver saw every request it was sent, however the answer went.
        CHECK(receiver.seen == c.want_requests);
        const auto report = crcr::read_complete_lines(dir.path("r.jsonl"));
        CHECK(report.size() == 6);
        int may_have_dispatched = 0;
        for (const std::string& line : report) {
            may_have_dispatched += crcr::Json::parse(line)["may_have_dispatched"] == true ? 1 : 0;
        }
        CHECK(may_have_dispatched == c.want_may_have_dispatched);
    }
}

TEST_CASE("replay: a refused connection is retried: nothing was sent") {
    const crcr::test::TempDir dir;
    write_captures(dir, "c.jsonl", 2);
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("c.jsonl"),
                                "--to",
                                crcr::test::refused_url(),
                                "--concurrency",
                                "1",
                                "--retries",
                                "2",
                                "--report",
                                dir.path("r.jsonl")},
                               *http);
    CAPTURE(result.err);
    CHECK(result.code == 5);
    CHECK(includes(result.err, "0 delivered, 0 rejected, 2 failed, 0 skipped"));
    CHECK_FALSE(includes(result.err, "may have"));
    for (const std::string& line : crcr::read_complete_lines(dir.path("r.jsonl"))) {
        const crcr::Json report = crcr::Json::parse(line);
        CHECK(report["attempts"] == 3);
        CHECK(report["may_have_dispatched"] == false);
    }
}

TEST_CASE("replay: a delivery waiting for its retry does not hold up the others") {
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 5);
    Receiver receiver;
    receiver.answer = [](const crcr::test::RecordedRequest&, int n) {
        return n == 0 ? Reply{.status = 503, .headers = {{"Retry-After", "30"}}}
                      : Reply{.status = 200};
    };
    crcr::test::TestClock clock;
    const auto http = crcr::make_curl_http_client();
    const auto result = crcr::test::run_crcr({"-v",
                                              "replay",
                                              dir.path("c.jsonl"),
                                              "--to",
                                              receiver.server.url(),
                                              "--concurrency",
                                              "1",
                                              "--report",
                                              dir.path("r.jsonl")},
                                             replay_secret_env(),
                                             http.get(),
                                             "",
                                             &clock,
                                             event_loop);
    CAPTURE(result.err);
    CHECK(result.code == 0);
    std::vector<std::string> arrivals;
    for (const auto& request : receiver.server.requests()) {
        arrivals.push_back(request.header("X-GitHub-Delivery").value_or(""));
    }
    CHECK(arrivals == std::vector<std::string>{ids[0], ids[1], ids[2], ids[3], ids[4], ids[0]});
    CHECK(clock.sleeps() == std::vector<long long>{30}); // Retry-After, once the others are done
    const auto report = crcr::read_complete_lines(dir.path("r.jsonl"));
    REQUIRE(report.size() == 5);
    const crcr::Json retried = crcr::Json::parse(report.back());
    CHECK(retried["delivery_id"] == ids[0]);
    CHECK(retried["attempts"] == 2);
    CHECK(retried["outcome"] == "delivered");
    // --verbose traces every exchange, each one whole.
    std::size_t traced = 0;
    for (std::size_t at = result.err.find("> POST "); at != std::string::npos;
         at = result.err.find("> POST ", at + 1)) {
        ++traced;
    }
    CHECK(traced == 6);
    CHECK(includes(result.err, "< 503 "));
    CHECK(result.err.find(k_secret) == std::string::npos);
}

TEST_CASE(
    "replay --state: a second run sends only what was not sent, --resend-failed sends the rest") {
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 8);
    const auto http = crcr::make_curl_http_client();
    Receiver receiver;
    // The first run: deliveries 2 and 5 rejected.
    receiver.answer = [&](const crcr::test::RecordedRequest& request, int) {
        const std::string id = request.header("X-GitHub-Delivery").value_or("");
        return id == ids[2] || id == ids[5] ? Reply{.status = 400, .body = "no"}
                                            : Reply{.status = 200};
    };
    const std::vector<std::string> args = {
        dir.path("c.jsonl"), "--to", receiver.server.url(), "--state", dir.path("s.jsonl")};
    CHECK(replay(args, *http).code == 1);
    CHECK(receiver.counts.size() == 6);
    receiver.answer = nullptr;
    const auto second = replay(args, *http);
    CHECK(second.code == 0);
    CHECK(includes(second.err, "0 delivered, 0 rejected, 0 failed, 8 skipped"));
    CHECK(receiver.seen == 8);
    auto resend = args;
    resend.push_back("--resend-failed");
    const auto third = replay(resend, *http);
    CHECK(third.code == 0);
    CHECK(includes(third.err, "2 delivered, 0 rejected, 0 failed, 6 skipped"));
    for (const auto& id : ids) {
        CHECK(receiver.counts[id] == 1);
    }
    // A delivery in flight when a run was killed is not sent again on its own.
    crcr::AppendFile(dir.path("s2.jsonl"))
        .append(crcr::Json{{"key", ids[0]}, {"outcome", "sending"}}.dump() + '\n');
    Receiver fresh;
    const auto after_kill = replay(
        {dir.path("c.jsonl"), "--to", fresh.server.url(), "--state", dir.path("s2.jsonl")}, *http);
    CHECK(after_kill.code == 0);
    CHECK(includes(after_kill.err, "7 delivered, 0 rejected, 0 failed, 1 skipped (1 uncertain)"));
    CHECK(fresh.counts.count(ids[0]) == 0);
}

TEST_CASE("replay reads GitHub delivery records, arrays of them, and bare payloads") {
    const crcr::test::TempDir dir;
    const std::string record =
        R"({"id":1,"guid":"0b989ba4-242f-11e5-81e1-c7b6966d2516","event":"push","action":null,"request":{"headers":{"X-GitHub-Delivery":"0b989ba4-242f-11e5-81e1-c7b6966d2516","X-GitHub-Event":"push","Content-Type":"application/json","X-Hub-Signature-256":"sha256=stale"},"payload":{"ref":"refs/heads/main","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5"}},"response":{"headers":{},"payload":"ok"}})";
    dir.write("deliveries/a.json", "");
    std::filesystem::create_directories(dir.path("deliveries"));
    dir.write("deliveries/a.json", record);
    dir.write("deliveries/b.json", "[" + record + ",\n" + record + "]");
    dir.write("payload.json", "{\n  \"action\": \"opened\",\n  \"number\": 1\n}\n");
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("deliveries"),
                                dir.path("payload.json"),
                                "--to",
                                receiver.server.url(),
                                "--event",
                                "pull_request",
                                "--concurrency",
                                "1"},
                               *http);
    CHECK(result.code == 0);
    const auto requests = receiver.server.requests();
    REQUIRE(requests.size() == 4);
    CHECK(requests[0].body
          == R"({"ref":"refs/heads/main","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5"})");
    CHECK(requests[0].header("X-GitHub-Delivery") == "0b989ba4-242f-11e5-81e1-c7b6966d2516");
    CHECK(requests[3].body == "{\n  \"action\": \"opened\",\n  \"number\": 1\n}");
    CHECK(requests[3].header("X-GitHub-Event") == "pull_request");
    CHECK(receiver.bad_signatures.empty());
}

TEST_CASE("replay: unreadable records are reported with their location, the others still go") {
    const crcr::test::TempDir dir;
    write_captures(dir, "c.jsonl", 3);
    const std::string good = crcr::read_file(dir.path("c.jsonl"));
    dir.write("mixed.jsonl",
              good.substr(0, good.find('\n') + 1) + R"({"crcr_capture":1,"event":"push"})" + "\n"
                  + good.substr(good.find('\n') + 1));
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result = replay(
        {dir.path("mixed.jsonl"), dir.path("missing.jsonl"), "--to", receiver.server.url()}, *http);
    CHECK(result.code == 1);
    CHECK(includes(
        result.err,
        "mixed.jsonl:2: crcr capture record without 'event', 'headers' and a 'body' string"));
    CHECK(includes(result.err, "crcr: error: cannot read '" + dir.path("missing.jsonl") + "'"));
    CHECK(includes(result.err, "3 delivered, 0 rejected, 0 failed, 0 skipped, 2 unreadable"));
    CHECK(receiver.counts.size() == 3);
    const auto bare =
        replay({dir.path("c.jsonl"), "--to", receiver.server.url()}, *http, crcr::Environment());
    CHECK(includes(bare.err, "crcr: note: no webhook secret"));
}

TEST_CASE("replay --dispatch-to: the relay's dispatch for each, one App token for the run") {
    crcr::test::TestClock clock;
    crcr::test::FakeGitHub github([&clock] { return clock.now(); });
    github.add_repo("my-org/pytorch-ci", {.installation_id = 77});
    github.set_app({.id = "42", .public_key_pem = crcr::test::test_rsa_key().public_pem});
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 3);
    const std::string key = dir.write("app.pem", crcr::test::test_rsa_key().private_pem);
    std::filesystem::permissions(key, std::filesystem::perms::owner_read);
    const auto http = crcr::make_curl_http_client();
    const auto result = crcr::test::run_crcr({"replay",
                                              dir.path("c.jsonl"),
                                              "--dispatch-to",
                                              "my-org/pytorch-ci",
                                              "--api-url",
                                              github.url(),
                                              "--app-id",
                                              "42",
                                              "--private-key",
                                              key},
                                             crcr::Environment(),
                                             http.get(),
                                             "",
                                             &clock);
    CAPTURE(result.err);
    CHECK(result.code == 0);
    CHECK(github.problems().empty());
    CHECK(github.calls()
          == std::vector<std::string>{"GET /repos/my-org/pytorch-ci/installation",
                                      "POST /app/installations/77/access_tokens",
                                      "POST /repos/my-org/pytorch-ci/dispatches",
                                      "POST /repos/my-org/pytorch-ci/dispatches",
                                      "POST /repos/my-org/pytorch-ci/dispatches"});
    const auto dispatches = github.dispatches();
    REQUIRE(dispatches.size() == 3);
    const crcr::Json first = crcr::Json::parse(dispatches[0]);
    CHECK(first["client_payload"]["delivery_id"] == ids[0]);
    CHECK(first["client_payload"]["payload"]["number"] == 100);
    CHECK(clock.sleeps() == std::vector<long long>{1, 1}); // one dispatch a second, as GitHub asks
}

TEST_CASE("replay --report, --state: every field, valid JSON whatever bytes they hold") {
    const crcr::test::TempDir dir;
    // Bare payloads (keyed by their location) in a file whose name is not UTF-8.
    const std::string file = dir.path("caf\xE9.jsonl");
    dir.write("caf\xE9.jsonl", "{\"ref\":\"refs/heads/a\"}\n{\"ref\":\"refs/heads/b\"}\n");
    Receiver receiver;
    // The second is refused with an answer whose 200th byte is half a character.
    receiver.answer = [](const crcr::test::RecordedRequest& request, int) {
        return includes(request.body, "refs/heads/b")
                   ? Reply{.status = 400, .body = std::string(199, 'x') + "\xC3\xA9 \x01"}
                   : Reply{.status = 202};
    };
    const auto http = crcr::make_curl_http_client();
    const std::vector<std::string> args = {file,
                                           "--event",
                                           "push",
                                           "--to",
                                           receiver.server.url(),
                                           "--report",
                                           dir.path("r.jsonl"),
                                           "--state",
                                           dir.path("s.jsonl")};
    const auto first = replay(args, *http);
    CHECK(first.code == 1);
    // Named once: the key of a record without a delivery id is where it is.
    CHECK(includes(first.err, "crcr: rejected " + file + ":2: 400 xxx"));
    const auto report = crcr::read_complete_lines(dir.path("r.jsonl"));
    REQUIRE(report.size() == 2);
    std::map<std::string, crcr::Json> by_key;
    for (const std::string& text : report) {
        const crcr::Json line = crcr::Json::parse(text);
        by_key[line.at("key").get<std::string>()] = line;
    }
    // Written as valid JSON: the byte that is not UTF-8 as U+FFFD.
    const std::string key = dir.path("caf") + std::string(crcr::k_replacement_character) + ".jsonl";
    REQUIRE(by_key.count(key + ":1") == 1);
    REQUIRE(by_key.count(key + ":2") == 1);
    const crcr::Json& delivered = by_key[key + ":1"];
    CHECK(delivered["source"] == key + ":1");
    CHECK(delivered["delivery_id"].get<std::string>().size()
          == 36); // a new one: a payload has none
    CHECK(delivered["event"] == "push");
    CHECK(delivered["action"].is_null());
    CHECK(delivered["target"] == receiver.server.url());
    CHECK(delivered["outcome"] == "delivered");
    CHECK(delivered["status"] == 202);
    CHECK(delivered["attempts"] == 1);
    CHECK(delivered["latency_ms"].get<double>() > 0);
    CHECK(delivered["error"].is_null());
    const crcr::Json& rejected = by_key[key + ":2"];
    CHECK(rejected["outcome"] == "rejected");
    CHECK(rejected["status"] == 400);
    CHECK(rejected["error"]
          == "400 " + std::string(199, 'x') + std::string(crcr::k_replacement_character));
    // The state file names them as the records do: a second run sends nothing again.
    const auto second = replay(args, *http);
    CHECK(second.code == 0);
    CHECK(includes(second.err, "0 delivered, 0 rejected, 0 failed, 2 skipped"));
    CHECK(receiver.seen == 2);
}

TEST_CASE("replay --state: keys that are not UTF-8 are kept exactly, never merged") {
    const crcr::test::TempDir dir;
    // Two files whose names differ in a Latin-1 byte (bare payloads: keyed by location), and two
    // records whose delivery ids are lone surrogates: as U+FFFD each pair would be one key.
    dir.write("caf\xE9.json", "{\"ref\":\"refs/heads/a\"}");
    dir.write("caf\xE8.json", "{\"ref\":\"refs/heads/b\"}");
    const auto capture = [](const std::string& id) {
        return R"({"crcr_capture":1,"delivery_id":")" + id
               + R"(","event":"push","action":null,"headers":{"X-GitHub-Event":"push"},"body":"{}"})";
    };
    dir.write("hi.jsonl", capture("\\ud800") + "\n");
    dir.write("lo.jsonl", capture("\\udc00") + "\n");
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto run = [&](std::vector<std::string> inputs) {
        inputs.insert(
            inputs.end(),
            {"--event", "push", "--to", receiver.server.url(), "--state", dir.path("s.jsonl")});
        return replay(inputs, *http);
    };
    CHECK(run({dir.path("caf\xE9.json"), dir.path("hi.jsonl")}).code == 0);
    CHECK(receiver.seen == 2);
    const auto second = run({dir.path("caf\xE9.json"),
                             dir.path("caf\xE8.json"),
                             dir.path("hi.jsonl"),
                             dir.path("lo.jsonl")});
    CHECK(second.code == 0);
    CHECK(includes(second.err, "2 delivered, 0 rejected, 0 failed, 2 skipped"));
    CHECK(receiver.seen == 4);
    // Every line of the state file is JSON.
    for (const std::string& line : crcr::read_complete_lines(dir.path("s.jsonl"))) {
        CHECK(crcr::Json::parse(line, nullptr, false).is_object());
    }
}

TEST_CASE("replay: a file gone since its folder was listed is reported, the run goes on") {
    const crcr::test::TempDir dir;
    std::filesystem::create_directories(dir.path("in"));
    const auto first = write_captures(dir, "in/a.jsonl", 2);
    write_captures(dir, "in/b.jsonl", 2);
    const auto last = write_captures(dir, "z.jsonl", 1);
    Receiver receiver;
    // The folder is listed before a.jsonl is read; b.jsonl goes while a's first delivery does.
    receiver.answer = [&dir](const crcr::test::RecordedRequest&, int nth) {
        if (nth == 0) {
            std::filesystem::remove(dir.path("in/b.jsonl"));
        }
        return Reply{.status = 200};
    };
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("in"),
                                dir.path("z.jsonl"),
                                "--to",
                                receiver.server.url(),
                                "--concurrency",
                                "1",
                                "--report",
                                dir.path("r.jsonl")},
                               *http);
    CHECK(result.code == 1);
    CHECK(includes(result.err,
                   "crcr: error: cannot read '" + dir.path("in/b.jsonl")
                       + "': No such file or directory"));
    CHECK(includes(result.err, "3 delivered, 0 rejected, 0 failed, 0 skipped, 1 unreadable"));
    CHECK(receiver.counts[first[0]] == 1);
    CHECK(receiver.counts[first[1]] == 1);
    CHECK(receiver.counts[last[0]] == 1); // the inputs after it still went
    CHECK(crcr::read_complete_lines(dir.path("r.jsonl")).size() == 3);
}

TEST_CASE("replay: a record that would smuggle headers or a request is refused, the others go") {
    const crcr::test::TempDir dir;
    const auto ids = write_captures(dir, "c.jsonl", 2);
    dir.write(
        "smug.jsonl",
        R"({"crcr_capture":1,"delivery_id":"smug-1","event":"push","headers":{"X-GitHub-Delivery":"smug-1","X-Evil":"a\r\nContent-Length: 0\r\n\r\nPOST /SMUGGLED HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"},"body":"{}"})"
        "\n" + crcr::read_file(dir.path("c.jsonl")));
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result =
        replay({dir.path("smug.jsonl"), "--to", receiver.server.url("/github/webhook")}, *http);
    CAPTURE(result.err);
    CHECK(result.code == 1);
    CHECK(includes(result.err,
                   "crcr: error: " + dir.path("smug.jsonl")
                       + ":1: crcr capture record: not sent: header 'X-Evil' has a CR in its "
                         "value (byte 2)"));
    CHECK(includes(result.err, "2 delivered, 0 rejected, 0 failed, 0 skipped, 1 unreadable"));
    const auto requests = receiver.server.requests();
    CHECK(requests.size() == 2); // the two good ones, nothing more on their connection
    for (const auto& request : requests) {
        CHECK(request.target == "/github/webhook");
        CHECK_FALSE(request.header("X-Evil"));
    }
}

TEST_CASE("replay: the X-GitHub-Delivery sent is never empty") {
    const crcr::test::TempDir dir;
    // A capture record whose headers lack X-GitHub-Delivery: its "delivery_id" goes.
    dir.write(
        "c.jsonl",
        R"({"crcr_capture":1,"delivery_id":"d-7","event":"push","headers":{"X-GitHub-Event":"push"},"body":"{}"})"
        "\n");
    dir.write("bare.json", R"({"ref":"refs/heads/main"})"); // a bare payload: a fresh id
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("c.jsonl"),
                                dir.path("bare.json"),
                                "--event",
                                "push",
                                "--to",
                                receiver.server.url(),
                                "--concurrency",
                                "1"},
                               *http);
    CAPTURE(result.err);
    CHECK(result.code == 0);
    const auto requests = receiver.server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].header("X-GitHub-Delivery") == "d-7");
    CHECK(requests[1].header("X-GitHub-Delivery").value_or("").size() == 36); // a UUID
}

TEST_CASE("replay: a Retry-After beyond --max-wait is not waited for") {
    struct Case {
        std::string name;
        std::string retry_after;
        std::vector<std::string> args;
        std::string want_error;
    };
    const Case cases[] = {
        {"beyond --max-wait",
         "61",
         {"--max-wait", "60"},
         "(it asks to wait 61 s, beyond --max-wait 60 s)"},
        {"beyond the default 900 s",
         "1000",
         {},
         "(it asks to wait 1000 s, beyond --max-wait 900 s)"},
        {"a number too long to count",
         "99999999999999999999999",
         {},
         "(it asks to wait 1000000000 s, beyond --max-wait 900 s)"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::TempDir dir;
        write_captures(dir, "c.jsonl", 1);
        Receiver receiver;
        receiver.answer = [&c](const crcr::test::RecordedRequest&, int) {
            return Reply{.status = 429, .headers = {{"Retry-After", c.retry_after}}};
        };
        crcr::test::TestClock clock;
        const auto http = crcr::make_curl_http_client();
        std::vector<std::string> args = {
            "replay", dir.path("c.jsonl"), "--to", receiver.server.url()};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto result =
            crcr::test::run_crcr(args, replay_secret_env(), http.get(), "", &clock, event_loop);
        CAPTURE(result.err);
        CHECK(result.code == 5);
        CHECK(includes(result.err, c.want_error));
        CHECK(clock.sleeps().empty());
        CHECK(receiver.server.requests().size() == 1);
    }
}

TEST_CASE("replay --dispatch-to: --timeout bounds each request to GitHub") {
    const crcr::test::TempDir dir;
    write_captures(dir, "c.jsonl", 1);
    TestServer github({Reply{.status = 204, .delay = std::chrono::milliseconds(3'000)}});
    const auto http = crcr::make_curl_http_client();
    const auto started = std::chrono::steady_clock::now();
    const auto result = crcr::test::run_crcr(
        {"replay",
         dir.path("c.jsonl"),
         "--dispatch-to",
         "o/r",
         "--api-url",
         github.url(),
         "--timeout",
         "0.5"},
        crcr::Environment(crcr::Environment::Variables{{"GH_TOKEN", "ghp_test"}}),
        http.get());
    CAPTURE(result.err);
    CHECK(result.code == 5);
    CHECK(includes(result.err, "timed out"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(2'500));
}

TEST_CASE("replay: a loop of symbolic links in a folder is reported and skipped") {
    const crcr::test::TempDir dir;
    std::filesystem::create_directories(dir.path("in"));
    const auto ids = write_captures(dir, "in/a.jsonl", 1);
    std::filesystem::create_symlink("loop", dir.path("in/loop"));
    Receiver receiver;
    const auto http = crcr::make_curl_http_client();
    const auto result = replay({dir.path("in"), "--to", receiver.server.url()}, *http);
    CAPTURE(result.err);
    CHECK(result.code == 1);
    CHECK(includes(result.err,
                   "crcr: error: cannot read '" + dir.path("in/loop")
                       + "': Too many levels of symbolic links (symbolic links that point at "
                         "each other: fix or remove them)"));
    CHECK(includes(result.err, "1 delivered, 0 rejected, 0 failed, 0 skipped, 1 unreadable"));
    CHECK(receiver.counts[ids[0]] == 1);
    const auto itself = replay({dir.path("in/loop"), "--to", receiver.server.url()}, *http);
    CHECK(itself.code == 1);
    CHECK(includes(itself.err, "cannot read '" + dir.path("in/loop") + "': Too many levels"));
}
