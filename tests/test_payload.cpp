#include "crcr/delivery.hpp"
#include "crcr/error.hpp"
#include "crcr/payload.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

const auto k_now = crcr::parse_time("2026-11-26T10:00:00Z");

crcr::Json build(crcr::PayloadShape shape, std::uint64_t seed = 1) {
    crcr::Random random(seed);
    return crcr::build_payload(shape, random, k_now);
}

crcr::PayloadShape pr(std::string action) {
    crcr::PayloadShape shape;
    shape.event = "pull_request";
    shape.action = std::move(action);
    return shape;
}

crcr::PayloadShape push() {
    crcr::PayloadShape shape;
    shape.event = "push";
    return shape;
}

} // namespace

TEST_CASE("build_payload: pull_request, every action") {
    for (const std::string_view action : crcr::pull_request_actions()) {
        CAPTURE(std::string(action));
        const crcr::Json event = build(pr(std::string(action)));
        CHECK(event["action"] == action);
        CHECK(event["number"] == event["pull_request"]["number"]);
        CHECK(event["repository"]["full_name"] == "pytorch/pytorch");
        CHECK(event["repository"]["id"] == 65600975);
        CHECK(event["repository"] == event["pull_request"]["base"]["repo"]);
        CHECK(event["sender"]["login"] == "octocat");
        CHECK(event["pull_request"]["state"] == (action == "closed" ? "closed" : "open"));
        const std::string number = std::to_string(event["number"].get<std::uint64_t>());
        CHECK(event["pull_request"]["html_url"]
              == "https://github.com/pytorch/pytorch/pull/" + number);
        CHECK(event["pull_request"]["statuses_url"].get<std::string>().ends_with(
            event["pull_request"]["head"]["sha"].get<std::string>()));
    }
    CHECK(crcr::pull_request_actions().size() == 21);
}

TEST_CASE("build_payload: values that belong together agree") {
    SUBCASE("synchronize: after is the head SHA") {
        crcr::PayloadShape shape = pr("synchronize");
        shape.head_sha = std::string(40, 'a');
        const crcr::Json event = build(shape);
        CHECK(event["after"] == std::string(40, 'a'));
        CHECK(event["pull_request"]["head"]["sha"] == std::string(40, 'a'));
        CHECK(event["before"].get<std::string>().size() == 40);
    }
    SUBCASE("labeled adds the last label") {
        crcr::PayloadShape shape = pr("labeled");
        shape.labels = {"module: cuda", "ciflow/crcr/npu"};
        const crcr::Json event = build(shape);
        CHECK(event["label"]["name"] == "ciflow/crcr/npu");
        CHECK(event["pull_request"]["labels"].size() == 2);
        CHECK(event["label"]["url"]
              == "https://api.github.com/repos/pytorch/pytorch/labels/ciflow%2Fcrcr%2Fnpu");
    }
    SUBCASE("labeled without --label uses the L3 test label") {
        CHECK(build(pr("labeled"))["label"]["name"] == "ciflow/crcr/crcr-test");
    }
    SUBCASE("closed and merged") {
        crcr::PayloadShape shape = pr("closed");
        shape.merged = true;
        const crcr::Json merged = build(shape)["pull_request"];
        CHECK(merged["merged"] == true);
        CHECK(merged["merged_at"] == merged["closed_at"]);
        CHECK(merged["merged_by"]["login"] == "pytorchbot");
        const crcr::Json closed = build(pr("closed"))["pull_request"];
        CHECK(closed["merged"] == false);
        CHECK(closed["merged_at"].is_null());
    }
    SUBCASE("a fork as head") {
        crcr::PayloadShape shape = pr("opened");
        shape.head_repo = "contributor/pytorch";
        shape.head_ref = "fix";
        const crcr::Json head = build(shape)["pull_request"]["head"];
        CHECK(head["repo"]["full_name"] == "contributor/pytorch");
        CHECK(head["repo"]["fork"] == true);
        CHECK(head["label"] == "contributor:fix");
        CHECK(head["user"]["login"] == "contributor");
    }
    SUBCASE("node ids follow GitHub's legacy encoding") {
        CHECK(crcr::github_node_id("User", 583231) == "MDQ6VXNlcjU4MzIzMQ==");
        CHECK(crcr::github_node_id("Repository", 65600975) == "MDEwOlJlcG9zaXRvcnk2NTYwMDk3NQ==");
        CHECK(build(pr("opened"))["sender"]["node_id"] == "MDQ6VXNlcjU4MzIzMQ==");
    }
    SUBCASE("the same seed and time give the same payload") {
        CHECK(build(pr("opened"), 3) == build(pr("opened"), 3));
        CHECK(build(pr("opened"), 3) != build(pr("opened"), 4));
    }
}

TEST_CASE("build_payload: push") {
    SUBCASE("a branch push") {
        const crcr::Json event = build(push());
        CHECK(event["ref"] == "refs/heads/main");
        CHECK(event["created"] == false);
        CHECK(event["deleted"] == false);
        CHECK(event["head_commit"]["id"] == event["after"]);
        CHECK(event["commits"].back()["id"] == event["after"]);
        CHECK(event["repository"]["created_at"].is_number());
        CHECK(event["compare"].get<std::string>().starts_with(
            "https://github.com/pytorch/pytorch/compare/"));
    }
    SUBCASE("a new branch") {
        crcr::PayloadShape shape = push();
        shape.before = std::string(crcr::k_null_sha);
        shape.ref = "refs/heads/feature";
        const crcr::Json event = build(shape);
        CHECK(event["created"] == true);
        CHECK(event["compare"] == "https://github.com/pytorch/pytorch/compare/feature");
    }
    SUBCASE("a deletion") {
        crcr::PayloadShape shape = push();
        shape.deleted = true;
        const crcr::Json event = build(shape);
        CHECK(event["after"] == crcr::k_null_sha);
        CHECK(event["deleted"] == true);
        CHECK(event["commits"].empty());
        CHECK(event["head_commit"].is_null());
    }
    SUBCASE("a force push and a tag") {
        crcr::PayloadShape shape = push();
        shape.forced = true;
        CHECK(build(shape)["forced"] == true);
        shape.ref = "refs/tags/v2.11.0";
        const crcr::Json tag = build(shape);
        CHECK(tag["commits"].empty());
        CHECK(tag["head_commit"]["id"] == tag["after"]);
    }
}

TEST_CASE("build_payload: check_run and check_suite rerequested, with what the relay reads") {
    crcr::PayloadShape shape;
    shape.event = "check_run";
    shape.pr = 4242;
    shape.head_sha = std::string(40, 'c');
    shape.run_id = 19876543210;
    shape.check_suite_id = 31234567890;
    const crcr::Json run = build(shape);
    CHECK(run["action"] == "rerequested"); // the default, the one action the relay acts on
    CHECK(run["check_run"]["name"] == "crcr/pytorch/crcr-test/PyTorch CI/build");
    CHECK(run["check_run"]["external_id"] == "19876543210:4242");
    CHECK(run["check_run"]["head_sha"] == std::string(40, 'c'));
    CHECK(run["check_run"]["check_suite"]["id"] == 31234567890);
    CHECK(run["check_run"]["check_suite"]["head_sha"] == std::string(40, 'c'));
    CHECK(run["check_run"]["pull_requests"][0]["number"] == 4242);
    CHECK(run["check_run"]["details_url"]
          == "https://github.com/pytorch/crcr-test/actions/runs/19876543210");
    CHECK(run["check_run"]["app"]["slug"] == "pytorch-fdn-cross-repo-ci-relay");
    CHECK(run["repository"]["full_name"] == "pytorch/pytorch");
    CHECK(crcr::route_webhook("check_run", run).kind == crcr::Route::Kind::rerun);

    shape.check_name = "crcr/my-org/pytorch-ci/CI/test (cuda)";
    CHECK(build(shape)["check_run"]["details_url"]
          == "https://github.com/my-org/pytorch-ci/actions/runs/19876543210");

    shape.event = "check_suite";
    const crcr::Json suite = build(shape);
    CHECK(suite["action"] == "rerequested");
    CHECK(suite["check_suite"]["id"] == 31234567890);
    CHECK(suite["check_suite"]["head_sha"] == std::string(40, 'c'));
    CHECK(suite["check_suite"]["head_commit"]["id"] == std::string(40, 'c'));
    CHECK(suite["check_suite"]["pull_requests"][0]["number"] == 4242);
    CHECK(crcr::route_webhook("check_suite", suite).kind == crcr::Route::Kind::rerun);

    shape.action = "completed";
    CHECK_THROWS_WITH_AS(
        build(shape),
        doctest::Contains("crcr simulates 'rerequested', the one the relay acts on"),
        crcr::Error);
}

TEST_CASE("build_payload: ping, the App's hook configuration") {
    crcr::PayloadShape shape;
    shape.event = "ping";
    const crcr::Json ping = build(shape);
    CHECK(ping["hook"]["type"] == "App");
    CHECK(ping["hook"]["config"]["content_type"] == "json");
    CHECK(ping["hook"]["events"] == crcr::Json{"check_run", "check_suite", "pull_request", "push"});
    CHECK(ping["hook_id"] == ping["hook"]["id"]);
    CHECK(crcr::route_webhook("ping", ping).kind == crcr::Route::Kind::ignored);
    shape.action = "opened";
    CHECK_THROWS_AS(build(shape), crcr::Error);
}

TEST_CASE("build_payload: bad shapes are errors that say what to do") {
    struct Case {
        std::string name;
        crcr::PayloadShape shape;
        std::string message;
    };
    crcr::PayloadShape merged_open = pr("opened");
    merged_open.merged = true;
    crcr::PayloadShape bad_sha = pr("opened");
    bad_sha.head_sha = "abc";
    crcr::PayloadShape bad_repo = pr("opened");
    bad_repo.repo = "pytorch";
    crcr::PayloadShape bad_ref = push();
    bad_ref.ref = "main";
    crcr::PayloadShape unknown_event = pr("opened");
    unknown_event.event = "issues";
    const Case cases[] = {
        {"unknown action",
         pr("merged"),
         "unknown pull_request action 'merged': GitHub sends assigned, "},
        {"merged but open", merged_open, "--merged goes with 'closed'"},
        {"bad sha", bad_sha, "--head-sha 'abc' is not a commit SHA (40 lowercase hex digits)"},
        {"bad repo", bad_repo, "--repo 'pytorch' is not a GitHub repository"},
        {"bad ref", bad_ref, "--ref 'main' is not a full ref"},
        {"unknown event", unknown_event, "unknown event 'issues'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        try {
            build(c.shape);
            FAIL("no error");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).starts_with(c.message));
        }
    }
}

TEST_CASE("set_path") {
    crcr::Json payload = build(pr("opened"));
    crcr::set_path(payload, "pull_request.title", "new");
    CHECK(payload["pull_request"]["title"] == "new");
    crcr::set_path(payload, "pull_request.head.repo.topics[0]", "x");
    CHECK(payload["pull_request"]["head"]["repo"]["topics"][0] == "x");
    crcr::set_path(payload, "pull_request.head.repo.topics.1", "y");
    CHECK(payload["pull_request"]["head"]["repo"]["topics"][1] == "y");
    crcr::set_path(payload, "pull_request.milestone", crcr::Json{{"a", 1}}); // null takes anything
    crcr::set_path(payload, "number", 5);
    // null where GitHub's schemas allow it
    crcr::set_path(payload, "pull_request.body", nullptr);
    CHECK(payload["pull_request"]["body"].is_null());
    crcr::set_path(payload, "repository.homepage", nullptr);
    crcr::set_path(payload, "pull_request.base.repo.description", nullptr);
    crcr::Json labeled = build(pr("labeled"));
    crcr::set_path(labeled, "pull_request.labels[0].description", nullptr);
    CHECK(labeled["pull_request"]["labels"][0]["description"].is_null());
    crcr::Json pushed = build(push());
    crcr::set_path(pushed, "head_commit", nullptr);

    struct Case {
        std::string path;
        crcr::Json value;
        std::string message;
    };
    const Case cases[] = {
        {"pull_request.nope",
         "x",
         "--set path 'pull_request.nope': there is no 'pull_request.nope' in the payload"},
        {"pull_request.labels[0].name",
         "x",
         "--set path 'pull_request.labels[0].name': 'pull_request.labels' has 0 items, there is no "
         "item 0"},
        {"number",
         "12",
         "--set number: the payload has a number there, and the webhook schema wants one; got a "
         "string"},
        {"pull_request.title",
         nullptr,
         "--set pull_request.title: GitHub's webhook schema does not allow null there; it wants a "
         "string"},
        {"pull_request.head.sha", nullptr, "--set pull_request.head.sha: GitHub's webhook"},
        {"a..b", 1, "--set path 'a..b': there is no 'a' in the payload"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.path);
        try {
            crcr::set_path(payload, c.path, c.value);
            FAIL("no error");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).starts_with(c.message));
        }
    }
}

TEST_CASE("parse_assignment") {
    CHECK(crcr::parse_assignment("a.b=12") == std::pair<std::string, crcr::Json>{"a.b", 12});
    CHECK(crcr::parse_assignment("a=true").second == true);
    CHECK(crcr::parse_assignment("a=hello world").second == "hello world");
    CHECK(crcr::parse_assignment("a=\"12\"").second == "12");
    CHECK(crcr::parse_assignment("a=").second == "");
    CHECK(crcr::parse_assignment("a={\"x\":[1]}").second == crcr::Json{{"x", {1}}});
    CHECK_THROWS_AS(crcr::parse_assignment("novalue"), crcr::Error);
    CHECK_THROWS_AS(crcr::parse_assignment("=x"), crcr::Error);
}

TEST_CASE("iso8601 and parse_time") {
    CHECK(crcr::iso8601(k_now) == "2026-11-26T10:00:00Z");
    CHECK(crcr::parse_time("2026-11-26T10:00:00.123Z") == k_now);
    CHECK(crcr::parse_time("2026-11-26T10:00:00+00:00") == k_now);
    CHECK(crcr::parse_time("@1790000000")
          == std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000)));
    for (const char* bad : {"yesterday",
                            "2026-11-26",
                            "2026-11-26T10:00:00",
                            "2026-11-26T10:00:00+02:00",
                            "@",
                            "@12x"}) {
        CAPTURE(std::string(bad));
        CHECK_THROWS_AS(crcr::parse_time(bad), crcr::Error);
    }
}
