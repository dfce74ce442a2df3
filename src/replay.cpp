// replay's engine: the event loops that send webhooks, the dispatch loop, and the run around
// them (records admitted, intents and results written, progress and summary).

#include "crcr/replay.hpp"

#include "crcr/dispatch.hpp"
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/github.hpp"
#include "crcr/random.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <span>
#include <thread>

namespace crcr {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

ReplaySubject subject_of(const ReplayRecord& record) {
    return {record.key, record.location, record.event, record.action};
}

// The milliseconds from `now` to `then`, rounded up so a wait never ends early; zero if past.
milliseconds until(TimePoint now, TimePoint then) {
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(then - now));
}

} // namespace

Pacer::Pacer(double rate, Context& ctx) : m_ctx(ctx) {
    if (rate > 0) {
        m_interval = std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(static_cast<long long>(1e9 / rate)));
    }
}

TimePoint Pacer::next(TimePoint now) const {
    const std::lock_guard lock(m_mutex);
    return std::max(m_next, now);
}

bool Pacer::try_take(TimePoint now) {
    const std::lock_guard lock(m_mutex);
    if (m_next > now) {
        return false;
    }
    m_next = now + m_interval;
    return true;
}

void Pacer::wait() {
    const TimePoint now = m_ctx.now();
    TimePoint at;
    {
        const std::lock_guard lock(m_mutex);
        at = std::max(m_next, now);
        m_next = at + m_interval;
    }
    if (const milliseconds delay = until(now, at); delay.count() > 0) {
        m_ctx.sleep(delay);
    }
}

namespace {

// A webhook on its way: signed, and its result so far. Between attempts it holds its request.
struct Outgoing {
    ReplaySubject subject;
    HttpRequest request;
    ReplayResult result;
    steady_clock::time_point started; // of the attempt in flight
};

// One replay run: reads, sends, records, reports.
class Replay {
public:
    Replay(const ReplaySettings& opts, Context& ctx)
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
    void add_intent(std::string& lines, const ReplaySubject& subject) const;
    void record_intents(std::string& lines);
    void record_results(std::span<const ReplayFinished> finished);
    void record_result(const ReplayFinished& finished) { record_results({&finished, 1}); }
    void report_unreadable(const Error& e);
    void progress(bool final);
    const std::string& target() const { return opts_.to.empty() ? opts_.dispatch_to : opts_.to; }

    const ReplaySettings& opts_;
    Context& ctx_;
    Pacer pacer_;
    std::unordered_map<std::string, std::string> prior_; // by record key
    std::optional<AppendFile> state_file_;
    std::optional<AppendFile> report_file_;

    std::mutex input_mutex_; // guards inputs_: the sending threads take records in turn
    std::optional<ReplayInputs> inputs_;
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
    ReplayInputs inputs(opts_.inputs, ctx_.in, [](const Error&) {}); // the real pass reports
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
    if (!record_matches(record, opts_.filters)) {
        const std::lock_guard lock(mutex_);
        ++filtered_;
        return std::nullopt;
    }
    if (const auto prior = prior_.find(record.key); prior != prior_.end()) {
        if (!opts_.resend_failed || prior->second == "delivered") {
            const bool in_flight = prior->second == "sending";
            if (in_flight) {
                const std::lock_guard lock(mutex_);
                ++uncertain_;
            }
            if (!opts_.dry_run) {
                record_result(ReplayFinished{
                    subject_of(record),
                    ReplayResult{
                        .outcome = ReplayOutcome::skipped,
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
                        opts_.secret,
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
    std::vector<ReplayFinished> finished;
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
        result.outcome = ReplayOutcome::delivered;
        return std::nullopt;
    }
    std::optional<std::chrono::seconds> after; // the answer's Retry-After
    bool not_acted_on = done.unsent;
    if (response) {
        result.error = fmt::format("{} {}", response->status, response->body.substr(0, 200));
        if (response->status < 500 && response->status != 429) {
            result.outcome = ReplayOutcome::rejected;
            return std::nullopt;
        }
        after = retry_after(*response);
        not_acted_on = response->status == 429 || (response->status == 503 && after);
    }
    result.may_have_dispatched = result.may_have_dispatched || !not_acted_on;
    if ((!not_acted_on && !opts_.retry_unsafe)
        || static_cast<unsigned>(result.attempts) > opts_.retries) {
        result.outcome = ReplayOutcome::failed;
        return std::nullopt;
    }
    milliseconds wait(1000LL << std::min(static_cast<unsigned>(result.attempts) - 1, 5U));
    if (after) {
        if (*after > std::chrono::duration<double>(opts_.max_wait)) {
            result.outcome = ReplayOutcome::failed;
            result.error += fmt::format(
                " (it asks to wait {} s, beyond --max-wait {} s)", after->count(), opts_.max_wait);
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
        result.outcome = ReplayOutcome::rejected;
        result.error = e.what();
        return result;
    }
    const Preflight check = preflight_dispatch(body);
    if (!check.problems.empty()) {
        result.outcome = ReplayOutcome::rejected;
        result.error = fmt::format("not sent: GitHub would refuse it (422): {}",
                                   fmt::join(check.problems, "; "));
        result.attempts = 0;
        return result;
    }
    const std::string token = opts_.auth->token_for(opts_.dispatch_to); // one token, reused
    const auto start = steady_clock::now();
    try {
        result.status = crcr::send_dispatch(*opts_.api, opts_.dispatch_to, token, body).status;
        result.outcome = ReplayOutcome::delivered;
    } catch (const Error& e) {
        if (e.code() == ExitCode::auth) {
            throw; // every other delivery would be refused the same way
        }
        result.outcome =
            e.code() == ExitCode::unavailable ? ReplayOutcome::failed : ReplayOutcome::rejected;
        // No answer or a 5xx: GitHub may have taken it (and the run started).
        result.may_have_dispatched = result.outcome == ReplayOutcome::failed;
        result.error = e.what();
    }
    result.latency_ms =
        std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
    return result;
}

// Appends the state file's "sending" line for `subject` to `lines`, for `record_intents`.
void Replay::add_intent(std::string& lines, const ReplaySubject& subject) const {
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
void Replay::record_results(std::span<const ReplayFinished> finished) {
    if (finished.empty()) {
        return;
    }
    std::string state;
    std::string report;
    std::uint64_t state_lines = 0;
    for (const ReplayFinished& f : finished) {
        if (state_file_ && f.result.outcome != ReplayOutcome::skipped) {
            append_state_line(state, f.subject.key, outcome_name(f.result.outcome));
            ++state_lines;
        }
        if (report_file_) {
            append_report_line(report, f, target());
        }
    }
    std::unique_lock lock(mutex_);
    for (const ReplayFinished& f : finished) {
        const ReplayResult& result = f.result;
        ++counts_[static_cast<int>(result.outcome)];
        if (result.outcome != ReplayOutcome::skipped && result.attempts > 0) {
            latency_.add(result.latency_ms);
        }
        if (result.outcome == ReplayOutcome::rejected || result.outcome == ReplayOutcome::failed) {
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
        ReplayFinished finished{subject_of(*record), {}};
        std::string intent;
        add_intent(intent, finished.subject);
        record_intents(intent);
        finished.result = send_dispatch(*record, random);
        record_result(finished);
    }
}

ExitCode Replay::run() {
    prior_ = load_replay_state(opts_.state);
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

ExitCode replay(const ReplaySettings& settings, Context& ctx) {
    Replay run(settings, ctx);
    return run.run();
}

} // namespace crcr
