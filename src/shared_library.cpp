#include "crcr/shared_library.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

namespace crcr {

SharedLibrary::SharedLibrary(const char* soname, std::string_view name, std::string_view package)
    : m_handle(dlopen(soname, RTLD_NOW | RTLD_LOCAL)), m_name(name), m_soname(soname) {
    if (m_handle == nullptr) {
        throw Error(
            fmt::format(
                "cannot load {}: {}; install Debian's {} package", name, dlerror(), package),
            ExitCode::unavailable);
    }
}

void* SharedLibrary::address(const char* symbol) const {
    void* found = dlsym(m_handle, symbol);
    if (found == nullptr) {
        throw Error(fmt::format("cannot use {}: '{}' is missing from {}", m_name, symbol, m_soname),
                    ExitCode::unavailable);
    }
    return found;
}

} // namespace crcr
