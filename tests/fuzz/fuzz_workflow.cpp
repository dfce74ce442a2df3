// A downstream workflow as gen-workflow --check reads it (YAML 1.2, GitHub's reading).
#include "crcr/workflow_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)crcr::check_workflow(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
