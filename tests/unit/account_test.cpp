// Integration tests of the compromised-account defences (checks/account.cpp)
// against a real redis-server, started by tests/integration/redis-tests.sh.
#include "engine/session.hpp"
#include "redis_helpers.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace rampart;
using namespace rampart::test;
using Clock = std::chrono::system_clock;

namespace {

// Of the checks that use Redis only the account check runs, with the
// settings `account`; every message is tagged so that its symbols show.
std::shared_ptr<const Config> account_config(const std::string& account)
{
    return redis_config("acct", {"account"},
                        "[action]\nclean = \"tag\"\nspam = \"tag\"\nconfirmed_spam = \"tag\"\n[account]\n" + account);
}

// 2026-12-07 00:00:00 UTC: a window starts there for any window length that divides a day.
const Clock::time_point kDay0 = Clock::time_point(std::chrono::seconds(1796601600));

struct Sent {
    Answer mail;
    std::vector<Answer> rcpt;
    Outcome eom;
    std::string symbols;
    bool tempfailed() const
    {
        return mail.kind == Answer::Kind::tempfail || eom.answer.kind == Answer::Kind::tempfail ||
               std::any_of(rcpt.begin(), rcpt.end(), [](const Answer& a) { return a.kind == Answer::Kind::tempfail; });
    }
};

struct Submission {
    std::string user = "alice";
    std::string ip = "198.51.100.7";
    std::vector<std::string> rcpts = {"<bob@example.org>"};
    Clock::time_point at = kDay0 + std::chrono::hours(9);
    std::string body = "see you at noon\r\n";
};

// One message of `m.user`, on a connection of its own.
Sent submit(const std::shared_ptr<const Runtime>& rt, const Submission& m)
{
    Session s(rt);
    Sent out;
    s.connect(IpAddress::parse(m.ip), "client.example.net");
    s.helo("client.example.net");
    out.mail = s.mail("<" + m.user + "@example.net>", "", m.user);
    s.set_arrival(m.at);
    if (!out.mail.settles()) {
        for (const auto& r : m.rcpts)
            out.rcpt.push_back(s.rcpt(r));
        s.header("Subject", "hello");
        s.body(m.body);
        out.eom = s.eom("Q");
        if (const auto* e = find_edit(out.eom, HeaderEdit::Op::add, "X-Rampart-Symbols"))
            out.symbols = e->value;
    }
    s.close();
    rt->store->flush_writes();
    return out;
}

} // namespace

TEST_CASE("account: a quiet account that suddenly blasts is locked at account.messages, on every node, until unlocked")
{
    auto cfg = account_config("messages = 5\nrecipients = 0\ndomains = 0\nips = 0\nspam_share = 0\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    Submission m;
    for (int i = 1; i <= 5; ++i) {
        CAPTURE(i);
        m.at += std::chrono::seconds(10);
        const auto sent = submit(i % 2 ? node_a : node_b, m); // the fleet counts them together
        CHECK(sent.eom.answer.kind == Answer::Kind::accept);
        CHECK(sent.symbols.find("RAMPART_ACCOUNT") == std::string::npos);
    }
    m.at += std::chrono::seconds(10);
    const auto sixth = submit(node_a, m);
    CHECK(sixth.eom.answer.kind == Answer::Kind::tempfail);
    CHECK(sixth.eom.answer.text == cfg->reply_account_locked.substr(6));
    const auto& k = node_a->keys;
    CHECK(redis(*node_a, {"HGET", k.account_block("alice"), "kind"}).str == "lock");
    CHECK(redis(*node_a, {"HGET", k.account_block("alice"), "reason"}).str == "6 messages in the window, over 5");
    CHECK(redis(*node_a, {"TTL", k.account_block("alice")}).as_integer() == -1); // until unlocked
    CHECK(redis(*node_a, {"SISMEMBER", k.account_locked(), "alice"}).as_integer() == 1);

    // A day later, on the other node (which never saw the lock), still locked.
    m.at += std::chrono::hours(24);
    const auto later = submit(node_b, m);
    CHECK(later.tempfailed());
    // Other accounts, and mail without a login, are not touched.
    Submission other = m;
    other.user = "carol";
    CHECK(submit(node_b, other).eom.answer.kind == Answer::Kind::accept);
    other.user = "";
    CHECK(submit(node_b, other).eom.answer.kind == Answer::Kind::accept);

    // Unlocked (what `rampartctl account unlock` deletes), a new node lets it send again.
    redis(*node_a, {"DEL", k.account_block("alice")});
    CHECK(submit(runtime(cfg), m).eom.answer.kind == Answer::Kind::accept);
}

TEST_CASE("account: distinct recipient domains and client addresses count across nodes")
{
    auto cfg = account_config("messages = 0\nrecipients = 0\ndomains = 10\nips = 3\nspam_share = 0\naction = "
                              "\"throttle\"\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    Submission m;
    m.user = "dave";
    for (int i = 1; i <= 4; ++i) { // from a botnet: each message from another address
        CAPTURE(i);
        m.ip = "203.0.113." + std::to_string(i);
        const auto sent = submit(i % 2 ? node_a : node_b, m);
        if (i <= 3) {
            CHECK(sent.eom.answer.kind == Answer::Kind::accept);
        } else {
            CHECK(sent.eom.answer.kind == Answer::Kind::tempfail);
            CHECK(sent.eom.answer.text == cfg->reply_account_throttled.substr(6));
        }
    }
    // Throttled, not locked: until the window ends.
    const auto ttl = redis(*node_a, {"TTL", node_a->keys.account_block("dave")}).as_integer();
    CHECK(ttl > 0);
    CHECK(ttl <= 3600); // the window of 09:00 ends at 10:00
    CHECK(redis(*node_a, {"SISMEMBER", node_a->keys.account_locked(), "dave"}).as_integer() == 0);

    Submission wide;
    wide.user = "erin";
    for (int i = 0; i < 11; ++i)
        wide.rcpts.push_back("<x@d" + std::to_string(i) + ".example>");
    const auto sent = submit(node_a, wide); // 12 recipients, 12 domains: over 10 at once
    CHECK(sent.eom.answer.kind == Answer::Kind::tempfail);
    CHECK(sent.symbols.empty()); // refused: no header
    CHECK(redis(*node_a, {"HGET", node_a->keys.account_block("erin"), "reason"}).str ==
          "12 domains in the window, over 10");
}

TEST_CASE("account: a heavy sender's own baseline lets through what makes a quiet account a suspect")
{
    auto cfg = account_config("messages = 10\nrecipients = 0\ndomains = 0\nips = 0\nspam_share = 0\n"
                              "baseline_factor = 2.0\nbaseline_windows = 3\naction = \"throttle\"\n");
    auto rt = runtime(cfg);
    // Four hours of 8 messages an hour: its baseline comes to 8 an hour.
    for (int hour = 0; hour < 4; ++hour)
        for (int i = 0; i < 8; ++i) {
            Submission m;
            m.user = "heavy";
            m.at = kDay0 + std::chrono::hours(8 + hour) + std::chrono::minutes(5 * i);
            REQUIRE(submit(rt, m).eom.answer.kind == Answer::Kind::accept);
        }
    CHECK(std::stod(redis(*rt, {"HGET", rt->keys.account_stat("heavy"), "bm"}).str) == doctest::Approx(8.0));
    // Then 15 in an hour: over the limit of 10, under twice its baseline.
    int heavy_refused = 0, quiet_refused = 0, quiet_first = 0;
    for (int i = 0; i < 15; ++i) {
        Submission m;
        m.user = "heavy";
        m.at = kDay0 + std::chrono::hours(13) + std::chrono::minutes(3 * i);
        heavy_refused += submit(rt, m).tempfailed();
        m.user = "quiet"; // no history: its limit is account.messages
        const bool refused = submit(rt, m).tempfailed();
        quiet_refused += refused;
        if (refused && quiet_first == 0)
            quiet_first = i + 1;
    }
    CHECK(heavy_refused == 0);
    CHECK(quiet_first == 11);
    CHECK(quiet_refused == 5);
    // The window in which it was a suspect does not raise its baseline.
    Submission next;
    next.user = "quiet";
    next.at = kDay0 + std::chrono::hours(15);
    submit(rt, next);
    CHECK(redis(*rt, {"HEXISTS", rt->keys.account_stat("quiet"), "bm"}).as_integer() == 0);
}

TEST_CASE("account: hold quarantines the mail of a suspect; exempt logins are never judged")
{
    auto cfg = account_config("messages = 2\nrecipients = 0\ndomains = 0\nips = 0\nspam_share = 0\naction = "
                              "\"hold\"\nexempt = [\"Newsletter\"]\n");
    auto rt = runtime(cfg);
    Submission m;
    m.user = "frank";
    CHECK(submit(rt, m).eom.quarantine_reason.empty());
    CHECK(submit(rt, m).eom.quarantine_reason.empty());
    const auto third = submit(rt, m);
    CHECK(third.eom.answer.kind == Answer::Kind::accept);
    CHECK(third.eom.quarantine_reason == "rampart: account frank held: 3 messages in the window, over 2");
    CHECK(third.symbols.find("RAMPART_ACCOUNT_MESSAGES(0.00)") != std::string::npos);
    const auto fourth = submit(rt, m); // held at MAIL FROM already, by the block
    CHECK(fourth.eom.quarantine_reason.starts_with("rampart: account frank held"));
    CHECK(fourth.symbols.find("RAMPART_ACCOUNT_HELD(0.00)") != std::string::npos);

    m.user = "newsletter"; // exempt, whatever the case
    for (int i = 0; i < 5; ++i)
        CHECK(submit(rt, m).eom.quarantine_reason.empty());
    CHECK(redis(*rt, {"EXISTS", rt->keys.account_stat("newsletter")}).as_integer() == 0);
}

TEST_CASE("account: an account whose mail is mostly spam is a suspect once it has account.spam_min_messages")
{
    auto cfg = account_config("messages = 0\nrecipients = 0\ndomains = 0\nips = 0\nspam_share = 0.5\n"
                              "spam_min_messages = 3\n");
    auto rt = runtime(cfg);
    Submission m;
    m.user = "grace";
    m.body = std::string(kGtube) + "\r\n";
    for (int i = 0; i < 3; ++i)
        CHECK(submit(rt, m).eom.answer.kind == Answer::Kind::accept); // tagged as spam
    m.body = "an ordinary note\r\n";
    const auto fourth = submit(rt, m);
    CHECK(fourth.eom.answer.kind == Answer::Kind::tempfail);
    CHECK(redis(*rt, {"HGET", rt->keys.account_block("grace"), "reason"}).str ==
          "100% of 3.0 recent verdicts spam, over 50%");
    CHECK(redis(*rt, {"ZSCORE", rt->keys.account_seen(), "grace"}).as_integer() > 0);
}

namespace {

// A one-shot HTTP server on loopback: keeps the first request it gets.
class HttpSink {
  public:
    HttpSink()
    {
        d_fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(d_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(d_fd, reinterpret_cast<sockaddr*>(&a), &len);
        d_port = ntohs(a.sin_port);
        listen(d_fd, 1);
        d_thread = std::thread([this] {
            const int c = accept(d_fd, nullptr, nullptr);
            if (c < 0)
                return;
            char buf[4096];
            for (;;) {
                const auto n = read(c, buf, sizeof buf);
                if (n <= 0)
                    break;
                d_request.append(buf, static_cast<std::size_t>(n));
                const auto head = d_request.find("\r\n\r\n");
                const auto length = d_request.find("Content-Length: ");
                if (head != std::string::npos && length != std::string::npos &&
                    d_request.size() >= head + 4 + std::stoul(d_request.substr(length + 16)))
                    break;
            }
            const std::string reply = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
            [[maybe_unused]] auto w = write(c, reply.data(), reply.size());
            close(c);
        });
    }
    ~HttpSink()
    {
        shutdown(d_fd, SHUT_RDWR);
        if (d_thread.joinable())
            d_thread.join();
        close(d_fd);
    }
    int port() const { return d_port; }
    // The request, once the thread has it (joins).
    const std::string& request()
    {
        d_thread.join();
        return d_request;
    }

  private:
    int d_fd = -1, d_port = 0;
    std::string d_request;
    std::thread d_thread;
};

} // namespace

TEST_CASE("account: a new suspect is handed to account.notify_command and POSTed to account.notify_url, once")
{
    const TempDir dir("notify-test");
    const std::string file = dir.path("events");
    HttpSink sink;
    auto cfg = account_config(
        "messages = 1\nrecipients = 0\ndomains = 0\nips = 0\nspam_share = 0\naction = \"notify\"\n"
        "notify_command = [\"/bin/sh\", \"-c\", \"printf '%s|%s|%s\\\\n' \\\"$1\\\" \\\"$2\\\" \\\"$3\\\" >> " +
        file + "\", \"notify\"]\nnotify_url = \"http://127.0.0.1:" + std::to_string(sink.port()) + "/hook\"\n");
    auto rt = runtime(cfg);
    REQUIRE(rt->notifier);
    Submission m;
    m.user = "heidi \"h\"";
    for (int i = 0; i < 4; ++i) // notify only: every message goes; the second makes it a suspect
        CHECK(submit(rt, m).eom.answer.kind == Answer::Kind::accept);
    rt->notifier->flush();
    std::ifstream in(file);
    std::stringstream events;
    events << in.rdbuf();
    CHECK(events.str() == "heidi \"h\"|notify|2 messages in the window, over 1\n"); // once in the window
    const std::string& request = sink.request();
    CHECK(request.starts_with("POST /hook HTTP/1.1\r\n"));
    CHECK(request.find("Content-Type: application/json\r\n") != std::string::npos);
    CHECK(request.find(R"({"login":"heidi \"h\"","action":"notify","reason":"2 messages in the window, over 1",)"
                       R"("queue_id":"Q","client":"198.51.100.7","time":1796634000})") != std::string::npos);
}
