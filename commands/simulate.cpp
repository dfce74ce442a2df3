#include "simulate.hpp"

#include "complete.hpp"
#include "option_checks.hpp"
#include "payload_options.hpp"
#include "secret_options.hpp"

#include "crcr/delivery.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/utf8.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <thread>

namespace crcr {

namespace {

void write_deliveries(const SimulateOptions& opts,
                      const std::optional<std::string>& secret,
                      Random& random,
                      std::chrono::system_clock::time_point now,
                      Context& ctx) {
    std::optional<AtomicFileWriter> file;
    if (opts.output != "-") {
        file.emplace(opts.output, opts.force);
    }
    // One payload, then variants of it: each delivery a second later than the one before,
    // with its own delivery id and SHAs, built on every core.
    const Json payload = make_payload(opts.payload, random, now);
    const BodyVariants variants(payload.dump());
    write_capture_records(opts.payload.shape.event,
                          action_of(payload),
                          variants,
                          secret,
                          random,
                          opts.count,
                          std::max(1U, std::thread::hardware_concurrency()),
                          [&](std::string_view records) {
                              if (file) {
                                  file->write(records);
                              } else {
                                  fmt::print(ctx.out, "{}", records);
                              }
                          });
    if (file) {
        file->commit();
    }
    if (file) {
        fmt::print(ctx.err, "crcr: wrote {} deliveries to '{}'\n", opts.count, opts.output);
    }
}

ExitCode
send(const SimulateOptions& opts, const Delivery& delivery, const Json& payload, Context& ctx) {
    if (!opts.send_url.starts_with("http://") && !opts.send_url.starts_with("https://")) {
        throw Error(
            fmt::format("--send '{}' is not an http:// or https:// URL", redact_url(opts.send_url)),
            ExitCode::usage);
    }
    const Route route = route_webhook(delivery.event, payload);
    if (route.kind == Route::Kind::ignored) {
        fmt::print(
            ctx.err, "crcr: warning: the relay will ignore this delivery: {}\n", route.reason);
    }
    HttpRequest request{"POST", opts.send_url, delivery.headers, delivery.body};
    request.timeout =
        std::chrono::milliseconds(static_cast<long long>(std::llround(opts.timeout * 1000)));
    const HttpResponse response = ctx.http.send(request);
    fmt::print(ctx.out,
               "HTTP {} {} ({} ms, delivery {})\n{}{}",
               response.status,
               response.reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(response.elapsed).count(),
               delivery.id,
               response.body,
               response.body.empty() || response.body.ends_with('\n') ? "" : "\n");
    if (response.status >= 200 && response.status < 300) {
        return ExitCode::ok;
    }
    return response.status >= 500 ? ExitCode::unavailable : ExitCode::failure;
}

} // namespace

void add_simulate(CLI::App& parent, std::function<void(const SimulateOptions&)> on_parsed) {
    auto opts = std::make_shared<SimulateOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "simulate", "Build a realistic, signed GitHub webhook delivery; print, save or send it");
    cmd->add_option("EVENT",
                    opts->payload.shape.event,
                    "pull_request, push, check_run, check_suite or ping")
        ->required()
        ->check(completion_values(simulated_events())) // checked by build_payload, which says why
        ->type_name("");
    static const std::vector<std::string_view> k_actions = [] {
        std::vector<std::string_view> actions(pull_request_actions().begin(),
                                              pull_request_actions().end());
        actions.emplace_back("rerequested");
        return actions;
    }();
    cmd->add_option("ACTION",
                    opts->payload.shape.action,
                    "pull_request: opened, reopened, synchronize, closed, labeled, ...; "
                    "check_run, check_suite: rerequested (the default)")
        ->check(completion_values(k_actions))
        ->type_name("");
    add_payload_options(*cmd, opts->payload, "--repo");

    const std::string delivery_group = "Delivery";
    cmd->add_option(
           "--delivery-id", opts->delivery_id, "X-GitHub-Delivery (default: a fresh UUID v4)")
        ->type_name("ID")
        ->group(delivery_group);
    add_secret_options(*cmd, opts->secret, delivery_group);
    cmd->add_option("--seed", opts->seed, "Make ids, SHAs and numbers reproducible")
        ->type_name("N")
        ->transform(whole_number(k_any_u64))
        ->group(delivery_group);
    cmd->add_option("--now",
                    opts->now,
                    "Use this time for timestamps (2026-11-26T10:00:00Z or @<unix seconds>)")
        ->type_name("TIME")
        ->group(delivery_group);

    const std::string output_group = "Output";
    auto* include = cmd->add_flag("--include,-i",
                                  opts->include,
                                  "Print the HTTP request: headers, then the body")
                        ->group(output_group);
    auto* as_dispatch =
        cmd->add_flag("--as-dispatch",
                      opts->as_dispatch,
                      "Print the repository_dispatch event a downstream job sees as github.event")
            ->group(output_group);
    include->excludes(as_dispatch);
    cmd->add_option(
           "--downstream", opts->downstream, "With --as-dispatch: the downstream repository")
        ->type_name("OWNER/NAME")
        ->group(output_group);
    auto* output =
        cmd->add_option(
               "--output,-o",
               opts->output,
               "Write capture records (JSON Lines) that crcr replay reads; - for standard output")
            ->type_name("FILE")
            ->group(output_group);
    cmd->add_flag("--force", opts->force, "Overwrite --output")->group(output_group);
    auto* count = cmd->add_option("--count", opts->count, "Write N distinct deliveries to --output")
                      ->type_name("N")
                      ->transform(whole_number({1, 10'000'000}))
                      ->group(output_group);
    count->needs(output);
    auto* send = cmd->add_option("--send",
                                 opts->send_url,
                                 "POST the delivery to this URL (a relay's /github/webhook)")
                     ->type_name("URL")
                     ->group(output_group);
    send->excludes(as_dispatch);
    send->excludes(count);
    cmd->add_option("--timeout",
                    opts->timeout,
                    "Seconds to wait for --send's answer (default 10, as GitHub)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(output_group);
    cmd->footer(R"(Examples:
  crcr simulate pull_request opened --pr 123456 --label ciflow/crcr/crcr-test
  CRCR_WEBHOOK_SECRET_FILE=secret.txt crcr simulate push --send http://127.0.0.1:8080/github/webhook
  crcr simulate pull_request synchronize --seed 1 --now 2026-11-26T10:00:00Z --output pr.jsonl
  crcr simulate pull_request closed --merged --as-dispatch > event.json   # for act -e event.json
  crcr simulate push --count 10000 --output load.jsonl
  crcr simulate check_run --check-name 'crcr/my-org/pytorch-ci/PyTorch CI/build' --run-id 123

Without a secret the delivery is unsigned (and a note says so). The body goes to standard
output byte for byte, with no newline added unless standard output is a terminal.
Exit status: 0 ok (--send: a 2xx answer), 1 bad input or a 4xx answer, 2 usage, 5 no answer or 5xx.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_simulate(const SimulateOptions& opts, Context& ctx) {
    const auto now = opts.now.empty() ? ctx.now() : parse_time(opts.now);
    Random random(opts.seed ? *opts.seed : ctx.random_seed());
    const std::optional<std::string> secret = resolve_secret(opts.secret, ctx);
    if (!secret && !opts.as_dispatch) { // a repository_dispatch event is never signed
        fmt::print(
            ctx.err,
            "crcr: note: no webhook secret (CRCR_WEBHOOK_SECRET_FILE, CRCR_WEBHOOK_SECRET or "
            "--secret-file): the delivery is unsigned\n");
    }
    if (opts.payload.payload_file.empty() && opts.payload.shape.event == "pull_request"
        && opts.payload.shape.action.empty()) {
        throw Error(fmt::format("pull_request needs an action: {}",
                                fmt::join(pull_request_actions(), ", ")),
                    ExitCode::usage);
    }
    if (const auto problem = header_problem("X-GitHub-Delivery", opts.delivery_id)) {
        throw Error(fmt::format("--delivery-id cannot be sent: {}", *problem), ExitCode::usage);
    }
    if (!is_valid_utf8(opts.delivery_id)) {
        // A capture record is JSON: its delivery_id must be text.
        throw Error("--delivery-id is not UTF-8 text", ExitCode::usage);
    }
    if (opts.count > 1) {
        write_deliveries(opts, secret, random, now, ctx);
        return ExitCode::ok;
    }
    const Json payload = make_payload(opts.payload, random, now);
    const Delivery delivery = make_delivery(opts.payload.shape.event,
                                            action_of(payload),
                                            payload.dump(),
                                            secret,
                                            random,
                                            opts.delivery_id);
    if (opts.output == "-") {
        fmt::print(ctx.out, "{}\n", capture_record(delivery));
    } else if (!opts.output.empty()) {
        write_file_atomically(opts.output, capture_record(delivery) + "\n", opts.force);
        fmt::print(ctx.err, "crcr: wrote delivery {} to '{}'\n", delivery.id, opts.output);
    }
    if (!opts.send_url.empty()) {
        return send(opts, delivery, payload, ctx);
    }
    if (opts.as_dispatch) {
        fmt::print(ctx.out,
                   "{}\n",
                   dispatch_event(delivery, payload, opts.downstream, random, now).dump(2));
    } else if (opts.include) {
        fmt::print(ctx.out, "{}{}", http_request_text(delivery), ctx.out_is_terminal ? "\n" : "");
    } else if (opts.output.empty()) {
        fmt::print(ctx.out, "{}{}", delivery.body, ctx.out_is_terminal ? "\n" : "");
    }
    return ExitCode::ok;
}

} // namespace crcr
