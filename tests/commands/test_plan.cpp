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
            R"({"repo":"pytorch/crcr-test","level":"L3","device":"crcr-test","dispatch":false,"hud":false,"check_run":true,"blocks_merge":false,"rerun":false})"));

    const auto broken = crcr::test::run_crcr({"plan", "push", "--allowlist", "-"},
                                             crcr::Environment(),
                                             nullptr,
                                             "L1:\n  - a/b\nl2:\n  - c/d\n");
    CHECK(broken.code == 0);
    CHECK(broken.err.find("crcr: warning: '-' has 1 errors") != std::string::npos);
    CHECK(broken.out.find("a/b") != std::string::npos);
    CHECK(broken.out.find("c/d") == std::string::npos); // the relay drops the l2 block

    const auto missing = crcr::test::run_crcr({"plan", "push", "--allowlist", "/nonexistent.yml"});
    CHECK(missing.code == 1);
    CHECK(missing.err.find("/nonexistent.yml") != std::string::npos);
}

TEST_CASE("plan without an action: every action the relay acts on for the event") {
    const std::string allowlist = "L1: [org/one]\nL3:\n  npu:\n    org/three: [a]\n  tpu:\n"
                                  "    org/four: [b]\nL4:\n  - org/five: x\n";
    const auto plan = [&allowlist](std::vector<std::string> args) {
        args.insert(args.begin(), "plan");
        args.insert(args.end(), {"--allowlist", "-"});
        return crcr::test::run_crcr(args, crcr::Environment(), nullptr, allowlist);
    };
    // The header line of each plan, in order.
    const auto headers = [](const std::string& out) {
        std::vector<std::string> lines;
        std::size_t at = 0;
        while (at < out.size()) {
            const std::size_t end = out.find('\n', at);
            if (at == 0 || out.compare(at - 2, 2, "\n\n") == 0) {
                lines.push_back(out.substr(at, end - at));
            }
            at = end + 1;
        }
        return lines;
    };
    const auto text = plan({"pull_request"});
    CHECK(text.code == 0);
    CHECK(headers(text.out)
          == std::vector<std::string>{
              "pull_request opened: pull_request 'opened' is dispatched to all L1..L4 repositories",
              "pull_request reopened: pull_request 'reopened' is dispatched to all L1..L4 "
              "repositories",
              "pull_request synchronize: pull_request 'synchronize' is dispatched to all L1..L4 "
              "repositories",
              "pull_request closed: pull_request 'closed' is dispatched to all L1..L4 repositories",
              "pull_request labeled: label 'ciflow/crcr/npu' creates L3 check runs; nothing is "
              "dispatched",
              "pull_request labeled: label 'ciflow/crcr/tpu' creates L3 check runs; nothing is "
              "dispatched",
          });

    const auto json = plan({"pull_request", "--json"});
    CHECK(json.code == 0);
    const crcr::Json plans = crcr::Json::parse(json.out);
    REQUIRE(plans.is_array());
    REQUIRE(plans.size() == 6);
    CHECK(plans[4]["labels"] == crcr::Json{"ciflow/crcr/npu"});
    CHECK(plans[4]["repos"][1]["check_run"] == true);  // org/three, npu
    CHECK(plans[4]["repos"][2]["check_run"] == false); // org/four, tpu

    // A --label says which label `labeled` adds: one labeled plan.
    const auto labelled = plan({"pull_request", "--label", "ciflow/crcr/tpu", "--json"});
    CHECK(crcr::Json::parse(labelled.out).size() == 5);

    const auto rerun = plan({"check_suite", "--json"});
    CHECK(rerun.code == 0);
    const crcr::Json rerun_plans = crcr::Json::parse(rerun.out);
    REQUIRE(rerun_plans.size() == 1);
    CHECK(rerun_plans[0]["action"] == "rerequested");
    CHECK(rerun_plans[0]["route"] == "rerun");

    // push has no action: one plan, as before.
    const auto push = plan({"push", "--json"});
    CHECK(crcr::Json::parse(push.out)["route"] == "dispatch");
}
