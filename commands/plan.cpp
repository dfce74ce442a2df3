#include "plan.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/plan.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

namespace crcr {

namespace {

std::string_view yes_no(bool value) {
    return value ? "yes" : "-";
}

Json plan_json(const PlanOptions& opts, const Plan& plan) {
    constexpr std::string_view k_routes[] = {"dispatch", "backfill", "rerun", "ignored"};
    Json repos = Json::array();
    for (const PlanRow& row : plan.rows) {
        repos.push_back({{"repo", row.repo},
                         {"level", to_string(row.level)},
                         {"device", row.device.empty() ? Json() : Json(row.device)},
                         {"dispatch", row.dispatched},
                         {"hud", row.hud},
                         {"check_run", row.check_run},
                         {"blocks_merge", row.blocks_merge}});
    }
    return Json{{"event", opts.event},
                {"action", opts.action.empty() ? Json() : Json(opts.action)},
                {"route", k_routes[static_cast<int>(plan.route.kind)]},
                {"reason", plan.route.reason},
                {"repos", repos}};
}

void print_plan(const PlanOptions& opts, const Plan& plan, Context& ctx) {
    fmt::print(ctx.out,
               "{}{}: {}\n",
               opts.event,
               opts.action.empty() ? "" : " " + opts.action,
               plan.route.reason);
    std::size_t width = 10;
    for (const PlanRow& row : plan.rows) {
        width = std::max(width, row.repo.size());
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

} // namespace

void add_plan(CLI::App& parent, std::function<void(const PlanOptions&)> on_parsed) {
    auto opts = std::make_shared<PlanOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "plan",
        "Print what the relay would do with an event: dispatches, HUD, check runs, merge blocks");
    cmd->add_option("EVENT", opts->event, "pull_request, push, check_run or check_suite")
        ->required()
        ->type_name("");
    cmd->add_option(
           "ACTION", opts->action, "The pull_request action (opened, synchronize, labeled, ...)")
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
    Json payload;
    if (!opts.payload_file.empty()) {
        payload = parse_webhook_body(read_file(opts.payload_file),
                                     fmt::format("--payload '{}'", opts.payload_file));
    } else {
        PayloadShape shape;
        shape.event = opts.event;
        shape.action = opts.action;
        shape.labels = opts.labels;
        if (shape.event == "pull_request" && shape.action.empty()) {
            throw Error(
                "pull_request needs an action: opened, reopened, synchronize, closed, labeled, ...",
                ExitCode::usage);
        }
        if (shape.event != "pull_request" && shape.event != "push") {
            // check_run / check_suite: the relay routes on the action and the repository only
            payload =
                Json{{"action", opts.action}, {"repository", {{"full_name", "pytorch/pytorch"}}}};
        } else {
            Random random(1);
            payload = build_payload(shape, random, ctx.now());
        }
    }
    const Plan plan = plan_event(check.allowlist, opts.event, payload);
    if (opts.json) {
        fmt::print(ctx.out, "{}\n", plan_json(opts, plan).dump(2));
    } else {
        print_plan(opts, plan, ctx);
    }
    return ExitCode::ok;
}

} // namespace crcr
