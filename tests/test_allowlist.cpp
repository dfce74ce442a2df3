#include "test_support.hpp"

#include "crcr/allowlist.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <set>
#include <string>
#include <vector>

namespace {

// "rule@line:column" for each finding, in order.
std::vector<std::string> summarize(const std::vector<crcr::Finding>& findings) {
    std::vector<std::string> out;
    for (const crcr::Finding& f : findings) {
        out.push_back(fmt::format("{}@{}:{}", f.rule, f.location.line, f.location.column));
    }
    return out;
}

std::string message_of(const crcr::AllowlistCheck& check, std::string_view rule) {
    for (const crcr::Finding& f : check.findings) {
        if (f.rule == rule) {
            return f.message;
        }
    }
    return {};
}

} // namespace

TEST_CASE("check_allowlist") {
    struct Case {
        std::string name;
        std::string yaml;
        std::vector<std::string> want; // rule@line:column
    };
    const Case cases[] = {
        {"good file",
         "L1:\n  - org/a\nL2:\n  - org/b\nL3:\n  dev:\n    org/c: [x]\nL4:\n  - org/d: x, y\n",
         {}},
        // Bad input as a whole
        {"empty file", "", {"empty-allowlist@1:1"}},
        {"comment only", "# nothing here\n", {"empty-allowlist@1:1"}},
        {"only empty levels", "L1: []\nL2:\n", {"empty-allowlist@1:1"}},
        {"not yaml", "L1: [a/b\n", {"yaml-syntax@2:1"}},
        // Inputs that hung or crashed the YAML loader (issue #17): every allowlist reader
        {"a tag with a comma", "!a,b\n", {"yaml-syntax@1:3"}},
        {"an alias inside its own anchor", "L1: &a\n  - *a\n", {"yaml-syntax@2:5"}},
        {"100000 open brackets", "L1: " + std::string(100000, '['), {"yaml-syntax@1:260"}},
        {"an alias bomb", crcr::test::alias_bomb(11), {"yaml-syntax@4:40"}},
        {"tab indentation", "L1:\n\t- org/a\n", {"yaml-tab@2:1"}},
        {"a repo hidden after U+2028",
         "L1:\n  - a/b   # ok\xe2\x80\xa8  - evil/repo\n",
         {"hidden-line-break@2:15"}},
        {"a lone carriage return", "L1:\r  - a/b\r", {"hidden-line-break@1:4"}},
        {"binary garbage",
         std::string("\x7f\x45\x4c\x46\x02\x01\x01\x00", 8),
         {"non-printable-character@1:1"}},
        {"invalid utf-8", "L1:\n  - org/\xe9t\xe9\n", {"invalid-utf8@2:9"}},
        {"root is a list", "- org/a\n", {"root-not-mapping@1:1"}},
        {"root is a string", "org/a\n", {"root-not-mapping@1:1"}},
        // Top-level keys
        {"lowercase level", "l2:\n  - org/a\nL1:\n  - org/b\n", {"unknown-level@1:1"}},
        {"level five", "L5:\n  - org/a\nL1:\n  - org/b\n", {"unknown-level@1:1"}},
        {"level with space", "L 1:\n  - org/a\nL1:\n  - org/b\n", {"unknown-level@1:1"}},
        {"other key", "meta: x\nL1:\n  - org/b\n", {"unknown-key@1:1"}},
        {"buildkite key is known", "L2:\n  - org/b\nbuildkite_repos:\n  o/p: org/b\n", {}},
        {"level twice",
         "L1:\n  - org/a\nL2:\n  - org/b\nL1:\n  - org/c\n",
         {"duplicate-level@1:1"}},
        // L1, L2, L4 shapes
        {"level is a mapping", "L1:\n  org/a: x\n", {"level-not-list@2:3"}},
        {"level is a string", "L2: org/a\nL1: [org/b]\n", {"level-not-list@1:5"}},
        {"level is false", "L2: false\nL1: [org/b]\n", {"level-not-list-value@1:5"}},
        {"number entry", "L1:\n  - 123\n  - org/a\n", {"entry-type@2:5"}},
        {"null entry", "L1:\n  -\n  - org/a\n", {"entry-type@2:3"}},
        {"nested list entry", "L1:\n  - [org/a]\n  - org/b\n", {"entry-type@2:5"}},
        {"two-key mapping",
         "L4:\n  - org/a: x\n    org/b: y\n  - org/c: z\n",
         {"entry-mapping-keys@2:5"}},
        {"no slash", "L1:\n  - orga\n  - org/b\n", {"entry-not-owner-repo@2:5"}},
        {"only slashes", "L1:\n  - ' / '\n  - org/b\n", {"entry-not-owner-repo@2:5"}},
        {"number key", "L1:\n  - 12: x\n  - org/b\n", {"entry-not-owner-repo@2:5"}},
        {"padded entry", "L1:\n  - ' org/a/'\n", {"entry-padding@2:5"}},
        {"three parts", "L1:\n  - org/a/b\n", {"invalid-repo-name@2:5"}},
        {"bad owner", "L1:\n  - -org/a\n", {"invalid-repo-name@2:5"}},
        {"bad repo name", "L1:\n  - org/a b\n", {"invalid-repo-name@2:5"}},
        {"exact duplicate", "L1:\n  - org/a\nL2:\n  - org/a\n", {"duplicate-repo@4:5"}},
        {"case duplicate", "L1:\n  - Org/A\nL2:\n  - org/a\n", {"duplicate-repo@4:5"}},
        {"alias duplicate", "L1:\n  - &r org/a\n  - *r\n", {"duplicate-repo@2:5"}},
        // o/r17748 and o/r210406 have the same 32-bit hash in crcr's index of names
        {"names whose hashes collide", "L1:\n  - o/r17748\n  - o/r210406\n", {}},
        {"a duplicate among colliding names",
         "L1:\n  - o/r17748\n  - o/r210406\nL2:\n  - O/R210406\n  - o/r17748\n",
         {"duplicate-repo@5:5", "duplicate-repo@6:5"}},
        {"a Buildkite repo with the hash of a listed one",
         "L2:\n  - o/r17748\nbuildkite_repos:\n  x/p: o/r210406\n",
         {"buildkite-unknown-repo@4:8"}},
        // Oncalls
        {"list oncalls under L4", "L4:\n  - org/a: [x, y]\n", {"relay-mangles-oncall-list@2:12"}},
        {"mapping oncalls under L4", "L4:\n  - org/a: {x: 1}\n", {"oncall-type@2:12"}},
        {"string oncalls under L3",
         "L3:\n  dev:\n    org/a: \"x, y\"\n",
         {"relay-mangles-oncall-string@3:12"}},
        {"number oncalls under L3", "L3:\n  dev:\n    org/a: 5\n", {"oncall-type@3:12"}},
        {"at sign quoted", "L4:\n  - org/a: \"@x, y\"\n", {"oncall-at-sign@2:12"}},
        {"at sign in L3 list", "L3:\n  dev:\n    org/a: ['@x']\n", {"oncall-at-sign@3:13"}},
        {"invalid login", "L3:\n  dev:\n    org/a: [x_y]\n", {"invalid-login@3:13"}},
        {"bool oncall", "L3:\n  dev:\n    org/a: [yes]\n", {"yaml-type-coercion@3:13"}},
        {"numeric oncall is fine", "L3:\n  dev:\n    org/a: [123]\n", {}},
        {"bool oncall string under L4", "L4:\n  - org/a: on\n", {"yaml-type-coercion@2:12"}},
        {"L4 without oncall", "L4:\n  - org/a\n", {"missing-oncall@2:5"}},
        {"L3 without oncall", "L3:\n  dev:\n    org/a:\n", {"missing-oncall@3:5"}},
        // L3 shapes
        {"L3 is a list", "L3:\n  - org/a\n", {"l3-not-mapping@2:3"}},
        {"L3 is an empty list", "L3: []\nL1: [org/b]\n", {"level-not-list-value@1:5"}},
        {"empty device", "L3:\n  '':\n    org/a: [x]\n", {"device-empty@2:3"}},
        {"device with no repos", "L3:\n  dev:\n", {"device-not-mapping@2:3"}},
        {"device with a list", "L3:\n  dev:\n    - org/a\n", {"device-not-mapping@3:5"}},
        {"device with empty mapping", "L3:\n  dev: {}\nL1: [org/b]\n", {"empty-device@2:3"}},
        {"device not label-safe", "L3:\n  my dev:\n    org/a: [x]\n", {"device-name@2:3"}},
        {"device too long",
         "L3:\n  " + std::string(39, 'd') + ":\n    org/a: [x]\n",
         {"device-name-too-long@2:3"}},
        {"device read as bool", "L3:\n  on:\n    org/a: [x]\n", {"yaml-type-coercion@2:3"}},
        {"device padded", "L3:\n  ' dev':\n    org/a: [x]\n", {"entry-padding@2:3"}},
        {"repo key twice in a device",
         "L3:\n  dev:\n    org/a: [x]\n    org/a: [y]\n",
         {"duplicate-key@4:5"}},
        {"L3 repo not owner/repo", "L3:\n  dev:\n    orga: [x]\n", {"entry-not-owner-repo@3:5"}},
        // Buildkite
        {"buildkite entry without slash",
         "L2: [org/b]\nbuildkite_repos:\n  pipeline: org/b\n",
         {"buildkite-invalid-entry@3:3"}},
        {"buildkite not a mapping",
         "L2: [org/b]\nbuildkite_repos: [x]\n",
         {"buildkite-invalid-entry@2:18"}},
        {"buildkite repo below L2",
         "L1: [org/b]\nbuildkite_repos:\n  o/p: org/b\n",
         {"buildkite-unknown-repo@3:8"}},
        // Merge keys resolve as the relay's loader does.
        {"merge key", "L3:\n  a: &d\n    org/a: [x]\n  b:\n    <<: *d\n", {"duplicate-repo@3:5"}},
    };
    std::set<std::string> covered;
    for (const Case& c : cases) {
        CAPTURE(c.name);
        for (const std::string& w : c.want) {
            covered.insert(w.substr(0, w.find('@')));
        }
        const crcr::AllowlistCheck check = crcr::check_allowlist(c.yaml);
        std::vector<std::string> want = c.want;
        std::vector<std::string> got = summarize(check.findings);
        std::sort(want.begin(), want.end());
        std::sort(got.begin(), got.end());
        CHECK(got == want);
    }
    // Every rule of check_allowlist has a case in the table; the change rules are tested with
    // compare_allowlists below.
    for (const crcr::Rule& rule : crcr::allowlist_rules()) {
        const std::string id(rule.id);
        CAPTURE(id);
        CHECK((covered.count(id) == 1 || id.starts_with("repo-") || id == "new-repo-above-l1"
               || id == "promotion-skips-level"));
    }
}

TEST_CASE("check_allowlist: messages say what to write instead") {
    SUBCASE("mis-cased level suggests the right one") {
        const crcr::AllowlistCheck check = crcr::check_allowlist("l2:\n  - org/a\nL1: [org/b]\n");
        CHECK(message_of(check, "unknown-level")
              == "unknown level 'l2': the relay reads only 'L1'..'L4' exactly and ignores this "
                 "block (1 repository dropped); write 'L2'");
    }
    SUBCASE("a level written twice names what is dropped") {
        const crcr::AllowlistCheck check =
            crcr::check_allowlist("L1:\n  - org/a\n  - org/b\nL2: [org/x]\nL1:\n  - org/c\n");
        CHECK(
            message_of(check, "duplicate-level")
            == "'L1' is written again at line 5; the relay's YAML loader keeps only the last 'L1' "
               "block, so 'org/a', 'org/b' would be dropped; merge the two blocks");
        REQUIRE(check.allowlist.entries.size() == 2);
        CHECK(check.allowlist.entries[0].repo == "org/c");
    }
    SUBCASE("a list of oncalls under L4") {
        const crcr::AllowlistCheck check = crcr::check_allowlist("L4:\n  - org/a: [x, y]\n");
        CHECK(message_of(check, "relay-mangles-oncall-list")
              == "oncalls of 'org/a' written as a YAML list: under L1, L2 and L4 the relay reads "
                 "one comma-separated string and would notify \"['x'\", \"'y']\"; write 'x, y' "
                 "instead");
    }
    SUBCASE("case-insensitive duplicates") {
        const crcr::AllowlistCheck check =
            crcr::check_allowlist("L1:\n  - Org/A\nL2:\n  - org/a\n");
        CHECK(message_of(check, "duplicate-repo")
              == "'org/a' and 'Org/A' (line 2, L1) are the same GitHub repository, since names are "
                 "case-insensitive; the relay would dispatch to it twice; keep one entry");
    }
    SUBCASE("a duplicate is compared with its own name, not one with the same hash") {
        const crcr::AllowlistCheck check =
            crcr::check_allowlist("L1:\n  - o/r17748\n  - o/r210406\nL4:\n  - O/R210406: x\n");
        CHECK(message_of(check, "duplicate-repo")
              == "'O/R210406' and 'o/r210406' (line 3, L1) are the same GitHub repository, since "
                 "names are case-insensitive; the relay would dispatch to it twice; keep one "
                 "entry");
    }
}

TEST_CASE("check_allowlist: a finding about one entry names its repository") {
    // In the message and in `repository`, so a bot commenting on a PR can name it.
    struct Case {
        std::string yaml;
        std::string rule;
        std::string want_repository; // empty: about no single repository
    };
    const Case cases[] = {
        {"L4:\n  - org/a: [x, y]\nL1: [org/b]\n", "relay-mangles-oncall-list", "org/a"},
        {"L1: [org/b]\nL3:\n  dev:\n    org/a: \"x, y\"\n", "relay-mangles-oncall-string", "org/a"},
        {"L1: [org/b]\nL4:\n  - org/a: {x: 1}\n", "oncall-type", "org/a"},
        {"L3:\n  dev:\n    org/b: [x]\n    org/a: 5\n", "oncall-type", "org/a"},
        {"L4:\n  - org/b: x\n  - org/a: \"@x, y\"\n", "oncall-at-sign", "org/a"},
        {"L3:\n  dev:\n    org/b: [x]\n    org/a: [x_y]\n", "invalid-login", "org/a"},
        {"L3:\n  dev:\n    org/a: [yes]\n", "yaml-type-coercion", "org/a"},
        {"L4:\n  - org/b: x\n  - ' org/a/': x\n", "entry-padding", "org/a"},
        {"L1:\n  - org/b\n  - org/a b\n", "invalid-repo-name", "org/a b"},
        {"L1:\n  - org/b\nL4:\n  - org/a\n", "missing-oncall", "org/a"},
        {"L1:\n  - Org/A\nL2:\n  - org/a\n", "duplicate-repo", "org/a"},
        {"L1: [org/b]\nbuildkite_repos:\n  o/p: org/b\n", "buildkite-unknown-repo", "org/b"},
        {"L3:\n  on:\n    org/a: [x]\n", "yaml-type-coercion", ""}, // the device name
        {"l2:\n  - org/a\nL1: [org/b]\n", "unknown-level", ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.yaml);
        const crcr::AllowlistCheck check = crcr::check_allowlist(c.yaml);
        REQUIRE(check.findings.size() == 1);
        const crcr::Finding& finding = check.findings.front();
        CHECK(finding.rule == c.rule);
        CHECK(finding.repository == c.want_repository);
        if (!c.want_repository.empty()) {
            CHECK(finding.message.find("'" + c.want_repository + "'") != std::string::npos);
        }
    }
}

TEST_CASE("check_allowlist: the model as the relay reads it") {
    const crcr::AllowlistCheck check = crcr::check_allowlist(
        "L4:\n  - org/d: ' x ,, y '\nL1:\n  - ' /org/a/ '\nL3:\n  dev:\n    org/c: [p, q]\n");
    REQUIRE(check.allowlist.entries.size() == 3);
    const crcr::AllowlistEntry& a = check.allowlist.entries[0];
    CHECK(a.repo == "org/a");
    CHECK(a.level == crcr::Level::l1);
    CHECK(a.location == crcr::SourceLocation{4, 5, 11});
    const crcr::AllowlistEntry& c = check.allowlist.entries[1];
    CHECK(c.device == "dev");
    CHECK(c.oncalls == std::vector<std::string>{"p", "q"});
    const crcr::AllowlistEntry& d = check.allowlist.entries[2];
    CHECK(d.level == crcr::Level::l4);
    CHECK(d.oncalls == std::vector<std::string>{"x", "y"});
}

TEST_CASE("check_allowlist: a check without the model counts and finds the same") {
    const std::string yaml = "L1:\n  - org/a\n  - Org/A\nL3:\n  dev:\n    org/c: [p, '@q']\n"
                             "  gpu:\n    org/e: [r]\nL4:\n  - org/d: x, y\n";
    const crcr::AllowlistCheck full = crcr::check_allowlist(yaml);
    const crcr::AllowlistCheck lean = crcr::check_allowlist(yaml, crcr::AllowlistModel::skip);
    CHECK(lean.allowlist.entries.empty());
    CHECK(lean.level_counts == std::array<std::size_t, 4>{2, 0, 2, 1});
    CHECK(full.level_counts == lean.level_counts);
    CHECK(lean.findings == full.findings);
    REQUIRE(full.findings.size() == 2);
    REQUIRE(full.allowlist.entries.size() == 5);
    CHECK(full.allowlist.entries[3].device == "gpu");
    CHECK(full.allowlist.entries[2].oncalls == std::vector<std::string>{"p", "q"});
}

TEST_CASE("check_allowlist: the real PyTorch allowlists have no errors") {
    for (const std::string name :
         {"allowlist/pytorch-2026-04.yml", "allowlist/pytorch-2026-08.yml"}) {
        CAPTURE(name);
        const crcr::AllowlistCheck check = crcr::check_allowlist(crcr::test::test_data(name));
        CHECK(check.findings.empty());
        CHECK_FALSE(check.allowlist.entries.empty());
    }
}

TEST_CASE("check_allowlist: a large file is handled") {
    std::string yaml = "L1:\n";
    for (int i = 0; i < 20000; ++i) {
        yaml += fmt::format("  - org{}/repo{}\n", i, i);
    }
    const crcr::AllowlistCheck check = crcr::check_allowlist(yaml);
    CHECK(check.findings.empty());
    CHECK(check.allowlist.entries.size() == 20000);
}

TEST_CASE("compare_allowlists") {
    const crcr::Allowlist base =
        crcr::check_allowlist(
            "L1:\n  - ascend/pytorch\n  - org/gone\n  - org/up2\nL2:\n  - org/down\n  - Org/Case\n")
            .allowlist;
    const crcr::Allowlist head =
        crcr::check_allowlist(
            "L1:\n  - org/down\n  - org/new\nL2:\n  - Ascend/pytorch\n  - org/new2\n  - org/case\n"
            "L3:\n  dev:\n    org/up2: [x]\n")
            .allowlist;
    const std::vector<crcr::AllowlistChange> changes = crcr::compare_allowlists(base, head);
    std::vector<std::string> got;
    for (const crcr::AllowlistChange& c : changes) {
        got.push_back(fmt::format("{} {} {} {}->{}",
                                  to_string(c.kind),
                                  c.repo,
                                  c.base_repo,
                                  c.from ? to_string(*c.from) : "-",
                                  c.to ? to_string(*c.to) : "-"));
    }
    CHECK(got
          == std::vector<std::string>{
              "demoted org/down org/down L2->L1",
              "added org/new  -->L1",
              "promoted Ascend/pytorch ascend/pytorch L1->L2",
              "added org/new2  -->L2",
              "renamed org/case Org/Case L2->L2",
              "promoted org/up2 org/up2 L1->L3",
              "removed org/gone org/gone L1->-",
          });

    const std::vector<crcr::Finding> findings = crcr::change_findings(changes, "base.yml");
    std::vector<std::string> rules;
    for (const crcr::Finding& f : findings) {
        rules.push_back(f.rule);
    }
    CHECK(rules
          == std::vector<std::string>{"repo-demoted",
                                      "repo-added",
                                      "repo-promoted",
                                      "repo-added",
                                      "new-repo-above-l1",
                                      "repo-renamed",
                                      "repo-promoted",
                                      "promotion-skips-level",
                                      "repo-removed"});
    CHECK(findings[2].message
          == "'Ascend/pytorch' promoted L1 -> L2 (written 'ascend/pytorch' in base.yml)");
    CHECK(findings[4].severity == crcr::Severity::warning);
    CHECK(findings[0].severity == crcr::Severity::note);
    std::vector<std::string> repositories;
    for (const crcr::Finding& f : findings) {
        repositories.push_back(f.repository);
    }
    CHECK(repositories
          == std::vector<std::string>{"org/down",
                                      "org/new",
                                      "Ascend/pytorch",
                                      "org/new2",
                                      "org/new2",
                                      "org/case",
                                      "org/up2",
                                      "org/up2",
                                      "org/gone"});

    SUBCASE("a device change is a move") {
        const crcr::Allowlist from = crcr::check_allowlist("L3:\n  a:\n    org/x: [p]\n").allowlist;
        const crcr::Allowlist to = crcr::check_allowlist("L3:\n  b:\n    org/x: [p]\n").allowlist;
        const std::vector<crcr::AllowlistChange> moved = crcr::compare_allowlists(from, to);
        REQUIRE(moved.size() == 1);
        CHECK(moved[0].kind == crcr::ChangeKind::moved);
        CHECK(crcr::change_findings(moved, "b")[0].rule == "repo-moved");
    }
    SUBCASE("no change, no findings") {
        CHECK(crcr::compare_allowlists(head, head).empty());
    }
}

TEST_CASE("compare_allowlists: the two real PyTorch allowlists") {
    const crcr::Allowlist april =
        crcr::check_allowlist(crcr::test::test_data("allowlist/pytorch-2026-04.yml")).allowlist;
    const crcr::Allowlist august =
        crcr::check_allowlist(crcr::test::test_data("allowlist/pytorch-2026-08.yml")).allowlist;
    const std::vector<crcr::AllowlistChange> changes = crcr::compare_allowlists(april, august);
    const auto ascend =
        std::find_if(changes.begin(), changes.end(), [](const crcr::AllowlistChange& c) {
            return c.repo == "Ascend/pytorch";
        });
    REQUIRE(ascend != changes.end());
    CHECK(ascend->kind == crcr::ChangeKind::promoted);
    CHECK(ascend->base_repo == "ascend/pytorch");
    CHECK(ascend->from == crcr::Level::l1);
    CHECK(ascend->to == crcr::Level::l2);
    CHECK(std::count_if(
              changes.begin(),
              changes.end(),
              [](const crcr::AllowlistChange& c) { return c.kind == crcr::ChangeKind::added; })
          == 9);
    const std::vector<crcr::Finding> findings = crcr::change_findings(changes, "april");
    CHECK(std::count_if(findings.begin(),
                        findings.end(),
                        [](const crcr::Finding& f) { return f.rule == "new-repo-above-l1"; })
          == 4);
}
