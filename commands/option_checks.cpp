#include "option_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace crcr {

CLI::Validator real_number(RealRange range) {
    // fmt's shortest form: "604800", "0.001", never the 309 digits std::to_string gives DBL_MAX.
    const std::string bounds = fmt::format("{} to {}", range.min, range.max);
    CLI::Validator validator(
        [range, bounds](const std::string& text) {
            double value = 0;
            const char* const end = text.data() + text.size();
            const auto [stop, error] =
                std::from_chars(text.data(), end, value, std::chars_format::general);
            if (error != std::errc() || stop != end || !std::isfinite(value) || value < range.min
                || value > range.max) {
                return fmt::format("'{}' is not a number from {}", text, bounds);
            }
            return std::string();
        },
        fmt::format("[{}]", bounds),
        "real-number");
    return validator;
}

CLI::Validator whole_number(WholeRange range) {
    const std::string bounds = fmt::format("{} to {}", range.min, range.max);
    CLI::Validator validator(
        [range, bounds](std::string& text) {
            std::uint64_t value = 0;
            const char* const end = text.data() + text.size();
            const auto [stop, error] = std::from_chars(text.data(), end, value, 10);
            // from_chars takes a leading '-' for signed types only: "-1" stops at once.
            if (error != std::errc() || stop != end || value < range.min || value > range.max) {
                return fmt::format("'{}' is not a whole number from {}", text, bounds);
            }
            text = std::to_string(value);
            return std::string();
        },
        fmt::format("[{}]", bounds),
        "whole-number");
    return validator;
}

void refuse_empty_names(CLI::App& app) {
    constexpr std::array<std::string_view, 5> k_names = {
        "FILE", "URL", "FILE|URL", "GIT_URL", "OWNER/NAME"};
    const CLI::Validator non_empty(
        [](const std::string& text) {
            return text.empty() ? std::string("an empty value names nothing") : std::string();
        },
        "",
        "non-empty");
    for (CLI::Option* option : app.get_options()) {
        // get_type_name() adds ":<description>" of each validator that has one.
        const std::string type = option->get_type_name();
        if (std::find(k_names.begin(), k_names.end(), type.substr(0, type.find(':')))
            != k_names.end()) {
            option->check(non_empty);
        }
    }
    for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        refuse_empty_names(*sub);
    }
}

} // namespace crcr
