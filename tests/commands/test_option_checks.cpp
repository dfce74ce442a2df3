#include "cli.hpp"
#include "option_checks.hpp"
#include "test_support.hpp"

#include <CLI/CLI.hpp>
#include <doctest/doctest.h>

#include <functional>

using crcr::test::run_crcr;

namespace {

// Every option of `app` and its subcommands, with the subcommand path that reaches it.
void each_option(CLI::App& app,
                 std::vector<std::string> path,
                 const std::function<void(const std::vector<std::string>&, CLI::Option&)>& visit) {
    for (CLI::Option* option : app.get_options()) {
        visit(path, *option);
    }
    for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        std::vector<std::string> deeper = path;
        deeper.push_back(sub->get_name());
        each_option(*sub, deeper, visit);
    }
}

// The type name an option was declared with, without its validators' descriptions.
std::string declared_type(const CLI::Option& option) {
    const std::string type = option.get_type_name();
    return type.substr(0, type.find(':'));
}

} // namespace

TEST_CASE("real_number: finite decimals within the range, the range said readably") {
    struct Case {
        std::string value;
        bool accepted;
    };
    const Case cases[] = {
        {"0.001", true},
        {"2.5", true},
        {"1e3", true},
        {"604800", true},
        {"0", false},
        {"-1", false},
        {"1e308", false},
        {"1e400", false},
        {"nan", false},
        {"inf", false},
        {"-inf", false},
        {"0x10", false},
        {"1e-300", false},
        {" 5", false},
        {"5s", false},
        {"", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        CLI::App app;
        double seconds = 0;
        app.add_option("--timeout", seconds)->check(crcr::real_number(crcr::k_seconds));
        if (c.accepted) {
            app.parse(std::vector<std::string>{c.value, "--timeout"});
            CHECK(seconds == std::stod(c.value));
        } else {
            CHECK_THROWS_WITH_AS(
                app.parse(std::vector<std::string>{c.value, "--timeout"}),
                ("--timeout: '" + c.value + "' is not a number from 0.001 to 604800").c_str(),
                CLI::ValidationError);
        }
    }
    // No 309 digits of DBL_MAX, as CLI11's own range checks print.
    CLI::App app;
    double wait = 0;
    app.add_option("--max-wait", wait)->check(crcr::real_number(crcr::k_wait_seconds));
    CHECK_THROWS_WITH_AS(app.parse(std::vector<std::string>{"-1", "--max-wait"}),
                         "--max-wait: '-1' is not a number from 0 to 604800",
                         CLI::ValidationError);
}

TEST_CASE("whole_number: decimal digits within the range, read as written") {
    struct Case {
        std::string value;
        std::optional<std::uint64_t> want; // nothing: refused
    };
    const Case cases[] = {
        {"0", 0},
        {"010", 10}, // not octal
        {"18446744073709551615", 18'446'744'073'709'551'615ULL},
        {"18446744073709551616", std::nullopt}, // 2^64
        {"-1", std::nullopt},
        {"+1", std::nullopt},
        {"0x10", std::nullopt},
        {"1e3", std::nullopt},
        {"1.5", std::nullopt},
        {"", std::nullopt},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        CLI::App app;
        std::uint64_t seed = 7;
        app.add_option("--seed", seed)->transform(crcr::whole_number(crcr::k_any_u64));
        if (c.want) {
            app.parse(std::vector<std::string>{c.value, "--seed"});
            CHECK(seed == *c.want);
        } else {
            CHECK_THROWS_WITH_AS(
                app.parse(std::vector<std::string>{c.value, "--seed"}),
                ("--seed: '" + c.value + "' is not a whole number from 0 to 18446744073709551615")
                    .c_str(),
                CLI::ValidationError);
        }
    }
    CLI::App app;
    unsigned concurrency = 4;
    app.add_option("--concurrency", concurrency)->transform(crcr::whole_number({1, 256}));
    CHECK_THROWS_WITH_AS(app.parse(std::vector<std::string>{"0", "--concurrency"}),
                         "--concurrency: '0' is not a whole number from 1 to 256",
                         CLI::ValidationError);
}

TEST_CASE("cli: every numeric option refuses nan, infinities, negatives and overflows") {
    CLI::App root;
    crcr::add_commands(root, [](const std::function<crcr::ExitCode(crcr::Context&)>&) {});
    std::size_t checked = 0;
    each_option(root, {}, [&](const std::vector<std::string>& path, CLI::Option& option) {
        const std::string type = declared_type(option);
        const bool numeric = type == "N" || type == "SECONDS" || type == "PER_SECOND"
                             || option.get_name() == "--installation-id";
        if (!numeric || option.get_lnames().empty()) {
            return;
        }
        ++checked;
        const std::string name = "--" + option.get_lnames().front();
        for (const std::string value :
             {"nan", "inf", "-1", "1e400", "18446744073709551616", "0x10"}) {
            std::vector<std::string> args = path;
            args.push_back(name + "=" + value);
            CAPTURE(args);
            const crcr::test::CliRun run = run_crcr(args);
            CHECK(run.code == 2);
            CHECK(run.err.find("crcr: error: " + name + ": '" + value + "' is not a ")
                  != std::string::npos);
        }
    });
    CHECK(checked >= 20);
}

TEST_CASE("cli: the command lines of issue 17, each a usage error that says why") {
    struct Case {
        std::vector<std::string> args;
        std::string want;
    };
    const Case cases[] = {
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--timeout", "1e308"},
         "--timeout: '1e308' is not a number from 0.001 to 604800"},
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--rate", "nan"},
         "--rate: 'nan' is not a number from 0.001 to 1000000"},
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--rate", "1e-300"},
         "--rate: '1e-300' is not a number from 0.001 to 1000000"},
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--limit=-1"},
         "--limit: '-1' is not a whole number from 1 to 18446744073709551615"},
        {{"callback", "--status", "in_progress", "--max-time", "1e308"},
         "--max-time: '1e308' is not a number from 0.001 to 604800"},
        {{"callback", "--status", "in_progress", "--max-time", "nan"},
         "--max-time: 'nan' is not a number from 0.001 to 604800"},
        {{"dispatch-test", "--repo", "o/r", "--max-wait", "nan"},
         "--max-wait: 'nan' is not a number from 0 to 604800"},
        {{"dispatch-test", "--repo", "o/r", "--max-wait=-1"},
         "--max-wait: '-1' is not a number from 0 to 604800\n"},
        {{"simulate", "push", "--seed", "18446744073709551616"},
         "--seed: '18446744073709551616' is not a whole number from 0 to 18446744073709551615"},
        {{"simulate", "push", "--now", "@99999999999999999"},
         "time '@99999999999999999' is out of range: crcr takes times from 1900-01-01T00:00:00Z "
         "to 2199-12-31T23:59:59Z"},
        {{"simulate", "push", "--now", "@999999999999999999999"},
         "time '@999999999999999999999' is out of range"},
        {{"simulate", "push", "--now", "9999-01-01T00:00:00Z"},
         "time '9999-01-01T00:00:00Z' is out of range"},
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--resend-failed"},
         "--resend-failed requires --state"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.args);
        const crcr::test::CliRun run = run_crcr(c.args);
        CHECK(run.code == 2);
        CHECK(run.err.find("crcr: error: " + c.want) != std::string::npos);
    }
}

TEST_CASE("cli: an option that names a file, URL or repository refuses an empty value") {
    struct Case {
        std::vector<std::string> args;
        std::string want;
    };
    const Case cases[] = {
        {{"simulate", "push", "--output", ""}, "--output: an empty value names nothing"},
        {{"dispatch-test", "--repo", "o/r", "--api-url", ""},
         "--api-url: an empty value names nothing"},
        {{"replay", "a.jsonl", "--to", "", "--report", "r.jsonl"},
         "--to: an empty value names nothing"},
        {{"replay", "a.jsonl", "--to", "http://127.0.0.1:9/", "--state", ""},
         "--state: an empty value names nothing"},
        {{"gen-workflow", "--output", ""}, "--output: an empty value names nothing"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.args);
        const crcr::test::CliRun run = run_crcr(c.args);
        CHECK(run.code == 2);
        CHECK(run.err.find("crcr: error: " + c.want) != std::string::npos);
    }
}
