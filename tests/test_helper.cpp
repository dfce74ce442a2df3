#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/helper.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

namespace {

// The files of an install tree: each one's path and whether it may be executed.
struct HelperFile {
    std::string path;
    bool executable = true;
};

struct HelperRow {
    const char* name;
    std::vector<HelperFile> files;
    std::vector<std::string> folders;
    const char* found; // relative to the tree; "" none
};

} // namespace

TEST_CASE("find_helper looks in libexec, then beside the program") {
    const std::vector<HelperRow> rows = {
        {"installed: ../libexec/crcr",
         {{"bin/crcr"}, {"libexec/crcr/crcr-relay"}},
         {},
         "libexec/crcr/crcr-relay"},
        {"a build folder: beside", {{"bin/crcr"}, {"bin/crcr-relay"}}, {}, "bin/crcr-relay"},
        {"libexec wins over beside",
         {{"bin/crcr"}, {"bin/crcr-relay"}, {"libexec/crcr/crcr-relay"}},
         {},
         "libexec/crcr/crcr-relay"},
        {"a file that may not be executed is skipped",
         {{"bin/crcr"}, {"libexec/crcr/crcr-relay", false}, {"bin/crcr-relay"}},
         {},
         "bin/crcr-relay"},
        {"a folder of that name is skipped",
         {{"bin/crcr"}},
         {"libexec/crcr/crcr-relay", "bin/crcr-relay"},
         ""},
        {"none", {{"bin/crcr"}, {"bin/crcr-other"}}, {}, ""},
    };
    for (const HelperRow& row : rows) {
        CAPTURE(row.name);
        const crcr::test::TempDir dir;
        for (const HelperFile& file : row.files) {
            std::filesystem::create_directories(
                std::filesystem::path(dir.path(file.path)).parent_path());
            const std::string path = dir.write(file.path, "#!/bin/sh\n");
            chmod(path.c_str(), file.executable ? 0755 : 0644);
        }
        for (const std::string& folder : row.folders) {
            std::filesystem::create_directories(dir.path(folder));
        }
        const std::string found =
            crcr::find_helper(dir.path("bin/crcr"), "../libexec/crcr", "crcr-relay");
        CHECK(found == (*row.found == '\0' ? "" : dir.path(row.found)));
    }
}

TEST_CASE("exec_helper names where it looked when the helper is missing") {
    // The running program is the test binary: no helper of this name is anywhere near it.
    const std::filesystem::path folder =
        std::filesystem::read_symlink("/proc/self/exe").parent_path();
    CHECK_THROWS_WITH_AS(
        crcr::exec_helper("../no-such-libexec", "crcr-no-such-helper", {}),
        ("this command runs in crcr-no-such-helper, crcr's helper program, which is missing: not "
         "in '"
         + (folder.parent_path() / "no-such-libexec/").string() + "' nor '" + folder.string()
         + "/' (reinstall crcr)")
            .c_str(),
        crcr::Error);
}
