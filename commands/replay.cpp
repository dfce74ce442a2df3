#include "replay.hpp"

#include "option_checks.hpp"
#include "secret_options.hpp"

#include "crcr/capture.hpp"
#include "crcr/dispatch.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github_names.hpp"
#include "crcr/json_string.hpp"
#include "crcr/jwt.hpp"
#include "crcr/utf8.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

namespace crcr {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

enum class Outcome { delivered, rejected, failed, skipped };

std::string_view outcome_name(Outcome outcome) {
    switch (outcome) {
    case Outcome::delivered:
        return "delivered";
    case Outcome::rejected:
        return "rejected";
    case Outcome::failed:
        return "failed";
    case Outcome::skipped:
        return "skipped";
    }
    return "";
}

struct ReplayResult {
    Outcome outcome = Outcome::failed;
    int status = 0; // the last HTTP status; 0 without one
    int attempts = 0;
    double latency_ms = 0;
    std::string delivery_id; // as sent
    std::string error;
    // An attempt may have been acted on: the relay may have dispatched it (and a retry may have
    // dispatched it again).
    bool may_have_dispatched = false;
};

// Latencies in logarithmic buckets (a tenth of a decade each): the mean and the 99th percentile
// of any number of deliveries in constant memory.
class LatencyStats {
public:
    void add(double ms) {
        sum_ += ms;
        ++count_;
        const double position = std::log10(std::max(ms, 0.001)) * 10 + 30; // 1 µs -> bucket 0
        ++buckets_[static_cast<std::size_t>(std::clamp(position, 0.0, double(k_buckets - 1)))];
    }
    double mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }
    double p99() const {
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < k_buckets; ++i) {
            seen += buckets_[i];
            if (seen * 100 >= count_ * 99) {
                return std::pow(10.0, (static_cast<double>(i) + 1 - 30) / 10); // the bucket's top
            }
        }
        return 0;
    }

private:
    static constexpr std::size_t k_buckets = 90; // 1 µs to 1000 s
    std::array<std::uint64_t, k_buckets> buckets_{};
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

// What the state file and the report name a delivery by: its record without the body.
struct Subject {
    std::string key;
    std::string location;
    std::string event;
    std::string action;
};

Subject subject_of(const ReplayRecord& record) {
    return {record.key, record.location, record.event, record.action};
}

// A delivery that is over, as the state file and the report record it.
struct Finished {
    Subject subject;
    ReplayResult result;
};

// Appends the state file's line for `key`: {"key":"...","outcome":"..."}. A key that is not
// UTF-8 (a file name in Latin-1, a delivery id with a lone surrogate escape) cannot be a JSON
// string as it is: {"key_base64url":"...",...} keeps its bytes, so a resumed run finds it, and
// two such keys never become one.
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

// Appends the report's line for `finished` (written directly: a line per delivery, thousands a
// second, without building a JSON document each time).
void append_report_line(std::string& out, const Finished& finished, std::string_view target) {
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

// A webhook on its way: signed, and its result so far. Between attempts it holds its request.
struct Outgoing {
    Subject subject;
    HttpRequest request;
    ReplayResult result;
    steady_clock::time_point started; // of the attempt in flight
};

using TimePoint = std::chrono::system_clock::time_point;

// The milliseconds from `now` to `then`, rounded up so a wait never ends early; zero if past.
milliseconds until(TimePoint now, TimePoint then) {
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(then - now));
}

// --rate: a token bucket (no burst: one delivery per interval), shared by the sending threads.
class Pacer {
public:
    Pacer(double rate, Context& ctx) : ctx_(ctx) {
        if (rate > 0) {
            interval_ = std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(static_cast<long long>(1e9 / rate)));
        }
    }
    // When the next delivery may start: `now`, or later.
    TimePoint next(TimePoint now) const {
        const std::lock_guard lock(mutex_);
        return std::max(next_, now);
    }
    // Takes a start at `now` if one is due by then; false if the next one is later.
    bool try_take(TimePoint now) {
        const std::lock_guard lock(mutex_);
        if (next_ > now) {
            return false;
        }
        next_ = now + interval_;
        return true;
    }
    // Takes the next start and sleeps until then.
    void wait() {
        const TimePoint now = ctx_.now();
        TimePoint at;
        {
            const std::lock_guard lock(mutex_);
            at = std::max(next_, now);
            next_ = at + interval_;
        }
        if (const milliseconds delay = until(now, at); delay.count() > 0) {
            ctx_.sleep(delay);
        }
    }

private:
    Context& ctx_;
    std::chrono::system_clock::duration interval_{0};
    mutable std::mutex mutex_;
    TimePoint next_{};
};

// What earlier runs with the same --state file did, by record key.
struct PriorState {
    std::unordered_map<std::string, std::string> outcome; // the last line per key wins
};

PriorState load_state(const std::string& path) {
    PriorState state;
    if (path.empty()) {
        return state;
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
        state.outcome[key] = entry["outcome"].get<std::string>();
    }
    return state;
}

// The records of every input, in order, one at a time: files, the files of folders, standard
// input for "-". Not thread-safe: the sending threads take turns.
class Inputs {
public:
    // `report` hears of what cannot be read (an input that is not there, a file that cannot be
    // opened, a file whose text stops being a sequence of records): the rest of that input is
    // skipped, the others still go.
    Inputs(const std::vector<std::string>& inputs,
           std::istream& in,
           std::function<void(const Error&)> report)
        : inputs_(inputs), in_(in), report_(std::move(report)) {}

    // The next record's text (valid until the next call) and where it starts ("file:line"), or
    // nothing after the last.
    std::optional<JsonValueReader::Value> next(std::string& location) {
        while (true) {
            if (reader_) {
                try {
                    if (std::optional<JsonValueReader::Value> value = reader_->next()) {
                        location = fmt::format("{}:{}", name_, value->line);
                        return value;
                    }
                } catch (const Error& e) {
                    if (e.code() != ExitCode::failure) {
                        throw;
                    }
                    report_(e); // the rest of this file cannot be read in step
                }
                reader_.reset();
            }
            if (file_ < files_.size()) {
                try {
                    open(files_[file_++]); // gone since its folder was listed, say
                } catch (const Error& e) {
                    report_(e);
                }
                continue;
            }
            if (input_ == inputs_.size()) {
                return std::nullopt;
            }
            const std::string& input = inputs_[input_++];
            files_.clear();
            file_ = 0;
            try {
                files_ = input == "-" ? std::vector<std::string>{"-"} : files_under(input, report_);
            } catch (const Error& e) {
                report_(e);
            }
        }
    }

private:
    void open(const std::string& file) {
        if (file == "-") {
            name_ = "<stdin>";
            reader_.emplace(in_, name_);
            return;
        }
        stream_.close();
        stream_.clear();
        stream_.open(file, std::ios::binary);
        if (!stream_) {
            throw Error(fmt::format("cannot read '{}': {}", file, std::strerror(errno)));
        }
        name_ = file;
        reader_.emplace(stream_, name_);
    }

    const std::vector<std::string>& inputs_;
    std::istream& in_;
    std::function<void(const Error&)> report_;
    std::size_t input_ = 0; // the next input to list
    std::vector<std::string> files_;
    std::size_t file_ = 0; // the next of files_ to open
    std::ifstream stream_;
    std::string name_;
    std::optional<JsonValueReader> reader_;
};

// One replay run: reads, sends, records, reports.
class Replay {
public:
    Replay(const ReplayOptions& opts, Context& ctx)
        : opts_(opts), ctx_(ctx), pacer_(effective_rate(), ctx) {}

    ExitCode run();

private:
    double effective_rate() const {
        // GitHub asks for a second between mutating requests: dispatches go one a second
        // unless told otherwise.
        return opts_.rate > 0 ? opts_.rate : (opts_.dispatch_to.empty() ? 0 : 1);
    }
    std::optional<std::uint64_t> count_records() const;
    std::optional<ReplayRecord> next_record(std::string& text);
    std::optional<ReplayRecord> admit(std::string_view text, const std::string& location);
    bool limit_reached() const { return opts_.limit && selected_.load() >= *opts_.limit; }
    void dry_run();
    Outgoing prepare_webhook(ReplayRecord record, Random& random) const;
    void send_webhooks();
    void webhook_loop(std::size_t slots, std::uint64_t seed);
    std::optional<milliseconds> settle(Outgoing& outgoing, HttpCompletion& done) const;
    void send_dispatches();
    ReplayResult send_dispatch(const ReplayRecord& record, Random& random);
    void add_intent(std::string& lines, const Subject& subject) const;
    void record_intents(std::string& lines);
    void record_results(std::span<const Finished> finished);
    void record_result(const Finished& finished) { record_results({&finished, 1}); }
    void report_unreadable(const Error& e);
    void progress(bool final);
    const std::string& target() const { return opts_.to.empty() ? opts_.dispatch_to : opts_.to; }

    const ReplayOptions& opts_;
    Context& ctx_;
    Pacer pacer_;
    std::optional<std::string> secret_;
    std::vector<RecordFilter> filters_;
    PriorState prior_;
    std::optional<AppendFile> state_file_;
    std::optional<AppendFile> report_file_;
    std::optional<GitHubApi> api_;
    std::optional<GitHubAuth> auth_;

    std::mutex input_mutex_; // guards inputs_: the sending threads take records in turn
    std::optional<Inputs> inputs_;
    std::atomic<bool> stop_{false}; // a sending thread failed for good: the others stop taking
    std::atomic<std::uint64_t> selected_{0};
    std::mutex mutex_; // guards what follows
    std::uint64_t counts_[4] = {0, 0, 0, 0};
    std::uint64_t invalid_ = 0;
    std::uint64_t uncertain_ = 0;
    std::uint64_t may_have_dispatched_ = 0; // of the rejected and failed
    std::uint64_t filtered_ = 0;
    std::uint64_t since_sync_ = 0;
    std::uint64_t would_send_bytes_ = 0; // --dry-run
    LatencyStats latency_;
    std::exception_ptr fatal_;
    std::optional<std::uint64_t> total_;
    steady_clock::time_point started_ = steady_clock::now();
    steady_clock::time_point last_progress_ = started_;
    bool progress_shown_ = false;
};

void Replay::report_unreadable(const Error& e) {
    const std::lock_guard lock(mutex_);
    fmt::print(ctx_.err, "crcr: error: {}\n", e.what());
    ++invalid_;
}

// How many records the inputs hold, for the progress bar's ETA: a quick pass that parses nothing.
// Nothing for standard input, which can be read once only.
std::optional<std::uint64_t> Replay::count_records() const {
    if (std::find(opts_.inputs.begin(), opts_.inputs.end(), "-") != opts_.inputs.end()) {
        return std::nullopt;
    }
    Inputs inputs(opts_.inputs, ctx_.in, [](const Error&) {}); // the real pass reports
    std::uint64_t total = 0;
    std::string location;
    try {
        while (inputs.next(location)) {
            ++total;
        }
    } catch (const Error&) {
        return std::nullopt;
    }
    return total;
}

// The next record to send, parsed and admitted, or nothing when there are no more (or the run
// stops). Any thread: the text of each record is copied into `text` (the caller's, so its memory
// is reused) while the inputs are held, and parsed after; with --limit it is admitted while they
// are held, so the records sent are the first ones, in order.
std::optional<ReplayRecord> Replay::next_record(std::string& text) {
    std::string location;
    while (true) {
        std::unique_lock lock(input_mutex_);
        if (stop_ || limit_reached()) {
            return std::nullopt;
        }
        const std::optional<JsonValueReader::Value> value = inputs_->next(location);
        if (!value) {
            return std::nullopt;
        }
        text.assign(value->text);
        if (!opts_.limit) {
            lock.unlock();
        }
        if (std::optional<ReplayRecord> record = admit(text, location)) {
            return record;
        }
    }
}

// The record in `text`, if it is to be sent: parsed (an unreadable one is reported), through the
// filters, not done by an earlier run with the same state, and within --limit.
std::optional<ReplayRecord> Replay::admit(std::string_view text, const std::string& location) {
    ReplayRecord record;
    try {
        record = parse_replay_record(text, location, opts_.event);
    } catch (const Error& e) {
        if (e.code() != ExitCode::failure) {
            throw;
        }
        report_unreadable(e);
        return std::nullopt;
    }
    if (!record_matches(record, filters_)) {
        const std::lock_guard lock(mutex_);
        ++filtered_;
        return std::nullopt;
    }
    if (const auto prior = prior_.outcome.find(record.key); prior != prior_.outcome.end()) {
        if (!opts_.resend_failed || prior->second == "delivered") {
            const bool in_flight = prior->second == "sending";
            if (in_flight) {
                const std::lock_guard lock(mutex_);
                ++uncertain_;
            }
            if (!opts_.dry_run) {
                record_result(Finished{
                    subject_of(record),
                    ReplayResult{
                        .outcome = Outcome::skipped,
                        .delivery_id = record.delivery_id,
                        .error = in_flight ? "in flight when an earlier run stopped: it may have "
                                             "arrived (--resend-failed sends it again)"
                                           : fmt::format("{} in an earlier run", prior->second)}});
            }
            return std::nullopt;
        }
    }
    if (const std::uint64_t n = selected_.fetch_add(1); opts_.limit && n >= *opts_.limit) {
        return std::nullopt;
    }
    return record;
}

// --dry-run: what would be sent, in order, on this thread.
void Replay::dry_run() {
    std::string text;
    while (const std::optional<ReplayRecord> record = next_record(text)) {
        would_send_bytes_ += record->body.size();
        fmt::print(ctx_.out,
                   "{} {} {}{} {} {} B ({})\n",
                   opts_.to.empty() ? "DISPATCH" : "POST",
                   target(),
                   record->event,
                   record->action.empty() ? "" : "/" + record->action,
                   record->delivery_id.empty() ? "(new delivery id)" : record->delivery_id,
                   record->body.size(),
                   record->location);
    }
}

Outgoing Replay::prepare_webhook(ReplayRecord record, Random& random) const {
    Outgoing outgoing;
    outgoing.subject = subject_of(record);
    const std::string new_id =
        opts_.new_delivery_id || record.delivery_id.empty() ? random.uuid_v4() : "";
    outgoing.result.delivery_id = new_id.empty() ? record.delivery_id : new_id;
    outgoing.request =
        webhook_request(std::move(record),
                        opts_.to,
                        secret_,
                        opts_.legacy_signature ? Signatures::sha256_and_sha1 : Signatures::sha256,
                        new_id);
    outgoing.request.timeout =
        milliseconds(static_cast<long long>(std::llround(opts_.timeout * 1000)));
    return outgoing;
}

// Deliveries waiting for a retry hold no connection, but at most this many wait at once in each
// event loop: a receiver that fails everything slows the run down instead of filling memory.
constexpr std::size_t k_max_retrying = 256;
// How long a loop waits for answers before it looks for new deliveries again.
constexpr milliseconds k_poll(10);

// Webhooks go from one event loop per core (at most one per --concurrency), as wrk does: each
// loop reads, signs and sends its own deliveries, taking records from the inputs in turn, so
// the work spreads over the cores with no hand-over between threads.
void Replay::send_webhooks() {
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    const std::size_t loops = std::min(std::max(1U, opts_.concurrency), cores);
    Random seeds(ctx_.random_seed());
    std::vector<std::thread> threads;
    const auto run_loop = [this](std::size_t slots, std::uint64_t seed) {
        try {
            webhook_loop(slots, seed);
        } catch (...) {
            const std::lock_guard lock(mutex_);
            if (!fatal_) {
                fatal_ = std::current_exception();
            }
            stop_ = true;
        }
    };
    for (std::size_t i = 0; i < loops; ++i) {
        // --concurrency shared out: the first loops take one more when it does not divide.
        const std::size_t slots = opts_.concurrency / loops + (i < opts_.concurrency % loops);
        const std::uint64_t seed = seeds.between(0, UINT64_MAX - 1);
        if (i + 1 == loops) {
            run_loop(slots, seed); // the last one on this thread
        } else {
            threads.emplace_back(run_loop, slots, seed);
        }
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
}

// One event loop: up to `slots` webhooks in flight, new ones started as answers come (and as
// --rate allows), a retry started when its wait is over without holding up others.
void Replay::webhook_loop(std::size_t slots, std::uint64_t seed) {
    const std::unique_ptr<ConcurrentHttpClient> http = ctx_.concurrent_http();
    Random random(seed);
    std::string text; // each record's text, its memory reused
    std::unordered_map<std::uint64_t, Outgoing> in_flight;
    std::multimap<TimePoint, Outgoing> retrying; // by when their wait is over
    // Started, and over, together: their lines in the state file and the report are written
    // with one write per batch (and one lock), not one per delivery.
    std::vector<Outgoing> starting;
    std::string intents;
    std::vector<Finished> finished;
    std::uint64_t next_tag = 0;
    bool input_open = true;
    const auto launch = [&](Outgoing outgoing) {
        ++outgoing.result.attempts;
        outgoing.started = steady_clock::now();
        http->start(next_tag, std::move(outgoing.request));
        in_flight.emplace(next_tag++, std::move(outgoing));
    };
    while (true) {
        TimePoint now = ctx_.now();
        while (in_flight.size() + starting.size() < slots) {
            if (!retrying.empty() && retrying.begin()->first <= now) {
                launch(std::move(retrying.begin()->second));
                retrying.erase(retrying.begin());
                continue;
            }
            if (!input_open || retrying.size() >= k_max_retrying || !pacer_.try_take(now)) {
                break;
            }
            std::optional<ReplayRecord> record = next_record(text);
            if (!record) {
                input_open = false;
                break;
            }
            starting.push_back(prepare_webhook(std::move(*record), random));
            add_intent(intents, starting.back().subject);
            now = ctx_.now();
        }
        record_intents(intents); // before any of them is sent
        for (Outgoing& outgoing : starting) {
            launch(std::move(outgoing));
        }
        starting.clear();
        if (in_flight.empty() && retrying.empty() && !input_open) {
            return;
        }
        // The next time something may start without an answer first: a retry, or (with a free
        // slot and input left) the pacer's next start.
        std::optional<TimePoint> due;
        if (!retrying.empty()) {
            due = retrying.begin()->first;
        }
        if (input_open && in_flight.size() < slots && retrying.size() < k_max_retrying) {
            due = std::min(due.value_or(TimePoint::max()), pacer_.next(now));
        }
        if (!in_flight.empty()) {
            const milliseconds timeout = due ? std::min(until(now, *due), k_poll) : k_poll;
            for (HttpCompletion& done : http->wait(timeout)) {
                const auto it = in_flight.find(done.tag);
                Outgoing outgoing = std::move(it->second);
                in_flight.erase(it);
                if (const std::optional<milliseconds> wait = settle(outgoing, done)) {
                    retrying.emplace(ctx_.now() + *wait, std::move(outgoing));
                } else {
                    finished.push_back({std::move(outgoing.subject), std::move(outgoing.result)});
                }
            }
            record_results(finished);
            finished.clear();
        } else if (due) {
            ctx_.sleep(until(now, *due)); // nothing to do until then
        }
    }
}

// Takes the answer to `outgoing`'s latest attempt, `done`. Fills in its result and returns
// nothing when that is final (delivered, rejected, or failed), or how long to wait before the
// next attempt. The relay may dispatch before any 5xx (a repeated delivery id is dispatched again,
// then answered 502) and before an answer that never comes: only what it cannot have acted on is
// retried (no byte sent, 429, 503 with Retry-After), the rest only with --retry-unsafe.
std::optional<milliseconds> Replay::settle(Outgoing& outgoing, HttpCompletion& done) const {
    ReplayResult& result = outgoing.result;
    outgoing.request = std::move(done.request);
    result.latency_ms =
        std::chrono::duration<double, std::milli>(steady_clock::now() - outgoing.started).count();
    const std::optional<HttpResponse>& response = done.response;
    result.status = response ? response->status : 0;
    result.error = response ? "" : std::move(done.error);
    if (response && response->status >= 200 && response->status < 300) {
        result.outcome = Outcome::delivered;
        return std::nullopt;
    }
    std::optional<std::chrono::seconds> after; // the answer's Retry-After
    bool not_acted_on = done.unsent;
    if (response) {
        result.error = fmt::format("{} {}", response->status, response->body.substr(0, 200));
        if (response->status < 500 && response->status != 429) {
            result.outcome = Outcome::rejected;
            return std::nullopt;
        }
        after = retry_after(*response);
        not_acted_on = response->status == 429 || (response->status == 503 && after);
    }
    result.may_have_dispatched = result.may_have_dispatched || !not_acted_on;
    if ((!not_acted_on && !opts_.retry_unsafe)
        || static_cast<unsigned>(result.attempts) > opts_.retries) {
        result.outcome = Outcome::failed;
        return std::nullopt;
    }
    milliseconds wait(1000LL << std::min(static_cast<unsigned>(result.attempts) - 1, 5U));
    if (after) {
        if (*after > std::chrono::duration<double>(opts_.github.max_wait)) {
            result.outcome = Outcome::failed;
            result.error += fmt::format(" (it asks to wait {} s, beyond --max-wait {} s)",
                                        after->count(),
                                        opts_.github.max_wait);
            return std::nullopt;
        }
        wait = std::max<milliseconds>(*after, std::chrono::seconds(1));
    }
    return wait;
}

ReplayResult Replay::send_dispatch(const ReplayRecord& record, Random& random) {
    ReplayResult result;
    result.attempts = 1;
    const std::string delivery_id =
        opts_.new_delivery_id || record.delivery_id.empty() ? random.uuid_v4() : record.delivery_id;
    result.delivery_id = delivery_id;
    Json body;
    try {
        body = dispatch_body(
            record.event, delivery_id, parse_webhook_body(record.body, record.location));
    } catch (const Error& e) {
        result.outcome = Outcome::rejected;
        result.error = e.what();
        return result;
    }
    const Preflight check = preflight_dispatch(body);
    if (!check.problems.empty()) {
        result.outcome = Outcome::rejected;
        result.error = fmt::format("not sent: GitHub would refuse it (422): {}",
                                   fmt::join(check.problems, "; "));
        result.attempts = 0;
        return result;
    }
    const std::string token = auth_->token_for(opts_.dispatch_to); // one token, reused
    const auto start = steady_clock::now();
    try {
        result.status = crcr::send_dispatch(*api_, opts_.dispatch_to, token, body).status;
        result.outcome = Outcome::delivered;
    } catch (const Error& e) {
        if (e.code() == ExitCode::auth) {
            throw; // every other delivery would be refused the same way
        }
        result.outcome = e.code() == ExitCode::unavailable ? Outcome::failed : Outcome::rejected;
        // No answer or a 5xx: GitHub may have taken it (and the run started).
        result.may_have_dispatched = result.outcome == Outcome::failed;
        result.error = e.what();
    }
    result.latency_ms =
        std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
    return result;
}

// Appends the state file's "sending" line for `subject` to `lines`, for `record_intents`.
void Replay::add_intent(std::string& lines, const Subject& subject) const {
    if (state_file_) {
        append_state_line(lines, subject.key, "sending");
    }
}

// Writes the "sending" lines gathered by `add_intent` (before the deliveries they name start:
// a run killed while they are in flight does not send them again), and clears `lines`.
void Replay::record_intents(std::string& lines) {
    if (lines.empty()) {
        return;
    }
    {
        const std::lock_guard lock(mutex_);
        state_file_->append(lines);
    }
    lines.clear();
}

// Counts the deliveries that are over, writes their lines (formatted before taking the lock,
// then one write per file) and names those that were rejected or failed.
void Replay::record_results(std::span<const Finished> finished) {
    if (finished.empty()) {
        return;
    }
    std::string state;
    std::string report;
    std::uint64_t state_lines = 0;
    for (const Finished& f : finished) {
        if (state_file_ && f.result.outcome != Outcome::skipped) {
            append_state_line(state, f.subject.key, outcome_name(f.result.outcome));
            ++state_lines;
        }
        if (report_file_) {
            append_report_line(report, f, target());
        }
    }
    std::unique_lock lock(mutex_);
    for (const Finished& f : finished) {
        const ReplayResult& result = f.result;
        ++counts_[static_cast<int>(result.outcome)];
        if (result.outcome != Outcome::skipped && result.attempts > 0) {
            latency_.add(result.latency_ms);
        }
        if (result.outcome == Outcome::rejected || result.outcome == Outcome::failed) {
            may_have_dispatched_ += result.may_have_dispatched ? 1 : 0;
            // The record's key, and where it is unless that is its key.
            fmt::print(
                ctx_.err,
                "crcr: {} {}{}: {}{}\n",
                outcome_name(result.outcome),
                f.subject.key,
                f.subject.key == f.subject.location ? "" : fmt::format(" ({})", f.subject.location),
                result.error,
                result.may_have_dispatched ? " (it may have been dispatched)" : "");
        }
    }
    bool sync = false;
    if (!state.empty()) {
        state_file_->append(state);
        since_sync_ += state_lines;
        if (since_sync_ >= 1000) {
            sync = true;
            since_sync_ = 0;
        }
    }
    if (!report.empty()) {
        report_file_->append(report);
    }
    progress(false);
    lock.unlock();
    if (sync) {
        state_file_->sync(); // a millisecond or more: the other threads go on appending
    }
}

// A progress bar on a terminal (redrawn ten times a second), a plain line every 10 s elsewhere.
void Replay::progress(bool final) {
    const auto now = steady_clock::now();
    const bool terminal = ctx_.err_is_terminal;
    if (!final && now - last_progress_ < (terminal ? milliseconds(100) : milliseconds(10'000))) {
        return;
    }
    last_progress_ = now;
    const std::uint64_t done = counts_[0] + counts_[1] + counts_[2] + counts_[3];
    const double elapsed_s = std::chrono::duration<double>(now - started_).count();
    const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0;
    if (!terminal) {
        if (!final) {
            fmt::print(ctx_.err, "crcr: replay: {} done, {:.0f}/s\n", done, rate);
        }
        return;
    }
    if (final) {
        if (progress_shown_) {
            fmt::print(ctx_.err, "\r\033[K");
        }
        return;
    }
    std::string line;
    if (total_ && *total_ > 0) {
        const double fraction =
            std::min(1.0, static_cast<double>(done) / static_cast<double>(*total_));
        const auto filled = static_cast<std::size_t>(fraction * 30);
        const double eta =
            rate > 0 ? static_cast<double>(*total_ - std::min(done, *total_)) / rate : 0;
        line = fmt::format("[{}{}] {}/{} {:.0f}/s ETA {:.0f} s",
                           std::string(filled, '#'),
                           std::string(30 - filled, ' '),
                           done,
                           *total_,
                           rate,
                           eta);
    } else {
        line = fmt::format("{} done {:.0f}/s", done, rate);
    }
    fmt::print(ctx_.err, "\r\033[K{}", line);
    progress_shown_ = true;
}

// Dispatches go one at a time, one a second: GitHub asks for no concurrent mutating requests.
void Replay::send_dispatches() {
    Random random(ctx_.random_seed());
    std::string text;
    while (const std::optional<ReplayRecord> record = next_record(text)) {
        pacer_.wait();
        Finished finished{subject_of(*record), {}};
        std::string intent;
        add_intent(intent, finished.subject);
        record_intents(intent);
        finished.result = send_dispatch(*record, random);
        record_result(finished);
    }
}

ExitCode Replay::run() {
    for (const std::string& filter : opts_.filters) {
        filters_.push_back(parse_record_filter(filter));
    }
    if (!opts_.dispatch_to.empty()) {
        if (const auto problem = full_name_problem(opts_.dispatch_to)) {
            throw Error(fmt::format("--dispatch-to '{}' is not a repository: {}",
                                    opts_.dispatch_to,
                                    *problem),
                        ExitCode::usage);
        }
    } else if (!opts_.to.starts_with("http://") && !opts_.to.starts_with("https://")) {
        throw Error(
            fmt::format("--to '{}' is not an http:// or https:// URL", redact_url(opts_.to)),
            ExitCode::usage);
    }
    if (!opts_.to.empty() && !opts_.dry_run) {
        secret_ = resolve_secret(opts_.secret, ctx_);
        if (!secret_) {
            fmt::print(ctx_.err,
                       "crcr: note: no webhook secret (CRCR_WEBHOOK_SECRET_FILE, "
                       "CRCR_WEBHOOK_SECRET or --secret-file): deliveries go unsigned\n");
        }
    }
    if (!opts_.dispatch_to.empty() && !opts_.dry_run) {
        std::optional<GitHubCredentials> credentials = resolve_credentials(opts_.github, ctx_);
        if (!credentials) {
            throw Error("no GitHub credentials for --dispatch-to: GH_TOKEN or GITHUB_TOKEN, "
                        "--token-file, or an App's --app-id and --private-key"
                            + std::string(k_token_hint),
                        ExitCode::auth);
        }
        GitHubWaits waits = github_waits(opts_.github, ctx_);
        waits.timeout = milliseconds(std::llround(opts_.timeout * 1000));
        api_.emplace(ctx_.http, resolve_api_url(opts_.github, ctx_), std::move(waits));
        auth_.emplace(*api_, std::move(*credentials));
    }
    prior_ = load_state(opts_.state);
    if (!opts_.dry_run) {
        if (!opts_.state.empty()) {
            state_file_.emplace(opts_.state);
        }
        if (!opts_.report.empty()) {
            report_file_.emplace(opts_.report);
        }
    }
    if (ctx_.err_is_terminal && !opts_.dry_run) {
        total_ = count_records();
    }
    inputs_.emplace(opts_.inputs, ctx_.in, [this](const Error& e) { report_unreadable(e); });
    if (opts_.dry_run) {
        dry_run();
        fmt::print(ctx_.err,
                   "crcr: dry run: would send {} deliveries, {} bytes of bodies{}\n",
                   opts_.limit ? std::min(selected_.load(), *opts_.limit) : selected_.load(),
                   would_send_bytes_,
                   filtered_ > 0 ? fmt::format(" ({} filtered out)", filtered_) : "");
        return invalid_ > 0 ? ExitCode::failure : ExitCode::ok;
    }
    if (opts_.to.empty()) {
        send_dispatches();
    } else {
        send_webhooks();
        if (fatal_) {
            std::rethrow_exception(fatal_);
        }
    }
    progress(true);
    if (may_have_dispatched_ > 0) {
        fmt::print(ctx_.err,
                   "crcr: note: {} of the deliveries that did not succeed may have been "
                   "dispatched (a 5xx or an answer lost after sending: the relay answers 502 to a "
                   "delivery id it has seen, after dispatching it again); look downstream before "
                   "sending them again\n",
                   may_have_dispatched_);
    }
    const double elapsed_s = std::chrono::duration<double>(steady_clock::now() - started_).count();
    const std::uint64_t sent = counts_[0] + counts_[1] + counts_[2];
    fmt::print(ctx_.err,
               "crcr: replay: {} delivered, {} rejected, {} failed{}, {} skipped{}{}{} in {:.2f} s "
               "({:.0f}/s); latency mean {:.1f} ms, p99 {:.1f} ms\n",
               counts_[0],
               counts_[1],
               counts_[2],
               may_have_dispatched_ > 0 ? fmt::format(
                   " ({} of the rejected and failed may have dispatched)", may_have_dispatched_)
                                        : "",
               counts_[3],
               uncertain_ > 0 ? fmt::format(" ({} uncertain)", uncertain_) : "",
               filtered_ > 0 ? fmt::format(", {} filtered out", filtered_) : "",
               invalid_ > 0 ? fmt::format(", {} unreadable", invalid_) : "",
               elapsed_s,
               elapsed_s > 0 ? static_cast<double>(sent) / elapsed_s : 0,
               latency_.mean(),
               latency_.p99());
    if (counts_[2] > 0) {
        return ExitCode::unavailable;
    }
    return counts_[1] > 0 || invalid_ > 0 ? ExitCode::failure : ExitCode::ok;
}

} // namespace

void add_replay(CLI::App& parent, std::function<void(const ReplayOptions&)> on_parsed) {
    auto opts = std::make_shared<ReplayOptions>();
    CLI::App* cmd = parent.add_subcommand(
        "replay", "Send captured deliveries again, to a relay or as repository_dispatch");
    cmd->add_option("CAPTURE",
                    opts->inputs,
                    "Capture files or folders (crcr capture records, GitHub delivery records, "
                    "payloads); - for standard input")
        ->required()
        ->type_name("");
    const std::string target_group = "Target";
    auto* to =
        cmd->add_option("--to",
                        opts->to,
                        "Send each delivery as a webhook to this URL (a relay's /github/webhook)")
            ->type_name("URL")
            ->group(target_group);
    auto* dispatch_to =
        cmd->add_option("--dispatch-to",
                        opts->dispatch_to,
                        "Send each one as the relay's repository_dispatch to this repository")
            ->type_name("OWNER/NAME")
            ->group(target_group);
    to->excludes(dispatch_to);
    cmd->add_option("--event", opts->event, "The event of bare payloads (records carry their own)")
        ->type_name("EVENT")
        ->group(target_group);
    add_secret_options(*cmd, opts->secret, target_group);
    cmd->add_flag("--new-delivery-id",
                  opts->new_delivery_id,
                  "Give each delivery a fresh X-GitHub-Delivery (the relay reports a repeated one "
                  "as failed)")
        ->group(target_group);
    auto* legacy =
        cmd->add_flag(
               "--legacy-signature",
               opts->legacy_signature,
               "Also sign with HMAC-SHA1 in X-Hub-Signature, as GitHub does for old receivers "
               "(the relay reads only X-Hub-Signature-256)")
            ->group(target_group);
    legacy->excludes(dispatch_to);
    add_github_options(*cmd, opts->github);

    const std::string control_group = "Control";
    cmd->add_option("--filter",
                    opts->filters,
                    "Only deliveries with KEY=VALUE: event, action, pr, repo, delivery "
                    "(repeatable, all must match)")
        ->type_name("KEY=VALUE")
        ->group(control_group);
    cmd->add_option("--limit", opts->limit, "Send at most N deliveries")
        ->type_name("N")
        ->transform(whole_number({1, k_any_u64.max}))
        ->group(control_group);
    cmd->add_option(
           "--concurrency",
           opts->concurrency,
           "Deliveries in flight at once, on connections kept alive and reused (default 4)")
        ->type_name("N")
        ->transform(whole_number({1, 256}))
        ->group(control_group);
    cmd->add_option("--rate",
                    opts->rate,
                    "At most this many deliveries a second (default: no limit; dispatches 1)")
        ->type_name("PER_SECOND")
        ->check(real_number(k_per_second))
        ->group(control_group);
    cmd->add_option(
           "--timeout", opts->timeout, "Seconds to wait for each answer (default 10, as GitHub)")
        ->type_name("SECONDS")
        ->check(real_number(k_seconds))
        ->group(control_group);
    cmd->add_option("--retries",
                    opts->retries,
                    "Webhooks: attempts after what the relay cannot have acted on: no connection, "
                    "429, 503 with Retry-After (default 3; dispatches never retry)")
        ->type_name("N")
        ->transform(whole_number({0, 20}))
        ->group(control_group);
    cmd->add_flag("--retry-unsafe",
                  opts->retry_unsafe,
                  "Also retry other 5xx and answers lost after sending. RISK: the relay may have "
                  "dispatched already (it answers 502 to a delivery id it has seen, after "
                  "dispatching it again): each retry can start one more run in every downstream "
                  "repository")
        ->group(control_group);
    cmd->add_flag("--dry-run", opts->dry_run, "List what would be sent, with sizes; send nothing")
        ->group(control_group);

    const std::string record_group = "Records";
    cmd->add_option("--report", opts->report, "Append one JSON line per delivery to FILE")
        ->type_name("FILE")
        ->group(record_group);
    auto* state =
        cmd->add_option(
               "--state",
               opts->state,
               "Make the run resumable: a later run with FILE sends only what was not sent")
            ->type_name("FILE")
            ->group(record_group);
    cmd->add_flag("--resend-failed",
                  opts->resend_failed,
                  "With --state: send again what was rejected, failed or in flight")
        ->needs(state)
        ->group(record_group);
    cmd->footer(R"(Examples:
  CRCR_WEBHOOK_SECRET_FILE=secret.txt crcr replay load.jsonl --to http://127.0.0.1:8080/github/webhook \
      --concurrency 8 --state run.state --report run.jsonl
  crcr replay deliveries/ --filter event=pull_request --filter action=synchronize --dry-run
  crcr replay payload.json --event push --dispatch-to my-org/pytorch-ci

Exit status: 0 all delivered, 1 any rejected (4xx) or unreadable, 2 usage, 4 credentials,
5 any failed (no answer or 5xx; the summary says how many may have been dispatched).)");
    cmd->callback([opts, on_parsed = std::move(on_parsed)] { on_parsed(*opts); });
}

ExitCode run_replay(const ReplayOptions& opts, Context& ctx) {
    if (opts.to.empty() && opts.dispatch_to.empty()) {
        throw Error("replay needs a target: --to URL or --dispatch-to OWNER/NAME", ExitCode::usage);
    }
    Replay replay(opts, ctx);
    return replay.run();
}

} // namespace crcr
