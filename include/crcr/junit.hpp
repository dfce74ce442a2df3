#pragma once

// Test result counts for a callback's `test_results`: from `passed=N,failed=N,skipped=N`, or
// summed over JUnit XML reports (pytest, ctest, gtest, ...) read with a real XML parser.

#include <cstdint>
#include <string>
#include <string_view>

namespace crcr {

struct TestCounts {
    std::uint64_t passed = 0;
    std::uint64_t failed = 0; // failures and errors
    std::uint64_t skipped = 0;

    TestCounts& operator+=(const TestCounts& other);
    bool operator==(const TestCounts&) const = default;
};

// "passed=10,failed=0,skipped=2": each key at most once, in any order, missing keys 0. Throws
// `crcr::Error` (usage) naming what is wrong.
TestCounts parse_test_counts(std::string_view text);

// The counts of one JUnit XML report: every <testcase>, wherever it is nested under
// <testsuites>/<testsuite>, is failed when it has a <failure> or <error>, skipped when it has a
// <skipped>, passed otherwise. Throws `crcr::Error` with `source:line:column` when `xml` is not
// well-formed XML, and says so when it is XML but not a JUnit report.
TestCounts count_junit(std::string_view xml, std::string_view source);

} // namespace crcr
