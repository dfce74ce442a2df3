#include "crcr/report.hpp"

#include "crcr/version.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace crcr {

namespace {

constexpr std::size_t k_max_snippet = 200; // longer lines are not echoed

std::string_view source_line(std::string_view source, int line) {
    std::size_t start = 0;
    for (int i = 1; i < line; ++i) {
        start = source.find('\n', start);
        if (start == std::string_view::npos) {
            return {};
        }
        ++start;
    }
    std::size_t end = source.find('\n', start);
    if (end == std::string_view::npos) {
        end = source.size();
    }
    std::string_view text = source.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    return text;
}

// The caret line: the characters before `column` turned into spaces (tabs kept, so the caret
// lines up), then '^' and '~' for the rest of `length`.
std::string caret_line(std::string_view text, int column, int length) {
    std::string out;
    int current = 1;
    std::size_t i = 0;
    for (; i < text.size() && current < column; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if ((byte & 0xC0U) == 0x80U) {
            continue;
        }
        out += text[i] == '\t' ? '\t' : ' ';
        ++current;
    }
    int remaining = 0;
    for (; i < text.size(); ++i) {
        remaining += (static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U ? 1 : 0;
    }
    const int span = std::clamp(length, 1, std::max(1, remaining));
    out += '^';
    out.append(static_cast<std::size_t>(span - 1), '~');
    return out;
}

std::string_view color_of(Severity severity) {
    switch (severity) {
    case Severity::error:
        return "\033[1;31m";
    case Severity::warning:
        return "\033[1;35m";
    case Severity::note:
        return "\033[1;36m";
    }
    return "";
}

std::string escape_data(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '%':
            out += "%25";
            break;
        case '\r':
            out += "%0D";
            break;
        case '\n':
            out += "%0A";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string escape_property(std::string_view text) {
    std::string out;
    for (const char c : escape_data(text)) {
        if (c == ':') {
            out += "%3A";
        } else if (c == ',') {
            out += "%2C";
        } else {
            out += c;
        }
    }
    return out;
}

// A relative URI reference for `path` (SARIF artifactLocation.uri): '/' separators, everything
// outside RFC 3986's unreserved set percent-encoded.
std::string path_to_uri(std::string_view path) {
    std::string out;
    for (const char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')
            || (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~'
            || c == '/') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", byte);
        }
    }
    return out;
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && ch != '\t') || c == 0x7F) {
            out += '^';
            out += static_cast<char>(c == 0x7F ? '?' : c + 0x40);
        } else {
            out += ch;
        }
    }
    return out;
}

std::size_t count(const std::vector<Finding>& findings, Severity severity) {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [severity](const Finding& f) {
            return f.severity == severity;
        }));
}

std::string format_text(const FileFindings& file, bool color) {
    const std::string_view bold = color ? "\033[1m" : "";
    const std::string_view reset = color ? "\033[0m" : "";
    const std::string_view green = color ? "\033[1;32m" : "";
    std::string out;
    for (const Finding& f : file.findings) {
        const std::string where =
            f.location.line > 0
                ? fmt::format("{}:{}:{}", file.path, f.location.line, f.location.column)
                : file.path;
        out += fmt::format("{}{}:{} {}{}:{} {} [{}]\n",
                           bold,
                           where,
                           reset,
                           color ? color_of(f.severity) : "",
                           to_string(f.severity),
                           reset,
                           printable(f.message),
                           f.rule);
        if (f.severity == Severity::note || f.location.line <= 0) {
            continue;
        }
        const std::string text = printable(source_line(file.source, f.location.line));
        if (text.size() > k_max_snippet || text.empty()) {
            continue;
        }
        const std::string gutter = fmt::format("{:>5}", f.location.line);
        out += fmt::format("{} | {}\n", gutter, text);
        out += fmt::format("{} | {}{}{}\n",
                           std::string(gutter.size(), ' '),
                           green,
                           caret_line(text, f.location.column, f.location.length),
                           reset);
    }
    return out;
}

std::string format_github(const FileFindings& file) {
    std::string out;
    for (const Finding& f : file.findings) {
        const std::string_view command =
            f.severity == Severity::note ? "notice" : to_string(f.severity);
        std::string properties = "file=" + escape_property(file.path);
        if (f.location.line > 0) {
            properties += fmt::format(",line={},col={}", f.location.line, f.location.column);
            if (f.location.length > 1) {
                properties += fmt::format(",endColumn={}", f.location.column + f.location.length);
            }
        }
        properties += ",title=" + escape_property(f.rule);
        out += fmt::format("::{} {}::{}\n", command, properties, escape_data(f.message));
    }
    return out;
}

nlohmann::json to_json(const Finding& finding) {
    return {{"severity", to_string(finding.severity)},
            {"rule", finding.rule},
            {"message", finding.message},
            {"line", finding.location.line},
            {"column", finding.location.column},
            {"repository",
             finding.repository.empty() ? nlohmann::json(nullptr)
                                        : nlohmann::json(finding.repository)}};
}

nlohmann::json to_sarif(std::span<const FileFindings> files, std::span<const Rule> rules) {
    nlohmann::json rule_table = nlohmann::json::array();
    for (const Rule& rule : rules) {
        rule_table.push_back({{"id", rule.id},
                              {"shortDescription", {{"text", rule.summary}}},
                              {"defaultConfiguration", {{"level", to_string(rule.severity)}}}});
    }
    nlohmann::json results = nlohmann::json::array();
    nlohmann::json artifacts = nlohmann::json::array();
    for (const FileFindings& file : files) {
        const std::string uri = path_to_uri(file.path);
        artifacts.push_back({{"location", {{"uri", uri}}}});
        for (const Finding& f : file.findings) {
            nlohmann::json physical = {
                {"artifactLocation", {{"uri", uri}, {"index", artifacts.size() - 1}}}};
            if (f.location.line > 0) {
                physical["region"] = {
                    {"startLine", f.location.line},
                    {"startColumn", std::max(1, f.location.column)},
                    {"endColumn", std::max(1, f.location.column) + std::max(1, f.location.length)}};
            }
            nlohmann::json result = {{"ruleId", f.rule},
                                     {"level", to_string(f.severity)},
                                     {"message", {{"text", f.message}}},
                                     {"locations", {{{"physicalLocation", physical}}}}};
            if (!f.repository.empty()) {
                result["properties"] = {{"repository", f.repository}};
            }
            const auto it = std::find_if(
                rules.begin(), rules.end(), [&f](const Rule& r) { return r.id == f.rule; });
            if (it != rules.end()) {
                result["ruleIndex"] = it - rules.begin();
            }
            results.push_back(std::move(result));
        }
    }
    return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
            {"version", "2.1.0"},
            {"runs",
             {{{"tool",
                {{"driver",
                  {{"name", "crcr"},
                   {"semanticVersion", std::string(k_version)},
                   {"rules", rule_table}}}}},
               {"artifacts", artifacts},
               {"columnKind", "unicodeCodePoints"},
               {"results", results}}}}};
}

std::string_view to_string(Severity severity) {
    switch (severity) {
    case Severity::error:
        return "error";
    case Severity::warning:
        return "warning";
    case Severity::note:
        return "note";
    }
    return "error";
}

} // namespace crcr
