#pragma once

// A shared library loaded the first time it is needed (dlopen), not linked: what it costs at
// start-up (mapping it, its relocations, its symbols bound) is paid only by the commands that use
// it. src/curl_http_client.cpp loads libcurl this way, src/openssl.cpp libcrypto.

#include <string>
#include <string_view>

namespace crcr {

class SharedLibrary {
public:
    // Loads `soname` (kept loaded for the life of the process). Throws `crcr::Error` saying `name`
    // cannot be loaded, why, and that Debian's `package` provides it; its code is `unavailable`
    // (5), as for a service that cannot be reached, so that no command's own failure code (1:
    // "the signature does not match", say) is given for a library missing.
    SharedLibrary(const char* soname, std::string_view name, std::string_view package);

    // Points `function` at the library's function `symbol`. Throws `crcr::Error` (`unavailable`)
    // naming the symbol when the library lacks it.
    template<typename Function> void bind(const char* symbol, Function& function) const {
        function = reinterpret_cast<Function>(address(symbol)); // NOLINT: dlsym returns void*
    }

private:
    void* address(const char* symbol) const;

    void* m_handle;
    std::string m_name;
    const char* m_soname;
};

} // namespace crcr
