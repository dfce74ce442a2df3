#include "crcr/delivery.hpp"

#include "crcr/github_names.hpp"
#include "crcr/signature.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

namespace crcr {

std::string action_of(const Json& payload) {
    if (payload.is_object() && payload.contains("action") && payload["action"].is_string()) {
        return payload["action"].get<std::string>();
    }
    return {};
}

Delivery make_delivery(std::string_view event,
                       std::string_view action,
                       std::string body,
                       const std::optional<std::string>& secret,
                       Random& random,
                       std::string_view delivery_id) {
    Delivery delivery;
    delivery.event = std::string(event);
    delivery.id = delivery_id.empty() ? random.uuid_v4() : std::string(delivery_id);
    delivery.action = std::string(action);
    delivery.headers = {
        {"Accept", "*/*"},
        {"Content-Type", "application/json"},
        {"User-Agent", "GitHub-Hookshot/" + random.hex(7)},
        {"X-GitHub-Delivery", delivery.id},
        {"X-GitHub-Event", std::string(event)},
        {"X-GitHub-Hook-ID", std::to_string(random.between(400'000'000, 600'000'000))},
        {"X-GitHub-Hook-Installation-Target-ID",
         std::to_string(random.between(900'000, 2'000'000))},
        {"X-GitHub-Hook-Installation-Target-Type", "integration"},
    };
    if (secret) {
        delivery.headers.emplace_back("X-Hub-Signature", sign_sha1(*secret, body));
        delivery.headers.emplace_back("X-Hub-Signature-256", sign_sha256(*secret, body));
    }
    delivery.body = std::move(body);
    return delivery;
}

namespace {

// `text` as a JSON string literal. A bulk run escapes one body per delivery, so this avoids
// nlohmann's general serializer; the output is the same.
void append_json_string(std::string& out, std::string_view text) {
    // Compact JSON bodies have no control characters: then only '"' and '\\' need escaping, and
    // memchr finds them far faster than a byte loop.
    const bool plain = std::none_of(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    out += '"';
    if (plain) {
        const char* p = text.data();
        const char* const end = p + text.size();
        const char* quote = static_cast<const char*>(std::memchr(p, '"', text.size()));
        const char* backslash = static_cast<const char*>(std::memchr(p, '\\', text.size()));
        while (quote != nullptr || backslash != nullptr) {
            const char* next = quote == nullptr       ? backslash
                               : backslash == nullptr ? quote
                                                      : std::min(quote, backslash);
            out.append(p, next);
            out += '\\';
            out += *next;
            p = next + 1;
            const auto rest = static_cast<std::size_t>(end - p);
            if (next == quote) {
                quote = static_cast<const char*>(std::memchr(p, '"', rest));
            } else {
                backslash = static_cast<const char*>(std::memchr(p, '\\', rest));
            }
        }
        out.append(p, end);
        out += '"';
        return;
    }
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != '"' && c != '\\') {
            out += ch;
            continue;
        }
        out += '\\';
        switch (c) {
        case '"':
        case '\\':
            out += ch;
            break;
        case '\n':
            out += 'n';
            break;
        case '\r':
            out += 'r';
            break;
        case '\t':
            out += 't';
            break;
        case '\b':
            out += 'b';
            break;
        case '\f':
            out += 'f';
            break;
        default:
            out += fmt::format("u{:04x}", c);
        }
    }
    out += '"';
}

} // namespace

std::string capture_record(const Delivery& delivery) {
    Json headers = Json::object();
    for (const auto& [name, value] : delivery.headers) {
        headers[name] = value;
    }
    const Json head = {{"crcr_capture", 1},
                       {"delivery_id", delivery.id},
                       {"event", delivery.event},
                       {"action", delivery.action.empty() ? Json(nullptr) : Json(delivery.action)},
                       {"headers", headers}};
    std::string record = head.dump();
    record.pop_back(); // the closing brace: the body comes last
    record += ",\"body\":";
    append_json_string(record, delivery.body);
    record += '}';
    return record;
}

std::string http_request_text(const Delivery& delivery, std::string_view path) {
    std::string out = fmt::format("POST {} HTTP/1.1\r\n", path);
    for (const auto& [name, value] : delivery.headers) {
        out += fmt::format("{}: {}\r\n", name, value);
    }
    out += fmt::format("Content-Length: {}\r\n\r\n", delivery.body.size());
    out += delivery.body;
    return out;
}

Json dispatch_event(const Delivery& delivery,
                    const Json& payload,
                    std::string_view downstream,
                    Random& random,
                    std::chrono::system_clock::time_point now) {
    PayloadShape shape;
    shape.event = "push";
    shape.repo = std::string(downstream);
    shape.sender = "pytorch-fdn-cross-repo-ci-relay[bot]";
    Json downstream_event = build_payload(shape, random, now);
    const std::uint64_t installation = random.between(40'000'000, 90'000'000);
    // A dispatched run sees the repository with ISO timestamps, as in other non-push events.
    Json repository = downstream_event["repository"];
    repository["created_at"] = iso8601(now - std::chrono::hours(24 * 400));
    repository["pushed_at"] = iso8601(now - std::chrono::minutes(1));
    return Json{
        {"action", delivery.event},
        {"branch", repository["default_branch"]},
        {"client_payload",
         {{"event_type", delivery.event}, {"delivery_id", delivery.id}, {"payload", payload}}},
        {"repository", repository},
        {"sender", downstream_event["sender"]},
        {"installation",
         {{"id", installation},
          {"node_id", github_node_id("IntegrationInstallation", installation)}}}};
}

namespace {

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Whether `text` at `i` holds "YYYY-MM-DDTHH:MM:SSZ".
bool timestamp_at(std::string_view text, std::size_t i) {
    constexpr std::string_view k_shape = "dddd-dd-ddTdd:dd:ddZ";
    if (i + k_shape.size() > text.size()) {
        return false;
    }
    for (std::size_t k = 0; k < k_shape.size(); ++k) {
        const char c = text[i + k];
        if (k_shape[k] == 'd' ? !is_digit(c) : c != k_shape[k]) {
            return false;
        }
    }
    return true;
}

} // namespace

BodyVariants::BodyVariants(std::string body) : m_body(std::move(body)) {
    std::unordered_map<std::string_view, std::size_t> index;
    for (std::size_t i = 0; i < m_body.size();) {
        if (is_hex_digit(m_body[i]) && (i == 0 || !is_hex_digit(m_body[i - 1]))) {
            std::size_t end = i;
            while (end < m_body.size() && is_hex_digit(m_body[end])) {
                ++end;
            }
            const std::string_view run(m_body.data() + i, end - i);
            if (run.size() == 40 && run != k_null_sha) {
                const auto [it, inserted] = index.emplace(run, m_shas.size());
                if (inserted) {
                    m_shas.emplace_back();
                }
                m_shas[it->second].offsets.push_back(i);
            }
            i = end;
            continue;
        }
        if (m_body[i] == '"' && timestamp_at(m_body, i + 1)) {
            m_timestamps.push_back({i + 1, parse_time(std::string_view(m_body).substr(i + 1, 20))});
            i += 21;
            continue;
        }
        ++i;
    }
}

std::string BodyVariants::next(Random& random, std::chrono::seconds shift) const {
    std::string out = m_body;
    for (const Sha& sha : m_shas) {
        const std::string fresh = random.hex(40);
        for (const std::size_t offset : sha.offsets) {
            out.replace(offset, 40, fresh);
        }
    }
    for (const Timestamp& t : m_timestamps) {
        out.replace(t.offset, 20, iso8601(t.when + shift));
    }
    return out;
}

Route route_webhook(std::string_view event, const Json& payload, std::string_view upstream) {
    constexpr std::array<std::string_view, 4> k_events = {
        "pull_request", "push", "check_run", "check_suite"};
    if (std::find(k_events.begin(), k_events.end(), event) == k_events.end()) {
        return {Route::Kind::ignored, fmt::format("the relay ignores '{}' events", event)};
    }
    std::string repo;
    if (payload.is_object() && payload.contains("repository") && payload["repository"].is_object()
        && payload["repository"].contains("full_name")
        && payload["repository"]["full_name"].is_string()) {
        repo = payload["repository"]["full_name"].get<std::string>();
    }
    if (fold_case(repo) != fold_case(upstream)) {
        return {
            Route::Kind::ignored,
            fmt::format(
                "the relay ignores deliveries from '{}': it dispatches only for the upstream '{}'",
                repo,
                upstream)};
    }
    const std::string action = payload.contains("action") && payload["action"].is_string()
                                   ? payload["action"].get<std::string>()
                                   : std::string();
    if (event == "push") {
        return {Route::Kind::dispatch, "every push is dispatched to all L1..L4 repositories"};
    }
    if (event == "pull_request") {
        constexpr std::array<std::string_view, 4> k_dispatched = {
            "opened", "reopened", "synchronize", "closed"};
        if (std::find(k_dispatched.begin(), k_dispatched.end(), action) != k_dispatched.end()) {
            return {
                Route::Kind::dispatch,
                fmt::format("pull_request '{}' is dispatched to all L1..L4 repositories", action)};
        }
        const Json::json_pointer label("/label/name");
        if (action == "labeled" && payload.contains(label) && payload.at(label).is_string()
            && payload.at(label).get<std::string>().starts_with("ciflow/crcr/")) {
            return {Route::Kind::backfill,
                    fmt::format("label '{}' creates L3 check runs; nothing is dispatched",
                                payload.at(label).get<std::string>())};
        }
        return {Route::Kind::ignored,
                fmt::format("the relay ignores pull_request '{}'; it dispatches opened, reopened, "
                            "synchronize and closed",
                            action)};
    }
    if (action == "rerequested") {
        return {Route::Kind::rerun,
                fmt::format("{} rerequested re-runs the downstream runs", event)};
    }
    return {Route::Kind::ignored,
            fmt::format("the relay acts on {} only when it is rerequested", event)};
}

} // namespace crcr
