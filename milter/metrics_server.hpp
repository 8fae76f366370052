// NAME
//   metrics_server.hpp - the Prometheus endpoint of rampart-milter
// DESCRIPTION
//   A MetricsServer listens on metrics.listen (ADDRESS:PORT) and answers,
//   one connection at a time on a thread of its own, "GET /metrics" with
//   the page its `page` function makes (stats/exposition.hpp), as
//   HTTP/1.0 with Content-Type "text/plain; version=0.0.4" and the
//   connection closed after the answer. Any other path is 404, any other
//   method 405, a request that is not HTTP 400.
//
//   The milter's threads never wait for it: the page is made from atomic
//   counters and copies, on the server's thread.
// SECURITY
//   The request is read up to kMaxRequestBytes (its request line and
//   header fields; there is no body) and for at most kIoTimeout; past
//   either, the client gets 400 or nothing, and the next one is served.
//   The endpoint has no authentication: it listens where the admin says,
//   127.0.0.1 in the shipped example, and shows counts, not mail.
// CONFIGURATION PARAMETERS
//   metrics.listen (read at start only).
#pragma once

#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace rampart::milter {

class MetricsServer {
  public:
    static constexpr std::size_t kMaxRequestBytes = 8192;
    static constexpr std::chrono::milliseconds kIoTimeout{2000};

    using Page = std::function<std::string()>;

    // Binds and listens on `listen` (ADDRESS:PORT or [ADDRESS]:PORT);
    // an Error says why it cannot.
    static Result<std::unique_ptr<MetricsServer>> open(const std::string& listen, Page page);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Serves on a thread of its own until destroyed.
    void start();

  private:
    MetricsServer(int fd, int wake_read, int wake_write, Page page);
    void run();
    void serve(int client);

    int d_fd;
    int d_wake_read, d_wake_write; // a pipe: a byte on it stops run()
    Page d_page;
    std::thread d_thread;
};

// The answer to one HTTP request of `request` (its head): status line,
// header fields and body, made with `page` for GET /metrics.
std::string metrics_response(std::string_view request, const MetricsServer::Page& page);

} // namespace rampart::milter
