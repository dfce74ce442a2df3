#include "test_support.hpp"

#include "crcr/arrivals.hpp"
#include "crcr/relay_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <sstream>

namespace {

// A crcr capture record of `event` with delivery id `id`.
std::string capture(const std::string& id, const std::string& event = "push") {
    return fmt::format(
        R"({{"crcr_capture":1,"delivery_id":"{}","event":"{}","headers":{{"X-GitHub-Delivery":"{}","X-GitHub-Event":"{}"}},"body":"{{}}"}})",
        id,
        event,
        id,
        event);
}

// A GitHub delivery record, as `crcr deliveries pull` writes them.
std::string github_record(const std::string& guid, bool redelivery) {
    return fmt::format(
        R"({{"id":1,"guid":"{}","redelivery":{},"status":"OK","status_code":200,"event":"pull_request","action":"opened","request":{{"headers":{{"X-GitHub-Delivery":"{}","X-GitHub-Event":"pull_request"}},"payload":{{"action":"opened"}}}},"response":{{"headers":{{}},"payload":""}}}})",
        guid,
        redelivery ? "true" : "false",
        guid);
}

void arrived(crcr::RelayStore& store, const std::string& id, int status) {
    store.add_delivery(crcr::DeliveryRow{.delivery_id = id, .event = "push", .status = status});
}

} // namespace

TEST_CASE("arrivals: which records never reached the relay, or were never accepted") {
    const crcr::test::TempDir dir;
    crcr::RelayStore store(":memory:");
    arrived(store, "d-ok", 200);
    arrived(store, "d-refused", 401);
    arrived(store, "d-retried", 502); // refused once, accepted on a redelivery
    arrived(store, "d-retried", 200);
    arrived(store, "g-1", 200);
    std::filesystem::create_directory(dir.path("pulled"));
    dir.write("pulled/a.jsonl",
              capture("d-ok") + "\n" + capture("d-lost", "pull_request") + "\n"
                  + capture("d-refused") + "\n");
    dir.write("pulled/b.json", github_record("g-1", false));
    dir.write("pulled/c.json", github_record("g-2", false) + "\n" + github_record("g-2", true));
    dir.write("loose.jsonl", capture("d-retried") + "\n{\"action\":\"opened\"}\n");
    std::istringstream in(capture("d-stdin"));

    const crcr::Arrivals arrivals =
        crcr::compare_arrivals({dir.path("pulled"), dir.path("loose.jsonl"), "-"}, in, store);

    CHECK(arrivals.deliveries == 7); // g-2 twice (a redelivery) counts once
    REQUIRE(arrivals.never_arrived.size() == 3);
    CHECK(arrivals.never_arrived[0].delivery_id == "d-lost");
    CHECK(arrivals.never_arrived[0].event == "pull_request");
    CHECK(arrivals.never_arrived[0].location == dir.path("pulled/a.jsonl") + ":2");
    CHECK(arrivals.never_arrived[1].delivery_id == "g-2");
    CHECK(arrivals.never_arrived[1].action == "opened");
    CHECK(arrivals.never_arrived[2].delivery_id == "d-stdin");
    CHECK(arrivals.never_arrived[2].location == "<stdin>:1");
    REQUIRE(arrivals.never_accepted.size() == 1);
    CHECK(arrivals.never_accepted[0].delivery_id == "d-refused");
    CHECK(arrivals.never_accepted[0].answers == std::vector<int>{401});
    REQUIRE(arrivals.unreadable.size() == 1);
    CHECK(arrivals.unreadable[0]
          == dir.path("loose.jsonl") + ":2: a payload without a delivery id: nothing to look for");
}

TEST_CASE("arrivals: inputs that cannot be read are named, the others still counted") {
    const crcr::test::TempDir dir;
    crcr::RelayStore store(":memory:");
    dir.write("torn.jsonl", capture("d-1") + "\n{\"crcr_capture\":1,");
    std::istringstream in;
    const crcr::Arrivals arrivals =
        crcr::compare_arrivals({dir.path("torn.jsonl"), dir.path("missing")}, in, store);
    CHECK(arrivals.deliveries == 1);
    CHECK(arrivals.never_arrived.size() == 1);
    REQUIRE(arrivals.unreadable.size() == 2);
    CHECK(arrivals.unreadable[0].starts_with(dir.path("torn.jsonl") + ":2"));
    CHECK(arrivals.unreadable[1].find(dir.path("missing")) != std::string::npos);
}
