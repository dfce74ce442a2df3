#include "payload_options.hpp"

#include "option_checks.hpp"

#include "crcr/files.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace crcr {

void add_payload_options(CLI::App& cmd, PayloadOptions& opts, const std::string& repo_flag) {
    const std::string shape_group = "Payload shape";
    const std::size_t before = cmd.get_options().size(); // the builder's options come next
    cmd.add_option(
           repo_flag, opts.shape.repo, "Repository the event happens in (default pytorch/pytorch)")
        ->type_name("OWNER/NAME")
        ->group(shape_group);
    cmd.add_option("--sender", opts.shape.sender, "Login of the user who acted (default octocat)")
        ->type_name("LOGIN")
        ->group(shape_group);
    cmd.add_option("--pr", opts.shape.pr, "Pull request number")
        ->transform(whole_number({1, 2'147'483'647}))
        ->type_name("N")
        ->group(shape_group);
    cmd.add_option("--title", opts.shape.title, "Pull request title")->group(shape_group);
    cmd.add_option("--head-sha", opts.shape.head_sha, "Head commit SHA (synchronize's 'after')")
        ->type_name("SHA")
        ->group(shape_group);
    cmd.add_option("--base-sha", opts.shape.base_sha, "Base commit SHA")
        ->type_name("SHA")
        ->group(shape_group);
    cmd.add_option("--head-ref", opts.shape.head_ref, "Head branch")
        ->type_name("BRANCH")
        ->group(shape_group);
    cmd.add_option("--base-ref", opts.shape.base_ref, "Base branch (default main)")
        ->type_name("BRANCH")
        ->group(shape_group);
    cmd.add_option("--head-repo",
                   opts.shape.head_repo,
                   "Head repository, a fork (default: the same repository)")
        ->type_name("OWNER/NAME")
        ->group(shape_group);
    cmd.add_option("--label",
                   opts.shape.labels,
                   "Label on the pull request (repeatable; labeled adds the last)")
        ->type_name("NAME")
        ->group(shape_group);
    cmd.add_flag("--merged", opts.shape.merged, "closed: the pull request was merged")
        ->group(shape_group);
    cmd.add_option("--ref",
                   opts.shape.ref,
                   "push: the full ref (default refs/heads/main; refs/tags/v1 for a tag)")
        ->type_name("REF")
        ->group(shape_group);
    cmd.add_option("--before", opts.shape.before, "push: SHA before (40 zeros: a new branch)")
        ->type_name("SHA")
        ->group(shape_group);
    cmd.add_option("--after", opts.shape.after, "push: SHA after")
        ->type_name("SHA")
        ->group(shape_group);
    cmd.add_flag(
           "--deleted", opts.shape.deleted, "push: the branch was deleted ('after' is 40 zeros)")
        ->group(shape_group);
    cmd.add_flag("--forced", opts.shape.forced, "push: a force push")->group(shape_group);
    cmd.add_option("--check-name",
                   opts.shape.check_name,
                   "check_run: the check run's name (default crcr/pytorch/crcr-test/PyTorch "
                   "CI/build, as the relay names a downstream job's)")
        ->type_name("NAME")
        ->group(shape_group);
    cmd.add_option("--run-id",
                   opts.shape.run_id,
                   "check_run: the downstream run in external_id (RUN_ID:PR), which the relay "
                   "re-runs")
        ->type_name("N")
        ->transform(whole_number(k_github_id))
        ->group(shape_group);
    cmd.add_option("--check-suite-id",
                   opts.shape.check_suite_id,
                   "check_run, check_suite: the check suite's id")
        ->type_name("N")
        ->transform(whole_number(k_github_id))
        ->group(shape_group);
    CLI::Option* payload =
        cmd.add_option("--payload",
                       opts.payload_file,
                       "Start from this captured webhook body instead of the built-in one")
            ->type_name("FILE")
            ->group(shape_group);
    const std::vector<CLI::Option*> options = cmd.get_options();
    for (std::size_t i = before; i < options.size(); ++i) {
        if (options[i] != payload) {
            payload->excludes(options[i]); // the captured body decides its own shape
        }
    }
    cmd.add_option("--set",
                   opts.sets,
                   "Override a field: PATH=VALUE, VALUE as JSON when it parses (repeatable)")
        ->type_name("PATH=VALUE")
        ->group(shape_group);
}

Json make_payload(const PayloadOptions& opts,
                  Random& random,
                  std::chrono::system_clock::time_point now) {
    Json payload = opts.payload_file.empty()
                       ? build_payload(opts.shape, random, now)
                       : parse_webhook_body(read_file(opts.payload_file),
                                            fmt::format("--payload '{}'", opts.payload_file));
    for (const std::string& assignment : opts.sets) {
        const auto [path, value] = parse_assignment(assignment);
        set_path(payload, path, value);
    }
    return payload;
}

} // namespace crcr
