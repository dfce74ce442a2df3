#include "crcr/relay_store.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"

#include <fmt/format.h>

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace crcr {

namespace {

constexpr int k_schema_version = 1;

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL, event TEXT NOT NULL,
  action TEXT NOT NULL, head_sha TEXT NOT NULL, received_at REAL NOT NULL,
  status INTEGER NOT NULL, answer TEXT NOT NULL, decision TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_by_id ON deliveries (delivery_id);
CREATE TABLE IF NOT EXISTS dispatches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL, repo TEXT NOT NULL,
  level TEXT NOT NULL, at REAL NOT NULL, ok INTEGER NOT NULL, error TEXT NOT NULL,
  github_status INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dispatches_by_delivery ON dispatches (delivery_id);
CREATE TABLE IF NOT EXISTS states (
  delivery_id TEXT NOT NULL, repo TEXT NOT NULL, run_id TEXT NOT NULL, run_attempt TEXT NOT NULL,
  job_name TEXT NOT NULL, state TEXT NOT NULL, at REAL NOT NULL,
  PRIMARY KEY (delivery_id, repo, run_id, run_attempt, job_name));
CREATE TABLE IF NOT EXISTS callbacks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, repo TEXT NOT NULL,
  delivery_id TEXT NOT NULL, run_id TEXT NOT NULL, run_attempt TEXT NOT NULL,
  job_name TEXT NOT NULL, workflow TEXT NOT NULL, status TEXT NOT NULL, conclusion TEXT NOT NULL,
  answer_status INTEGER NOT NULL, answer TEXT NOT NULL, queue_time REAL, execution_time REAL);
CREATE INDEX IF NOT EXISTS callbacks_by_delivery ON callbacks (delivery_id);
CREATE TABLE IF NOT EXISTS check_runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, head_sha TEXT NOT NULL,
  repo TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, conclusion TEXT NOT NULL,
  details_url TEXT NOT NULL, blocks_merge INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS check_runs_by_sha ON check_runs (head_sha);
CREATE TABLE IF NOT EXISTS check_runs_wanted (
  head_sha TEXT NOT NULL, repo TEXT NOT NULL, PRIMARY KEY (head_sha, repo));
CREATE TABLE IF NOT EXISTS jobs (
  head_sha TEXT NOT NULL, repo TEXT NOT NULL, workflow TEXT NOT NULL, job_name TEXT NOT NULL,
  status TEXT NOT NULL, conclusion TEXT NOT NULL, details_url TEXT NOT NULL,
  PRIMARY KEY (head_sha, repo, workflow, job_name));
)sql";

// One use of a prepared statement (kept prepared by the store, reset after each use): bind by
// position (1-based), step, read columns.
class Statement {
public:
    Statement(sqlite3_stmt* stmt, const std::string& path) : m_stmt(stmt), m_path(path) {}
    ~Statement() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text) {
        sqlite3_bind_text(
            m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, double value) {
        sqlite3_bind_double(m_stmt, index, value);
        return *this;
    }
    Statement& bind(int index, std::int64_t value) {
        sqlite3_bind_int64(m_stmt, index, value);
        return *this;
    }
    Statement& bind(int index, const std::optional<double>& value) {
        if (value) {
            return bind(index, *value);
        }
        sqlite3_bind_null(m_stmt, index);
        return *this;
    }

    // True while there is a row to read.
    bool step() {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc != SQLITE_DONE) {
            throw Error(fmt::format("'{}': {}", m_path, sqlite3_errmsg(sqlite3_db_handle(m_stmt))),
                        ExitCode::unavailable);
        }
        return false;
    }

    std::string text(int column) const {
        const auto* p = sqlite3_column_text(m_stmt, column);
        return p == nullptr
                   ? std::string()
                   : std::string(reinterpret_cast<const char*>(p),
                                 static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)));
    }
    double real(int column) const { return sqlite3_column_double(m_stmt, column); }
    std::int64_t integer(int column) const { return sqlite3_column_int64(m_stmt, column); }
    std::optional<double> optional_real(int column) const {
        if (sqlite3_column_type(m_stmt, column) == SQLITE_NULL) {
            return std::nullopt;
        }
        return real(column);
    }

private:
    sqlite3_stmt* m_stmt = nullptr;
    const std::string& m_path;
};

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

} // namespace

struct RelayStore::Impl {
    std::string path;
    sqlite3* db = nullptr;
    std::mutex mutex;
    std::unordered_map<std::string, sqlite3_stmt*> prepared; // by SQL text

    ~Impl() {
        for (const auto& [sql, stmt] : prepared) {
            sqlite3_finalize(stmt);
        }
        if (db != nullptr) {
            sqlite3_close(db); // checkpoints the WAL into the database
        }
    }

    void exec(const char* sql) {
        char* message = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
            const std::string why = message != nullptr ? message : "unknown error";
            sqlite3_free(message);
            throw Error(fmt::format("'{}': {}", path, why), ExitCode::unavailable);
        }
    }
    // The statement for `sql`, prepared on first use and kept.
    Statement statement(const std::string& sql) {
        auto found = prepared.find(sql);
        if (found == prepared.end()) {
            sqlite3_stmt* stmt = nullptr;
            if (sqlite3_prepare_v3(db,
                                   sql.data(),
                                   static_cast<int>(sql.size()),
                                   SQLITE_PREPARE_PERSISTENT,
                                   &stmt,
                                   nullptr)
                != SQLITE_OK) {
                throw Error(fmt::format("'{}': {}", path, sqlite3_errmsg(db)),
                            ExitCode::unavailable);
            }
            found = prepared.emplace(sql, stmt).first;
        }
        return Statement(found->second, path);
    }
    // The check runs recorded for a commit, oldest first (the caller holds `mutex`).
    std::vector<CheckRunRow> check_runs(std::string_view head_sha) {
        auto r = statement("SELECT at, head_sha, repo, name, status, conclusion, details_url, "
                           "blocks_merge FROM check_runs WHERE head_sha = ? ORDER BY seq");
        r.bind(1, head_sha);
        std::vector<CheckRunRow> rows;
        while (r.step()) {
            rows.push_back(CheckRunRow{.at = r.real(0),
                                       .head_sha = r.text(1),
                                       .repo = r.text(2),
                                       .name = r.text(3),
                                       .status = r.text(4),
                                       .conclusion = r.text(5),
                                       .details_url = r.text(6),
                                       .blocks_merge = r.integer(7) != 0});
        }
        return rows;
    }
};

RelayStore::RelayStore(const std::string& path, bool read_only) : m_impl(std::make_unique<Impl>()) {
    m_impl->path = path;
    if (path != ":memory:" && !read_only && !parent_of(path).empty()) {
        make_directories(parent_of(path));
    }
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path.c_str(), &m_impl->db, flags | SQLITE_OPEN_FULLMUTEX, nullptr)
        != SQLITE_OK) {
        const std::string why =
            m_impl->db != nullptr ? sqlite3_errmsg(m_impl->db) : "out of memory";
        sqlite3_close(m_impl->db);
        m_impl->db = nullptr;
        throw Error(fmt::format("cannot open the relay state '{}': {}", path, why),
                    read_only ? ExitCode::failure : ExitCode::unavailable);
    }
    sqlite3_busy_timeout(m_impl->db, 5000);
    try {
        if (read_only) {
            if (!m_impl->statement("SELECT value FROM meta WHERE key = 'schema'").step()) {
                throw Error("no schema version");
            }
            return;
        }
        // WAL: readers (`crcr relay status`) never block the server; NORMAL syncs at checkpoints,
        // so a killed server loses nothing it answered (a power cut may lose the last moments).
        m_impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        m_impl->exec(k_schema);
        auto version = m_impl->statement("SELECT value FROM meta WHERE key = 'schema'");
        if (version.step()) {
            if (version.text(0) != std::to_string(k_schema_version)) {
                throw Error(fmt::format(
                    "schema version {} (this crcr writes {})", version.text(0), k_schema_version));
            }
        } else {
            m_impl->exec(
                fmt::format("INSERT INTO meta VALUES ('schema', '{}')", k_schema_version).c_str());
        }
    } catch (const Error& e) {
        // SQLite's errors name the file already: "'PATH': file is not a database".
        std::string_view why = e.what();
        if (const std::string named = fmt::format("'{}': ", path); why.starts_with(named)) {
            why.remove_prefix(named.size());
        }
        throw Error(fmt::format("'{}' is not a crcr relay state: {}", path, why));
    }
}

RelayStore::~RelayStore() = default;

void RelayStore::add_delivery(const DeliveryRow& row) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement(
        "INSERT INTO deliveries (delivery_id, event, action, head_sha, received_at, status, "
        "answer, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, row.delivery_id)
        .bind(2, row.event)
        .bind(3, row.action)
        .bind(4, row.head_sha)
        .bind(5, row.received_at)
        .bind(6, std::int64_t{row.status})
        .bind(7, row.answer)
        .bind(8, row.decision);
    s.step();
}

void RelayStore::add_dispatches(std::vector<DispatchRow>& rows,
                                const std::function<void(DispatchRow&)>& on_duplicate) {
    const std::lock_guard lock(m_impl->mutex);
    m_impl->exec("BEGIN IMMEDIATE");
    try {
        for (DispatchRow& row : rows) {
            if (row.ok) {
                auto state = m_impl->statement(
                    "INSERT OR IGNORE INTO states (delivery_id, repo, run_id, run_attempt, "
                    "job_name, state, at) VALUES (?, ?, '', '', '', 'DISPATCHED', ?)");
                state.bind(1, row.delivery_id).bind(2, row.repo).bind(3, row.at);
                state.step();
                if (sqlite3_changes(m_impl->db) != 1) {
                    on_duplicate(row);
                }
            }
            auto s =
                m_impl->statement("INSERT INTO dispatches (delivery_id, repo, level, at, ok, "
                                  "error, github_status, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
            s.bind(1, row.delivery_id)
                .bind(2, row.repo)
                .bind(3, row.level)
                .bind(4, row.at)
                .bind(5, std::int64_t{row.ok ? 1 : 0})
                .bind(6, row.error)
                .bind(7, std::int64_t{row.github_status})
                .bind(8, static_cast<std::int64_t>(row.bytes));
            s.step();
        }
        m_impl->exec("COMMIT");
    } catch (...) {
        m_impl->exec("ROLLBACK");
        throw;
    }
}

void RelayStore::add_callback(const CallbackRow& row) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement(
        "INSERT INTO callbacks (at, repo, delivery_id, run_id, run_attempt, job_name, workflow, "
        "status, conclusion, answer_status, answer, queue_time, execution_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, row.at)
        .bind(2, row.repo)
        .bind(3, row.delivery_id)
        .bind(4, row.run_id)
        .bind(5, row.run_attempt)
        .bind(6, row.job_name)
        .bind(7, row.workflow)
        .bind(8, row.status)
        .bind(9, row.conclusion)
        .bind(10, std::int64_t{row.answer_status})
        .bind(11, row.answer)
        .bind(12, row.queue_time)
        .bind(13, row.execution_time);
    s.step();
}

void RelayStore::add_check_run(const CheckRunRow& row) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement("INSERT INTO check_runs (at, head_sha, repo, name, status, "
                               "conclusion, details_url, blocks_merge) VALUES (?, ?, ?, ?, ?, ?, "
                               "?, ?)");
    s.bind(1, row.at)
        .bind(2, row.head_sha)
        .bind(3, row.repo)
        .bind(4, row.name)
        .bind(5, row.status)
        .bind(6, row.conclusion)
        .bind(7, row.details_url)
        .bind(8, std::int64_t{row.blocks_merge ? 1 : 0});
    s.step();
}

namespace {

void bind_key(Statement& s, const StateKey& key, int first) {
    s.bind(first, key.delivery_id)
        .bind(first + 1, key.repo)
        .bind(first + 2, key.run_id)
        .bind(first + 3, key.run_attempt)
        .bind(first + 4, key.job_name);
}

constexpr const char* k_key_clause =
    "delivery_id = ? AND repo = ? AND run_id = ? AND run_attempt = ? AND job_name = ?";

} // namespace

std::optional<StateRecord> RelayStore::state(const StateKey& key) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement(fmt::format("SELECT state, at FROM states WHERE {}", k_key_clause));
    bind_key(s, key, 1);
    if (!s.step()) {
        return std::nullopt;
    }
    return StateRecord{.state = s.text(0), .at = s.real(1)};
}

bool RelayStore::advance(const StateKey& key,
                         const std::optional<std::string>& from,
                         const StateRecord& to) {
    const std::lock_guard lock(m_impl->mutex);
    if (!from) {
        auto s =
            m_impl->statement("INSERT OR IGNORE INTO states (delivery_id, repo, run_id, "
                              "run_attempt, job_name, state, at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        bind_key(s, key, 1);
        s.bind(6, to.state).bind(7, to.at);
        s.step();
    } else {
        auto s = m_impl->statement(fmt::format(
            "UPDATE states SET state = ?, at = ? WHERE {} AND state = ?", k_key_clause));
        s.bind(1, to.state).bind(2, to.at);
        bind_key(s, key, 3);
        s.bind(8, *from);
        s.step();
    }
    return sqlite3_changes(m_impl->db) == 1;
}

void RelayStore::want_check_run(std::string_view head_sha, std::string_view repo) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement("INSERT OR IGNORE INTO check_runs_wanted VALUES (?, ?)");
    s.bind(1, head_sha).bind(2, repo);
    s.step();
}

bool RelayStore::check_run_wanted(std::string_view head_sha, std::string_view repo) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement("SELECT 1 FROM check_runs_wanted WHERE head_sha = ? AND repo = ?");
    s.bind(1, head_sha).bind(2, repo);
    return s.step();
}

void RelayStore::set_job(const JobRow& job) {
    const std::lock_guard lock(m_impl->mutex);
    // An update keeps the job's place, as a Redis hash keeps a field's.
    auto s = m_impl->statement(
        "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (head_sha, repo, workflow, "
        "job_name) DO UPDATE SET status = excluded.status, conclusion = excluded.conclusion, "
        "details_url = excluded.details_url");
    s.bind(1, job.head_sha)
        .bind(2, job.repo)
        .bind(3, job.workflow)
        .bind(4, job.job_name)
        .bind(5, job.status)
        .bind(6, job.conclusion)
        .bind(7, job.details_url);
    s.step();
}

std::vector<CheckRunRow> RelayStore::check_runs(std::string_view head_sha) {
    const std::lock_guard lock(m_impl->mutex);
    return m_impl->check_runs(head_sha);
}

std::vector<JobRow> RelayStore::jobs(std::string_view head_sha, std::string_view repo) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement("SELECT head_sha, repo, workflow, job_name, status, conclusion, "
                               "details_url FROM jobs WHERE head_sha = ? AND repo = ? "
                               "ORDER BY rowid");
    s.bind(1, head_sha).bind(2, repo);
    std::vector<JobRow> rows;
    while (s.step()) {
        rows.push_back(JobRow{.head_sha = s.text(0),
                              .repo = s.text(1),
                              .workflow = s.text(2),
                              .job_name = s.text(3),
                              .status = s.text(4),
                              .conclusion = s.text(5),
                              .details_url = s.text(6)});
    }
    return rows;
}

namespace {

constexpr const char* k_callback_columns =
    "at, repo, delivery_id, run_id, run_attempt, job_name, workflow, status, conclusion, "
    "answer_status, answer, queue_time, execution_time";

CallbackRow callback_of(const Statement& s) {
    return CallbackRow{.at = s.real(0),
                       .repo = s.text(1),
                       .delivery_id = s.text(2),
                       .run_id = s.text(3),
                       .run_attempt = s.text(4),
                       .job_name = s.text(5),
                       .workflow = s.text(6),
                       .status = s.text(7),
                       .conclusion = s.text(8),
                       .answer_status = static_cast<int>(s.integer(9)),
                       .answer = s.text(10),
                       .queue_time = s.optional_real(11),
                       .execution_time = s.optional_real(12)};
}

} // namespace

std::vector<DeliveryStatus> RelayStore::recent(std::size_t limit) {
    const std::lock_guard lock(m_impl->mutex);
    std::vector<DeliveryStatus> result;
    auto s = m_impl->statement("SELECT delivery_id, event, action, head_sha, received_at, status, "
                               "answer, decision FROM deliveries ORDER BY seq DESC LIMIT ?");
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step()) {
        DeliveryStatus status;
        status.delivery = DeliveryRow{.delivery_id = s.text(0),
                                      .event = s.text(1),
                                      .action = s.text(2),
                                      .head_sha = s.text(3),
                                      .received_at = s.real(4),
                                      .status = static_cast<int>(s.integer(5)),
                                      .answer = s.text(6),
                                      .decision = s.text(7)};
        result.push_back(std::move(status));
    }
    for (DeliveryStatus& status : result) {
        const std::string& id = status.delivery.delivery_id;
        auto d = m_impl->statement("SELECT delivery_id, repo, level, at, ok, error, github_status, "
                                   "bytes FROM dispatches WHERE delivery_id = ? ORDER BY seq");
        d.bind(1, id);
        while (d.step()) {
            status.dispatches.push_back(
                DispatchRow{.delivery_id = d.text(0),
                            .repo = d.text(1),
                            .level = d.text(2),
                            .at = d.real(3),
                            .ok = d.integer(4) != 0,
                            .error = d.text(5),
                            .github_status = static_cast<int>(d.integer(6)),
                            .bytes = static_cast<std::size_t>(d.integer(7))});
        }
        auto c = m_impl->statement(fmt::format(
            "SELECT {} FROM callbacks WHERE delivery_id = ? ORDER BY seq", k_callback_columns));
        c.bind(1, id);
        while (c.step()) {
            status.callbacks.push_back(callback_of(c));
        }
        if (!status.delivery.head_sha.empty()) {
            status.check_runs = m_impl->check_runs(status.delivery.head_sha);
        }
    }
    return result;
}

std::vector<int> RelayStore::answers(std::string_view delivery_id) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement("SELECT status FROM deliveries WHERE delivery_id = ? ORDER BY seq");
    s.bind(1, delivery_id);
    std::vector<int> statuses;
    while (s.step()) {
        statuses.push_back(static_cast<int>(s.integer(0)));
    }
    return statuses;
}

std::vector<CallbackRow> RelayStore::unmatched_callbacks(std::size_t limit) {
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement(
        fmt::format("SELECT {} FROM callbacks WHERE delivery_id NOT IN (SELECT delivery_id FROM "
                    "deliveries) ORDER BY seq DESC LIMIT ?",
                    k_callback_columns));
    s.bind(1, static_cast<std::int64_t>(limit));
    std::vector<CallbackRow> rows;
    while (s.step()) {
        rows.push_back(callback_of(s));
    }
    return rows;
}

std::int64_t RelayStore::count(std::string_view table) {
    constexpr std::string_view k_tables[] = {
        "deliveries", "dispatches", "states", "callbacks", "check_runs", "jobs"};
    if (std::find(std::begin(k_tables), std::end(k_tables), table) == std::end(k_tables)) {
        throw Error(fmt::format("no table '{}' in the relay state", table));
    }
    const std::lock_guard lock(m_impl->mutex);
    auto s = m_impl->statement(fmt::format("SELECT count(*) FROM {}", table));
    s.step();
    return s.integer(0);
}

std::string default_relay_state_path(const std::optional<std::string>& xdg_state_home,
                                     const std::optional<std::string>& home) {
    if (xdg_state_home && xdg_state_home->starts_with('/')) {
        return *xdg_state_home + "/crcr/relay.db";
    }
    if (home && !home->empty()) {
        return *home + "/.local/state/crcr/relay.db";
    }
    throw Error("no place for the relay state: neither XDG_STATE_HOME nor HOME is set (use "
                "--state FILE)",
                ExitCode::usage);
}

} // namespace crcr
