#include "test_support.hpp"

#include "crcr/plan.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace {

const char* const k_allowlist = R"(L1:
  - org/one
L2:
  - org/two
L3:
  npu:
    org/three: [a]
  tpu:
    org/four: [b]
L4:
  - org/five
)";

// "repo:dispatch,hud,check,block" for each row, as 0/1 flags.
std::vector<std::string> flags(const crcr::Plan& plan) {
    std::vector<std::string> out;
    for (const auto& row : plan.rows) {
        out.push_back(fmt::format("{}:{}{}{}{}",
                                  row.repo,
                                  int(row.dispatched),
                                  int(row.hud),
                                  int(row.check_run),
                                  int(row.blocks_merge)));
    }
    return out;
}

} // namespace

TEST_CASE("plan_event: the relay's decisions per level, for each kind of event") {
    const crcr::Allowlist allowlist = crcr::check_allowlist(k_allowlist).allowlist;
    struct Case {
        std::string name;
        std::string event;
        std::string action;
        std::vector<std::string> labels;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"opened, no label",
         "pull_request",
         "opened",
         {},
         {"org/one:1000", "org/two:1100", "org/three:1100", "org/four:1100", "org/five:1111"}},
        {"synchronize with the npu label",
         "pull_request",
         "synchronize",
         {"ciflow/crcr/npu"},
         {"org/one:1000", "org/two:1100", "org/three:1110", "org/four:1100", "org/five:1111"}},
        {"closed",
         "pull_request",
         "closed",
         {"ciflow/crcr/tpu"},
         {"org/one:1000", "org/two:1100", "org/three:1100", "org/four:1110", "org/five:1111"}},
        {"labeled ciflow/crcr/npu: check runs only",
         "pull_request",
         "labeled",
         {"ciflow/crcr/npu"},
         {"org/one:0000", "org/two:0000", "org/three:0010", "org/four:0000", "org/five:0000"}},
        {"labeled with another label: ignored",
         "pull_request",
         "labeled",
         {"ciflow/trunk"},
         {"org/one:0000", "org/two:0000", "org/three:0000", "org/four:0000", "org/five:0000"}},
        {"edited: ignored",
         "pull_request",
         "edited",
         {},
         {"org/one:0000", "org/two:0000", "org/three:0000", "org/four:0000", "org/five:0000"}},
        {"push: no pull request, no check run",
         "push",
         "",
         {},
         {"org/one:1000", "org/two:1100", "org/three:1100", "org/four:1100", "org/five:1100"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        crcr::PayloadShape shape;
        shape.event = c.event;
        shape.action = c.action;
        shape.labels = c.labels;
        crcr::Random random(1);
        const crcr::Json payload =
            crcr::build_payload(shape, random, std::chrono::system_clock::time_point{});
        CHECK(flags(crcr::plan_event(allowlist, c.event, payload)) == c.want);
    }
    crcr::PayloadShape fork;
    fork.event = "push";
    fork.repo = "someone/pytorch";
    crcr::Random random(1);
    const crcr::Plan elsewhere =
        crcr::plan_event(allowlist, "push", crcr::build_payload(fork, random, {}));
    CHECK(elsewhere.route.kind == crcr::Route::Kind::ignored);
    CHECK(flags(elsewhere)
          == std::vector<std::string>{
              "org/one:0000", "org/two:0000", "org/three:0000", "org/four:0000", "org/five:0000"});
}

TEST_CASE("handled_actions: every one is acted on by the relay's routing, none other") {
    for (const std::string event : {"pull_request", "check_run", "check_suite", "push", "ping"}) {
        CAPTURE(event);
        for (const std::string& action : crcr::handled_actions(event)) {
            CAPTURE(action);
            crcr::Json payload = {{"action", action},
                                  {"repository", {{"full_name", "pytorch/pytorch"}}},
                                  {"label", {{"name", "ciflow/crcr/npu"}}}};
            CHECK(crcr::route_webhook(event, payload).kind != crcr::Route::Kind::ignored);
        }
    }
    CHECK(crcr::handled_actions("pull_request").size() == 5);
    CHECK(crcr::handled_actions("push").empty());
    CHECK(crcr::handled_actions("ping").empty());
}

TEST_CASE("plan_event: a rerequested check run or suite re-runs L3 and up") {
    const crcr::Allowlist allowlist = crcr::check_allowlist(k_allowlist).allowlist;
    const crcr::Json repo = {{"full_name", "pytorch/pytorch"}};
    const auto reruns = [&allowlist](std::string_view event, const crcr::Json& payload) {
        std::vector<std::string> repos;
        for (const crcr::PlanRow& row : crcr::plan_event(allowlist, event, payload).rows) {
            if (row.rerun) {
                repos.push_back(row.repo);
            }
            CHECK_FALSE(row.dispatched);
        }
        return repos;
    };
    const auto check_run = [&repo](const std::string& name) {
        return crcr::Json{
            {"action", "rerequested"}, {"check_run", {{"name", name}}}, {"repository", repo}};
    };
    CHECK(reruns("check_run", check_run("crcr/org/three/CI/build"))
          == std::vector<std::string>{"org/three"});
    CHECK(reruns("check_run", check_run("crcr/org/one/CI/build")).empty()); // L1
    CHECK(reruns("check_run", check_run("lint")).empty());                  // not the relay's
    CHECK(reruns("check_suite", crcr::Json{{"action", "rerequested"}, {"repository", repo}})
          == std::vector<std::string>{"org/three", "org/four", "org/five"});
}

TEST_CASE("check_run_repo") {
    CHECK(crcr::check_run_repo("crcr/org/a/CI/build (cuda)") == "org/a");
    CHECK(crcr::check_run_repo("crcr/org/a/CI") == "org/a");
    CHECK(crcr::check_run_repo("crcr/org/a").empty());
    CHECK(crcr::check_run_repo("crcr//a/x").empty());
    CHECK(crcr::check_run_repo("build").empty());
}
