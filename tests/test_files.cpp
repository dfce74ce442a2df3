#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

TEST_CASE("read_file") {
    const crcr::test::TempDir dir;
    SUBCASE("reads bytes as they are") {
        const std::string bytes("a\0b\r\n\xff", 6);
        CHECK(crcr::read_file(dir.write("x", bytes)) == bytes);
    }
    SUBCASE("a missing file names the path and the reason") {
        CHECK_THROWS_WITH_AS(
            crcr::read_file(dir.path("nope.yml")),
            ("cannot read '" + dir.path("nope.yml") + "': No such file or directory").c_str(),
            crcr::Error);
    }
    SUBCASE("a directory") {
        CHECK_THROWS_WITH_AS(crcr::read_file(dir.path()),
                             ("cannot read '" + dir.path() + "': Is a directory").c_str(),
                             crcr::Error);
    }
    SUBCASE("an unreadable file") {
        const std::string path = dir.write("secret", "x");
        chmod(path.c_str(), 0);
        if (geteuid() != 0) { // root reads anything
            CHECK_THROWS_WITH_AS(crcr::read_file(path),
                                 ("cannot read '" + path + "': Permission denied").c_str(),
                                 crcr::Error);
        }
    }
    SUBCASE("too large") {
        CHECK_THROWS_AS(crcr::read_file(dir.write("big", std::string(100, 'x')), 10), crcr::Error);
    }
}

TEST_CASE("write_file_atomically") {
    const crcr::test::TempDir dir;
    const std::string path = dir.path("out.yml");
    crcr::write_file_atomically(path, "one", false);
    CHECK(crcr::read_file(path) == "one");
    CHECK_THROWS_WITH_AS(crcr::write_file_atomically(path, "two", false),
                         ("'" + path + "' already exists: use --force to overwrite it").c_str(),
                         crcr::Error);
    CHECK(crcr::read_file(path) == "one");
    crcr::write_file_atomically(path, "two", true);
    CHECK(crcr::read_file(path) == "two");
    // No temporary file is left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                        std::filesystem::directory_iterator())
          == 1);
    CHECK_THROWS_AS(crcr::write_file_atomically(dir.path("no/such/dir/x"), "x", false),
                    crcr::Error);
}

TEST_CASE("AtomicFileWriter") {
    const crcr::test::TempDir dir;
    const std::string path = dir.path("out.jsonl");
    SUBCASE("nothing is visible until commit; the mode follows the umask") {
        const mode_t old_mask = umask(022);
        crcr::AtomicFileWriter writer(path, false);
        writer.write("one\n");
        writer.write("two\n");
        CHECK_FALSE(std::filesystem::exists(path));
        writer.commit();
        umask(old_mask);
        CHECK(crcr::read_file(path) == "one\ntwo\n");
        struct stat info {};
        stat(path.c_str(), &info);
        CHECK((info.st_mode & 0777) == 0644);
    }
    SUBCASE("without commit, no file and no temporary file are left") {
        {
            crcr::AtomicFileWriter writer(path, false);
            writer.write("partial");
        }
        CHECK(std::filesystem::is_empty(dir.path()));
    }
    SUBCASE("an existing file is kept without force") {
        crcr::write_file_atomically(path, "old", false);
        CHECK_THROWS_AS(crcr::AtomicFileWriter(path, false), crcr::Error);
        CHECK(crcr::read_file(path) == "old");
    }
}

TEST_CASE("AppendFile: a line cut short by a crash is ended before the next one") {
    const crcr::test::TempDir dir;
    const std::string path = dir.write("state.jsonl", "{\"key\":\"a\"}\n{\"key\":\"b\",\"outc");
    crcr::AppendFile(path).append("{\"key\":\"c\"}\n");
    // The torn line stays (and is taken for what it is); the new one is whole.
    CHECK(
        crcr::read_complete_lines(path)
        == std::vector<std::string>{"{\"key\":\"a\"}", "{\"key\":\"b\",\"outc", "{\"key\":\"c\"}"});
    crcr::AppendFile(path).append("{\"key\":\"d\"}\n"); // whole already: nothing added
    CHECK(crcr::read_complete_lines(path).size() == 4);
    crcr::AppendFile(dir.path("new.jsonl")).append("x\n"); // a new file
    CHECK(crcr::read_complete_lines(dir.path("new.jsonl")) == std::vector<std::string>{"x"});
}

TEST_CASE("write_file_atomically: --force keeps the permissions of the file it replaces") {
    const crcr::test::TempDir dir;
    const std::string path = dir.write("private.jsonl", "old");
    chmod(path.c_str(), 0600);
    const mode_t old_mask = umask(022);
    crcr::write_file_atomically(path, "new", true);
    umask(old_mask);
    struct stat info {};
    stat(path.c_str(), &info);
    CHECK((info.st_mode & 07777) == 0600);
    CHECK(crcr::read_file(path) == "new");
}

namespace {

// Sets the modification time of `path` to `age` ago.
void make_old(const std::string& path, std::chrono::seconds age) {
    const auto then = std::chrono::system_clock::now() - age;
    const timespec times[2] = {
        {std::chrono::system_clock::to_time_t(then), 0},
        {std::chrono::system_clock::to_time_t(then), 0},
    };
    REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::vector<std::string> names_in(const std::string& folder) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE("AtomicFileWriter: removes the temporary files of dead writers, only those") {
    const crcr::test::TempDir dir;
    const std::chrono::hours two_hours(2);
    // Left by a crcr killed two hours ago: removed.
    make_old(dir.write(".crcr-tmp-Dead01", "partial"), two_hours);
    // Not crcr's naming, or too fresh to tell: kept.
    for (const std::string name : {".crcr-tmp-short", "crcr-tmp-Other1", ".crcr-tmp-Ab!123"}) {
        make_old(dir.write(name, "x"), two_hours);
    }
    dir.write(".crcr-tmp-Fresh1", "being written");
    std::filesystem::create_directory(dir.path(".crcr-tmp-Folder"));
    make_old(dir.path(".crcr-tmp-Folder"), two_hours);
    // Old, but locked by a writer that is alive (another crcr writing slowly): kept.
    const std::string locked = dir.write(".crcr-tmp-Alive1", "slow");
    make_old(locked, two_hours);
    const int fd = open(locked.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(flock(fd, LOCK_EX) == 0);

    crcr::write_file_atomically(dir.path("out.yml"), "new", false);
    close(fd);
    CHECK(names_in(dir.path())
          == std::vector<std::string>{".crcr-tmp-Ab!123",
                                      ".crcr-tmp-Alive1",
                                      ".crcr-tmp-Folder",
                                      ".crcr-tmp-Fresh1",
                                      ".crcr-tmp-short",
                                      "crcr-tmp-Other1",
                                      "out.yml"});
}

TEST_CASE("AtomicFileWriter: two writers in one folder leave each other's file alone") {
    const crcr::test::TempDir dir;
    crcr::AtomicFileWriter first(dir.path("a.jsonl"), false);
    first.write("first\n");
    const std::vector<std::string> names = names_in(dir.path());
    REQUIRE(names.size() == 1);
    make_old(dir.path(names.front()), std::chrono::hours(2)); // a pause in its writing
    crcr::write_file_atomically(dir.path("b.jsonl"), "second\n", false);
    first.commit();
    CHECK(crcr::read_file(dir.path("a.jsonl")) == "first\n");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"a.jsonl", "b.jsonl"});
}

TEST_CASE("AppendFile: a symbolic link is refused, never followed") {
    const crcr::test::TempDir dir;
    const std::string target = dir.write("elsewhere", "mine\n");
    const std::string link = dir.path("report.jsonl");
    std::filesystem::create_symlink(target, link);
    CHECK_THROWS_WITH_AS(crcr::AppendFile{link},
                         ("cannot write '" + link
                          + "': it is a symbolic link, and crcr appends only to a file itself; "
                            "name the file it points to")
                             .c_str(),
                         crcr::Error);
    CHECK(crcr::read_file(target) == "mine\n");
}

TEST_CASE(
    "files_under: a folder that cannot be listed is reported, the folders after it are read") {
    const crcr::test::TempDir dir;
    std::filesystem::create_directories(dir.path("in/a"));
    std::filesystem::create_directories(dir.path("in/b/c"));
    dir.write("in/a/hidden.json", "{}");
    dir.write("in/b/c/x.json", "{}");
    dir.write("in/z.json", "{}");
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    std::filesystem::permissions(dir.path("in/a"), std::filesystem::perms::none);
    // Root lists any folder: the walk runs as nobody, in a child, which reports through its exit
    // status (1: wrong files, 2: wrong report).
    const auto walk = [&] {
        std::vector<std::string> reported;
        const auto files = crcr::files_under(
            dir.path("in"), [&](const crcr::Error& e) { reported.emplace_back(e.what()); });
        if (files != std::vector<std::string>{dir.path("in/b/c/x.json"), dir.path("in/z.json")}) {
            return 1;
        }
        return reported.size() == 1
                       && reported[0].find("in/a': Permission denied") != std::string::npos
                   ? 0
                   : 2;
    };
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
            _exit(3);
        }
        _exit(walk());
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    std::filesystem::permissions(dir.path("in/a"), std::filesystem::perms::owner_all);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
