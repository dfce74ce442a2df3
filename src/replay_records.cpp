// replay's records: the state file, the report, the latency figures, and the inputs read in turn.

#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/json_string.hpp"
#include "crcr/jwt.hpp"
#include "crcr/replay.hpp"
#include "crcr/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>

namespace crcr {

std::string_view outcome_name(ReplayOutcome outcome) {
    switch (outcome) {
    case ReplayOutcome::delivered:
        return "delivered";
    case ReplayOutcome::rejected:
        return "rejected";
    case ReplayOutcome::failed:
        return "failed";
    case ReplayOutcome::skipped:
        return "skipped";
    }
    return "";
}

void LatencyStats::add(double ms) {
    m_sum += ms;
    ++m_count;
    const double position = std::log10(std::max(ms, 0.001)) * 10 + 30; // 1 µs -> bucket 0
    ++m_buckets[static_cast<std::size_t>(std::clamp(position, 0.0, double(k_buckets - 1)))];
}

double LatencyStats::mean() const {
    return m_count == 0 ? 0 : m_sum / static_cast<double>(m_count);
}

double LatencyStats::p99() const {
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < k_buckets; ++i) {
        seen += m_buckets[i];
        if (seen * 100 >= m_count * 99 && m_count > 0) {
            return std::pow(10.0, (static_cast<double>(i) + 1 - 30) / 10); // the bucket's top
        }
    }
    return 0;
}

void append_state_line(std::string& out, std::string_view key, std::string_view outcome) {
    if (is_valid_utf8(key)) {
        out += R"({"key":)";
        append_json_string(out, key);
    } else {
        out += R"({"key_base64url":")";
        out += base64url_encode(key);
        out += '"';
    }
    out += R"(,"outcome":")";
    out += outcome;
    out += "\"}\n";
}

void append_report_line(std::string& out, const ReplayFinished& finished, std::string_view target) {
    const ReplayResult& result = finished.result;
    const auto member = [&out](std::string_view name) {
        out += R"(,")";
        out += name;
        out += R"(":)";
    };
    const auto string = [&](std::string_view name, std::string_view value) {
        member(name);
        append_json_string(out, value);
    };
    const auto string_or_null = [&](std::string_view name, std::string_view value) {
        member(name);
        if (value.empty()) {
            out += "null";
        } else {
            append_json_string(out, value);
        }
    };
    out += R"({"delivery_id":)";
    append_json_string(out, result.delivery_id);
    string("key", finished.subject.key);
    string("source", finished.subject.location);
    string("event", finished.subject.event);
    string_or_null("action", finished.subject.action);
    string("target", target);
    string("outcome", outcome_name(result.outcome));
    fmt::format_to(std::back_inserter(out),
                   R"(,"status":{},"attempts":{},"latency_ms":{})",
                   result.status == 0 ? "null" : std::to_string(result.status),
                   result.attempts,
                   std::round(result.latency_ms * 1000) / 1000);
    string_or_null("error", result.error);
    out += R"(,"may_have_dispatched":)";
    out += result.may_have_dispatched ? "true" : "false";
    out += "}\n";
}

std::unordered_map<std::string, std::string> load_replay_state(const std::string& path) {
    std::unordered_map<std::string, std::string> outcome;
    if (path.empty()) {
        return outcome;
    }
    for (const std::string& line : read_complete_lines(path)) {
        const Json entry = Json::parse(line, nullptr, false);
        if (!entry.is_object() || !entry.contains("outcome") || !entry["outcome"].is_string()) {
            continue; // not a state line (a line cut short by a crash, say)
        }
        std::string key;
        if (entry.contains("key") && entry["key"].is_string()) {
            key = entry["key"].get<std::string>();
        } else if (entry.contains("key_base64url") && entry["key_base64url"].is_string()) {
            try {
                key = base64url_decode(entry["key_base64url"].get<std::string>());
            } catch (const Error&) {
                continue;
            }
        } else {
            continue;
        }
        outcome[key] = entry["outcome"].get<std::string>();
    }
    return outcome;
}

ReplayInputs::ReplayInputs(const std::vector<std::string>& inputs,
                           std::istream& in,
                           std::function<void(const Error&)> report)
    : m_inputs(inputs), m_in(in), m_report(std::move(report)) {}

std::optional<JsonValueReader::Value> ReplayInputs::next(std::string& location) {
    while (true) {
        if (m_reader) {
            try {
                if (std::optional<JsonValueReader::Value> value = m_reader->next()) {
                    location = fmt::format("{}:{}", m_name, value->line);
                    return value;
                }
            } catch (const Error& e) {
                if (e.code() != ExitCode::failure) {
                    throw;
                }
                m_report(e); // the rest of this file cannot be read in step
            }
            m_reader.reset();
        }
        if (m_file < m_files.size()) {
            try {
                open(m_files[m_file++]); // gone since its folder was listed, say
            } catch (const Error& e) {
                m_report(e);
            }
            continue;
        }
        if (m_input == m_inputs.size()) {
            return std::nullopt;
        }
        const std::string& input = m_inputs[m_input++];
        m_files.clear();
        m_file = 0;
        try {
            m_files = input == "-" ? std::vector<std::string>{"-"} : files_under(input, m_report);
        } catch (const Error& e) {
            m_report(e);
        }
    }
}

void ReplayInputs::open(const std::string& file) {
    if (file == "-") {
        m_name = "<stdin>";
        m_reader.emplace(m_in, m_name);
        return;
    }
    m_stream.close();
    m_stream.clear();
    m_stream.open(file, std::ios::binary);
    if (!m_stream) {
        throw Error(fmt::format("cannot read '{}': {}", file, std::strerror(errno)));
    }
    m_name = file;
    m_reader.emplace(m_stream, m_name);
}

} // namespace crcr
