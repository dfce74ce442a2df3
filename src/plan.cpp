#include "crcr/plan.hpp"

#include <algorithm>

namespace crcr {

std::vector<std::string> pull_request_labels(const Json& payload) {
    std::vector<std::string> names;
    const Json::json_pointer pointer("/pull_request/labels");
    if (!payload.contains(pointer) || !payload.at(pointer).is_array()) {
        return names;
    }
    for (const Json& label : payload.at(pointer)) {
        if (label.is_object() && label.contains("name") && label["name"].is_string()) {
            names.push_back(label["name"].get<std::string>());
        }
    }
    return names;
}

std::vector<std::string> handled_actions(std::string_view event) {
    if (event == "pull_request") {
        return {"opened", "reopened", "synchronize", "closed", "labeled"};
    }
    if (event == "check_run" || event == "check_suite") {
        return {"rerequested"};
    }
    return {};
}

Plan plan_event(const Allowlist& allowlist,
                std::string_view event,
                const Json& payload,
                std::string_view upstream) {
    Plan plan;
    plan.route = route_webhook(event, payload, upstream);
    const bool on_pull_request = event == "pull_request";
    const std::vector<std::string> labels = pull_request_labels(payload);
    const auto labelled = [&](const std::string& device) {
        return std::find(labels.begin(), labels.end(), "ciflow/crcr/" + device) != labels.end();
    };
    std::string added; // the label a `labeled` delivery adds
    if (plan.route.kind == Route::Kind::backfill) {
        added = payload.at("/label/name"_json_pointer).get<std::string>(); // routed on it
    }
    std::string rerun_repo; // check_run: the downstream repository its name gives
    const Json::json_pointer check_name("/check_run/name");
    if (payload.contains(check_name) && payload.at(check_name).is_string()) {
        rerun_repo = check_run_repo(payload.at(check_name).get<std::string>());
    }
    for (const AllowlistEntry& entry : allowlist.entries) {
        PlanRow row{.repo = entry.repo, .level = entry.level, .device = entry.device};
        switch (plan.route.kind) {
        case Route::Kind::dispatch:
            row.dispatched = true;
            row.hud = entry.level >= Level::l2;
            row.check_run = on_pull_request
                            && (entry.level == Level::l4
                                || (entry.level == Level::l3 && labelled(entry.device)));
            row.blocks_merge = row.check_run && entry.level == Level::l4;
            break;
        case Route::Kind::backfill:
            row.check_run = entry.level == Level::l3 && added == "ciflow/crcr/" + entry.device;
            break;
        case Route::Kind::rerun:
            row.rerun =
                entry.level >= Level::l3 && (event == "check_suite" || entry.repo == rerun_repo);
            break;
        case Route::Kind::ignored:
            break;
        }
        plan.rows.push_back(std::move(row));
    }
    return plan;
}

} // namespace crcr
