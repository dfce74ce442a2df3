#include "gen_workflow.hpp"

#include "option_checks.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"
#include "crcr/report.hpp"
#include "crcr/shell.hpp"
#include "crcr/version.hpp"
#include "crcr/workflow_check.hpp"
#include "crcr/yaml_writer.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <array>
#include <filesystem>

namespace crcr {

namespace {

constexpr std::string_view k_default_workflow_name = "PyTorch CI";

// A value GitHub will show or run must be text: valid UTF-8 (yaml::double_quoted says where not).
void require_option_text(std::string_view option, const std::string& value) {
    if (value.empty()) {
        throw Error(fmt::format("{} is empty", option), ExitCode::usage);
    }
    try {
        static_cast<void>(yaml::double_quoted(value));
    } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", option, e.what()), ExitCode::usage);
    }
}

Level level_from_option(const std::string& level) {
    for (const Level l : {Level::l1, Level::l2, Level::l3, Level::l4}) {
        if (to_string(l) == level) {
            return l;
        }
    }
    throw Error(fmt::format("unknown level '{}': the relay's levels are L1, L2, L3 and L4", level),
                ExitCode::usage);
}

// How the findings of one checked file are kept for printing.
struct CheckedWorkflowFile {
    std::string source;
    FileFindings report;
    std::string diff; // how a generated file differs from what its header generates now
};

std::string count_of(std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// `generated-drift` for a file whose header records how it was generated: the options are read
// back with this very command line, the workflow generated again and compared (`diff` says how
// it differs). A note: editing the generated file is normal.
std::vector<Finding>
workflow_drift(const std::string& path, const std::string& text, Context& ctx, std::string& diff) {
    std::string why;
    const std::optional<WorkflowHeader> header = read_workflow_header(text, &why);
    const auto problem = [](std::string message) {
        return std::vector<Finding>{
            Finding{Severity::note, "generated-drift", std::move(message), {1, 1, 0}}};
    };
    if (!header) {
        return why.empty() ? std::vector<Finding>{}
                           : problem(fmt::format("the header's options cannot be read ({}); "
                                                 "generate the file again",
                                                 why));
    }
    GenWorkflowOptions opts;
    CLI::App app;
    add_gen_workflow(app, [&opts](const GenWorkflowOptions& parsed) { opts = parsed; });
    std::vector<std::string> args = {"crcr", "gen-workflow"};
    args.insert(args.end(), header->arguments.begin(), header->arguments.end());
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& arg : args) {
        argv.push_back(arg.c_str());
    }
    std::string expected;
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
        if (opts.check || !opts.output.empty() || opts.force) {
            return problem("the header's options include --check, --output or --force, which "
                           "gen-workflow never records; generate the file again");
        }
        expected = render_workflow(make_workflow_spec(opts, ctx.in));
    } catch (const CLI::ParseError& e) {
        return problem(fmt::format("the header's options are not valid for this crcr ({}); "
                                   "generate the file again",
                                   e.what()));
    } catch (const Error& e) {
        return problem(fmt::format("cannot generate the file again to compare: {}", e.what()));
    }
    std::vector<std::string> command = {"crcr", "gen-workflow"};
    command.insert(command.end(), header->arguments.begin(), header->arguments.end());
    command.push_back("--output=" + path);
    command.emplace_back("--force");
    diff = drift_diff(text, expected);
    return drift_findings(text, expected, shell_join(command));
}

ExitCode run_workflow_check(const GenWorkflowOptions& opts, Context& ctx) {
    std::string format = opts.format;
    if (format.empty()) {
        format = ctx.env.get("GITHUB_ACTIONS").value_or("") == "true" ? "github" : "text";
    }
    std::vector<CheckedWorkflowFile> files;
    files.reserve(opts.files.size());
    for (const std::string& path : opts.files) {
        CheckedWorkflowFile& file = files.emplace_back();
        file.source = read_input(path, ctx.in);
        std::vector<Finding> findings = check_workflow(file.source);
        if (path != "-") {
            for (Finding& f : workflow_drift(path, file.source, ctx, file.diff)) {
                if (opts.strict) {
                    f.severity = Severity::error;
                }
                if (format == "github" && !file.diff.empty()) {
                    f.message += "\n" + file.diff; // annotations carry no other text
                }
                findings.push_back(std::move(f));
            }
        }
        file.report = FileFindings{path, file.source, std::move(findings)};
    }
    std::size_t errors = 0;
    for (const CheckedWorkflowFile& file : files) {
        errors += count(file.report.findings, Severity::error);
    }
    if (format == "json") {
        nlohmann::json out = {{"version", 1}, {"ok", errors == 0}, {"errors", errors}};
        out["files"] = nlohmann::json::array();
        for (const CheckedWorkflowFile& file : files) {
            nlohmann::json findings = nlohmann::json::array();
            for (const Finding& f : file.report.findings) {
                findings.push_back(to_json(f));
            }
            nlohmann::json entry = {{"path", file.report.path},
                                    {"errors", count(file.report.findings, Severity::error)},
                                    {"findings", findings}};
            if (!file.diff.empty()) {
                entry["diff"] = file.diff;
            }
            out["files"].push_back(std::move(entry));
        }
        fmt::print(
            ctx.out, "{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        const bool color = format == "text" && use_color(ctx.out_is_terminal, ctx.env);
        for (const CheckedWorkflowFile& file : files) {
            fmt::print(ctx.out,
                       "{}",
                       format == "github" ? format_github(file.report)
                                          : format_text(file.report, color));
            if (format == "text") {
                fmt::print(ctx.out, "{}", file.diff);
            }
            const std::size_t n = count(file.report.findings, Severity::error);
            fmt::print(ctx.out,
                       "{}: {}\n",
                       file.report.path,
                       n == 0 ? std::string("ok") : count_of(n, "error"));
        }
    }
    return errors == 0 ? ExitCode::ok : ExitCode::failure;
}

} // namespace

void add_gen_workflow(CLI::App& parent, std::function<void(const GenWorkflowOptions&)> on_parsed) {
    auto opts = std::make_shared<GenWorkflowOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "gen-workflow",
        "Write the downstream workflow that runs on the relay's dispatches (and reports back from "
        "L2), or check one");
    const std::string generate = "Generate";
    cmd->add_option("--runs-on",
                    opts->runs_on,
                    "Runner label of the job (repeatable: a runner must have every label; "
                    "default ubuntu-latest)")
        ->type_name("LABEL")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(generate);
    cmd->add_option("--build", opts->build, "Shell command of the build step")
        ->type_name("CMD")
        ->group(generate);
    cmd->add_option("--test", opts->test, "Shell command of the test step")
        ->type_name("CMD")
        ->group(generate);
    cmd->add_option("--steps-file",
                    opts->steps_file,
                    "YAML list of steps to run after the checkouts, instead of --build/--test")
        ->type_name("FILE")
        ->group(generate);
    cmd->add_option("--job-name",
                    opts->job_name,
                    "Name of the job, also the job name reported to the relay (default: ci)")
        ->type_name("NAME")
        ->group(generate);
    cmd->add_option("--timeout-minutes",
                    opts->timeout_minutes,
                    "Cancel the job after this many minutes (default: GitHub's, 360)")
        ->type_name("N")
        ->transform(whole_number({1, 7200}))
        ->group(generate);
    cmd->add_option(
           "--workflow-name", opts->workflow_name, "Name of the workflow (default: PyTorch CI)")
        ->type_name("NAME")
        ->group(generate);
    cmd->add_option("--level",
                    opts->level,
                    "The repository's allowlist level: L1 dispatch only; L2 and up report back "
                    "(default: L1)")
        ->type_name("LEVEL")
        ->transform(CLI::IsMember({"L1", "L2", "L3", "L4"}, CLI::ignore_case))
        ->group(generate);
    cmd->add_option("--callback",
                    opts->callback,
                    "How L2+ reports: crcr (crcr callback) or action (pytorch/test-infra's "
                    "action; the default)")
        ->type_name("KIND")
        ->check(CLI::IsMember({"crcr", "action"}))
        ->group(generate);
    cmd->add_option("--crcr-repo",
                    opts->crcr_repo,
                    "With --callback crcr: the GitHub repository whose action installs crcr (a "
                    "fork or mirror; default "
                        + std::string(k_github_repository) + ")")
        ->type_name("OWNER/NAME")
        ->group(generate);
    cmd->add_option("-o,--output",
                    opts->output,
                    "Write here instead of .github/workflows/pytorch_ci.yml (its folder must "
                    "exist; - for standard output)")
        ->type_name("FILE")
        ->group(generate);
    cmd->add_flag("-f,--force", opts->force, "Overwrite an existing file")->group(generate);

    const std::string check = "Check";
    cmd->add_flag("--check",
                  opts->check,
                  "Check the workflows FILE... for what the relay needs instead of generating")
        ->group(check);
    cmd->add_option("FILE", opts->files, "Workflows to check with --check (- for standard input)")
        ->type_name("")
        ->group(check);
    cmd->add_option("--format",
                    opts->format,
                    "Findings as text, json or github annotations (default: github when "
                    "GITHUB_ACTIONS=true, else text)")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"text", "json", "github"}))
        ->group(check);
    cmd->add_flag("--strict",
                  opts->strict,
                  "Fail when a generated file differs from what its header generates now (by "
                  "default a note: editing it is fine)")
        ->group(check);

    cmd->footer(R"(Examples:
  crcr gen-workflow --runs-on ubuntu-latest --build 'pip install -e .' --test 'pytest -x tests'
  crcr gen-workflow --level L2 --callback action --runs-on self-hosted --runs-on npu \
      --job-name 'npu-build' --timeout-minutes 240 --steps-file ci-steps.yml --force
  crcr gen-workflow --level L2 --callback crcr --build make --output - | less
  crcr gen-workflow --check .github/workflows/*.yml
  crcr gen-workflow --check --strict .github/workflows/pytorch_ci.yml   # hand edits fail too

Values are literal: a '${{' in a command, name or label is written so that GitHub does not
evaluate it (use the shell's $GITHUB_SHA and such in commands).
Exit status: 0 written, or no findings; 1 findings, invalid input, or a file could not be
read or written; 2 usage.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

std::vector<std::string> gen_workflow_arguments(const GenWorkflowOptions& opts) {
    std::vector<std::string> args;
    const auto add = [&args](std::string_view name, const std::string& value) {
        if (!value.empty()) {
            args.push_back(fmt::format("--{}={}", name, value));
        }
    };
    add("workflow-name", opts.workflow_name);
    add("job-name", opts.job_name);
    for (const std::string& label : opts.runs_on) {
        args.push_back("--runs-on=" + label);
    }
    if (opts.timeout_minutes > 0) {
        add("timeout-minutes", std::to_string(opts.timeout_minutes));
    }
    if (opts.level != "L1") {
        add("level", opts.level);
        add("callback", opts.callback.empty() ? std::string("action") : opts.callback);
    }
    add("crcr-repo", opts.crcr_repo);
    add("build", opts.build);
    add("test", opts.test);
    add("steps-file", opts.steps_file);
    return args;
}

WorkflowSpec make_workflow_spec(const GenWorkflowOptions& opts, std::istream& in) {
    WorkflowSpec spec;
    spec.level = level_from_option(opts.level);
    if (spec.level == Level::l1 && !opts.callback.empty()) {
        throw Error("--callback goes with --level L2 and up: at L1 the relay ignores callbacks",
                    ExitCode::usage);
    }
    spec.callback = spec.level == Level::l1   ? CallbackKind::none
                    : opts.callback == "crcr" ? CallbackKind::crcr
                                              : CallbackKind::action;
    if (!opts.crcr_repo.empty() && spec.callback != CallbackKind::crcr) {
        throw Error("--crcr-repo goes with --callback crcr", ExitCode::usage);
    }
    if (!opts.steps_file.empty() && (!opts.build.empty() || !opts.test.empty())) {
        throw Error("--steps-file replaces --build and --test: put those commands in the steps "
                    "file",
                    ExitCode::usage);
    }
    for (const std::string& label : opts.runs_on) {
        require_option_text("--runs-on", label);
    }
    spec.runs_on = opts.runs_on;
    if (!opts.workflow_name.empty()) {
        require_option_text("--workflow-name", opts.workflow_name);
        if (opts.workflow_name.find("${{") != std::string::npos) {
            throw Error("--workflow-name cannot contain '${{': GitHub rejects expressions in a "
                        "workflow's name",
                        ExitCode::usage);
        }
        spec.workflow_name = opts.workflow_name;
    } else {
        spec.workflow_name = std::string(k_default_workflow_name);
    }
    const std::array<std::pair<std::string_view, const std::string*>, 3> texts = {{
        {"--job-name", &opts.job_name},
        {"--build", &opts.build},
        {"--test", &opts.test},
    }};
    for (const auto& [name, value] : texts) {
        if (!value->empty()) {
            require_option_text(name, *value);
        }
    }
    spec.job_name = opts.job_name;
    spec.build = opts.build;
    spec.test = opts.test;
    if (!opts.crcr_repo.empty()) {
        if (const auto problem = full_name_problem(opts.crcr_repo)) {
            throw Error(fmt::format("--crcr-repo '{}': {}", opts.crcr_repo, *problem),
                        ExitCode::usage);
        }
    }
    spec.crcr_repo = opts.crcr_repo;
    spec.timeout_minutes = opts.timeout_minutes;
    if (!opts.steps_file.empty()) {
        spec.steps_yaml = read_input(opts.steps_file, in);
        spec.steps_name = opts.steps_file == "-" ? std::string("standard input") : opts.steps_file;
        if (spec.steps_yaml.empty()) {
            throw Error(fmt::format("{}: the steps file is empty", spec.steps_name));
        }
    }
    spec.arguments = gen_workflow_arguments(opts);
    return spec;
}

ExitCode run_gen_workflow(const GenWorkflowOptions& opts, Context& ctx) {
    if (opts.check) {
        const GenWorkflowOptions check_only{
            .check = true, .files = opts.files, .format = opts.format, .strict = opts.strict};
        if (!(opts == check_only)) {
            throw Error("--check takes only FILE... and --format: it checks workflows, it does "
                        "not generate one",
                        ExitCode::usage);
        }
        if (opts.files.empty()) {
            throw Error("--check needs the workflow files to check, e.g. "
                        "'crcr gen-workflow --check .github/workflows/pytorch_ci.yml'",
                        ExitCode::usage);
        }
        return run_workflow_check(opts, ctx);
    }
    if (!opts.files.empty()) {
        throw Error(fmt::format("'{}': files are for --check; to write the workflow elsewhere "
                                "use --output",
                                opts.files.front()),
                    ExitCode::usage);
    }
    if (!opts.format.empty() || opts.strict) {
        throw Error(fmt::format("{} goes with --check", opts.strict ? "--strict" : "--format"),
                    ExitCode::usage);
    }
    const WorkflowSpec spec = make_workflow_spec(opts, ctx.in);
    const std::string text = render_workflow(spec);
    if (opts.output == "-") {
        fmt::print(ctx.out, "{}", text);
        return ExitCode::ok;
    }
    std::string path = opts.output;
    if (path.empty()) {
        path = std::string(k_default_workflow_path);
        make_directories(std::filesystem::path(path).parent_path().string());
    }
    write_file_atomically(path, text, opts.force);
    fmt::print(ctx.err,
               "crcr: wrote '{}' ({}{}); check it any time with 'crcr gen-workflow --check {}'\n",
               path,
               to_string(spec.level),
               spec.callback == CallbackKind::none     ? ", no callbacks"
               : spec.callback == CallbackKind::action ? ", callbacks with the test-infra action"
                                                       : ", callbacks with crcr callback",
               shell_quote(path));
    return ExitCode::ok;
}

} // namespace crcr
