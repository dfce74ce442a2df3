#include "simulate.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

#include "crcr/delivery.hpp"
#include "crcr/signature.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <fstream>

using crcr::SimulateOptions;
using crcr::test::Reply;
using crcr::test::run_crcr;
using crcr::test::TestServer;

namespace {

crcr::Environment with_secret(const std::string& secret = "s3cret") {
    return crcr::Environment(crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET", secret}});
}

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

} // namespace

TEST_CASE("simulate: options") {
    struct Case {
        std::string name;
        std::string args;
        SimulateOptions want;
    };
    SimulateOptions pr_opened;
    pr_opened.payload.shape.event = "pull_request";
    pr_opened.payload.shape.action = "opened";
    SimulateOptions shaped = pr_opened;
    shaped.payload.shape.pr = 5;
    shaped.payload.shape.labels = {"a", "b"};
    shaped.payload.shape.merged = true;
    shaped.payload.sets = {"x=1"};
    shaped.seed = 3;
    shaped.now = "@0";
    SimulateOptions pushed;
    pushed.payload.shape.event = "push";
    pushed.payload.shape.ref = "refs/tags/v1";
    pushed.payload.shape.deleted = true;
    pushed.output = "o.jsonl";
    pushed.count = 10;
    SimulateOptions sent = pr_opened;
    sent.send_url = "http://x/github/webhook";
    sent.timeout = 2.5;
    sent.secret.secret_file = "k";
    const Case cases[] = {
        {"event and action", "simulate pull_request opened", pr_opened},
        {"shape",
         "simulate pull_request opened --pr 5 --label a --label b --merged --set x=1 --seed 3 "
         "--now @0",
         shaped},
        {"push to a file",
         "simulate push --ref refs/tags/v1 --deleted -o o.jsonl --count 10",
         pushed},
        {"send",
         "simulate pull_request opened --send http://x/github/webhook --timeout 2.5 --secret-file "
         "k",
         sent},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        SimulateOptions got;
        crcr::add_simulate(app, [&got](const SimulateOptions& o) { got = o; });
        app.parse(c.args);
        CHECK(got == c.want);
    }
}

TEST_CASE("simulate: usage errors") {
    for (const std::string args : {"simulate",
                                   "simulate push --count 3",
                                   "simulate push -i --as-dispatch",
                                   "simulate push --send http://x --as-dispatch",
                                   "simulate push --count 0 -o x",
                                   "simulate push --timeout -1"}) {
        CAPTURE(args);
        CLI::App app;
        crcr::add_simulate(app, [](const SimulateOptions&) {});
        CHECK_THROWS_AS(app.parse(args), CLI::ParseError);
    }
}

TEST_CASE("simulate: output is reproducible with --seed and --now (golden files)") {
    const crcr::Environment env = with_secret("golden-secret");
    const crcr::test::CliRun http = run_crcr({"simulate",
                                              "pull_request",
                                              "synchronize",
                                              "--seed",
                                              "7",
                                              "--now",
                                              "2026-11-26T10:00:00Z",
                                              "--pr",
                                              "170001",
                                              "--include"},
                                             env);
    CHECK(http.code == 0);
    CHECK(http.out == crcr::test::test_data("golden/simulate-synchronize.http"));
    const crcr::test::CliRun push = run_crcr({"simulate",
                                              "push",
                                              "--seed",
                                              "7",
                                              "--now",
                                              "2026-11-26T10:00:00Z",
                                              "--ref",
                                              "refs/heads/main"},
                                             env);
    CHECK(push.out == crcr::test::test_data("golden/simulate-push.json"));
    CHECK(push.err == "");
}

TEST_CASE("simulate: run") {
    const crcr::test::TempDir dir;
    SUBCASE("--set null where GitHub's schema allows it, refused where it does not") {
        const crcr::test::CliRun run = run_crcr({"simulate",
                                                 "pull_request",
                                                 "opened",
                                                 "--set",
                                                 "pull_request.body=null",
                                                 "--set",
                                                 "repository.homepage=null"});
        CHECK(run.code == 0);
        const crcr::Json body = crcr::Json::parse(run.out);
        CHECK(body["pull_request"]["body"].is_null());
        CHECK(body["repository"]["homepage"].is_null());
        const crcr::test::CliRun refused =
            run_crcr({"simulate", "pull_request", "opened", "--set", "pull_request.title=null"});
        CHECK(refused.code == 2);
        CHECK(refused.err.find("does not allow null there") != std::string::npos);
    }
    SUBCASE("the body printed is the body signed") {
        const crcr::test::CliRun include =
            run_crcr({"simulate", "pull_request", "opened", "-i"}, with_secret());
        const std::size_t split = include.out.find("\r\n\r\n");
        REQUIRE(split != std::string::npos);
        const std::string body = include.out.substr(split + 4);
        const std::size_t at = include.out.find("X-Hub-Signature-256: ");
        const std::string signature =
            include.out.substr(at + 21, include.out.find("\r\n", at) - at - 21);
        CHECK(crcr::verify_signature("s3cret", body, signature) == crcr::SignatureCheck::match);
        CHECK(crcr::Json::parse(body)["action"] == "opened");
    }
    SUBCASE("no secret: unsigned, with a note") {
        const crcr::test::CliRun run = run_crcr({"simulate", "push", "-i"});
        CHECK(run.code == 0);
        CHECK(run.out.find("X-Hub-Signature") == std::string::npos);
        CHECK(run.err.starts_with("crcr: note: no webhook secret"));
    }
    SUBCASE("--output writes a capture record, never overwriting without --force") {
        const std::string out = dir.path("one.jsonl");
        const crcr::test::CliRun run =
            run_crcr({"simulate", "push", "--delivery-id", "d-1", "-o", out}, with_secret());
        CHECK(run.code == 0);
        CHECK(run.out == "");
        const std::vector<std::string> lines = lines_of(out);
        REQUIRE(lines.size() == 1);
        const crcr::Json record = crcr::Json::parse(lines[0]);
        CHECK(record["delivery_id"] == "d-1");
        CHECK(record["headers"]["X-Hub-Signature-256"]
              == crcr::sign_sha256("s3cret", record["body"].get<std::string>()));
        const crcr::test::CliRun again = run_crcr({"simulate", "push", "-o", out}, with_secret());
        CHECK(again.code == 1);
        CHECK(again.err.find("already exists: use --force to overwrite it") != std::string::npos);
        CHECK(run_crcr({"simulate", "push", "-o", out, "--force"}, with_secret()).code == 0);
    }
    SUBCASE("--count writes distinct deliveries") {
        const std::string out = dir.path("many.jsonl");
        CHECK(run_crcr({"simulate", "pull_request", "synchronize", "--count", "50", "-o", out},
                       with_secret())
                  .code
              == 0);
        const std::vector<std::string> lines = lines_of(out);
        REQUIRE(lines.size() == 50);
        std::set<std::string> ids;
        std::set<std::string> shas;
        for (const std::string& line : lines) {
            const crcr::Json record = crcr::Json::parse(line);
            ids.insert(record["delivery_id"].get<std::string>());
            shas.insert(
                crcr::Json::parse(record["body"].get<std::string>())["after"].get<std::string>());
        }
        CHECK(ids.size() == 50);
        CHECK(shas.size() == 50);
    }
    SUBCASE("--as-dispatch") {
        const crcr::test::CliRun run = run_crcr({"simulate",
                                                 "pull_request",
                                                 "closed",
                                                 "--merged",
                                                 "--as-dispatch",
                                                 "--downstream",
                                                 "org/ci"});
        const crcr::Json event = crcr::Json::parse(run.out);
        CHECK(event["action"] == "pull_request");
        CHECK(event["client_payload"]["payload"]["pull_request"]["merged"] == true);
        CHECK(event["repository"]["full_name"] == "org/ci");
        // A dispatch event carries no signature, so no secret is missing.
        CHECK(run.err == "");
    }
    SUBCASE("--payload and --set") {
        const std::string captured = dir.write(
            "body.json",
            R"({"action":"opened","number":7,"repository":{"full_name":"pytorch/pytorch"}})");
        const crcr::test::CliRun run =
            run_crcr({"simulate", "pull_request", "--payload", captured, "--set", "number=8"});
        CHECK(run.code == 0);
        CHECK(run.out
              == R"({"action":"opened","number":8,"repository":{"full_name":"pytorch/pytorch"}})");
    }
}

TEST_CASE("simulate: bad input") {
    const crcr::test::TempDir dir;
    const std::string not_json = dir.write("bad.json", "{nope");
    const std::string array = dir.write("array.json", "[1]");
    const std::string deep =
        dir.write("deep.json", std::string(100000, '[') + std::string(100000, ']'));
    const std::string huge_number = dir.write("huge.json", R"({"after": 1e999999})");
    struct Case {
        std::string name;
        std::vector<std::string> args;
        crcr::Environment env;
        int code;
        std::string err;
    };
    const Case cases[] = {
        {"unknown event",
         {"simulate", "issues"},
         with_secret(),
         2,
         "crcr: error: unknown event 'issues'"},
        {"unknown action",
         {"simulate", "pull_request", "merged"},
         with_secret(),
         2,
         "crcr: error: unknown pull_request action 'merged'"},
        {"missing action",
         {"simulate", "pull_request"},
         with_secret(),
         2,
         "crcr: error: pull_request needs an action"},
        {"--set path",
         {"simulate", "push", "--set", "repository.nope=1"},
         with_secret(),
         2,
         "crcr: error: --set path 'repository.nope': there is no 'repository.nope' in the payload"},
        {"--set type",
         {"simulate", "push", "--set", "forced=yes"},
         with_secret(),
         2,
         "crcr: error: --set forced: the payload has a boolean there, and the webhook schema wants "
         "one; got a string"},
        {"bad time",
         {"simulate", "push", "--now", "today"},
         with_secret(),
         2,
         "crcr: error: 'today' is not a time"},
        {"impossible date",
         {"simulate", "push", "--now", "2026-02-31T10:00:00Z"},
         with_secret(),
         2,
         "crcr: error: '2026-02-31T10:00:00Z' is not a time"},
        {"negative PR",
         {"simulate", "pull_request", "opened", "--pr", "-5"},
         with_secret(),
         2,
         "crcr: error: --pr: "},
        {"payload not JSON",
         {"simulate", "push", "--payload", not_json},
         with_secret(),
         1,
         "crcr: error: --payload '" + not_json + "' is not JSON: line 1, column 3: syntax error"},
        {"payload not an object",
         {"simulate", "push", "--payload", array},
         with_secret(),
         1,
         "crcr: error: --payload '" + array + "' is a JSON array, not an object"},
        {"deep payload",
         {"simulate", "push", "--payload", deep},
         with_secret(),
         1,
         "crcr: error: --payload '" + deep + "' is not JSON: nested more than 512 levels deep"},
        {"--payload with shape flags",
         {"simulate", "push", "--payload", array, "--pr", "5"},
         with_secret(),
         2,
         "crcr: error: --pr excludes --payload"},
        {"--send without http",
         {"simulate", "push", "--send", "ftp://user:pw@host/x"},
         with_secret(),
         2,
         "crcr: error: --send 'ftp://***@host/x' is not an http:// or https:// URL"},
        {"--secret and --secret-file",
         {"simulate", "push", "--secret", "a", "--secret-file", "b"},
         with_secret(),
         2,
         "crcr: error: --secret-file excludes --secret"},
        {"output over a device",
         {"simulate", "push", "-o", "/dev/null", "--force"},
         with_secret(),
         1,
         "crcr: error: '/dev/null' is not a regular file"},
        {"unreadable secret file",
         {"simulate", "push", "--secret-file", dir.path("none")},
         {},
         1,
         "crcr: error: cannot read '" + dir.path("none") + "': No such file or directory"},
        {"empty secret",
         {"simulate", "push"},
         with_secret(""),
         1,
         "crcr: error: CRCR_WEBHOOK_SECRET is set but empty"},
        {"empty secret file variable",
         {"simulate", "push"},
         crcr::Environment(crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET_FILE", ""}}),
         1,
         "crcr: error: CRCR_WEBHOOK_SECRET_FILE is set but empty"},
        {"--delivery-id that would add a header",
         {"simulate", "push", "--include", "--delivery-id", "a\r\nX-Injected: 1"},
         with_secret(),
         2,
         "crcr: error: --delivery-id cannot be sent: header 'X-GitHub-Delivery' has a CR in its "
         "value (byte 2)"},
        {"--delivery-id not UTF-8",
         {"simulate", "push", "--delivery-id", "d-\xFF", "--output", "-"},
         with_secret(),
         2,
         "crcr: error: --delivery-id is not UTF-8 text"},
        {"--title not UTF-8",
         {"simulate", "pull_request", "opened", "--title", "caf\xE9"},
         with_secret(),
         2,
         "crcr: error: --title is not UTF-8 text: write it in UTF-8"},
        {"--label not UTF-8",
         {"simulate", "pull_request", "labeled", "--label", "\xFF"},
         with_secret(),
         2,
         "crcr: error: --label is not UTF-8 text"},
        {"--set string not UTF-8",
         {"simulate", "push", "--set", "ref=\xC3("},
         with_secret(),
         2,
         "crcr: error: --set 'ref' value is not UTF-8 text"},
        {"payload number out of range",
         {"simulate", "push", "--payload", huge_number},
         with_secret(),
         1,
         "crcr: error: --payload '" + huge_number
             + "' is not JSON: number '1e999999' is too large for JSON numbers (doubles): write a "
               "smaller one, or a string"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun run = run_crcr(c.args, c.env);
        CHECK(run.code == c.code);
        CHECK(run.err.substr(0, c.err.size()) == c.err);
        CHECK(run.out == "");
    }
    SUBCASE("-o - writes capture records to standard output") {
        const crcr::test::CliRun run =
            run_crcr({"simulate", "push", "--count", "3", "-o", "-"}, with_secret());
        CHECK(run.code == 0);
        CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 3);
        CHECK(crcr::Json::parse(run.out.substr(0, run.out.find('\n')))["crcr_capture"] == 1);
    }
}

TEST_CASE("simulate: --send against a relay on 127.0.0.1") {
    const std::unique_ptr<crcr::HttpClient> curl = crcr::make_curl_http_client();
    SUBCASE("the server sees GitHub's headers and a signature it can recompute") {
        TestServer relay({Reply{
            .status = 200, .body = R"({"ok":true,"dispatched":[{"repo":"org/a"}],"failed":[]})"}});
        const crcr::test::CliRun run = run_crcr(
            {"simulate", "pull_request", "synchronize", "--send", relay.url("/github/webhook")},
            with_secret(),
            curl.get());
        CHECK(run.code == 0);
        CHECK(run.out.starts_with("HTTP 200 OK ("));
        CHECK(run.out.ends_with(R"({"ok":true,"dispatched":[{"repo":"org/a"}],"failed":[]})"
                                "\n"));
        const std::vector<crcr::test::RecordedRequest> seen = relay.requests();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].method == "POST");
        CHECK(seen[0].target == "/github/webhook");
        CHECK(seen[0].header("X-GitHub-Event") == "pull_request");
        CHECK(seen[0].header("Content-Type") == "application/json");
        CHECK(seen[0].header("User-Agent").value_or("").starts_with("GitHub-Hookshot/"));
        CHECK(crcr::verify_signature(
                  "s3cret", seen[0].body, seen[0].header("X-Hub-Signature-256").value_or(""))
              == crcr::SignatureCheck::match);
        CHECK(crcr::verify_signature(
                  "s3cret", seen[0].body, seen[0].header("X-Hub-Signature").value_or(""))
              == crcr::SignatureCheck::match);
        CHECK(run.out.find(seen[0].header("X-GitHub-Delivery").value_or("?")) != std::string::npos);
    }
    struct Case {
        std::string name;
        Reply reply;
        int code;
    };
    const Case cases[] = {
        {"401",
         {.status = 401, .reason = "Unauthorized", .body = R"({"detail":"Bad signature"})"},
         1},
        {"400",
         {.status = 400, .reason = "Bad Request", .body = R"({"detail":"No signature"})"},
         1},
        {"502", {.status = 502, .reason = "Bad Gateway", .body = "{}"}, 5},
        {"no answer", {.action = Reply::Action::close_silently}, 5},
        {"too slow", {.delay = std::chrono::seconds(5)}, 5},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TestServer relay({c.reply});
        const crcr::test::CliRun run = run_crcr(
            {"simulate", "push", "--timeout", "0.3", "--send", relay.url("/github/webhook")},
            with_secret(),
            curl.get());
        CHECK(run.code == c.code);
        if (c.code == 5 && c.reply.status == 200) {
            CHECK(run.err.starts_with("crcr: error: POST " + relay.url("/github/webhook") + ": "));
        }
    }
    SUBCASE("a refused connection") {
        const crcr::test::CliRun run = run_crcr(
            {"simulate", "push", "--send", crcr::test::refused_url()}, with_secret(), curl.get());
        CHECK(run.code == 5);
    }
    SUBCASE("a warning when the relay would ignore the delivery") {
        TestServer relay({Reply{.body = R"({"ignored": true})"}});
        const crcr::test::CliRun run =
            run_crcr({"simulate", "pull_request", "edited", "--send", relay.url("/github/webhook")},
                     with_secret(),
                     curl.get());
        CHECK(run.code == 0);
        CHECK(run.err
              == "crcr: warning: the relay will ignore this delivery: the relay ignores "
                 "pull_request 'edited'; it "
                 "dispatches opened, reopened, synchronize and closed\n");
        const crcr::test::CliRun other =
            run_crcr({"simulate", "push", "--repo", "org/fork", "--send", relay.url("/")},
                     with_secret(),
                     curl.get());
        CHECK(other.err.find("it dispatches only for the upstream 'pytorch/pytorch'")
              != std::string::npos);
    }
}

TEST_CASE("simulate: --verbose traces the exchange on stderr") {
    const std::unique_ptr<crcr::HttpClient> curl = crcr::make_curl_http_client();
    TestServer relay(
        {Reply{.status = 200, .headers = {{"Set-Cookie", "session=abc"}}, .body = "{}"}});
    const crcr::test::CliRun run =
        run_crcr({"-v", "simulate", "push", "--send", relay.url("/github/webhook")},
                 with_secret(),
                 curl.get());
    CHECK(run.code == 0);
    CHECK(run.err.find("> POST " + relay.url("/github/webhook") + "\n") != std::string::npos);
    CHECK(run.err.find("> X-GitHub-Event: push\n") != std::string::npos);
    CHECK(run.err.find("< 200 OK (") != std::string::npos);
    CHECK(run.err.find("< Set-Cookie: ***\n") != std::string::npos);
    CHECK(run.err.find("session=abc") == std::string::npos);
    CHECK(run.err.find("s3cret") == std::string::npos);
}

TEST_CASE("simulate check_run, check_suite and ping: sent, replayed and planned") {
    const std::unique_ptr<crcr::HttpClient> curl = crcr::make_curl_http_client();
    const crcr::test::TempDir dir;
    SUBCASE("--send: GitHub's event header; a warning only for what the relay ignores") {
        TestServer relay([](const crcr::test::RecordedRequest&) {
            return Reply{.body = R"({"ok":true,"rerun":[]})"};
        });
        const crcr::test::CliRun rerun = run_crcr(
            {"simulate", "check_run", "--run-id", "77", "--pr", "5", "--send", relay.url("/")},
            with_secret(),
            curl.get());
        CHECK(rerun.code == 0);
        CHECK(rerun.err.empty());
        const crcr::test::CliRun ping =
            run_crcr({"simulate", "ping", "--send", relay.url("/")}, with_secret(), curl.get());
        CHECK(ping.code == 0);
        CHECK(ping.err
              == "crcr: warning: the relay will ignore this delivery: the relay ignores 'ping' "
                 "events\n");
        const std::vector<crcr::test::RecordedRequest> seen = relay.requests();
        REQUIRE(seen.size() == 2);
        CHECK(seen[0].header("X-GitHub-Event") == "check_run");
        const crcr::Json body = crcr::Json::parse(seen[0].body);
        CHECK(body["action"] == "rerequested");
        CHECK(body["check_run"]["external_id"] == "77:5");
        CHECK(seen[1].header("X-GitHub-Event") == "ping");
        CHECK(crcr::Json::parse(seen[1].body)["hook"]["type"] == "App");
    }
    SUBCASE("replay sends a captured check_suite again, byte for byte") {
        const std::string capture = dir.path("suite.jsonl");
        CHECK(run_crcr({"simulate", "check_suite", "--output", capture}, with_secret()).code == 0);
        TestServer relay([](const crcr::test::RecordedRequest&) { return Reply{}; });
        const crcr::test::CliRun replay =
            run_crcr({"replay", capture, "--to", relay.url("/github/webhook")},
                     with_secret(),
                     curl.get(),
                     "",
                     nullptr,
                     [] {
                         return crcr::make_plain_concurrent_http_client(
                             crcr::make_curl_concurrent_http_client(), false);
                     });
        CAPTURE(replay.err);
        CHECK(replay.code == 0);
        const std::vector<crcr::test::RecordedRequest> seen = relay.requests();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].header("X-GitHub-Event") == "check_suite");
        const crcr::Json record = crcr::Json::parse(lines_of(capture).at(0));
        CHECK(seen[0].body == record["body"]);
    }
    SUBCASE("plan reads a simulated check_run: a re-run") {
        const crcr::test::CliRun body = run_crcr({"simulate", "check_run", "--seed", "3"});
        const std::string payload = dir.write("run.json", body.out);
        const crcr::test::CliRun plan =
            run_crcr({"plan", "check_run", "--payload", payload, "--allowlist", "-", "--json"},
                     crcr::Environment(),
                     nullptr,
                     "L3:\n  crcr-test:\n    pytorch/crcr-test: [a]\n");
        CHECK(plan.code == 0);
        CHECK(crcr::Json::parse(plan.out)["route"] == "rerun");
    }
}
