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
    return 0;
}
