// `relay serve`'s engine: its log, its key set, and the run that serves the relay.

#include "crcr/relay_emulator.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/payload.hpp"
#include "crcr/relay_server.hpp"
#include "crcr/relay_store.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <pthread.h>

#include <csignal>
#include <thread>

namespace crcr {

LogWriter::LogWriter(std::ostream& out,
                     bool json,
                     std::function<std::chrono::system_clock::time_point()> now)
    : m_out(out), m_json(json), m_now(std::move(now)) {}

void LogWriter::operator()(const LogEntry& entry) {
    std::string line;
    if (m_json) {
        Json object{{"time", iso8601(m_now())}, {"level", entry.level}, {"message", entry.message}};
        for (const auto& [key, value] : entry.fields) {
            if (!value.empty()) {
                object[key] = value;
            }
        }
        line = object.dump();
    } else {
        line = fmt::format("{} {:<7} {}", iso8601(m_now()), entry.level, entry.message);
        for (const auto& [key, value] : entry.fields) {
            if (value.empty()) {
                continue;
            }
            const bool quote = value.find_first_of(" \"=") != std::string::npos;
            line += fmt::format(" {}={}", key, quote ? Json(value).dump() : value);
        }
    }
    const std::lock_guard lock(m_mutex);
    m_out << line << '\n' << std::flush;
}

Jwks load_jwks(const std::string& source, HttpClient& http) {
    if (source.empty()) {
        return Jwks{};
    }
    if (source.starts_with("http://") || source.starts_with("https://")) {
        const HttpResponse response = http.send(HttpRequest{.method = "GET", .url = source});
        if (response.status != 200) {
            throw Error(
                fmt::format("--oidc-jwks '{}': answered {}", redact_url(source), response.status),
                ExitCode::unavailable);
        }
        return Jwks::parse(response.body, source);
    }
    return Jwks::parse(read_file(source), source);
}

ExitCode serve_relay_emulator(const RelayEmulatorSettings& settings, Context& ctx) {
    // SIGINT and SIGTERM are taken by one thread (blocked everywhere else, before any thread
    // starts: the dispatch pool and the server's workers inherit the mask), which stops the server:
    // requests in flight are answered, the state is closed.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    LogWriter writer(ctx.err, settings.json_log, ctx.now);
    const Log log = [&writer](const LogEntry& entry) { writer(entry); };
    AllowlistFile allowlist(settings.allowlist);
    Jwks jwks = load_jwks(settings.oidc_jwks, ctx.http);
    if (settings.oidc_jwks.empty()) {
        log(LogEntry{.level = "warning",
                     .message = "no --oidc-jwks: every callback will be refused (401)"});
    }
    const std::string state_path =
        settings.state.empty()
            ? default_relay_state_path(ctx.env.get("XDG_STATE_HOME"), ctx.env.get("HOME"))
            : settings.state;
    RelayStore store(state_path);
    Dispatcher dispatcher = [](const std::string&, const Json&) { return DispatchResult{}; };
    if (settings.make_dispatcher) {
        dispatcher = settings.make_dispatcher(log);
    }
    const std::size_t repos = allowlist.current().entries.size();
    Relay relay(RelaySettings{.upstream = settings.upstream_repo,
                              .secret = settings.secret,
                              .rate_limit = settings.rate_limit,
                              .dispatch_workers = settings.dispatch_workers},
                allowlist.current(),
                std::move(jwks),
                store,
                std::move(dispatcher),
                ctx.now,
                log);
    std::mutex allowlist_mutex;
    RelayServer server(
        relay,
        RelayServerOptions{.host = settings.host,
                           .port = settings.port,
                           .threads = settings.threads,
                           .health =
                               [&] {
                                   const std::lock_guard lock(allowlist_mutex);
                                   return Json{{"upstream", settings.upstream_repo},
                                               {"dispatch", settings.dispatch},
                                               {"repos", allowlist.current().entries.size()}};
                               },
                           .every_second =
                               [&] {
                                   const std::lock_guard lock(allowlist_mutex);
                                   if (auto fresh = allowlist.refresh(log)) {
                                       relay.set_allowlist(std::move(*fresh));
                                   }
                               }},
        log);
    const int port = server.bind();
    fmt::print(ctx.out,
               "http://{}:{}\n",
               settings.host.find(':') != std::string::npos ? "[" + settings.host + "]"
                                                            : settings.host,
               port);
    ctx.out.flush();
    log(LogEntry{.level = "info",
                 .message = "relay ready",
                 .fields = {{"allowlist", settings.allowlist},
                            {"repos", std::to_string(repos)},
                            {"dispatch", settings.dispatch},
                            {"state", state_path}}});
    std::thread waiter([&] {
        int signal = 0;
        sigwait(&signals, &signal);
        log(LogEntry{.level = "info",
                     .message = "stopping: answering the requests in flight",
                     .fields = {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}}});
        server.stop();
    });
    server.serve();
    waiter.join();
    log(LogEntry{.level = "info", .message = "stopped"});
    return ExitCode::ok;
}

} // namespace crcr
