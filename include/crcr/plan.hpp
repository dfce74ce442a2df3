#pragma once

// What the relay would do with one upstream event, without a relay (relay-contract sections 2
// and 3): which repositories get a dispatch, which report to HUD, which get a check run on the
// pull request, which block its merge.

#include "crcr/allowlist.hpp"
#include "crcr/delivery.hpp"

#include <string>
#include <vector>

namespace crcr {

struct PlanRow {
    std::string repo;
    Level level = Level::l1;
    std::string device; // L3
    bool dispatched = false;
    bool hud = false;          // results shown on HUD (L2 and up)
    bool check_run = false;    // a check run on the pull request
    bool blocks_merge = false; // a failing or pending check run blocks the merge (L4)
    bool rerun = false;        // its downstream run is run again (check_run/check_suite, L3+)
};

struct Plan {
    Route route;
    std::vector<PlanRow> rows; // every repository of the allowlist, in its order
};

// The names of the labels on the pull request of a webhook `payload` (`pull_request.labels`);
// none when it has no pull request or the labels are not the expected shape.
std::vector<std::string> pull_request_labels(const Json& payload);

// The actions of `event` the relay acts on, in its order: pull_request opened, reopened,
// synchronize, closed and labeled (with a ciflow/crcr label); check_run and check_suite
// rerequested. None for push (it has no action) and for the events the relay ignores.
std::vector<std::string> handled_actions(std::string_view event);

// The relay's decisions for `event` with `payload` over `allowlist`: the route (section 2),
// then per level (section 3): L1 dispatch only; L2 also HUD; L3 also a check run when the pull
// request carries `ciflow/crcr/<device>`; L4 a check run on every pull request, blocking merge.
// A `labeled` delivery with a ciflow/crcr label dispatches nothing and adds that device's check
// runs. Pushes have no pull request, so no check runs. A rerequested check_run re-runs the run of
// the L3+ repository its name (crcr/<owner>/<repo>/...) gives; a rerequested check_suite those
// of every L3+ repository (the ones with a check run in the suite, which GitHub lists).
Plan plan_event(const Allowlist& allowlist,
                std::string_view event,
                const Json& payload,
                std::string_view upstream = "pytorch/pytorch");

} // namespace crcr
