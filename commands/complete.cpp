#include "complete.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <array>

namespace crcr {

namespace {

// `completion_values` hints are validators named with this prefix and the values after it: a
// validator's name is the one string CLI11 keeps for us without showing it in --help.
constexpr std::string_view k_hint_prefix = "crcr-complete:";

// Long option names that take a file whatever their type name says.
constexpr std::array<std::string_view, 4> k_file_options = {
    "output", "payload", "junit", "private-key"};

// Positional names that take a file (or a folder).
constexpr std::array<std::string_view, 4> k_file_positionals = {"FILE", "PATH", "DIR", "CAPTURE"};

// Where the walk over the words before the cursor ended.
struct WalkState {
    CLI::App* command = nullptr;     // the deepest command named
    std::vector<CLI::Option*> given; // options given so far, at any level
    CLI::Option* pending = nullptr;  // takes the word under the cursor as its value
    CLI::Option* greedy = nullptr;   // a multi-value option that takes words until an option
    std::size_t positionals = 0;     // positional words given to `command`
    bool options_ended = false;      // after "--"
};

std::vector<std::string> split_on_comma(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        out.emplace_back(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    return out;
}

// The values an option accepts or suggests: `completion_values` hints, and the set of a
// `CLI::IsMember` check, which describes itself as "{a,b,c}" ("{a->x,b->y}" for a map).
std::vector<std::string> fixed_values(CLI::Option& option) {
    std::vector<std::string> values;
    for (int i = 0;; ++i) {
        const CLI::Validator* validator = nullptr;
        try {
            validator = option.get_validator(i);
        } catch (const CLI::OptionNotFound&) {
            break; // CLI11 2.1 has no count of validators: this is the end of the list
        }
        const std::string& name = validator->get_name();
        if (name.starts_with(k_hint_prefix)) {
            for (std::string& value : split_on_comma(name.substr(k_hint_prefix.size()))) {
                values.push_back(std::move(value));
            }
            continue;
        }
        const std::string description = validator->get_description();
        if (description.size() < 2 || description.front() != '{' || description.back() != '}') {
            continue;
        }
        for (std::string& value :
             split_on_comma(std::string_view(description).substr(1, description.size() - 2))) {
            value.erase(std::min(value.find("->"), value.size()));
            values.push_back(std::move(value));
        }
    }
    return values;
}

bool takes_value(const CLI::Option& option) {
    return option.get_items_expected_max() > 0; // flags expect 0
}

bool takes_several(const CLI::Option& option) {
    return option.get_items_expected_max() > 1;
}

bool takes_file(const CLI::Option& option) {
    if (option.get_type_name().starts_with("FILE")) {
        return true;
    }
    if (!option.nonpositional()) {
        return std::find(k_file_positionals.begin(), k_file_positionals.end(), option.get_name())
               != k_file_positionals.end();
    }
    return std::any_of(
        option.get_lnames().begin(), option.get_lnames().end(), [](const std::string& name) {
            return name.ends_with("-file")
                   || std::find(k_file_options.begin(), k_file_options.end(), name)
                          != k_file_options.end();
        });
}

bool is_hidden(const CLI::Option& option) {
    return option.get_group().empty();
}

// The option `name` ("--long" or "-s") of `command` or, through fallthrough, of a command above.
CLI::Option* find_option(CLI::App* command, const std::string& name) {
    for (CLI::App* app = command; app != nullptr;
         app = app->get_fallthrough() ? app->get_parent() : nullptr) {
        if (CLI::Option* option = app->get_option_no_throw(name)) {
            return option;
        }
    }
    return nullptr;
}

// The positional option of `command` that the positional word number `index` goes to.
CLI::Option* positional_at(CLI::App& command, std::size_t index) {
    for (CLI::Option* option : command.get_options()) {
        if (!option->get_positional() || option->nonpositional()) {
            continue;
        }
        const auto capacity =
            static_cast<std::size_t>(std::max(option->get_items_expected_max(), 1));
        if (index < capacity) {
            return option;
        }
        index -= capacity;
    }
    return nullptr;
}

CLI::App* find_subcommand(CLI::App& command, const std::string& name) {
    const std::vector<CLI::App*> found = command.get_subcommands(
        [&name](CLI::App* sub) { return !sub->get_name().empty() && sub->check_name(name); });
    return found.empty() ? nullptr : found.front();
}

WalkState walk(CLI::App& app, std::span<const std::string> words) {
    WalkState state{.command = &app};
    for (const std::string& word : words) {
        if (state.pending != nullptr) {
            state.greedy = takes_several(*state.pending) ? state.pending : nullptr;
            state.pending = nullptr;
            continue;
        }
        if (state.options_ended) {
            ++state.positionals;
            continue;
        }
        if (word == "--") {
            state.options_ended = true;
            state.greedy = nullptr;
            continue;
        }
        if (word.size() > 1 && word.starts_with('-')) {
            state.greedy = nullptr;
            const std::size_t equals = word.find('=');
            CLI::Option* option = find_option(state.command, word.substr(0, equals));
            if (option != nullptr) {
                state.given.push_back(option);
                if (takes_value(*option) && equals == std::string::npos) {
                    state.pending = option;
                }
            }
            continue;
        }
        if (state.greedy != nullptr) {
            continue; // one more value of a multi-value option, as CLI11 reads it
        }
        if (CLI::App* sub = find_subcommand(*state.command, word)) {
            state.command = sub;
            state.positionals = 0;
            continue;
        }
        ++state.positionals;
    }
    return state;
}

// Adds `option`'s values that start with `typed`, each after `prefix` ("--format=" or nothing).
void add_values(Completion& out,
                CLI::Option& option,
                std::string_view typed,
                std::string_view prefix = {}) {
    for (const std::string& value : fixed_values(option)) {
        if (value.starts_with(typed)) {
            out.candidates.push_back({fmt::format("{}{}", prefix, value), ""});
        }
    }
    out.files = out.files || takes_file(option);
}

// Flags may be given twice too (CLI11 takes the last), but offering them again is noise.
bool can_repeat(const CLI::Option& option) {
    return takes_several(option);
}

bool excluded_by(const CLI::Option& option, const std::vector<CLI::Option*>& given) {
    const std::set<CLI::Option*> excludes = option.get_excludes();
    return std::any_of(given.begin(), given.end(), [&excludes](CLI::Option* other) {
        return excludes.contains(other);
    });
}

// The options of the command and of those above it (a subcommand's own --help hides its parent's)
// that start with `typed` and may still be given.
void add_options(Completion& out, const WalkState& state, std::string_view typed) {
    std::vector<std::string> names_seen;
    for (CLI::App* app = state.command; app != nullptr;
         app = app->get_fallthrough() ? app->get_parent() : nullptr) {
        for (CLI::Option* option : app->get_options()) {
            if (is_hidden(*option) || !option->nonpositional()) {
                continue;
            }
            const bool given =
                std::find(state.given.begin(), state.given.end(), option) != state.given.end();
            if ((given && !can_repeat(*option)) || excluded_by(*option, state.given)) {
                continue;
            }
            std::vector<std::string> names;
            for (const std::string& name : option->get_lnames()) {
                names.push_back("--" + name);
            }
            if (names.empty()) {
                for (const std::string& name : option->get_snames()) {
                    names.push_back("-" + name);
                }
            }
            for (std::string& name : names) {
                if (std::find(names_seen.begin(), names_seen.end(), name) != names_seen.end()) {
                    continue;
                }
                names_seen.push_back(name);
                if (name.starts_with(typed)) {
                    out.candidates.push_back({std::move(name), option->get_description()});
                }
            }
        }
    }
}

std::string one_line(std::string text) {
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    return text;
}

} // namespace

Completion complete(CLI::App& app, const std::vector<std::string>& words) {
    const std::string typed = words.empty() ? std::string() : words.back();
    const WalkState state =
        walk(app, std::span<const std::string>(words.data(), words.empty() ? 0 : words.size() - 1));
    Completion out;
    if (state.pending != nullptr) {
        add_values(out, *state.pending, typed);
        return out;
    }
    if (!state.options_ended && typed.starts_with('-')) {
        const std::size_t equals = typed.find('=');
        if (typed.starts_with("--") && equals != std::string::npos) {
            CLI::Option* option = find_option(state.command, typed.substr(0, equals));
            if (option != nullptr && takes_value(*option)) {
                add_values(out,
                           *option,
                           std::string_view(typed).substr(equals + 1),
                           std::string_view(typed).substr(0, equals + 1));
            }
            return out;
        }
        add_options(out, state, typed);
        return out;
    }
    if (state.greedy != nullptr) {
        add_values(out, *state.greedy, typed);
        return out;
    }
    if (state.positionals == 0 && !state.options_ended) {
        for (CLI::App* sub : state.command->get_subcommands(
                 [](CLI::App* s) { return !s->get_group().empty() && !s->get_name().empty(); })) {
            if (sub->get_name().starts_with(typed)) {
                out.candidates.push_back({sub->get_name(), sub->get_description()});
            }
        }
    }
    if (CLI::Option* positional = positional_at(*state.command, state.positionals)) {
        add_values(out, *positional, typed);
    }
    return out;
}

CLI::Validator completion_values(std::span<const std::string_view> values) {
    CLI::Validator hint([](const std::string&) { return std::string(); },
                        "",
                        fmt::format("{}{}", k_hint_prefix, fmt::join(values, ",")));
    hint.non_modifying();
    return hint;
}

std::string format_completion(const Completion& completion) {
    std::string out;
    for (const Completion::Candidate& candidate : completion.candidates) {
        out += one_line(candidate.value);
        if (!candidate.description.empty()) {
            out += '\t';
            out += one_line(candidate.description);
        }
        out += '\n';
    }
    if (completion.files) {
        out += ":files\n";
    }
    return out;
}

void add_complete(CLI::App& root, std::function<void(const CompleteOptions&)> on_parsed) {
    auto opts = std::make_shared<CompleteOptions>();
    CLI::App* cmd = root.add_subcommand(
        "__complete", "Print the completions of a command line for the shell scripts");
    cmd->group(""); // hidden: not in --help, the man page or `crcr <TAB>`
    cmd->add_option("WORD", opts->words, "The words after 'crcr', the last one under the cursor")
        ->type_name("");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_complete(CLI::App& root, const CompleteOptions& opts, Context& ctx) {
    std::vector<std::string> words = opts.words;
    if (words.empty()) {
        words.emplace_back(); // `crcr <TAB>`
    }
    fmt::print(ctx.out, "{}", format_completion(complete(root, words)));
    return ExitCode::ok;
}

} // namespace crcr
