#include "crcr/junit.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <pugixml.hpp>

namespace crcr {

namespace {

// Line and column (1-based) of byte `offset` in `text`.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    const std::string_view before = text.substr(0, offset);
    const std::size_t line =
        static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n')) + 1;
    const std::size_t newline = before.rfind('\n');
    return {line, newline == std::string_view::npos ? offset + 1 : offset - newline};
}

TestCounts count_cases(const pugi::xml_node& node) {
    TestCounts counts;
    for (const pugi::xml_node& child : node.children()) {
        const std::string_view name = child.name();
        if (name == "testcase") {
            if (child.child("failure") || child.child("error")) {
                ++counts.failed;
            } else if (child.child("skipped")) {
                ++counts.skipped;
            } else {
                ++counts.passed;
            }
        } else if (name == "testsuite" || name == "testsuites") {
            counts += count_cases(child);
        }
    }
    return counts;
}

} // namespace

TestCounts& TestCounts::operator+=(const TestCounts& other) {
    passed += other.passed;
    failed += other.failed;
    skipped += other.skipped;
    return *this;
}

TestCounts parse_test_counts(std::string_view text) {
    TestCounts counts;
    bool seen[3] = {false, false, false};
    const auto fail = [&](const std::string& why) {
        return Error(
            fmt::format("--test-results '{}' {}: write passed=N,failed=N,skipped=N", text, why),
            ExitCode::usage);
    };
    if (text.empty()) {
        throw fail("is empty");
    }
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view part = text.substr(start, comma - start);
        start = comma + 1;
        const std::size_t eq = part.find('=');
        const std::string_view key = part.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
        std::uint64_t* target = nullptr;
        int index = 0;
        if (key == "passed") {
            target = &counts.passed;
        } else if (key == "failed") {
            target = &counts.failed;
            index = 1;
        } else if (key == "skipped") {
            target = &counts.skipped;
            index = 2;
        } else {
            throw fail(fmt::format("has an unknown key '{}'", key));
        }
        if (seen[index]) {
            throw fail(fmt::format("gives '{}' twice", key));
        }
        seen[index] = true;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), *target);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
            throw fail(fmt::format("has '{}={}', not a count", key, value));
        }
    }
    return counts;
}

TestCounts count_junit(std::string_view xml, std::string_view source) {
    pugi::xml_document document;
    const pugi::xml_parse_result parsed = document.load_buffer(xml.data(), xml.size());
    if (!parsed) {
        const auto [line, column] = line_column(xml, static_cast<std::size_t>(parsed.offset));
        throw Error(fmt::format(
            "{}:{}:{}: not well-formed XML: {}", source, line, column, parsed.description()));
    }
    const pugi::xml_node root = document.document_element();
    const std::string_view name = root.name();
    if (name != "testsuites" && name != "testsuite") {
        throw Error(
            fmt::format("{}: not a JUnit report: its root element is <{}>, not <testsuites> "
                        "or <testsuite>",
                        source,
                        name));
    }
    return count_cases(document);
}

} // namespace crcr
