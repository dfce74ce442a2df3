#pragma once

// What `crcr relay status` prints about the emulator's state: the totals, the latest deliveries
// with what became of each (dispatches, callbacks, check runs), the callbacks that match no
// delivery there, and with --compare which deliveries never arrived. Pure: the caller reads the
// store and prints.

#include "crcr/arrivals.hpp"
#include "crcr/payload.hpp"
#include "crcr/relay_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace crcr {

struct RelayStatus {
    std::string path; // the state's file
    std::int64_t deliveries = 0;
    std::int64_t dispatches = 0;
    std::int64_t callbacks = 0;
    std::int64_t check_runs = 0;
    std::vector<DeliveryStatus> recent; // newest first
    std::vector<CallbackRow> unmatched; // callbacks whose delivery is not in the state
};

// The totals of `store`, its `limit` most recent deliveries and unmatched callbacks.
RelayStatus read_relay_status(RelayStore& store, std::string path, std::size_t limit);

// The status as text: a line of totals, then a block per delivery.
std::string format_relay_status(const RelayStatus& status);

// The status as the JSON document of `relay status --json`.
Json relay_status_json(const RelayStatus& status);

// What `relay status --compare` found, as text: a verdict line, then the deliveries that never
// arrived and those never answered 2xx (what could not be read is the caller's to report).
std::string format_arrivals(const std::string& path, const Arrivals& arrivals);

// The same as the JSON document of `relay status --compare --json`.
Json arrivals_json(const std::string& path, const Arrivals& arrivals);

} // namespace crcr
