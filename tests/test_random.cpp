#include "crcr/random.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <set>

TEST_CASE("Random is deterministic for a seed") {
    crcr::Random a(7);
    crcr::Random b(7);
    crcr::Random c(8);
    const std::uint64_t first = a.next();
    CHECK(first == b.next());
    CHECK(first != c.next());
    CHECK(a.hex(40) == b.hex(40));
}

TEST_CASE("Random::uuid_v4 and hex") {
    crcr::Random random(1);
    const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = random.uuid_v4();
        CHECK(std::regex_match(id, uuid));
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
    const std::string sha = random.hex(40);
    CHECK(sha.size() == 40);
    CHECK(sha.find_first_not_of("0123456789abcdef") == std::string::npos);
    for (int i = 0; i < 100; ++i) {
        const std::uint64_t n = random.between(5, 7);
        CHECK((n >= 5 && n <= 7));
    }
}

TEST_CASE("Random::skip lands where the draws would, and draws_since counts them") {
    for (const std::uint64_t draws : {0ULL, 1ULL, 7ULL, 1'000ULL}) {
        CAPTURE(draws);
        crcr::Random walked(42);
        const crcr::Random start = walked;
        for (std::uint64_t i = 0; i < draws; ++i) {
            walked.next();
        }
        crcr::Random jumped = start;
        jumped.skip(draws);
        CHECK(walked.draws_since(start) == draws);
        CHECK(jumped.draws_since(start) == draws);
        CHECK(jumped.next() == walked.next());
    }
}
