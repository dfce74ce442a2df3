#include "test_support.hpp"
#include "validate_allowlist.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using crcr::ValidateAllowlistOptions;
using crcr::test::run_crcr;

TEST_CASE("validate-allowlist: options") {
    struct Case {
        std::string name;
        std::string args;
        ValidateAllowlistOptions want;
    };
    const Case cases[] = {
        {"defaults", "validate-allowlist", {}},
        {"files", "validate-allowlist a.yml b.yml", {.files = {"a.yml", "b.yml"}}},
        {"format",
         "validate-allowlist --format sarif a.yml",
         {.files = {"a.yml"}, .format = "sarif"}},
        {"json flag", "validate-allowlist --json", {.format = "json"}},
        {"strict and base",
         "validate-allowlist --strict --base old.yml new.yml",
         {.files = {"new.yml"}, .strict = true, .base = "old.yml"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        ValidateAllowlistOptions got;
        crcr::add_validate_allowlist(app, [&got](const ValidateAllowlistOptions& o) { got = o; });
        app.parse(c.args);
        CHECK(got == c.want);
    }
}

TEST_CASE("validate-allowlist: usage errors") {
    CLI::App app;
    crcr::add_validate_allowlist(app, [](const ValidateAllowlistOptions&) {});
    CHECK_THROWS_AS(app.parse("validate-allowlist --format yaml"), CLI::ValidationError);
    CHECK_THROWS_AS(app.parse("validate-allowlist --base"), CLI::ArgumentMismatch);
}

TEST_CASE("validate-allowlist: run") {
    const crcr::test::TempDir dir;
    const std::string good = dir.write("good.yml", "L1:\n  - org/a\n");
    const std::string warn = dir.write("warn.yml", "L4:\n  - org/a\n");
    const std::string bad = dir.write("bad.yml", "L1:\n  - org/a\nL2:\n  - Org/A\n");
    const std::string old = dir.write("old.yml", "L1:\n  - org/a\n  - org/gone\n");
    const std::string promoted =
        dir.write("new.yml", "L3:\n  dev:\n    org/a: [x]\nL2:\n  - org/new\n");

    struct Case {
        std::string name;
        std::vector<std::string> args;
        crcr::Environment env;
        int code;
        std::string out;
    };
    const Case cases[] = {
        {"good",
         {"validate-allowlist", good},
         {},
         0,
         good + ": ok, 1 repository (1 L1, 0 L2, 0 L3, 0 L4)\n"},
        {"warning passes",
         {"validate-allowlist", warn},
         {},
         0,
         warn
             + ":2:5: warning: 'org/a' is at L4 with no oncall; nobody would be notified when its "
               "check run fails; add ': login' [missing-oncall]\n"
               "    2 |   - org/a\n"
               "      |     ^~~~~\n"
             + warn + ": 0 errors, 1 warning; 1 repository (0 L1, 0 L2, 0 L3, 1 L4)\n"},
        {"strict fails on a warning",
         {"validate-allowlist", "--strict", "--format", "github", warn},
         {},
         1,
         "::warning file=" + warn
             + ",line=2,col=5,endColumn=10,title=missing-oncall::'org/a' is at L4 with no oncall; "
               "nobody would be notified when its check run fails; add ': login'\n"
             + warn + ": 0 errors, 1 warning; 1 repository (0 L1, 0 L2, 0 L3, 1 L4)\n"},
        {"error fails",
         {"validate-allowlist", "--format", "github", bad},
         {},
         1,
         "::error file=" + bad
             + ",line=4,col=5,endColumn=10,title=duplicate-repo::'Org/A' and 'org/a' (line 2, L1) "
               "are the same GitHub repository, since names are case-insensitive; the relay would "
               "dispatch to it twice; keep one entry\n"
             + bad + ": 1 error, 0 warnings; 2 repositories (1 L1, 1 L2, 0 L3, 0 L4)\n"},
        {"github is the default in Actions",
         {"validate-allowlist", bad},
         crcr::Environment(crcr::Environment::Variables{{"GITHUB_ACTIONS", "true"}}),
         1,
         "::error file=" + bad
             + ",line=4,col=5,endColumn=10,title=duplicate-repo::'Org/A' and 'org/a' (line 2, L1) "
               "are the same GitHub repository, since names are case-insensitive; the relay would "
               "dispatch to it twice; keep one entry\n"
             + bad + ": 1 error, 0 warnings; 2 repositories (1 L1, 1 L2, 0 L3, 0 L4)\n"},
        {"several files, one bad",
         {"validate-allowlist", "--format", "github", good, bad},
         {},
         1,
         good + ": ok, 1 repository (1 L1, 0 L2, 0 L3, 0 L4)\n" + "::error file=" + bad
             + ",line=4,col=5,endColumn=10,title=duplicate-repo::'Org/A' and 'org/a' (line 2, L1) "
               "are the same GitHub repository, since names are case-insensitive; the relay would "
               "dispatch to it twice; keep one entry\n"
             + bad + ": 1 error, 0 warnings; 2 repositories (1 L1, 1 L2, 0 L3, 0 L4)\n"},
        {"base",
         {"validate-allowlist", "--format", "github", "--base", old, promoted},
         {},
         0,
         "::notice file=" + promoted
             + ",line=3,col=5,endColumn=10,title=repo-promoted::'org/a' promoted L1 -> L3 (device "
               "'dev')\n"
               "::warning file="
             + promoted
             + ",line=3,col=5,endColumn=10,title=promotion-skips-level::'org/a' jumps from L1 to "
               "L3; promote one level at a time\n"
               "::notice file="
             + promoted
             + ",line=5,col=5,endColumn=12,title=repo-added::'org/new' added at L2\n"
               "::warning file="
             + promoted
             + ",line=5,col=5,endColumn=12,title=new-repo-above-l1::'org/new' is new and enters at "
               "L2; repositories onboard at L1 and move up one level at a time\n"
               "::notice file="
             + promoted + ",title=repo-removed::'org/gone' removed (was L1 at line 3 of " + old
             + ")\n" + promoted
             + ": 0 errors, 2 warnings; 2 repositories (0 L1, 1 L2, 1 L3, 0 L4)\n"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun run = run_crcr(c.args, c.env);
        CHECK(run.code == c.code);
        CHECK(run.out == c.out);
        CHECK(run.err == "");
    }
}

TEST_CASE("validate-allowlist: json") {
    const crcr::test::TempDir dir;
    const std::string bad = dir.write("bad.yml", "L1:\n  - org/a\nl2:\n  - org/b\n");
    const std::string old = dir.write("old.yml", "L1:\n  - Org/A\n");
    const crcr::test::CliRun run = run_crcr({"validate-allowlist", "--json", "--base", old, bad});
    CHECK(run.code == 1);
    const nlohmann::json doc = nlohmann::json::parse(run.out);
    CHECK(doc["version"] == 1);
    CHECK(doc["ok"] == false);
    CHECK(doc["errors"] == 1);
    const nlohmann::json& file = doc["files"][0];
    CHECK(file["path"] == bad);
    CHECK(file["repositories"] == nlohmann::json{{"L1", 1}, {"L2", 0}, {"L3", 0}, {"L4", 0}});
    CHECK(file["findings"][0]["rule"] == "repo-renamed");
    CHECK(file["findings"][0]["repository"] == "org/a");
    CHECK(file["findings"][1]["rule"] == "unknown-level");
    CHECK(file["findings"][1]["line"] == 3);
    CHECK(file["findings"][1]["repository"] == nullptr);
    CHECK(
        file["changes"]
        == nlohmann::json::parse(
            R"([{"kind":"renamed","repo":"org/a","base_repo":"Org/A","from":"L1","to":"L1","line":2}])"));
}

TEST_CASE("validate-allowlist: sarif") {
    const crcr::test::TempDir dir;
    const std::string bad = dir.write("bad.yml", "L1:\n  - org/a\n  - org/a\n");
    const crcr::test::CliRun run = run_crcr({"validate-allowlist", "--format", "sarif", bad});
    CHECK(run.code == 1);
    const nlohmann::json doc = nlohmann::json::parse(run.out);
    CHECK(doc["version"] == "2.1.0");
    CHECK(doc["runs"][0]["results"][0]["ruleId"] == "duplicate-repo");
    CHECK(doc["runs"][0]["results"][0]["properties"]["repository"] == "org/a");
    CHECK(doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
          == 3);
}

TEST_CASE("validate-allowlist: bad input ends in a clear error, never a crash") {
    const crcr::test::TempDir dir;
    struct Case {
        std::string name;
        std::string content;
        std::string want; // in the output
    };
    const Case cases[] = {
        {"empty", "", ":1:1: error: the allowlist names no repository"},
        {"comment only", "# L1:\n#   - org/a\n", ":1:1: error: the allowlist names no repository"},
        {"not yaml", "L1: [org/a\n", ":2:1: error: invalid YAML"},
        {"five bytes that hung yaml-cpp", "!a,b\n", ":1:3: error: invalid YAML"},
        {"an alias inside its own anchor",
         "L1: &a\n  - *a\n",
         ":2:5: error: alias '*a' is inside the list or mapping it names"},
        {"tabs", "L1:\n\t- org/a\n", ":2:1: error: tab character outside a quoted string"},
        {"numbers", "L1:\n  - 42\n", ":2:5: error: L1[0] is int '42'"},
        {"null", "L1:\n  - ~\n", ":2:5: error: L1[0] is nothing (null)"},
        {"nested list", "L1:\n  - [[org/a]]\n", ":2:5: error: L1[0] is a list"},
        {"two keys",
         "L1:\n  - {org/a: x, org/b: y}\n",
         ":2:5: error: L1[0] is a mapping with 2 keys"},
        {"binary",
         std::string("\x89PNG\r\n\x1a\n\0\0", 10),
         ":1:1: error: invalid UTF-8 byte 0x89"},
        {"invalid utf-8", "L1:\n  - org/\xc3\x28\n", ":2:9: error: invalid UTF-8 byte 0xc3"},
        {"anchors",
         "L1:\n  - &a org/a\n  - *a\n",
         ":2:5: error: 'org/a' is listed twice through an alias"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::string path = dir.write(c.name + ".yml", c.content);
        const crcr::test::CliRun run = run_crcr({"validate-allowlist", path});
        CHECK(run.code == 1);
        CHECK(run.out.find(path + c.want) != std::string::npos);
    }
    SUBCASE("a directory") {
        const crcr::test::CliRun run = run_crcr({"validate-allowlist", dir.path()});
        CHECK(run.code == 1);
        CHECK(run.err == "crcr: error: cannot read '" + dir.path() + "': Is a directory\n");
    }
    SUBCASE("the default file is .github/allowlist.yml") {
        const crcr::test::CliRun run = run_crcr({"validate-allowlist"});
        CHECK(run.err
              == "crcr: error: cannot read '.github/allowlist.yml': No such file or directory\n");
    }
}

TEST_CASE("validate-allowlist: standard input") {
    const crcr::test::CliRun run =
        run_crcr({"validate-allowlist", "-"}, {}, nullptr, "L1:\n  - org/a\n");
    CHECK(run.code == 0);
    CHECK(run.out == "-: ok, 1 repository (1 L1, 0 L2, 0 L3, 0 L4)\n");
    const crcr::test::TempDir dir;
    const std::string head = dir.write("head.yml", "L2:\n  - org/a\n");
    const crcr::test::CliRun diff =
        run_crcr({"validate-allowlist", "--base", "-", head}, {}, nullptr, "L1: [org/a]\n");
    CHECK(diff.out.find("'org/a' promoted L1 -> L2") != std::string::npos);
    CHECK(run_crcr({"validate-allowlist", "--json", "--format", "text", "-"}).code == 2);
}
