#include "validate_allowlist.hpp"

#include "crcr/allowlist.hpp"
#include "crcr/files.hpp"
#include "crcr/report.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>
#include <climits>
#include <optional>

namespace crcr {

namespace {

constexpr std::string_view k_default_file = ".github/allowlist.yml";

struct CheckedFile {
    std::string source;
    FileFindings report;
    AllowlistCheck check;
    std::vector<AllowlistChange> changes;
};

std::string plural(std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string summary_line(const CheckedFile& file) {
    const std::size_t errors = count(file.report.findings, Severity::error);
    const std::size_t warnings = count(file.report.findings, Severity::warning);
    const std::array<std::size_t, 4>& levels = file.check.level_counts;
    const std::size_t total = levels[0] + levels[1] + levels[2] + levels[3];
    const std::string repos = fmt::format("{} ({} L1, {} L2, {} L3, {} L4)",
                                          total == 1 ? std::string("1 repository")
                                                     : fmt::format("{} repositories", total),
                                          levels[0],
                                          levels[1],
                                          levels[2],
                                          levels[3]);
    if (errors == 0 && warnings == 0) {
        return fmt::format("{}: ok, {}\n", file.report.path, repos);
    }
    return fmt::format("{}: {}, {}; {}\n",
                       file.report.path,
                       plural(errors, "error"),
                       plural(warnings, "warning"),
                       repos);
}

nlohmann::json change_to_json(const AllowlistChange& change) {
    nlohmann::json out = {{"kind", to_string(change.kind)}, {"repo", change.repo}};
    if (!change.base_repo.empty()) {
        out["base_repo"] = change.base_repo;
    }
    out["from"] = change.from ? nlohmann::json(to_string(*change.from)) : nlohmann::json(nullptr);
    out["to"] = change.to ? nlohmann::json(to_string(*change.to)) : nlohmann::json(nullptr);
    if (!change.from_device.empty() || !change.to_device.empty()) {
        out["from_device"] = change.from_device;
        out["to_device"] = change.to_device;
    }
    out["line"] = change.location.line;
    return out;
}

nlohmann::json file_to_json(const CheckedFile& file, bool with_changes) {
    nlohmann::json findings = nlohmann::json::array();
    for (const Finding& f : file.report.findings) {
        findings.push_back(to_json(f));
    }
    const std::array<std::size_t, 4>& levels = file.check.level_counts;
    nlohmann::json out = {
        {"path", file.report.path},
        {"errors", count(file.report.findings, Severity::error)},
        {"warnings", count(file.report.findings, Severity::warning)},
        {"repositories",
         {{"L1", levels[0]}, {"L2", levels[1]}, {"L3", levels[2]}, {"L4", levels[3]}}},
        {"findings", findings}};
    if (with_changes) {
        nlohmann::json changes = nlohmann::json::array();
        for (const AllowlistChange& change : file.changes) {
            changes.push_back(change_to_json(change));
        }
        out["changes"] = changes;
    }
    return out;
}

} // namespace

void add_validate_allowlist(CLI::App& parent,
                            std::function<void(const ValidateAllowlistOptions&)> on_parsed) {
    auto opts = std::make_shared<ValidateAllowlistOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "validate-allowlist",
        "Check the relay's allowlist (.github/allowlist.yml) as the relay reads it");
    cmd->add_option(
           "FILE",
           opts->files,
           "Allowlist files to check (default: .github/allowlist.yml; - for standard input)")
        ->type_name("");
    CLI::Option* format =
        cmd->add_option("--format",
                        opts->format,
                        "Output format (default: github when GITHUB_ACTIONS=true, else text)")
            ->check(CLI::IsMember({"text", "json", "github", "sarif"}))
            ->type_name("FORMAT");
    CLI::Option* json = cmd->add_flag_callback(
        "--json", [opts] { opts->format = "json"; }, "Same as --format json");
    json->excludes(format);
    cmd->add_flag("--strict", opts->strict, "Fail on warnings too");
    cmd->add_option("--base",
                    opts->base,
                    "Compare with this previous version (- for standard input): repos added, "
                    "removed, promoted, demoted")
        ->type_name("FILE");
    cmd->footer(R"(Examples:
  crcr validate-allowlist
  crcr validate-allowlist --strict --format sarif .github/allowlist.yml > allowlist.sarif
  git show origin/main:.github/allowlist.yml > /tmp/base.yml
  crcr validate-allowlist --base /tmp/base.yml .github/allowlist.yml

Exit status: 0 no errors (warnings allowed unless --strict), 1 errors found or a file
could not be read, 2 usage.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_validate_allowlist(const ValidateAllowlistOptions& opts, Context& ctx) {
    const std::vector<std::string> paths =
        opts.files.empty() ? std::vector<std::string>{std::string(k_default_file)} : opts.files;
    std::string format = opts.format;
    if (format.empty()) {
        format = ctx.env.get("GITHUB_ACTIONS").value_or("") == "true" ? "github" : "text";
    }

    std::optional<Allowlist> base;
    if (!opts.base.empty()) {
        const AllowlistCheck base_check = check_allowlist(read_input(opts.base, ctx.in));
        const std::size_t base_errors = count(base_check.findings, Severity::error);
        if (base_errors > 0) {
            fmt::print(ctx.err,
                       "crcr: warning: base '{}' has {}; comparing what could be read\n",
                       opts.base,
                       plural(base_errors, "error"));
        }
        base = base_check.allowlist;
    }

    std::vector<CheckedFile> files;
    files.reserve(paths.size());
    for (const std::string& path : paths) {
        CheckedFile& file = files.emplace_back();
        file.source = read_input(path, ctx.in);
        // The model is needed only to compare with the base.
        file.check =
            check_allowlist(file.source, base ? AllowlistModel::build : AllowlistModel::skip);
        file.report = FileFindings{path, file.source, file.check.findings};
        if (base) {
            file.changes = compare_allowlists(*base, file.check.allowlist);
            std::vector<Finding> extra = change_findings(file.changes, opts.base);
            file.report.findings.insert(file.report.findings.end(), extra.begin(), extra.end());
            // By line, as the file reads; what has no line here (removed repos) last.
            std::stable_sort(file.report.findings.begin(),
                             file.report.findings.end(),
                             [](const Finding& a, const Finding& b) {
                                 const auto key = [](const Finding& f) {
                                     return f.location.line == 0 ? INT_MAX : f.location.line;
                                 };
                                 return key(a) < key(b);
                             });
        }
    }

    std::size_t errors = 0;
    std::size_t warnings = 0;
    for (const CheckedFile& file : files) {
        errors += count(file.report.findings, Severity::error);
        warnings += count(file.report.findings, Severity::warning);
    }
    const bool failed = errors > 0 || (opts.strict && warnings > 0);

    if (format == "json") {
        nlohmann::json out = {
            {"version", 1}, {"ok", !failed}, {"errors", errors}, {"warnings", warnings}};
        out["files"] = nlohmann::json::array();
        for (const CheckedFile& file : files) {
            out["files"].push_back(file_to_json(file, base.has_value()));
        }
        fmt::print(
            ctx.out, "{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (format == "sarif") {
        std::vector<FileFindings> reports;
        reports.reserve(files.size());
        for (const CheckedFile& file : files) {
            reports.push_back(file.report);
        }
        fmt::print(ctx.out,
                   "{}\n",
                   to_sarif(reports, allowlist_rules())
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        const bool color = format == "text" && use_color(ctx.out_is_terminal, ctx.env);
        for (const CheckedFile& file : files) {
            fmt::print(ctx.out,
                       "{}",
                       format == "github" ? format_github(file.report)
                                          : format_text(file.report, color));
            fmt::print(ctx.out, "{}", summary_line(file));
        }
    }
    return failed ? ExitCode::failure : ExitCode::ok;
}

} // namespace crcr
