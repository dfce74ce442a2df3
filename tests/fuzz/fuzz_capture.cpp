// A capture file as replay reads it: the stream split into records (JSON Lines, concatenated
// documents, one array), each record's format detected and parsed, then made into the request
// replay would send.
#include "crcr/capture.hpp"
#include "crcr/error.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    crcr::JsonValueReader reader(in, "fuzz.jsonl");
    const std::vector<crcr::RecordFilter> filters = {
        {"event", "push"}, {"pr", "1"}, {"repo", "a/b"}};
    try {
        while (const auto value = reader.next()) {
            try {
                auto record = crcr::parse_replay_record(
                    value->text, "fuzz.jsonl:" + std::to_string(value->line), "push");
                (void)crcr::record_matches(record, filters);
                (void)crcr::webhook_request(std::move(record),
                                            "http://127.0.0.1:1/github/webhook",
                                            std::string("secret"),
                                            crcr::Signatures::sha256_and_sha1,
                                            "");
            } catch (const crcr::Error&) {
                // A record that cannot be replayed is reported, and the others still go.
            }
        }
    } catch (const crcr::Error&) {
        // Not a sequence of JSON values: the file is reported with a location.
    }
    return 0;
}
