#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/junit.hpp"

#include <doctest/doctest.h>

TEST_CASE("parse_test_counts reads passed=N,failed=N,skipped=N and refuses anything else") {
    struct Case {
        std::string text;
        crcr::TestCounts want;
        std::string error; // empty: valid
    };
    const Case cases[] = {
        {"passed=10,failed=0,skipped=2", {10, 0, 2}, ""},
        {"failed=3,passed=1", {1, 3, 0}, ""},
        {"skipped=18446744073709551615", {0, 0, 18'446'744'073'709'551'615ULL}, ""},
        {"", {}, "--test-results '' is empty: write passed=N,failed=N,skipped=N"},
        {"passed=1,passed=2", {}, "--test-results 'passed=1,passed=2' gives 'passed' twice"},
        {"pased=1", {}, "--test-results 'pased=1' has an unknown key 'pased'"},
        {"passed=-1", {}, "has 'passed=-1', not a count"},
        {"passed=1x", {}, "has 'passed=1x', not a count"},
        {"passed=", {}, "has 'passed=', not a count"},
        {"passed=1,", {}, "has an unknown key ''"},
        {"passed=99999999999999999999", {}, "not a count"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        if (c.error.empty()) {
            CHECK(crcr::parse_test_counts(c.text) == c.want);
            continue;
        }
        try {
            crcr::parse_test_counts(c.text);
            FAIL("accepted");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).find(c.error) != std::string::npos);
            CHECK(e.code() == crcr::ExitCode::usage);
        }
    }
}

TEST_CASE("count_junit sums test cases of pytest, ctest and nested-suite reports") {
    struct Case {
        std::string name;
        std::string xml;
        crcr::TestCounts want;
    };
    const Case cases[] = {
        {"pytest",
         R"(<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="test_ops" name="test_add" time="0.1"/>
<testcase classname="test_ops" name="test_mul" time="0.1"><failure message="assert 1 == 2">trace</failure></testcase>
<testcase classname="test_ops" name="test_div"><error message="boom"/></testcase>
<testcase classname="test_ops" name="test_npu"><skipped message="no device"/></testcase>
<testcase classname="test_ops" name="test_sub"><system-out>ok</system-out></testcase>
</testsuite></testsuites>)",
         {2, 2, 1}},
        {"a single testsuite root",
         R"(<testsuite><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite>)",
         {1, 0, 1}},
        {"nested suites",
         R"(<testsuites><testsuite><testsuite><testcase name="a"/></testsuite></testsuite><testsuite><testcase name="b"><failure/></testcase></testsuite></testsuites>)",
         {1, 1, 0}},
        {"empty", "<testsuites/>", {0, 0, 0}},
        {"unicode names",
         "<testsuite><testcase name=\"t\xc3\xa9st &amp; \xe2\x9c\x93\"/></testsuite>",
         {1, 0, 0}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::count_junit(c.xml, "r.xml") == c.want);
    }
}

TEST_CASE("count_junit: invalid XML has a location, other XML is named") {
    struct Case {
        std::string xml;
        std::string want;
    };
    const Case cases[] = {
        {"<testsuites>\n  <testcase name=\"a\">\n</testsuites>",
         "r.xml:3:3: not well-formed XML: Start-end tags mismatch"},
        {"", "r.xml:1:1: not well-formed XML: No document element found"},
        {"not xml at all", "r.xml:1:15: not well-formed XML: No document element found"},
        {"<html><body/></html>",
         "r.xml: not a JUnit report: its root element is <html>, not <testsuites> or <testsuite>"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.xml);
        try {
            crcr::count_junit(c.xml, "r.xml");
            FAIL("accepted");
        } catch (const crcr::Error& e) {
            CHECK(std::string(e.what()).starts_with(c.want));
            CHECK(e.code() == crcr::ExitCode::failure);
        }
    }
}
