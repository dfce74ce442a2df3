#include "crcr/openssl.hpp"

#include "crcr/error.hpp"
#include "crcr/shared_library.hpp"

#include <mutex>
#include <string>

namespace crcr {

const OpenSsl& openssl() {
    static OpenSsl api;
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
#ifdef CRCR_OPENSSL_LINKED
#define CRCR_OPENSSL_LINK(name) api.name = &::name;
        CRCR_OPENSSL_FUNCTIONS(CRCR_OPENSSL_LINK)
#undef CRCR_OPENSSL_LINK
#else
        try {
            const SharedLibrary library("libcrypto.so.3", "libcrypto (OpenSSL 3)", "libssl3");
#define CRCR_OPENSSL_BIND(name) library.bind(#name, api.name);
            CRCR_OPENSSL_FUNCTIONS(CRCR_OPENSSL_BIND)
#undef CRCR_OPENSSL_BIND
        } catch (const Error& e) {
            failure = e.what();
        }
#endif
    });
    if (!failure.empty()) {
        throw Error(failure, ExitCode::unavailable);
    }
    return api;
}

} // namespace crcr
