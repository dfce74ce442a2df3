#include "test_support.hpp"

#include "crcr/error.hpp"
#include "crcr/files.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

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
