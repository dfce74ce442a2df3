#include "dispatch_test.hpp"
#include "fake_github.hpp"
#include "test_support.hpp"

#include "crcr/jwt.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <filesystem>

using crcr::test::FakeGitHub;
using crcr::test::FakeRepo;
using crcr::test::FakeToken;
using crcr::test::Reply;
using crcr::test::TestClock;

namespace {

constexpr const char* k_repo = "my-org/pytorch-ci";

// A fake GitHub with the downstream repository, a token that can dispatch to it, and a GitHub
// App installed on it; `run` runs `crcr dispatch-test` against it.
struct DispatchFixture {
    TestClock clock;
    FakeGitHub github{[this] { return clock.now(); }};
    std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
    crcr::test::TempDir dir;
    std::string key_file;

    explicit DispatchFixture(FakeRepo repo = {.installation_id = 77}) {
        github.add_repo(k_repo, repo);
        github.add_token("gho_good");
        github.set_app({.id = "123456", .public_key_pem = crcr::test::test_rsa_key().public_pem});
        key_file = dir.write("app.pem", crcr::test::test_rsa_key().private_pem);
        std::filesystem::permissions(key_file, std::filesystem::perms::owner_read);
    }

    crcr::test::CliRun run(std::vector<std::string> args,
                           crcr::Environment::Variables env = {{"GH_TOKEN", "gho_good"}},
                           bool with_api_url = true) {
        args.insert(args.begin(), "dispatch-test");
        if (with_api_url) {
            args.insert(args.end(), {"--api-url", github.url()});
        }
        return crcr::test::run_crcr(
            args, crcr::Environment(std::move(env)), http.get(), "", &clock);
    }

    crcr::Environment::Variables app_env() const {
        return {{"CRCR_APP_ID", "123456"}, {"CRCR_APP_PRIVATE_KEY_FILE", key_file}};
    }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("dispatch-test: command line") {
    struct Case {
        std::string name;
        std::string args;
        crcr::DispatchTestOptions want;
    };
    crcr::DispatchTestOptions base;
    base.repo = "o/r";
    base.payload.shape.event = "pull_request";
    crcr::DispatchTestOptions full = base;
    full.payload.shape.event = "push";
    full.payload.shape.repo = "pytorch/pytorch";
    full.payload.shape.ref = "refs/heads/x";
    full.delivery_id = "d";
    full.github.api_url = "http://h/api/v3";
    full.github.app_id = "1";
    full.github.private_key_file = "k.pem";
    full.github.installation_id = 9;
    full.github.max_wait = 30;
    full.watch = true;
    full.timeout = 60;
    full.start_timeout = 10;
    full.json = true;
    crcr::DispatchTestOptions labeled = base;
    labeled.payload.shape.action = "labeled";
    labeled.payload.shape.labels = {"ciflow/crcr/npu"};
    labeled.github.token_file = "t";
    labeled.dry_run = true;
    labeled.force = true;
    const Case cases[] = {
        {"defaults", "--repo o/r", base},
        {"everything",
         "--repo o/r --event push --upstream-repo pytorch/pytorch --ref refs/heads/x --delivery-id "
         "d "
         "--api-url http://h/api/v3 --app-id 1 --private-key k.pem --installation-id 9 "
         "--max-wait 30 --watch --timeout 60 --start-timeout 10 --json",
         full},
        {"labeled, dry run",
         "--repo o/r --action labeled --label ciflow/crcr/npu --token-file t --dry-run --force",
         labeled},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        crcr::DispatchTestOptions got;
        crcr::add_dispatch_test(app, [&got](const crcr::DispatchTestOptions& o) { got = o; });
        app.parse("dispatch-test " + c.args, false);
        CHECK(got == c.want);
    }
}

TEST_CASE("dispatch-test: usage errors exit 2") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string want;
    };
    const Case cases[] = {
        {"no repo", {"dispatch-test"}, "--repo is required"},
        {"bad repo",
         {"dispatch-test", "--repo", "not a repo"},
         "--repo 'not a repo' is not a repository"},
        {"unknown event", {"dispatch-test", "--repo", "o/r", "--event", "issues"}, "--event"},
        {"token file and app",
         {"dispatch-test", "--repo", "o/r", "--token-file", "t", "--app-id", "1"},
         "excludes"},
        {"timeout without watch",
         {"dispatch-test", "--repo", "o/r", "--timeout", "5"},
         "--timeout requires --watch"},
        {"json with dry run",
         {"dispatch-test", "--repo", "o/r", "--json", "--dry-run"},
         "excludes"},
        {"payload with action",
         {"dispatch-test", "--repo", "o/r", "--payload", "p", "--action", "opened"},
         "excludes"},
        {"installation id with a token",
         {"dispatch-test", "--repo", "o/r", "--installation-id", "3", "--dry-run"},
         "--installation-id needs GitHub App credentials"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const auto result = crcr::test::run_crcr(c.args);
        CHECK(result.code == 2);
        CHECK(contains(result.err, c.want));
    }
}

TEST_CASE("dispatch-test: a token dispatches the relay's exact request") {
    DispatchFixture f;
    const auto result = f.run({"--repo", k_repo, "--delivery-id", "d-1", "--pr", "42"});
    CHECK(result.code == 0);
    CHECK(result.out
          == "dispatched 'pull_request' to 'my-org/pytorch-ci' (delivery d-1, "
             "client_payload "
                 + std::to_string(
                     crcr::Json::parse(f.github.dispatches().at(0))["client_payload"].dump().size())
                 + " bytes)\n");
    CHECK(f.github.problems().empty());
    CHECK(f.github.calls() == std::vector<std::string>{"POST /repos/my-org/pytorch-ci/dispatches"});
    const auto request = f.github.requests().at(0);
    CHECK(request.header("Authorization") == "Bearer gho_good");
    const crcr::Json body = crcr::Json::parse(request.body);
    CHECK(body["event_type"] == "pull_request");
    CHECK(body["client_payload"]["event_type"] == "pull_request");
    CHECK(body["client_payload"]["delivery_id"] == "d-1");
    CHECK(body["client_payload"]["payload"]["action"] == "opened");
    CHECK(body["client_payload"]["payload"]["number"] == 42);
    CHECK(request.body == body.dump()); // compact, as the relay sends it
    CHECK_FALSE(contains(result.out + result.err, "gho_good"));
}

TEST_CASE("dispatch-test: --payload is forwarded verbatim, push events too") {
    DispatchFixture f;
    const std::string payload =
        R"({"ref":"refs/heads/main","after":"abc","zeta":1.25,"alpha":[1,{"b":null}]})";
    const auto result =
        f.run({"--repo", k_repo, "--event", "push", "--payload", f.dir.write("p.json", payload)});
    CHECK(result.code == 0);
    const crcr::Json body = crcr::Json::parse(f.github.dispatches().at(0));
    CHECK(body["event_type"] == "push");
    CHECK(body["client_payload"]["payload"].dump() == payload);
}

TEST_CASE("dispatch-test: credentials from GH_TOKEN, GITHUB_TOKEN or --token-file, in that order") {
    struct Case {
        std::string name;
        crcr::Environment::Variables env;
        bool token_file;
        std::string want_token;
    };
    const Case cases[] = {
        {"GH_TOKEN first", {{"GH_TOKEN", "gh"}, {"GITHUB_TOKEN", "github"}}, false, "gh"},
        {"GITHUB_TOKEN", {{"GITHUB_TOKEN", "github"}}, false, "github"},
        {"empty GH_TOKEN is unset",
         {{"GH_TOKEN", ""}, {"GITHUB_TOKEN", "github"}},
         false,
         "github"},
        {"--token-file beats both", {{"GH_TOKEN", "gh"}}, true, "from-file"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DispatchFixture f;
        f.github.add_token(c.want_token);
        std::vector<std::string> args = {"--repo", k_repo};
        if (c.token_file) {
            args.insert(args.end(), {"--token-file", f.dir.write("token", "from-file\n")});
        }
        CHECK(f.run(args, c.env).code == 0);
        CHECK(f.github.requests().at(0).header("Authorization") == "Bearer " + c.want_token);
    }
}

TEST_CASE("dispatch-test: a GitHub App makes exactly GitHub's three round trips") {
    DispatchFixture f;
    const auto result = f.run({"--repo", k_repo}, f.app_env());
    CHECK(result.code == 0);
    CHECK(result.err == "");
    CHECK(f.github.problems().empty());
    CHECK(f.github.calls()
          == std::vector<std::string>{"GET /repos/my-org/pytorch-ci/installation",
                                      "POST /app/installations/77/access_tokens",
                                      "POST /repos/my-org/pytorch-ci/dispatches"});
    const auto requests = f.github.requests();
    // The JWT: RS256 over the claims GitHub wants, verified with the App's public key.
    const std::string jwt = requests[0].header("Authorization").value_or("").substr(7);
    const crcr::DecodedJwt decoded = crcr::decode_jwt(jwt);
    CHECK(crcr::RsaPublicKey::from_pem(crcr::test::test_rsa_key().public_pem, "test")
              .verify_rs256(decoded.signing_input, decoded.signature));
    const long long now = 1'790'000'000;
    CHECK(decoded.claims["iat"] == now - 60);
    CHECK(decoded.claims["exp"].get<long long>() <= now + 600);
    CHECK(decoded.claims["iss"] == "123456");
    CHECK(requests[1].header("Authorization") == requests[0].header("Authorization"));
    // A token for this repository only, with only what a dispatch needs.
    CHECK(crcr::Json::parse(requests[1].body)
          == crcr::Json::parse(
              R"({"repositories":["pytorch-ci"],"permissions":{"contents":"write"}})"));
    CHECK(requests[2].header("Authorization").value_or("").starts_with("Bearer ghs_fake"));
}

TEST_CASE("dispatch-test: --installation-id skips the lookup, GHES API base under /api/v3") {
    TestClock clock;
    FakeGitHub ghes([&clock] { return clock.now(); }, "/api/v3");
    ghes.add_repo(k_repo, {.installation_id = 5});
    ghes.set_app({.id = "9", .public_key_pem = crcr::test::test_rsa_key().public_pem});
    const crcr::test::TempDir dir;
    const std::string key = dir.write("k.pem", crcr::test::test_rsa_key().private_pem);
    std::filesystem::permissions(key, std::filesystem::perms::owner_read);
    const auto http = crcr::make_curl_http_client();
    const auto result = crcr::test::run_crcr(
        {"dispatch-test",
         "--repo",
         k_repo,
         "--app-id",
         "9",
         "--private-key",
         key,
         "--installation-id",
         "5"},
        crcr::Environment(crcr::Environment::Variables{{"GITHUB_API_URL", ghes.url()}}),
        http.get(),
        "",
        &clock);
    CHECK(result.code == 0);
    CHECK(ghes.problems().empty());
    CHECK(ghes.calls()
          == std::vector<std::string>{"POST /app/installations/5/access_tokens",
                                      "POST /repos/my-org/pytorch-ci/dispatches"});
    CHECK(ghes.requests().at(0).target == "/api/v3/app/installations/5/access_tokens");
}

TEST_CASE("dispatch-test: every answer explained, with its exit code") {
    struct Case {
        std::string name;
        std::function<void(DispatchFixture&)> arrange;
        bool app;
        int want_code;
        std::string want_err;
        std::vector<std::string> want_calls;
    };
    const std::string dispatches = "POST /repos/my-org/pytorch-ci/dispatches";
    const std::string probe = "GET /repos/my-org/pytorch-ci";
    const auto answer = [&](int status, std::string body, crcr::HttpHeaders headers = {}) {
        return [=](DispatchFixture& f) {
            f.github.inject(
                "POST /repos/",
                {Reply{.status = status, .reason = "X", .headers = headers, .body = body}});
        };
    };
    const Case cases[] = {
        {"repository missing",
         [](DispatchFixture& f) { f.github.remove_repo(k_repo); },
         false,
         1,
         "repository 'my-org/pytorch-ci' does not exist, or this token cannot see it",
         {dispatches, probe}},
        {"private repository the token cannot see",
         [](DispatchFixture& f) {
             f.github.add_repo(k_repo, {.is_private = true});
             f.github.add_token("gho_good", {.all_repos = false});
         },
         false,
         1,
         "does not exist, or this token cannot see it",
         {dispatches, probe}},
        {"classic token without the repo scope",
         [](DispatchFixture& f) {
             f.github.add_token("gho_good", {.can_push = false, .classic_scopes = "read:org"});
         },
         false,
         4,
         "this token can read 'my-org/pytorch-ci' but not write to it: a dispatch needs 'contents: "
         "write' (fine-grained token or GitHub App) or the 'repo' scope (classic token)",
         {dispatches, probe}},
        {"fine-grained token without contents: write",
         [](DispatchFixture& f) { f.github.add_token("gho_good", {.can_push = false}); },
         false,
         4,
         "GitHub answered 403 (Resource not accessible by personal access token); GitHub accepts "
         "tokens with: contents=write: a dispatch needs 'contents: write'",
         {dispatches}},
        {"bad credentials",
         [](DispatchFixture& f) { f.github.remove_token("gho_good"); },
         false,
         4,
         "GitHub answered 401 (Bad credentials): the token is invalid, expired or revoked",
         {dispatches}},
        {"422 spam",
         answer(422, R"({"message":"the endpoint has been spammed."})"),
         false,
         1,
         "GitHub answered 422 (the endpoint has been spammed.): GitHub throttles repeated "
         "dispatches",
         {dispatches}},
        {"422 payload as a string",
         answer(
             422,
             R"({"message":"Invalid request.\n\nFor 'properties/client_payload', \"{}\" is not an object."})"),
         false,
         1,
         "client_payload must be a JSON object, not a string holding JSON",
         {dispatches}},
        {"500 is never retried",
         answer(500, R"({"message":"Server Error"})"),
         false,
         5,
         "GitHub answered 500 (Server Error): GitHub may have accepted the dispatch anyway, so "
         "crcr "
         "does not send it again",
         {dispatches}},
        {"502 from a proxy",
         answer(502, "<html>bad gateway</html>"),
         false,
         5,
         "see whether a run started with --watch",
         {dispatches}},
        {"connection reset mid-answer",
         [](DispatchFixture& f) {
             f.github.inject("POST /repos/",
                             {Reply{.status = 200,
                                    .body = std::string(1000, 'x'),
                                    .action = Reply::Action::reset_mid_body}});
         },
         false,
         5,
         "",
         {dispatches}},
        {"malformed answer",
         [](DispatchFixture& f) {
             f.github.inject("POST /repos/", {Reply{.action = Reply::Action::malformed}});
         },
         false,
         5,
         "",
         {dispatches}},
        {"App not installed",
         [](DispatchFixture& f) { f.github.add_repo(k_repo, {.installation_id = 0}); },
         true,
         4,
         "the GitHub App '123456' is not installed on 'my-org/pytorch-ci'",
         {"GET /repos/my-org/pytorch-ci/installation"}},
        {"this machine's clock is ahead",
         [](DispatchFixture& f) { f.github.set_clock_offset(std::chrono::seconds(-900)); },
         true,
         4,
         "GitHub refused the App's JWT (401 'Issued at' claim ('iat') must be an Integer "
         "representing the time that the assertion was issued): this machine's clock is 900 s "
         "ahead of GitHub's",
         {"GET /repos/my-org/pytorch-ci/installation"}},
        {"this machine's clock is behind",
         [](DispatchFixture& f) { f.github.set_clock_offset(std::chrono::seconds(900)); },
         true,
         4,
         "this machine's clock is 900 s behind GitHub's",
         {"GET /repos/my-org/pytorch-ci/installation"}},
        {"a key of another App",
         [](DispatchFixture& f) {
             f.github.set_app({.id = "123456",
                               .public_key_pem =
                                   "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"});
         },
         true,
         4,
         "A JSON web token could not be decoded): check that App id '123456' belongs to the key",
         {"GET /repos/my-org/pytorch-ci/installation"}},
        {"App without contents: write",
         [](DispatchFixture& f) {
             f.github.set_app({.id = "123456",
                               .public_key_pem = crcr::test::test_rsa_key().public_pem,
                               .permissions = {"metadata:read"}});
         },
         true,
         4,
         "GitHub would not issue an installation token for 'my-org/pytorch-ci' (The permissions "
         "requested are not granted to this installation.): the App needs the permissions "
         "'contents: write'",
         {"GET /repos/my-org/pytorch-ci/installation", "POST /app/installations/77/access_tokens"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DispatchFixture f;
        c.arrange(f);
        const auto result =
            c.app ? f.run({"--repo", k_repo}, f.app_env()) : f.run({"--repo", k_repo});
        CHECK(result.code == c.want_code);
        CHECK(result.out == "");
        CHECK(result.err.starts_with("crcr: error: "));
        CHECK(contains(result.err, c.want_err));
        CHECK(f.github.calls() == c.want_calls);
        CHECK(f.github.problems().empty());
        CHECK_FALSE(contains(result.err, "gho_good"));
    }
}

TEST_CASE("dispatch-test: rate limits are waited out as GitHub asks, then the dispatch is sent") {
    struct Case {
        std::string name;
        std::vector<Reply> limits;
        std::vector<std::string> args;
        int want_code;
        std::vector<long long> want_sleeps;
        std::string want_err;
    };
    const Reply retry_after{
        .status = 429, .reason = "Too Many Requests", .headers = {{"Retry-After", "7"}}};
    const Reply bare_429{.status = 429, .reason = "Too Many Requests"};
    const Reply secondary{
        .status = 403,
        .reason = "Forbidden",
        .body =
            R"({"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})"};
    const Reply primary{.status = 403,
                        .reason = "Forbidden",
                        .headers = {{"x-ratelimit-remaining", "0"},
                                    {"x-ratelimit-reset", "1790000300"},
                                    {"x-ratelimit-resource", "core"}},
                        .body = R"({"message":"API rate limit exceeded"})"};
    const Case cases[] = {
        {"429 with retry-after",
         {retry_after},
         {},
         0,
         {7},
         "crcr: rate-limited by GitHub (429, it sent retry-after: 7); waiting 7 s, then trying "
         "again\n"},
        {"429 without retry-after", {bare_429}, {}, 0, {60}, "waiting 60 s"},
        {"secondary limit, twice",
         {secondary, secondary},
         {},
         0,
         {60, 120},
         "secondary rate limit"},
        {"primary limit until reset",
         {primary},
         {},
         0,
         {301},
         "primary rate limit (core) resets at"},
        {"beyond --max-wait",
         {primary},
         {"--max-wait", "60"},
         5,
         {},
         "asks to wait 301 s, beyond the budget of 60 s (--max-wait)"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DispatchFixture f;
        f.github.inject("POST /repos/", c.limits);
        std::vector<std::string> args = {"--repo", k_repo};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto result = f.run(args);
        CHECK(result.code == c.want_code);
        CHECK(f.clock.sleeps() == c.want_sleeps);
        CHECK(contains(result.err, c.want_err));
        CHECK(f.github.dispatches().size() == (c.want_code == 0 ? 1U : 0U));
    }
}

TEST_CASE("dispatch-test --watch follows the run the dispatch started") {
    struct Case {
        std::string name;
        FakeRepo repo;
        std::vector<std::string> args;
        int want_code;
        std::vector<std::string> want_out;
        std::vector<std::string> want_err;
    };
    const std::string run_url = "https://github.com/my-org/pytorch-ci/actions/runs/";
    const Case cases[] = {
        {"success",
         {},
         {},
         0,
         {"run 9000000001 'PyTorch CI' concluded success: " + run_url + "9000000001"},
         {"crcr: run 9000000001 'PyTorch CI' queued: " + run_url, "'PyTorch CI' in_progress"}},
        {"failure", {.conclusion = "failure"}, {}, 1, {"concluded failure"}, {}},
        {"two workflows listen",
         {.runs_per_dispatch = 2},
         {},
         0,
         {"run 9000000001 'PyTorch CI' concluded success",
          "run 9000000002 'PyTorch CI 2' concluded success"},
         {}},
        {"no workflow listens",
         {.workflow_listens = false},
         {"--start-timeout", "30"},
         1,
         {},
         {"hint:   - are on the default branch of 'my-org/pytorch-ci'",
          "including 'pull_request'",
          "hint: crcr doctor --repo my-org/pytorch-ci checks each of these against GitHub",
          "crcr: error: no workflow run started in 'my-org/pytorch-ci' within 30 s of the "
          "dispatch"}},
        {"still running at --timeout",
         {.statuses = {"queued", "in_progress"}},
         {"--timeout", "60"},
         5,
         {},
         {"the run is still going after 1 min (--timeout); follow it at " + run_url
          + "9000000001"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DispatchFixture f(c.repo);
        std::vector<std::string> args = {"--repo", k_repo, "--watch"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const auto result = f.run(args);
        CAPTURE(result.err);
        CHECK(result.code == c.want_code);
        for (const std::string& line : c.want_out) {
            CHECK(contains(result.out, line));
        }
        for (const std::string& line : c.want_err) {
            CHECK(contains(result.err, line));
        }
        CHECK(f.github.problems().empty());
        CHECK_FALSE(contains(result.err, "\r")); // no progress line off a terminal
    }
}

TEST_CASE("dispatch-test --watch polls one list, conditionally, matching runs by GitHub's clock") {
    DispatchFixture f(
        {.statuses = {"queued", "in_progress", "in_progress", "in_progress", "completed"}});
    f.github.set_clock_offset(std::chrono::seconds(3600)); // GitHub's clock an hour ahead
    const auto result = f.run({"--repo", k_repo, "--watch"});
    CHECK(result.code == 0);
    const auto requests = f.github.requests();
    REQUIRE(requests.size() == 6);
    CHECK(requests[1].target
          == "/repos/my-org/pytorch-ci/actions/"
             "runs?event=repository_dispatch&created=%3E%3D2026-09-21T15%3A13%3A18Z&per_page=100");
    CHECK_FALSE(requests[1].header("If-None-Match"));
    CHECK(requests[2].header("If-None-Match"));
    CHECK(f.clock.sleeps() == std::vector<long long>{15, 15, 15, 15});
}

TEST_CASE("dispatch-test --watch with an App asks for actions: read too") {
    DispatchFixture f({.is_private = true, .installation_id = 77});
    const auto result = f.run({"--repo", k_repo, "--watch"}, f.app_env());
    CHECK(result.code == 0);
    CHECK(
        f.github.requests().at(1).body
        == R"({"repositories":["pytorch-ci"],"permissions":{"actions":"read","contents":"write"}})");
}

TEST_CASE("dispatch-test --watch with an App: one connection for every request of the run") {
    DispatchFixture f;
    const auto result = f.run({"--repo", k_repo, "--watch"}, f.app_env());
    CHECK(result.code == 0);
    // The installation, the token, the dispatch and the polls of the runs list, kept alive.
    CHECK(f.github.calls().size() >= 5);
    CHECK(f.github.connections() == 1);
}

TEST_CASE("dispatch-test: pre-flight refuses an oversized payload before anything is sent") {
    DispatchFixture f;
    const auto big = f.run({"--repo", k_repo, "--title", std::string(70'000, 't')});
    CHECK(big.code == 1);
    CHECK(contains(big.err, "crcr: client_payload is "));
    CHECK(contains(big.err, "payload.pull_request.title"));
    CHECK(contains(big.err,
                   "crcr: error: GitHub would refuse this dispatch (422): client_payload is "));
    CHECK(contains(big.err, "--force sends it anyway"));
    CHECK(f.github.requests().empty());

    const auto forced = f.run({"--repo", k_repo, "--title", std::string(70'000, 't'), "--force"});
    CHECK(forced.code == 1); // GitHub itself refuses it
    CHECK(contains(forced.err, "crcr: warning: sending although GitHub will refuse it (--force)"));
    CHECK(contains(forced.err, "GitHub answered 422 (client_payload is too large.)"));
    CHECK(f.github.requests().size() == 1);

    const auto near = f.run({"--repo", k_repo, "--title", std::string(40'000, 't')});
    CHECK(near.code == 0);
    CHECK(contains(near.err, "largest fields:"));
}

TEST_CASE("dispatch-test --dry-run prints every request, credentials redacted, and sends nothing") {
    DispatchFixture f;
    const auto token = f.run({"--repo", k_repo, "--delivery-id", "d-1", "--dry-run"});
    CHECK(token.code == 0);
    CHECK(token.out.starts_with("POST " + f.github.url()
                                + "/repos/my-org/pytorch-ci/dispatches\n"
                                  "Accept: application/vnd.github+json\n"
                                  "X-GitHub-Api-Version: 2022-11-28\n"
                                  "User-Agent: crcr/"));
    CHECK(contains(token.out,
                   "\nAuthorization: Bearer ***\nContent-Type: application/json\n\n"
                   "{\"event_type\":\"pull_request\",\"client_payload\":{\"event_type\":"
                   "\"pull_request\",\"delivery_id\":\"d-1\",\"payload\":{"));
    CHECK_FALSE(contains(token.out, "gho_good"));

    const auto app = f.run({"--repo", k_repo, "--dry-run", "--watch"}, f.app_env());
    CHECK(app.code == 0);
    CHECK(contains(app.out, "GET " + f.github.url() + "/repos/my-org/pytorch-ci/installation\n"));
    CHECK(contains(app.out, "/access_tokens\n"));
    CHECK(contains(
        app.out,
        R"({"repositories":["pytorch-ci"],"permissions":{"actions":"read","contents":"write"}})"));
    CHECK(contains(app.out, "(--watch would then poll GET "));
    CHECK_FALSE(contains(app.out, "eyJ")); // no JWT
    CHECK(f.github.requests().empty());
    CHECK(f.github.calls().empty());
}

TEST_CASE("dispatch-test --json: one document, success or failure") {
    DispatchFixture f;
    const auto ok = f.run({"--repo", k_repo, "--delivery-id", "d-1", "--json", "--watch"});
    CHECK(ok.code == 0);
    const crcr::Json result = crcr::Json::parse(ok.out);
    CHECK(result["repo"] == k_repo);
    CHECK(result["event_type"] == "pull_request");
    CHECK(result["delivery_id"] == "d-1");
    CHECK(result["status"] == 204);
    CHECK(result["client_payload_bytes"].get<std::size_t>() > 10'000);
    CHECK(result["runs"][0]["conclusion"] == "success");
    CHECK(result["runs"][0]["url"]
          == "https://github.com/my-org/pytorch-ci/actions/runs/9000000001");

    f.github.inject("POST /repos/", {Reply{.status = 502, .reason = "Bad Gateway"}});
    const auto failed = f.run({"--repo", k_repo, "--json"});
    CHECK(failed.code == 5);
    const crcr::Json error = crcr::Json::parse(failed.out);
    CHECK(error["exit_code"] == 5);
    CHECK(contains(error["error"].get<std::string>(), "GitHub answered 502"));
}

TEST_CASE("dispatch-test: credential problems are clear, exit 4, before anything is sent") {
    struct Case {
        std::string name;
        std::function<crcr::Environment::Variables(DispatchFixture&)> env;
        std::string want;
    };
    const Case cases[] = {
        {"none at all",
         [](DispatchFixture&) { return crcr::Environment::Variables{}; },
         "no GitHub credentials: set GH_TOKEN or GITHUB_TOKEN"},
        {"key without an app id",
         [](DispatchFixture& f) {
             return crcr::Environment::Variables{{"CRCR_APP_PRIVATE_KEY_FILE", f.key_file}};
         },
         "a GitHub App private key needs the App's id: --app-id or CRCR_APP_ID"},
        {"app id without a key",
         [](DispatchFixture&) {
             return crcr::Environment::Variables{{"CRCR_APP_ID", "1"}};
         },
         "GitHub App '1' needs its private key"},
        {"an EC key",
         [](DispatchFixture& f) {
             return crcr::Environment::Variables{
                 {"CRCR_APP_ID", "1"},
                 {"CRCR_APP_PRIVATE_KEY_FILE",
                  f.dir.write("ec.pem", crcr::test::test_ec_private_key())}};
         },
         "ec.pem' holds a id-ecPublicKey key: GitHub App keys are RSA (RS256)"},
        {"a missing key file",
         [](DispatchFixture& f) {
             return crcr::Environment::Variables{
                 {"CRCR_APP_ID", "1"}, {"CRCR_APP_PRIVATE_KEY_FILE", f.dir.path("nope.pem")}};
         },
         "nope.pem"},
        {"an empty token file",
         [](DispatchFixture&) { return crcr::Environment::Variables{}; },
         "token file"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DispatchFixture f;
        std::vector<std::string> args = {"--repo", k_repo};
        if (c.name == "an empty token file") {
            args.insert(args.end(), {"--token-file", f.dir.write("empty", "\n")});
        }
        const auto result = f.run(args, c.env(f));
        CHECK(contains(result.err, c.want));
        CHECK(result.code == (c.name == "a missing key file" ? 1 : 4));
        CHECK(f.github.requests().empty());
    }
}

TEST_CASE("dispatch-test warns about a private key other users can read, and about a GHES URL "
          "without /api/v3") {
    DispatchFixture f;
    std::filesystem::permissions(f.key_file,
                                 std::filesystem::perms::owner_read
                                     | std::filesystem::perms::group_read
                                     | std::filesystem::perms::others_read);
    const auto result = f.run({"--repo", k_repo}, f.app_env());
    CHECK(result.code == 0);
    CHECK(contains(result.err,
                   "crcr: warning: private key '" + f.key_file
                       + "' is readable by other users (mode 0444): chmod 600"));

    const auto ghes =
        f.run({"--repo", k_repo, "--dry-run", "--api-url", "https://ghe.example.com"}, {}, false);
    CHECK(contains(ghes.err, "crcr: warning: API URL 'https://ghe.example.com' has no /api/ path"));
}

TEST_CASE("dispatch-test: nothing listening is exit 5") {
    const auto http = crcr::make_curl_http_client();
    const auto result = crcr::test::run_crcr(
        {"dispatch-test", "--repo", k_repo, "--api-url", crcr::test::refused_url()},
        crcr::Environment(crcr::Environment::Variables{{"GH_TOKEN", "t"}}),
        http.get());
    CHECK(result.code == 5);
    CHECK(contains(result.err, "crcr: error: POST "));
}

TEST_CASE("dispatch-test --watch after a 5xx looks for the run instead of sending again") {
    DispatchFixture landed;
    landed.github.inject_after_handling("POST /repos/",
                                        Reply{.status = 502, .reason = "Bad Gateway"});
    const auto found = landed.run({"--repo", k_repo, "--watch"});
    CAPTURE(found.err);
    CHECK(found.code == 0);
    CHECK(contains(found.err, "GitHub answered 502"));
    CHECK(contains(found.err, "crcr: --watch: looking for a run, in case the dispatch landed"));
    CHECK(contains(found.out, "concluded success"));
    CHECK(landed.github.dispatches().size() == 1); // sent once, never again

    DispatchFixture lost;
    lost.github.inject("POST /repos/", {Reply{.status = 502, .reason = "Bad Gateway"}});
    const auto none = lost.run({"--repo", k_repo, "--watch", "--start-timeout", "20"});
    CHECK(none.code == 5);
    CHECK(contains(none.err, "crcr: error: dispatch to 'my-org/pytorch-ci': GitHub answered 502"));
    const std::vector<std::string> calls = lost.github.calls();
    CHECK(calls.front() == "POST /repos/my-org/pytorch-ci/dispatches");
    CHECK(std::count(calls.begin(), calls.end(), "POST /repos/my-org/pytorch-ci/dispatches") == 1);
}
