// chaton_bench: a load program for Chaton's reader transports and posting path.
//
// It starts a chaton server of its own (one per phase, each with a fresh data
// directory under a temporary directory and a generated configuration that
// listens on 127.0.0.1 with a port chosen by the system), then:
//
//   1. fan-out    N readers wait on the room; once all wait, M posts are sent
//                 one at a time at a fixed pace and every reader records, for
//                 every post it receives, the time from just before the post
//                 was written to the socket to just after the packet carrying
//                 it was parsed. Each post's text carries its send time
//                 (steady clock, ns), so a reader needs no shared table to
//                 compute it. With --transport all (the default) the phase is
//                 run three times, one fresh server each, with the same N and
//                 M: over the comet long-poll, Server-Sent Events and
//                 WebSocket.
//   2. throughput R readers wait (long-poll, or the one transport that
//                 --transport names); P posters post back to back for T
//                 seconds (or K posts), then 1 poster does the same. Every
//                 acknowledgement means the post was fdatasync()ed.
//
// and prints Markdown tables: the fan-out with one column per transport and
// ratios against the long-poll, then everything else. The server's memory and
// CPU time come from /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime +
// stime); the machine's from /proc/stat, so the report also says how much CPU
// other processes took during each measurement.
//
// Readers. All three transports carry the same comet JSON packet
// ({"pos","nc","ver","cid","content":[[nick,[sec,usec],text],...]}), so a
// Reader base class owns everything but the wire: the source address and the
// connection, the packet's interpretation (cid, pos, the posts and their
// latency through Worker::on_post_item), the waiting state, the failure and
// reconnection policy and the counts the tally reads. A transport supplies
// three things: a fresh socket, what to do once it is connected, and the
// reading of packets off it.
//   - CometReader: one keep-alive HTTP/1.1 connection; GET comet?c=&p=&s=0,
//     answered at once with a cid, then re-sent after every reply. It counts
//     as waiting once it has written a request with a cid.
//   - SseReader: GET events?p=POS; the header goes through Beast's
//     http::response_parser, the body through the same parser with a
//     buffer_body (so chunked and close-delimited bodies both work) into
//     SseSplitter, which cuts the byte stream into events by the
//     Server-Sent Events rules. Each event's data is a packet, its id the
//     packet's pos.
//   - WsReader: Beast's websocket::stream client; the upgrade to ws?p=POS,
//     then one packet per text message.
// A stream reader counts as waiting once its first packet (sent at once by
// the server, possibly empty) has arrived. Its cid belongs to the connection.
//
// A waiting reader whose connection fails (the server closed it, say)
// reconnects at once and resumes from its pos (a long-poll keeps its cid too),
// as the browser client does after a pause; such reconnections are counted and
// reported, and with --no-reconnect the reader stays lost and its missing
// posts are counted.
//
// Only loopback addresses are used: the server listens on 127.0.0.1, readers
// connect from 127.0.0.2 and up (bound before connect) so that no single
// source address runs short of ephemeral ports. Each phase's sockets are
// closed before the next phase starts, so one phase's N readers is what counts
// against the open-file limit.
//
// Every run is bounded: a global deadline (--deadline, default 120 s per
// server started, that is per fan-out run and for the throughput phase) stops the run, kills the server and
// removes the temporary directory; an alarm() a little later is the last
// resort should the event loop be stuck. The server is started with
// PR_SET_PDEATHSIG so it cannot outlive this process.
//
// Threads: the orchestration (server control, status polls, posters) runs on
// the main thread's io_context; the readers run on --threads worker
// io_contexts (1 by default), each reader staying on one worker, so a
// reader's state needs no lock. Counters the orchestrator watches are
// atomics; everything else is read after the workers are joined.
//
// Long-poll requests are written by hand (they are fixed strings); HTTP
// responses are parsed with Beast's http::response_parser, WebSocket framing
// is Beast's, and packets are parsed with Boost.JSON.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------- options

// How a reader waits for posts (docs/PROTOCOL.md).
enum class Transport { comet, sse, ws };
constexpr std::array kAllTransports{Transport::comet, Transport::sse, Transport::ws};

// As the --transport option spells it.
const char* transport_option(Transport t) {
  switch (t) {
    case Transport::comet: return "comet";
    case Transport::sse: return "sse";
    case Transport::ws: return "ws";
  }
  return "?";
}

// As the report names it.
const char* transport_name(Transport t) {
  switch (t) {
    case Transport::comet: return "long-poll";
    case Transport::sse: return "SSE";
    case Transport::ws: return "WebSocket";
  }
  return "?";
}

constexpr double kDeadlinePerServer = 120;  // default --deadline, per server started (s)

struct Options {
  std::string server;        // path of the chaton binary
  int clients = 10000;       // N, fan-out clients
  int posts = 100;           // M, fan-out posts
  int interval_ms = 50;      // pace of the fan-out posts
  int readers = 1000;        // R, readers during the throughput phase
  int posters = 32;          // P, concurrent posters
  double seconds = 5;        // T, length of each throughput run
  long max_posts = 0;        // K, posts per throughput run (0: no limit)
  double deadline = 0;       // whole run (0: kDeadlinePerServer per server started)
  double setup_timeout = 60; // for all clients of a phase to be waiting
  double drain = 15;         // for deliveries after the last post
  int threads = 1;           // client worker threads
  int per_source = 5000;     // clients per source address 127.0.0.x
  int window = 256;          // connections being set up at once, per worker
  int server_threads = 0;    // [site] threads (0: one per core)
  std::string tmp;           // base of the temporary directory
  bool keep = false;         // keep the temporary directory
  bool reconnect = true;     // a client whose connection fails reconnects
  bool fanout = true;
  bool throughput = true;
  // The fan-out is run once per transport listed; the throughput phase's
  // readers use long-poll unless --transport names a single transport.
  std::vector<Transport> fanout_transports{kAllTransports.begin(), kAllTransports.end()};
  Transport reader_transport = Transport::comet;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: chaton_bench [options]\n"
               "  --server PATH        chaton binary (default: chaton next to this program)\n"
               "  --transport T        comet, sse, ws or all (all): the readers' transport;\n"
               "                       all runs the fan-out once per transport, each with\n"
               "                       a fresh server, and the throughput phase over comet\n"
               "  --clients N          fan-out: waiting readers (10000)\n"
               "  --posts M            fan-out: posts sent to them (100)\n"
               "  --interval-ms MS     fan-out: pause between posts (50)\n"
               "  --readers R          throughput: waiting readers, 0 for none (1000)\n"
               "  --posters P          throughput: concurrent posters (32)\n"
               "  --seconds T          throughput: length of each run (5)\n"
               "  --max-posts K        throughput: posts per run, 0 = no limit (0)\n"
               "  --deadline S         abort the whole run after S seconds\n"
               "                       (120 per server started: per fan-out run, throughput)\n"
               "  --setup-timeout S    time allowed for clients to start waiting (60)\n"
               "  --drain S            time allowed for deliveries after the last post (15)\n"
               "  --threads N          client worker threads, 1 or 2 (1)\n"
               "  --per-source N       clients per source address 127.0.0.x (5000)\n"
               "  --window N           connections being set up at once, per thread (256)\n"
               "  --server-threads N   the server's [site] threads, 0 = one per core (0)\n"
               "  --tmp DIR            where the temporary directory goes ($TMPDIR or /tmp)\n"
               "  --keep               keep the temporary directory (data, logs, config)\n"
               "  --no-reconnect       a waiting reader whose connection fails stays lost\n"
               "                       (default: it reconnects at once and resumes from its pos)\n"
               "  --only fanout|throughput   run one phase\n");
  std::exit(code);
}

Options parse_options(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], v;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto value = [&]() -> std::string {
      if (has_value) return v;
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "chaton_bench: %s needs a value\n", a.c_str());
        usage(2);
      }
      return args[++i];
    };
    auto number = [&](double lo, double hi) {
      std::string s = value();
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end || !(d >= lo && d <= hi)) {
        std::fprintf(stderr, "chaton_bench: %s must be a number from %g to %g (got '%s')\n",
                     a.c_str(), lo, hi, s.c_str());
        usage(2);
      }
      return d;
    };
    if (a == "--help" || a == "-h") usage(0);
    else if (a == "--server") o.server = value();
    else if (a == "--transport") {
      std::string which = value();
      if (which == "all") {
        o.fanout_transports.assign(kAllTransports.begin(), kAllTransports.end());
        o.reader_transport = Transport::comet;
      } else {
        auto it = std::find_if(kAllTransports.begin(), kAllTransports.end(),
                               [&](Transport t) { return which == transport_option(t); });
        if (it == kAllTransports.end()) {
          std::fprintf(stderr, "chaton_bench: unknown transport '%s'\n", which.c_str());
          usage(2);
        }
        o.fanout_transports = {*it};
        o.reader_transport = *it;
      }
    } else if (a == "--clients") o.clients = static_cast<int>(number(1, 250000));
    else if (a == "--posts") o.posts = static_cast<int>(number(1, 100000));
    else if (a == "--interval-ms") o.interval_ms = static_cast<int>(number(0, 60000));
    else if (a == "--readers") o.readers = static_cast<int>(number(0, 250000));
    else if (a == "--posters") o.posters = static_cast<int>(number(1, 4096));
    else if (a == "--seconds") o.seconds = number(0.1, 3600);
    else if (a == "--max-posts") o.max_posts = static_cast<long>(number(0, 1e9));
    else if (a == "--deadline") o.deadline = number(1, 86400);
    else if (a == "--setup-timeout") o.setup_timeout = number(1, 86400);
    else if (a == "--drain") o.drain = number(0.1, 86400);
    else if (a == "--threads") o.threads = static_cast<int>(number(1, 2));
    else if (a == "--per-source") o.per_source = static_cast<int>(number(1, 28000));
    else if (a == "--window") o.window = static_cast<int>(number(1, 100000));
    else if (a == "--server-threads") o.server_threads = static_cast<int>(number(0, 1024));
    else if (a == "--tmp") o.tmp = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "--no-reconnect") o.reconnect = false;
    else if (a == "--only") {
      std::string which = value();
      if (which == "fanout") o.throughput = false;
      else if (which == "throughput") o.fanout = false;
      else usage(2);
    } else {
      std::fprintf(stderr, "chaton_bench: unknown option %s\n", a.c_str());
      usage(2);
    }
  }
  if (o.server.empty()) {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    o.server = (ec ? fs::path(".") : self.parent_path()) / "chaton";
  }
  if (o.deadline == 0)
    o.deadline = kDeadlinePerServer *
                 static_cast<double>((o.fanout ? o.fanout_transports.size() : 0) + (o.throughput ? 1 : 0));
  if (o.tmp.empty()) {
    const char* t = std::getenv("TMPDIR");
    o.tmp = t && *t ? t : "/tmp";
  }
  return o;
}

// ---------------------------------------------------------------- small helpers

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
      .count();
}

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

void note(const std::string& s) {
  std::fprintf(stderr, "chaton_bench: %s\n", s.c_str());
  std::fflush(stderr);
}

std::optional<std::string> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// VmRSS of a process, in kB; -1 if unreadable.
long rss_kb(pid_t pid) {
  auto s = slurp(fmt("/proc/%d/status", static_cast<int>(pid)));
  if (!s) return -1;
  auto at = s->find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::strtol(s->c_str() + at + 6, nullptr, 10);
}

// utime + stime of a process, in clock ticks; -1 if unreadable.
long cpu_ticks(pid_t pid) {
  auto s = slurp(fmt("/proc/%d/stat", static_cast<int>(pid)));
  if (!s) return -1;
  auto close = s->rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(s->substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14, 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::strtol(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtol(field.c_str(), nullptr, 10);
  }
  return utime + stime;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (fs::directory_iterator it(fmt("/proc/%d/fd", static_cast<int>(pid)), ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

const double kTick = static_cast<double>(::sysconf(_SC_CLK_TCK));

// CPU use of the machine, of the server and of this program over an
// interval: the other processes on the machine distort every figure, so the
// report says how busy they kept it.
struct CpuSample {
  long sys_busy = 0, sys_total = 0;  // /proc/stat "cpu" line, ticks (all cores)
  long server = 0;                   // server utime + stime, ticks
  double self = 0;                   // this program, seconds
  Steady::time_point at;
};

CpuSample cpu_sample(pid_t server) {
  CpuSample c;
  c.at = Steady::now();
  c.server = cpu_ticks(server);
  c.self = self_cpu_seconds();
  if (auto st = slurp("/proc/stat")) {
    std::istringstream in(*st);
    std::string cpu;
    long v[8] = {};
    in >> cpu;
    for (long& x : v) in >> x;  // user nice system idle iowait irq softirq steal
    c.sys_busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    c.sys_total = c.sys_busy + v[3] + v[4];
  }
  return c;
}

// "busy 1.95 of 2 cores: server 0.80, load program 0.60, other processes 0.55"
std::string cpu_use(const CpuSample& a, const CpuSample& b) {
  double wall = std::chrono::duration<double>(b.at - a.at).count();
  if (wall <= 0) return "-";
  double cores = static_cast<double>(std::thread::hardware_concurrency());
  double total = static_cast<double>(b.sys_total - a.sys_total);
  double busy = total > 0 ? cores * static_cast<double>(b.sys_busy - a.sys_busy) / total : 0;
  double server = static_cast<double>(b.server - a.server) / kTick / wall;
  double self = (b.self - a.self) / wall;
  return fmt("%.2f s wall; busy %.2f of %.0f cores: server %.2f, load program %.2f, other processes %.2f",
             wall, busy, cores, server, self, std::max(0.0, busy - server - self));
}

std::string fs_type(const fs::path& p) {
  struct statfs s {};
  if (::statfs(p.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    default: return fmt("0x%lx", static_cast<unsigned long>(s.f_type));
  }
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The request writer: requests are plain strings.
std::string make_request(std::string_view method, std::string_view target, std::string_view host,
                         std::string_view form_body = {}) {
  std::string r;
  r.reserve(160 + form_body.size());
  r += method;
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\n";
  if (method == "POST") {
    r += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ";
    r += std::to_string(form_body.size());
    r += "\r\n";
  }
  r += "\r\n";
  r += form_body;
  return r;
}

// A post's text: "bench #<id> t=<steady ns at send>".
std::string post_text(uint64_t id, int64_t sent_ns) {
  return "bench #" + std::to_string(id) + " t=" + std::to_string(sent_ns);
}

bool parse_post_text(std::string_view s, uint64_t& id, int64_t& sent_ns) {
  auto h = s.find('#');
  auto t = s.find(" t=");
  if (h == std::string_view::npos || t == std::string_view::npos || t < h) return false;
  auto r1 = std::from_chars(s.data() + h + 1, s.data() + t, id);
  auto r2 = std::from_chars(s.data() + t + 3, s.data() + s.size(), sent_ns);
  return r1.ec == std::errc() && r2.ec == std::errc();
}

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // ms
};

Percentiles percentiles(std::vector<uint32_t> us) {
  Percentiles p;
  p.n = us.size();
  if (us.empty()) return p;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, i == 0 ? 0 : i - 1)] / 1000.0;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = us.back() / 1000.0;
  double sum = 0;
  for (auto v : us) sum += v;
  p.mean = sum / static_cast<double>(us.size()) / 1000.0;
  return p;
}

// ---------------------------------------------------------------- report

// Everything but the fan-out: one row per figure.
struct Row {
  std::string phase, figure, value;
};
std::vector<Row> g_rows;  // main thread only
std::vector<std::string> g_notes;

void add(std::string phase, std::string figure, std::string value) {
  g_rows.push_back({std::move(phase), std::move(figure), std::move(value)});
}

// The figures of a fan-out run that are compared with the long-poll's.
enum class Measure {
  rss_per_client,
  connect_cpu_per_client,
  cpu_per_delivery,
  latency_p50,
  latency_p99,
  load_cpu_per_delivery,
  bytes_per_delivery,
};

struct RatioRow {
  Measure measure;
  const char* label;
};
constexpr RatioRow kRatioRows[] = {
    {Measure::rss_per_client, "server RSS per waiting client"},
    {Measure::connect_cpu_per_client, "server CPU to get a client waiting"},
    {Measure::cpu_per_delivery, "server CPU per delivery"},
    {Measure::latency_p50, "delivery latency p50"},
    {Measure::latency_p99, "delivery latency p99"},
    {Measure::load_cpu_per_delivery, "load program CPU per delivery"},
    {Measure::bytes_per_delivery, "bytes on the wire per delivery"},
};

// One fan-out run: a column of the fan-out table.
struct Column {
  Transport transport;
  std::vector<std::pair<std::string, std::string>> cells;  // figure, value
  std::map<Measure, double> numbers;

  void add(std::string figure, std::string value) { cells.emplace_back(std::move(figure), std::move(value)); }
};
std::vector<Column> g_fanout;  // main thread only

void print_fanout_table() {
  if (g_fanout.empty()) return;
  std::vector<std::string> figures;  // in the order they first appear
  for (const auto& c : g_fanout)
    for (const auto& [f, v] : c.cells)
      if (std::find(figures.begin(), figures.end(), f) == figures.end()) figures.push_back(f);
  std::printf("\n| Fan-out figure |");
  for (const auto& c : g_fanout) std::printf(" %s |", transport_name(c.transport));
  std::printf("\n|---|");
  for (size_t i = 0; i < g_fanout.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const auto& f : figures) {
    std::printf("| %s |", f.c_str());
    for (const auto& c : g_fanout) {
      auto it = std::find_if(c.cells.begin(), c.cells.end(), [&](const auto& cell) { return cell.first == f; });
      std::printf(" %s |", it == c.cells.end() ? "-" : it->second.c_str());
    }
    std::printf("\n");
  }
  auto base = std::find_if(g_fanout.begin(), g_fanout.end(),
                           [](const Column& c) { return c.transport == Transport::comet; });
  if (base == g_fanout.end() || g_fanout.size() < 2) return;
  for (const auto& r : kRatioRows) {
    auto b = base->numbers.find(r.measure);
    if (b == base->numbers.end() || b->second <= 0) continue;
    std::printf("| %s, against long-poll |", r.label);
    for (const auto& c : g_fanout) {
      auto v = c.numbers.find(r.measure);
      if (v == c.numbers.end()) std::printf(" - |");
      else std::printf(" %.2f× |", v->second / b->second);
    }
    std::printf("\n");
  }
}

void print_report() {
  std::printf("| Phase | Figure | Value |\n|---|---|---|\n");
  for (const auto& r : g_rows)
    std::printf("| %s | %s | %s |\n", r.phase.c_str(), r.figure.c_str(), r.value.c_str());
  print_fanout_table();
  if (!g_notes.empty()) {
    std::printf("\n");
    for (const auto& n : g_notes) std::printf("- %s\n", n.c_str());
  }
  std::fflush(stdout);
}

// ---------------------------------------------------------------- the server process

std::atomic<pid_t> g_server_pid{0};  // the running server, for the abort paths
fs::path g_tmp;                      // the temporary directory, removed at the end
bool g_keep = false;

void kill_server_now() {
  pid_t pid = g_server_pid.exchange(0);
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

void remove_tmp() {
  if (!g_tmp.empty() && !g_keep) {
    std::error_code ec;
    fs::remove_all(g_tmp, ec);
  }
}

// The last resort: the event loop did not end the run in time.
extern "C" void on_alarm(int) {
  static const char msg[] = "chaton_bench: hard deadline reached, killing the server\n";
  (void)!::write(2, msg, sizeof msg - 1);
  pid_t pid = g_server_pid.load();
  if (pid > 0) ::kill(pid, SIGKILL);
  ::_exit(3);
}

// Ends the run at once: kills the server, prints what was measured so far.
[[noreturn]] void abort_run(const std::string& why) {
  note("aborting: " + why);
  kill_server_now();
  g_notes.push_back("RUN ABORTED: " + why);
  print_report();
  remove_tmp();
  std::fflush(nullptr);
  ::_exit(2);
}

struct ServerProc {
  pid_t pid = -1;
  fs::path dir;
  uint16_t port = 0;
  std::string listening_line;
  tcp::endpoint endpoint() const { return {net::ip::make_address_v4("127.0.0.1"), port}; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port); }
};

void spawn_server(const Options& o, ServerProc& s) {
  fs::create_directories(s.dir / "data");
  std::string d = (s.dir / "data").string();
  if (d.find('\'') != std::string::npos || d.find('\n') != std::string::npos)
    throw std::runtime_error("temporary directory path not usable in TOML: " + d);
  {
    std::ofstream cfg(s.dir / "chaton.toml");
    cfg << "# generated by chaton_bench\n"
           "[site]\n"
           "listen = \"127.0.0.1:0\"\n"
           "data_dir = '" << d << "'\n"
           "threads = " << o.server_threads << "\n"
           "\n"
           "# no pings while measuring: soft and hard timeouts far beyond a run\n"
           "[comet]\n"
           "soft_timeout_min = 100\n"
           "soft_timeout_max = 120\n"
           "hard_timeout_min = 200\n"
           "hard_timeout_max = 300\n"
           "client_timeout = 60\n"
           "\n"
           "# thousands of clients share each loopback source address; posting\n"
           "# comes from 127.0.0.1, which the post rate limit exempts by default\n"
           "[limits]\n"
           "max_connections = 1000000\n"
           "max_connections_per_address = 1000000\n"
           "max_buffered_bytes_per_address = 1000000000000\n"
           "\n"
           "[[room]]\n"
           "slug = \"lobby\"\n";
    if (!cfg) throw std::runtime_error("cannot write " + (s.dir / "chaton.toml").string());
  }
  std::string cfg_path = (s.dir / "chaton.toml").string();
  std::string out_path = (s.dir / "stdout.txt").string();
  std::string err_path = (s.dir / "stderr.txt").string();
  pid_t parent = ::getpid();
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl(o.server.c_str(), "chaton", "serve", "--config", cfg_path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  s.pid = pid;
  g_server_pid = pid;
}

// Has the server exited? Then reap it and say how.
std::optional<std::string> server_exited(ServerProc& s) {
  int status = 0;
  pid_t r = ::waitpid(s.pid, &status, WNOHANG);
  if (r != s.pid) return std::nullopt;
  g_server_pid = 0;
  s.pid = -1;
  if (WIFEXITED(status)) return fmt("exited with status %d", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt("killed by signal %d", WTERMSIG(status));
  return std::string("ended");
}

// The server's stderr, identical lines counted: "3 x chaton: ... / ...".
std::string server_stderr(const ServerProc& s, size_t max_kinds = 6) {
  auto e = slurp(s.dir / "stderr.txt").value_or("");
  std::istringstream in(e);
  std::string line;
  std::vector<std::pair<std::string, size_t>> kinds;
  size_t total = 0;
  while (std::getline(in, line)) {
    ++total;
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](auto& k) { return k.first == line; });
    if (it == kinds.end()) kinds.emplace_back(line, 1);
    else ++it->second;
  }
  std::string out;
  for (size_t i = 0; i < kinds.size() && i < max_kinds; ++i)
    out += fmt("%s%zu x ", i ? " / " : "", kinds[i].second) + kinds[i].first;
  if (kinds.size() > max_kinds) out += fmt(" / ... (%zu lines in all)", total);
  for (char& c : out)
    if (c == '|') c = '/';
  return out;
}

net::awaitable<void> sleep_for(Steady::duration d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

// Waits for "chaton ... listening on http://127.0.0.1:PORT/ ..." on stdout.
net::awaitable<void> await_listening(ServerProc& s) {
  auto start = Steady::now();
  const std::string key = "listening on http://127.0.0.1:";
  for (;;) {
    auto out = slurp(s.dir / "stdout.txt").value_or("");
    auto nl = out.find('\n');
    if (nl != std::string::npos) {
      std::string line = out.substr(0, nl);
      auto at = line.find(key);
      if (line.rfind("chaton ", 0) != 0 || at == std::string::npos)
        throw std::runtime_error("unexpected first line from the server: " + line);
      unsigned port = 0;
      auto p = line.c_str() + at + key.size();
      auto r = std::from_chars(p, line.c_str() + line.size(), port);
      if (r.ec != std::errc() || port == 0 || port > 65535)
        throw std::runtime_error("no port in the server's first line: " + line);
      s.port = static_cast<uint16_t>(port);
      s.listening_line = line;
      co_return;
    }
    if (auto how = server_exited(s))
      throw std::runtime_error("the server " + *how + " at start: " + server_stderr(s));
    if (seconds_since(start) > 15) throw std::runtime_error("the server did not start within 15 s");
    co_await sleep_for(20ms);
  }
}

// SIGTERM, then up to 10 s for it to end, then SIGKILL.
net::awaitable<std::string> stop_server(ServerProc& s) {
  if (s.pid <= 0) co_return "already gone";
  ::kill(s.pid, SIGTERM);
  auto start = Steady::now();
  for (;;) {
    if (auto how = server_exited(s)) co_return *how + fmt(" %.2f s after SIGTERM", seconds_since(start));
    if (seconds_since(start) > 10) {
      kill_server_now();
      s.pid = -1;
      co_return "did not stop within 10 s of SIGTERM; killed";
    }
    co_await sleep_for(10ms);
  }
}

// ---------------------------------------------------------------- a control connection

using Response = http::response<http::string_body>;

// One keep-alive HTTP/1.1 connection used from coroutines on the main thread:
// status polls and posts.
class HttpConn {
 public:
  HttpConn(net::any_io_executor ex, tcp::endpoint server, std::string host)
      : sock_(ex), server_(server), host_(std::move(host)) {}

  // Sends one request and reads its response; reconnects first if needed.
  // A GET is retried once on a fresh connection; a POST is not (it might
  // have been stored).
  net::awaitable<Response> request(std::string_view method, const std::string& target,
                                   std::string_view body = {}) {
    std::string req = make_request(method, target, host_, body);
    for (int attempt = 0;; ++attempt) {
      beast::error_code ec;
      const char* where = "connect";
      if (!sock_.is_open()) {
        co_await sock_.async_connect(server_, net::redirect_error(net::use_awaitable, ec));
        if (!ec) sock_.set_option(tcp::no_delay(true), ec);
      }
      if (!ec) {
        where = "write";
        co_await net::async_write(sock_, net::buffer(req), net::redirect_error(net::use_awaitable, ec));
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      if (!ec) {
        where = "read";
        co_await http::async_read(sock_, buf_, parser, net::redirect_error(net::use_awaitable, ec));
      }
      if (!ec) {
        Response res = parser.release();
        if (!res.keep_alive()) close();
        co_return res;
      }
      close();
      if (attempt > 0 || method != "GET")
        throw std::runtime_error(std::string(method) + " " + target + ": " + where + ": " + ec.message());
    }
  }

  void close() {
    beast::error_code ec;
    sock_.close(ec);
    buf_.clear();
  }

 private:
  tcp::socket sock_;
  tcp::endpoint server_;
  std::string host_;
  beast::flat_buffer buf_;
};

struct RoomStatus {
  int64_t num_chatters = -1;
  int64_t sequence = -1;
};

net::awaitable<RoomStatus> room_status(HttpConn& c) {
  Response res = co_await c.request("GET", "/lobby/var/status.js");
  if (res.result() != http::status::ok)
    throw std::runtime_error(fmt("status.js: HTTP %u", res.result_int()));
  json::value v = json::parse(res.body());
  RoomStatus st;
  st.num_chatters = v.at("num-chatters").to_number<int64_t>();
  st.sequence = v.at("post-sequence").to_number<int64_t>();
  co_return st;
}

// Posts one message; returns the HTTP status (200 = stored and synced).
net::awaitable<unsigned> post_message(HttpConn& c, const std::string& text) {
  std::string body = "nick=bench&text=" + url_encode(text);
  Response res = co_await c.request("POST", "/lobby/post", body);
  co_return res.result_int();
}

// ---------------------------------------------------------------- readers

constexpr uint64_t kMaxPacketBytes = 64u << 20;  // the largest reply, event or message accepted
constexpr size_t kStreamReadBytes = 16384;       // one read of an event stream's body
constexpr int kMaxReconnects = 1000;             // per reader, when reconnecting is on

// What a phase's readers share with the orchestrator.
struct Shared {
  tcp::endpoint server;
  std::string host;
  // Fan-out only: M, and a byte per (reader, post) to find duplicates.
  int matrix_posts = 0;
  std::vector<uint8_t> seen;

  std::atomic<uint64_t> waiting{0};           // readers that reached the waiting state
  std::atomic<uint64_t> setup_failed{0};      // readers lost before they waited
  std::atomic<uint64_t> failed_later{0};      // readers lost after they waited
  std::atomic<uint64_t> reconnections{0};     // connections of waiting readers that failed
  std::atomic<uint64_t> deliveries{0};        // (reader, post) pairs received
  std::atomic<uint64_t> lost_deliveries{0};   // of which to readers lost since
  std::atomic<uint64_t> bytes_in{0};          // from the server, as the readers read them
  std::atomic<uint64_t> bytes_out{0};         // requests the readers wrote
  std::atomic<uint64_t> packets{0};           // replies, events or messages received
  std::atomic<int64_t> last_delivery_ns{0};
  std::atomic<bool> stopping{false};
};

// After stop(): deliveries missing at readers still connected, and posts
// delivered twice, given that each should have had `per_client` posts.
struct Tally {
  uint64_t alive = 0, lost = 0;
  uint64_t missing_alive = 0, extra_alive = 0;
  uint64_t missing_lost = 0;  // what lost readers did not get before they were lost
};

class Worker;

// One reader of the room. The base class does everything that does not
// depend on the transport: the connection's source address and connect, the
// packets' meaning, the waiting state, failure and reconnection. A transport
// provides a fresh socket, starts its exchange once connected, and hands
// every packet it reads to on_packet().
class Reader {
 public:
  Reader(Worker& w, uint32_t index, net::ip::address_v4 source, bool cid_per_connection)
      : w_(w), index_(index), source_(source), cid_per_connection_(cid_per_connection) {}
  virtual ~Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Opens a new connection (the first, or after a failure).
  void start();
  // Closes for good: no callback of this reader runs any more.
  void close();
  uint64_t received() const { return received_; }
  bool lost() const { return lost_; }
  bool waited() const { return waiting_; }

 protected:
  // A closed socket, with the transport's per-connection state reset.
  virtual tcp::socket& fresh_socket() = 0;
  // The current connection's socket.
  virtual tcp::socket& socket() = 0;
  // Connected: send the request, or do the handshake, and start reading.
  virtual void on_connected() = 0;

  // A completion handler that runs only if the reader is still open and on
  // the same connection as when the operation began.
  template <class F>
  auto current(F f) {
    return [this, g = gen_, f = std::move(f)](auto&&... args) {
      if (g == gen_ && !dead_) f(std::forward<decltype(args)>(args)...);
    };
  }

  // One comet JSON packet, received at `now`. False if it was not
  // understood: the reader has failed.
  bool on_packet(std::string_view body, int64_t now);
  // The reader now waits for posts (counted once).
  void mark_waiting();
  void fail(const std::string& what);
  void count_bytes_in(size_t n);
  void count_bytes_out(size_t n);

  Worker& w_;
  beast::flat_buffer buf_;  // cleared for each connection
  int64_t cid_ = 0;
  uint64_t pos_ = 0;
  bool have_cid_ = false;

 private:
  void on_connect(beast::error_code ec);

  uint32_t index_;
  net::ip::address_v4 source_;
  bool cid_per_connection_;  // streams get a new cid per connection; a long-poll keeps its own
  uint64_t received_ = 0;
  bool waiting_ = false;
  bool dead_ = false;
  bool lost_ = false;  // the connection failed while the run went on
  int reconnects_ = 0;
  uint32_t gen_ = 0;   // connection number: callbacks of an old one are ignored
};

class Worker {
 public:
  Worker(Shared& sh, int window) : shared(sh), window_(window), guard_(net::make_work_guard(ioc)) {}

  void run_thread() {
    thread_ = std::thread([this] { ioc.run(); });
  }
  void begin() {
    net::post(ioc, [this] { start_more(); });
  }
  void start_more() {
    while (in_setup_ < window_ && next_ < readers.size() && !shared.stopping) {
      ++in_setup_;
      readers[next_++]->start();
    }
  }
  void setup_done() {
    --in_setup_;
    start_more();
  }
  // Closes every connection and ends the thread.
  void stop() {
    net::post(ioc, [this] {
      for (auto& r : readers) r->close();
      guard_.reset();
      ioc.stop();
    });
    if (thread_.joinable()) thread_.join();
  }

  void record_error(const std::string& what) { ++errors[what]; }

  void on_post_item(uint32_t client, std::string_view text, int64_t now) {
    uint64_t id = 0;
    int64_t sent = 0;
    if (!parse_post_text(text, id, sent)) {
      ++foreign_items;
      return;
    }
    int64_t lat = std::max<int64_t>(0, now - sent) / 1000;  // µs
    uint32_t lat32 = static_cast<uint32_t>(std::min<int64_t>(lat, UINT32_MAX));
    if (shared.matrix_posts > 0) {
      if (id >= static_cast<uint64_t>(shared.matrix_posts)) {
        ++foreign_items;
        return;
      }
      uint8_t& s = shared.seen[static_cast<size_t>(client) * shared.matrix_posts + id];
      if (s) {
        ++duplicates;
        return;
      }
      s = 1;
      if (per_post_max.size() < static_cast<size_t>(shared.matrix_posts))
        per_post_max.resize(static_cast<size_t>(shared.matrix_posts), 0);
      per_post_max[id] = std::max(per_post_max[id], lat32);
    }
    latencies_us.push_back(lat32);
    shared.deliveries.fetch_add(1, std::memory_order_relaxed);
    int64_t prev = shared.last_delivery_ns.load(std::memory_order_relaxed);
    while (prev < now && !shared.last_delivery_ns.compare_exchange_weak(prev, now)) {
    }
  }

  net::io_context ioc{1};
  Shared& shared;
  std::vector<std::unique_ptr<Reader>> readers;  // destroyed before ioc
  std::vector<uint32_t> latencies_us;
  std::vector<uint32_t> per_post_max;  // fan-out: slowest delivery of each post, µs
  std::map<std::string, uint64_t> errors;
  uint64_t empty_replies = 0;  // packets with no posts, other than a connection's first
  uint64_t cid_changes = 0;    // packets naming another cid than the reader's
  uint64_t duplicates = 0;
  uint64_t foreign_items = 0;  // posts in content that this run did not send
  int max_reconnects = 0;

 private:
  int window_;
  size_t next_ = 0;
  int in_setup_ = 0;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

void Reader::start() {
  tcp::socket& sock = fresh_socket();
  buf_.clear();
  if (cid_per_connection_) have_cid_ = false;
  beast::error_code ec;
  sock.open(tcp::v4(), ec);
  if (ec) return fail("socket: " + ec.message());
  int one = 1;  // let connect() pick the port for the 4-tuple, not bind()
  ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sock.bind(tcp::endpoint(source_, 0), ec);
  if (ec) return fail("bind " + source_.to_string() + ": " + ec.message());
  sock.async_connect(w_.shared.server, current([this](beast::error_code e) { on_connect(e); }));
}

void Reader::on_connect(beast::error_code ec) {
  if (ec) return fail("connect: " + ec.message());
  socket().set_option(tcp::no_delay(true), ec);
  on_connected();
}

void Reader::close() {
  dead_ = true;
  beast::error_code ec;
  socket().close(ec);
}

void Reader::count_bytes_in(size_t n) { w_.shared.bytes_in.fetch_add(n, std::memory_order_relaxed); }
void Reader::count_bytes_out(size_t n) { w_.shared.bytes_out.fetch_add(n, std::memory_order_relaxed); }

bool Reader::on_packet(std::string_view body, int64_t now) {
  w_.shared.packets.fetch_add(1, std::memory_order_relaxed);
  try {
    json::value v = json::parse(json::string_view(body.data(), body.size()));
    const json::object& o = v.as_object();
    int64_t cid = o.at("cid").to_number<int64_t>();
    auto pos = o.at("pos").to_number<uint64_t>();
    const json::array& content = o.at("content").as_array();
    if (cid <= 0) {
      fail("packet with cid " + std::to_string(cid));
      return false;
    }
    if (have_cid_ && cid != cid_) ++w_.cid_changes;
    if (have_cid_ && content.empty()) ++w_.empty_replies;
    cid_ = cid;
    pos_ = pos;
    for (const json::value& item : content) {
      const json::string& text = item.as_array().at(2).as_string();
      ++received_;
      w_.on_post_item(index_, std::string_view(text.data(), text.size()), now);
    }
    have_cid_ = true;
  } catch (const std::exception& e) {
    fail(std::string("packet not understood: ") + e.what());
    return false;
  }
  return true;
}

void Reader::mark_waiting() {
  if (waiting_) return;
  waiting_ = true;
  w_.shared.waiting.fetch_add(1, std::memory_order_relaxed);
  w_.setup_done();
}

void Reader::fail(const std::string& what) {
  if (dead_) return;
  if (w_.shared.stopping) return close();
  w_.record_error(what);
  if (waiting_ && reconnects_ < w_.max_reconnects) {
    // As the browser client does (without its 5-15 s pause): a new
    // connection that resumes from pos, so no post should be missed. The
    // new connection starts from the event loop, once the caller (perhaps
    // in the middle of a read) has returned.
    ++reconnects_;
    w_.shared.reconnections.fetch_add(1, std::memory_order_relaxed);
    ++gen_;
    beast::error_code ec;
    socket().close(ec);
    net::post(w_.ioc, current([this] { start(); }));
    return;
  }
  close();
  lost_ = true;
  if (waiting_) {
    w_.shared.lost_deliveries.fetch_add(received_, std::memory_order_relaxed);
    w_.shared.failed_later.fetch_add(1, std::memory_order_relaxed);
  } else {
    w_.shared.setup_failed.fetch_add(1, std::memory_order_relaxed);
    w_.setup_done();
  }
}

// The comet long-poll on one keep-alive connection: GET comet?c=&p=&s=0,
// answered at once with a cid, then again after every reply.
class CometReader final : public Reader {
 public:
  CometReader(Worker& w, uint32_t index, net::ip::address_v4 source)
      : Reader(w, index, source, false), sock_(w.ioc) {}

 private:
  tcp::socket& fresh_socket() override { return sock_; }
  tcp::socket& socket() override { return sock_; }
  void on_connected() override { send(); }

  void send() {
    req_.clear();
    req_ += "GET /lobby/comet?t=";
    req_ += std::to_string(requests_++);
    req_ += "&c=";
    req_ += std::to_string(have_cid_ ? cid_ : 0);
    req_ += "&p=";
    req_ += std::to_string(pos_);
    req_ += "&s=0 HTTP/1.1\r\nHost: ";
    req_ += w_.shared.host;
    req_ += "\r\n\r\n";
    net::async_write(sock_, net::buffer(req_), current([this](beast::error_code ec, size_t n) {
      if (ec) return fail("write: " + ec.message());
      count_bytes_out(n);
      if (have_cid_) mark_waiting();
      read();
    }));
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxPacketBytes);
    http::async_read(sock_, buf_, *parser_, current([this](beast::error_code ec, size_t n) { on_read(ec, n); }));
  }

  void on_read(beast::error_code ec, size_t n) {
    if (ec) return fail("read: " + ec.message());
    int64_t now = now_ns();
    count_bytes_in(n);
    const Response& res = parser_->get();
    if (res.result() != http::status::ok) return fail(fmt("comet: HTTP %u", res.result_int()));
    if (!on_packet(res.body(), now)) return;
    if (!res.keep_alive()) return fail("comet: server closed the connection");
    send();
  }

  tcp::socket sock_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string req_;
  uint64_t requests_ = 0;
};

// Cuts a Server-Sent Events byte stream into events, by the rules of the
// event-stream format: lines end in LF, CR LF or CR; a line starting with
// ':' is a comment; "data:" lines add to the event's data (joined by LF),
// "id:" sets the last event id, other fields (retry:, event:) are ignored;
// a blank line ends the event, which is dispatched if it has data.
class SseSplitter {
 public:
  void reset() {
    line_.clear();
    data_.clear();
    id_.clear();
    after_cr_ = false;
  }

  // Calls on_event(id, data) for each event completed by `bytes`; stops,
  // returning false, as soon as on_event returns false.
  template <class F>
  bool feed(std::string_view bytes, F&& on_event) {
    while (!bytes.empty()) {
      if (after_cr_ && bytes.front() == '\n') bytes.remove_prefix(1);  // the LF of a CR LF
      after_cr_ = false;
      size_t eol = bytes.find_first_of("\r\n");
      if (eol == std::string_view::npos) {
        line_.append(bytes);
        return true;
      }
      line_.append(bytes.substr(0, eol));
      after_cr_ = bytes[eol] == '\r';
      bytes.remove_prefix(eol + 1);
      bool go = end_line(on_event);
      line_.clear();
      if (!go) return false;
    }
    return true;
  }

 private:
  template <class F>
  bool end_line(F& on_event) {
    if (line_.empty()) {
      if (data_.empty()) return true;
      data_.pop_back();  // the LF after the last data line
      std::string data = std::move(data_);
      data_.clear();
      return on_event(std::string_view(id_), std::string_view(data));
    }
    if (line_.front() == ':') return true;
    std::string_view line(line_);
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
      data_.append(value);
      data_ += '\n';
    } else if (field == "id") {
      id_.assign(value);
    }
    return true;
  }

  std::string line_, data_, id_;
  bool after_cr_ = false;  // the last byte fed was a CR
};

// Server-Sent Events: GET events?p=POS, one packet per event, the event's
// id being the packet's pos.
class SseReader final : public Reader {
 public:
  SseReader(Worker& w, uint32_t index, net::ip::address_v4 source)
      : Reader(w, index, source, true), sock_(w.ioc) {}

 private:
  tcp::socket& fresh_socket() override {
    parser_.reset();
    events_.reset();
    return sock_;
  }
  tcp::socket& socket() override { return sock_; }

  void on_connected() override {
    req_ = "GET /lobby/events?p=" + std::to_string(pos_) + " HTTP/1.1\r\nHost: " + w_.shared.host +
           "\r\nAccept: text/event-stream\r\n\r\n";
    net::async_write(sock_, net::buffer(req_), current([this](beast::error_code ec, size_t n) {
      if (ec) return fail("write: " + ec.message());
      count_bytes_out(n);
      parser_.emplace();
      parser_->body_limit(boost::none);  // the stream has no end
      http::async_read_header(sock_, buf_, *parser_,
                              current([this](beast::error_code e, size_t h) { on_header(e, h); }));
    }));
  }

  void on_header(beast::error_code ec, size_t n) {
    if (ec) return fail("read header: " + ec.message());
    count_bytes_in(n);
    const auto& res = parser_->get();
    if (res.result() != http::status::ok) return fail(fmt("events: HTTP %u", res.result_int()));
    if (!res[http::field::content_type].starts_with("text/event-stream"))
      return fail("events: not an event stream");
    read_body();
  }

  void read_body() {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read_some(sock_, buf_, *parser_,
                          current([this](beast::error_code ec, size_t n) { on_body(ec, n); }));
  }

  void on_body(beast::error_code ec, size_t n) {
    if (ec == http::error::need_buffer) ec = {};  // the chunk_ is full: not an error
    if (ec) return fail("read: " + ec.message());
    int64_t now = now_ns();
    count_bytes_in(n);
    size_t got = chunk_.size() - parser_->get().body().size;
    bool ok = events_.feed(std::string_view(chunk_.data(), got), [&](std::string_view id, std::string_view data) {
      if (!on_packet(data, now)) return false;
      uint64_t event_id = 0;
      auto r = std::from_chars(id.data(), id.data() + id.size(), event_id);
      if (r.ec != std::errc() || event_id != pos_) {
        fail("events: event id '" + std::string(id) + "' is not the packet's pos");
        return false;
      }
      mark_waiting();
      return true;
    });
    if (!ok) return;
    if (parser_->is_done()) return fail("events: the server ended the stream");
    read_body();
  }

  tcp::socket sock_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, kStreamReadBytes> chunk_;
  SseSplitter events_;
  std::string req_;
};

// WebSocket: the upgrade to ws?p=POS, then one packet per text message.
class WsReader final : public Reader {
 public:
  WsReader(Worker& w, uint32_t index, net::ip::address_v4 source) : Reader(w, index, source, true) {
    ws_.emplace(w.ioc);
  }

 private:
  tcp::socket& fresh_socket() override {
    ws_.emplace(w_.ioc);  // a websocket stream that failed cannot be reused
    ws_->read_message_max(kMaxPacketBytes);
    return ws_->next_layer();
  }
  tcp::socket& socket() override { return ws_->next_layer(); }

  void on_connected() override {
    target_ = "/lobby/ws?p=" + std::to_string(pos_);
    ws_->async_handshake(w_.shared.host, target_, current([this](beast::error_code ec) {
      if (ec) return fail("handshake: " + ec.message());
      read();
    }));
  }

  void read() {
    ws_->async_read(buf_, current([this](beast::error_code ec, size_t n) { on_message(ec, n); }));
  }

  void on_message(beast::error_code ec, size_t n) {
    if (ec) return fail("read: " + ec.message());
    int64_t now = now_ns();
    count_bytes_in(n + frame_header_bytes(n));
    if (!ws_->got_text()) return fail("ws: a binary message");
    bool ok = on_packet(std::string_view(static_cast<const char*>(buf_.data().data()), buf_.size()), now);
    buf_.consume(buf_.size());
    if (!ok) return;
    mark_waiting();
    read();
  }

  // The header of an unmasked server frame carrying n bytes (RFC 6455 5.2),
  // assuming one frame per message.
  static size_t frame_header_bytes(size_t n) { return n < 126 ? 2 : n <= 0xFFFF ? 4 : 10; }

  std::optional<websocket::stream<tcp::socket>> ws_;
  std::string target_;
};

std::unique_ptr<Reader> make_reader(Transport t, Worker& w, uint32_t index, net::ip::address_v4 source) {
  switch (t) {
    case Transport::comet: return std::make_unique<CometReader>(w, index, source);
    case Transport::sse: return std::make_unique<SseReader>(w, index, source);
    case Transport::ws: return std::make_unique<WsReader>(w, index, source);
  }
  throw std::logic_error("unknown transport");
}

// A phase's readers, spread over worker threads and source addresses.
struct ClientSet {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  int total = 0;
  Transport transport;

  ClientSet(const Options& o, const ServerProc& s, Transport t, int n, int matrix_posts)
      : total(n), transport(t) {
    shared.server = s.endpoint();
    shared.host = s.host();
    shared.matrix_posts = matrix_posts;
    if (matrix_posts > 0) shared.seen.assign(static_cast<size_t>(n) * matrix_posts, 0);
    int sources = (n + o.per_source - 1) / o.per_source;
    if (sources > 253) throw std::runtime_error("too many clients for 127.0.0.2..127.0.0.254");
    for (int t = 0; t < o.threads; ++t) {
      workers.push_back(std::make_unique<Worker>(shared, o.window));
      workers.back()->max_reconnects = o.reconnect ? kMaxReconnects : 0;
    }
    for (int i = 0; i < n; ++i) {
      auto src = net::ip::address_v4(0x7F000002u + static_cast<uint32_t>(i / o.per_source));
      Worker& w = *workers[static_cast<size_t>(i) % workers.size()];
      w.readers.push_back(make_reader(t, w, static_cast<uint32_t>(i), src));
    }
  }
  int sources(const Options& o) const { return (total + o.per_source - 1) / o.per_source; }
  void start() {
    for (auto& w : workers) {
      w->run_thread();
      w->begin();
    }
  }
  void stop() {
    shared.stopping = true;
    for (auto& w : workers) w->stop();
  }
  ~ClientSet() {
    if (!shared.stopping) stop();
  }

  // After stop(): merged figures.
  std::vector<uint32_t> latencies() const {
    std::vector<uint32_t> all;
    for (auto& w : workers) all.insert(all.end(), w->latencies_us.begin(), w->latencies_us.end());
    return all;
  }
  Tally tally(uint64_t per_client) const {
    Tally t;
    for (auto& w : workers)
      for (auto& p : w->readers) {
        if (!p->waited()) continue;
        if (p->lost()) {
          ++t.lost;
          t.missing_lost += per_client > p->received() ? per_client - p->received() : 0;
        } else {
          ++t.alive;
          if (p->received() < per_client) t.missing_alive += per_client - p->received();
          else t.extra_alive += p->received() - per_client;
        }
      }
    return t;
  }
  template <class F>
  uint64_t sum(F f) const {
    uint64_t n = 0;
    for (auto& w : workers) n += f(*w);
    return n;
  }
  std::string errors() const {
    std::map<std::string, uint64_t> all;
    for (auto& w : workers)
      for (auto& [k, v] : w->errors) all[k] += v;
    std::string out;
    for (auto& [k, v] : all) out += (out.empty() ? "" : "; ") + fmt("%" PRIu64 " x %s", v, k.c_str());
    return out.empty() ? "none" : out;
  }
};

// Waits until every client of the set waits (or was lost), the room counts
// them, and the server's CPU has gone quiet (it has handled every request
// sent). Returns the number of waiting clients.
net::awaitable<uint64_t> await_waiting(const Options& o, ClientSet& cs, HttpConn& ctl, ServerProc& s,
                                       const std::string& phase) {
  auto start = Steady::now();
  auto last_note = start;
  long last_ticks = cpu_ticks(s.pid);
  int quiet = 0;
  for (;;) {
    co_await sleep_for(200ms);
    if (auto how = server_exited(s)) throw std::runtime_error("the server " + *how + ": " + server_stderr(s));
    uint64_t waiting = cs.shared.waiting.load();
    uint64_t failed = cs.shared.setup_failed.load() + cs.shared.failed_later.load();
    long ticks = cpu_ticks(s.pid);
    bool idle = ticks - last_ticks <= 1;  // at most one 10 ms tick in 200 ms
    last_ticks = ticks;
    if (seconds_since(last_note) >= 2) {
      note(fmt("%s: %" PRIu64 " of %d clients waiting, %" PRIu64 " lost", phase.c_str(), waiting,
               cs.total, failed));
      last_note = Steady::now();
    }
    if (waiting + cs.shared.setup_failed.load() >= static_cast<uint64_t>(cs.total)) {
      RoomStatus st = co_await room_status(ctl);
      uint64_t alive = waiting - cs.shared.failed_later.load();
      // A lost reader's cid stays counted until client_timeout expires it;
      // so does the cid of each connection a stream reader has replaced.
      uint64_t most = waiting + (cs.transport == Transport::comet ? 0 : cs.shared.reconnections.load());
      if (st.num_chatters >= static_cast<int64_t>(alive) &&
          st.num_chatters <= static_cast<int64_t>(most) && idle) {
        if (++quiet >= 2) co_return alive;
      } else {
        quiet = 0;
      }
    }
    if (seconds_since(start) > o.setup_timeout) {
      g_notes.push_back(fmt("%s: only %" PRIu64 " of %d clients were waiting after %.0f s; %" PRIu64
                            " lost (errors: %s)",
                            phase.c_str(), waiting - cs.shared.failed_later.load(), cs.total,
                            o.setup_timeout, failed, "see the client errors row"));
      co_return waiting - cs.shared.failed_later.load();
    }
  }
}

// Waits until every client still connected has `per_client` posts, or the
// drain time is over.
net::awaitable<bool> await_deliveries(const Options& o, Shared& sh, uint64_t per_client) {
  auto start = Steady::now();
  for (;;) {
    uint64_t alive = sh.waiting.load() - sh.failed_later.load();
    uint64_t got = sh.deliveries.load() - sh.lost_deliveries.load();
    if (got >= alive * per_client) co_return true;
    if (seconds_since(start) > o.drain) co_return false;
    co_await sleep_for(5ms);
  }
}


std::string ms(double v) { return fmt("%.2f ms", v); }

std::string latency_cell(const Percentiles& p) {
  if (p.n == 0) return "none";
  return fmt("%.2f / %.2f / %.2f / %.2f ms", p.p50, p.p90, p.p99, p.max);
}

// ---------------------------------------------------------------- phase 1: fan-out

// One fan-out run over one transport, with a server of its own; its figures
// go into a column of the fan-out table.
net::awaitable<void> fanout_phase(const Options& o, Transport transport) {
  const std::string P = std::string("fan-out ") + transport_name(transport);
  g_fanout.push_back(Column{transport, {}, {}});
  const size_t column = g_fanout.size() - 1;  // g_fanout may grow no more while this runs
  auto col = [&]() -> Column& { return g_fanout[column]; };
  ServerProc s;
  s.dir = g_tmp / (std::string("fanout-") + transport_option(transport));
  spawn_server(o, s);
  co_await await_listening(s);
  note(P + ": " + s.listening_line);
  auto ex = co_await net::this_coro::executor;
  HttpConn ctl(ex, s.endpoint(), s.host());
  co_await room_status(ctl);
  co_await sleep_for(500ms);
  long rss_base = rss_kb(s.pid);
  long fds_base = open_fds(s.pid);

  ClientSet cs(o, s, transport, o.clients, o.posts);
  const CpuSample cpu_setup0 = cpu_sample(s.pid);
  const long ticks_setup0 = cpu_ticks(s.pid);
  auto t_setup = Steady::now();
  cs.start();
  uint64_t reached = co_await await_waiting(o, cs, ctl, s, P);
  double setup_s = seconds_since(t_setup);
  const long ticks_setup1 = cpu_ticks(s.pid);
  const CpuSample cpu_setup1 = cpu_sample(s.pid);
  long rss_wait = rss_kb(s.pid);
  long fds_wait = open_fds(s.pid);
  note(fmt("%s: %" PRIu64 " readers waiting after %.1f s; server RSS %ld kB (was %ld kB)", P.c_str(), reached,
           setup_s, rss_wait, rss_base));

  const double connect_cpu_s = (ticks_setup1 - ticks_setup0) / kTick;
  col().add("clients asked for / waiting", fmt("%d / %" PRIu64, o.clients, reached));
  col().add("source addresses", fmt("127.0.0.2 .. 127.0.0.%d", 1 + cs.sources(o)));
  col().add("time to get all clients waiting", fmt("%.2f s", setup_s));
  col().add("server CPU while they connected", fmt("%.2f s", connect_cpu_s));
  col().add("machine CPU while they connected", cpu_use(cpu_setup0, cpu_setup1));
  col().add("server open fds, idle / all waiting", fmt("%ld / %ld", fds_base, fds_wait));
  col().add("server RSS, idle / all waiting", fmt("%ld kB / %ld kB", rss_base, rss_wait));
  if (reached > 0) {
    double per_client = static_cast<double>(rss_wait - rss_base) / static_cast<double>(reached);
    col().add("server RSS per waiting client", fmt("%.2f kB", per_client));
    col().numbers[Measure::rss_per_client] = per_client;
    col().numbers[Measure::connect_cpu_per_client] = connect_cpu_s / static_cast<double>(reached);
  }
  if (reached == 0) throw std::runtime_error(P + ": no reader reached the waiting state");

  // Post M messages one at a time, at a fixed pace.
  const long ticks0 = cpu_ticks(s.pid);
  const double self0 = self_cpu_seconds();
  const CpuSample cpu0 = cpu_sample(s.pid);
  const uint64_t bytes_in0 = cs.shared.bytes_in.load(), bytes_out0 = cs.shared.bytes_out.load();
  const uint64_t packets0 = cs.shared.packets.load();
  std::vector<uint32_t> ack_us;
  uint64_t post_errors = 0;
  auto t0 = Steady::now();
  int64_t first_send = 0;
  for (int k = 0; k < o.posts; ++k) {
    auto slot = t0 + std::chrono::milliseconds(static_cast<int64_t>(o.interval_ms) * k);
    if (Steady::now() < slot) co_await sleep_for(slot - Steady::now());
    int64_t sent = now_ns();
    if (k == 0) first_send = sent;
    unsigned code = co_await post_message(ctl, post_text(static_cast<uint64_t>(k), sent));
    ack_us.push_back(static_cast<uint32_t>((now_ns() - sent) / 1000));
    if (code != 200) ++post_errors;
  }
  double posting_s = seconds_since(t0);
  const uint64_t per_client = static_cast<uint64_t>(o.posts) - post_errors;
  const uint64_t expected = reached * per_client;
  bool all = co_await await_deliveries(o, cs.shared, per_client);
  const long ticks1 = cpu_ticks(s.pid);
  const double phase_wall = static_cast<double>(now_ns() - first_send) / 1e9;
  const double self1 = self_cpu_seconds();
  const CpuSample cpu1 = cpu_sample(s.pid);
  const uint64_t bytes_in = cs.shared.bytes_in.load() - bytes_in0;
  const uint64_t bytes_out = cs.shared.bytes_out.load() - bytes_out0;
  const uint64_t packets = cs.shared.packets.load() - packets0;
  long rss_after = rss_kb(s.pid);
  int64_t last_delivery = cs.shared.last_delivery_ns.load();
  RoomStatus st_end = co_await room_status(ctl);
  cs.stop();

  uint64_t delivered = cs.shared.deliveries.load();
  auto lat = percentiles(cs.latencies());
  auto ack = percentiles(ack_us);
  std::vector<uint32_t> per_post;
  for (auto& w : cs.workers) {
    if (per_post.size() < w->per_post_max.size()) per_post.resize(w->per_post_max.size(), 0);
    for (size_t i = 0; i < w->per_post_max.size(); ++i) per_post[i] = std::max(per_post[i], w->per_post_max[i]);
  }
  auto reach_all = percentiles(per_post);
  double delivery_window_s = static_cast<double>(last_delivery - first_send) / 1e9;
  const double server_cpu_s = (ticks1 - ticks0) / kTick;
  const double deliveries = static_cast<double>(std::max<uint64_t>(delivered, 1));

  col().add("posts sent (interval)", fmt("%d (%d ms); %" PRIu64 " refused", o.posts, o.interval_ms, post_errors));
  Tally t = cs.tally(per_client);
  col().add("deliveries received / expected (N x M)", fmt("%" PRIu64 " / %" PRIu64, delivered, expected));
  col().add("missing at clients still connected",
            fmt("%" PRIu64 "%s", t.missing_alive, all ? "" : fmt(" (drain of %.0f s ran out)", o.drain).c_str()));
  col().add("missing at clients whose connection was lost",
            fmt("%" PRIu64 " (%" PRIu64 " clients lost)", t.missing_lost, t.lost));
  col().add("duplicate deliveries", std::to_string(cs.sum([](const Worker& w) { return w.duplicates; })));
  col().add("delivery latency p50 / p90 / p99 / max", latency_cell(lat));
  col().add("delivery latency mean", ms(lat.mean));
  col().add("time for a post to reach every client, median / max over posts",
            fmt("%.2f / %.2f ms", reach_all.p50, reach_all.max));
  col().add("deliveries per second (first post sent .. last delivery)",
            fmt("%.0f", delivery_window_s > 0 ? static_cast<double>(delivered) / delivery_window_s : 0.0));
  col().add("post acknowledgement p50 / p99 / max", fmt("%.2f / %.2f / %.2f ms", ack.p50, ack.p99, ack.max));
  col().add("packets received while posting (replies, events, messages)", std::to_string(packets));
  col().add("posts per packet", fmt("%.1f", static_cast<double>(delivered) / static_cast<double>(std::max<uint64_t>(packets, 1))));
  col().add("bytes from the server / from the clients, per delivery",
            fmt("%.1f / %.1f", static_cast<double>(bytes_in) / deliveries, static_cast<double>(bytes_out) / deliveries));
  col().add("empty packets (pings) / cid changes",
            fmt("%" PRIu64 " / %" PRIu64, cs.sum([](const Worker& w) { return w.empty_replies; }),
                cs.sum([](const Worker& w) { return w.cid_changes; })));
  col().add("reconnections (the connection of a waiting client failed)",
            std::to_string(cs.shared.reconnections.load()));
  col().add("clients lost (before / after waiting)",
            fmt("%" PRIu64 " / %" PRIu64, cs.shared.setup_failed.load(), cs.shared.failed_later.load()));
  col().add("client errors", cs.errors());
  col().add("server CPU for the posting phase (posts + deliveries)",
            fmt("%.2f s in %.2f s (posting took %.2f s)", server_cpu_s, phase_wall, posting_s));
  col().add("server CPU per delivery", fmt("%.2f µs", server_cpu_s * 1e6 / deliveries));
  col().add("load program CPU for the posting phase", fmt("%.2f s", self1 - self0));
  col().add("machine CPU during the posting phase", cpu_use(cpu0, cpu1));
  col().add("server RSS after the posts", fmt("%ld kB", rss_after));
  col().add("room num-chatters / post-sequence at the end",
            fmt("%" PRId64 " / %" PRId64, st_end.num_chatters, st_end.sequence));
  if (delivered > 0) {
    col().numbers[Measure::cpu_per_delivery] = server_cpu_s / deliveries;
    col().numbers[Measure::latency_p50] = lat.p50;
    col().numbers[Measure::latency_p99] = lat.p99;
    col().numbers[Measure::load_cpu_per_delivery] = (self1 - self0) / deliveries;
    col().numbers[Measure::bytes_per_delivery] = static_cast<double>(bytes_in + bytes_out) / deliveries;
  }

  ctl.close();
  std::string how = co_await stop_server(s);
  col().add("server stop", how);
  std::string err = server_stderr(s);
  col().add("server stderr", err.empty() ? "(empty)" : err);
}

// ---------------------------------------------------------------- phase 2: posting throughput

struct RunResult {
  uint64_t acked = 0, refused = 0;
  double seconds = 0;
  std::vector<uint32_t> ack_us;
  std::string error;
};

net::awaitable<void> poster_loop(HttpConn& c, Steady::time_point end, long max_posts,
                                 std::atomic<uint64_t>& next_id, std::atomic<long>& issued,
                                 RunResult& r, Steady::time_point& last_ack) {
  try {
    while (Steady::now() < end && (max_posts == 0 || issued.fetch_add(1) < max_posts)) {
      int64_t sent = now_ns();
      unsigned code = co_await post_message(c, post_text(next_id.fetch_add(1), sent));
      last_ack = std::max(last_ack, Steady::now());
      r.ack_us.push_back(static_cast<uint32_t>((now_ns() - sent) / 1000));
      if (code == 200) ++r.acked;
      else ++r.refused;
    }
  } catch (const std::exception& e) {
    if (r.error.empty()) r.error = e.what();
  }
}

net::awaitable<RunResult> posting_run(const Options& o, const ServerProc& s, int posters,
                                      std::atomic<uint64_t>& next_id) {
  auto ex = co_await net::this_coro::executor;
  std::vector<std::unique_ptr<HttpConn>> conns;
  for (int i = 0; i < posters; ++i) conns.push_back(std::make_unique<HttpConn>(ex, s.endpoint(), s.host()));
  RunResult r;
  std::atomic<long> issued{0};
  auto t0 = Steady::now();
  auto end = t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.seconds));
  Steady::time_point last_ack = t0;
  int running = posters;
  net::steady_timer done(ex, Steady::time_point::max());
  for (auto& c : conns) {
    net::co_spawn(ex, poster_loop(*c, end, o.max_posts, next_id, issued, r, last_ack),
                  [&](std::exception_ptr) {
                    if (--running == 0) done.cancel();
                  });
  }
  beast::error_code ec;
  co_await done.async_wait(net::redirect_error(net::use_awaitable, ec));
  r.seconds = std::chrono::duration<double>(last_ack - t0).count();
  for (auto& c : conns) c->close();
  co_return r;
}

net::awaitable<void> throughput_phase(const Options& o) {
  const std::string P = "posting";
  ServerProc s;
  s.dir = g_tmp / "throughput";
  spawn_server(o, s);
  co_await await_listening(s);
  note("posting: " + s.listening_line);
  auto ex = co_await net::this_coro::executor;
  HttpConn ctl(ex, s.endpoint(), s.host());
  co_await room_status(ctl);

  ClientSet cs(o, s, o.reader_transport, o.readers, 0);
  add(P, "readers' transport", transport_name(o.reader_transport));
  cs.start();
  uint64_t reached = co_await await_waiting(o, cs, ctl, s, P);
  add(P, "readers asked for / waiting", fmt("%d / %" PRIu64, o.readers, reached));
  if (reached == 0 && o.readers > 0) throw std::runtime_error("no reader reached the waiting state");

  std::atomic<uint64_t> next_id{0};
  uint64_t acked_total = 0;
  std::vector<int> runs{o.posters};
  if (o.posters != 1) runs.push_back(1);
  std::vector<double> rates;
  for (int posters : runs) {
    note(fmt("posting: %d poster(s) for %.1f s", posters, o.seconds));
    const long ticks0 = cpu_ticks(s.pid);
    const CpuSample cpu0 = cpu_sample(s.pid);
    RunResult r = co_await posting_run(o, s, posters, next_id);
    const long ticks1 = cpu_ticks(s.pid);
    const CpuSample cpu1 = cpu_sample(s.pid);
    acked_total += r.acked;
    auto t_drain = Steady::now();
    bool all = co_await await_deliveries(o, cs.shared, acked_total);
    double drain_s = seconds_since(t_drain);
    auto ack = percentiles(r.ack_us);
    double rate = r.seconds > 0 ? static_cast<double>(r.acked) / r.seconds : 0;
    rates.push_back(rate);
    std::string who = fmt("%d poster%s", posters, posters == 1 ? "" : "s");
    add(P, who + ": posts acknowledged (refused) in time",
        fmt("%" PRIu64 " (%" PRIu64 ") in %.2f s", r.acked, r.refused, r.seconds));
    add(P, who + ": acknowledged posts per second", fmt("%.0f", rate));
    add(P, who + ": acknowledgement latency p50 / p99 / max",
        fmt("%.2f / %.2f / %.2f ms", ack.p50, ack.p99, ack.max));
    add(P, who + ": server CPU", fmt("%.2f s", (ticks1 - ticks0) / kTick));
    add(P, who + ": machine CPU", cpu_use(cpu0, cpu1));
    if (reached > 0)
      add(P, who + ": connected readers had every post",
          all ? fmt("yes, %.2f s after the last acknowledgement", drain_s)
              : fmt("NO: not within the drain time of %.0f s", o.drain));
    if (!r.error.empty()) add(P, who + ": poster error", r.error);
  }
  if (rates.size() == 2 && rates[1] > 0)
    add(P, fmt("posts per second, %d posters / 1 poster", o.posters), fmt("%.1f x", rates[0] / rates[1]));

  RoomStatus st_end = co_await room_status(ctl);
  cs.stop();
  auto lat = percentiles(cs.latencies());
  Tally t = cs.tally(acked_total);
  add(P, "delivery latency to readers p50 / p90 / p99 / max (both runs)", latency_cell(lat));
  add(P, "deliveries to readers received / expected (waiting readers x posts)",
      fmt("%" PRIu64 " / %" PRIu64, cs.shared.deliveries.load(), reached * acked_total));
  add(P, "missing at readers still connected / delivered twice", fmt("%" PRIu64 " / %" PRIu64, t.missing_alive, t.extra_alive));
  add(P, "missing at readers whose connection was lost",
      fmt("%" PRIu64 " (%" PRIu64 " readers lost)", t.missing_lost, t.lost));
  add(P, "reader empty replies / cid changes",
      fmt("%" PRIu64 " / %" PRIu64, cs.sum([](const Worker& w) { return w.empty_replies; }),
          cs.sum([](const Worker& w) { return w.cid_changes; })));
  add(P, "reconnections (the connection of a waiting reader failed)",
      std::to_string(cs.shared.reconnections.load()));
  add(P, "readers lost (before / after waiting)",
      fmt("%" PRIu64 " / %" PRIu64, cs.shared.setup_failed.load(), cs.shared.failed_later.load()));
  add(P, "client errors", cs.errors());
  add(P, "room post-sequence at the end", fmt("%" PRId64, st_end.sequence));
  ctl.close();
  std::string how = co_await stop_server(s);
  add(P, "server stop", how);
  std::string err = server_stderr(s);
  add(P, "server stderr", err.empty() ? "(empty)" : err);
}

// ---------------------------------------------------------------- main

net::awaitable<void> run_all(const Options& o) {
  if (o.fanout)
    for (Transport t : o.fanout_transports) co_await fanout_phase(o, t);
  if (o.throughput) co_await throughput_phase(o);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  if (::access(o.server.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "chaton_bench: no server at %s (use --server)\n", o.server.c_str());
    return 2;
  }

  // Every client holds one descriptor here, so take all the system allows.
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  long need = std::max(o.fanout ? o.clients : 0, o.throughput ? o.readers + o.posters : 0) + 64;
  if (static_cast<long>(rl.rlim_cur) < need)
    note(fmt("warning: open-file limit %ld is below the %ld descriptors this run needs",
             static_cast<long>(rl.rlim_cur), need));

  std::string tmpl = (fs::path(o.tmp) / "chaton-bench-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::fprintf(stderr, "chaton_bench: cannot create a directory under %s: %s\n", o.tmp.c_str(),
                 std::strerror(errno));
    return 2;
  }
  g_tmp = buf.data();
  g_keep = o.keep;

  utsname u{};
  ::uname(&u);
  add("setup", "machine", fmt("%u cores, Linux %s, loopback only", std::thread::hardware_concurrency(), u.release));
  add("setup", "open-file limit (this process and the server)", std::to_string(rl.rlim_cur));
  add("setup", "data directory filesystem", fs_type(g_tmp));
  add("setup", "server threads / load-program client threads",
      fmt("%s / %d", o.server_threads ? std::to_string(o.server_threads).c_str() : "one per core", o.threads));

  // Backstop for a stuck loop, then the ordinary deadline on the loop.
  std::signal(SIGALRM, on_alarm);
  ::alarm(static_cast<unsigned>(o.deadline) + 15);

  net::io_context ioc{1};
  net::steady_timer deadline(ioc, std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.deadline)));
  deadline.async_wait([&](beast::error_code ec) {
    if (!ec) abort_run(fmt("the deadline of %.0f s was reached", o.deadline));
  });
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code ec, int sig) {
    if (!ec) abort_run(fmt("signal %d", sig));
  });

  int code = 0;
  auto t0 = Steady::now();
  net::co_spawn(ioc, run_all(o), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        abort_run(x.what());
      }
    }
    deadline.cancel();
    signals.cancel();
  });
  ioc.run();
  add("setup", "whole run", fmt("%.1f s", seconds_since(t0)));
  kill_server_now();  // normally already stopped
  print_report();
  remove_tmp();
  return code;
}
