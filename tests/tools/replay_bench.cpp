// Bench tool: the CPU that replay's engine spends on each delivery, without a network: every
// request is answered 200 in-process, so what is measured is reading the capture, parsing the
// record, signing, building the request, the state and report lines. Beside it, in the same
// run, the floor: the HMAC-SHA256 of the same bodies plus one copy of their bytes.
//   replay_bench CAPTURE_FILE [ROUNDS]     (bench/replay_engine.sh runs it)
// Prints "engine_us floor_us deliveries": CPU microseconds per delivery, best of ROUNDS.
#include "crcr/error.hpp"
#include "crcr/files.hpp"
#include "crcr/payload.hpp"
#include "crcr/replay.hpp"
#include "crcr/signature.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace {

// CPU time of this process (all threads), user and system, in microseconds.
double cpu_us() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto us = [](const timeval& t) {
        return t.tv_sec * 1e6 + static_cast<double>(t.tv_usec);
    };
    return us(usage.ru_utime) + us(usage.ru_stime);
}

// A receiver that answers every request at once, as a fast relay would.
class Accepting final : public crcr::HttpClient {
public:
    crcr::HttpResponse send(const crcr::HttpRequest& /*request*/) override {
        crcr::HttpResponse response;
        response.status = 200;
        response.reason = "OK";
        return response;
    }
};

// One replay run of `file` with a fresh state file and report in `dir`; its CPU microseconds.
double engine_run(const std::string& file, const std::filesystem::path& dir) {
    std::filesystem::remove(dir / "state");
    std::filesystem::remove(dir / "report");
    Accepting receiver;
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    const crcr::Environment env;
    crcr::Context ctx{
        in,
        out,
        err,
        receiver,
        [&receiver] { return std::make_unique<crcr::SequentialHttpClient>(receiver); },
        env};
    ctx.random_seed = [] { return std::uint64_t{1}; };
    const crcr::ReplaySettings settings{.inputs = {file},
                                        .to = "http://127.0.0.1:9/github/webhook",
                                        .secret = "bench secret",
                                        .concurrency = 1, // one event loop: one thread's cost
                                        .report = (dir / "report").string(),
                                        .state = (dir / "state").string()};
    const double start = cpu_us();
    if (crcr::replay(settings, ctx) != crcr::ExitCode::ok) {
        throw crcr::Error("replay_bench: the engine did not deliver everything: " + err.str());
    }
    return cpu_us() - start;
}

// The floor for `bodies`: sign each, copy its bytes once; its CPU microseconds.
double floor_run(const std::vector<std::string>& bodies) {
    std::size_t keep = 0;
    const double start = cpu_us();
    for (const std::string& body : bodies) {
        const std::string copy = body;
        keep += crcr::sign_sha256("bench secret", copy).size() + copy.size();
    }
    const double spent = cpu_us() - start;
    if (keep == 0) {
        std::abort(); // keeps the loop from being optimised away
    }
    return spent;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: replay_bench CAPTURE_FILE [ROUNDS]\n", stderr);
        return 2;
    }
    try {
        const std::string file = argv[1];
        const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
        std::vector<std::string> bodies;
        std::istringstream lines(crcr::read_file(file));
        for (std::string line; std::getline(lines, line);) {
            bodies.push_back(crcr::Json::parse(line).at("body").get<std::string>());
        }
        const std::filesystem::path dir = std::filesystem::path(file).parent_path();
        double engine = 1e300;
        double floor = 1e300;
        for (int i = 0; i < rounds; ++i) { // in turns, best of each: a busy spell hits both
            engine = std::min(engine, engine_run(file, dir));
            floor = std::min(floor, floor_run(bodies));
        }
        const auto n = static_cast<double>(bodies.size());
        fmt::print("{:.2f} {:.2f} {}\n", engine / n, floor / n, bodies.size());
    } catch (const std::exception& e) {
        fmt::print(stderr, "replay_bench: {}\n", e.what());
        return 1;
    }
    return 0;
}
