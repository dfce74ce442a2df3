#pragma once

// Helpers shared by the tests: running the whole command line in-process, and temporary folders.

#include "cli.hpp"

#include "crcr/context.hpp"
#include "crcr/error.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace crcr::test {

// An HttpClient for tests that must not touch the network: every request is an error.
class NoNetworkHttpClient final : public HttpClient {
public:
    HttpResponse send(const HttpRequest& request) override {
        throw Error("no network in this test: " + request.method + " " + request.url,
                    ExitCode::unavailable);
    }
};

// A clock for tests: it starts at @1790000000 (2026-09-21T...Z) and moves only when the code
// under test sleeps, so waits of minutes take no time and are checked exactly.
class TestClock {
public:
    std::chrono::system_clock::time_point now() const {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000))
               + std::chrono::milliseconds(m_elapsed_ms.load());
    }
    void sleep(std::chrono::milliseconds duration) {
        const std::lock_guard lock(m_mutex);
        m_sleeps.push_back(duration);
        m_elapsed_ms += duration.count();
    }
    // Every sleep so far, in seconds.
    std::vector<long long> sleeps() const {
        const std::lock_guard lock(m_mutex);
        std::vector<long long> out;
        for (const auto& d : m_sleeps) {
            out.push_back(std::chrono::duration_cast<std::chrono::seconds>(d).count());
        }
        return out;
    }

private:
    std::atomic<long long> m_elapsed_ms{0};
    mutable std::mutex m_mutex;
    std::vector<std::chrono::milliseconds> m_sleeps;
};

struct CliRun {
    int code = -1;
    std::string out;
    std::string err;
};

// `inner`, one request at a time whichever thread sends it: the sending threads of a command
// (replay's event loops) share a test's scripted client safely.
class SerializedHttpClient final : public HttpClient {
public:
    explicit SerializedHttpClient(HttpClient& inner) : m_inner(inner) {}
    HttpResponse send(const HttpRequest& request) override {
        const std::lock_guard lock(m_mutex);
        return m_inner.send(request);
    }

private:
    HttpClient& m_inner;
    std::mutex m_mutex;
};

// Makes new event loops for a command's threads (Context::concurrent_http).
using ConcurrentHttpFactory = std::function<std::unique_ptr<ConcurrentHttpClient>()>;

// Runs `crcr <args...>` in-process, as `main` would, with `env` as the environment. Time is
// `clock`'s (a fresh TestClock when none is given): nothing really sleeps. Requests go to `http`
// (none allowed when it is null), those in flight together to event loops from
// `concurrent_http`, or else one at a time to `http` too.
inline CliRun run_crcr(const std::vector<std::string>& args,
                       const Environment& env = Environment(),
                       HttpClient* http = nullptr,
                       const std::string& input = "",
                       TestClock* clock = nullptr,
                       ConcurrentHttpFactory concurrent_http = {}) {
    NoNetworkHttpClient no_network;
    HttpClient& client = http != nullptr ? *http : no_network;
    SerializedHttpClient serialized(client);
    if (!concurrent_http) {
        concurrent_http = [&serialized] {
            return std::make_unique<SequentialHttpClient>(serialized);
        };
    }
    TestClock own_clock;
    TestClock& time = clock != nullptr ? *clock : own_clock;
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in(input);
    Context ctx{in, out, err, client, std::move(concurrent_http), env};
    ctx.now = [&time] { return time.now(); };
    ctx.sleep = [&time](std::chrono::milliseconds d) { time.sleep(d); };
    ctx.random_seed = [] { return std::uint64_t{42}; };
    std::vector<const char*> argv = {"crcr"};
    for (const std::string& arg : args) {
        argv.push_back(arg.c_str());
    }
    CliRun result;
    result.code = run_cli(static_cast<int>(argv.size()), argv.data(), ctx);
    result.out = out.str();
    result.err = err.str();
    return result;
}

// A fresh folder under the system's temporary folder, removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "crcr-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // Writes `content` to `name` inside the folder and returns its path.
    std::string write(const std::string& name, const std::string& content) const {
        const std::filesystem::path path = m_path / name;
        std::ofstream(path, std::ios::binary) << content;
        return path.string();
    }
    std::string path(const std::string& name = "") const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

// The content of a test data file, `tests/data/<relative>`.
inline std::string test_data(const std::string& relative) {
    std::ifstream in(std::string(CRCR_TEST_DATA) + "/" + relative, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// The content of a file of the source tree, `<source>/<relative>`.
inline std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(CRCR_SOURCE_DIR) + "/" + relative, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A "billion laughs" YAML mapping: `a` lists ten values, and each next key (`b`, `c`...) ten
// aliases of the one before, `levels` keys in all: 10^levels values once the aliases are expanded.
inline std::string alias_bomb(char levels) {
    std::string out = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char name = 'b'; name < 'a' + levels; ++name) {
        const std::string alias = std::string("*") + static_cast<char>(name - 1);
        out += std::string(1, name) + ": &" + name + " [" + alias;
        for (int i = 1; i < 10; ++i) {
            out += ", " + alias;
        }
        out += "]\n";
    }
    return out;
}

} // namespace crcr::test

namespace doctest {
// Failed checks on lists of strings print the lists.
template<> struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& values) {
        std::string out = "{";
        for (const std::string& v : values) {
            out += (out.size() > 1 ? ", \"" : "\"") + v + "\"";
        }
        return (out + "}").c_str();
    }
};
} // namespace doctest
