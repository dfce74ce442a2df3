#include "cli.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>

int main(int argc, char** argv) {
    // replay frees a 25 KB body on one thread for each one another thread allocates: glibc would
    // give the top of the heap back to the kernel and take it again thousands of times a second
    // (brk, TLB flushes, page faults; a sixth of replay's CPU time). Memory is kept instead.
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    const crcr::Environment env = crcr::Environment::from_process();
    try {
        const crcr::TlsTrust trust = crcr::tls_trust(env);
        const std::unique_ptr<crcr::HttpClient> http = crcr::make_curl_http_client(trust);
        const bool proxied = crcr::proxy_configured(env);
        crcr::Context ctx{std::cin,
                          std::cout,
                          std::cerr,
                          *http,
                          [proxied, &trust] {
                              return crcr::make_plain_concurrent_http_client(
                                  crcr::make_curl_concurrent_http_client(trust), proxied);
                          },
                          env};
        ctx.random_seed = [] {
            return (std::uint64_t{std::random_device()()} << 32U) | std::random_device()();
        };
        ctx.out_is_terminal = isatty(STDOUT_FILENO) != 0;
        ctx.err_is_terminal = isatty(STDERR_FILENO) != 0;
        ctx.argv = {argv, static_cast<std::size_t>(argc)};
        return crcr::run_cli(argc, argv, ctx);
    } catch (const crcr::Error& e) {
        fmt::print(stderr, "crcr: error: {}\n", e.what());
        return crcr::to_int(e.code());
    }
}
