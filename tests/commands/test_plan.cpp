#include "plan.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

TEST_CASE("plan: text and JSON, a warning for a broken allowlist, usage errors") {
    const std::string allowlist = crcr::test::read_source("examples/allowlist.yml");
    const auto text = crcr::test::run_crcr({"plan", "pull_request", "opened", "--allowlist", "-"},
                                           crcr::Environment(),
                                           nullptr,
                                           allowlist);
    CHECK(text.code == 0);
    CHECK(text.out.starts_with(
        "pull_request opened: pull_request 'opened' is dispatched to all L1..L4 repositories\n"
        "REPOSITORY                  LEVEL  DISPATCH  HUD  CHECK RUN  BLOCKS MERGE\n"
        "riseproject-dev/pytorch-ci  L1     yes       -    -          -\n"));
    CHECK(text.out.ends_with("5 dispatched, 3 on HUD, 1 check run, 1 blocking merge\n"));

    const auto json = crcr::test::run_crcr({"plan",
                                            "pull_request",
                                            "labeled",
                                            "--label",
                                            "ciflow/crcr/crcr-test",
                                            "--allowlist",
                                            "-",
                                            "--json"},
                                           crcr::Environment(),
                                           nullptr,
                                           allowlist);
    CHECK(json.code == 0);
    const crcr::Json plan = crcr::Json::parse(json.out);
    CHECK(plan["route"] == "backfill");
    CHECK(
        plan["repos"][3]
        == crcr::Json::parse(
            R"({"repo":"pytorch/crcr-test","level":"L3","device":"crcr-test","dispatch":false,"hud":false,"check_run":true,"blocks_merge":false})"));

    const auto broken = crcr::test::run_crcr({"plan", "push", "--allowlist", "-"},
                                             crcr::Environment(),
                                             nullptr,
                                             "L1:\n  - a/b\nl2:\n  - c/d\n");
    CHECK(broken.code == 0);
    CHECK(broken.err.find("crcr: warning: '-' has 1 errors") != std::string::npos);
    CHECK(broken.out.find("a/b") != std::string::npos);
    CHECK(broken.out.find("c/d") == std::string::npos); // the relay drops the l2 block

    CHECK(crcr::test::run_crcr(
              {"plan", "pull_request", "--allowlist", "-"}, crcr::Environment(), nullptr, allowlist)
              .code
          == 2);
    const auto missing = crcr::test::run_crcr({"plan", "push", "--allowlist", "/nonexistent.yml"});
    CHECK(missing.code == 1);
    CHECK(missing.err.find("/nonexistent.yml") != std::string::npos);
}
