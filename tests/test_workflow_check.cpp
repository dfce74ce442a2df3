#include "test_support.hpp"

#include "crcr/workflow_check.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace {

std::multiset<std::string> rules_of(const std::vector<crcr::Finding>& findings) {
    std::multiset<std::string> rules;
    for (const crcr::Finding& f : findings) {
        rules.insert(f.rule);
    }
    return rules;
}

} // namespace

TEST_CASE("check_workflow: one broken workflow per rule") {
    struct Case {
        std::string file;
        std::multiset<std::string> rules;
        crcr::SourceLocation where; // of the first finding
    };
    const Case cases[] = {
        {"docs-example.yml", {}, {}},
        {"l2-matrix.yml", {}, {}},
        {"broken-no-dispatch.yml", {"no-repository-dispatch"}, {14, 1, 2}},
        {"broken-types-string.yml", {"dispatch-types-not-list"}, {16, 12, 12}},
        {"broken-types-missing.yml", {"dispatch-types-missing"}, {16, 5, 5}},
        {"broken-types-unknown.yml", {"dispatch-types-unknown"}, {16, 33, 12}},
        {"broken-payload-path.yml", {"unknown-payload-path"}, {54, 45, 24}},
        {"broken-checkout-ref.yml", {"pytorch-checkout-ref"}, {44, 23, 15}},
        {"broken-no-cancel.yml", {"no-cancel-on-closed"}, {27, 1, 4}},
        {"broken-no-id-token.yml", {"callback-without-id-token"}, {25, 5, 11}},
        {"broken-matrix-job-name.yml", {"matrix-callback-job-name"}, {32, 9, 1}},
        {"broken-not-always.yml", {"completed-callback-not-always"}, {43, 9, 1}},
        {"broken-action-input.yml", {"callback-action-input"}, {36, 11, 12}},
        {"broken-duplicate-key.yml", {"duplicate-key"}, {37, 5, 7}},
        {"broken-not-yaml.yml", {"yaml-syntax"}, {4, 5, 1}},
        {"broken-not-a-workflow.yml", {"not-a-workflow"}, {2, 1, 1}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.file);
        const std::string text = crcr::test::test_data("workflows/" + c.file);
        REQUIRE_FALSE(text.empty());
        const std::vector<crcr::Finding> findings = crcr::check_workflow(text);
        CHECK(rules_of(findings) == c.rules);
        if (!findings.empty()) {
            CHECK(findings.front().location == c.where);
            CHECK(findings.front().severity == crcr::Severity::error);
        }
    }
}

TEST_CASE("check_workflow: the trigger in every form") {
    struct Case {
        std::string name;
        std::string on;
        std::multiset<std::string> rules;
    };
    const Case cases[] = {
        {"string form: every type", "on: repository_dispatch\n", {}},
        {"list form", "on: [push, repository_dispatch]\n", {}},
        {"no types: every type", "on:\n  repository_dispatch:\n", {}},
        {"quoted key", "\"on\":\n  repository_dispatch:\n    types: [push, pull_request]\n", {}},
        {"no on", "", {"no-repository-dispatch"}},
        {"other events", "on: [push, pull_request]\n", {"no-repository-dispatch"}},
        {"the RFC's type",
         "on:\n  repository_dispatch:\n    types: [pytorch-pr-trigger]\n",
         {"dispatch-types-unknown", "dispatch-types-missing"}},
        {"an action as a type",
         "on:\n  repository_dispatch:\n    types: [pull_request, push, synchronize]\n",
         {"dispatch-types-unknown"}},
        {"types as a mapping",
         "on:\n  repository_dispatch:\n    types: {pull_request: 1}\n",
         {"dispatch-types-not-list"}},
    };
    const std::string rest =
        "concurrency:\n  group: x-${{ github.event.client_payload.payload.pull_request.number "
        "}}\n  cancel-in-progress: true\njobs:\n  cancel:\n    if: "
        "github.event.client_payload.payload.action == 'closed'\n    runs-on: x\n    steps:\n      "
        "- run: echo\n";
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(rules_of(crcr::check_workflow(c.on + rest)) == c.rules);
    }
}

TEST_CASE("check_workflow: payload paths point at the field") {
    const std::string text =
        "on: repository_dispatch\njobs:\n  ci:\n    steps:\n      - run: |\n          echo "
        "ok\n          jq .client_payload.head_sha \"$GITHUB_EVENT_PATH\"\n          echo ${{ "
        "github.event.client_payload['upstream_repo'] }} ${{ "
        "github.event.client_payload.delivery_id }}\n";
    std::vector<crcr::Finding> findings;
    for (const crcr::Finding& f : crcr::check_workflow(text)) {
        if (f.rule == "unknown-payload-path") {
            findings.push_back(f);
        }
    }
    REQUIRE(findings.size() == 2);
    CHECK(findings[0].location == crcr::SourceLocation{7, 15, 23});
    CHECK(findings[0].message.find("pull_request.head.sha") != std::string::npos);
    CHECK(findings[1].location == crcr::SourceLocation{8, 33, 31});
    CHECK(findings[1].message.find("repository.full_name") != std::string::npos);
}

TEST_CASE("check_workflow: id-token from the workflow or the job") {
    const std::string head =
        "on: repository_dispatch\nconcurrency:\n  group: ${{ "
        "github.event.client_payload.payload.pull_request.number }}\n  cancel-in-progress: "
        "true\n";
    const std::string job =
        "jobs:\n  cancel:\n    if: github.event.client_payload.payload.action == 'closed'\n    "
        "steps: [{run: x}]\n  ci:\n{}    steps:\n      - uses: "
        "pytorch/test-infra/.github/actions/cross-repo-ci-relay-callback@v1\n        with: "
        "{status: in_progress}\n";
    struct Case {
        std::string name;
        std::string workflow_permissions;
        std::string job_permissions;
        bool ok;
    };
    const Case cases[] = {
        {"none", "", "", false},
        {"workflow level", "permissions:\n  id-token: write\n", "", true},
        {"write-all", "permissions: write-all\n", "", true},
        {"job level", "", "    permissions:\n      id-token: write\n", true},
        {"the job's own replaces the workflow's",
         "permissions:\n  id-token: write\n",
         "    permissions:\n      contents: read\n",
         false},
        {"read", "", "    permissions:\n      id-token: read\n", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        std::string jobs = job;
        jobs.replace(jobs.find("{}"), 2, c.job_permissions);
        const std::multiset<std::string> rules =
            rules_of(crcr::check_workflow(head + c.workflow_permissions + jobs));
        CHECK(rules.count("callback-without-id-token") == (c.ok ? 0 : 1));
        CHECK(rules.size() == rules.count("callback-without-id-token"));
    }
}

TEST_CASE("check_workflow: never throws on odd YAML") {
    const std::string texts[] = {
        "",
        "# only a comment\n",
        "[]\n",
        "42\n",
        "jobs: 1\n",
        "jobs: {}\non: {}\n",
        "on:\n  repository_dispatch:\n    types: [[a]]\njobs:\n  x: [1]\n",
        "jobs:\n  x:\n    steps: {a: 1}\n    strategy: [1]\n    permissions: [1]\n",
        "jobs:\n  x:\n    steps:\n      - 1\n      - uses: [1]\n        with: 1\n",
    };
    for (const std::string& text : texts) {
        CAPTURE(text);
        CHECK_NOTHROW(static_cast<void>(crcr::check_workflow(text)));
    }
}

TEST_CASE("check_workflow: YAML that hung or crashed the loader is a yaml-syntax finding") {
    struct Case {
        std::string name;
        std::string text;
        std::string message; // the start of the first finding's
    };
    const Case cases[] = {
        {"a tag with a comma", "!a,b\n", "invalid YAML"},
        {"an alias inside its own anchor", "on: &a\n  - *a\n", "alias '*a' is inside"},
        {"100000 open brackets", std::string(100000, '['), "YAML nested more than 256"},
        {"an alias bomb", crcr::test::alias_bomb(7), "the document has more than"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const std::vector<crcr::Finding> findings = crcr::check_workflow(c.text);
        REQUIRE_FALSE(findings.empty());
        CHECK(findings.front().rule == "yaml-syntax");
        CHECK(findings.front().message.starts_with(c.message));
    }
}

TEST_CASE("drift_findings") {
    const std::string generated = "# Generated by crcr gen-workflow 0.1.0\nname: a\non: b\n";
    CHECK(crcr::drift_findings(generated, generated, "cmd").empty());
    CHECK(crcr::drift_findings(
              "# Generated by crcr gen-workflow 0.0.1\nname: a\non: b\n", generated, "cmd")
              .empty());
    CHECK(crcr::drift_findings(
              "# Generated by crcr gen-workflow 0.1.0\r\nname: a\r\non: b\r\n", generated, "cmd")
              .empty());
    const std::vector<crcr::Finding> edited =
        crcr::drift_findings("# Generated by crcr gen-workflow 0.1.0\nname: a\non: c\n",
                             generated,
                             "crcr gen-workflow --force");
    REQUIRE(edited.size() == 1);
    CHECK(edited[0].rule == "generated-drift");
    CHECK(edited[0].severity == crcr::Severity::note);
    CHECK(edited[0].location.line == 3);
    CHECK(edited[0].message.ends_with("to generate it again: crcr gen-workflow --force"));
    const std::vector<crcr::Finding> cut =
        crcr::drift_findings("# Generated by crcr gen-workflow 0.1.0\n", generated, "c");
    REQUIRE(cut.size() == 1);
    CHECK(cut[0].location.line == 2);
    const std::vector<crcr::Finding> longer =
        crcr::drift_findings(generated + "extra: 1\n", generated, "c");
    REQUIRE(longer.size() == 1);
    CHECK(longer[0].location.line == 4);
}

TEST_CASE("drift_diff: unified hunks of what changed, context around each") {
    const auto numbered = [](int from, int to) {
        std::string text = "# Generated by crcr gen-workflow 0.1.0\n";
        for (int i = from; i <= to; ++i) {
            text += "line " + std::to_string(i) + "\n";
        }
        return text;
    };
    const std::string generated = numbered(1, 20);
    CHECK(crcr::drift_diff(generated, generated).empty());
    CHECK(crcr::drift_diff("# Generated by crcr gen-workflow 9.9.9\r\n" + generated.substr(39),
                           generated)
              .empty());
    std::string edited = generated;
    edited.replace(edited.find("line 5\n"), 7, "line five\n");
    edited.replace(edited.find("line 17\n"), 8, ""); // removed, far from the first change
    edited += "line 21\n";
    CHECK(crcr::drift_diff(edited, generated)
          == "--- generated now\n+++ this file\n"
             "@@ -3,7 +3,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n"
             " line 8\n"
             "@@ -15,7 +15,7 @@\n line 14\n line 15\n line 16\n-line 17\n line 18\n line 19\n"
             " line 20\n+line 21\n");
    // Lines added where the file had none, and a control character made visible.
    CHECK(crcr::drift_diff("# Generated by crcr gen-workflow 0.1.0\nx\x1b[2J\n",
                           "# Generated by crcr gen-workflow 0.1.0\n")
          == "--- generated now\n+++ this file\n@@ -1,1 +1,2 @@\n # Generated by crcr gen-workflow "
             "0.1.0\n+x^[[2J\n");
}

TEST_CASE("workflow_rules: ids are unique") {
    std::set<std::string_view> ids;
    for (const crcr::Rule& rule : crcr::workflow_rules()) {
        CHECK(ids.insert(rule.id).second);
    }
    CHECK(ids.count("generated-drift") == 1);
}

TEST_CASE("check_workflow: a tab is reported in workflow terms") {
    // crcr's loader is YAML 1.1 as PyYAML reads it, stricter than GitHub here: say so.
    const std::vector<crcr::Finding> findings = crcr::check_workflow(
        "on: repository_dispatch\njobs:\n  ci:\n    steps:\n      - run: a\tb\n");
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].rule == "yaml-tab");
    CHECK(findings[0].location == crcr::SourceLocation{5, 15, 1});
    CHECK(findings[0].message.find("GitHub accepts tabs inside plain values") != std::string::npos);
}
