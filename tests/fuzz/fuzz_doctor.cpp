// `crcr doctor` reading whatever GitHub answers: the input is a sequence of answers separated by
// "\n---\n", each "NNN body" (a status, a space, the body) or a bare body (200), handed out in
// order to the checklist's requests (404 once they run out). It must end with a report or a
// `crcr::Error`, never a crash.
#include "crcr/doctor.hpp"
#include "crcr/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

class ScriptedAnswers final : public crcr::HttpClient {
public:
    explicit ScriptedAnswers(std::string_view input) {
        constexpr std::string_view k_separator = "\n---\n";
        for (;;) {
            const std::size_t end = input.find(k_separator);
            m_answers.emplace_back(input.substr(0, end));
            if (end == std::string_view::npos) {
                break;
            }
            input.remove_prefix(end + k_separator.size());
        }
    }

    crcr::HttpResponse send(const crcr::HttpRequest&) override {
        crcr::HttpResponse response{.status = 404, .body = R"({"message":"Not Found"})"};
        if (m_next < m_answers.size()) {
            const std::string& answer = m_answers[m_next++];
            response.status = 200;
            response.body = answer;
            if (answer.size() >= 4 && answer[3] == ' ' && answer[0] >= '1' && answer[0] <= '5'
                && answer[1] >= '0' && answer[1] <= '9' && answer[2] >= '0' && answer[2] <= '9') {
                response.status = std::stoi(answer.substr(0, 3));
                response.body = answer.substr(4);
            }
        }
        return response;
    }

private:
    std::vector<std::string> m_answers;
    std::size_t m_next = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ScriptedAnswers http(std::string_view(reinterpret_cast<const char*>(data), size));
    crcr::GitHubApi api(http,
                        "https://api.github.com",
                        {.now = [] { return std::chrono::system_clock::time_point{}; },
                         .sleep = [](std::chrono::milliseconds) {},
                         .notice = [](const std::string&) {},
                         .max_wait = std::chrono::seconds(0)});
    const crcr::DoctorInput input{.repo = "o/r", .token = "t", .token_source = "GH_TOKEN"};
    try {
        (void)crcr::diagnose(api, input);
    } catch (const crcr::Error&) {
        // an answer it cannot use, explained
    }
    return 0;
}
