// chaton_bench: a load program for Chaton's comet long-poll and posting paths.
//
// It starts a chaton server of its own (one per phase, each with a fresh data
// directory under a temporary directory and a generated configuration that
// listens on 127.0.0.1 with a port chosen by the system), then:
//
//   1. fan-out    N long-poll clients wait on /lobby/comet (JSON format); once
//                 all wait, M posts are sent one at a time at a fixed pace and
//                 every client records, for every post it receives, the time
//                 from just before the post was written to the socket to just
//                 after the reply carrying it was parsed. Each post's text
//                 carries its send time (steady clock, ns), so a client needs
//                 no shared table to compute it.
//   2. throughput R long-poll readers wait; P posters post back to back for T
//                 seconds (or K posts), then 1 poster does the same. Every
//                 acknowledgement means the post was fdatasync()ed.
//
// and prints a Markdown table. The server's memory and CPU time come from
// /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime + stime); the
// machine's from /proc/stat, so the table also says how much CPU other
// processes took during each measurement.
//
// A waiting client whose connection fails (the server closed it, say)
// reconnects at once and resumes with its cid and pos, as the browser client
// does after a pause; such reconnections are counted and reported, and with
// --no-reconnect the client stays lost and its missing posts are counted.
//
// Only loopback addresses are used: the server listens on 127.0.0.1, clients
// connect from 127.0.0.2 and up (bound before connect) so that no single
// source address runs short of ephemeral ports.
//
// Every run is bounded: a global deadline (--deadline, default 120 s) stops
// the run, kills the server and removes the temporary directory; an alarm()
// a little later is the last resort should the event loop be stuck. The
// server is started with PR_SET_PDEATHSIG so it cannot outlive this process.
//
// Threads: the orchestration (server control, status polls, posters) runs on
// the main thread's io_context; the long-poll clients run on --threads worker
// io_contexts (1 by default), each client staying on one worker, so a
// client's state needs no lock. Counters the orchestrator watches are atomics;
// everything else is read after the workers are joined.
//
// Requests are written by hand (they are fixed strings); responses are parsed
// with Beast's http::response_parser and bodies with Boost.JSON.

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
#include <boost/json.hpp>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------- options

struct Options {
  std::string server;        // path of the chaton binary
  int clients = 10000;       // N, fan-out clients
  int posts = 100;           // M, fan-out posts
  int interval_ms = 50;      // pace of the fan-out posts
  int readers = 1000;        // R, readers during the throughput phase
  int posters = 32;          // P, concurrent posters
  double seconds = 5;        // T, length of each throughput run
  long max_posts = 0;        // K, posts per throughput run (0: no limit)
  double deadline = 120;     // whole run
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
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: chaton_bench [options]\n"
               "  --server PATH        chaton binary (default: chaton next to this program)\n"
               "  --clients N          fan-out: waiting long-poll clients (10000)\n"
               "  --posts M            fan-out: posts sent to them (100)\n"
               "  --interval-ms MS     fan-out: pause between posts (50)\n"
               "  --readers R          throughput: waiting readers, 0 for none (1000)\n"
               "  --posters P          throughput: concurrent posters (32)\n"
               "  --seconds T          throughput: length of each run (5)\n"
               "  --max-posts K        throughput: posts per run, 0 = no limit (0)\n"
               "  --deadline S         abort the whole run after S seconds (120)\n"
               "  --setup-timeout S    time allowed for clients to start waiting (60)\n"
               "  --drain S            time allowed for deliveries after the last post (15)\n"
               "  --threads N          client worker threads, 1 or 2 (1)\n"
               "  --per-source N       clients per source address 127.0.0.x (5000)\n"
               "  --window N           connections being set up at once, per thread (256)\n"
               "  --server-threads N   the server's [site] threads, 0 = one per core (0)\n"
               "  --tmp DIR            where the temporary directory goes ($TMPDIR or /tmp)\n"
               "  --keep               keep the temporary directory (data, logs, config)\n"
               "  --no-reconnect       a waiting client whose connection fails stays lost\n"
               "                       (default: it reconnects at once with its cid and pos)\n"
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
    else if (a == "--clients") o.clients = static_cast<int>(number(1, 250000));
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

struct Row {
  std::string phase, figure, value;
};
std::vector<Row> g_rows;  // main thread only
std::vector<std::string> g_notes;

void add(std::string phase, std::string figure, std::string value) {
  g_rows.push_back({std::move(phase), std::move(figure), std::move(value)});
}

void print_report() {
  std::printf("| Phase | Figure | Value |\n|---|---|---|\n");
  for (const auto& r : g_rows)
    std::printf("| %s | %s | %s |\n", r.phase.c_str(), r.figure.c_str(), r.value.c_str());
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

// ---------------------------------------------------------------- long-poll clients

// What a phase's clients share with the orchestrator.
struct Shared {
  tcp::endpoint server;
  std::string host;
  // Fan-out only: M, and a byte per (client, post) to find duplicates.
  int matrix_posts = 0;
  std::vector<uint8_t> seen;

  std::atomic<uint64_t> waiting{0};           // clients that sent their first waiting request
  std::atomic<uint64_t> setup_failed{0};      // clients lost before they waited
  std::atomic<uint64_t> failed_later{0};      // clients lost after they waited
  std::atomic<uint64_t> deliveries{0};        // (client, post) pairs received
  std::atomic<uint64_t> lost_deliveries{0};   // of which to clients lost since
  std::atomic<int64_t> last_delivery_ns{0};
  std::atomic<bool> stopping{false};
};

// After stop(): deliveries missing at clients still connected, and posts
// delivered twice, given that each should have had `per_client` posts.
struct Tally {
  uint64_t alive = 0, lost = 0;
  uint64_t missing_alive = 0, extra_alive = 0;
  uint64_t missing_lost = 0;  // what lost clients did not get before they were lost
};

class Worker;

class Poller {
 public:
  Poller(Worker& w, uint32_t index, net::ip::address_v4 source);
  void start();
  void close();
  uint64_t received() const { return received_; }
  bool lost() const { return lost_; }
  bool waited() const { return waiting_; }

 private:
  void on_connect(beast::error_code ec);
  void send();
  void on_write(beast::error_code ec);
  void read();
  void on_read(beast::error_code ec);
  void fail(const std::string& what);

  Worker& w_;
  uint32_t index_;
  net::ip::address_v4 source_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string req_;
  int64_t cid_ = 0;
  uint64_t pos_ = 0;
  uint64_t requests_ = 0;
  uint64_t received_ = 0;
  bool have_cid_ = false;
  bool waiting_ = false;  // its first waiting request went out
  bool dead_ = false;
  bool lost_ = false;     // the connection failed while the run went on
  int reconnects_ = 0;
  uint32_t gen_ = 0;      // connection number: callbacks of an old one are ignored
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
    while (in_setup_ < window_ && next_ < pollers.size() && !shared.stopping) {
      ++in_setup_;
      pollers[next_++]->start();
    }
  }
  void setup_done() {
    --in_setup_;
    start_more();
  }
  // Closes every connection and ends the thread.
  void stop() {
    net::post(ioc, [this] {
      for (auto& p : pollers) p->close();
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
  std::vector<std::unique_ptr<Poller>> pollers;  // destroyed before ioc
  std::vector<uint32_t> latencies_us;
  std::vector<uint32_t> per_post_max;  // fan-out: slowest delivery of each post, µs
  std::map<std::string, uint64_t> errors;
  uint64_t empty_replies = 0;  // replies with no posts after the first
  uint64_t cid_changes = 0;    // replies naming another cid than the client's
  uint64_t duplicates = 0;
  uint64_t foreign_items = 0;  // posts in content that this run did not send
  uint64_t replies = 0;
  uint64_t reconnections = 0;
  int max_reconnects = 0;

 private:
  int window_;
  size_t next_ = 0;
  int in_setup_ = 0;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

Poller::Poller(Worker& w, uint32_t index, net::ip::address_v4 source)
    : w_(w), index_(index), source_(source), sock_(w.ioc) {}

void Poller::start() {
  beast::error_code ec;
  sock_.open(tcp::v4(), ec);
  if (ec) return fail("socket: " + ec.message());
  int one = 1;  // let connect() pick the port for the 4-tuple, not bind()
  ::setsockopt(sock_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sock_.bind(tcp::endpoint(source_, 0), ec);
  if (ec) return fail("bind " + source_.to_string() + ": " + ec.message());
  sock_.async_connect(w_.shared.server, [this, g = gen_](beast::error_code e) {
    if (g == gen_) on_connect(e);
  });
}

void Poller::close() {
  dead_ = true;
  beast::error_code ec;
  sock_.close(ec);
}

void Poller::on_connect(beast::error_code ec) {
  if (dead_) return;
  if (ec) return fail("connect: " + ec.message());
  sock_.set_option(tcp::no_delay(true), ec);
  send();
}

void Poller::send() {
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
  net::async_write(sock_, net::buffer(req_), [this, g = gen_](beast::error_code e, size_t) {
    if (g == gen_) on_write(e);
  });
}

void Poller::on_write(beast::error_code ec) {
  if (dead_) return;
  if (ec) return fail("write: " + ec.message());
  if (have_cid_ && !waiting_) {
    waiting_ = true;
    w_.shared.waiting.fetch_add(1, std::memory_order_relaxed);
    w_.setup_done();
  }
  read();
}

void Poller::read() {
  parser_.emplace();
  parser_->body_limit(64u << 20);
  http::async_read(sock_, buf_, *parser_, [this, g = gen_](beast::error_code e, size_t) {
    if (g == gen_) on_read(e);
  });
}

void Poller::on_read(beast::error_code ec) {
  if (dead_) return;
  if (ec) return fail("read: " + ec.message());
  int64_t now = now_ns();
  const Response& res = parser_->get();
  if (res.result() != http::status::ok) return fail(fmt("comet: HTTP %u", res.result_int()));
  ++w_.replies;
  try {
    json::value v = json::parse(res.body());
    const json::object& o = v.as_object();
    int64_t cid = o.at("cid").to_number<int64_t>();
    auto pos = o.at("pos").to_number<uint64_t>();
    const json::array& content = o.at("content").as_array();
    if (cid <= 0) return fail("comet: cid " + std::to_string(cid));
    if (have_cid_ && cid != cid_) ++w_.cid_changes;
    if (have_cid_ && content.empty()) ++w_.empty_replies;
    cid_ = cid;
    pos_ = pos;
    for (const json::value& item : content) {
      const json::array& a = item.as_array();
      const json::string& text = a.at(2).as_string();
      ++received_;
      w_.on_post_item(index_, std::string_view(text.data(), text.size()), now);
    }
    have_cid_ = true;
  } catch (const std::exception& e) {
    return fail(std::string("comet reply not understood: ") + e.what());
  }
  if (!res.keep_alive()) return fail("comet: server closed the connection");
  send();
}

void Poller::fail(const std::string& what) {
  if (dead_) return;
  if (w_.shared.stopping) return close();
  w_.record_error(what);
  if (waiting_ && reconnects_ < w_.max_reconnects) {
    // As the browser client does (without its 5-15 s pause): a new
    // connection, the same cid and pos, so no post should be missed.
    ++reconnects_;
    ++w_.reconnections;
    ++gen_;
    beast::error_code ec;
    sock_.close(ec);
    buf_.clear();
    return start();
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

// A phase's clients, spread over worker threads and source addresses.
struct ClientSet {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  int total = 0;

  ClientSet(const Options& o, const ServerProc& s, int n, int matrix_posts) : total(n) {
    shared.server = s.endpoint();
    shared.host = s.host();
    shared.matrix_posts = matrix_posts;
    if (matrix_posts > 0) shared.seen.assign(static_cast<size_t>(n) * matrix_posts, 0);
    int sources = (n + o.per_source - 1) / o.per_source;
    if (sources > 253) throw std::runtime_error("too many clients for 127.0.0.2..127.0.0.254");
    for (int t = 0; t < o.threads; ++t) {
      workers.push_back(std::make_unique<Worker>(shared, o.window));
      workers.back()->max_reconnects = o.reconnect ? 1000 : 0;
    }
    for (int i = 0; i < n; ++i) {
      auto src = net::ip::address_v4(0x7F000002u + static_cast<uint32_t>(i / o.per_source));
      Worker& w = *workers[static_cast<size_t>(i) % workers.size()];
      w.pollers.push_back(std::make_unique<Poller>(w, static_cast<uint32_t>(i), src));
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
      for (auto& p : w->pollers) {
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
      // A lost client's cid stays counted until client_timeout expires it.
      if (st.num_chatters >= static_cast<int64_t>(alive) &&
          st.num_chatters <= static_cast<int64_t>(waiting) && idle) {
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

net::awaitable<void> fanout_phase(const Options& o) {
  const std::string P = "fan-out";
  ServerProc s;
  s.dir = g_tmp / "fanout";
  spawn_server(o, s);
  co_await await_listening(s);
  note("fan-out: " + s.listening_line);
  auto ex = co_await net::this_coro::executor;
  HttpConn ctl(ex, s.endpoint(), s.host());
  co_await room_status(ctl);
  co_await sleep_for(500ms);
  long rss_base = rss_kb(s.pid);
  long fds_base = open_fds(s.pid);

  ClientSet cs(o, s, o.clients, o.posts);
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
  note(fmt("fan-out: %" PRIu64 " clients waiting after %.1f s; server RSS %ld kB (was %ld kB)", reached,
           setup_s, rss_wait, rss_base));

  add(P, "clients asked for / waiting", fmt("%d / %" PRIu64, o.clients, reached));
  add(P, "source addresses", fmt("127.0.0.2 .. 127.0.0.%d", 1 + cs.sources(o)));
  add(P, "time to get all clients waiting", fmt("%.2f s", setup_s));
  add(P, "server CPU while they connected", fmt("%.2f s", (ticks_setup1 - ticks_setup0) / kTick));
  add(P, "machine CPU while they connected", cpu_use(cpu_setup0, cpu_setup1));
  add(P, "server open fds, idle / all waiting", fmt("%ld / %ld", fds_base, fds_wait));
  add(P, "server RSS, idle / all waiting", fmt("%ld kB / %ld kB", rss_base, rss_wait));
  if (reached > 0)
    add(P, "server RSS per waiting client",
        fmt("%.2f kB", static_cast<double>(rss_wait - rss_base) / static_cast<double>(reached)));
  if (reached == 0) throw std::runtime_error("no client reached the waiting state");

  // Post M messages one at a time, at a fixed pace.
  const long ticks0 = cpu_ticks(s.pid);
  const double self0 = self_cpu_seconds();
  const CpuSample cpu0 = cpu_sample(s.pid);
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

  add(P, "posts sent (interval)", fmt("%d (%d ms); %" PRIu64 " refused", o.posts, o.interval_ms, post_errors));
  Tally t = cs.tally(per_client);
  add(P, "deliveries received / expected (N x M)", fmt("%" PRIu64 " / %" PRIu64, delivered, expected));
  add(P, "missing at clients still connected",
      fmt("%" PRIu64 "%s", t.missing_alive, all ? "" : fmt(" (drain of %.0f s ran out)", o.drain).c_str()));
  add(P, "missing at clients whose connection was lost",
      fmt("%" PRIu64 " (%" PRIu64 " clients lost)", t.missing_lost, t.lost));
  add(P, "duplicate deliveries", std::to_string(cs.sum([](const Worker& w) { return w.duplicates; })));
  add(P, "delivery latency p50 / p90 / p99 / max", latency_cell(lat));
  add(P, "delivery latency mean", ms(lat.mean));
  add(P, "time for a post to reach every client, median / max over posts",
      fmt("%.2f / %.2f ms", reach_all.p50, reach_all.max));
  add(P, "deliveries per second (first post sent .. last delivery)",
      fmt("%.0f", delivery_window_s > 0 ? static_cast<double>(delivered) / delivery_window_s : 0.0));
  add(P, "post acknowledgement p50 / p99 / max", fmt("%.2f / %.2f / %.2f ms", ack.p50, ack.p99, ack.max));
  add(P, "comet replies received", std::to_string(cs.sum([](const Worker& w) { return w.replies; })));
  add(P, "empty replies (pings) / cid changes",
      fmt("%" PRIu64 " / %" PRIu64, cs.sum([](const Worker& w) { return w.empty_replies; }),
          cs.sum([](const Worker& w) { return w.cid_changes; })));
  add(P, "reconnections (the connection of a waiting client failed)",
      std::to_string(cs.sum([](const Worker& w) { return w.reconnections; })));
  add(P, "clients lost (before / after waiting)",
      fmt("%" PRIu64 " / %" PRIu64, cs.shared.setup_failed.load(), cs.shared.failed_later.load()));
  add(P, "client errors", cs.errors());
  add(P, "server CPU for the posting phase (posts + deliveries)",
      fmt("%.2f s in %.2f s (posting took %.2f s)", (ticks1 - ticks0) / kTick, phase_wall, posting_s));
  if (delivered > 0)
    add(P, "server CPU per delivery", fmt("%.1f µs", (ticks1 - ticks0) / kTick * 1e6 / static_cast<double>(delivered)));
  add(P, "load program CPU for the posting phase", fmt("%.2f s", self1 - self0));
  add(P, "machine CPU during the posting phase", cpu_use(cpu0, cpu1));
  add(P, "server RSS after the posts", fmt("%ld kB", rss_after));
  add(P, "room num-chatters / post-sequence at the end",
      fmt("%" PRId64 " / %" PRId64, st_end.num_chatters, st_end.sequence));

  ctl.close();
  std::string how = co_await stop_server(s);
  add(P, "server stop", how);
  std::string err = server_stderr(s);
  add(P, "server stderr", err.empty() ? "(empty)" : err);
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

  ClientSet cs(o, s, o.readers, 0);
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
      std::to_string(cs.sum([](const Worker& w) { return w.reconnections; })));
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
  if (o.fanout) co_await fanout_phase(o);
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
