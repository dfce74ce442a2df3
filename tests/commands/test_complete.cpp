#include "complete.hpp"
#include "test_support.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <array>

using crcr::test::run_crcr;

namespace {

// The candidates' values, sorted: shells sort them too.
std::vector<std::string> offered(const crcr::Completion& completion) {
    std::vector<std::string> values;
    for (const crcr::Completion::Candidate& candidate : completion.candidates) {
        values.push_back(candidate.value);
    }
    std::sort(values.begin(), values.end());
    return values;
}

// What `crcr __complete -- <words>` prints, as sorted values, and whether it asks for files.
struct CompletedLine {
    std::vector<std::string> values;
    bool files = false;
};

CompletedLine complete_line(const std::vector<std::string>& words) {
    std::vector<std::string> args = {"__complete", "--"};
    args.insert(args.end(), words.begin(), words.end());
    const crcr::test::CliRun run = run_crcr(args);
    REQUIRE(run.code == 0);
    REQUIRE(run.err.empty());
    CompletedLine line;
    std::istringstream lines(run.out);
    for (std::string text; std::getline(lines, text);) {
        if (text == ":files") {
            line.files = true;
        } else {
            line.values.push_back(text.substr(0, text.find('\t')));
        }
    }
    std::sort(line.values.begin(), line.values.end());
    return line;
}

// A small tree with one of each thing `complete` looks at.
struct SampleApp {
    CLI::App app{"sample", "sample"};
    std::string format;
    std::string output;
    std::string secret_file;
    std::string action;
    std::vector<std::string> files;
    std::vector<std::string> labels;
    bool json = false;
    bool strict = false;
    bool verbose = false;

    SampleApp() {
        app.fallthrough();
        app.add_flag("-v,--verbose", verbose, "Trace");
        CLI::App* check = app.add_subcommand("check", "Check files");
        CLI::Option* format_option = check->add_option("--format", format, "Format")
                                         ->check(CLI::IsMember({"text", "json", "github"}))
                                         ->type_name("FORMAT");
        check->add_flag("--json", json, "Same as --format json")->excludes(format_option);
        check->add_flag("--strict", strict, "Fail on warnings");
        check->add_option("--output,-o", output, "Write here")->type_name("PATH");
        check->add_option("--secret-file", secret_file, "Secret")->type_name("NAME");
        check->add_option("--label", labels, "Repeatable")->type_name("NAME");
        check->add_option("--internal", action, "Hidden")->group("");
        check->add_option("FILE", files, "Files")->type_name("");
        CLI::App* run = app.add_subcommand("run", "Run an action");
        constexpr std::array<std::string_view, 3> k_actions = {"opened", "closed", "reopened"};
        run->add_option("ACTION", action, "An action")->check(crcr::completion_values(k_actions));
        app.add_subcommand("__hidden", "Hidden")->group("");
    }
};

} // namespace

TEST_CASE("complete") {
    SampleApp sample;
    const auto values = [&sample](const std::vector<std::string>& words) {
        return offered(crcr::complete(sample.app, words));
    };
    using Strings = std::vector<std::string>;

    SUBCASE("visible subcommands, by prefix") {
        CHECK(values({""}) == Strings{"check", "run"});
        CHECK(values({"ch"}) == Strings{"check"});
        CHECK(values({"-v", "r"}) == Strings{"run"});
        CHECK(values({"x"}).empty());
    }
    SUBCASE("options of the command and of its parents, long names, not hidden") {
        CHECK(values({"check", "--"})
              == Strings{"--format",
                         "--help",
                         "--json",
                         "--label",
                         "--output",
                         "--secret-file",
                         "--strict",
                         "--verbose"});
        CHECK(values({"check", "--s"}) == Strings{"--secret-file", "--strict"});
        CHECK(values({"-"}) == Strings{"--help", "--verbose"});
    }
    SUBCASE("options given already are not offered again, unless repeatable") {
        CHECK(values({"check", "--strict", "--s"}) == Strings{"--secret-file"});
        CHECK(values({"check", "--label", "a", "--l"}) == Strings{"--label"});
    }
    SUBCASE("options excluded by one given are not offered") {
        CHECK(values({"check", "--json", "--f"}).empty());
        CHECK(values({"check", "--format", "text", "--j"}).empty());
        CHECK(values({"check", "--format=text", "--j"}).empty());
    }
    SUBCASE("IsMember values after the option and as --option=value") {
        CHECK(values({"check", "--format", ""}) == Strings{"github", "json", "text"});
        CHECK(values({"check", "--format", "j"}) == Strings{"json"});
        CHECK(values({"check", "--format=g"}) == Strings{"--format=github"});
        CHECK(values({"check", "--strict=g"}).empty()); // a flag takes no value
    }
    SUBCASE("completion_values hints for a positional") {
        CHECK(values({"run", ""}) == Strings{"closed", "opened", "reopened"});
        CHECK(values({"run", "re"}) == Strings{"reopened"});
        CHECK(values({"run", "opened", ""}).empty()); // ACTION is given
    }
    SUBCASE("files where a file is expected, and only there") {
        CHECK(crcr::complete(sample.app, {"check", "--output", ""}).files);
        CHECK(crcr::complete(sample.app, {"check", "-o", ""}).files);
        CHECK(crcr::complete(sample.app, {"check", "--secret-file", "x"}).files);
        CHECK(crcr::complete(sample.app, {"check", ""}).files); // the FILE positional
        CHECK(crcr::complete(sample.app, {"check", "--output=x"}).files);
        CHECK_FALSE(crcr::complete(sample.app, {"check", "--label", ""}).files);
        CHECK_FALSE(crcr::complete(sample.app, {"check", "--format", ""}).files);
        CHECK_FALSE(crcr::complete(sample.app, {"run", ""}).files);
        CHECK_FALSE(crcr::complete(sample.app, {""}).files);
    }
    SUBCASE("after --, no options and no subcommands: only positionals") {
        CHECK(values({"check", "--", "--s"}).empty());
        CHECK(values({"--", ""}).empty());
        CHECK(values({"run", "--", ""}) == Strings{"closed", "opened", "reopened"});
        CHECK(crcr::complete(sample.app, {"check", "--", "--s"}).files);
    }
    SUBCASE("a multi-value option takes the following words, as CLI11 reads them") {
        CHECK_FALSE(crcr::complete(sample.app, {"check", "--label", "a", ""}).files);
        CHECK(crcr::complete(sample.app, {"check", "--label", "a", "--strict", ""}).files);
    }
    SUBCASE("no words at all is the empty word") {
        CHECK(values({}) == Strings{"check", "run"});
    }
    SUBCASE("descriptions come along") {
        const crcr::Completion completion = crcr::complete(sample.app, {"ch"});
        REQUIRE(completion.candidates.size() == 1);
        CHECK(completion.candidates[0].description == "Check files");
    }
}

TEST_CASE("complete: an option added to a command completes with no other change") {
    // The drift test of the completions: they cannot drift, as nothing lists options but CLI11.
    SampleApp sample;
    std::string added;
    sample.app.get_subcommand("check")
        ->add_option("--added-later", added, "New")
        ->type_name("FILE");
    const crcr::Completion completion = crcr::complete(sample.app, {"check", "--added"});
    CHECK(offered(completion) == std::vector<std::string>{"--added-later"});
    CHECK(crcr::complete(sample.app, {"check", "--added-later", ""}).files);
}

TEST_CASE("format_completion") {
    CHECK(crcr::format_completion({}) == "");
    CHECK(crcr::format_completion(
              {.candidates = {{"simulate", "Build a\tdelivery\n"}, {"json", ""}}, .files = true})
          == "simulate\tBuild a delivery \njson\n:files\n");
}

TEST_CASE("completion_values: accepts anything and stays out of --help") {
    std::string action;
    CLI::App app;
    constexpr std::array<std::string_view, 2> k_values = {"a", "b"};
    CLI::Option* option =
        app.add_option("ACTION", action, "An action")->check(crcr::completion_values(k_values));
    CHECK_NOTHROW(app.parse(std::vector<std::string>{"zzz"}));
    CHECK(action == "zzz");
    CHECK(option->get_type_name() == "TEXT");
}

TEST_CASE("__complete: the real command tree") {
    struct Case {
        std::vector<std::string> words; // after "crcr", the last one under the cursor
        std::vector<std::string> want;  // sorted
        bool files = false;
    };
    const Case cases[] = {
        {{"si"}, {"simulate"}},
        {{"validate-"}, {"validate-allowlist"}},
        {{"simulate", "pull_request", "sy"}, {"synchronize"}},
        {{"simulate", "p"}, {"ping", "pull_request", "push"}},
        {{"simulate", "check"}, {"check_run", "check_suite"}},
        {{"validate-allowlist", "--format", ""}, {"github", "json", "sarif", "text"}},
        {{"validate-allowlist", "--format=s"}, {"--format=sarif"}},
        {{"validate-allowlist", "--st"}, {"--strict"}},
        {{"validate-allowlist", "--base", ""}, {}, true},
        {{"validate-allowlist", ""}, {}, true},
        {{"dispatch-test", "--event", ""}, {"pull_request", "push"}},
        {{"dispatch-test", "--action", "la"}, {"labeled"}},
        {{"dispatch-test", "--private-key", ""}, {}, true},
        {{"dispatch-test", "--payload", ""}, {}, true},
        {{"dispatch-test", "--token-file", ""}, {}, true},
        {{"callback", "--status", ""}, {"completed", "in_progress"}},
        {{"callback", "--conclusion", "s"}, {"skipped", "success"}},
        {{"callback", "--event-type", ""}, {"nightly", "periodic"}},
        {{"callback", "--junit", ""}, {}, true},
        {{"callback", "--event-file", ""}, {}, true},
        {{"simulate", "--output", ""}, {}, true},
        {{"simulate", "-o", ""}, {}, true},
        {{"simulate", "--secret-file", ""}, {}, true},
        {{"simulate", "push", "--for"}, {"--force", "--forced"}},
        {{"simulate", "--ver"}, {"--verbose", "--version"}},
        {{"verify-signature", "--signature", "x", ""}, {}, true},
        {{"completion", ""}, {"bash", "fish", "zsh"}},
        {{"completion", "z"}, {"zsh"}},
        {{"__"}, {}}, // hidden
        {{"--ver"}, {"--verbose", "--version"}},
    };
    for (const Case& c : cases) {
        std::string line = "crcr";
        for (const std::string& word : c.words) {
            line += " " + word;
        }
        CAPTURE(line);
        const CompletedLine got = complete_line(c.words);
        CHECK(got.values == c.want);
        CHECK(got.files == c.files);
    }
}

TEST_CASE("__complete: every visible command, and only those") {
    CLI::App app;
    crcr::add_commands(app, [](const std::function<crcr::ExitCode(crcr::Context&)>&) {});
    std::vector<std::string> commands;
    for (const CLI::App* command :
         app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); })) {
        commands.push_back(command->get_name());
    }
    std::sort(commands.begin(), commands.end());
    CHECK(complete_line({""}).values == commands);
    CHECK(std::find(commands.begin(), commands.end(), "completion") != commands.end());
}
