// The allowlist as validate-allowlist, plan and relay serve read it: any bytes a pull request
// to pytorch/pytorch can put in .github/allowlist.yml.
#include "crcr/allowlist.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto check = crcr::check_allowlist(text);
    // A file compared with itself: every entry is found again, nothing changes.
    if (!crcr::compare_allowlists(check.allowlist, check.allowlist).empty())
        __builtin_trap();
    // Checking without the model finds the same, and counts what the model holds.
    const auto lean = crcr::check_allowlist(text, crcr::AllowlistModel::skip);
    if (lean.findings != check.findings || lean.level_counts != check.level_counts
        || !lean.allowlist.entries.empty())
        __builtin_trap();
    std::size_t listed = 0;
    for (const std::size_t n : check.level_counts)
        listed += n;
    if (listed != check.allowlist.entries.size())
        __builtin_trap();
    return 0;
}
