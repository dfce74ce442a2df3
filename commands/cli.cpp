#include "cli.hpp"

#include "callback.hpp"
#include "complete.hpp"
#include "completion.hpp"
#include "deliveries.hpp"
#include "dispatch_test.hpp"
#include "doctor.hpp"
#include "gen_workflow.hpp"
#include "help_format.hpp"
#include "option_checks.hpp"
#include "plan.hpp"
#include "relay.hpp"
#include "replay.hpp"
#include "simulate.hpp"
#include "validate_allowlist.hpp"
#include "verify_signature.hpp"

#include "crcr/error.hpp"
#include "crcr/text.hpp"
#include "crcr/version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace crcr {

namespace {

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The visible command closest to `typed`, if it is close enough to be a typo.
std::string closest_command(const CLI::App& app, std::string_view typed) {
    std::string best;
    std::size_t best_distance = 3; // more edits than this is not a typo
    for (const CLI::App* sub :
         app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
        const std::size_t d = edit_distance(typed, sub->get_name());
        if (d < best_distance) {
            best_distance = d;
            best = sub->get_name();
        }
    }
    return best;
}

std::string usage_message(const CLI::App* app, const CLI::Error& e) {
    std::string what = e.what();
    // git's grammar starts lowercase, but a positional's name (EVENT, SHELL) keeps its case.
    const bool capitalised_word = what.size() > 1 && what[1] >= 'A' && what[1] <= 'Z';
    if (!what.empty() && !capitalised_word) {
        what[0] = to_lower_ascii(what[0]);
    }
    while (!what.empty() && (what.back() == '.' || what.back() == '\n')) {
        what.pop_back();
    }
    // The word CLI11 stopped at, in the command that was being parsed.
    const CLI::App* parsed = app;
    while (!parsed->get_subcommands().empty()) {
        parsed = parsed->get_subcommands().front();
    }
    std::vector<std::string> rest = parsed->remaining();
    if (rest.empty()) {
        rest = app->remaining();
    }
    std::string command = "crcr"; // the command as far as it was parsed: "crcr relay serve"
    for (const CLI::App* sub = app; !sub->get_subcommands().empty();) {
        sub = sub->get_subcommands().front();
        command += " " + sub->get_name();
    }
    const bool has_commands =
        !parsed->get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }).empty();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && !rest.empty()
        && rest.front().starts_with('-')) {
        what = fmt::format("unknown option '{}'", rest.front().substr(0, rest.front().find('=')));
    } else if (has_commands && !rest.empty()) {
        // A word where a command of `parsed` goes (crcr's, or relay's, deliveries'...).
        what = fmt::format("'{}' is not a {} command", rest.front(), command);
        const std::string suggestion = closest_command(*parsed, rest.front());
        if (!suggestion.empty()) {
            what += fmt::format("; did you mean '{}'?", suggestion);
        }
    }
    return fmt::format("crcr: error: {}\nsee '{} --help'\n", what, command);
}

// `ctx` with its HTTP clients replaced by `http` and `concurrent_http`.
Context ctx_with_http(const Context& ctx,
                      HttpClient& http,
                      std::function<std::unique_ptr<ConcurrentHttpClient>()> concurrent_http) {
    return Context{ctx.in,
                   ctx.out,
                   ctx.err,
                   http,
                   std::move(concurrent_http),
                   ctx.env,
                   ctx.now,
                   ctx.sleep,
                   ctx.random_seed,
                   ctx.out_is_terminal,
                   ctx.err_is_terminal,
                   ctx.argv};
}

// `crcr help [COMMAND...]`, as in git and gh: the help of crcr or of a command.
void add_help(CLI::App& app, const CommandRunner& run) {
    auto words = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = app.add_subcommand("help", "Show the help of crcr or of a command");
    cmd->add_option("COMMAND", *words, "The command, e.g. gen-workflow or relay serve")
        ->type_name("");
    cmd->footer("Examples:\n  crcr help\n  crcr help gen-workflow\n  crcr help relay serve");
    cmd->callback([&app, run, words] {
        run([&app, words](Context& ctx) {
            const CLI::App* target = &app;
            std::string command = app.get_name();
            for (const std::string& word : *words) {
                const auto subs = target->get_subcommands([&word](const CLI::App* s) {
                    return s->get_name() == word && !s->get_group().empty();
                });
                if (subs.empty()) {
                    throw Error(
                        fmt::format(
                            "'{}' is not a {} command; see '{} --help'", word, command, command),
                        ExitCode::usage);
                }
                target = subs.front();
                command += " " + word;
            }
            // What `COMMAND --help` prints (App::help would describe `help` itself, the command
            // being run).
            fmt::print(
                ctx.out,
                "{}",
                target->get_formatter()->make_help(target, command, CLI::AppFormatMode::Normal));
            return ExitCode::ok;
        });
    });
}

} // namespace

namespace {

// What an `add_x` calls with the options it parsed: `run_command` on them, through `run`.
template<typename Options, ExitCode (*run_command)(const Options&, Context&)>
std::function<void(const Options&)> runner(const CommandRunner& run) {
    return [run](const Options& opts) {
        run([opts](Context& ctx) { return run_command(opts, ctx); });
    };
}

// Declares a command that runs one way: `add`, then `run_command` with its options.
template<typename Options,
         void (*add)(CLI::App&, std::function<void(const Options&)>),
         ExitCode (*run_command)(const Options&, Context&)>
void add_command(CLI::App& app, const CommandRunner& run) {
    add(app, runner<Options, run_command>(run));
}

// A crcr command: its name and what declares it on the root.
struct CommandEntry {
    std::string_view name;
    void (*add)(CLI::App& app, const CommandRunner& run);
    bool sees_all = false; // it looks at every command (help, completion): declare them all
};

// THE list of crcr's commands, in the order `crcr --help` shows them.
constexpr std::array k_commands = {
    CommandEntry{
        "validate-allowlist",
        add_command<ValidateAllowlistOptions, add_validate_allowlist, run_validate_allowlist>},
    CommandEntry{"simulate", add_command<SimulateOptions, add_simulate, run_simulate>},
    CommandEntry{"dispatch-test",
                 add_command<DispatchTestOptions, add_dispatch_test, run_dispatch_test>},
    CommandEntry{"doctor", add_command<DoctorOptions, add_doctor, run_doctor>},
    CommandEntry{"replay", add_command<ReplayOptions, add_replay, run_replay>},
    CommandEntry{"plan", add_command<PlanOptions, add_plan, run_plan>},
    CommandEntry{"relay",
                 [](CLI::App& app, const CommandRunner& run) {
                     add_relay(app,
                               runner<RelayServeOptions, run_relay_serve>(run),
                               runner<RelayStatusOptions, run_relay_status>(run),
                               runner<RelayTokenOptions, run_relay_token>(run));
                 }},
    CommandEntry{"deliveries",
                 [](CLI::App& app, const CommandRunner& run) {
                     add_deliveries(
                         app,
                         runner<DeliveriesListOptions, run_deliveries_list>(run),
                         runner<DeliveriesShowOptions, run_deliveries_show>(run),
                         runner<DeliveriesPullOptions, run_deliveries_pull>(run),
                         runner<DeliveriesRedeliverOptions, run_deliveries_redeliver>(run));
                 }},
    CommandEntry{"callback", add_command<CallbackOptions, add_callback, run_callback>},
    CommandEntry{"verify-signature",
                 add_command<VerifySignatureOptions, add_verify_signature, run_verify_signature>},
    CommandEntry{"gen-workflow",
                 add_command<GenWorkflowOptions, add_gen_workflow, run_gen_workflow>},
    CommandEntry{"completion", add_command<CompletionOptions, add_completion, run_completion>},
    // Hidden: the completion scripts ask it about `app`, the tree built here, at run time.
    CommandEntry{"__complete",
                 [](CLI::App& app, const CommandRunner& run) {
                     add_complete(app, [run, &app](const CompleteOptions& opts) {
                         run([opts, &app](Context& ctx) { return run_complete(app, opts, ctx); });
                     });
                 },
                 true},
    CommandEntry{"help", add_help, true},
};

// The commands `argv` needs declared. Declaring every command's options costs about as much as
// starting the process (a few hundred CLI11 objects), so, as git parses only the options of the
// builtin it runs: only the command being run, when the first word that is not an option names
// one (but `help` and `__complete`, which look at every command); none for `crcr --version`.
// Every command otherwise: what lists them (`crcr --help`, an option before the command that is
// not -v, --verbose or --version) or suggests one (a word that is not a command).
std::span<const CommandEntry> commands_needed(int argc, const char* const* argv) {
    const std::span<const CommandEntry> all(k_commands);
    bool version = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view word = argv[i];
        if (word == "-v" || word == "--verbose" || word == "--version") {
            version = version || word == "--version";
            continue;
        }
        if (word.starts_with('-')) {
            return all;
        }
        for (std::size_t command = 0; command < all.size(); ++command) {
            if (all[command].name == word) {
                return all[command].sees_all ? all : all.subspan(command, 1);
            }
        }
        return all;
    }
    return version ? all.first(0) : all;
}

} // namespace

void add_commands(CLI::App& app, const CommandRunner& run) {
    for (const CommandEntry& entry : k_commands) {
        entry.add(app, run);
    }
    refuse_empty_names(app);
}

int run_cli(int argc, const char* const* argv, Context& ctx) {
    CLI::App app{"crcr: tools for PyTorch's Cross-Repository CI Relay (CRCR)", "crcr"};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version",
                         fmt::format("crcr {}\nbuilt with {}", k_version, k_build_libraries));
    app.failure_message(usage_message);
    app.footer("Run 'crcr <command> --help' for a command's options and examples; 'man crcr' for "
               "everything.\nExit status: 0 ok, 1 failure, 2 usage, 4 authentication, 5 "
               "unreachable or transient.");
    // Before the commands are added: each takes its parent's formatter.
    app.formatter(std::make_shared<HelpFormatter>(help_width(ctx)));
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Trace every HTTP exchange on stderr (secrets as ***)");

    ExitCode result = ExitCode::ok;
    const CommandRunner run = [&](const std::function<ExitCode(Context&)>& command) {
        if (!verbose) {
            result = command(ctx);
            return;
        }
        TracingHttpClient traced(ctx.http, ctx.err);
        std::mutex trace_mutex;
        Context traced_ctx = ctx_with_http(ctx, traced, [&ctx, &trace_mutex] {
            return std::make_unique<TracingConcurrentHttpClient>(
                ctx.concurrent_http(), ctx.err, trace_mutex);
        });
        result = command(traced_ctx);
    };
    for (const CommandEntry& entry : commands_needed(argc, argv)) {
        entry.add(app, run);
    }
    refuse_empty_names(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e, ctx.out, ctx.err);
        return rc == 0 ? 0 : to_int(ExitCode::usage);
    } catch (const Error& e) {
        fmt::print(ctx.err, "crcr: error: {}\n", e.what());
        return to_int(e.code());
    } catch (const std::exception& e) {
        fmt::print(ctx.err, "crcr: error: internal error: {}\n", e.what());
        return to_int(ExitCode::failure);
    }
    return to_int(result);
}

} // namespace crcr
