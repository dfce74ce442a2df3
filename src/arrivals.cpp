#include "crcr/arrivals.hpp"

#include "crcr/capture.hpp"
#include "crcr/error.hpp"
#include "crcr/relay_store.hpp"
#include "crcr/replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

namespace crcr {

Arrivals
compare_arrivals(const std::vector<std::string>& inputs, std::istream& in, RelayStore& store) {
    Arrivals arrivals;
    ReplayInputs records(
        inputs, in, [&arrivals](const Error& e) { arrivals.unreadable.emplace_back(e.what()); });
    std::unordered_set<std::string> seen;
    std::string location;
    while (const auto value = records.next(location)) {
        ReplayRecord record;
        try {
            // A bare payload gets a placeholder event only to be read: it has no id to look for.
            record = parse_replay_record(value->text, location, "payload");
        } catch (const Error& e) {
            arrivals.unreadable.emplace_back(e.what());
            continue;
        }
        if (record.delivery_id.empty()) {
            arrivals.unreadable.push_back(
                fmt::format("{}: a {} without a delivery id: nothing to look for",
                            location,
                            format_name(record.format)));
            continue;
        }
        if (!seen.insert(record.delivery_id).second) {
            continue;
        }
        ++arrivals.deliveries;
        ArrivalRecord arrival{.delivery_id = std::move(record.delivery_id),
                              .event = std::move(record.event),
                              .action = std::move(record.action),
                              .location = location,
                              .answers = {}};
        arrival.answers = store.answers(arrival.delivery_id);
        if (arrival.answers.empty()) {
            arrivals.never_arrived.push_back(std::move(arrival));
        } else if (std::none_of(arrival.answers.begin(), arrival.answers.end(), [](int status) {
                       return status >= 200 && status < 300;
                   })) {
            arrivals.never_accepted.push_back(std::move(arrival));
        }
    }
    return arrivals;
}

} // namespace crcr
