#include "engine/notify.hpp"

#include "util/log.hpp"
#include "util/text.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace rampart {
namespace {

using Clock = std::chrono::steady_clock;

std::string json_string(std::string_view s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += static_cast<char>(c); // UTF-8 passes as it is
        }
    }
    return out + "\"";
}

int remaining_ms(Clock::time_point deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// A file descriptor closed when it goes.
struct Fd {
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            close(fd);
    }
};

} // namespace

std::string to_json(const NotifyEvent& e)
{
    return fmt::format(R"({{"login":{},"action":{},"reason":{},"queue_id":{},"client":{},"time":{}}})",
                       json_string(e.login), json_string(e.action), json_string(e.reason), json_string(e.queue_id),
                       json_string(e.client), e.time);
}

Notifier::Notifier(std::vector<std::string> command, std::string url)
    : d_command(std::move(command)), d_url(std::move(url)), d_thread([this] { run(); })
{
}

Notifier::~Notifier()
{
    {
        std::lock_guard lock(d_mutex);
        d_stopping = true;
    }
    d_wake.notify_all();
    d_thread.join();
}

void Notifier::notify(NotifyEvent e)
{
    {
        std::lock_guard lock(d_mutex);
        if (d_queue.size() >= kMaxQueued) {
            log::warning("notify: {} events waiting; the one for {} is dropped", d_queue.size(), printable(e.login));
            return;
        }
        d_queue.push_back(std::move(e));
        ++d_queued;
    }
    d_wake.notify_one();
}

void Notifier::flush()
{
    std::unique_lock lock(d_mutex);
    const auto target = d_queued;
    d_done.wait(lock, [&] { return d_handled >= target; });
}

void Notifier::run()
{
    std::unique_lock lock(d_mutex);
    for (;;) {
        d_wake.wait(lock, [&] { return d_stopping || !d_queue.empty(); });
        if (d_queue.empty())
            return; // stopping, and everything was handed on
        NotifyEvent e = std::move(d_queue.front());
        d_queue.pop_front();
        lock.unlock();
        if (!d_command.empty())
            run_command(e);
        if (!d_url.empty())
            post(e);
        lock.lock();
        ++d_handled;
        d_done.notify_all();
    }
}

void Notifier::run_command(const NotifyEvent& e) const
{
    std::vector<std::string> args = d_command;
    args.push_back(e.login);
    args.push_back(e.action);
    args.push_back(e.reason);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        log::error("notify: cannot run {}: {}", printable(d_command[0]), std::strerror(rc));
        return;
    }
    const auto deadline = Clock::now() + kTimeout;
    int status = 0;
    for (;;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            log::error("notify: waiting for {}: {}", printable(d_command[0]), std::strerror(errno));
            return;
        }
        if (Clock::now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            log::error("notify: {} ran longer than {} s and was killed", printable(d_command[0]), kTimeout.count());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        log::error("notify: {} failed for {} (status {})", printable(d_command[0]), printable(e.login),
                   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

void Notifier::post(const NotifyEvent& e) const
{
    // http://HOST[:PORT][/PATH], checked by the configuration.
    std::string_view rest = std::string_view(d_url).substr(7);
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    const std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::string host(authority), port = "80";
    if (authority.starts_with('[')) { // [IPv6]:PORT
        const auto close = authority.find(']');
        host = std::string(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
        if (close != std::string_view::npos && close + 1 < authority.size() && authority[close + 1] == ':')
            port = std::string(authority.substr(close + 2));
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = std::string(authority.substr(0, colon));
        port = std::string(authority.substr(colon + 1));
    }
    const auto fail = [&](std::string_view why) {
        log::error("notify: POST to {} for {}: {}", printable(d_url), printable(e.login), why);
    };
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return fail(gai_strerror(rc));
    const auto deadline = Clock::now() + kTimeout;
    Fd s;
    for (const addrinfo* a = found; a && s.fd < 0; a = a->ai_next) {
        Fd c{socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol)};
        if (c.fd < 0)
            continue;
        if (connect(c.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS)
            continue;
        pollfd p{c.fd, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&p, 1, remaining_ms(deadline)) == 1 && getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
            err == 0)
            std::swap(s.fd, c.fd);
    }
    freeaddrinfo(found);
    if (s.fd < 0)
        return fail("cannot connect");
    const std::string body = to_json(e);
    const std::string request = fmt::format("POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rampart\r\n"
                                            "Content-Type: application/json\r\nContent-Length: {}\r\n"
                                            "Connection: close\r\n\r\n{}",
                                            path, authority, body.size(), body);
    for (std::size_t sent = 0; sent < request.size();) {
        pollfd p{s.fd, POLLOUT, 0};
        if (poll(&p, 1, remaining_ms(deadline)) != 1)
            return fail("timed out sending");
        const auto n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0 && errno != EAGAIN && errno != EINTR)
            return fail(std::strerror(errno));
        if (n > 0)
            sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    while (reply.find("\r\n") == std::string::npos && reply.size() < 1024) {
        pollfd p{s.fd, POLLIN, 0};
        if (poll(&p, 1, remaining_ms(deadline)) != 1)
            return fail("no reply in time");
        char buf[512];
        const auto n = recv(s.fd, buf, sizeof buf, 0);
        if (n == 0)
            break;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return fail(std::strerror(errno));
        if (n > 0)
            reply.append(buf, static_cast<std::size_t>(n));
    }
    const auto line = reply.substr(0, reply.find("\r\n"));
    if (!(line.starts_with("HTTP/1.") && line.size() >= 12 && line[9] == '2'))
        fail(fmt::format("the server answered \"{}\"", printable(line, 200)));
}

} // namespace rampart
