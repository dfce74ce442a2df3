#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace {

// With CRCR_TEST_CASES_RAN=FILE, each run appends the names of the test cases it ran to FILE,
// one a line, in one write (O_APPEND: ctest's parallel runs do not interleave). The test script
// compares that file with --list-test-cases, so a case that no ctest entry selects, or that two
// entries both run, fails the suite instead of passing unseen.
struct CasesRanLog : doctest::IReporter {
    explicit CasesRanLog(const doctest::ContextOptions&) {}

    void test_case_start(const doctest::TestCaseData& data) override { ran_.insert(data.m_name); }

    void test_run_end(const doctest::TestRunStats&) override {
        const char* path = std::getenv("CRCR_TEST_CASES_RAN");
        if (path == nullptr || *path == '\0' || ran_.empty())
            return;
        std::string lines;
        for (const auto& name : ran_)
            lines += name + '\n';
        const int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0
            || ::write(fd, lines.data(), lines.size()) != static_cast<ssize_t>(lines.size())) {
            std::perror(path);
            std::_Exit(1);
        }
        ::close(fd);
    }

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}

private:
    std::set<std::string> ran_;
};

} // namespace

REGISTER_LISTENER("cases-ran-log", 1, CasesRanLog);
