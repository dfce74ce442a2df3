#include "cli.hpp"
#include "test_support.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/workflow_check.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <cctype>

using crcr::test::run_crcr;

TEST_CASE("cli: exit codes and messages at the boundary") {
    struct Case {
        std::string name;
        std::vector<std::string> args;
        int code;
        std::string err_starts;
    };
    const Case cases[] = {
        {"no command", {}, 2, "crcr: error: a subcommand is required\nsee 'crcr --help'\n"},
        {"unknown command",
         {"frobnicate"},
         2,
         "crcr: error: 'frobnicate' is not a crcr command\nsee 'crcr --help'\n"},
        {"typo",
         {"validate-alowlist"},
         2,
         "crcr: error: 'validate-alowlist' is not a crcr command; did you mean "
         "'validate-allowlist'?\n"},
        {"typo of a command's command",
         {"relay", "statsu"},
         2,
         "crcr: error: 'statsu' is not a crcr relay command; did you mean 'status'?\nsee 'crcr "
         "relay --help'\n"},
        {"unknown command of a command",
         {"deliveries", "frobnicate"},
         2,
         "crcr: error: 'frobnicate' is not a crcr deliveries command\nsee 'crcr deliveries "
         "--help'\n"},
        {"unknown option",
         {"validate-allowlist", "--frob"},
         2,
         "crcr: error: unknown option '--frob'\nsee 'crcr validate-allowlist --help'"},
        {"unknown option of a subcommand's subcommand",
         {"relay", "serve", "--frob"},
         2,
         "crcr: error: unknown option '--frob'\nsee 'crcr relay serve --help'\n"},
        {"unknown option with a value",
         {"gen-workflow", "--frob=1"},
         2,
         "crcr: error: unknown option '--frob'\n"},
        {"unknown option before the command",
         {"--frob", "validate-allowlist"},
         2,
         "crcr: error: unknown option '--frob'\n"},
        {"help of an unknown command",
         {"help", "frobnicate"},
         2,
         "crcr: error: 'frobnicate' is not a crcr command; see 'crcr --help'\n"},
        {"help of an unknown subcommand",
         {"help", "relay", "frob"},
         2,
         "crcr: error: 'frob' is not a crcr relay command; see 'crcr relay --help'\n"},
        {"bad format value",
         {"validate-allowlist", "--format", "xml"},
         2,
         "crcr: error: --format: xml not in {text,json,github,sarif}"},
        {"missing file",
         {"validate-allowlist", "missing.yml"},
         1,
         "crcr: error: cannot read 'missing.yml': No such file or directory\n"},
        {"missing positional", {"simulate"}, 2, "crcr: error: EVENT is required\n"},
        {"help", {"--help"}, 0, ""},
        {"command help", {"validate-allowlist", "--help"}, 0, ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::test::CliRun run = run_crcr(c.args);
        CHECK(run.code == c.code);
        CHECK(run.err.substr(0, c.err_starts.size()) == c.err_starts);
    }
}

TEST_CASE("cli: crcr help COMMAND is COMMAND --help, as in git and gh") {
    const std::vector<std::vector<std::string>> commands = {
        {}, {"gen-workflow"}, {"relay", "serve"}, {"relay"}, {"help"}};
    for (const std::vector<std::string>& command : commands) {
        std::vector<std::string> help = {"help"};
        help.insert(help.end(), command.begin(), command.end());
        std::vector<std::string> flag = command;
        flag.emplace_back("--help");
        CAPTURE(flag.front());
        const crcr::test::CliRun by_command = run_crcr(help);
        const crcr::test::CliRun by_flag = run_crcr(flag);
        CHECK(by_command.code == 0);
        CHECK(by_command.err.empty());
        CHECK(by_command.out == by_flag.out);
        CHECK(by_command.out.find("Usage: crcr") != std::string::npos);
    }
    CHECK(run_crcr({"help", "relay", "serve"}).out.find("Usage: crcr relay serve")
          != std::string::npos);
}

TEST_CASE("cli: --help wraps to the terminal's width, without CLI11's notes") {
    for (const std::string columns : {"60", "100", "200"}) {
        CAPTURE(columns);
        for (const std::string command : {"simulate", "dispatch-test", "gen-workflow", "replay"}) {
            CAPTURE(command);
            const crcr::test::CliRun run =
                run_crcr({command, "--help"},
                         crcr::Environment(crcr::Environment::Variables{{"COLUMNS", columns}}));
            CHECK(run.code == 0);
            // The noise of CLI11: conflicts and validators, which the descriptions say in words.
            CHECK(run.out.find("Excludes:") == std::string::npos);
            CHECK(run.out.find("Needs:") == std::string::npos);
            CHECK(run.out.find("UINT") == std::string::npos);
            CHECK(run.out.find("FLOAT") == std::string::npos);
            CHECK(run.out.find(" in [") == std::string::npos);
            // Every option line fits (the footer's examples are written by hand), unless it holds
            // one word too long for the room.
            const std::string options = run.out.substr(0, run.out.find("Examples:"));
            std::size_t start = 0;
            while (start < options.size()) {
                const std::size_t end = std::min(options.find('\n', start), options.size());
                const std::string line = options.substr(start, end - start);
                CAPTURE(line);
                const bool one_word =
                    line.find(' ', line.find_first_not_of(' ')) == std::string::npos;
                CHECK((line.size() <= static_cast<std::size_t>(std::stoi(columns)) || one_word));
                start = end + 1;
            }
        }
    }
    // Wider terminals get longer lines.
    const auto longest = [](const std::string& columns) {
        const std::string out =
            run_crcr({"dispatch-test", "--help"},
                     crcr::Environment(crcr::Environment::Variables{{"COLUMNS", columns}}))
                .out;
        std::size_t longest_line = 0;
        std::size_t start = 0;
        while (start < out.size()) {
            const std::size_t end = std::min(out.find('\n', start), out.size());
            longest_line = std::max(longest_line, end - start);
            start = end + 1;
        }
        return longest_line;
    };
    CHECK(longest("200") > longest("80"));
    CHECK(longest("nonsense") == longest("80")); // not a number: 80 columns off a terminal
}

TEST_CASE("cli: --help lists the commands and examples") {
    const crcr::test::CliRun run = run_crcr({"--help"});
    CHECK(run.out.find("validate-allowlist") != std::string::npos);
    const crcr::test::CliRun sub = run_crcr({"validate-allowlist", "--help"});
    CHECK(sub.out.find("Examples:") != std::string::npos);
    CHECK(sub.out.find("--strict") != std::string::npos);
}

TEST_CASE("cli: --version") {
    const crcr::test::CliRun run = run_crcr({"--version"});
    CHECK(run.code == 0);
    CHECK(run.out.starts_with("crcr 0."));
    // The second line names the libraries, each with a version CMake found.
    const std::string libraries = run.out.substr(run.out.find('\n') + 1);
    CHECK(libraries.starts_with("built with libcurl "));
    for (const std::string_view name : {"libcurl ",
                                        "OpenSSL ",
                                        "libyaml ",
                                        "pugixml ",
                                        "fmt ",
                                        "nlohmann_json ",
                                        "CLI11 ",
                                        "SQLite ",
                                        "cpp-httplib "}) {
        CAPTURE(std::string(name));
        const std::size_t at = libraries.find(name);
        REQUIRE(at != std::string::npos);
        CHECK(std::isdigit(static_cast<unsigned char>(libraries[at + name.size()])));
    }
}

TEST_CASE("cli: --verbose is accepted before and after the command") {
    // The trace itself is tested where HTTP is sent (simulate --send).
    const crcr::test::TempDir dir;
    const std::string file = dir.write("a.yml", "L1: [org/a]\n");
    CHECK(run_crcr({"-v", "validate-allowlist", file}).code == 0);
    CHECK(run_crcr({"validate-allowlist", "--verbose", file}).code == 0);
}

namespace {

std::string roff(std::string_view text) {
    std::string out;
    for (const char c : text) {
        out += c == '-' ? std::string("\\-") : std::string(1, c);
    }
    return out;
}

// What `page` lacks of `app`: a `.SS <command>` section for each visible command (hidden ones,
// such as __complete, have an empty group) and the roff spelling of each of its long options.
// Commands with subcommands (`relay`) are documented per subcommand: `.SS relay serve`.
void add_man_page_gaps(const std::string& page,
                       const CLI::App& parent,
                       const std::string& prefix,
                       std::vector<std::string>& gaps) {
    for (const CLI::App* command :
         parent.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); })) {
        const std::string name = prefix + command->get_name();
        if (!command->get_subcommands({}).empty()) {
            add_man_page_gaps(page, *command, name + " ", gaps);
            continue;
        }
        if (page.find(".SS " + name + "\n") == std::string::npos) {
            gaps.push_back("command " + name);
        }
        for (const CLI::Option* option : command->get_options()) {
            for (const std::string& long_name : option->get_lnames()) {
                if (long_name != "help" && page.find(roff("--" + long_name)) == std::string::npos) {
                    gaps.push_back("option --" + long_name + " of " + name);
                }
            }
        }
    }
}

std::vector<std::string> man_page_gaps(const std::string& page, const CLI::App& app) {
    std::vector<std::string> gaps;
    add_man_page_gaps(page, app, "", gaps);
    return gaps;
}

} // namespace

TEST_CASE("man page documents every command, option and rule") {
    const std::string page = crcr::test::read_source("man/crcr.1");
    REQUIRE_FALSE(page.empty());
    CLI::App app;
    crcr::add_commands(app, [](const std::function<crcr::ExitCode(crcr::Context&)>&) {});
    CHECK(man_page_gaps(page, app) == std::vector<std::string>{});
    for (const crcr::Rule& rule : crcr::allowlist_rules()) {
        CAPTURE(std::string(rule.id));
        CHECK(page.find(".B " + roff(rule.id) + "\n") != std::string::npos);
    }
    // gen-workflow --check's rules, in its own section (some ids are shared with the allowlist's).
    const std::size_t section = page.find(".SS gen-workflow\n");
    REQUIRE(section != std::string::npos);
    const std::string gen_workflow = page.substr(section, page.find(".SS ", section + 1) - section);
    for (const crcr::Rule& rule : crcr::workflow_rules()) {
        CAPTURE(std::string(rule.id));
        CHECK(gen_workflow.find(".B " + roff(rule.id) + "\n") != std::string::npos);
    }
}

TEST_CASE("man page drift test: fails on a command or option added without documentation") {
    // The test of the test above: what a new, undocumented option or command would make it say.
    const std::string page = crcr::test::read_source("man/crcr.1");
    CLI::App app;
    crcr::add_commands(app, [](const std::function<crcr::ExitCode(crcr::Context&)>&) {});
    std::string value;
    app.get_subcommand("simulate")->add_option("--added-without-docs", value, "New");
    app.add_subcommand("undocumented", "New");
    CHECK(man_page_gaps(page, app)
          == std::vector<std::string>{"option --added-without-docs of simulate",
                                      "command undocumented"});
    CHECK(man_page_gaps(page + ".SS undocumented\n\\-\\-added\\-without\\-docs\n", app)
          == std::vector<std::string>{});
}

TEST_CASE("cli: GH_HOST picks the API host as gh does, and a missing token names gh auth token") {
    struct Case {
        crcr::Environment::Variables env;
        std::string url;
    };
    const Case cases[] = {
        {{{"GH_HOST", "ghe.example.com"}}, "https://ghe.example.com/api/v3"},
        {{{"GH_HOST", "github.com"}}, "https://api.github.com"},
        {{{"GH_HOST", ""}}, "https://api.github.com"},
        {{{"GH_HOST", "ghe.example.com"}, {"GITHUB_API_URL", "https://api.example.org"}},
         "https://api.example.org"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.url);
        crcr::Environment::Variables env = c.env;
        env.emplace("GH_TOKEN", "gho_x");
        const crcr::test::CliRun run =
            run_crcr({"dispatch-test", "--repo", "o/r", "--dry-run"}, crcr::Environment(env));
        CHECK(run.code == 0);
        CHECK(run.out.starts_with("POST " + c.url + "/repos/o/r/dispatches\n"));
    }
    const crcr::test::CliRun none = run_crcr({"dispatch-test", "--repo", "o/r"});
    CHECK(none.code == 4);
    CHECK(none.err.find("GH_TOKEN=$(gh auth token)") != std::string::npos);
}

TEST_CASE("cli: a command declared alone parses and helps as in the whole tree") {
    // run_cli declares only the command being run; `crcr help` declares them all. Each command's
    // help (options, defaults, checks, examples) must be the same both ways.
    CLI::App app;
    crcr::add_commands(app, [](const std::function<crcr::ExitCode(crcr::Context&)>&) {});
    std::vector<std::vector<std::string>> paths;
    const auto visible = [](const CLI::App* s) { return !s->get_group().empty(); };
    for (const CLI::App* command : app.get_subcommands(visible)) {
        paths.push_back({command->get_name()});
        for (const CLI::App* sub : command->get_subcommands(visible)) {
            paths.push_back({command->get_name(), sub->get_name()});
        }
    }
    REQUIRE(paths.size() > 15);
    for (const std::vector<std::string>& path : paths) {
        CAPTURE(path);
        std::vector<std::string> help_args = {"help"};
        help_args.insert(help_args.end(), path.begin(), path.end());
        std::vector<std::string> alone_args = path;
        alone_args.emplace_back("--help");
        const crcr::test::CliRun whole = run_crcr(help_args);
        const crcr::test::CliRun alone = run_crcr(alone_args);
        CHECK(whole.code == 0);
        CHECK(alone.code == 0);
        CHECK(alone.out == whole.out);
    }
}

TEST_CASE("cli: help asked before the command is the same as after it") {
    // An option before the command declares every command (commands/cli.cpp); CLI11 then prints
    // the help of the command given, as it does for `COMMAND --help`.
    struct Pair {
        std::vector<std::string> before;
        std::vector<std::string> after;
    };
    const Pair pairs[] = {
        {{"--help", "validate-allowlist"}, {"validate-allowlist", "--help"}},
        {{"-h", "relay"}, {"relay", "--help"}},
        {{"-v", "--help", "relay", "serve"}, {"relay", "serve", "--help"}},
        {{"-v", "--help"}, {"--help"}},
    };
    for (const Pair& pair : pairs) {
        CAPTURE(pair.before);
        const crcr::test::CliRun before = run_crcr(pair.before);
        const crcr::test::CliRun after = run_crcr(pair.after);
        CHECK(before.code == 0);
        CHECK(before.out == after.out);
    }
    // crcr's own help lists every command; --version needs none of them.
    const crcr::test::CliRun help = run_crcr({"--help"});
    for (const char* command : {"validate-allowlist", "simulate", "relay", "gen-workflow"}) {
        CHECK(help.out.find(std::string("\n  ") + command + " ") != std::string::npos);
    }
    const crcr::test::CliRun version = run_crcr({"-v", "--version"});
    CHECK(version.code == 0);
    CHECK(version.out.starts_with("crcr "));
}
