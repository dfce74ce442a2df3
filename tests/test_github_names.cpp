#include "crcr/github_names.hpp"

#include <doctest/doctest.h>

#include <string>

TEST_CASE("full_name_problem") {
    struct Case {
        std::string name;
        bool valid;
    };
    const Case cases[] = {
        {"pytorch/pytorch", true},
        {"Ascend/pytorch", true},
        {"google-pytorch/torch_tpu", true},
        {"a/.github", true},
        {"a/b.c-d_e", true},
        {std::string(39, 'a') + "/r", true},
        {std::string(40, 'a') + "/r", false},
        {"a/" + std::string(100, 'r'), true},
        {"a/" + std::string(101, 'r'), false},
        {"-a/r", false},
        {"a-/r", false},
        {"a--b/r", false},
        {"a_b/r", false},
        {"a/.", false},
        {"a/..", false},
        {"a/b/c", false},
        {"a/b c", false},
        {"ab", false},
        {"/r", false},
        {"a/", false},
        {"ä/r", false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::full_name_problem(c.name).has_value() == !c.valid);
    }
}

TEST_CASE("login_problem") {
    CHECK_FALSE(crcr::login_problem("atalman"));
    CHECK_FALSE(crcr::login_problem("can-gaa-hou"));
    CHECK_FALSE(crcr::login_problem("KarhouTam"));
    CHECK(crcr::login_problem("@atalman"));
    CHECK(crcr::login_problem("a b"));
    CHECK(crcr::login_problem(""));
    CHECK(*crcr::login_problem("x-") == "login 'x-' cannot start or end with a hyphen");
}
