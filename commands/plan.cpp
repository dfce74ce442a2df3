#include "plan.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/plan.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>

namespace crcr {

namespace {

std::string_view yes_no(bool value) {
    return value ? "yes" : "-";
}

// One event and action to plan for, with the labels on the pull request.
struct Planned {
    std::string action;
    std::vector<std::string> labels;
};

Json plan_json(const PlanOptions& opts, const Planned& planned, const Plan& plan) {
    constexpr std::string_view k_routes[] = {"dispatch", "backfill", "rerun", "ignored"};
    Json repos = Json::array();
    for (const PlanRow& row : plan.rows) {
        repos.push_back({{"repo", row.repo},
                         {"level", to_string(row.level)},
                         {"device", row.device.empty() ? Json() : Json(row.device)},
                         {"dispatch", row.dispatched},
                         {"hud", row.hud},
                         {"check_run", row.check_run},
                         {"blocks_merge", row.blocks_merge},
                         {"rerun", row.rerun}});
    }
    return Json{{"event", opts.event},
                {"action", planned.action.empty() ? Json() : Json(planned.action)},
                {"labels", planned.labels},
                {"route", k_routes[static_cast<int>(plan.route.kind)]},
                {"reason", plan.route.reason},
                {"repos", repos}};
}

void print_plan(const PlanOptions& opts, const Planned& planned, const Plan& plan, Context& ctx) {
    fmt::print(ctx.out,
               "{}{}: {}\n",
               opts.event,
               planned.action.empty() ? "" : " " + planned.action,
               plan.route.reason);
    std::size_t width = 10;
    for (const PlanRow& row : plan.rows) {
        width = std::max(width, row.repo.size());
    }
    if (plan.route.kind == Route::Kind::rerun) {
        // Nothing is dispatched or reported: only which downstream runs are run again.
        fmt::print(ctx.out, "{:<{}}  {:<5}  {}\n", "REPOSITORY", width, "LEVEL", "RERUN");
        std::size_t reruns = 0;
        for (const PlanRow& row : plan.rows) {
            fmt::print(ctx.out,
                       "{:<{}}  {:<5}  {}\n",
                       row.repo,
                       width,
                       to_string(row.level),
                       yes_no(row.rerun));
            reruns += row.rerun ? 1 : 0;
        }
        fmt::print(ctx.out, "{} re-run\n", reruns);
        return;
    }
    fmt::print(ctx.out,
               "{:<{}}  {:<5}  {:<8}  {:<3}  {:<9}  {}\n",
               "REPOSITORY",
               width,
               "LEVEL",
               "DISPATCH",
               "HUD",
               "CHECK RUN",
               "BLOCKS MERGE");
    std::size_t counts[4] = {0, 0, 0, 0};
    for (const PlanRow& row : plan.rows) {
        fmt::print(ctx.out,
                   "{:<{}}  {:<5}  {:<8}  {:<3}  {:<9}  {}\n",
                   row.repo,
                   width,
                   to_string(row.level),
                   yes_no(row.dispatched),
                   yes_no(row.hud),
                   yes_no(row.check_run),
                   yes_no(row.blocks_merge));
        counts[0] += row.dispatched ? 1 : 0;
        counts[1] += row.hud ? 1 : 0;
        counts[2] += row.check_run ? 1 : 0;
        counts[3] += row.blocks_merge ? 1 : 0;
    }
    fmt::print(ctx.out,
               "{} dispatched, {} on HUD, {} check run{}, {} blocking merge\n",
               counts[0],
               counts[1],
               counts[2],
               counts[2] == 1 ? "" : "s",
               counts[3]);
}

// The actions to plan for: the one given, or (without one) every action of the event the relay
// acts on; `labeled` once per L3 device of `allowlist` (its ciflow/crcr label added) unless a
// --label says which.
std::vector<Planned> what_to_plan(const PlanOptions& opts, const Allowlist& allowlist) {
    if (!opts.action.empty() || !opts.payload_file.empty()) {
        return {{opts.action, opts.labels}};
    }
    const std::vector<std::string> actions = handled_actions(opts.event);
    if (actions.empty()) {
        return {{"", opts.labels}}; // push, or an event the relay ignores
    }
    std::vector<Planned> plans;
    for (const std::string& action : actions) {
        if (action != "labeled" || !opts.labels.empty()) {
            plans.push_back({action, opts.labels});
            continue;
        }
        std::vector<std::string> devices;
        for (const AllowlistEntry& entry : allowlist.entries) {
            if (entry.level == Level::l3
                && std::find(devices.begin(), devices.end(), entry.device) == devices.end()) {
                devices.push_back(entry.device);
                plans.push_back({action, {"ciflow/crcr/" + entry.device}});
            }
        }
    }
    return plans;
}

// The webhook body to plan `planned` with: the --payload one, or one built as simulate does.
Json planned_payload(const PlanOptions& opts, const Planned& planned, Context& ctx) {
    if (!opts.payload_file.empty()) {
        return parse_webhook_body(read_file(opts.payload_file),
                                  fmt::format("--payload '{}'", opts.payload_file));
    }
    const std::span<const std::string_view> events = simulated_events();
    if (std::find(events.begin(), events.end(), opts.event) == events.end()) {
        // An event the relay ignores whatever its body.
        return Json{{"action", planned.action}, {"repository", {{"full_name", "pytorch/pytorch"}}}};
    }
    PayloadShape shape;
    shape.event = opts.event;
    shape.action = planned.action;
    shape.labels = planned.labels;
    Random random(1);
    return build_payload(shape, random, ctx.now());
}

} // namespace

void add_plan(CLI::App& parent, std::function<void(const PlanOptions&)> on_parsed) {
    auto opts = std::make_shared<PlanOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "plan",
        "Print what the relay would do with an event: dispatches, HUD, check runs, merge blocks");
    cmd->add_option("EVENT", opts->event, "pull_request, push, check_run or check_suite")
        ->required()
        ->type_name("");
    cmd->add_option("ACTION",
                    opts->action,
                    "The action (opened, synchronize, labeled, rerequested, ...); without one, "
                    "every action the relay acts on")
        ->type_name("");
    cmd->add_option("--label",
                    opts->labels,
                    "A label on the pull request (repeatable; labeled adds the last)")
        ->type_name("NAME");
    cmd->add_option("--allowlist",
                    opts->allowlist,
                    "The allowlist (default .github/allowlist.yml; - for standard input)")
        ->type_name("FILE");
    cmd->add_option("--payload",
                    opts->payload_file,
                    "Plan for this captured webhook body instead of a built one")
        ->type_name("FILE");
    cmd->add_flag("--json", opts->json, "Print the plan as one JSON document");
    cmd->footer(R"(Examples:
  crcr plan pull_request opened --allowlist .github/allowlist.yml
  crcr plan pull_request labeled --label ciflow/crcr/npu --json
  crcr plan pull_request        # opened, reopened, synchronize, closed, labeled per L3 device
  crcr plan push

Exit status: 0 the plan was printed (a warning when the allowlist has errors), 1 unreadable
input, 2 usage.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_plan(const PlanOptions& opts, Context& ctx) {
    const AllowlistCheck check = check_allowlist(read_input(opts.allowlist, ctx.in));
    const auto errors =
        std::count_if(check.findings.begin(), check.findings.end(), [](const Finding& f) {
            return f.severity == Severity::error;
        });
    if (errors > 0) {
        fmt::print(
            ctx.err,
            "crcr: warning: '{}' has {} errors: the relay may reject it or read it otherwise "
            "(crcr validate-allowlist '{}' lists them); planned with what it would read\n",
            opts.allowlist,
            errors,
            opts.allowlist);
    }
    const std::vector<Planned> plans = what_to_plan(opts, check.allowlist);
    Json documents = Json::array();
    for (const Planned& planned : plans) {
        const Plan plan =
            plan_event(check.allowlist, opts.event, planned_payload(opts, planned, ctx));
        if (opts.json) {
            documents.push_back(plan_json(opts, planned, plan));
            continue;
        }
        if (&planned != &plans.front()) {
            fmt::print(ctx.out, "\n");
        }
        print_plan(opts, planned, plan, ctx);
    }
    if (opts.json) {
        // One action: its plan; every action (no ACTION given): an array of them.
        const bool every = opts.action.empty() && !handled_actions(opts.event).empty()
                           && opts.payload_file.empty();
        fmt::print(ctx.out, "{}\n", (every ? documents : documents.front()).dump(2));
    }
    return ExitCode::ok;
}

} // namespace crcr
