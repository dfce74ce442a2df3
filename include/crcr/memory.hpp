#pragma once

// Large buffers that are filled once, such as a parsed document, backed by transparent huge pages
// where the kernel offers them: one page fault for each 2 MiB instead of each 4 KiB. On a VM a
// fault costs microseconds; at 100,000 allowlist entries the faults of the check's buffers were a
// fifth of validate-allowlist's time.

#include <cstddef>
#include <vector>

namespace crcr {

// Memory for a buffer of `bytes`: from the heap under 2 MiB; above, a mapping of its own aligned to
// 2 MiB and advised for huge pages (pages never written cost nothing either way). Throws
// std::bad_alloc when there is none.
void* allocate_buffer(std::size_t bytes);

// Frees what allocate_buffer(bytes) returned.
void free_buffer(void* data, std::size_t bytes) noexcept;

// Asks for huge pages behind the 2 MiB-aligned part of the `bytes` at `data`, a buffer allocated
// elsewhere (a file's contents) that is about to be written for the first time.
void prefer_huge_pages(const void* data, std::size_t bytes);

template<typename T> class BufferAllocator {
public:
    using value_type = T;

    BufferAllocator() = default;
    template<typename U> explicit BufferAllocator(const BufferAllocator<U>& /*other*/) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(allocate_buffer(n * sizeof(T))); }
    void deallocate(T* data, std::size_t n) noexcept { free_buffer(data, n * sizeof(T)); }

    friend bool operator==(const BufferAllocator& /*a*/, const BufferAllocator& /*b*/) {
        return true;
    }
};

// A vector for such a buffer.
template<typename T> using Buffer = std::vector<T, BufferAllocator<T>>;

} // namespace crcr
