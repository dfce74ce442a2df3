#include "cli.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>

int main(int argc, char** argv) {
    const crcr::Environment env = crcr::Environment::from_process();
    try {
        const std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client();
        const std::unique_ptr<crcr::ConcurrentHttpClient> concurrent_http =
            crcr::make_curl_concurrent_http_client();
        crcr::Context ctx{std::cin, std::cout, std::cerr, *http, *concurrent_http, env};
        ctx.random_seed = [] {
            return (std::uint64_t{std::random_device()()} << 32U) | std::random_device()();
        };
        ctx.out_is_terminal = isatty(STDOUT_FILENO) != 0;
        ctx.err_is_terminal = isatty(STDERR_FILENO) != 0;
        return crcr::run_cli(argc, argv, ctx);
    } catch (const crcr::Error& e) {
        fmt::print(stderr, "crcr: error: {}\n", e.what());
        return crcr::to_int(e.code());
    }
}
