#pragma once

// How `--help` looks: CLI11's layout, wrapped to the terminal's width, without CLI11's notes that
// only repeat the description ("Excludes: --payload", validator names such as "UINT in [1 - 9]").

#include "crcr/context.hpp"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>

namespace crcr {

class HelpFormatter final : public CLI::Formatter {
public:
    explicit HelpFormatter(std::size_t width) : m_width(width) {}

    std::string make_option(const CLI::Option* opt, bool is_positional) const override;
    std::string make_option_opts(const CLI::Option* opt) const override;
    std::string make_subcommand(const CLI::App* sub) const override;
    std::string make_description(const CLI::App* app) const override;

private:
    // `name` in the left column, `description` wrapped in the right one.
    std::string row(const std::string& name, const std::string& description) const;

    std::size_t m_width;
};

// The width help is wrapped to: COLUMNS when it is a number, else the terminal's (stdout), else
// 80; kept between 60 and 200 columns.
std::size_t help_width(const Context& ctx);

// `text` wrapped at spaces to lines of at most `width` columns (a longer word stays whole), as the
// right column of a table that starts at column `indent`: every line but the first starts with
// `indent` spaces, and the first is counted as starting there. The line breaks of `text` stay.
std::string wrap_text(const std::string& text, std::size_t width, std::size_t indent);

} // namespace crcr
