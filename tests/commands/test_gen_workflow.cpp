#include "gen_workflow.hpp"
#include "hostile_strings.hpp"
#include "test_support.hpp"

#include "crcr/workflow.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>

using crcr::GenWorkflowOptions;
using crcr::test::run_crcr;

namespace {

// Runs the rest of a test in `dir`, as a user runs gen-workflow in their repository.
class WorkflowTestFolder {
public:
    explicit WorkflowTestFolder(const std::string& dir) : m_old(std::filesystem::current_path()) {
        std::filesystem::current_path(dir);
    }
    ~WorkflowTestFolder() { std::filesystem::current_path(m_old); }
    WorkflowTestFolder(const WorkflowTestFolder&) = delete;
    WorkflowTestFolder& operator=(const WorkflowTestFolder&) = delete;

private:
    std::filesystem::path m_old;
};

std::string read_workflow_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

} // namespace

TEST_CASE("gen-workflow: options") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        GenWorkflowOptions want;
    };
    const Case cases[] = {
        {"defaults", {}, {}},
        {"runs-on repeated, each one label",
         {"--runs-on", "self-hosted", "--runs-on=linux, arm64", "--runs-on", "-x"},
         {}},
        {"everything",
         {"--build",
          "make",
          "--test",
          "ctest",
          "--job-name",
          "npu",
          "--timeout-minutes",
          "90",
          "--workflow-name",
          "NPU CI",
          "--level",
          "l3",
          "--callback",
          "crcr",
          "--crcr-repo",
          "my-org/crcr-mirror",
          "-o",
          "-",
          "--force"},
         {.build = "make",
          .test = "ctest",
          .job_name = "npu",
          .timeout_minutes = 90,
          .workflow_name = "NPU CI",
          .level = "L3",
          .callback = "crcr",
          .crcr_repo = "my-org/crcr-mirror",
          .output = "-",
          .force = true}},
        {"check",
         {"--check", "a.yml", "b.yml", "--format", "json", "--strict"},
         {.check = true, .files = {"a.yml", "b.yml"}, .format = "json", .strict = true}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CLI::App app;
        GenWorkflowOptions got;
        crcr::add_gen_workflow(app, [&got](const GenWorkflowOptions& o) { got = o; });
        std::vector<const char*> argv = {"crcr", "gen-workflow"};
        for (const std::string& arg : c.args) {
            argv.push_back(arg.c_str());
        }
        if (c.name.starts_with("runs-on")) {
            // "-x" is an option to CLI11: the one way to give such a label is --runs-on=-x.
            argv.back() = "--runs-on=-x";
            argv.erase(argv.end() - 2);
            app.parse(static_cast<int>(argv.size()), argv.data());
            CHECK(got.runs_on == std::vector<std::string>{"self-hosted", "linux, arm64", "-x"});
            continue;
        }
        app.parse(static_cast<int>(argv.size()), argv.data());
        CHECK(got == c.want);
    }
}

TEST_CASE("gen-workflow: usage errors") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        std::string err;
    };
    const Case cases[] = {
        {"unknown level", {"--level", "L5"}, "crcr: error: --level: L5 not in {L1,L2,L3,L4}"},
        {"unknown callback", {"--level", "L2", "--callback", "curl"}, "crcr: error: --callback"},
        {"callback at L1",
         {"--callback", "crcr"},
         "crcr: error: --callback goes with --level L2 and up"},
        {"crcr-repo without crcr",
         {"--level", "L2", "--crcr-repo", "x"},
         "crcr: error: --crcr-repo goes with --callback crcr"},
        {"crcr-repo not a repository",
         {"--level", "L2", "--callback", "crcr", "--crcr-repo", "https://example.com/crcr.git"},
         "crcr: error: --crcr-repo 'https://example.com/crcr.git': "},
        {"strict without check", {"--strict"}, "crcr: error: --strict goes with --check"},
        {"steps file and build",
         {"--steps-file", "s.yml", "--build", "make"},
         "crcr: error: --steps-file replaces --build and --test"},
        {"timeout zero", {"--timeout-minutes", "0"}, "crcr: error: --timeout-minutes"},
        {"timeout not a number", {"--timeout-minutes", "soon"}, "crcr: error: --timeout-minutes"},
        {"expression in the workflow name",
         {"--workflow-name", "CI ${{ x }}"},
         "crcr: error: --workflow-name cannot contain '${{'"},
        {"empty label", {"--runs-on", ""}, "crcr: error: --runs-on is empty"},
        {"not UTF-8", {"--build", "make \xff"}, "crcr: error: --build: 'make ' is not valid UTF-8"},
        {"files without --check", {"a.yml"}, "crcr: error: 'a.yml': files are for --check"},
        {"format without --check", {"--format", "json"}, "crcr: error: --format goes with --check"},
        {"check without files", {"--check"}, "crcr: error: --check needs the workflow files"},
        {"check with generation options",
         {"--check", "--build", "make", "a.yml"},
         "crcr: error: --check takes only FILE... and --format"},
        {"unknown format", {"--check", "--format", "sarif", "a.yml"}, "crcr: error: --format"},
    };
    const crcr::test::TempDir dir;
    const WorkflowTestFolder in(dir.path());
    for (const Case& c : cases) {
        CAPTURE(c.name);
        std::vector<std::string> args = {"gen-workflow"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const crcr::test::CliRun run = run_crcr(args);
        CHECK(run.code == 2);
        CHECK(run.err.substr(0, c.err.size()) == c.err);
        CHECK(run.out.empty());
        CHECK_FALSE(std::filesystem::exists(".github"));
    }
}

TEST_CASE("gen-workflow: run") {
    const crcr::test::TempDir dir;
    const WorkflowTestFolder in(dir.path());

    SUBCASE("writes .github/workflows/pytorch_ci.yml, creating the folders; never overwrites") {
        const crcr::test::CliRun run = run_crcr({"gen-workflow", "--build", "make"});
        CHECK(run.code == 0);
        CHECK(run.out.empty());
        CHECK(run.err.starts_with("crcr: wrote '.github/workflows/pytorch_ci.yml' (L1, no "
                                  "callbacks)"));
        const std::string first = read_workflow_file(".github/workflows/pytorch_ci.yml");
        CHECK(first.find("run: make\n") != std::string::npos);

        const crcr::test::CliRun again = run_crcr({"gen-workflow", "--build", "ninja"});
        CHECK(again.code == 1);
        CHECK(again.err
              == "crcr: error: '.github/workflows/pytorch_ci.yml' already exists: use "
                 "--force to overwrite it\n");
        CHECK(read_workflow_file(".github/workflows/pytorch_ci.yml") == first);

        CHECK(run_crcr({"gen-workflow", "--build", "ninja", "--force"}).code == 0);
        CHECK(read_workflow_file(".github/workflows/pytorch_ci.yml").find("run: ninja\n")
              != std::string::npos);
        CHECK(run_crcr({"gen-workflow", "--check", ".github/workflows/pytorch_ci.yml"}).out
              == ".github/workflows/pytorch_ci.yml: ok\n");
    }
    SUBCASE("--output: its folder must exist; - is standard output") {
        const crcr::test::CliRun missing =
            run_crcr({"gen-workflow", "--output", "no/such/folder/ci.yml"});
        CHECK(missing.code == 1);
        CHECK(missing.err.starts_with("crcr: error: cannot write 'no/such/folder/ci.yml': No "
                                      "such file or directory"));
        CHECK_FALSE(std::filesystem::exists("no"));
        const crcr::test::CliRun out = run_crcr({"gen-workflow", "-o", "-", "--level", "L2"});
        CHECK(out.code == 0);
        CHECK(out.err.empty());
        CHECK(out.out.starts_with("# Generated by crcr gen-workflow "));
        CHECK(out.out.find("--level=L2 --callback=action\n") != std::string::npos);
        CHECK(out.out.find("id-token: write") != std::string::npos);
    }
    SUBCASE("a bad steps file: its place in the error, nothing written") {
        const std::string steps = dir.write("steps.yml", "- run: make\n- name: x\n");
        const crcr::test::CliRun run =
            run_crcr({"gen-workflow", "--steps-file", steps, "-o", "ci.yml"});
        CHECK(run.code == 1);
        CHECK(run.err
              == "crcr: error: " + steps
                     + ":2:3: step 2 has neither 'run' and 'uses'; a step does exactly "
                       "one of them\n");
        CHECK_FALSE(std::filesystem::exists("ci.yml"));
        const crcr::test::CliRun missing =
            run_crcr({"gen-workflow", "--steps-file", "none.yml", "-o", "ci.yml"});
        CHECK(missing.code == 1);
        CHECK(missing.err == "crcr: error: cannot read 'none.yml': No such file or directory\n");
    }
    SUBCASE("the steps file from standard input") {
        const crcr::test::CliRun run = run_crcr(
            {"gen-workflow", "--steps-file", "-", "-o", "-"}, {}, nullptr, "- run: make all\n");
        CHECK(run.code == 0);
        CHECK(run.out.find("      - run: make all\n") != std::string::npos);
    }
}

TEST_CASE("gen-workflow: --check") {
    const crcr::test::TempDir dir;
    const WorkflowTestFolder in(dir.path());
    const std::string data = std::string(CRCR_TEST_DATA) + "/workflows/";

    SUBCASE("formats, exit status and several files") {
        const std::string bad = data + "broken-types-unknown.yml";
        const std::string good = data + "docs-example.yml";
        const crcr::test::CliRun text = run_crcr({"gen-workflow", "--check", good, bad});
        CHECK(text.code == 1);
        CHECK(text.out.starts_with(good + ": ok\n" + bad
                                   + ":16:33: error: 'synchronized' is not an event type"));
        CHECK(text.out.find("   16 |     types: [pull_request, push, synchronized]\n"
                            "      |                                 ^~~~~~~~~~~~\n")
              != std::string::npos);
        CHECK(text.out.ends_with(bad + ": 1 error\n"));

        const crcr::test::CliRun github =
            run_crcr({"gen-workflow", "--check", bad},
                     crcr::Environment(crcr::Environment::Variables{{"GITHUB_ACTIONS", "true"}}));
        CHECK(github.out.starts_with("::error file=" + bad + ",line=16,col=33"));

        const crcr::test::CliRun json =
            run_crcr({"gen-workflow", "--check", "--format", "json", good, bad});
        const nlohmann::json doc = nlohmann::json::parse(json.out);
        CHECK(doc["ok"] == false);
        CHECK(doc["errors"] == 1);
        CHECK(doc["files"][0]["findings"].empty());
        CHECK(doc["files"][1]["findings"][0]["rule"] == "dispatch-types-unknown");
        CHECK(doc["files"][1]["findings"][0]["line"] == 16);
    }
    SUBCASE("not YAML, not a workflow, not there") {
        const crcr::test::CliRun yaml =
            run_crcr({"gen-workflow", "--check", data + "broken-not-yaml.yml"});
        CHECK(yaml.code == 1);
        CHECK(yaml.out.find(":4:5: error: invalid YAML") != std::string::npos);
        const crcr::test::CliRun missing = run_crcr({"gen-workflow", "--check", "none.yml"});
        CHECK(missing.code == 1);
        CHECK(missing.err == "crcr: error: cannot read 'none.yml': No such file or directory\n");
    }
    SUBCASE("standard input") {
        const crcr::test::CliRun run =
            run_crcr({"gen-workflow", "--check", "-"},
                     {},
                     nullptr,
                     crcr::test::test_data("workflows/broken-no-id-token.yml"));
        CHECK(run.code == 1);
        CHECK(run.out.find("-:25:5: error: job 'test' calls back") != std::string::npos);
    }
    SUBCASE("a generated file: drift from its header's options") {
        const std::vector<std::string> args = {"gen-workflow",
                                               "--level",
                                               "L2",
                                               "--runs-on",
                                               "self-hosted",
                                               "--build",
                                               "make -j\nmake check",
                                               "--job-name",
                                               "npu ${{ 'a' }}",
                                               "-o",
                                               "ci.yml"};
        REQUIRE(run_crcr(args).code == 0);
        CHECK(run_crcr({"gen-workflow", "--check", "ci.yml"}).out == "ci.yml: ok\n");

        std::string text = read_workflow_file("ci.yml");
        text.replace(text.rfind("make check"), 10, "make test"); // the step, not the header
        std::ofstream("ci.yml", std::ios::binary) << text;
        const crcr::test::CliRun edited = run_crcr({"gen-workflow", "--check", "ci.yml"});
        CHECK(edited.code == 0); // editing a generated file is normal: a note, with the diff
        CHECK(edited.out.find(": note: this file differs") != std::string::npos);
        CHECK(edited.out.find("[generated-drift]") != std::string::npos);
        CHECK(edited.out.find("\n-          make check\n+          make test\n")
              != std::string::npos);
        CHECK(edited.out.ends_with("ci.yml: ok\n"));
        const crcr::test::CliRun strict =
            run_crcr({"gen-workflow", "--check", "--strict", "ci.yml"});
        CHECK(strict.code == 1);
        CHECK(strict.out.find(": error: this file differs") != std::string::npos);
        const crcr::test::CliRun json =
            run_crcr({"gen-workflow", "--check", "--format=json", "ci.yml"});
        CHECK(json.code == 0);
        CHECK(nlohmann::json::parse(json.out)["files"][0]["diff"].get<std::string>().find(
                  "+          make test\n")
              != std::string::npos);
        const crcr::test::CliRun github =
            run_crcr({"gen-workflow", "--check", "--format=github", "ci.yml"});
        CHECK(github.out.starts_with("::notice file=ci.yml,"));
        CHECK(github.out.find("%0A+          make test%0A") != std::string::npos);
        CHECK(edited.out.find("to generate it again: crcr gen-workflow '--job-name=npu ${{ "
                              "'\\''a'\\'' }}' --runs-on=self-hosted --level=L2 "
                              "--callback=action $'--build=make -j\\nmake check' "
                              "--output=ci.yml --force")
              != std::string::npos);

        std::string bad_header = read_workflow_file("ci.yml");
        bad_header.replace(bad_header.find("--level=L2"), 10, "--level=L9");
        std::ofstream("ci.yml", std::ios::binary) << bad_header;
        const crcr::test::CliRun invalid = run_crcr({"gen-workflow", "--check", "ci.yml"});
        CHECK(invalid.code == 0);
        CHECK(invalid.out.find("ci.yml:1:1: note: the header's options are not valid for this "
                               "crcr (--level: L9 not in {L1,L2,L3,L4})")
              != std::string::npos);
    }
}

TEST_CASE("gen-workflow: every hostile string through the command line and back") {
    const crcr::test::TempDir dir;
    const WorkflowTestFolder in(dir.path());
    for (const std::string& s : crcr::test::hostile_strings()) {
        CAPTURE(s);
        const crcr::test::CliRun run = run_crcr({"gen-workflow",
                                                 "--level=L2",
                                                 "--callback=crcr",
                                                 "--runs-on=" + s,
                                                 "--job-name=" + s,
                                                 "--build=" + s,
                                                 "--test=" + s,
                                                 "--output=ci.yml",
                                                 "--force"});
        CHECK(run.code == 0);
        const crcr::test::CliRun check = run_crcr({"gen-workflow", "--check", "ci.yml"});
        CHECK(check.out == "ci.yml: ok\n");
        CHECK(check.code == 0);
    }
}
