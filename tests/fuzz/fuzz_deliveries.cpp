// What `crcr deliveries` reads from outside: GitHub's deliveries list and delivery records, its
// Link header, the relay's recorded answers (read_attempt), a --since value and the lines of a
// --state file. Each input is given to every parser: a parse either succeeds or throws
// crcr::Error, and what parses is consistent.
#include "crcr/deliveries.hpp"
#include "crcr/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        for (const crcr::DeliverySummary& d : crcr::parse_delivery_list(text, "fuzz")) {
            const crcr::AttemptReading reading = crcr::read_attempt(d, std::string(text));
            if (reading.why.empty() || (d.status_code == 0 && crcr::needs_response_body(d))) {
                __builtin_trap();
            }
        }
    } catch (const crcr::Error&) {
    }
    try {
        const crcr::DeliveryRecord record = crcr::parse_delivery_record(text, "fuzz");
        if (!record.request_headers.is_object()) {
            __builtin_trap();
        }
    } catch (const crcr::Error&) {
    }
    if (const auto cursor = crcr::next_cursor(text)) {
        if (cursor->size() > text.size()) {
            __builtin_trap();
        }
    }
    try {
        (void)crcr::parse_since(text, std::chrono::system_clock::time_point{});
    } catch (const crcr::Error&) {
    }
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\n', start);
        lines.emplace_back(text.substr(start, end - start));
        start = end == std::string_view::npos ? text.size() : end + 1;
    }
    try {
        const crcr::RedeliveryState state = crcr::parse_redelivery_state(lines, "fuzz");
        if (state.by_guid.size() > lines.size()) {
            __builtin_trap();
        }
        // Any state with any list decides without throwing.
        crcr::DeliverySummary d;
        d.guid = state.by_guid.empty() ? "g" : state.by_guid.begin()->first;
        d.status = "failed to connect";
        (void)crcr::decide_redeliveries(
            {d}, {}, state, [](std::uint64_t) { return std::optional<std::string>(); });
    } catch (const crcr::Error&) {
    }
    return 0;
}
