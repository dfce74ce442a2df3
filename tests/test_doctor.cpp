#include "crcr/doctor.hpp"
#include "crcr/workflow_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

TEST_CASE("doctor_requests") {
    crcr::DoctorInput input;
    input.repo = "o/r";
    const std::vector<std::string> upstream = crcr::doctor_requests(input, "https://h/api/v3");
    CHECK(upstream.front() == "GET https://h/api/v3/repos/o/r");
    CHECK(upstream[1]
          == "GET https://h/api/v3/repos/pytorch/pytorch/contents/.github/allowlist.yml");
    for (const std::string& line : upstream) {
        CAPTURE(line);
        CHECK(line.starts_with("GET https://h/api/v3/"));
    }
    input.allowlist_text = "L1: []\n";
    input.allowlist_path = "x y.yml";
    const std::vector<std::string> local = crcr::doctor_requests(input, "https://h");
    CHECK(local.size() == upstream.size() - 1);
    input.allowlist_text.reset();
    CHECK(crcr::doctor_requests(input, "https://h")[1]
          == "GET https://h/repos/pytorch/pytorch/contents/x%20y.yml");
    input.app_jwt = "jwt";
    const std::vector<std::string> app = crcr::doctor_requests(input, "https://h");
    CHECK(std::find(app.begin(), app.end(), "GET https://h/app  # with the App's JWT")
          != app.end());
    CHECK(crcr::doctor_max_requests() == 32);
}

TEST_CASE("workflow_callbacks") {
    struct Case {
        std::string name;
        std::string text;
        int in_progress;
        int completed;
        std::size_t wrong_audience;
    };
    const std::string steps = "on: repository_dispatch\njobs:\n  build:\n    steps:\n";
    const Case cases[] = {
        {"none", steps + "      - run: make\n", 0, 0, 0},
        {"the official action",
         steps
             + "      - uses: "
               "pytorch/test-infra/.github/actions/cross-repo-ci-relay-callback@main\n"
               "        with: {status: in_progress}\n"
               "      - uses: "
               "pytorch/test-infra/.github/actions/cross-repo-ci-relay-callback@main\n"
               "        with: {status: completed, conclusion: success}\n",
         1,
         1,
         0},
        {"crcr callback",
         steps
             + "      - run: crcr callback --status in_progress\n"
               "      - run: crcr callback --status=completed --conclusion success\n",
         1,
         1,
         0},
        {"a hand-made token for another audience",
         steps
             + "      - run: curl \"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com\"\n"
               "      - run: curl \"$URL&audience=pytorch-cross-repo-ci-relay\"\n",
         0,
         0,
         1},
        {"not YAML", "jobs: [\n", 0, 0, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const crcr::WorkflowCallbacks got = crcr::workflow_callbacks(c.text);
        CHECK(got.in_progress == c.in_progress);
        CHECK(got.completed == c.completed);
        CHECK(got.wrong_audience.size() == c.wrong_audience);
    }
    const crcr::WorkflowCallbacks wrong =
        crcr::workflow_callbacks(steps + "      - run: curl \"$U&audience=sts.amazonaws.com\"\n");
    REQUIRE(wrong.wrong_audience.size() == 1);
    CHECK(wrong.wrong_audience[0].rule == "callback-audience");
    CHECK(wrong.wrong_audience[0].location.line == 5);
    CHECK(wrong.wrong_audience[0].location.column == 23);
}
