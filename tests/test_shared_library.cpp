#include "crcr/error.hpp"
#include "crcr/openssl.hpp"
#include "crcr/shared_library.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

TEST_CASE("SharedLibrary: a missing library names itself and the package to install") {
    try {
        const crcr::SharedLibrary library(
            "libcrcr-no-such.so.0", "libcrcr-no-such", "crcr-no-such");
        FAIL("a missing library loaded");
    } catch (const crcr::Error& e) {
        const std::string what = e.what();
        CHECK(what.starts_with("cannot load libcrcr-no-such: libcrcr-no-such.so.0: cannot open"));
        CHECK(what.ends_with("; install Debian's crcr-no-such package"));
        CHECK(e.code() == crcr::ExitCode::unavailable);
    }
}

TEST_CASE("SharedLibrary: binds functions by name, and names a missing one") {
    const crcr::SharedLibrary libc("libc.so.6", "the C library", "libc6");
    decltype(&std::strlen) length = nullptr;
    libc.bind("strlen", length);
    REQUIRE(static_cast<bool>(length));
    CHECK(length("crcr") == 4);
    decltype(&std::strlen) missing = nullptr;
    CHECK_THROWS_WITH_AS(libc.bind("crcr_no_such_function", missing),
                         "cannot use the C library: 'crcr_no_such_function' is missing from "
                         "libc.so.6",
                         crcr::Error);
    CHECK_FALSE(static_cast<bool>(missing));
}

TEST_CASE("openssl: every function of the table is bound") {
    const crcr::OpenSsl& api = crcr::openssl();
#define CRCR_CHECK_BOUND(name)                                                                     \
    {                                                                                              \
        CAPTURE(#name);                                                                            \
        CHECK(static_cast<bool>(api.name));                                                        \
    }
    CRCR_OPENSSL_FUNCTIONS(CRCR_CHECK_BOUND)
#undef CRCR_CHECK_BOUND
    CHECK(&crcr::openssl() == &api); // loaded once
}
