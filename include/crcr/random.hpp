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

    // Moves on as `draws` calls of next() would, at once: a thread can start where a sequential
    // loop would be when every step of the loop takes the same number of draws.
    void skip(std::uint64_t draws) { m_state += draws * k_gamma; }
    // How many calls of next() led from `earlier` to this state.
    std::uint64_t draws_since(const Random& earlier) const {
        return (m_state - earlier.m_state) * k_gamma_inverse;
    }

private:
    static constexpr std::uint64_t k_gamma = 0x9E3779B97F4A7C15ULL; // SplitMix64's increment
    // k_gamma's inverse modulo 2^64 (it is odd), by Newton's iteration: each step doubles the
    // correct low bits.
    static constexpr std::uint64_t k_gamma_inverse = [] {
        std::uint64_t inverse = k_gamma;
        for (int i = 0; i < 6; ++i) {
            inverse *= 2 - k_gamma * inverse;
        }
        return inverse;
    }();
    static_assert(k_gamma * k_gamma_inverse == 1);

    std::uint64_t m_state;
};

} // namespace crcr
