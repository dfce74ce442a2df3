#pragma once

// replay's engine: sends captured deliveries again, as webhooks (many in flight, from one event
// loop per core) or as the relay's repository_dispatch (one a second), with --rate's pacer, the
// resumable state file and the JSON Lines report. The command (`commands/replay.cpp`) parses the
// options, resolves the secret and the GitHub credentials, and calls `replay`. All its side
// effects go through `Context`: the input stream, the clock, the sleep, the event loops, stderr.

#include "crcr/capture.hpp"
#include "crcr/context.hpp"
#include "crcr/exit_code.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <istream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace crcr {

class Error;
class GitHubApi;
class GitHubAuth;

// What became of one delivery.
enum class ReplayOutcome { delivered, rejected, failed, skipped };

// "delivered", "rejected", "failed", "skipped": as the state file and the report spell it.
std::string_view outcome_name(ReplayOutcome outcome);

// One delivery's result.
struct ReplayResult {
    ReplayOutcome outcome = ReplayOutcome::failed;
    int status = 0; // the last HTTP status; 0 without one
    int attempts = 0;
    double latency_ms = 0;
    std::string delivery_id; // as sent
    std::string error;
    // An attempt may have been acted on: the relay may have dispatched it (and a retry may have
    // dispatched it again).
    bool may_have_dispatched = false;
};

// What the state file and the report name a delivery by: its record without the body.
struct ReplaySubject {
    std::string key;
    std::string location;
    std::string event;
    std::string action;
};

// A delivery that is over, as the state file and the report record it.
struct ReplayFinished {
    ReplaySubject subject;
    ReplayResult result;
};

// Latencies in logarithmic buckets (a tenth of a decade each): the mean and the 99th percentile
// of any number of deliveries in constant memory. Not thread-safe.
class LatencyStats {
public:
    void add(double ms);
    // The mean of what was added, in ms; 0 for none.
    double mean() const;
    // The top of the bucket holding the 99th percentile, in ms (at most 26 % above it); 0 for none.
    double p99() const;

private:
    static constexpr std::size_t k_buckets = 90; // 1 µs to 1000 s
    std::array<std::uint64_t, k_buckets> m_buckets{};
    double m_sum = 0;
    std::uint64_t m_count = 0;
};

// Appends the state file's line for `key`: {"key":"...","outcome":"..."}. A key that is not
// UTF-8 (a file name in Latin-1, a delivery id with a lone surrogate escape) cannot be a JSON
// string as it is: {"key_base64url":"...",...} keeps its bytes, so a resumed run finds it, and
// two such keys never become one.
void append_state_line(std::string& out, std::string_view key, std::string_view outcome);

// Appends the report's JSON line for `finished`, sent to `target` (written directly: a line per
// delivery, thousands a second, without building a JSON document each time).
void append_report_line(std::string& out, const ReplayFinished& finished, std::string_view target);

// The outcome that earlier runs with the state file at `path` recorded for each record key (the
// last line for a key wins; lines that are not state lines are skipped). Empty for an empty
// `path` or a file that does not exist. Throws `crcr::Error` when it cannot be read.
std::unordered_map<std::string, std::string> load_replay_state(const std::string& path);

using TimePoint = std::chrono::system_clock::time_point;

// --rate: a token bucket (no burst: one start per interval), shared by the sending threads.
// Thread-safe. With a `rate` of 0 every start is due at once.
class Pacer {
public:
    Pacer(double rate, Context& ctx);
    // When the next start may be: `now`, or later.
    TimePoint next(TimePoint now) const;
    // Takes a start at `now` if one is due by then; false if the next one is later.
    bool try_take(TimePoint now);
    // Takes the next start and sleeps (`ctx.sleep`) until then.
    void wait();

private:
    Context& m_ctx;
    std::chrono::system_clock::duration m_interval{0};
    mutable std::mutex m_mutex;
    TimePoint m_next{};
};

// The records of every input, in order, one at a time: files, the files of folders, standard
// input (`in`) for "-". Not thread-safe.
class ReplayInputs {
public:
    // `report` hears of what cannot be read (an input that is not there, a file that cannot be
    // opened, a file whose text stops being a sequence of records): the rest of that input is
    // skipped, the others still go. `inputs` must outlive this.
    ReplayInputs(const std::vector<std::string>& inputs,
                 std::istream& in,
                 std::function<void(const Error&)> report);

    // The next record's text (valid until the next call) and where it starts ("file:line") in
    // `location`, or nothing after the last. Throws `crcr::Error` only for what is not the
    // input's fault (an input too large to hold, say).
    std::optional<JsonValueReader::Value> next(std::string& location);

private:
    void open(const std::string& file);

    const std::vector<std::string>& m_inputs;
    std::istream& m_in;
    std::function<void(const Error&)> m_report;
    std::size_t m_input = 0; // the next input to list
    std::vector<std::string> m_files;
    std::size_t m_file = 0; // the next of m_files to open
    std::ifstream m_stream;
    std::string m_name;
    std::optional<JsonValueReader> m_reader;
};

// One replay run, resolved: what the command line asked for, with the secret and the GitHub
// client already found.
struct ReplaySettings {
    std::vector<std::string> inputs;   // files, folders, or - for standard input
    std::string to;                    // a webhook URL (http:// or https://), or
    std::string dispatch_to;           // a repository ("owner/name"), as the relay's dispatch
    std::string event;                 // the event of bare payloads
    std::optional<std::string> secret; // webhooks: nothing sends them unsigned
    bool new_delivery_id = false;
    bool legacy_signature = false;
    std::vector<RecordFilter> filters; // ANDed
    std::optional<std::uint64_t> limit;
    unsigned concurrency = 4;  // at least 1
    double rate = 0;           // deliveries per second; 0: as fast as possible (dispatches 1)
    double timeout = 10;       // seconds for each webhook request
    unsigned retries = 3;      // webhooks: more attempts after what cannot have been acted on
    bool retry_unsafe = false; // and after 5xx or answers lost after sending: may dispatch again
    double max_wait = 900;     // seconds: a longer Retry-After fails the delivery
    bool dry_run = false;
    std::string report; // JSON Lines, appended
    std::string state;  // resumable runs
    bool resend_failed = false;
    // --dispatch-to without --dry-run: the API and the credentials (one token for the run).
    GitHubApi* api = nullptr;
    GitHubAuth* auth = nullptr;
};

// Sends every record of `settings.inputs` again, as `settings` says, and prints what was
// rejected or failed, the progress and a summary on `ctx.err` (--dry-run: what would be sent on
// `ctx.out`). `ok` when all were delivered (2xx), `failure` when any was rejected (4xx) or
// unreadable, `unavailable` when any failed (no answer, 5xx). Throws `crcr::Error` when the run
// cannot go on (credentials refused, a state or report file that cannot be written).
ExitCode replay(const ReplaySettings& settings, Context& ctx);

} // namespace crcr
