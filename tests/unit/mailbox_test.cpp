// Unit tests: stored mail read from files, mbox files, Maildirs and directory trees.
#include "temp_dir.hpp"
#include "util/mailbox.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace rampart;
using rampart::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Read {
    std::vector<std::pair<std::string, std::string>> messages; // source, raw
    std::vector<MailboxError> errors;
    std::size_t count = 0;
};

Read read_all(const std::string& path, std::size_t stop_after = 0)
{
    Read r;
    r.count = read_mailbox(
        path,
        [&](const std::string& source, std::string_view raw) {
            r.messages.emplace_back(source, std::string(raw));
            return stop_after == 0 || r.messages.size() < stop_after;
        },
        r.errors);
    return r;
}

} // namespace

TEST_CASE("mailbox: a single stored message is handed on whole")
{
    TempDir dir("mailbox-test");
    const std::string raw = "From: a@example.com\r\nSubject: hi\r\n\r\nFrom here on, a body.\r\n";
    const auto p = dir.write("one.eml", raw);
    const auto r = read_all(p);
    CHECK(r.errors.empty());
    REQUIRE(r.count == 1);
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].first == p);
    CHECK(r.messages[0].second == raw);
}

TEST_CASE("mailbox: mbox files split at separators, unquoted")
{
    struct Case {
        const char* name;
        std::string content;
        std::vector<std::string> messages;
    };
    const Case cases[] = {
        {"three messages, CRLF, quoted From lines",
         "From a@example.com Mon Jan  1 00:00:00 2024\r\n"
         "Subject: one\r\n"
         "\r\n"
         ">From the start\r\n"
         ">>From deeper\r\n"
         ">Fromage is not quoted\r\n"
         "\r\n"
         "From b@example.com Mon Jan  1 00:00:01 2024\r\n"
         "Subject: two\r\n"
         "\r\n"
         "body two\r\n"
         "From here, no empty line before: not a separator\r\n"
         "\r\n"
         "From c@example.com Mon Jan  1 00:00:02 2024\r\n"
         "Subject: three\r\n"
         "\r\n"
         "last\r\n"
         "\r\n",
         {"Subject: one\r\n\r\nFrom the start\r\n>From deeper\r\n>Fromage is not quoted\r\n",
          "Subject: two\r\n\r\nbody two\r\nFrom here, no empty line before: not a separator\r\n",
          "Subject: three\r\n\r\nlast\r\n"}},
        {"LF, body ending in empty lines loses only one",
         "From a Mon Jan  1 00:00:00 2024\n"
         "Subject: one\n"
         "\n"
         "text\n"
         "\n"
         "\n"
         "From b Mon Jan  1 00:00:01 2024\n"
         "Subject: two\n"
         "\n"
         "no final line end",
         {"Subject: one\n\ntext\n\n", "Subject: two\n\nno final line end"}},
        {"one message only",
         "From a@example.com Mon Jan  1 00:00:00 2024\n"
         "Subject: alone\n"
         "\n"
         "hello\n",
         {"Subject: alone\n\nhello\n"}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        TempDir dir("mailbox-test");
        const auto p = dir.write("box.mbox", c.content);
        const auto r = read_all(p);
        CHECK(r.errors.empty());
        CHECK(r.count == c.messages.size());
        REQUIRE(r.messages.size() == c.messages.size());
        for (std::size_t i = 0; i < c.messages.size(); ++i) {
            CHECK(r.messages[i].first == p + ":" + std::to_string(i + 1));
            CHECK(r.messages[i].second == c.messages[i]);
        }
    }
}

TEST_CASE("mailbox: a Maildir is read new, then cur, then its folders")
{
    TempDir dir("mailbox-test");
    dir.write("md/new/200.b", "new b");
    dir.write("md/new/100.a", "new a");
    dir.write("md/new/.hidden", "hidden");
    dir.write("md/cur/050.c:2,S", "cur c");
    dir.write("md/tmp/300.t", "half delivered");
    dir.write("md/dovecot-uidlist", "not mail");
    dir.write("md/.Sub/new/1.s", "sub new");
    dir.write("md/.Sub/cur/2.s", "sub cur");
    fs::create_directories(dir.root() / "md/.Sub/tmp");
    dir.write("md/.NotAFolder/x", "not a Maildir");
    const auto r = read_all(dir.path("md"));
    CHECK(r.errors.empty());
    const std::vector<std::pair<std::string, std::string>> want = {
        {dir.path("md/new/100.a"), "new a"},      {dir.path("md/new/200.b"), "new b"},
        {dir.path("md/cur/050.c:2,S"), "cur c"},  {dir.path("md/.Sub/new/1.s"), "sub new"},
        {dir.path("md/.Sub/cur/2.s"), "sub cur"},
    };
    CHECK(r.count == want.size());
    CHECK(r.messages == want);
}

TEST_CASE("mailbox: a directory tree is read in name order, dot-files skipped")
{
    TempDir dir("mailbox-test");
    dir.write("tree/b.eml", "b");
    dir.write("tree/a.eml", "a");
    dir.write("tree/.draft.eml", "dot-file");
    dir.write("tree/.git/objects/x", "dot-directory");
    dir.write("tree/sub/c.eml", "c");
    dir.write("tree/sub/deeper/d.eml", "d");
    dir.write("tree/z.mbox", "From x\nSubject: z1\n\nFrom y\nSubject: z2\n");
    std::error_code ec;
    fs::create_directory_symlink(dir.root() / "tree", dir.root() / "tree/loop", ec); // must not be followed
    const auto r = read_all(dir.path("tree"));
    const std::vector<std::pair<std::string, std::string>> want = {
        {dir.path("tree/a.eml"), "a"},
        {dir.path("tree/b.eml"), "b"},
        {dir.path("tree/sub/c.eml"), "c"},
        {dir.path("tree/sub/deeper/d.eml"), "d"},
        {dir.path("tree/z.mbox") + ":1", "Subject: z1\n"},
        {dir.path("tree/z.mbox") + ":2", "Subject: z2\n"},
    };
    CHECK(r.count == want.size());
    CHECK(r.messages == want);
    if (!ec) {
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].path == dir.path("tree/loop"));
    }
}

TEST_CASE("mailbox: what cannot be read is reported and skipped")
{
    TempDir dir("mailbox-test");
    SUBCASE("a path that does not exist")
    {
        const auto r = read_all(dir.path("missing"));
        CHECK(r.count == 0);
        CHECK(r.messages.empty());
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].path == dir.path("missing"));
        CHECK_FALSE(r.errors[0].message.empty());
    }
    SUBCASE("a single-message file over the ceiling")
    {
        dir.write("tree/a.eml", "a");
        dir.write("tree/big.eml", "");
        fs::resize_file(dir.root() / "tree/big.eml", kMaxStoredMessageBytes + 1); // sparse: cheap
        const auto r = read_all(dir.path("tree"));
        CHECK(r.count == 1);
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].path == dir.path("tree/big.eml"));
        CHECK(r.errors[0].message == "larger than 67108864 bytes");
    }
    SUBCASE("an mbox message over the ceiling")
    {
        const auto p = dir.write("big.mbox", "From a\nSubject: one\n\n");
        fs::resize_file(p, fs::file_size(p) + kMaxStoredMessageBytes);
        std::ofstream(p, std::ios::binary | std::ios::app) << "\n\nFrom b\nSubject: two\n";
        const auto r = read_all(p);
        CHECK(r.count == 1);
        REQUIRE(r.messages.size() == 1);
        CHECK(r.messages[0] == std::pair<std::string, std::string>{p + ":2", "Subject: two\n"});
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0].path == p);
        CHECK(r.errors[0].message == "message 1 larger than 67108864 bytes");
    }
}

TEST_CASE("mailbox: reading stops when the callback says so")
{
    TempDir dir("mailbox-test");
    dir.write("tree/a.eml", "a");
    dir.write("tree/b.mbox", "From x\nSubject: b1\n\nFrom y\nSubject: b2\n\nFrom z\nSubject: b3\n");
    dir.write("tree/c.eml", "c");
    struct Case {
        std::size_t stop_after;
        std::size_t count;
    };
    for (const Case c : {Case{1, 1}, Case{2, 2}, Case{3, 3}, Case{0, 5}}) {
        CAPTURE(c.stop_after);
        const auto r = read_all(dir.path("tree"), c.stop_after);
        CHECK(r.errors.empty());
        CHECK(r.count == c.count);
        CHECK(r.messages.size() == c.count);
    }
}
