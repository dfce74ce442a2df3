#pragma once

// The checks every command's options share. Each number on the command line goes through
// `real_number` or `whole_number`, with its range stated where the option is declared: a value
// out of range, not finite or not a plain decimal is a usage error (exit 2) that says the range
// as people write it.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>

namespace crcr {

// The accepted values of a real-number option, both ends included.
struct RealRange {
    double min;
    double max;
};

// Durations (--timeout, --max-time, ...): a millisecond to a week.
inline constexpr RealRange k_seconds{0.001, 604'800};
// Time allowed for waiting, where none at all is allowed too (--max-wait).
inline constexpr RealRange k_wait_seconds{0, k_seconds.max};
// Rates (--rate): one every 1000 seconds to a million a second.
inline constexpr RealRange k_per_second{0.001, 1'000'000};

// The accepted values of a whole-number option, both ends included.
struct WholeRange {
    std::uint64_t min;
    std::uint64_t max;
};

// Any 64-bit unsigned number (--seed).
inline constexpr WholeRange k_any_u64{0, std::numeric_limits<std::uint64_t>::max()};
// A GitHub id (--installation-id): positive, within GitHub's signed 64-bit ids.
inline constexpr WholeRange k_github_id{1, std::uint64_t{std::numeric_limits<std::int64_t>::max()}};

// A finite decimal number (fractions and exponents allowed: "0.5", "1e3") within `range`.
// Refuses "nan", "inf", hexadecimal, a sign where negatives are out of range, and anything
// after the number; its message states the range, e.g. "'nan' is not a number from 0.001 to
// 604800".
CLI::Validator real_number(RealRange range);

// A whole number in decimal digits within `range` (no sign, no "0x", no exponent). It rewrites
// the value without leading zeros, so CLI11's conversion (which would read "010" as octal)
// reads the number the user wrote. Declare it with `->transform`, since it may change the text.
CLI::Validator whole_number(WholeRange range);

// Makes every option of `app` and its subcommands whose value names a file, a URL or a
// repository (type names FILE, URL, FILE|URL, GIT_URL, OWNER/NAME) refuse an empty value: an
// empty --output or --api-url would otherwise fall back to the default without a word.
void refuse_empty_names(CLI::App& app);

} // namespace crcr
