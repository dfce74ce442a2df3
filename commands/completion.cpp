#include "completion.hpp"

#include "crcr/completion_scripts.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

namespace crcr {

void add_completion(CLI::App& parent, std::function<void(const CompletionOptions&)> on_parsed) {
    auto opts = std::make_shared<CompletionOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "completion", "Print the shell completion script for bash, zsh or fish");
    cmd->add_option("SHELL", opts->shell, "bash, zsh or fish")
        ->required()
        ->check(CLI::IsMember({"bash", "fish", "zsh"}))
        ->type_name("");
    cmd->footer(R"(Examples:
  source <(crcr completion bash)          # in ~/.bashrc
  crcr completion zsh > "${fpath[1]}/_crcr"
  crcr completion fish > ~/.config/fish/completions/crcr.fish

The scripts ask crcr itself what to offer (commands, options, their values, files), so they
never go stale. 'cmake --install' and the .deb install them where each shell looks.
Exit status: 0 ok, 2 usage.)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

std::string_view completion_script(std::string_view shell) {
    if (shell == "bash") {
        return k_bash_completion;
    }
    if (shell == "zsh") {
        return k_zsh_completion;
    }
    if (shell == "fish") {
        return k_fish_completion;
    }
    return {};
}

ExitCode run_completion(const CompletionOptions& opts, Context& ctx) {
    fmt::print(ctx.out, "{}", completion_script(opts.shell));
    return ExitCode::ok;
}

} // namespace crcr
