#pragma once

// Rendering findings for people and machines: compiler-style text with the source line and a
// caret, GitHub Actions workflow commands (annotations), JSON values and SARIF 2.1.0. Pure: each
// function returns what to print.

#include "crcr/finding.hpp"

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// The findings of one input file, with its text for source snippets.
struct FileFindings {
    std::string path; // as the user named it
    std::string_view source;
    std::vector<Finding> findings;
};

// `path:line:col: severity: message [rule]`, then for errors and warnings the source line and a
// caret under the subject, as compilers print them. ANSI colours when `color`.
std::string format_text(const FileFindings& file, bool color);

// One GitHub Actions workflow command per finding (`::error file=..,line=..,col=..,title=..::..`),
// escaped as the runner expects; notes become `::notice`.
std::string format_github(const FileFindings& file);

// `{"severity", "rule", "message", "line", "column", "repository"}` (repository null when the
// finding is about no single one): the shape `--format json` documents.
nlohmann::json to_json(const Finding& finding);

// A SARIF 2.1.0 log with one run of tool crcr over `files`, its rule table taken from `rules`;
// a result about one repository names it in `properties.repository`.
nlohmann::json to_sarif(std::span<const FileFindings> files, std::span<const Rule> rules);

// `text` safe to print on a terminal: control characters (ESC, BEL, NUL, line breaks, ...) that
// could move the cursor or retitle the window become "^[" style notation; tabs stay.
std::string printable(std::string_view text);

// How many findings of `severity` there are in `findings`.
std::size_t count(const std::vector<Finding>& findings, Severity severity);

} // namespace crcr
