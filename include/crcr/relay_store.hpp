#pragma once

// The relay emulator's state, in one SQLite database (WAL mode): the deliveries it answered, the
// dispatches it made, the callback state machine (what production keeps in Redis), the callbacks
// it answered and the check runs production would have created. It survives restarts; one writer
// connection serialises the server's threads, and `crcr relay status` reads beside it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crcr {

// One step of the callback state machine, per (delivery id, repo, run id, attempt, job name). The
// dispatch itself is the row with an empty run id, attempt and job name.
struct StateKey {
    std::string delivery_id;
    std::string repo;
    std::string run_id;
    std::string run_attempt;
    std::string job_name;
};

struct StateRecord {
    std::string state; // DISPATCHED, IN_PROGRESS, COMPLETED
    double at = 0;     // seconds since the epoch
};

struct DeliveryRow {
    std::string delivery_id;
    std::string event;
    std::string action;
    std::string head_sha;
    double received_at = 0;
    int status = 0;     // the relay's answer
    std::string answer; // its body
    std::string decision;
};

struct DispatchRow {
    std::string delivery_id;
    std::string repo;
    std::string level;
    double at = 0;
    bool ok = false;
    std::string error;
    int github_status = 0; // --dispatch github: GitHub's answer (0 when recorded or none)
    std::size_t bytes = 0; // the dispatch body
};

struct CallbackRow {
    double at = 0;
    std::string repo; // the token's repository ("" before the token was verified)
    std::string delivery_id;
    std::string run_id;
    std::string run_attempt;
    std::string job_name;
    std::string workflow;
    std::string status; // in_progress, completed, as sent
    std::string conclusion;
    int answer_status = 0;
    std::string answer;
    std::optional<double> queue_time;
    std::optional<double> execution_time;
};

struct CheckRunRow {
    double at = 0;
    std::string head_sha;
    std::string repo;
    std::string name; // crcr/<owner>/<repo>/<workflow>/<job>
    std::string status;
    std::string conclusion;
    std::string details_url;
    bool blocks_merge = false;
};

// A downstream job's latest state for a commit (what a later `labeled` delivery backfills).
struct JobRow {
    std::string head_sha;
    std::string repo;
    std::string workflow;
    std::string job_name;
    std::string status;
    std::string conclusion;
    std::string details_url;
};

// What `crcr relay status` shows of one delivery.
struct DeliveryStatus {
    DeliveryRow delivery;
    std::vector<DispatchRow> dispatches;
    std::vector<CallbackRow> callbacks;
    std::vector<CheckRunRow> check_runs;
};

class RelayStore {
public:
    // Opens (creating it and its folder when missing) the database at `path`; ":memory:" for one
    // that lives as long as the object. Throws `crcr::Error` naming the file when it cannot be
    // opened or is not a crcr relay state.
    explicit RelayStore(const std::string& path, bool read_only = false);
    ~RelayStore();
    RelayStore(const RelayStore&) = delete;
    RelayStore& operator=(const RelayStore&) = delete;

    void add_delivery(const DeliveryRow& row);
    // Records a delivery's dispatches in one transaction: for each successful one, its DISPATCHED
    // state first (compare-and-set: when the delivery was dispatched to that repository before,
    // `on_duplicate` turns the row into a failure), then the row.
    void add_dispatches(std::vector<DispatchRow>& rows,
                        const std::function<void(DispatchRow&)>& on_duplicate);
    void add_callback(const CallbackRow& row);
    void add_check_run(const CheckRunRow& row);
    // The check runs recorded for a commit, oldest first.
    std::vector<CheckRunRow> check_runs(std::string_view head_sha);

    std::optional<StateRecord> state(const StateKey& key);
    // Compare and set: writes `to` when the current record's state is `from` (none: no record).
    // False when another request changed it first.
    bool
    advance(const StateKey& key, const std::optional<std::string>& from, const StateRecord& to);

    void want_check_run(std::string_view head_sha, std::string_view repo);
    bool check_run_wanted(std::string_view head_sha, std::string_view repo);
    void set_job(const JobRow& job);
    // The jobs of a commit in a repository, in the order they were first recorded.
    std::vector<JobRow> jobs(std::string_view head_sha, std::string_view repo);

    // The `limit` most recent deliveries, newest first, with what followed each.
    std::vector<DeliveryStatus> recent(std::size_t limit);
    // The relay's answers to every delivery with this id (redeliveries included), oldest first;
    // none when it never arrived.
    std::vector<int> answers(std::string_view delivery_id);
    // Callbacks that match no delivery in the store (nightly reports, rejected ones), newest first.
    std::vector<CallbackRow> unmatched_callbacks(std::size_t limit);
    // Rows per table, for tests and `relay status`.
    std::int64_t count(std::string_view table);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Where the state lives without --state: $XDG_STATE_HOME/crcr/relay.db, or
// $HOME/.local/state/crcr/relay.db.
std::string default_relay_state_path(const std::optional<std::string>& xdg_state_home,
                                     const std::optional<std::string>& home);

} // namespace crcr
