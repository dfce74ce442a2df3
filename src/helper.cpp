#include "crcr/helper.hpp"

#include "crcr/error.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace crcr {

namespace {

std::string folder_of(std::string_view path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string(".") : std::string(path.substr(0, slash));
}

// `folder/relative/name` without its ".." steps: `folder` comes from /proc/self/exe, which has no
// symbolic links left, so removing them lexically is exact.
std::string join(std::string_view folder, std::string_view relative, std::string_view name) {
    return (std::filesystem::path(folder) / relative / name).lexically_normal().string();
}

bool is_executable_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)
           && ::access(path.c_str(), X_OK) == 0;
}

} // namespace

std::string find_helper(std::string_view self, std::string_view libexec, std::string_view name) {
    const std::string folder = folder_of(self);
    for (const std::string_view relative : {libexec, std::string_view()}) {
        std::string candidate = join(folder, relative, name);
        if (is_executable_file(candidate)) {
            return candidate;
        }
    }
    return {};
}

void exec_helper(std::string_view libexec,
                 std::string_view name,
                 std::span<const char* const> argv) {
    std::string self(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", self.data(), self.size());
    if (length <= 0 || static_cast<std::size_t>(length) >= self.size()) {
        throw Error(fmt::format("cannot find {}: /proc/self/exe cannot be read ({})",
                                name,
                                length < 0 ? std::strerror(errno) : "path too long"));
    }
    self.resize(static_cast<std::size_t>(length));
    const std::string helper = find_helper(self, libexec, name);
    const std::string folder = folder_of(self);
    if (helper.empty()) {
        throw Error(fmt::format("this command runs in {}, crcr's helper program, which is "
                                "missing: not in '{}' nor '{}' (reinstall crcr)",
                                name,
                                join(folder, libexec, ""),
                                join(folder, "", "")));
    }
    std::vector<char*> args;
    const std::string fallback(name);
    if (argv.empty()) {
        args.push_back(const_cast<char*>(fallback.c_str()));
    }
    for (const char* arg : argv) {
        args.push_back(const_cast<char*>(arg)); // execv copies; it never writes them
    }
    args.push_back(nullptr);
    ::execv(helper.c_str(), args.data());
    throw Error(fmt::format("cannot run '{}': {}", helper, std::strerror(errno)));
}

} // namespace crcr
