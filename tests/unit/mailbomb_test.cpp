// Integration tests of the mail bombing defence (checks/mailbomb.cpp)
// against a real redis-server, started by tests/integration/redis-tests.sh.
#include "engine/session.hpp"
#include "redis_helpers.hpp"

#include <doctest/doctest.h>

using namespace rampart;
using namespace rampart::test;

namespace {

// Of the checks that use Redis only the mailbomb check runs, with `settings`.
std::shared_ptr<const Config> mailbomb_config(const std::string& settings)
{
    return redis_config("bomb", {"mailbomb"}, "[mailbomb]\n" + settings);
}

struct Sent {
    Answer mail;
    std::vector<Answer> rcpt;
    Outcome eom;
    bool reached_eom = false;
};

// One message from `sender` to `rcpts`, on a connection of its own.
Sent send(const std::shared_ptr<const Runtime>& rt, const std::string& sender, const std::vector<std::string>& rcpts,
          const std::string& login = "")
{
    Session s(rt);
    Sent out;
    s.connect(IpAddress::parse("198.51.100.9"), "mx.sender.example");
    s.helo("mx.sender.example");
    out.mail = s.mail("<" + sender + ">", "", login);
    bool any = false;
    for (const auto& r : rcpts) {
        out.rcpt.push_back(s.rcpt("<" + r + ">"));
        any |= !out.rcpt.back().settles();
    }
    if (any) {
        s.header("Subject", "news");
        s.body("hello\r\n");
        out.eom = s.eom("Q");
        out.reached_eom = true;
    }
    s.close();
    return out;
}

bool delivered(const Sent& s) { return s.reached_eom && s.eom.answer.kind == Answer::Kind::accept; }

} // namespace

TEST_CASE("mailbomb: past mailbomb.senders a new sender's mail is tempfailed, across nodes; known senders pass")
{
    auto cfg = mailbomb_config("rcpt_messages = \"off\"\nsenders = 5\n");
    auto node_a = runtime(cfg), node_b = runtime(cfg);
    for (int i = 1; i <= 5; ++i) {
        CAPTURE(i);
        CHECK(delivered(
            send(i % 2 ? node_a : node_b, "news" + std::to_string(i) + "@list.example", {"victim@isp.example"})));
    }
    const auto sixth = send(node_a, "news6@list.example", {"victim@isp.example"});
    CHECK(sixth.eom.answer.kind == Answer::Kind::tempfail);
    CHECK(sixth.eom.answer.text == cfg->reply_mailbomb.substr(6));
    // Node A remembers: the next new sender is refused at RCPT TO, for that recipient only.
    const auto seventh = send(node_a, "news7@list.example", {"victim@isp.example", "friend@isp.example"});
    REQUIRE(seventh.rcpt.size() == 2);
    CHECK(seventh.rcpt[0].kind == Answer::Kind::tempfail);
    CHECK(seventh.rcpt[1].kind == Answer::Kind::proceed);
    CHECK(delivered(seventh)); // for friend@ alone
    // Node B has no memory of it: Redis refuses the charge, and the message is tempfailed.
    CHECK(send(node_b, "news8@list.example", {"victim@isp.example"}).eom.answer.kind == Answer::Kind::tempfail);
    // A sender the victim already got mail from in the window, and mail to anyone else, pass
    // (on a node that did not just see the limit hit: those refuse all its mail for up to 10 s).
    auto node_c = runtime(cfg);
    CHECK(delivered(send(node_c, "news1@list.example", {"victim@isp.example"})));
    CHECK(delivered(send(node_b, "news9@list.example", {"other@isp.example"})));
}

TEST_CASE("mailbomb: past mailbomb.rcpt_messages the recipient's mail is tempfailed; outbound mail is not counted")
{
    auto cfg = mailbomb_config("rcpt_messages = \"3/1h\"\nrcpt_messages_burst = 3\nsenders = 0\n");
    auto rt = runtime(cfg);
    for (int i = 0; i < 3; ++i)
        CHECK(delivered(send(rt, "someone@sender.example", {"Busy@ISP.example"})));
    // The third filled the counter: this node refuses the next at RCPT TO, whoever sends it.
    CHECK(send(rt, "other@sender.example", {"busy@isp.example"}).rcpt.at(0).kind == Answer::Kind::tempfail);
    // Another node does not know: Redis refuses the charge at the end of DATA (the same address, any case).
    const auto fourth = send(runtime(cfg), "someone@sender.example", {"BUSY@isp.example"});
    CHECK(fourth.eom.answer.kind == Answer::Kind::tempfail);
    // A customer sending (SMTP AUTH) is judged by the account check, not here.
    auto other = runtime(cfg); // no memory of busy@
    CHECK(delivered(send(other, "customer@isp.example", {"busy@isp.example"}, "customer@isp.example")));
}
