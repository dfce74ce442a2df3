#include "crcr/report.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

const crcr::Finding k_error{
    crcr::Severity::error, "duplicate-repo", "'a/b' is listed twice", {2, 5, 3}, "a/b"};
const crcr::Finding k_note{crcr::Severity::note, "repo-added", "'a/b' added at L1", {2, 5, 3}};

} // namespace

TEST_CASE("format_text") {
    SUBCASE("source line and caret under the subject") {
        const crcr::FileFindings file{"list.yml", "L1:\n  - a/b\n", {k_error}};
        CHECK(crcr::format_text(file, false)
              == "list.yml:2:5: error: 'a/b' is listed twice [duplicate-repo]\n"
                 "    2 |   - a/b\n"
                 "      |     ^~~\n");
    }
    SUBCASE("tabs are kept so the caret lines up; the span stops at the end of the line") {
        const crcr::FileFindings file{
            "x", "\tab\n", {{crcr::Severity::warning, "r", "m", {1, 2, 10}}}};
        CHECK(crcr::format_text(file, false)
              == "x:1:2: warning: m [r]\n    1 | \tab\n      | \t^~\n");
    }
    SUBCASE("notes and file-level findings have no snippet") {
        const crcr::FileFindings file{
            "x", "L1:\n  - a/b\n", {k_note, {crcr::Severity::error, "e", "m", {}}}};
        CHECK(crcr::format_text(file, false)
              == "x:2:5: note: 'a/b' added at L1 [repo-added]\nx: error: m [e]\n");
    }
    SUBCASE("colour only when asked") {
        const crcr::FileFindings file{"list.yml", "L1:\n  - a/b\n", {k_error}};
        CHECK(crcr::format_text(file, true).find("\033[1;31merror") != std::string::npos);
        CHECK(crcr::format_text(file, false).find('\033') == std::string::npos);
    }
    SUBCASE("a carriage return is not echoed") {
        const crcr::FileFindings file{"x", "L1:\r\n  - a/b\r\n", {k_error}};
        CHECK(crcr::format_text(file, false).find('\r') == std::string::npos);
    }
}

TEST_CASE("format_github") {
    const crcr::FileFindings file{
        "dir,a:b.yml", "", {k_error, k_note, {crcr::Severity::warning, "w", "50% off\nnow", {}}}};
    CHECK(crcr::format_github(file)
          == "::error file=dir%2Ca%3Ab.yml,line=2,col=5,endColumn=8,title=duplicate-repo::'a/b' is "
             "listed twice\n"
             "::notice file=dir%2Ca%3Ab.yml,line=2,col=5,endColumn=8,title=repo-added::'a/b' added "
             "at L1\n"
             "::warning file=dir%2Ca%3Ab.yml,title=w::50%25 off%0Anow\n");
}

TEST_CASE("to_json") {
    CHECK(crcr::to_json(k_error)
          == nlohmann::json{{"severity", "error"},
                            {"rule", "duplicate-repo"},
                            {"message", "'a/b' is listed twice"},
                            {"line", 2},
                            {"column", 5},
                            {"repository", "a/b"}});
    CHECK(crcr::to_json(crcr::Finding{crcr::Severity::error, "e", "m", {}})["repository"]
          == nullptr);
}

TEST_CASE("to_sarif") {
    const crcr::Rule rules[] = {{"duplicate-repo", crcr::Severity::error, "twice"},
                                {"repo-added", crcr::Severity::note, "added"}};
    const crcr::FileFindings files[] = {{"a dir/list.yml", "", {k_error}}, {"b.yml", "", {k_note}}};
    const nlohmann::json sarif = crcr::to_sarif(files, rules);
    CHECK(sarif["version"] == "2.1.0");
    const nlohmann::json& run = sarif["runs"][0];
    CHECK(run["tool"]["driver"]["name"] == "crcr");
    CHECK(run["tool"]["driver"]["rules"][1]["id"] == "repo-added");
    CHECK(run["tool"]["driver"]["rules"][1]["defaultConfiguration"]["level"] == "note");
    REQUIRE(run["results"].size() == 2);
    const nlohmann::json& first = run["results"][0];
    CHECK(first["ruleId"] == "duplicate-repo");
    CHECK(first["ruleIndex"] == 0);
    CHECK(first["level"] == "error");
    CHECK(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
          == "a%20dir/list.yml");
    CHECK(first["locations"][0]["physicalLocation"]["region"]
          == nlohmann::json{{"startLine", 2}, {"startColumn", 5}, {"endColumn", 8}});
    CHECK(run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 1);
    CHECK(first["properties"] == nlohmann::json{{"repository", "a/b"}});
    CHECK_FALSE(run["results"][1].contains("properties"));
}

TEST_CASE("count and to_string(Severity)") {
    CHECK(crcr::count({k_error, k_note, k_error}, crcr::Severity::error) == 2);
    CHECK(crcr::to_string(crcr::Severity::warning) == "warning");
}

TEST_CASE("format_text never prints terminal control sequences") {
    const crcr::FileFindings file{
        "x", "a: \x1b]0;pwned\x07\n", {{crcr::Severity::error, "r", "bad '\x1b[2J'", {1, 4, 1}}}};
    const std::string text = crcr::format_text(file, false);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text == "x:1:4: error: bad '^[[2J' [r]\n    1 | a: ^[]0;pwned^G\n      |    ^\n");
}
