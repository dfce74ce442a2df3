#include "crcr/relay_status.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <iterator>
#include <optional>
#include <string_view>

namespace crcr {

namespace {

std::string format_duration(const std::optional<double>& duration) {
    return duration ? fmt::format("{:.3f} s", *duration) : std::string("-");
}

// The ISO 8601 time of `epoch` seconds.
std::string time_of(double epoch) {
    return iso8601(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(epoch))));
}

// `items`, each made JSON by `to_json`.
template<typename T, typename ToJson> Json json_array(const std::vector<T>& items, ToJson to_json) {
    Json out = Json::array();
    for (const T& item : items) {
        out.push_back(to_json(item));
    }
    return out;
}

Json or_null(const std::string& value) {
    return value.empty() ? Json() : Json(value);
}

Json callback_json(const CallbackRow& c) {
    return Json{{"at", time_of(c.at)},
                {"repo", c.repo},
                {"delivery_id", c.delivery_id},
                {"run_id", c.run_id},
                {"run_attempt", c.run_attempt},
                {"workflow", c.workflow},
                {"job_name", c.job_name},
                {"status", c.status},
                {"conclusion", or_null(c.conclusion)},
                {"answer_status", c.answer_status},
                {"answer", Json::parse(c.answer, nullptr, false)},
                {"queue_time", c.queue_time ? Json(*c.queue_time) : Json()},
                {"execution_time", c.execution_time ? Json(*c.execution_time) : Json()}};
}

Json delivery_json(const DeliveryStatus& d) {
    Json dispatches = Json::array();
    for (const DispatchRow& row : d.dispatches) {
        dispatches.push_back(
            Json{{"repo", row.repo},
                 {"level", row.level},
                 {"at", time_of(row.at)},
                 {"ok", row.ok},
                 {"error", or_null(row.error)},
                 {"github_status", row.github_status == 0 ? Json() : Json(row.github_status)},
                 {"bytes", row.bytes}});
    }
    Json check_runs = Json::array();
    for (const CheckRunRow& r : d.check_runs) {
        check_runs.push_back(Json{{"at", time_of(r.at)},
                                  {"repo", r.repo},
                                  {"name", r.name},
                                  {"status", r.status},
                                  {"conclusion", or_null(r.conclusion)},
                                  {"details_url", r.details_url},
                                  {"blocks_merge", r.blocks_merge}});
    }
    return Json{{"delivery_id", d.delivery.delivery_id},
                {"event", d.delivery.event},
                {"action", or_null(d.delivery.action)},
                {"received_at", time_of(d.delivery.received_at)},
                {"status", d.delivery.status},
                {"answer", Json::parse(d.delivery.answer, nullptr, false)},
                {"decision", d.delivery.decision},
                {"head_sha", or_null(d.delivery.head_sha)},
                {"dispatches", dispatches},
                {"callbacks", json_array(d.callbacks, callback_json)},
                {"check_runs", check_runs}};
}

Json arrival_json(const ArrivalRecord& a) {
    return Json{{"delivery_id", a.delivery_id},
                {"event", a.event},
                {"action", or_null(a.action)},
                {"location", a.location},
                {"answers", a.answers}};
}

// " " + `text`, or nothing for an empty one.
std::string spaced(const std::string& text) {
    return text.empty() ? std::string() : " " + text;
}

} // namespace

RelayStatus read_relay_status(RelayStore& store, std::string path, std::size_t limit) {
    return RelayStatus{.path = std::move(path),
                       .deliveries = store.count("deliveries"),
                       .dispatches = store.count("dispatches"),
                       .callbacks = store.count("callbacks"),
                       .check_runs = store.count("check_runs"),
                       .recent = store.recent(limit),
                       .unmatched = store.unmatched_callbacks(limit)};
}

std::string format_relay_status(const RelayStatus& status) {
    std::string out = fmt::format("{}: {} deliveries, {} dispatches, {} callbacks, {} check runs\n",
                                  status.path,
                                  status.deliveries,
                                  status.dispatches,
                                  status.callbacks,
                                  status.check_runs);
    auto to = std::back_inserter(out);
    for (const DeliveryStatus& d : status.recent) {
        fmt::format_to(to,
                       "\n{} {}{} {}  {} {}\n",
                       time_of(d.delivery.received_at),
                       d.delivery.event,
                       spaced(d.delivery.action),
                       d.delivery.delivery_id,
                       d.delivery.status,
                       d.delivery.decision);
        for (const DispatchRow& row : d.dispatches) {
            fmt::format_to(to,
                           "  dispatch   {:<32} {}  {}\n",
                           row.repo,
                           row.level,
                           row.ok ? (row.github_status != 0
                                         ? fmt::format("ok (GitHub {})", row.github_status)
                                         : "ok")
                                  : row.error);
        }
        for (const CallbackRow& c : d.callbacks) {
            fmt::format_to(to,
                           "  callback   {:<32} run {}/{} {}  {}{}  {}  queue {}  run {}\n",
                           c.repo,
                           c.run_id,
                           c.run_attempt,
                           c.job_name,
                           c.status,
                           spaced(c.conclusion),
                           c.answer_status,
                           format_duration(c.queue_time),
                           format_duration(c.execution_time));
        }
        for (const CheckRunRow& r : d.check_runs) {
            fmt::format_to(to,
                           "  check run  {}  {}{}{}\n",
                           r.name,
                           r.status,
                           spaced(r.conclusion),
                           r.blocks_merge ? "  (blocks merge)" : "");
        }
    }
    if (!status.unmatched.empty()) {
        out += "\nCallbacks without a delivery here:\n";
        for (const CallbackRow& c : status.unmatched) {
            fmt::format_to(to,
                           "  {} {:<32} {} {}  {}\n",
                           time_of(c.at),
                           c.repo.empty() ? "(no verified token)" : c.repo,
                           c.delivery_id,
                           c.status,
                           c.answer_status == 200
                               ? std::to_string(c.answer_status)
                               : fmt::format("{} {}", c.answer_status, c.answer));
        }
    }
    return out;
}

Json relay_status_json(const RelayStatus& status) {
    return Json{{"state", status.path},
                {"totals",
                 {{"deliveries", status.deliveries},
                  {"dispatches", status.dispatches},
                  {"callbacks", status.callbacks},
                  {"check_runs", status.check_runs}}},
                {"deliveries", json_array(status.recent, delivery_json)},
                {"other_callbacks", json_array(status.unmatched, callback_json)}};
}

std::string format_arrivals(const std::string& path, const Arrivals& arrivals) {
    std::string out;
    auto to = std::back_inserter(out);
    if (arrivals.deliveries == 0) {
        fmt::format_to(to, "{}: no delivery records to compare\n", path);
    } else if (arrivals.never_arrived.empty() && arrivals.never_accepted.empty()) {
        fmt::format_to(
            to, "{}: all {} deliveries arrived and were accepted\n", path, arrivals.deliveries);
    } else {
        fmt::format_to(
            to,
            "{}: {} of {} deliveries never arrived, {} arrived but were never accepted\n",
            path,
            arrivals.never_arrived.size(),
            arrivals.deliveries,
            arrivals.never_accepted.size());
    }
    const auto list = [&](std::string_view title, const std::vector<ArrivalRecord>& records) {
        if (records.empty()) {
            return;
        }
        fmt::format_to(to, "\n{}:\n", title);
        for (const ArrivalRecord& a : records) {
            fmt::format_to(
                to,
                "  {}  {}{}{}  {}\n",
                a.delivery_id,
                a.event,
                spaced(a.action),
                a.answers.empty() ? "" : fmt::format("  answered {}", fmt::join(a.answers, ", ")),
                a.location);
        }
    };
    list("Never arrived", arrivals.never_arrived);
    list("Arrived, never answered 2xx", arrivals.never_accepted);
    return out;
}

Json arrivals_json(const std::string& path, const Arrivals& arrivals) {
    return Json{{"state", path},
                {"deliveries", arrivals.deliveries},
                {"never_arrived", json_array(arrivals.never_arrived, arrival_json)},
                {"never_accepted", json_array(arrivals.never_accepted, arrival_json)},
                {"unreadable", arrivals.unreadable}};
}

} // namespace crcr
