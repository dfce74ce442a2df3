#pragma once

// Captured deliveries, read back for `crcr replay` (relay-contract sections 2 and 4): crcr
// capture records (simulate --output), GitHub delivery records (GET .../hook/deliveries/{id}),
// and bare payloads, from JSON Lines, concatenated or pretty-printed JSON documents, or a JSON
// array of them, one record at a time, so memory stays flat however many there are.

#include "crcr/http.hpp"
#include "crcr/payload.hpp"

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// The top-level JSON values of a stream, one at a time (the elements, when the stream is one
// JSON array). Only the value being read is in memory.
class JsonValueReader {
public:
    // Reads 256 KiB at a time.
    static constexpr std::size_t k_chunk = 1U << 18U;

    struct Value {
        std::string_view text; // the value's exact bytes, valid until the next call
        std::size_t line = 0;
        std::size_t index = 0; // 0-based position in the stream
    };

    JsonValueReader(std::istream& in, std::string name);

    // The next value, or nothing at the end. Throws `crcr::Error` with `name:line:column` when
    // the text is not a sequence of JSON objects or arrays (a stray character, an unclosed
    // value, a bare number or string at the top).
    std::optional<Value> next();

private:
    bool fill();

    std::istream& m_in;
    std::string m_name;
    std::string m_buffer; // what was read; its first m_size bytes hold text
    std::size_t m_size = 0;
    std::size_t m_pos = 0;
    std::size_t m_line = 1;
    std::size_t m_column = 1;
    std::size_t m_index = 0;
    bool m_started = false;
    bool m_in_array = false; // the stream is one top-level array: its elements are the values
    bool m_done = false;
};

enum class RecordFormat { capture, github_delivery, payload };

// What a record is, for messages: "crcr capture record", "GitHub delivery record", "payload".
std::string_view format_name(RecordFormat format);

// One delivery to replay.
struct ReplayRecord {
    RecordFormat format = RecordFormat::payload;
    std::string location; // "file:line"
    std::string key;      // identity across runs: the delivery id, else the location
    std::string event;
    std::string action;
    std::string delivery_id; // the original X-GitHub-Delivery; empty for a bare payload
    HttpHeaders headers;     // as captured; empty for a bare payload
    std::string body;        // the bytes to send: raw when the record has them
};

// Reads one record from `text` (a JSON object), detecting its format: a crcr capture record
// has "crcr_capture"; a GitHub delivery record has "guid" and "request"; anything else is a bare
// payload, whose event is `default_event` (required then). A record without a delivery id takes
// its X-GitHub-Delivery header's. Throws `crcr::Error` starting with `location`, naming the
// format, when a record lacks what it needs, or when a header (its delivery id and event
// included) could not be sent as it is (`header_problem`: a CR or LF in a value).
ReplayRecord parse_replay_record(std::string_view text,
                                 const std::string& location,
                                 std::string_view default_event);

// A --filter term: KEY=VALUE with KEY one of event, action, pr, repo, delivery.
struct RecordFilter {
    std::string key;
    std::string value;

    bool operator==(const RecordFilter&) const = default;
};

// Parses "event=pull_request", ... Throws `crcr::Error` (usage) for other keys or no '='.
RecordFilter parse_record_filter(std::string_view text);

// Whether `record` passes every filter (pr and repo read the body's number and
// repository.full_name; a body that is not JSON passes no such filter).
bool record_matches(const ReplayRecord& record, const std::vector<RecordFilter>& filters);

// Which signature headers a replayed webhook gets.
enum class Signatures {
    sha256,          // X-Hub-Signature-256: all the relay reads
    sha256_and_sha1, // and the legacy X-Hub-Signature (HMAC-SHA1), as GitHub still sends it
};

// The webhook request that replays `record` to `url`: the captured headers (a bare payload gets
// GitHub's header set), signatures computed again over the body with `secret` (the captured ones
// always removed: they no longer match once a body is re-serialised or the secret differs),
// `X-GitHub-Delivery` set to `new_delivery_id`, or the record's `delivery_id` when that is empty
// (whether the capture had the header or not), and hop-by-hop headers
// (Host, Content-Length, Connection, Transfer-Encoding) left to the client. Takes `record`: move
// it in when it is done with, and its body is moved, not copied.
HttpRequest webhook_request(ReplayRecord record,
                            const std::string& url,
                            const std::optional<std::string>& secret,
                            Signatures signatures,
                            const std::string& new_delivery_id);

// The JSON string literal `text` as bytes: `\"`, `\\`, `\u` with four hex digits (surrogate
// pairs joined) and the other escapes decoded. Throws `crcr::Error` for a malformed literal.
std::string unescape_json_string(std::string_view literal);

} // namespace crcr
