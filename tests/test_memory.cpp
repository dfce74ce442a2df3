#include "crcr/memory.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>

TEST_CASE("Buffer: buffers of 2 MiB and more are aligned to huge pages, and every size is usable") {
    constexpr std::uintptr_t k_huge_page = std::uintptr_t{2} << 20;
    struct Case {
        std::size_t count;
        bool aligned;
    };
    const Case cases[] = {{1, false}, {100'000, false}, {(2U << 20) / 4, true}, {3'000'000, true}};
    for (const Case& c : cases) {
        CAPTURE(c.count);
        crcr::Buffer<std::uint32_t> buffer(c.count);
        std::iota(buffer.begin(), buffer.end(), 0U); // every page writable
        CHECK(buffer.back() == c.count - 1);
        const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
        if (c.aligned) {
            CHECK(address % k_huge_page == 0);
        }
        buffer.resize(2 * c.count); // moved to a new buffer, the old one freed
        CHECK(buffer[c.count - 1] == c.count - 1);
    }
}
