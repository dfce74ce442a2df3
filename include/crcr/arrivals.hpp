#pragma once

// Which of a set of delivery records ever reached a relay, by its state: `crcr relay status
// --compare`. The records are what `crcr deliveries pull` writes (GitHub's own list of what it
// sent) or crcr capture records; the state is `crcr relay serve`'s.

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace crcr {

class RelayStore;

struct ArrivalRecord {
    std::string delivery_id;
    std::string event;
    std::string action;
    std::string location;     // "file:line" of its first record
    std::vector<int> answers; // the relay's, oldest first; empty: it never arrived
};

struct Arrivals {
    std::size_t deliveries = 0;                // distinct delivery ids read
    std::vector<ArrivalRecord> never_arrived;  // in the order read
    std::vector<ArrivalRecord> never_accepted; // arrived, never answered 2xx
    std::vector<std::string> unreadable;       // what could not be read, naming file:line
};

// Reads every record of `inputs` (files, folders, "-" for `in`; as `crcr replay` reads them)
// and looks each delivery id up in `store`, once per id (GitHub lists a redelivery as its own
// entry with the same id). A bare payload, which has no delivery id, is unreadable here.
Arrivals
compare_arrivals(const std::vector<std::string>& inputs, std::istream& in, RelayStore& store);

} // namespace crcr
