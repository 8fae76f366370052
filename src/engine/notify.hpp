// NAME
//   notify.hpp - tell someone outside that an account became a suspect
// DESCRIPTION
//   The account check finds a compromised-looking account while a message
//   waits; whoever must hear of it (a ticket system, a chat channel) must
//   not hold that message up. A Notifier queues events and a thread of its
//   own hands each to account.notify_command (the program is run with the
//   login, the action and the reason as its last three arguments, stdin
//   and stdout on /dev/null, killed after kTimeout) and to
//   account.notify_url (an HTTP/1.1 POST of one JSON object:
//   {"login","action","reason","queue_id","client","time"}, the reply's
//   status line read within kTimeout). Failures are logged, never retried.
//   The queue holds kMaxQueued events; past that new ones are dropped and
//   logged.
// CONFIGURATION PARAMETERS
//   account.notify_command, account.notify_url
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rampart {

struct NotifyEvent {
    std::string login, action, reason, queue_id, client;
    std::int64_t time = 0; // seconds since 1970
};

// The JSON object an event is POSTed as.
std::string to_json(const NotifyEvent& e);

class Notifier {
  public:
    static constexpr std::size_t kMaxQueued = 1000;
    static constexpr std::chrono::seconds kTimeout{10};

    Notifier(std::vector<std::string> command, std::string url);
    ~Notifier(); // sends what is queued (each within kTimeout), then stops
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void notify(NotifyEvent e);
    // Waits until every event queued before the call was handed on (tests).
    void flush();

    bool same_settings(const std::vector<std::string>& command, const std::string& url) const
    {
        return command == d_command && url == d_url;
    }

  private:
    void run();
    void run_command(const NotifyEvent& e) const;
    void post(const NotifyEvent& e) const;

    std::vector<std::string> d_command;
    std::string d_url;
    std::mutex d_mutex;
    std::condition_variable d_wake, d_done;
    std::deque<NotifyEvent> d_queue;
    std::uint64_t d_queued = 0, d_handled = 0;
    bool d_stopping = false;
    std::thread d_thread; // last: starts when the rest is ready
};

} // namespace rampart
