#include "completion.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using crcr::test::run_crcr;

TEST_CASE("completion: prints the committed scripts byte for byte") {
    struct Case {
        std::string shell;
        std::string file;
    };
    const Case cases[] = {
        {"bash", "completions/crcr.bash"},
        {"zsh", "completions/_crcr"},
        {"fish", "completions/crcr.fish"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.shell);
        const std::string committed = crcr::test::read_source(c.file);
        REQUIRE_FALSE(committed.empty());
        const crcr::test::CliRun run = run_crcr({"completion", c.shell});
        CHECK(run.code == 0);
        CHECK(run.err.empty());
        CHECK(run.out == committed);
        CHECK(run.out.find("__complete") != std::string::npos); // asks the binary
    }
}

TEST_CASE("completion: usage errors") {
    const crcr::test::CliRun none = run_crcr({"completion"});
    CHECK(none.code == 2);
    const crcr::test::CliRun powershell = run_crcr({"completion", "powershell"});
    CHECK(powershell.code == 2);
    CHECK(powershell.err.starts_with("crcr: error: SHELL: powershell not in {bash,fish,zsh}"));
    CHECK(crcr::completion_script("tcsh").empty());
}
