#include "crcr/delivery.hpp"

#include "crcr/error.hpp"
#include "crcr/signature.hpp"
#include "crcr/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
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

// `text` escaped for a JSON string literal, without the quotes: the same as nlohmann's
// serializer writes it (control characters as \u00XX in lowercase, UTF-8 as it is).
void append_json_chars(std::string& out, std::string_view text) {
    // Compact JSON bodies have no control characters: then only '"' and '\\' need escaping, and
    // memchr finds them far faster than a byte loop.
    const bool plain = std::none_of(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
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
}

// `text` as a JSON string literal.
void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    append_json_chars(out, text);
    out += '"';
}

// The capture record of `delivery` whose body is `body_literal` (the body as a JSON string
// literal), as nlohmann's serializer would write the object, in one buffer: a bulk run writes
// thousands a second, and building a Json object for each cost more than escaping the body.
void append_capture_record(std::string& out,
                           const Delivery& delivery,
                           std::string_view body_literal) {
    out += R"({"crcr_capture":1,"delivery_id":)";
    append_json_string(out, delivery.id);
    out += R"(,"event":)";
    append_json_string(out, delivery.event);
    out += R"(,"action":)";
    if (delivery.action.empty()) {
        out += "null";
    } else {
        append_json_string(out, delivery.action);
    }
    out += R"(,"headers":{)";
    // As a JSON object: a name given twice keeps its first place and takes its last value.
    const HttpHeaders& headers = delivery.headers;
    bool first = true;
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        const auto same_name = [&](const auto& header) { return header.first == it->first; };
        if (std::any_of(headers.begin(), it, same_name)) {
            continue;
        }
        const auto last = std::find_if(headers.rbegin(), headers.rend(), same_name);
        out += first ? "" : ",";
        first = false;
        append_json_string(out, it->first);
        out += ':';
        append_json_string(out, last->second);
    }
    out += R"(},"body":)";
    out += body_literal;
    out += '}';
}

} // namespace

std::string capture_record(const Delivery& delivery) {
    std::string literal;
    literal.reserve(delivery.body.size() + delivery.body.size() / 8 + 2);
    append_json_string(literal, delivery.body);
    std::string record;
    record.reserve(literal.size() + 1024);
    append_capture_record(record, delivery, literal);
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
            m_timestamps.push_back(
                {i + 1, 0, parse_time(std::string_view(m_body).substr(i + 1, 20))});
            i += 21;
            continue;
        }
        ++i;
    }
    // The literal, escaped a stretch at a time between the places variants patch, so that each
    // place's offset in it is known.
    std::vector<std::size_t*> patches;
    for (Sha& sha : m_shas) {
        sha.literal_offsets = sha.offsets;
        for (std::size_t& offset : sha.literal_offsets) {
            patches.push_back(&offset);
        }
    }
    for (Timestamp& t : m_timestamps) {
        t.literal_offset = t.offset;
        patches.push_back(&t.literal_offset);
    }
    std::sort(patches.begin(), patches.end(), [](const std::size_t* a, const std::size_t* b) {
        return *a < *b;
    });
    m_literal.reserve(m_body.size() + m_body.size() / 8 + 2);
    m_literal += '"';
    std::size_t done = 0;
    for (std::size_t* offset : patches) {
        append_json_chars(m_literal, std::string_view(m_body).substr(done, *offset - done));
        done = *offset;
        *offset = m_literal.size();
    }
    append_json_chars(m_literal, std::string_view(m_body).substr(done));
    m_literal += '"';
}

std::string BodyVariants::next(Random& random, std::chrono::seconds shift) const {
    Variant variant;
    next(random, shift, variant);
    return std::move(variant.body);
}

void BodyVariants::next(Random& random, std::chrono::seconds shift, Variant& out) const {
    if (out.literal.empty()) {
        out.body = m_body;
        out.literal = m_literal;
    }
    for (const Sha& sha : m_shas) {
        const std::string fresh = random.hex(40);
        for (const std::size_t offset : sha.offsets) {
            out.body.replace(offset, 40, fresh);
        }
        for (const std::size_t offset : sha.literal_offsets) {
            out.literal.replace(offset, 40, fresh);
        }
    }
    for (const Timestamp& t : m_timestamps) {
        const std::string when = iso8601(t.when + shift);
        out.body.replace(t.offset, 20, when);
        out.literal.replace(t.literal_offset, 20, when);
    }
}

namespace {

// Records a chunk at a time: about 1.5 MB of 21 KB bodies, few enough writes and turns.
constexpr std::uint64_t k_chunk = 64;

// The threads of write_capture_records: each builds whole chunks (chunk k by thread k mod n)
// into its own buffer, then waits for its turn to write them, in order.
class RecordWriters {
public:
    RecordWriters(std::string_view event,
                  std::string_view action,
                  const BodyVariants& variants,
                  const std::optional<std::string>& secret,
                  const Random& start,
                  std::uint64_t draws,
                  std::uint64_t first,
                  std::uint64_t count,
                  const std::function<void(std::string_view)>& write)
        : m_event(event), m_action(action), m_variants(variants), m_secret(secret), m_start(start),
          m_draws(draws), m_first(first), m_count(count), m_write(write) {}

    void run(unsigned threads) {
        const std::uint64_t chunks = (m_count - m_first + k_chunk - 1) / k_chunk;
        threads = static_cast<unsigned>(std::min<std::uint64_t>(threads, chunks));
        std::vector<std::thread> helpers;
        for (unsigned t = 1; t < threads; ++t) {
            helpers.emplace_back([this, t, threads] { work(t, threads); });
        }
        work(0, std::max(threads, 1U));
        for (std::thread& helper : helpers) {
            helper.join();
        }
        if (m_failure) {
            std::rethrow_exception(m_failure);
        }
    }

private:
    void work(unsigned thread, unsigned threads) {
        try {
            BodyVariants::Variant variant;
            std::string buffer;
            for (std::uint64_t chunk = thread;; chunk += threads) {
                const std::uint64_t begin = m_first + chunk * k_chunk;
                if (begin >= m_count) {
                    return;
                }
                const std::uint64_t end = std::min(m_count, begin + k_chunk);
                buffer.clear();
                for (std::uint64_t i = begin; i < end; ++i) {
                    build(i, variant, buffer);
                }
                std::unique_lock lock(m_mutex);
                m_turn_changed.wait(lock, [&] { return m_next_chunk == chunk || m_failure; });
                if (m_failure) {
                    return;
                }
                m_write(buffer);
                ++m_next_chunk;
                m_turn_changed.notify_all();
            }
        } catch (...) {
            const std::lock_guard lock(m_mutex);
            if (!m_failure) {
                m_failure = std::current_exception();
            }
            m_turn_changed.notify_all();
        }
    }

    // Delivery `i`'s record, appended to `out`.
    void build(std::uint64_t i, BodyVariants::Variant& variant, std::string& out) const {
        Random random = m_start;
        random.skip(i * m_draws);
        const Random before = random;
        m_variants.next(random, std::chrono::seconds(i), variant);
        Delivery delivery =
            make_delivery(m_event, m_action, std::move(variant.body), m_secret, random);
        if (random.draws_since(before) != m_draws) {
            throw Error("simulate: deliveries took different numbers of random draws; "
                        "write them with one thread");
        }
        append_capture_record(out, delivery, variant.literal);
        out += '\n';
        variant.body = std::move(delivery.body); // patched in place by the next one
    }

    std::string_view m_event;
    std::string_view m_action;
    const BodyVariants& m_variants;
    const std::optional<std::string>& m_secret;
    Random m_start;
    std::uint64_t m_draws;
    std::uint64_t m_first;
    std::uint64_t m_count;
    const std::function<void(std::string_view)>& m_write;
    std::mutex m_mutex;
    std::condition_variable m_turn_changed;
    std::uint64_t m_next_chunk = 0;
    std::exception_ptr m_failure;
};

} // namespace

void write_capture_records(std::string_view event,
                           std::string_view action,
                           const BodyVariants& variants,
                           const std::optional<std::string>& secret,
                           Random& random,
                           std::uint64_t count,
                           unsigned threads,
                           const std::function<void(std::string_view)>& write) {
    if (count == 0) {
        return;
    }
    // The first delivery alone, which says how many draws each one takes.
    const Random start = random;
    BodyVariants::Variant variant;
    variants.next(random, std::chrono::seconds(0), variant);
    const Delivery first = make_delivery(event, action, std::move(variant.body), secret, random);
    const std::uint64_t draws = random.draws_since(start);
    std::string record;
    append_capture_record(record, first, variant.literal);
    record += '\n';
    write(record);
    if (count > 1) {
        RecordWriters(event, action, variants, secret, start, draws, 1, count, write).run(threads);
    }
    random = start;
    random.skip(count * draws);
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
    if (to_lower_ascii(repo) != to_lower_ascii(upstream)) {
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
