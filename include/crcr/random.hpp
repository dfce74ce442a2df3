#pragma once

// A small deterministic random source (SplitMix64) for ids, SHAs and numbers in simulated
// deliveries: the same seed gives the same output on every machine, so `--seed` makes golden
// files possible. Not for secrets.

#include <cstdint>
#include <string>

namespace crcr {

class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed) {}

    // The next 64 random bits.
    std::uint64_t next();
    // A number in [low, high].
    std::uint64_t between(std::uint64_t low, std::uint64_t high);
    // `length` lowercase hex digits (a git SHA is 40).
    std::string hex(std::size_t length);
    // A version 4 UUID in its canonical lowercase form, as X-GitHub-Delivery carries.
    std::string uuid_v4();

private:
    std::uint64_t m_state;
};

} // namespace crcr
