#include "crcr/capture.hpp"

#include "crcr/delivery.hpp"
#include "crcr/error.hpp"
#include "crcr/json_string.hpp"
#include "crcr/signature.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <istream>

namespace crcr {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The end (one past the closing quote) of the string literal starting at `at` ('"').
std::size_t string_end(std::string_view text, std::size_t at) {
    std::size_t resume = 0;
    const std::size_t quote = find_json_string_end(text, at + 1, resume);
    if (quote == std::string_view::npos) {
        throw Error("an unclosed string");
    }
    return quote + 1;
}

// The end of the JSON value starting at `at`.
std::size_t value_end(std::string_view text, std::size_t at) {
    if (at >= text.size()) {
        throw Error("a missing value");
    }
    if (text[at] == '"') {
        return string_end(text, at);
    }
    if (text[at] != '{' && text[at] != '[') {
        std::size_t i = at;
        while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']'
               && !is_space(text[i])) {
            ++i;
        }
        return i;
    }
    int depth = 0;
    for (std::size_t i = at; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            i = string_end(text, i) - 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    throw Error("an unclosed value");
}

struct Member {
    std::string key;
    std::string_view value; // the value's text, as it is in the record
    bool is_string = false;
    std::string string; // a string value, decoded
};

// The members of the JSON object `text`, string values decoded as they are scanned (a 25 KB
// body is read once), other values kept as spans, not parsed.
std::vector<Member> members(std::string_view text) {
    std::vector<Member> out;
    out.reserve(8); // a capture record's members, a GitHub delivery record's top level
    std::size_t i = 0;
    const auto skip = [&] {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
    };
    skip();
    if (i >= text.size() || text[i] != '{') {
        throw Error("not a JSON object");
    }
    ++i;
    skip();
    if (i < text.size() && text[i] == '}') {
        return out;
    }
    while (true) {
        skip();
        if (i >= text.size() || text[i] != '"') {
            throw Error("a member without a quoted name");
        }
        Member member;
        i = decode_json_string(text, i, member.key);
        skip();
        if (i >= text.size() || text[i] != ':') {
            throw Error("a member without ':'");
        }
        ++i;
        skip();
        const std::size_t start = i;
        member.is_string = i < text.size() && text[i] == '"';
        i = member.is_string ? decode_json_string(text, i, member.string) : value_end(text, i);
        member.value = text.substr(start, i - start);
        out.push_back(std::move(member));
        skip();
        if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
        }
        if (i < text.size() && text[i] == '}') {
            return out;
        }
        throw Error("members not separated by ','");
    }
}

Member* find(std::vector<Member>& all, std::string_view key) {
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const Member& m) { return m.key == key; });
    return it == all.end() ? nullptr : &*it;
}

// A string member, moved out; "" when there is none or it is not a string.
std::string take_string(std::vector<Member>& all, std::string_view key) {
    Member* member = find(all, key);
    return member != nullptr && member->is_string ? std::move(member->string) : std::string();
}

HttpHeaders headers_of(const Json& object) {
    HttpHeaders headers;
    for (const auto& [name, value] : object.items()) {
        if (value.is_string()) {
            headers.emplace_back(name, value.get<std::string>());
        }
    }
    return headers;
}

ReplayRecord capture_of(std::vector<Member>& all, const std::string& location) {
    if (find(all, "crcr_capture")->value != "1") { // the one version crcr writes
        throw Error(fmt::format("{}: crcr capture record of a version this crcr does not read "
                                "('crcr_capture' is not 1): a newer crcr wrote it?",
                                location));
    }
    ReplayRecord record;
    record.format = RecordFormat::capture;
    record.location = location;
    record.event = take_string(all, "event");
    record.action = take_string(all, "action");
    record.delivery_id = take_string(all, "delivery_id");
    const Member* headers = find(all, "headers");
    Member* body = find(all, "body");
    if (record.event.empty() || headers == nullptr || body == nullptr || !body->is_string) {
        throw Error(fmt::format("{}: crcr capture record without 'event', 'headers' and a 'body' "
                                "string",
                                location));
    }
    std::vector<Member> header_members;
    try {
        header_members = members(headers->value);
    } catch (const Error&) {
        throw Error(
            fmt::format("{}: crcr capture record whose 'headers' is not an object", location));
    }
    for (Member& header : header_members) {
        if (header.is_string) {
            record.headers.emplace_back(std::move(header.key), std::move(header.string));
        }
    }
    record.body = std::move(body->string);
    return record;
}

ReplayRecord github_delivery_of(std::string_view text, const std::string& location) {
    const Json parsed = parse_webhook_body(text, location);
    ReplayRecord record;
    record.format = RecordFormat::github_delivery;
    record.location = location;
    const Json& request = parsed["request"];
    if (!parsed["guid"].is_string() || !parsed.contains("event") || !parsed["event"].is_string()
        || !request.is_object() || !request.contains("payload")
        || !request["payload"].is_object()) {
        throw Error(fmt::format("{}: GitHub delivery record without 'guid', 'event' and "
                                "'request.payload' (an object)",
                                location));
    }
    record.delivery_id = parsed["guid"].get<std::string>();
    record.event = parsed["event"].get<std::string>();
    record.action = parsed.contains("action") && parsed["action"].is_string()
                        ? parsed["action"].get<std::string>()
                        : "";
    if (request.contains("headers") && request["headers"].is_object()) {
        record.headers = headers_of(request["headers"]);
    }
    // GitHub keeps the payload parsed, not as the bytes it sent: serialised compactly, once.
    record.body = request["payload"].dump();
    return record;
}

} // namespace

std::string unescape_json_string(std::string_view literal) {
    std::string out;
    if (literal.empty() || literal.front() != '"'
        || decode_json_string(literal, 0, out) != literal.size()) {
        throw Error("not a JSON string");
    }
    return out;
}

JsonValueReader::JsonValueReader(std::istream& in, std::string name)
    : m_in(in), m_name(std::move(name)) {}

bool JsonValueReader::fill() {
    if (m_pos > 0 && m_pos >= m_size / 2) { // drop what was read
        std::memmove(m_buffer.data(), m_buffer.data() + m_pos, m_size - m_pos);
        m_size -= m_pos;
        m_pos = 0;
    }
    if (m_buffer.size() < m_size + k_chunk) {
        m_buffer.resize(m_size + k_chunk); // grows only for a value longer than what it held
    }
    m_in.read(m_buffer.data() + m_size, static_cast<std::streamsize>(k_chunk));
    const auto got = static_cast<std::size_t>(m_in.gcount());
    m_size += got;
    return got > 0;
}

std::optional<JsonValueReader::Value> JsonValueReader::next() {
    const auto fail = [&](const std::string& what) {
        return Error(fmt::format("{}:{}:{}: {}", m_name, m_line, m_column, what));
    };
    while (!m_done) {
        if (m_pos >= m_size && !fill()) {
            if (m_in_array) {
                throw fail("the JSON array is not closed with ']'");
            }
            return std::nullopt;
        }
        const char c = m_buffer[m_pos];
        if (is_space(c) || (m_in_array && c == ',')) {
            ++m_pos;
            m_line += c == '\n' ? 1 : 0;
            m_column = c == '\n' ? 1 : m_column + 1;
            continue;
        }
        if (!m_started && c == '[') {
            m_started = true;
            m_in_array = true;
            ++m_pos;
            ++m_column;
            continue;
        }
        m_started = true;
        if (m_in_array && c == ']') {
            m_done = true;
            ++m_pos;
            break;
        }
        if (c != '{') {
            throw fail(fmt::format("expected a JSON object (a record), found '{}'", c));
        }
        // Scan to the matching brace, strings skipped; read more as needed.
        const std::size_t start_line = m_line;
        std::size_t i = m_pos;
        int depth = 0;
        bool in_string = false;
        std::size_t line = m_line;
        std::size_t last_newline = std::string::npos;
        const auto read_more = [&] {
            const std::size_t offset = m_pos;
            if (!fill()) {
                throw Error(fmt::format(
                    "{}:{}: the JSON value starting here is not closed", m_name, start_line));
            }
            i -= offset - m_pos; // fill() may have moved the buffer
            if (last_newline != std::string::npos) {
                last_newline -= offset - m_pos;
            }
        };
        while (true) {
            if (i >= m_size) {
                read_more();
                continue;
            }
            const char ch = m_buffer[i];
            if (in_string) {
                std::size_t resume = 0;
                const std::size_t quote =
                    find_json_string_end({m_buffer.data(), m_size}, i, resume);
                if (quote == std::string::npos) {
                    i = resume; // the string goes on past what was read: read on from there
                    read_more();
                    continue;
                }
                i = quote;
                in_string = false;
            } else if (ch == '"') {
                in_string = true;
            } else if (ch == '{' || ch == '[') {
                ++depth;
            } else if ((ch == '}' || ch == ']') && --depth == 0) {
                ++i;
                break;
            } else if (ch == '\n') {
                ++line;
                last_newline = i;
            }
            ++i;
        }
        Value value{std::string_view(m_buffer).substr(m_pos, i - m_pos), start_line, m_index++};
        m_column = last_newline == std::string::npos ? m_column + (i - m_pos) : i - last_newline;
        m_line = line;
        m_pos = i;
        return value;
    }
    // After a top-level array, only white space.
    while (m_pos < m_size || fill()) {
        if (!is_space(m_buffer[m_pos])) {
            throw fail("text after the closing ']' of the JSON array");
        }
        m_line += m_buffer[m_pos] == '\n' ? 1 : 0;
        ++m_pos;
    }
    return std::nullopt;
}

std::string_view format_name(RecordFormat format) {
    switch (format) {
    case RecordFormat::capture:
        return "crcr capture record";
    case RecordFormat::github_delivery:
        return "GitHub delivery record";
    case RecordFormat::payload:
        return "payload";
    }
    return "record";
}

ReplayRecord parse_replay_record(std::string_view text,
                                 const std::string& location,
                                 std::string_view default_event) {
    std::vector<Member> all;
    try {
        all = members(text);
    } catch (const Error&) {
        parse_webhook_body(text, location); // says where the JSON is wrong
        throw Error(fmt::format("{} is not a JSON object", location));
    }
    ReplayRecord record;
    if (find(all, "crcr_capture") != nullptr) {
        record = capture_of(all, location);
    } else if (find(all, "guid") != nullptr && find(all, "request") != nullptr) {
        record = github_delivery_of(text, location);
    } else {
        if (default_event.empty()) {
            throw Error(fmt::format("{}: a payload without a record around it (no 'crcr_capture', "
                                    "no 'guid' and 'request'): give its event with --event",
                                    location));
        }
        record.format = RecordFormat::payload;
        record.location = location;
        record.event = std::string(default_event);
        record.action = take_string(all, "action");
        record.body = std::string(text);
    }
    if (record.delivery_id.empty()) { // a record without "delivery_id": its header's
        const auto captured =
            std::find_if(record.headers.begin(), record.headers.end(), [](const auto& header) {
                return iequals(header.first, "x-github-delivery");
            });
        if (captured != record.headers.end()) {
            record.delivery_id = captured->second;
        }
    }
    // What goes into headers must be able to: a CR or LF would let a record add headers of its
    // own choosing, or a whole second request.
    const std::string subject = fmt::format("{}: {}", location, format_name(record.format));
    check_headers(record.headers, subject);
    check_headers({{"X-GitHub-Delivery", record.delivery_id}, {"X-GitHub-Event", record.event}},
                  subject);
    record.key = record.delivery_id.empty() ? location : record.delivery_id;
    return record;
}

RecordFilter parse_record_filter(std::string_view text) {
    const std::size_t eq = text.find('=');
    const std::string key(text.substr(0, eq));
    if (eq == std::string_view::npos
        || (key != "event" && key != "action" && key != "pr" && key != "repo"
            && key != "delivery")) {
        throw Error(
            fmt::format(
                "--filter '{}' is not KEY=VALUE with KEY event, action, pr, repo or delivery",
                text),
            ExitCode::usage);
    }
    return RecordFilter{key, std::string(text.substr(eq + 1))};
}

bool record_matches(const ReplayRecord& record, const std::vector<RecordFilter>& filters) {
    std::optional<Json> body; // parsed only when a filter looks inside
    for (const RecordFilter& filter : filters) {
        if (filter.key == "event" && record.event != filter.value) {
            return false;
        }
        if (filter.key == "action" && record.action != filter.value) {
            return false;
        }
        if (filter.key == "delivery" && record.delivery_id != filter.value) {
            return false;
        }
        if (filter.key == "pr" || filter.key == "repo") {
            if (!body) {
                body = Json::parse(record.body, nullptr, false);
            }
            if (!body->is_object()) {
                return false;
            }
            std::string actual;
            if (filter.key == "pr") {
                const Json& number = body->contains("number")
                                         ? (*body)["number"]
                                         : body->value("/pull_request/number"_json_pointer, Json());
                actual = number.is_number_integer() ? std::to_string(number.get<long long>()) : "";
            } else {
                actual = body->value("/repository/full_name"_json_pointer, std::string());
            }
            if (filter.key == "repo" ? !iequals(actual, filter.value) : actual != filter.value) {
                return false;
            }
        }
    }
    return true;
}

HttpRequest webhook_request(ReplayRecord record,
                            const std::string& url,
                            const std::optional<std::string>& secret,
                            Signatures signatures,
                            const std::string& new_delivery_id) {
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.body = std::move(record.body);
    constexpr std::array<std::string_view, 7> k_dropped = {"host",
                                                           "content-length",
                                                           "connection",
                                                           "transfer-encoding",
                                                           "x-hub-signature",
                                                           "x-hub-signature-256",
                                                           "expect"};
    const std::string& delivery_id = new_delivery_id.empty() ? record.delivery_id : new_delivery_id;
    request.headers.reserve(record.headers.size() + 4);
    for (auto& header : record.headers) { // (no structured binding: clang 14 cannot capture one)
        if (std::none_of(k_dropped.begin(), k_dropped.end(), [&header](std::string_view d) {
                return iequals(header.first, d);
            })) {
            const bool delivery = iequals(header.first, "x-github-delivery");
            request.headers.emplace_back(std::move(header.first),
                                         delivery ? delivery_id : std::move(header.second));
        }
    }
    const auto has = [&](std::string_view name) {
        return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& h) {
            return iequals(h.first, name);
        });
    };
    // A bare payload gets what GitHub always sends.
    if (!has("content-type")) {
        request.headers.emplace_back("Content-Type", "application/json");
    }
    if (!has("x-github-event")) {
        request.headers.emplace_back("X-GitHub-Event", record.event);
    }
    if (!has("x-github-delivery")) {
        request.headers.emplace_back("X-GitHub-Delivery", delivery_id);
    }
    if (!has("user-agent")) {
        request.headers.emplace_back("User-Agent", "GitHub-Hookshot/crcr-replay");
    }
    if (secret) {
        if (signatures == Signatures::sha256_and_sha1) {
            request.headers.emplace_back("X-Hub-Signature", sign_sha1(*secret, request.body));
        }
        request.headers.emplace_back("X-Hub-Signature-256", sign_sha256(*secret, request.body));
    }
    return request;
}

} // namespace crcr
