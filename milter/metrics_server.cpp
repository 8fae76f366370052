#include "milter/metrics_server.hpp"

#include "net/address.hpp"
#include "util/log.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace rampart::milter {
namespace {

// A descriptor closed when it goes.
class Fd {
  public:
    explicit Fd(int fd = -1) : d_fd(fd) {}
    ~Fd()
    {
        if (d_fd >= 0)
            close(d_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return d_fd; }
    int release() { return std::exchange(d_fd, -1); }

  private:
    int d_fd;
};

std::string answer(std::string_view status, std::string_view type, std::string_view body)
{
    return fmt::format("HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                       type, body.size(), body);
}

bool send_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::string metrics_response(std::string_view request, const MetricsServer::Page& page)
{
    const auto line_end = request.find("\r\n");
    const auto line = request.substr(0, line_end == std::string_view::npos ? request.find('\n') : line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/"))
        return answer("400 Bad Request", "text/plain", "bad request\n");
    const auto method = line.substr(0, sp1);
    auto path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    if (path != "/metrics")
        return answer("404 Not Found", "text/plain", "not found; the metrics are at /metrics\n");
    if (method != "GET")
        return answer("405 Method Not Allowed", "text/plain", "only GET\n");
    return answer("200 OK", "text/plain; version=0.0.4; charset=utf-8", page());
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::open(const std::string& listen, Page page)
{
    const auto colon = listen.rfind(':');
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    const auto ip = IpAddress::parse(host);
    const int port = colon == std::string::npos ? 0 : std::atoi(listen.c_str() + colon + 1);
    if (!ip || port <= 0 || port > 65535) // the configuration checked it
        return Error{fmt::format("metrics.listen {}: not ADDRESS:PORT", listen)};
    sockaddr_storage sa{};
    socklen_t len = 0;
    if (ip->is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&sa);
        in->sin_family = AF_INET;
        in->sin_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET, host.c_str(), &in->sin_addr);
        len = sizeof *in;
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&sa);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<std::uint16_t>(port));
        inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr);
        len = sizeof *in6;
    }
    Fd fd{socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    const int one = 1;
    if (fd.get() < 0 || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), len) != 0 || ::listen(fd.get(), 16) != 0)
        return Error{fmt::format("metrics.listen {}: {}", listen, std::strerror(errno))};
    int wake[2];
    if (pipe2(wake, O_CLOEXEC) != 0)
        return Error{fmt::format("metrics.listen {}: pipe: {}", listen, std::strerror(errno))};
    return std::unique_ptr<MetricsServer>(new MetricsServer(fd.release(), wake[0], wake[1], std::move(page)));
}

MetricsServer::MetricsServer(int fd, int wake_read, int wake_write, Page page)
    : d_fd(fd), d_wake_read(wake_read), d_wake_write(wake_write), d_page(std::move(page))
{
}

MetricsServer::~MetricsServer()
{
    if (d_thread.joinable()) {
        const char stop = 1;
        while (write(d_wake_write, &stop, 1) < 0 && errno == EINTR) {
        }
        d_thread.join();
    }
    close(d_fd);
    close(d_wake_read);
    close(d_wake_write);
}

void MetricsServer::start()
{
    d_thread = std::thread([this] { run(); });
}

void MetricsServer::run()
{
    for (;;) {
        pollfd fds[2] = {{d_fd, POLLIN, 0}, {d_wake_read, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log::error("metrics: poll: {}; the endpoint stops", std::strerror(errno));
            return;
        }
        if (fds[1].revents != 0)
            return;
        Fd client{accept4(d_fd, nullptr, nullptr, SOCK_CLOEXEC)};
        if (client.get() < 0)
            continue; // gone before it was accepted, or out of descriptors for now
        serve(client.get());
    }
}

void MetricsServer::serve(int client)
{
    const auto ms = static_cast<int>(kIoTimeout.count());
    const timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos) {
        if (request.size() >= kMaxRequestBytes) {
            send_all(client, answer("400 Bad Request", "text/plain",
                                    fmt::format("request larger than {} bytes\n", kMaxRequestBytes)));
            // Closing with unread input would reset the connection, and the
            // client could lose the answer: read on (within the deadline) first.
            shutdown(client, SHUT_WR);
            while (std::chrono::steady_clock::now() < deadline && recv(client, buf, sizeof buf, 0) > 0) {
            }
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return;
        const ssize_t n = recv(client, buf, std::min(sizeof buf, kMaxRequestBytes - request.size()), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // closed early or timed out: nothing to answer
        request.append(buf, static_cast<std::size_t>(n));
    }
    try {
        send_all(client, metrics_response(request, d_page));
    } catch (const std::exception& e) {
        log::error("metrics: {}", e.what());
        send_all(client, answer("500 Internal Server Error", "text/plain", "internal error\n"));
    }
}

} // namespace rampart::milter
