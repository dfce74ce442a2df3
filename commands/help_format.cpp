#include "help_format.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace crcr {

namespace {

constexpr std::size_t k_min_width = 60;
constexpr std::size_t k_max_width = 200;

} // namespace

std::string wrap_text(const std::string& text, std::size_t width, std::size_t indent) {
    // The first line starts at column `indent` too (the caller wrote what is left of it).
    std::string out(indent, ' ');
    std::size_t line_start = 0; // where the current output line starts in `out`
    std::size_t start = 0;
    const auto column = [&] { return out.size() - line_start; };
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        // One input line, word by word.
        std::size_t at = start;
        bool first_word = true;
        while (at < end) {
            const std::size_t word_end = std::min(end, text.find(' ', at));
            const std::string_view word(text.data() + at, word_end - at);
            if (!word.empty()) {
                if (!first_word && column() + 1 + word.size() > width) {
                    out += '\n';
                    line_start = out.size();
                    out.append(indent, ' ');
                } else if (!first_word) {
                    out += ' ';
                }
                out += word;
                first_word = false;
            }
            at = word_end + 1;
        }
        if (end == text.size()) {
            break;
        }
        out += '\n';
        line_start = out.size();
        out.append(indent, ' ');
        start = end + 1;
    }
    return out.substr(indent);
}

std::string HelpFormatter::row(const std::string& name, const std::string& description) const {
    const std::size_t column = get_column_width();
    std::string out = "  " + name;
    if (!description.empty()) {
        if (out.size() >= column) {
            out += '\n';
            out.append(column, ' ');
        } else {
            out.append(column - out.size(), ' ');
        }
        // At least 20 columns for the text, however narrow the terminal.
        out += wrap_text(description, std::max(m_width, column + 20), column);
    }
    return out + "\n";
}

std::string HelpFormatter::make_option(const CLI::Option* opt, bool is_positional) const {
    return row(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt));
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
    // The value's name only: the descriptions say what the values, limits and conflicts are.
    std::string out;
    if (opt->get_type_size() != 0) {
        std::string type = opt->get_type_name();
        type = type.substr(0, type.find(':')); // "N:UINT in [1 - 7200]" -> "N"
        if (!type.empty()) {
            out += " " + type;
        }
        if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) {
            out += " ...";
        }
        if (opt->get_required()) {
            out += " (required)";
        }
    }
    return out;
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
    return row(sub->get_display_name(true), sub->get_description());
}

std::string HelpFormatter::make_description(const CLI::App* app) const {
    const std::string description = app->get_description();
    return description.empty() ? std::string() : wrap_text(description, m_width, 0) + "\n";
}

std::size_t help_width(const Context& ctx) {
    std::size_t width = 80;
    const std::string columns = ctx.env.get("COLUMNS").value_or("");
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(columns.data(), columns.data() + columns.size(), value);
    if (ec == std::errc() && end == columns.data() + columns.size() && !columns.empty()) {
        width = value;
    } else if (ctx.out_is_terminal) {
        winsize size{};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
            width = size.ws_col;
        }
    }
    return std::clamp(width, k_min_width, k_max_width);
}

} // namespace crcr
