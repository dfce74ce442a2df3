#include "crcr/memory.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace crcr {

namespace {

constexpr std::size_t k_huge_page = std::size_t{2} << 20;

std::size_t round_up(std::size_t bytes) {
    return (bytes + k_huge_page - 1) & ~(k_huge_page - 1);
}

} // namespace

void* allocate_buffer(std::size_t bytes) {
    if (bytes < k_huge_page) {
        return ::operator new(bytes);
    }
    const std::size_t size = round_up(bytes);
    // Room for the alignment, then what lies outside the aligned part unmapped again.
    void* const mapped = mmap(
        nullptr, size + k_huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) {
        throw std::bad_alloc();
    }
    const auto start = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = round_up(start);
    if (aligned > start) {
        munmap(mapped, aligned - start);
    }
    munmap(reinterpret_cast<void*>(aligned + size), k_huge_page - (aligned - start));
    // Only a hint: without transparent huge pages the buffer gets small pages as before.
    (void)madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
}

void free_buffer(void* data, std::size_t bytes) noexcept {
    if (bytes < k_huge_page) {
        ::operator delete(data);
        return;
    }
    munmap(data, round_up(bytes));
}

void prefer_huge_pages(const void* data, std::size_t bytes) {
    const auto begin = reinterpret_cast<std::uintptr_t>(data);
    const std::uintptr_t first = round_up(begin);
    const std::uintptr_t last = (begin + bytes) & ~(k_huge_page - 1);
    if (last > first) {
        (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
}

} // namespace crcr
