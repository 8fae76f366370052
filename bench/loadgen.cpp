// NAME
//   rampart-loadgen - drive a milter with SMTP transactions, as an MTA would
// SYNOPSIS
//   rampart-loadgen -p SOCKET [-n COUNT | -d SECONDS] [-C CONNECTIONS]
//                   [-M MESSAGES] [-m DIR] [--ip-pool CIDR] [--senders N]
//                   [--rcpts N] [--rcpts-per-msg N] [--auth-user NAME]
//                   [--timeout SECONDS] [--seed N]
// DESCRIPTION
//   Plays the MTA side of milter protocol version 6 against a filter on
//   inet:PORT@HOST, inet6:PORT@HOST or unix:PATH, over -C connections at
//   once, one thread each, blocking sockets with TCP_NODELAY.
//
//   Negotiation offers every action and every protocol flag of version 6
//   (all "do not send" steps, all SMFIP_NR_* "no reply" steps, SMFIP_SKIP,
//   SMFIP_HDR_LEADSPC) and then honours what the filter asked for: a step
//   it does not want is not sent, a no-reply step is sent without waiting
//   (several are written in one go, as an MTA streams them), SMFIR_SKIP
//   ends the body, and at end of message modifications are collected until
//   the final reply.
//
//   A connection: OPTNEG, macros j {daemon_name} v, CONNECT (family '4',
//   a random address from --ip-pool), HELO; then -M messages, each MAIL
//   (macros i {auth_authen}), RCPT..., DATA, headers, EOH (macro i), body
//   chunks of at most 64 KB, EOM (macro i); then QUIT. A verdict before
//   end of message ends that message with ABORT, as an MTA's RSET would; a
//   verdict at connect or HELO ends the connection.
//
//   The message is a small built-in one, or each .eml/.txt file under -m
//   DIR in turn, in path order, connection i of N starting at file i/N of
//   the list (a leading mbox "From " line is dropped; lines are sent with
//   CRLF, folded header lines joined with LF).
// OUTPUT
//   One JSON line on stdout: counts of final actions (accept covers
//   SMFIR_ACCEPT and SMFIR_CONTINUE; quarantine is an accepted message
//   that got SMFIR_QUARANTINE), header modifications (SMFIR_ADDHEADER,
//   SMFIR_INSHEADER, SMFIR_CHGHEADER), errors (connect, protocol, timeout,
//   closed), latency from MAIL to the final reply at end of message
//   (p50/p95/p99/max, ms) and completed messages per second. The first
//   error of each kind is described on stderr.
// LIMITS
//   A reply longer than kMaxReply is a protocol error ("unreasonable packet
//   length"); a reply that does not come within --timeout is a timeout.
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Milter protocol values, as in libmilter's mfdef.h (not included, so that
// the tool builds without libmilter).
namespace proto {
constexpr std::uint32_t kVersion = 6;
constexpr std::uint32_t kAllActions = 0x1FF;    // SMFI_CURR_ACTS
constexpr std::uint32_t kAllSteps = 0x1FFFFF;   // SMFI_CURR_PROT
constexpr std::size_t kMaxChunk = 65535;        // MILTER_CHUNK_SIZE
constexpr std::size_t kMaxReply = 1024 * 1024;  // SMFIP_MDS_1M, the largest a filter may send

enum Step : std::uint32_t {
    NOCONNECT = 0x1, NOHELO = 0x2, NOMAIL = 0x4, NORCPT = 0x8, NOBODY = 0x10, NOHDRS = 0x20, NOEOH = 0x40,
    NR_HDR = 0x80, NODATA = 0x200, SKIP = 0x400, NR_CONN = 0x1000, NR_HELO = 0x2000, NR_MAIL = 0x4000,
    NR_RCPT = 0x8000, NR_DATA = 0x10000, NR_EOH = 0x40000, NR_BODY = 0x80000, HDR_LEADSPC = 0x100000,
};
enum Action : std::uint32_t {
    ADDHDRS = 0x1, CHGBODY = 0x2, ADDRCPT = 0x4, DELRCPT = 0x8, CHGHDRS = 0x10, QUARANTINE = 0x20,
    CHGFROM = 0x40, ADDRCPT_PAR = 0x80,
};
} // namespace proto

// ---------------------------------------------------------------- options

struct Options {
    std::string target;
    std::uint64_t count = 0;  // -n; 0 when -d is used
    double seconds = 0;       // -d
    int connections = 8;      // -C
    int per_connection = 1;   // -M
    std::string message_dir;  // -m
    std::string ip_pool = "10.0.0.0/16";
    int senders = 1000, rcpts = 1000, rcpts_per_msg = 1;
    std::string auth_user;
    double timeout_s = 10;
    std::uint64_t seed = 1;
    double rate = 0; // --rate: messages offered per second (open loop); 0: as fast as answered
};

void usage(FILE* out)
{
    std::fputs(
        "usage: rampart-loadgen -p SOCKET [-n COUNT | -d SECONDS] [options]\n"
        "\n"
        "Plays the MTA side of milter protocol 6 against a filter and prints one\n"
        "JSON line of results.\n"
        "\n"
        "  -p, --socket SOCKET      the filter: inet:PORT@HOST, inet6:PORT@HOST, unix:PATH\n"
        "  -n, --count COUNT        send COUNT messages (default 1000)\n"
        "  -d, --duration SECONDS   send for SECONDS instead of a count\n"
        "      --rate N             offer N messages per second, evenly spaced (open loop),\n"
        "                           so that filters can be compared at the same load; -C\n"
        "                           caps the connections in flight (default: as fast as\n"
        "                           the filter answers)\n"
        "  -C, --concurrency N      milter connections at once, one thread each (default 8)\n"
        "  -M, --per-connection N   messages per milter connection (default 1)\n"
        "  -m, --messages DIR       send the .eml/.txt files under DIR in turn\n"
        "                           (default: a small built-in message)\n"
        "      --ip-pool CIDR       client addresses are drawn from CIDR (default 10.0.0.0/16)\n"
        "      --senders N          envelope senders are drawn from N addresses (default 1000)\n"
        "      --rcpts N            recipients are drawn from N addresses (default 1000)\n"
        "      --rcpts-per-msg N    recipients per message (default 1)\n"
        "      --auth-user NAME     value of {auth_authen} at MAIL (default empty)\n"
        "      --timeout SECONDS    longest wait for one reply (default 10)\n"
        "      --seed N             seed of the random choices (default 1)\n"
        "  -h, --help               print this help and exit\n"
        "\n"
        "Output fields: actions (accept includes continue; quarantine is an accepted\n"
        "message the filter quarantined), header_mods, errors, latency_ms from MAIL to\n"
        "the final reply at end of message, msg_per_s over completed messages.\n",
        out);
}

bool parse_positive(const char* text, double& out)
{
    char* end = nullptr;
    errno = 0;
    out = std::strtod(text, &end);
    return errno == 0 && end != text && *end == '\0' && out > 0;
}

bool parse_count(const char* text, std::uint64_t& out)
{
    double v = 0;
    if (!parse_positive(text, v) || v != static_cast<double>(static_cast<std::uint64_t>(v)))
        return false;
    out = static_cast<std::uint64_t>(v);
    return true;
}

bool parse_int(const char* text, int& out)
{
    std::uint64_t v = 0;
    if (!parse_count(text, v) || v > 100000)
        return false;
    out = static_cast<int>(v);
    return true;
}

// Returns -1 to go on, or the exit status.
int parse_args(int argc, char** argv, Options& o)
{
    enum { kIpPool = 256, kSenders, kRcpts, kRcptsPerMsg, kAuthUser, kTimeout, kSeed, kRate };
    static const option longopts[] = {
        {"socket", required_argument, nullptr, 'p'},       {"count", required_argument, nullptr, 'n'},
        {"duration", required_argument, nullptr, 'd'},     {"concurrency", required_argument, nullptr, 'C'},
        {"per-connection", required_argument, nullptr, 'M'}, {"messages", required_argument, nullptr, 'm'},
        {"ip-pool", required_argument, nullptr, kIpPool},  {"senders", required_argument, nullptr, kSenders},
        {"rcpts", required_argument, nullptr, kRcpts},     {"rcpts-per-msg", required_argument, nullptr, kRcptsPerMsg},
        {"auth-user", required_argument, nullptr, kAuthUser}, {"timeout", required_argument, nullptr, kTimeout},
        {"seed", required_argument, nullptr, kSeed},       {"rate", required_argument, nullptr, kRate},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    int ch;
    bool ok = true;
    while (ok && (ch = getopt_long(argc, argv, "p:n:d:C:M:m:h", longopts, nullptr)) != -1) {
        switch (ch) {
        case 'p': o.target = optarg; break;
        case 'n': ok = parse_count(optarg, o.count); break;
        case 'd': ok = parse_positive(optarg, o.seconds); break;
        case 'C': ok = parse_int(optarg, o.connections); break;
        case 'M': ok = parse_int(optarg, o.per_connection); break;
        case 'm': o.message_dir = optarg; break;
        case kIpPool: o.ip_pool = optarg; break;
        case kSenders: ok = parse_int(optarg, o.senders); break;
        case kRcpts: ok = parse_int(optarg, o.rcpts); break;
        case kRcptsPerMsg: ok = parse_int(optarg, o.rcpts_per_msg); break;
        case kAuthUser: o.auth_user = optarg; break;
        case kTimeout: ok = parse_positive(optarg, o.timeout_s); break;
        case kSeed: ok = parse_count(optarg, o.seed); break;
        case kRate: ok = parse_positive(optarg, o.rate); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!ok) {
        std::fprintf(stderr, "rampart-loadgen: bad value \"%s\"\n", optarg);
        return 2;
    }
    if (o.target.empty() || optind != argc || (o.count && o.seconds > 0)) {
        usage(stderr);
        return 2;
    }
    if (o.count == 0 && o.seconds <= 0)
        o.count = 1000;
    return -1;
}

// ---------------------------------------------------------------- messages

struct Message {
    std::vector<std::pair<std::string, std::string>> headers; // value as after "Name:", untrimmed
    std::string body;                                          // CRLF line ends
};

constexpr std::uintmax_t kMaxMessageBytes = 64u << 20;

constexpr std::string_view kBuiltinMessage =
    "From: Alice Example <alice@example.net>\n"
    "To: Bob Example <bob@example.org>\n"
    "Subject: Minutes of the Tuesday meeting\n"
    "Date: Tue, 01 Oct 2024 09:00:00 +0000\n"
    "Message-ID: <20241001090000.4711@example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "Content-Transfer-Encoding: 7bit\n"
    "\n"
    "Hello Bob,\n"
    "\n"
    "here are the minutes of Tuesday's meeting.\n"
    "\n"
    "1. The new mail relay goes live on Monday; the old one stays up for a week.\n"
    "2. Everyone checks that their mail client uses port 587 with authentication.\n"
    "3. The spam filter's thresholds stay as they are until we have a month of data.\n"
    "\n"
    "Next meeting: Tuesday, same time, same room.\n"
    "\n"
    "Regards,\n"
    "Alice\n";

// Splits a message into headers and a CRLF body. Parsing stops being
// header parsing at the first line that is neither a header nor a fold.
Message parse_message(std::string_view text)
{
    if (text.starts_with("From "))
        text.remove_prefix(std::min(text.size(), text.find('\n') + 1));
    Message m;
    bool in_headers = true;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        if (in_headers && line.empty()) {
            in_headers = false;
            continue;
        }
        const auto colon = line.find(':');
        if (in_headers && (line.starts_with(' ') || line.starts_with('\t')) && !m.headers.empty()) {
            m.headers.back().second.append("\n").append(line);
            continue;
        }
        if (in_headers && colon != std::string_view::npos && colon > 0) {
            m.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
            continue;
        }
        in_headers = false;
        m.body.append(line).append("\r\n");
    }
    return m;
}

std::vector<Message> load_messages(const std::string& dir)
{
    if (dir.empty())
        return {parse_message(kBuiltinMessage)};
    std::vector<std::filesystem::path> paths;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        const auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".eml" || ext == ".txt"))
            paths.push_back(it->path());
    }
    if (ec)
        std::fprintf(stderr, "rampart-loadgen: %s: %s\n", dir.c_str(), ec.message().c_str());
    std::sort(paths.begin(), paths.end());
    std::vector<Message> out;
    for (const auto& p : paths) {
        if (std::filesystem::file_size(p, ec) > kMaxMessageBytes) {
            std::fprintf(stderr, "rampart-loadgen: skipping %s: larger than %ju bytes\n", p.c_str(), kMaxMessageBytes);
            continue;
        }
        std::ifstream in(p, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        out.push_back(parse_message(text.str()));
    }
    return out;
}

// ---------------------------------------------------------------- envelope

struct Ipv4Pool {
    std::uint32_t base = 0, size = 1;

    static std::optional<Ipv4Pool> parse(const std::string& cidr)
    {
        const auto slash = cidr.find('/');
        in_addr a{};
        if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1)
            return std::nullopt;
        long len = 32;
        if (slash != std::string::npos) {
            const char* text = cidr.c_str() + slash + 1;
            char* end = nullptr;
            len = std::strtol(text, &end, 10);
            if (end == text || *end != '\0' || len < 0 || len > 32)
                return std::nullopt;
        }
        const std::uint64_t span = std::uint64_t{1} << (32 - len);
        Ipv4Pool p;
        p.base = ntohl(a.s_addr) & static_cast<std::uint32_t>(~(span - 1));
        p.size = static_cast<std::uint32_t>(std::min<std::uint64_t>(span, 0xFFFFFFFFu));
        return p;
    }

    // A host address: neither the network's first nor its last when it has more than two.
    std::string pick(std::mt19937_64& rng) const
    {
        std::uint32_t offset = 0;
        if (size > 2)
            offset = 1 + static_cast<std::uint32_t>(rng() % (size - 2));
        else
            offset = static_cast<std::uint32_t>(rng() % size);
        in_addr a{htonl(base + offset)};
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a, text, sizeof text);
        return text;
    }
};

struct Envelope {
    std::string queue_id, sender;
    std::vector<std::string> rcpts;
};

// ---------------------------------------------------------------- wire

enum class Fault { none, connect, protocol, timeout, closed };

struct Packet {
    char cmd = 0;
    std::string data;
};

void put_u32(std::string& out, std::uint32_t v)
{
    const std::uint32_t n = htonl(v);
    out.append(reinterpret_cast<const char*>(&n), 4);
}

std::uint32_t get_u32(std::string_view in)
{
    std::uint32_t n = 0;
    std::memcpy(&n, in.data(), 4);
    return ntohl(n);
}

// One milter connection's bytes: packets are queued and written when a
// reply is awaited (or the queue grows large), so that no-reply steps
// leave together.
class Wire {
  public:
    explicit Wire(int fd) : d_fd(fd) {}
    ~Wire() { ::close(d_fd); }
    Wire(const Wire&) = delete;
    Wire& operator=(const Wire&) = delete;

    Fault fault() const { return d_fault; }
    const std::string& detail() const { return d_detail; }

    bool fail(Fault f, std::string detail)
    {
        if (d_fault == Fault::none) {
            d_fault = f;
            d_detail = std::move(detail);
        }
        return false;
    }

    void put(char cmd, std::string_view data)
    {
        put_u32(d_out, static_cast<std::uint32_t>(data.size() + 1));
        d_out.push_back(cmd);
        d_out.append(data);
        if (d_out.size() >= proto::kMaxChunk)
            flush();
    }

    bool flush()
    {
        std::size_t done = 0;
        while (d_fault == Fault::none && done < d_out.size()) {
            const ssize_t n = ::send(d_fd, d_out.data() + done, d_out.size() - done, MSG_NOSIGNAL);
            if (n > 0)
                done += static_cast<std::size_t>(n);
            else if (n < 0 && errno == EINTR)
                continue;
            else
                io_error("write", n);
        }
        d_out.clear();
        return d_fault == Fault::none;
    }

    std::optional<Packet> get()
    {
        if (!flush() || !fill(4))
            return std::nullopt;
        const std::uint32_t len = get_u32(std::string_view(d_in).substr(d_pos));
        if (len == 0 || len > proto::kMaxReply) {
            fail(Fault::protocol, "unreasonable packet length: " + std::to_string(len) + " > " +
                                      std::to_string(proto::kMaxReply));
            return std::nullopt;
        }
        if (!fill(4 + len))
            return std::nullopt;
        Packet p{d_in[d_pos + 4], d_in.substr(d_pos + 5, len - 1)};
        d_pos += 4 + len;
        return p;
    }

    // Half-closes and waits for the filter to close: the filter's side,
    // not ours, then holds the TIME_WAIT, and local ports last.
    void drain()
    {
        if (!flush())
            return;
        ::shutdown(d_fd, SHUT_WR);
        char sink[512];
        while (::recv(d_fd, sink, sizeof sink, 0) > 0) {
        }
    }

  private:
    bool fill(std::size_t need)
    {
        while (d_in.size() - d_pos < need) {
            if (d_pos > 0) {
                d_in.erase(0, d_pos);
                d_pos = 0;
            }
            char buf[16384];
            const ssize_t n = ::recv(d_fd, buf, sizeof buf, 0);
            if (n > 0)
                d_in.append(buf, static_cast<std::size_t>(n));
            else if (n < 0 && errno == EINTR)
                continue;
            else
                return io_error("read", n);
        }
        return true;
    }

    bool io_error(const char* what, ssize_t n)
    {
        if (n == 0)
            return fail(Fault::closed, std::string("the filter closed the connection (") + what + ")");
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return fail(Fault::timeout, std::string(what) + " timed out");
        if (errno == ECONNRESET || errno == EPIPE)
            return fail(Fault::closed, std::string(what) + ": " + std::strerror(errno));
        return fail(Fault::protocol, std::string(what) + ": " + std::strerror(errno));
    }

    int d_fd;
    Fault d_fault = Fault::none;
    std::string d_detail;
    std::string d_out, d_in;
    std::size_t d_pos = 0;
};

// ---------------------------------------------------------------- target

struct Target {
    int family = AF_UNSPEC; // AF_UNIX, AF_INET or AF_INET6
    std::string host, port, path;

    static std::optional<Target> parse(const std::string& s)
    {
        Target t;
        const auto colon = s.find(':');
        const std::string kind = s.substr(0, colon), rest = colon == std::string::npos ? "" : s.substr(colon + 1);
        if (kind == "unix" || kind == "local") {
            t.family = AF_UNIX;
            t.path = rest;
            return rest.empty() || rest.size() >= sizeof(sockaddr_un::sun_path) ? std::nullopt : std::optional(t);
        }
        const auto at = rest.find('@');
        if ((kind != "inet" && kind != "inet6") || at == std::string::npos || at == 0)
            return std::nullopt;
        t.family = kind == "inet" ? AF_INET : AF_INET6;
        t.port = rest.substr(0, at);
        t.host = rest.substr(at + 1);
        return t;
    }
};

int open_unix(const Target& t, std::string& why)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, t.path.c_str(), t.path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
        return fd;
    why = std::string("connect ") + t.path + ": " + std::strerror(errno);
    if (fd >= 0)
        ::close(fd);
    return -1;
}

int open_inet(const Target& t, std::string& why)
{
    addrinfo hints{}, *list = nullptr;
    hints.ai_family = t.family;
    hints.ai_socktype = SOCK_STREAM;
    if (const int rc = getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &list); rc != 0) {
        why = t.host + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = ::socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, list->ai_addr, list->ai_addrlen) != 0) {
        why = "connect " + t.port + "@" + t.host + ": " + std::strerror(errno);
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    const int one = 1;
    if (fd >= 0)
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int open_socket(const Target& t, double timeout_s, std::string& why)
{
    const int fd = t.family == AF_UNIX ? open_unix(t, why) : open_inet(t, why);
    if (fd < 0)
        return -1;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_s);
    tv.tv_usec = static_cast<suseconds_t>((timeout_s - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

// ---------------------------------------------------------------- conversation

// How a step (or the whole message) ended for the MTA.
enum class Answer { proceed, skip, accept, reject, tempfail, discard, failed };

struct MessageResult {
    Answer answer = Answer::failed;
    bool quarantined = false;
    int header_mods = 0, other_mods = 0;
    double ms = 0;
};

std::string nul_terminated(std::initializer_list<std::string_view> fields)
{
    std::string out;
    for (auto f : fields)
        out.append(f).push_back('\0');
    return out;
}

// One milter connection, seen from the MTA.
class Conversation {
  public:
    Conversation(int fd, std::string auth_user) : d_wire(fd), d_auth_user(std::move(auth_user)) {}

    Wire& wire() { return d_wire; }
    std::uint32_t actions() const { return d_actions; }
    std::uint32_t steps() const { return d_steps; }

    bool negotiate();
    Answer greet(const std::string& client_ip, std::uint16_t client_port);
    MessageResult deliver(const Message& m, const Envelope& env);
    void quit()
    {
        d_wire.put('Q', "");
        d_wire.drain();
    }

  private:
    bool wants(std::uint32_t no_step) const { return !(d_steps & no_step); }
    void macros(char stage, std::initializer_list<std::pair<std::string_view, std::string_view>> list);
    Answer step(char cmd, std::string_view data, std::uint32_t no_reply, bool body = false);
    Answer classify(const Packet& p, bool body);
    Answer protocol_error(std::string detail)
    {
        d_wire.fail(Fault::protocol, std::move(detail));
        return Answer::failed;
    }
    Answer envelope(const Envelope& env);
    Answer content(const Message& m, const Envelope& env);
    Answer body(const std::string& body);
    Answer end_of_message(const Envelope& env, MessageResult& r);

    Wire d_wire;
    std::string d_auth_user;
    std::uint32_t d_actions = 0, d_steps = 0;
};

bool Conversation::negotiate()
{
    std::string offer;
    put_u32(offer, proto::kVersion);
    put_u32(offer, proto::kAllActions);
    put_u32(offer, proto::kAllSteps);
    d_wire.put('O', offer);
    const auto p = d_wire.get();
    if (!p)
        return false;
    if (p->cmd != 'O' || p->data.size() < 12)
        return d_wire.fail(Fault::protocol, std::string("bad OPTNEG reply '") + p->cmd + "' of " +
                                                std::to_string(p->data.size()) + " bytes");
    const std::uint32_t version = get_u32(p->data);
    d_actions = get_u32(std::string_view(p->data).substr(4));
    d_steps = get_u32(std::string_view(p->data).substr(8)) & proto::kAllSteps;
    if (version < 2 || version > proto::kVersion || (d_actions & ~proto::kAllActions))
        return d_wire.fail(Fault::protocol, "filter asked for version " + std::to_string(version) + ", actions " +
                                                std::to_string(d_actions) + " beyond the offer");
    return true;
}

void Conversation::macros(char stage, std::initializer_list<std::pair<std::string_view, std::string_view>> list)
{
    std::string data(1, stage);
    for (const auto& [name, value] : list)
        data += nul_terminated({name, value});
    d_wire.put('D', data);
}

Answer Conversation::step(char cmd, std::string_view data, std::uint32_t no_reply, bool body)
{
    d_wire.put(cmd, data);
    if (d_steps & no_reply)
        return Answer::proceed;
    const auto p = d_wire.get();
    return p ? classify(*p, body) : Answer::failed;
}

Answer Conversation::classify(const Packet& p, bool body)
{
    switch (p.cmd) {
    case 'c': return Answer::proceed;
    case 'a': return Answer::accept;
    case 'r': return Answer::reject;
    case 't': return Answer::tempfail;
    case 'd': return Answer::discard;
    case 'y': // a reply code and text: final, like 'r' or 't'
        if (p.data.starts_with('4'))
            return Answer::tempfail;
        if (p.data.starts_with('5'))
            return Answer::reject;
        return protocol_error("reply code neither 4xx nor 5xx");
    case 's':
        if (body && (d_steps & proto::SKIP))
            return Answer::skip;
        break;
    default: break;
    }
    return protocol_error(std::string("unexpected reply '") + p.cmd + "'" + (body ? " to a body chunk" : ""));
}

Answer Conversation::greet(const std::string& client_ip, std::uint16_t client_port)
{
    if (wants(proto::NOCONNECT)) {
        macros('C', {{"j", "mx.example.org"}, {"{daemon_name}", "rampart-loadgen"}, {"v", "rampart-loadgen"}});
        const std::uint16_t port = htons(client_port);
        std::string data = nul_terminated({"[" + client_ip + "]"}) + '4';
        data.append(reinterpret_cast<const char*>(&port), 2);
        data += nul_terminated({client_ip});
        if (const Answer a = step('C', data, proto::NR_CONN); a != Answer::proceed)
            return a;
    }
    if (!wants(proto::NOHELO))
        return Answer::proceed;
    std::string host = client_ip;
    std::replace(host.begin(), host.end(), '.', '-');
    return step('H', nul_terminated({"mail-" + host + ".example.net"}), proto::NR_HELO);
}

Answer Conversation::envelope(const Envelope& env)
{
    if (wants(proto::NOMAIL)) {
        macros('M', {{"i", env.queue_id}, {"{auth_authen}", d_auth_user}});
        if (const Answer a = step('M', nul_terminated({"<" + env.sender + ">"}), proto::NR_MAIL); a != Answer::proceed)
            return a;
    }
    if (!wants(proto::NORCPT))
        return Answer::proceed;
    std::size_t refused = 0;
    Answer last_refusal = Answer::proceed;
    for (const auto& rcpt : env.rcpts) {
        const Answer a = step('R', nul_terminated({"<" + rcpt + ">"}), proto::NR_RCPT);
        if (a == Answer::reject || a == Answer::tempfail) { // this recipient only
            ++refused;
            last_refusal = a;
        } else if (a != Answer::proceed) {
            return a;
        }
    }
    return refused == env.rcpts.size() ? last_refusal : Answer::proceed;
}

Answer Conversation::content(const Message& m, const Envelope& env)
{
    if (wants(proto::NODATA))
        if (const Answer a = step('T', "", proto::NR_DATA); a != Answer::proceed)
            return a;
    if (wants(proto::NOHDRS)) {
        const bool lead_space = d_steps & proto::HDR_LEADSPC;
        for (const auto& [name, raw] : m.headers) {
            std::string_view value = raw;
            if (!lead_space)
                value.remove_prefix(std::min(value.size(), value.find_first_not_of(" \t")));
            if (const Answer a = step('L', nul_terminated({name, value}), proto::NR_HDR); a != Answer::proceed)
                return a;
        }
    }
    if (wants(proto::NOEOH)) {
        macros('N', {{"i", env.queue_id}});
        if (const Answer a = step('N', "", proto::NR_EOH); a != Answer::proceed)
            return a;
    }
    return Answer::proceed;
}

Answer Conversation::body(const std::string& body)
{
    if (!wants(proto::NOBODY))
        return Answer::proceed;
    for (std::size_t at = 0; at < body.size(); at += proto::kMaxChunk) {
        const Answer a = step('B', std::string_view(body).substr(at, proto::kMaxChunk), proto::NR_BODY, true);
        if (a != Answer::proceed)
            return a;
    }
    return Answer::proceed;
}

// The action a modification needs, or 0 for a letter that is no modification.
std::uint32_t action_of(char cmd)
{
    switch (cmd) {
    case 'h':
    case 'i': return proto::ADDHDRS;
    case 'm': return proto::CHGHDRS;
    case 'q': return proto::QUARANTINE;
    case '+': return proto::ADDRCPT;
    case '-': return proto::DELRCPT;
    case '2': return proto::ADDRCPT_PAR;
    case 'b': return proto::CHGBODY;
    case 'e': return proto::CHGFROM;
    default: return 0;
    }
}

Answer Conversation::end_of_message(const Envelope& env, MessageResult& r)
{
    macros('E', {{"i", env.queue_id}});
    d_wire.put('E', "");
    for (;;) {
        const auto p = d_wire.get();
        if (!p)
            return Answer::failed;
        if (p->cmd == 'p') // progress: the filter asks for more time
            continue;
        const std::uint32_t needs = action_of(p->cmd);
        if (needs == 0)
            return classify(*p, false);
        if (!(d_actions & needs))
            return protocol_error(std::string("modification '") + p->cmd + "' was not negotiated");
        if (p->cmd == 'q')
            r.quarantined = true;
        else if (p->cmd == 'h' || p->cmd == 'i' || p->cmd == 'm')
            ++r.header_mods;
        else
            ++r.other_mods;
    }
}

MessageResult Conversation::deliver(const Message& m, const Envelope& env)
{
    MessageResult r;
    const auto start = Clock::now();
    Answer a = envelope(env);
    if (a == Answer::proceed)
        a = content(m, env);
    if (a == Answer::proceed) {
        a = body(m.body);
        if (a == Answer::proceed || a == Answer::skip)
            a = end_of_message(env, r);
    } else if (a != Answer::failed) {
        d_wire.put('A', ""); // the MTA drops the message: RSET
    }
    r.answer = a;
    r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return r;
}

// ---------------------------------------------------------------- tally

struct Tally {
    std::uint64_t accept = 0, reject = 0, tempfail = 0, discard = 0, quarantine = 0;
    std::uint64_t header_mods = 0, other_mods = 0, connections = 0;
    std::uint64_t err_connect = 0, err_protocol = 0, err_timeout = 0, err_closed = 0;
    std::vector<double> latency_ms;
    std::string first_error[5]; // by Fault

    std::uint64_t completed() const { return accept + reject + tempfail + discard + quarantine; }
    std::uint64_t errors() const { return err_connect + err_protocol + err_timeout + err_closed; }

    void count(Answer a, bool quarantined)
    {
        switch (a) {
        case Answer::proceed:
        case Answer::skip:
        case Answer::accept: ++(quarantined ? quarantine : accept); break;
        case Answer::reject: ++reject; break;
        case Answer::tempfail: ++tempfail; break;
        case Answer::discard: ++discard; break;
        case Answer::failed: break;
        }
    }

    void error(Fault f, const std::string& detail)
    {
        std::uint64_t* counters[] = {nullptr, &err_connect, &err_protocol, &err_timeout, &err_closed};
        const auto i = static_cast<std::size_t>(f);
        if (i == 0)
            return;
        ++*counters[i];
        if (first_error[i].empty())
            first_error[i] = detail;
    }

    void merge(const Tally& o)
    {
        accept += o.accept, reject += o.reject, tempfail += o.tempfail, discard += o.discard;
        quarantine += o.quarantine, header_mods += o.header_mods, other_mods += o.other_mods;
        connections += o.connections, err_connect += o.err_connect, err_protocol += o.err_protocol;
        err_timeout += o.err_timeout, err_closed += o.err_closed;
        latency_ms.insert(latency_ms.end(), o.latency_ms.begin(), o.latency_ms.end());
        for (std::size_t i = 0; i < std::size(first_error); ++i)
            if (first_error[i].empty())
                first_error[i] = o.first_error[i];
    }
};

// ---------------------------------------------------------------- workers

// What all workers share: the work left and what was negotiated.
struct Plan {
    explicit Plan(const Options& o) : opt(o) {}

    const Options& opt;
    Target target;
    Ipv4Pool pool;
    std::vector<Message> messages;
    Clock::time_point deadline;
    std::atomic<std::uint64_t> claimed{0};
    Clock::time_point start;
    std::atomic<std::uint64_t> tickets{0}; // --rate: the n-th message may start at start + n / rate
    std::mutex negotiated_mutex;
    std::uint32_t negotiated_actions = 0, negotiated_steps = 0;
    bool negotiated = false;

    bool claim()
    {
        if (opt.count > 0 ? claimed.fetch_add(1) >= opt.count : Clock::now() >= deadline)
            return false;
        if (opt.rate > 0) {
            const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                         static_cast<double>(tickets.fetch_add(1)) / opt.rate));
            if (opt.count == 0 && due >= deadline)
                return false;
            std::this_thread::sleep_until(due);
        }
        return true;
    }
};

class Worker {
  public:
    // Each connection starts at its own place in the message list, spread
    // evenly, so that a short run against a slow filter still sees the
    // whole mix (the files are sorted: all ham, then all spam).
    Worker(Plan& plan, int index)
        : d_plan(plan), d_index(index), d_rng(plan.opt.seed * 7919 + index),
          d_next_message(plan.messages.size() * static_cast<std::size_t>(index) /
                         static_cast<std::size_t>(std::max(plan.opt.connections, 1)))
    {
    }
    void run();
    const Tally& tally() const { return d_tally; }

  private:
    std::unique_ptr<Conversation> open_connection();
    Envelope next_envelope();
    const Message& next_message() { return d_plan.messages[d_next_message++ % d_plan.messages.size()]; }
    void note_negotiation(const Conversation& c);

    Plan& d_plan;
    int d_index;
    std::mt19937_64 d_rng;
    std::uint64_t d_sequence = 0;
    std::size_t d_next_message = 0;
    Tally d_tally;
};

void Worker::note_negotiation(const Conversation& c)
{
    std::lock_guard lock(d_plan.negotiated_mutex);
    d_plan.negotiated = true;
    d_plan.negotiated_actions = c.actions();
    d_plan.negotiated_steps = c.steps();
}

Envelope Worker::next_envelope()
{
    const Options& o = d_plan.opt;
    char qid[32];
    std::snprintf(qid, sizeof qid, "%02X%09llX", d_index & 0xFF, static_cast<unsigned long long>(++d_sequence));
    Envelope env{qid, "user" + std::to_string(d_rng() % o.senders) + "@sender.example", {}};
    for (int i = 0; i < o.rcpts_per_msg; ++i)
        env.rcpts.push_back("user" + std::to_string(d_rng() % o.rcpts) + "@rcpt.example");
    return env;
}

// Connects, negotiates and greets; nullptr when that failed or the filter
// gave a verdict for the whole connection (counted against one message).
std::unique_ptr<Conversation> Worker::open_connection()
{
    std::string why;
    const int fd = open_socket(d_plan.target, d_plan.opt.timeout_s, why);
    if (fd < 0) {
        d_tally.error(Fault::connect, why);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return nullptr;
    }
    ++d_tally.connections;
    auto c = std::make_unique<Conversation>(fd, d_plan.opt.auth_user);
    if (!c->negotiate()) {
        d_tally.error(c->wire().fault(), c->wire().detail());
        return nullptr;
    }
    note_negotiation(*c);
    const auto port = static_cast<std::uint16_t>(1024 + d_rng() % 64000);
    const Answer a = c->greet(d_plan.pool.pick(d_rng), port);
    if (a == Answer::proceed)
        return c;
    if (a == Answer::failed)
        d_tally.error(c->wire().fault(), c->wire().detail());
    else
        d_tally.count(a, false);
    c->quit();
    return nullptr;
}

void Worker::run()
{
    std::unique_ptr<Conversation> conv;
    int sent = 0;
    while (d_plan.claim()) {
        if (!conv && !(conv = open_connection()))
            continue;
        const MessageResult r = conv->deliver(next_message(), next_envelope());
        if (r.answer == Answer::failed) {
            d_tally.error(conv->wire().fault(), conv->wire().detail());
            conv.reset();
            sent = 0;
            continue;
        }
        d_tally.count(r.answer, r.quarantined);
        d_tally.header_mods += r.header_mods;
        d_tally.other_mods += r.other_mods;
        d_tally.latency_ms.push_back(r.ms);
        if (++sent >= d_plan.opt.per_connection) {
            conv->quit();
            conv.reset();
            sent = 0;
        }
    }
    if (conv)
        conv->quit();
}

// ---------------------------------------------------------------- report

double percentile(const std::vector<double>& sorted, double p)
{
    if (sorted.empty())
        return 0;
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string json_string(std::string_view s)
{
    std::string out = "\"";
    for (const char ch : s) {
        if (ch == '"' || ch == '\\')
            out.push_back('\\');
        if (static_cast<unsigned char>(ch) < 0x20)
            out += ' ';
        else
            out.push_back(ch);
    }
    return out + "\"";
}

void report(const Plan& plan, Tally& t, double seconds)
{
    std::sort(t.latency_ms.begin(), t.latency_ms.end());
    const auto& o = plan.opt;
    const std::uint64_t messages = t.completed() + t.errors();
    std::printf("{\"target\":%s,\"concurrency\":%d,\"per_connection\":%d,\"offered_per_s\":%.1f,\"seconds\":%.3f,"
                "\"messages\":%llu,\"completed\":%llu,\"msg_per_s\":%.1f,\"connections\":%llu,"
                "\"actions\":{\"accept\":%llu,\"reject\":%llu,\"tempfail\":%llu,\"discard\":%llu,\"quarantine\":%llu},"
                "\"header_mods\":%llu,\"other_mods\":%llu,"
                "\"errors\":{\"connect\":%llu,\"protocol\":%llu,\"timeout\":%llu,\"closed\":%llu},"
                "\"latency_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
                "\"negotiated\":{\"actions\":\"0x%X\",\"protocol\":\"0x%X\"}}\n",
                json_string(o.target).c_str(), o.connections, o.per_connection, o.rate, seconds,
                static_cast<unsigned long long>(messages), static_cast<unsigned long long>(t.completed()),
                seconds > 0 ? static_cast<double>(t.completed()) / seconds : 0.0,
                static_cast<unsigned long long>(t.connections), static_cast<unsigned long long>(t.accept),
                static_cast<unsigned long long>(t.reject), static_cast<unsigned long long>(t.tempfail),
                static_cast<unsigned long long>(t.discard), static_cast<unsigned long long>(t.quarantine),
                static_cast<unsigned long long>(t.header_mods), static_cast<unsigned long long>(t.other_mods),
                static_cast<unsigned long long>(t.err_connect), static_cast<unsigned long long>(t.err_protocol),
                static_cast<unsigned long long>(t.err_timeout), static_cast<unsigned long long>(t.err_closed),
                percentile(t.latency_ms, 50), percentile(t.latency_ms, 95), percentile(t.latency_ms, 99),
                t.latency_ms.empty() ? 0.0 : t.latency_ms.back(), plan.negotiated_actions, plan.negotiated_steps);
    static const char* kinds[] = {"", "connect", "protocol", "timeout", "closed"};
    for (std::size_t i = 1; i < std::size(t.first_error); ++i)
        if (!t.first_error[i].empty())
            std::fprintf(stderr, "rampart-loadgen: first %s error: %s\n", kinds[i], t.first_error[i].c_str());
}

} // namespace

int main(int argc, char** argv)
{
    Options opt;
    if (const int rc = parse_args(argc, argv, opt); rc >= 0)
        return rc;
    Plan plan(opt);
    const auto target = Target::parse(opt.target);
    const auto pool = Ipv4Pool::parse(opt.ip_pool);
    if (!target || !pool) {
        std::fprintf(stderr, "rampart-loadgen: bad %s \"%s\"\n", target ? "--ip-pool" : "-p",
                     target ? opt.ip_pool.c_str() : opt.target.c_str());
        return 2;
    }
    plan.target = *target;
    plan.pool = *pool;
    plan.messages = load_messages(opt.message_dir);
    if (plan.messages.empty()) {
        std::fprintf(stderr, "rampart-loadgen: no .eml or .txt files under %s\n", opt.message_dir.c_str());
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    const auto start = Clock::now();
    plan.start = start;
    plan.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.seconds));
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<std::thread> threads;
    for (int i = 0; i < opt.connections; ++i) {
        workers.push_back(std::make_unique<Worker>(plan, i));
        threads.emplace_back(&Worker::run, workers.back().get());
    }
    for (auto& t : threads)
        t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    Tally total;
    for (const auto& w : workers)
        total.merge(w->tally());
    report(plan, total, seconds);
    return total.completed() > 0 ? 0 : 1;
}
