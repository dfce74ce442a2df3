#include "doctor.hpp"
#include "fake_github.hpp"
#include "test_support.hpp"

#include "crcr/doctor.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>

using crcr::test::FakeGitHub;
using crcr::test::FakeOrg;
using crcr::test::FakeRepoData;
using crcr::test::TestClock;

namespace {

constexpr const char* k_doctor_repo = "my-org/pytorch-ci";
constexpr const char* k_doctor_workflow = ".github/workflows/pytorch_ci.yml";

const std::string k_doctor_lint = "name: lint\non: push\njobs:\n  lint:\n    runs-on: "
                                  "ubuntu-latest\n    steps:\n      - run: make lint\n";

// A healthy L2 downstream on a fake GitHub: listed in pytorch/pytorch's allowlist with two
// oncalls, the relay's App installed on its organization, crcr's example L2 workflow on the
// default branch, Actions enabled, three dispatch runs in the last day. Scenarios change one
// thing each before `run`.
struct DoctorFixture {
    TestClock clock;
    FakeGitHub github;
    std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
    FakeRepoData upstream{.full_name = "pytorch/pytorch"};
    FakeRepoData downstream{.full_name = k_doctor_repo};
    FakeOrg org{.app_slugs = {"some-other-app", "pytorch-fdn-cross-repo-ci-relay"},
                .owner_tokens = {"gho_good"}};
    std::vector<std::chrono::hours> runs_ago = {
        std::chrono::hours(1), std::chrono::hours(5), std::chrono::hours(30)};
    crcr::test::TempDir dir;

    // `prefix`: the API's path, "/api/v3" for Enterprise Server.
    explicit DoctorFixture(std::string prefix = "")
        : github([this] { return clock.now(); }, std::move(prefix)) {
        upstream.files["main"][".github/allowlist.yml"] =
            "L1:\n  - other-org/other-ci\nL2:\n  - my-org/pytorch-ci: alice, bob\n";
        downstream.files["main"][k_doctor_workflow] =
            crcr::test::read_source("examples/workflows/pytorch_ci.yml");
        downstream.files["main"][".github/workflows/lint.yml"] = k_doctor_lint;
        github.add_token("gho_good");
        github.add_token("gho_reader");
        github.add_user("alice");
        github.add_user("bob");
        github.set_app({.id = "123456", .public_key_pem = crcr::test::test_rsa_key().public_pem});
        github.expect_read_only();
    }

    crcr::test::CliRun run(std::vector<std::string> args = {},
                           crcr::Environment::Variables env = {{"GH_TOKEN", "gho_good"}}) {
        github.set_repo_data(upstream);
        github.set_repo_data(downstream);
        github.set_org("my-org", org);
        std::sort(runs_ago.rbegin(), runs_ago.rend()); // oldest first, as they came
        for (const std::chrono::hours ago : runs_ago) {
            github.add_run(k_doctor_repo, clock.now() - ago);
        }
        args.insert(args.begin(), {"doctor", "--repo", k_doctor_repo, "--api-url", github.url()});
        return crcr::test::run_crcr(
            args, crcr::Environment(std::move(env)), http.get(), "", &clock);
    }
};

bool doctor_has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string doctor_replaced(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("doctor: command line") {
    crcr::DoctorOptions want;
    want.repo = "o/r";
    want.upstream = "pytorch/pytorch";
    want.allowlist_path = ".github/allowlist.yml";
    want.app_slug = "pytorch-fdn-cross-repo-ci-relay";
    crcr::DoctorOptions full = want;
    full.upstream = "me/pytorch";
    full.allowlist_file = "a.yml";
    full.app_slug = "my-relay";
    full.github.api_url = "http://h/api/v3";
    full.github.token_file = "t";
    full.json = true;
    full.verbose = true;
    struct Case {
        std::string name;
        std::string args;
        crcr::DoctorOptions want;
    };
    const Case cases[] = {
        {"defaults", "--repo o/r", want},
        {"everything",
         "--repo o/r --upstream me/pytorch --allowlist a.yml --app-slug my-relay --api-url "
         "http://h/api/v3 --token-file t --json -v",
         full},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        crcr::DoctorOptions got;
        crcr::add_doctor(app, [&got](const crcr::DoctorOptions& o) { got = o; });
        app.parse("doctor " + c.args, false);
        CHECK(got == c.want);
    }
}

TEST_CASE("doctor: usage errors exit 2") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string want;
    };
    const Case cases[] = {
        {"no repo", {"doctor"}, "--repo is required"},
        {"bad repo", {"doctor", "--repo", "nope"}, "--repo 'nope' is not a repository"},
        {"bad upstream",
         {"doctor", "--repo", "o/r", "--upstream", "a/b/c"},
         "--upstream 'a/b/c' is not a repository"},
        {"allowlist twice",
         {"doctor", "--repo", "o/r", "--allowlist", "a", "--allowlist-path", "b"},
         "excludes"},
        {"json with dry run", {"doctor", "--repo", "o/r", "--json", "--dry-run"}, "excludes"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun got = crcr::test::run_crcr(c.args);
        CHECK(got.code == 2);
        CHECK(doctor_has(got.err, c.want));
        CAPTURE(got.err);
    }
}

TEST_CASE("doctor: scenarios against the fake GitHub") {
    struct Case {
        std::string name;
        std::function<void(DoctorFixture&)> change;
        int code;
        std::vector<std::string> out; // each in the report
    };
    const Case cases[] = {
        {"a healthy L2 repository passes everything",
         [](DoctorFixture&) {},
         0,
         {"passed   Onboarding: listed at L2",
          "oncalls: alice, bob",
          "passed   The App: the App 'pytorch-fdn-cross-repo-ci-relay' is installed on 'my-org'",
          "passed   The workflow: 1 repository_dispatch workflow on 'main', passing crcr "
          "gen-workflow --check",
          "passed   Actions: Actions is enabled and the repository_dispatch workflow is active",
          "passed   Traffic: 2 repository_dispatch runs in the last 24 h: 2 success",
          "passed   Callbacks: the workflow sends in_progress and completed callbacks",
          "my-org/pytorch-ci: 6 passed, 0 failed, 0 unknown"}},
        {"not in the allowlist",
         [](DoctorFixture& f) {
             f.upstream.files["main"][".github/allowlist.yml"] = "L1:\n  - other-org/other-ci\n";
         },
         1,
         {"failed   Onboarding: 'my-org/pytorch-ci' is not in the allowlist "
          "'pytorch/pytorch:.github/allowlist.yml'",
          "fix: onboard: open a pull request to pytorch/pytorch adding '- my-org/pytorch-ci' "
          "under L1",
          "unknown  Callbacks: the level is not known"}},
        {"in the allowlist with another case",
         [](DoctorFixture& f) {
             f.upstream.files["main"][".github/allowlist.yml"] = "L2:\n  - My-Org/PyTorch-CI\n";
         },
         1,
         {"failed   Onboarding: listed at L2 as 'My-Org/PyTorch-CI', but GitHub's name is "
          "'my-org/pytorch-ci': the relay compares callback identities case-sensitively",
          "fix: write 'my-org/pytorch-ci' in .github/allowlist.yml exactly as GitHub spells it"}},
        {"the workflow only on a branch other than the default",
         [](DoctorFixture& f) {
             f.downstream.files["crcr-setup"][k_doctor_workflow] =
                 f.downstream.files["main"][k_doctor_workflow];
             f.downstream.files["main"].erase(k_doctor_workflow);
         },
         1,
         {"failed   The workflow: the repository_dispatch workflow is only on branch "
          "'crcr-setup', and GitHub runs repository_dispatch workflows only from the default "
          "branch 'main'",
          "fix: merge '.github/workflows/pytorch_ci.yml' into 'main'"}},
        {"types: [pull_request, synchronized]",
         [](DoctorFixture& f) {
             std::string& text = f.downstream.files["main"][k_doctor_workflow];
             text = doctor_replaced(text, "      - push\n", "      - synchronized\n");
         },
         1,
         {"failed   The workflow: 1 repository_dispatch workflow on 'main', with 2 findings",
          ".github/workflows/pytorch_ci.yml:9:9: error: 'synchronized' is not an event type the "
          "relay sends",
          "[dispatch-types-unknown]",
          "[dispatch-types-missing]"}},
        {"Actions disabled",
         [](DoctorFixture& f) { f.downstream.actions_enabled = false; },
         1,
         {"failed   Actions: GitHub Actions is disabled for the repository",
          "fix: enable Actions: Settings > Actions > General"}},
        {"the workflow disabled",
         [](DoctorFixture& f) { f.downstream.disabled_workflows = {k_doctor_workflow}; },
         1,
         {"failed   Actions: the workflow '.github/workflows/pytorch_ci.yml' (disabled_manually) "
          "disabled"}},
        {"no dispatch run in 24 h while the upstream is busy",
         [](DoctorFixture& f) { f.runs_ago = {std::chrono::hours(30)}; },
         1,
         {"failed   Traffic: no repository_dispatch run in the last 24 h, while "
          "'pytorch/pytorch' had pushes",
          "last repository_dispatch run: ",
          "fix: the relay's dispatches do not start runs here"}},
        {"no dispatch run in 24 h and a quiet upstream",
         [](DoctorFixture& f) {
             f.runs_ago = {};
             f.upstream.pushed_ago = std::chrono::hours(48);
         },
         0,
         {"passed   Traffic: no repository_dispatch run in the last 24 h, but 'pytorch/pytorch' "
          "had no push either"}},
        {"a token that cannot list the installations: unknown, not failed",
         [](DoctorFixture& f) { f.org.owner_tokens = {}; },
         0,
         {"unknown  The App: listing the installations of 'my-org' needs an organization "
          "owner's token (GitHub answered 403",
          "evidence that it is: 2 repository_dispatch runs in the last 24 h",
          "5 passed, 0 failed, 1 unknown"}},
        {"the App not installed on the organization",
         [](DoctorFixture& f) { f.org.app_slugs = {"some-other-app"}; },
         1,
         {"failed   The App: the App 'pytorch-fdn-cross-repo-ci-relay' is not installed on the "
          "organization 'my-org'"}},
        {"Actions' settings hidden from a non-administrator",
         [](DoctorFixture& f) { f.downstream.admin_tokens = {"gho_admin"}; },
         0,
         {"unknown  Actions: Actions' settings could not be read (GitHub answered 403"}},
        {"an L2 workflow without callbacks, an oncall that is no GitHub user",
         [](DoctorFixture& f) {
             f.downstream.files["main"][k_doctor_workflow] =
                 crcr::test::test_data("workflows/docs-example.yml");
             f.upstream.files["main"][".github/allowlist.yml"] =
                 "L2:\n  - my-org/pytorch-ci: alice, ghost-user\n";
         },
         1,
         {"failed   Callbacks: at L2, the callbacks or the oncalls are not as the relay needs",
          "the workflow sends 0 in_progress and 0 completed callbacks",
          "oncall 'ghost-user' is not a GitHub user"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        DoctorFixture f;
        c.change(f);
        const crcr::test::CliRun got = f.run();
        CAPTURE(got.out);
        CAPTURE(got.err);
        CHECK(got.code == c.code);
        for (const std::string& part : c.out) {
            CAPTURE(part);
            CHECK(doctor_has(got.out, part));
        }
        CHECK(f.github.problems().empty());
        CHECK(f.github.calls().size() <= crcr::doctor_max_requests());
    }
}

TEST_CASE("doctor: the repository itself refused or missing") {
    SUBCASE("401: the token is refused, exit 4") {
        DoctorFixture f;
        const crcr::test::CliRun got = f.run({}, {{"GH_TOKEN", "gho_revoked"}});
        CHECK(got.code == 4);
        CHECK(doctor_has(got.err,
                         "crcr: error: GitHub refused the token from GH_TOKEN (GitHub answered 401 "
                         "(Bad credentials)): it is expired, revoked or mistyped"));
        CHECK(f.github.calls().size() == 1);
    }
    SUBCASE("404: missing or private, exit 1") {
        DoctorFixture f;
        f.downstream.full_name = "my-org/other";
        const crcr::test::CliRun got = f.run();
        CHECK(got.code == 1);
        CHECK(
            doctor_has(got.err,
                       "crcr: error: repository 'my-org/pytorch-ci' was not found with the token "
                       "from GH_TOKEN (GitHub answers 404 both when it does not exist and when it "
                       "is private to others)"));
    }
    SUBCASE("no token: public data only") {
        DoctorFixture f;
        const crcr::test::CliRun got = f.run({"--upstream", "pytorch/pytorch"}, {});
        // A public repository needs no token; the runs list and the installations do.
        CHECK(got.code == 0);
        CHECK(doctor_has(got.out, "passed   Onboarding: listed at L2"));
        CHECK(doctor_has(got.out, "unknown  The App: no token cannot tell"));
        const std::vector<crcr::test::RecordedRequest> sent = f.github.requests();
        for (const crcr::test::RecordedRequest& request : sent) {
            CHECK(!request.header("Authorization"));
        }
    }
    SUBCASE("GitHub unreachable, exit 5") {
        const crcr::test::CliRun got = crcr::test::run_crcr(
            {"doctor", "--repo", k_doctor_repo, "--api-url", "http://127.0.0.1:1"},
            crcr::Environment(crcr::Environment::Variables{{"GH_TOKEN", "gho_good"}}),
            crcr::make_curl_http_client().get());
        CHECK(got.code == 5);
    }
}

TEST_CASE("doctor: --json, --dry-run, --verbose, App credentials") {
    SUBCASE("--json") {
        DoctorFixture f;
        f.org.owner_tokens = {};
        const crcr::test::CliRun got = f.run({"--json"});
        CHECK(got.code == 0);
        const nlohmann::json report = nlohmann::json::parse(got.out);
        CHECK(report["repo"] == k_doctor_repo);
        REQUIRE(report["checks"].size() == 6);
        CHECK(report["checks"][0]["id"] == "onboarding");
        CHECK(report["checks"][0]["status"] == "passed");
        CHECK(report["checks"][1]["id"] == "app");
        CHECK(report["checks"][1]["status"] == "unknown");
        CHECK(report["requests"] == f.github.calls().size());
    }
    SUBCASE("--json on a refused token") {
        DoctorFixture f;
        const crcr::test::CliRun got = f.run({"--json"}, {{"GH_TOKEN", "gho_revoked"}});
        CHECK(got.code == 4);
        const nlohmann::json report = nlohmann::json::parse(got.out);
        CHECK(report["exit_code"] == 4);
    }
    SUBCASE("--dry-run lists the requests and sends none") {
        DoctorFixture f;
        const crcr::test::CliRun got = f.run({"--dry-run"});
        CHECK(got.code == 0);
        CHECK(f.github.calls().empty());
        const std::string api = f.github.url();
        CHECK(doctor_has(got.out, "GET " + api + "/repos/my-org/pytorch-ci\n"));
        CHECK(doctor_has(got.out,
                         "GET " + api + "/repos/pytorch/pytorch/contents/.github/allowlist.yml\n"));
        CHECK(doctor_has(got.out, "GET " + api + "/orgs/my-org/installations?per_page=100"));
        CHECK(doctor_has(got.out, "with Authorization: Bearer ***"));
        CHECK(!doctor_has(got.out, "gho_good"));
    }
    SUBCASE("--verbose traces and counts the requests") {
        DoctorFixture f;
        const crcr::test::CliRun got = f.run({"--verbose"});
        CHECK(got.code == 0);
        const std::size_t sent = f.github.calls().size();
        CHECK(doctor_has(got.err,
                         fmt::format("crcr: {} requests to GitHub, all GET (at most {})",
                                     sent,
                                     crcr::doctor_max_requests())));
        CHECK(doctor_has(got.err, "GET " + f.github.url() + "/repos/my-org/pytorch-ci"));
        CHECK(!doctor_has(got.err, "gho_good"));
        for (const std::string& call : f.github.calls()) {
            CHECK(call.starts_with("GET "));
        }
    }
    SUBCASE("GitHub Enterprise Server: the API under /api/v3") {
        DoctorFixture f("/api/v3");
        const crcr::test::CliRun got = f.run();
        CHECK(got.code == 0);
        CHECK(doctor_has(got.out, "my-org/pytorch-ci: 6 passed, 0 failed, 0 unknown"));
        CHECK(f.github.problems().empty());
    }
    SUBCASE("--allowlist FILE instead of the upstream's") {
        DoctorFixture f;
        const std::string file = f.dir.write("allowlist.yml", "L1:\n  - my-org/pytorch-ci\n");
        const crcr::test::CliRun got = f.run({"--allowlist", file});
        CHECK(got.code == 0);
        CHECK(doctor_has(got.out, "passed   Onboarding: listed at L1"));
        CHECK(doctor_has(got.out, "passed   Callbacks: not needed at L1"));
        for (const std::string& call : f.github.calls()) {
            CHECK(!doctor_has(call, "allowlist.yml"));
        }
    }
    SUBCASE("App credentials: the App's own installation") {
        DoctorFixture f;
        const std::string key = f.dir.write("app.pem", crcr::test::test_rsa_key().private_pem);
        std::filesystem::permissions(key, std::filesystem::perms::owner_read);
        f.github.add_repo(k_doctor_repo, {.installation_id = 77});
        crcr::test::CliRun got =
            f.run({"--app-id", "123456", "--private-key", key}, {{"GH_TOKEN", "gho_reader"}});
        CHECK(got.code == 0);
        CHECK(doctor_has(got.out,
                         "passed   The App: the App 'pytorch-fdn-cross-repo-ci-relay' is installed "
                         "(installation 77)"));
        CHECK(f.github.problems().empty());
    }
    SUBCASE("App credentials of an App not installed there") {
        DoctorFixture f;
        const std::string key = f.dir.write("app.pem", crcr::test::test_rsa_key().private_pem);
        std::filesystem::permissions(key, std::filesystem::perms::owner_read);
        crcr::test::CliRun got = f.run({"--app-id", "123456", "--private-key", key});
        CHECK(got.code == 1);
        CHECK(doctor_has(got.out,
                         "failed   The App: the App 'pytorch-fdn-cross-repo-ci-relay' is not "
                         "installed on 'my-org/pytorch-ci'"));
    }
}

TEST_CASE("doctor: the fake GitHub reports a request that is not a GET") {
    DoctorFixture f;
    f.run({"--dry-run"});
    const crcr::test::CliRun got = crcr::test::run_crcr(
        {"dispatch-test", "--repo", k_doctor_repo, "--api-url", f.github.url()},
        crcr::Environment(crcr::Environment::Variables{{"GH_TOKEN", "gho_good"}}),
        f.http.get());
    CHECK(got.code != 0);
    REQUIRE(f.github.problems().size() == 1);
    CHECK(doctor_has(f.github.problems()[0], "POST /repos/my-org/pytorch-ci/dispatches"));
}
