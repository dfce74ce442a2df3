#include "deliveries.hpp"
#include "fake_github.hpp"
#include "test_support.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/files.hpp"
#include "crcr/jwt.hpp"
#include "crcr/payload.hpp"
#include "crcr/random.hpp"
#include "crcr/relay.hpp"
#include "crcr/relay_server.hpp"
#include "crcr/relay_store.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

using crcr::test::FakeDelivery;
using crcr::test::FakeGitHub;
using crcr::test::FakeHook;
using crcr::test::Reply;
using crcr::test::TestClock;

namespace {

using std::chrono::minutes;

const char* const k_relay_secret = "deliveries relay secret";

// A pull_request webhook body for pytorch/pytorch, as GitHub would have sent it.
std::string pr_payload(int number) {
    crcr::Random random(static_cast<std::uint64_t>(number));
    crcr::PayloadShape shape;
    shape.event = "pull_request";
    shape.action = "opened";
    shape.pr = static_cast<std::uint64_t>(number);
    return crcr::build_payload(shape, random, crcr::parse_time("2026-09-21T10:00:00Z")).dump();
}

// A fake GitHub with the App (its key in a file) and `run` for `crcr deliveries ...`.
struct DeliveriesFixture {
    TestClock clock;
    FakeGitHub github{[this] { return clock.now(); }};
    std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
    crcr::test::TempDir dir;
    std::string key_file;

    DeliveriesFixture() {
        github.set_app({.id = "123456",
                        .public_key_pem = crcr::test::test_rsa_key().public_pem,
                        .permissions = {"repository_hooks:read", "repository_hooks:write"}});
        key_file = dir.write("app.pem", crcr::test::test_rsa_key().private_pem);
        std::filesystem::permissions(key_file, std::filesystem::perms::owner_read);
    }

    // A delivery `ago` before the test's start, failed or not.
    FakeDelivery delivery(const std::string& guid,
                          minutes ago,
                          int code = 200,
                          const std::string& status = "OK",
                          const std::string& answer = R"({"ok":true})") const {
        static int number = 0;
        FakeDelivery d;
        d.guid = guid;
        d.delivered_at = clock.now() - ago;
        d.status_code = code;
        d.status = status;
        d.response_body = answer;
        d.payload = pr_payload(++number);
        return d;
    }

    crcr::Environment::Variables app_env() const {
        return {{"CRCR_APP_ID", "123456"}, {"CRCR_APP_PRIVATE_KEY_FILE", key_file}};
    }

    crcr::test::CliRun run(const std::vector<std::string>& args) {
        return run_with(args, app_env());
    }

    crcr::test::CliRun run_with(const std::vector<std::string>& args,
                                crcr::Environment::Variables env) {
        std::vector<std::string> full = {"deliveries"};
        full.insert(full.end(), args.begin(), args.end());
        full.insert(full.end(), {"--api-url", github.url()});
        return crcr::test::run_crcr(
            full, crcr::Environment(std::move(env)), http.get(), "", &clock);
    }

    std::size_t calls_to(const std::string& prefix) const {
        const std::vector<std::string> calls = github.calls();
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [&](const std::string& c) {
                return c.starts_with(prefix);
            }));
    }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::size_t lines_starting(const std::string& text, const std::string& start) {
    std::size_t count = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (text.compare(at, start.size(), start) == 0) {
            ++count;
        }
        at = end == std::string::npos ? text.size() : end + 1;
    }
    return count;
}

// The relay emulator on a free loopback port, dispatches recorded in `state`, counted.
struct LoopbackRelay {
    crcr::RelayStore store;
    std::atomic<int> dispatches{0};
    crcr::Relay relay;
    crcr::RelayServer server;
    std::string to;
    std::thread serving;

    explicit LoopbackRelay(const std::string& state)
        : store(state),
          relay(
              crcr::RelaySettings{.secret = k_relay_secret},
              crcr::check_allowlist("L1:\n  - org/one\nL2:\n  - org/two\n").allowlist,
              [] {
                  const crcr::RsaPrivateKey key(crcr::test::test_rsa_key().private_pem, "key");
                  return crcr::Jwks::parse(
                      crcr::Json{{"keys", crcr::Json::array({key.public_jwk("test")})}}.dump(),
                      "test");
              }(),
              store,
              [this](const std::string&, const crcr::Json&) {
                  ++dispatches;
                  return crcr::DispatchResult{};
              },
              [] { return std::chrono::system_clock::now(); },
              [](const crcr::LogEntry&) {}),
          server(relay,
                 crcr::RelayServerOptions{.port = 0, .threads = 2},
                 [](const crcr::LogEntry&) {}),
          to(fmt::format("http://127.0.0.1:{}/github/webhook", server.bind())),
          serving([this] { server.serve(); }) {}
    ~LoopbackRelay() {
        server.stop();
        serving.join();
    }
    LoopbackRelay(const LoopbackRelay&) = delete;
    LoopbackRelay& operator=(const LoopbackRelay&) = delete;
};

// An outage: three failures that never reached the relay, one the relay dispatched (502 with
// "failed"), one timeout, and deliveries that went through.
FakeHook outage(const DeliveriesFixture& f) {
    FakeHook hook;
    hook.deliveries = {
        f.delivery("ok-1", minutes(100)),
        f.delivery("down-1", minutes(90), 0, "failed to connect"),
        f.delivery("down-2", minutes(80), 503, "Invalid HTTP Response: 503", "Service Unavailable"),
        f.delivery(
            "dispatched",
            minutes(70),
            502,
            "Invalid HTTP Response: 502",
            R"({"detail":{"message":"No downstream dispatch succeeded","failed":[{"repo":"org/one","error":"GitHub dispatch failed: state"}]}})"),
        f.delivery("slow", minutes(60), 0, "timed out"),
        f.delivery("down-3",
                   minutes(50),
                   400,
                   "Invalid HTTP Response: 400",
                   R"({"detail":"No signature"})"),
        f.delivery("ok-2", minutes(40)),
    };
    // The relay is still down when GitHub redelivers.
    hook.redelivery_status = "failed to connect";
    hook.redelivery_code = 0;
    return hook;
}

} // namespace

TEST_CASE("deliveries: command line") {
    CLI::App app;
    crcr::DeliveriesListOptions list;
    crcr::DeliveriesShowOptions show;
    crcr::DeliveriesPullOptions pull;
    crcr::DeliveriesRedeliverOptions redeliver;
    crcr::add_deliveries(
        app,
        [&](const crcr::DeliveriesListOptions& o) { list = o; },
        [&](const crcr::DeliveriesShowOptions& o) { show = o; },
        [&](const crcr::DeliveriesPullOptions& o) { pull = o; },
        [&](const crcr::DeliveriesRedeliverOptions& o) { redeliver = o; });

    app.parse("deliveries list --repo o/r --hook-id 7 --since 3h --failed --event push --action "
              "opened --guid g --json --max-wait 30",
              false);
    crcr::DeliveriesListOptions want_list;
    want_list.selection = {.repo = "o/r",
                           .hook_id = 7,
                           .since = "3h",
                           .failed = true,
                           .event = "push",
                           .action = "opened",
                           .guid = "g"};
    want_list.selection.github.max_wait = 30;
    want_list.json = true;
    CHECK(list == want_list);

    app.parse("deliveries show 123 --org o --hook-id 9 --json", false);
    crcr::DeliveriesShowOptions want_show;
    want_show.selection = {.org = "o", .hook_id = 9};
    want_show.delivery = "123";
    want_show.json = true;
    CHECK(show == want_show);

    app.parse("deliveries pull -o out/ --failed --force", false);
    crcr::DeliveriesPullOptions want_pull;
    want_pull.selection.failed = true;
    want_pull.output = "out/";
    want_pull.force = true;
    CHECK(pull == want_pull);

    app.parse("deliveries redeliver --since 2026-12-06T10:00:00Z --max 5 --force --rate 0.5 "
              "--state s --explain --json",
              false);
    crcr::DeliveriesRedeliverOptions want_re;
    want_re.selection.since = "2026-12-06T10:00:00Z";
    want_re.max = 5;
    want_re.force = true;
    want_re.rate = 0.5;
    want_re.state = "s";
    want_re.explain = true;
    want_re.json = true;
    CHECK(redeliver == want_re);
}

TEST_CASE("deliveries: usage errors exit 2") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string want;
    };
    const Case cases[] = {
        {"no verb", {"deliveries"}, "a subcommand is required"},
        {"hook id alone", {"deliveries", "list", "--hook-id", "3"}, "--hook-id needs --repo"},
        {"repo without hook", {"deliveries", "list", "--repo", "o/r"}, "--repo needs --hook-id"},
        {"repo and org", {"deliveries", "list", "--repo", "o/r", "--org", "o"}, "excludes"},
        {"bad repo", {"deliveries", "list", "--repo", "o", "--hook-id", "1"}, "not a repository"},
        {"bad since", {"deliveries", "list", "--since", "soon"}, "neither a time"},
        {"zero hook id", {"deliveries", "list", "--org", "o", "--hook-id", "0"}, "--hook-id"},
        {"max 0", {"deliveries", "redeliver", "--max", "0"}, "--max"},
        {"rate too high", {"deliveries", "redeliver", "--rate", "100"}, "--rate"},
        {"state and dry run", {"deliveries", "redeliver", "--state", "s", "--dry-run"}, "excludes"},
        {"show without id", {"deliveries", "show"}, "delivery is required"},
        {"pull without output", {"deliveries", "pull"}, "--output is required"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun run = crcr::test::run_crcr(
            c.args, crcr::Environment(crcr::Environment::Variables{{"CRCR_APP_ID", "1"}}));
        CAPTURE(run.err);
        CHECK(run.code == 2);
        CHECK(contains(run.err, c.want));
    }
}

TEST_CASE("deliveries list: three pages until --since") {
    DeliveriesFixture f;
    FakeHook hook;
    for (int i = 1; i <= 9; ++i) {
        hook.deliveries.push_back(f.delivery(fmt::format("guid-{}", i),
                                             minutes(10 * i),
                                             i % 3 == 0 ? 502 : 200,
                                             i % 3 == 0 ? "Invalid HTTP Response: 502" : "OK"));
    }
    f.github.add_hook("app", hook, 3);

    const crcr::test::CliRun run = f.run({"list", "--since", "75m"});
    CAPTURE(run.err);
    REQUIRE(run.code == 0);
    CHECK(f.calls_to("GET /app/hook/deliveries") == 3); // the third page reaches past --since
    CHECK(lines_starting(run.out, "20") == 7);
    CHECK(contains(run.out, "guid-7"));
    CHECK_FALSE(contains(run.out, "guid-8"));
    CHECK(f.github.problems().empty());
    const auto requests = f.github.requests();
    CHECK(contains(requests[1].target, "cursor=v1_"));
    CHECK(contains(requests[0].target, "per_page=100"));

    SUBCASE("--failed --json") {
        const crcr::test::CliRun failed = f.run({"list", "--since", "2h", "--failed", "--json"});
        REQUIRE(failed.code == 0);
        const crcr::Json got = crcr::Json::parse(failed.out);
        REQUIRE(got.size() == 3);
        for (const crcr::Json& d : got) {
            CHECK(d["status_code"] == 502);
        }
        CHECK(got[0]["guid"] == "guid-3"); // newest first
    }
    SUBCASE("--guid") {
        const crcr::test::CliRun one = f.run({"list", "--guid", "guid-5", "--json"});
        REQUIRE(one.code == 0);
        CHECK(crcr::Json::parse(one.out).size() == 1);
    }
}

TEST_CASE("deliveries list: Enterprise Server prefix and repository hooks") {
    TestClock clock;
    FakeGitHub github([&clock] { return clock.now(); }, "/api/v3");
    github.add_token("gho_admin");
    github.add_token("gho_reader");
    FakeHook hook;
    FakeDelivery d;
    d.guid = "repo-guid";
    d.delivered_at = clock.now() - minutes(5);
    hook.deliveries = {d};
    hook.tokens = {"gho_admin"};
    github.add_hook("repos/my-org/relay-test/hooks/42", hook);
    const auto http = crcr::make_curl_http_client();
    const auto run = [&](const std::string& token) {
        return crcr::test::run_crcr(
            {"deliveries", "list", "--repo", "my-org/relay-test", "--hook-id", "42"},
            crcr::Environment(crcr::Environment::Variables{{"GH_TOKEN", token},
                                                           {"GITHUB_API_URL", github.url()}}),
            http.get(),
            "",
            &clock);
    };
    const crcr::test::CliRun ok = run("gho_admin");
    CAPTURE(ok.err);
    CHECK(ok.code == 0);
    CHECK(contains(ok.out, "repo-guid"));
    const crcr::test::CliRun refused = run("gho_reader");
    CHECK(refused.code == 4);
    CHECK(contains(refused.err, "admin:repo_hook"));
    CHECK(contains(refused.err, "repository_hooks=read"));
    CHECK_FALSE(contains(refused.err, "gho_reader"));
    CHECK(github.problems().empty());
}

TEST_CASE("deliveries: credentials refused are explained") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    SUBCASE("a token for the App's hook") {
        const crcr::test::CliRun run = f.run_with({"list"}, {{"GH_TOKEN", "gho_x"}});
        CHECK(run.code == 4);
        CHECK(contains(run.err, "only the App's own JWT"));
        CHECK(f.github.requests().empty());
    }
    SUBCASE("no credentials") {
        const crcr::test::CliRun run = f.run_with({"list"}, {});
        CHECK(run.code == 4);
        CHECK(contains(run.err, "no GitHub App credentials"));
        const crcr::test::CliRun repo = f.run_with({"list", "--repo", "o/r", "--hook-id", "1"}, {});
        CHECK(repo.code == 4);
        CHECK(contains(repo.err, "no GitHub credentials: set GH_TOKEN or GITHUB_TOKEN"));
        CHECK(contains(repo.err, "GH_TOKEN=$(gh auth token)"));
    }
    SUBCASE("this machine's clock is ahead of GitHub's") {
        f.github.set_clock_offset(-minutes(5));
        const crcr::test::CliRun run = f.run({"list"});
        CHECK(run.code == 4);
        CHECK(contains(run.err, "clock is 300 s ahead of GitHub's"));
    }
    SUBCASE("another App's key") {
        f.github.set_app(
            {.id = "123456", .public_key_pem = crcr::test::rsa_key_of(2048).public_pem});
        const crcr::test::CliRun run = f.run({"list"});
        CHECK(run.code == 4);
        CHECK(contains(run.err, "App id '123456' belongs to the key"));
    }
    SUBCASE("403 on a repository hook") {
        f.github.add_token("gho_weak");
        FakeHook repo_hook = outage(f);
        repo_hook.tokens = {"gho_admin"};
        f.github.add_hook("repos/o/r/hooks/5", repo_hook);
        const crcr::test::CliRun run = f.run_with({"redeliver", "--repo", "o/r", "--hook-id", "5"},
                                                  {{"GH_TOKEN", "gho_weak"}});
        CHECK(run.code == 4);
        CHECK(contains(run.err, "GitHub answered 403"));
        CHECK(contains(run.err, "'Webhooks' (read; write to redeliver)"));
        CHECK(f.calls_to("POST") == 0);
    }
}

TEST_CASE("deliveries: rate limits are waited out within --max-wait") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                           (f.clock.now() + std::chrono::seconds(120)).time_since_epoch())
                           .count();
    Reply limited{.status = 403,
                  .reason = "Forbidden",
                  .headers = {{"Content-Type", "application/json"},
                              {"x-ratelimit-remaining", "0"},
                              {"x-ratelimit-reset", std::to_string(reset)}},
                  .body = R"({"message":"API rate limit exceeded"})"};
    Reply secondary{.status = 429,
                    .reason = "Too Many Requests",
                    .headers = {{"Content-Type", "application/json"}, {"retry-after", "30"}},
                    .body = R"({"message":"You have exceeded a secondary rate limit"})"};
    SUBCASE("primary, then secondary on a POST") {
        f.github.inject("GET /app/hook/deliveries", {limited});
        f.github.inject("POST /app/hook/deliveries", {secondary});
        const crcr::test::CliRun run = f.run({"redeliver"});
        CAPTURE(run.err);
        CHECK(run.code == 1); // held back: "dispatched" and "slow"
        CHECK(contains(run.err, "rate-limited by GitHub"));
        const std::vector<long long> sleeps = f.clock.sleeps();
        REQUIRE_FALSE(sleeps.empty());
        CHECK(sleeps.front() == 121);
        CHECK(std::count(sleeps.begin(), sleeps.end(), 30) == 1);
        CHECK(f.github.redelivered().size() == 3);
    }
    SUBCASE("beyond --max-wait") {
        f.github.inject("GET /app/hook/deliveries", {limited});
        const crcr::test::CliRun run = f.run({"list", "--max-wait", "60"});
        CHECK(run.code == 5);
        CHECK(contains(run.err, "beyond the budget of 60 s"));
    }
    SUBCASE("GitHub 5xx on the list") {
        f.github.inject("GET /app/hook/deliveries",
                        {Reply{.status = 502, .reason = "Bad Gateway", .body = "bad gateway"}});
        const crcr::test::CliRun run = f.run({"list"});
        CHECK(run.code == 5);
        CHECK(contains(run.err, "listing deliveries (page 1): GitHub answered 502"));
    }
}

TEST_CASE("deliveries show: the request and the relay's answer, signatures redacted") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const crcr::test::CliRun list = f.run({"list", "--guid", "dispatched", "--json"});
    REQUIRE(list.code == 0);
    const std::string id =
        std::to_string(crcr::Json::parse(list.out)[0]["id"].get<std::uint64_t>());

    for (const std::string& which : {id, std::string("dispatched")}) {
        CAPTURE(which);
        const crcr::test::CliRun run = f.run({"show", which});
        CAPTURE(run.err);
        REQUIRE(run.code == 0);
        CHECK(contains(run.out, "delivery " + id + " of dispatched (pull_request.opened)"));
        CHECK(contains(run.out, "X-Hub-Signature-256: ***"));
        CHECK_FALSE(contains(run.out, "sha256="));
        CHECK(contains(run.out, "No downstream dispatch succeeded"));
        CHECK(contains(run.out, "the relay may have dispatched it: answered 502 listing"));
    }
    const crcr::test::CliRun json = f.run({"show", id, "--json"});
    REQUIRE(json.code == 0);
    const crcr::Json record = crcr::Json::parse(json.out);
    CHECK(record["request"]["headers"]["X-Hub-Signature"] == "***");
    CHECK(record["request"]["payload"]["number"].is_number());

    const crcr::test::CliRun missing = f.run({"show", "999"});
    CHECK(missing.code == 1);
    CHECK(contains(missing.err, "GitHub has no delivery 999"));
    const crcr::test::CliRun unknown = f.run({"show", "no-such-guid"});
    CHECK(unknown.code == 1);
    CHECK(contains(unknown.err, "no delivery with GUID 'no-such-guid'"));
}

TEST_CASE("deliveries pull: records that crcr replay sends to the relay emulator") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    LoopbackRelay relay(":memory:");
    std::atomic<int>& dispatches = relay.dispatches;
    const std::string& to = relay.to;
    const crcr::Environment::Variables replay_env = {{"CRCR_WEBHOOK_SECRET", k_relay_secret}};

    SUBCASE("to a file, failures only") {
        const std::string file = f.dir.path("outage.jsonl");
        const crcr::test::CliRun pull = f.run({"pull", "--failed", "--output", file});
        CAPTURE(pull.err);
        REQUIRE(pull.code == 0);
        CHECK(contains(pull.out, "wrote 5 delivery records"));
        CHECK(f.calls_to("GET /app/hook/deliveries/") == 5);
        CHECK_FALSE(contains(crcr::read_file(file), "sha256="));
        const crcr::test::CliRun again = f.run({"pull", "--failed", "--output", file});
        CHECK(again.code == 1); // never overwritten without --force
        const crcr::test::CliRun replay = crcr::test::run_crcr(
            {"replay", file, "--to", to, "--report", f.dir.path("report.jsonl")},
            crcr::Environment(replay_env),
            f.http.get());
        CAPTURE(replay.err);
        CHECK(replay.code == 0);
        CHECK(dispatches.load() == 5 * 2);
        const std::vector<std::string> report =
            crcr::read_complete_lines(f.dir.path("report.jsonl"));
        REQUIRE(report.size() == 5);
        for (const std::string& line : report) {
            CHECK(crcr::Json::parse(line)["status"] == 200);
        }
    }
    SUBCASE("to a folder, everything") {
        const std::string folder = f.dir.path("records") + "/";
        const crcr::test::CliRun pull = f.run({"pull", "--output", folder});
        REQUIRE(pull.code == 0);
        std::size_t files = 0;
        for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) {
            ++files;
        }
        CHECK(files == 7);
        const crcr::test::CliRun replay = crcr::test::run_crcr(
            {"replay", folder, "--to", to}, crcr::Environment(replay_env), f.http.get());
        CAPTURE(replay.err);
        CHECK(replay.code == 0);
        CHECK(dispatches.load() == 7 * 2);
    }
    CHECK(f.github.problems().empty());
}

TEST_CASE("relay status --compare: which pulled deliveries never reached the relay") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const std::string state = f.dir.path("relay.db");
    LoopbackRelay relay(state);
    const crcr::Environment::Variables replay_env = {{"CRCR_WEBHOOK_SECRET", k_relay_secret}};
    const std::string failed = f.dir.path("failed.jsonl");
    const std::string all = f.dir.path("all") + "/";
    REQUIRE(f.run({"pull", "--failed", "--output", failed}).code == 0);
    REQUIRE(f.run({"pull", "--output", all}).code == 0);
    // Only the failures are replayed: the two that went through never reach this relay.
    REQUIRE(crcr::test::run_crcr(
                {"replay", failed, "--to", relay.to}, crcr::Environment(replay_env), f.http.get())
                .code
            == 0);

    const crcr::test::CliRun missing =
        crcr::test::run_crcr({"relay", "status", "--state", state, "--compare", all});
    CAPTURE(missing.err);
    CHECK(missing.code == 1);
    CHECK(contains(missing.out,
                   state
                       + ": 2 of 7 deliveries never arrived, 0 arrived but were "
                         "never accepted\n\nNever arrived:\n  ok-1  pull_request "
                         "opened  "
                       + all));
    CHECK(lines_starting(missing.out, "  ok-") == 2);
    CHECK(missing.err == "");
    const crcr::test::CliRun json =
        crcr::test::run_crcr({"relay", "status", "--state", state, "--compare", all, "--json"});
    CHECK(json.code == 1);
    const crcr::Json document = crcr::Json::parse(json.out);
    CHECK(document["deliveries"] == 7);
    REQUIRE(document["never_arrived"].size() == 2);
    CHECK(document["never_arrived"][1]["delivery_id"] == "ok-2");
    CHECK(document["never_arrived"][1]["answers"] == crcr::Json::array());

    // Replaying the whole folder would dispatch the five again (and the relay answer 502): only
    // what never arrived goes.
    for (const std::string id : {"ok-1", "ok-2"}) {
        REQUIRE(
            crcr::test::run_crcr({"replay", all, "--to", relay.to, "--filter", "delivery=" + id},
                                 crcr::Environment(replay_env),
                                 f.http.get())
                .code
            == 0);
    }
    const crcr::test::CliRun arrived =
        crcr::test::run_crcr({"relay", "status", "--state", state, "--compare", all});
    CHECK(arrived.code == 0);
    CHECK(arrived.out == state + ": all 7 deliveries arrived and were accepted\n");
    CHECK(crcr::test::run_crcr({"relay", "status", "--compare", all, "--limit", "3"}).code == 2);
    const crcr::test::CliRun nothing = crcr::test::run_crcr(
        {"relay", "status", "--state", state, "--compare", f.dir.path("missing")});
    CHECK(nothing.code == 1);
    CHECK(nothing.out == state + ": no delivery records to compare\n");
    CHECK(contains(nothing.err, "cannot read"));
}

TEST_CASE("deliveries redeliver: only what the relay cannot have dispatched, once with --state") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const std::string state = f.dir.path("redeliver.state");

    const crcr::test::CliRun first = f.run({"redeliver", "--state", state, "--explain"});
    CAPTURE(first.out);
    CAPTURE(first.err);
    CHECK(first.code == 1); // two held back
    std::vector<std::uint64_t> posted = f.github.redelivered();
    CHECK(posted.size() == 3);
    CHECK(contains(first.out, "redelivered 3: down-1, down-2, down-3; held back 2, skipped 0"));
    CHECK(contains(first.out, "hold back  dispatched"));
    CHECK(contains(first.out, "org/one"));
    CHECK(contains(first.out, "hold back  slow"));
    CHECK(contains(first.out, "--force redelivers it"));
    CHECK(contains(first.out, "    attempt "));              // --explain
    CHECK(f.clock.sleeps() == std::vector<long long>{1, 1}); // --rate 1 between the POSTs
    // Oldest first.
    const auto at = [&](const std::string& guid) { return first.out.find("redeliver  " + guid); };
    CHECK(at("down-1") < at("down-2"));
    CHECK(at("down-2") < at("down-3"));

    const crcr::test::CliRun second = f.run({"redeliver", "--state", state});
    CAPTURE(second.out);
    CHECK(f.github.redelivered() == posted); // nothing posted
    CHECK(contains(second.out, "redelivered 0: none"));
    CHECK(contains(second.out, "skip       down-1"));
    CHECK(contains(second.out, "redelivered already"));
    CHECK(f.github.problems().empty());

    // Without the state, the failed redeliveries are failures like any other.
    const crcr::test::CliRun stateless = f.run({"redeliver"});
    CHECK(stateless.code == 1);
    CHECK(f.github.redelivered().size() == 6);
}

TEST_CASE("deliveries redeliver: the relay's 502 for a dispatched GUID is skipped, --force acts") {
    DeliveriesFixture f;
    FakeHook hook;
    hook.deliveries = {f.delivery(
        "seen",
        minutes(30),
        502,
        "Invalid HTTP Response: 502",
        R"({"detail":{"message":"No downstream dispatch succeeded","failed":[{"repo":"org/one","error":"GitHub dispatch failed: duplicate"},{"repo":"org/two","error":"x"}]}})")};
    f.github.add_hook("app", hook);
    const crcr::test::CliRun held = f.run({"redeliver", "--json"});
    CHECK(held.code == 1);
    const crcr::Json result = crcr::Json::parse(held.out);
    REQUIRE(result["held_back"].size() == 1);
    CHECK(contains(result["held_back"][0]["reason"].get<std::string>(), "org/one, org/two"));
    CHECK(f.github.redelivered().empty());

    const crcr::test::CliRun forced = f.run({"redeliver", "--force"});
    CHECK(forced.code == 0);
    CHECK(f.github.redelivered().size() == 1);
}

TEST_CASE("deliveries redeliver: --dry-run and --max send no POST") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const crcr::test::CliRun dry = f.run({"redeliver", "--dry-run"});
    CAPTURE(dry.out);
    CHECK(f.calls_to("POST") == 0);
    CHECK(lines_starting(dry.out, "POST " + f.github.url() + "/app/hook/deliveries/") == 3);
    CHECK(contains(dry.out, "Authorization: Bearer ***"));
    CHECK(contains(dry.out, "would redeliver 3"));

    const crcr::test::CliRun over = f.run({"redeliver", "--max", "2"});
    CHECK(over.code == 1);
    CHECK(contains(over.err, "3 deliveries to redeliver, more than --max 2"));
    CHECK(f.calls_to("POST") == 0);
}

TEST_CASE("deliveries redeliver: a run stopped between two POSTs resumes, each failure once") {
    DeliveriesFixture f;
    f.github.add_hook("app", outage(f));
    const std::string state = f.dir.path("state");
    {
        // The process dies in its pause between the first and the second POST.
        std::ostringstream out;
        std::ostringstream err;
        std::istringstream in;
        const crcr::Environment env(f.app_env());
        crcr::Context ctx{in, out, err, *f.http, {}, env};
        ctx.now = [&f] { return f.clock.now(); };
        ctx.sleep = [](std::chrono::milliseconds) { throw std::runtime_error("killed"); };
        ctx.random_seed = [] { return std::uint64_t{1}; };
        const std::string url = f.github.url();
        const char* argv[] = {
            "crcr", "deliveries", "redeliver", "--state", state.c_str(), "--api-url", url.c_str()};
        CHECK(crcr::run_cli(7, argv, ctx) == 1);
        CHECK(f.github.redelivered().size() == 1);
    }
    // The next run redelivers the two others, not the first again.
    const crcr::test::CliRun resumed = f.run({"redeliver", "--state", state});
    CAPTURE(resumed.out);
    std::vector<std::uint64_t> posted = f.github.redelivered();
    REQUIRE(posted.size() == 3);
    std::sort(posted.begin(), posted.end());
    CHECK(std::adjacent_find(posted.begin(), posted.end()) == posted.end());
    CHECK(contains(resumed.out, "redelivered 2: down-2, down-3"));

    SUBCASE("GitHub's 5xx to a POST: the next run finds the redelivery in GitHub's list") {
        FakeHook hook;
        hook.deliveries = {f.delivery("cut", minutes(20), 0, "failed to connect")};
        hook.redelivery_status = "failed to connect";
        hook.redelivery_code = 0;
        f.github.add_hook("app", hook);
        f.github.inject_after_handling(
            "POST /app/hook/deliveries/",
            Reply{.status = 502, .reason = "Bad Gateway", .body = "upstream"});
        const std::string cut_state = f.dir.path("cut.state");
        const crcr::test::CliRun broken = f.run({"redeliver", "--state", cut_state});
        CHECK(broken.code == 5);
        CHECK(contains(broken.err, "it may have taken it"));
        const crcr::test::CliRun next = f.run({"redeliver", "--state", cut_state});
        CAPTURE(next.out);
        CHECK(contains(next.out, "the POST of an interrupted run landed"));
        CHECK(f.github.redelivered().size() == 4);
    }
}
