#include "util/mailbox.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace rampart {
namespace {

namespace fs = std::filesystem;

using Each = std::function<bool(const std::string& source, std::string_view raw)>;

// Enough of a line to tell a separator or a quoted ">From " line.
constexpr std::size_t kLineHead = 64;

const std::string kTooLarge = "larger than " + std::to_string(kMaxStoredMessageBytes) + " bytes";

bool hidden(const fs::path& p) { return p.filename().native().starts_with('.'); }

bool is_maildir(const fs::path& dir)
{
    std::error_code ec;
    return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

// Throws filesystem_error, for the caller to report against the directory.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir)
{
    std::vector<fs::directory_entry> out;
    for (const auto& e : fs::directory_iterator(dir, fs::directory_options::none))
        out.push_back(e);
    std::sort(out.begin(), out.end(), [](const fs::directory_entry& a, const fs::directory_entry& b) {
        return a.path().filename().native() < b.path().filename().native();
    });
    return out;
}

// Reads the next line, its "\n" included, into `line`; false at the end of
// the file. Only `max` bytes are kept, so that a file without line ends
// cannot grow the buffer past the ceiling; `cut` says whether more were.
bool next_line(std::streambuf& in, std::string& line, std::size_t max, bool& cut)
{
    line.clear();
    cut = false;
    for (;;) {
        const int c = in.sbumpc();
        if (c == std::char_traits<char>::eof())
            return !line.empty() || cut;
        if (line.size() < max)
            line.push_back(static_cast<char>(c));
        else
            cut = true;
        if (c == '\n')
            return true;
    }
}

bool is_empty_line(std::string_view line) { return line == "\n" || line == "\r\n"; }

// mboxrd and mboxo writers quote body lines that would read as separators.
void unquote_from(std::string& line)
{
    const auto n = line.find_first_not_of('>');
    if (n != 0 && n != std::string::npos && line.compare(n, 5, "From ") == 0)
        line.erase(0, 1);
}

class Reader {
  public:
    Reader(const Each& each, std::vector<MailboxError>& errors) : d_each(each), d_errors(errors) {}

    void visit(const fs::path& p, bool top);
    std::size_t count() const { return d_count; }

  private:
    void directory(const fs::path& dir);
    void maildir(const fs::path& dir);
    void file(const fs::path& p);
    void mbox(const fs::path& p, std::istream& in);
    void hand(const std::string& source, std::string_view raw);
    void fail(const fs::path& p, std::string message) { d_errors.push_back({p.string(), std::move(message)}); }

    const Each& d_each;
    std::vector<MailboxError>& d_errors;
    std::size_t d_count = 0;
    bool d_stopped = false;
};

void Reader::hand(const std::string& source, std::string_view raw)
{
    ++d_count;
    if (!d_each(source, raw))
        d_stopped = true;
}

// Each entry is caught on its own, so that one bad entry does not end the walk.
void Reader::visit(const fs::path& p, bool top)
{
    try {
        std::error_code ec;
        const auto link = fs::symlink_status(p, ec);
        if (ec || !fs::exists(link))
            return fail(p, ec ? ec.message() : "no such file or directory");
        const auto target = fs::status(p, ec);
        if (ec || !fs::exists(target))
            return fail(p, ec ? ec.message() : "a dangling symbolic link");
        if (fs::is_directory(target)) {
            if (fs::is_symlink(link) && !top)
                return fail(p, "a symbolic link to a directory, not followed");
            if (is_maildir(p))
                maildir(p);
            else
                directory(p);
        } else if (fs::is_regular_file(target)) {
            file(p);
        } else {
            fail(p, "not a directory nor a regular file");
        }
    } catch (const fs::filesystem_error& e) {
        fail(e.path1().empty() ? p : e.path1(), e.code().message());
    }
}

void Reader::directory(const fs::path& dir)
{
    for (const auto& e : sorted_entries(dir)) {
        if (d_stopped)
            return;
        if (!hidden(e.path()))
            visit(e.path(), false);
    }
}

void Reader::maildir(const fs::path& dir)
{
    for (const char* sub : {"new", "cur"}) {
        std::vector<fs::directory_entry> entries;
        try {
            entries = sorted_entries(dir / sub);
        } catch (const fs::filesystem_error& e) {
            fail(dir / sub, e.code().message());
        }
        for (const auto& e : entries) {
            if (d_stopped)
                return;
            if (hidden(e.path()))
                continue;
            std::error_code ec;
            if (fs::is_regular_file(e.path(), ec)) // a directory here is no delivery
                visit(e.path(), false);
            else
                fail(e.path(), "not a regular file");
        }
    }
    for (const auto& e : sorted_entries(dir)) {
        if (d_stopped)
            return;
        std::error_code ec;
        if (hidden(e.path()) && !e.is_symlink(ec) && e.is_directory(ec) && is_maildir(e.path()))
            maildir(e.path());
    }
}

void Reader::file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return fail(p, "cannot be opened: " + std::generic_category().message(errno));
    char head[5] = {};
    in.read(head, sizeof head);
    const bool is_mbox = in.gcount() == 5 && std::string_view(head, 5) == "From ";
    in.clear();
    in.seekg(0);
    if (is_mbox)
        return mbox(p, in);
    const auto size = fs::file_size(p);
    if (size > kMaxStoredMessageBytes)
        return fail(p, kTooLarge);
    std::string raw(size, '\0');
    in.read(raw.data(), static_cast<std::streamsize>(size));
    raw.resize(static_cast<std::size_t>(in.gcount())); // it may have shrunk since
    if (in.bad())
        return fail(p, "read error");
    hand(p.string(), raw);
}

void Reader::mbox(const fs::path& p, std::istream& in)
{
    const std::string name = p.string();
    std::string msg;
    std::string line;
    std::string held; // an empty line, which the next line may show to be the separator's
    std::size_t index = 0;
    bool too_large = false;
    bool cut = false;
    const auto finish = [&] {
        if (index == 0)
            return;
        if (too_large)
            fail(p, "message " + std::to_string(index) + " " + kTooLarge);
        else
            hand(name + ":" + std::to_string(index), msg);
    };
    const auto add = [&](std::string_view s) {
        if (too_large)
            return;
        if (cut || msg.size() + s.size() > kMaxStoredMessageBytes) {
            too_large = true;
            std::string().swap(msg);
        } else {
            msg += s;
        }
    };
    // Lines are kept to what still fits in the message, so that it and the
    // line together stay within the ceiling.
    const auto room = [&] {
        const std::size_t used = msg.size() + held.size();
        return too_large || used >= kMaxStoredMessageBytes ? kLineHead
                                                           : std::max(kLineHead, kMaxStoredMessageBytes - used + 1);
    };
    while (!d_stopped && next_line(*in.rdbuf(), line, room(), cut)) {
        if (line.starts_with("From ") && (index == 0 || !held.empty())) {
            finish();
            ++index;
            msg.clear();
            held.clear();
            too_large = false;
            continue;
        }
        if (!held.empty()) {
            add(held);
            held.clear();
        }
        if (is_empty_line(line) && !cut) {
            held = line;
            continue;
        }
        unquote_from(line);
        add(line);
    }
    if (!d_stopped)
        finish();
}

} // namespace

std::size_t read_mailbox(const std::string& path, const Each& each, std::vector<MailboxError>& errors)
{
    Reader reader(each, errors);
    reader.visit(path, true);
    return reader.count();
}

} // namespace rampart
