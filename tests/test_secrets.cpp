#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/secrets.hpp"

#include <doctest/doctest.h>

TEST_CASE("webhook_secret") {
    const crcr::test::TempDir dir;
    const std::string file = dir.write("secret", "from-file\n");
    const std::string env_file = dir.write("env-secret", "from-env-file\r\n");
    const crcr::Environment env(crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET_FILE", env_file},
                                                             {"CRCR_WEBHOOK_SECRET", "from-env"}});
    const crcr::Environment only_value(
        crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET", "from-env"}});
    struct Case {
        std::string name;
        crcr::WebhookSecretSources sources;
        const crcr::Environment* env;
        std::optional<std::string> want;
    };
    const crcr::Environment none;
    const Case cases[] = {
        {"--secret-file first", {.secret_file = file, .secret = "flag"}, &env, "from-file"},
        {"--secret next", {.secret = "flag"}, &env, "flag"},
        {"CRCR_WEBHOOK_SECRET_FILE next", {}, &env, "from-env-file"},
        {"CRCR_WEBHOOK_SECRET last", {}, &only_value, "from-env"},
        {"nothing", {}, &none, std::nullopt},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        CHECK(crcr::webhook_secret(c.sources, *c.env) == c.want);
    }
    SUBCASE("empty secrets are errors") {
        CHECK_THROWS_WITH_AS(crcr::webhook_secret({.secret_file = dir.write("empty", "\n")}, none),
                             ("webhook secret file '" + dir.path("empty") + "' is empty").c_str(),
                             crcr::Error);
        CHECK_THROWS_AS(crcr::webhook_secret({.secret = ""}, none), crcr::Error);
        CHECK_THROWS_AS(
            crcr::webhook_secret(
                {}, crcr::Environment(crcr::Environment::Variables{{"CRCR_WEBHOOK_SECRET", ""}})),
            crcr::Error);
    }
    SUBCASE("an unreadable secret file names it") {
        CHECK_THROWS_WITH_AS(
            crcr::webhook_secret({.secret_file = dir.path("missing")}, none),
            ("cannot read '" + dir.path("missing") + "': No such file or directory").c_str(),
            crcr::Error);
    }
}
