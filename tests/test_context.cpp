#include "crcr/context.hpp"

#include <doctest/doctest.h>

TEST_CASE("Environment") {
    const crcr::Environment env(crcr::Environment::Variables{{"A", "1"}, {"EMPTY", ""}});
    CHECK(env.get("A") == "1");
    CHECK(env.get("EMPTY") == "");
    CHECK_FALSE(env.get("B"));
    CHECK(crcr::Environment::from_process().get("PATH").has_value());
}

TEST_CASE("use_color") {
    CHECK(crcr::use_color(true, crcr::Environment()));
    CHECK_FALSE(crcr::use_color(false, crcr::Environment()));
    CHECK_FALSE(
        crcr::use_color(true, crcr::Environment(crcr::Environment::Variables{{"NO_COLOR", ""}})));
    CHECK_FALSE(
        crcr::use_color(true, crcr::Environment(crcr::Environment::Variables{{"TERM", "dumb"}})));
}
