#include "proc_stats.h"

#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace chaton::bench {

namespace {

long rss_kb(pid_t pid) {
  auto s = slurp(fmt("/proc/%d/status", static_cast<int>(pid)));
  if (!s) return -1;
  auto at = s->find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::strtol(s->c_str() + at + 6, nullptr, 10);
}

// utime and stime of a process, in clock ticks; false if unreadable.
bool cpu_times(pid_t pid, long& utime, long& stime) {
  auto s = slurp(fmt("/proc/%d/stat", static_cast<int>(pid)));
  if (!s) return false;
  auto close = s->rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s->substr(close + 2));
  std::string field;
  utime = stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14, 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::strtol(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtol(field.c_str(), nullptr, 10);
  }
  return true;
}

long cpu_ticks(pid_t pid) {
  long u, k;
  return cpu_times(pid, u, k) ? u + k : -1;
}

long kernel_ticks(pid_t pid) {
  long u, k;
  return cpu_times(pid, u, k) ? k : -1;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (fs::directory_iterator it(fmt("/proc/%d/fd", static_cast<int>(pid)), ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

// The sum of f over the processes, or -1 if f fails for one.
template <class F>
long sum_over(const std::vector<pid_t>& pids, F f) {
  long total = 0;
  for (pid_t p : pids) {
    long v = f(p);
    if (v < 0) return -1;
    total += v;
  }
  return total;
}

}  // namespace

long rss_kb(const std::vector<pid_t>& pids) {
  return sum_over(pids, [](pid_t p) { return rss_kb(p); });
}
long cpu_ticks(const std::vector<pid_t>& pids) {
  return sum_over(pids, [](pid_t p) { return cpu_ticks(p); });
}
long kernel_ticks(const std::vector<pid_t>& pids) {
  return sum_over(pids, [](pid_t p) { return kernel_ticks(p); });
}
long open_fds(const std::vector<pid_t>& pids) {
  return sum_over(pids, [](pid_t p) { return open_fds(p); });
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

CpuSample cpu_sample(const std::vector<pid_t>& server) {
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
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    default:
      return fmt("0x%lx", static_cast<unsigned long>(s.f_type));
  }
}

}  // namespace chaton::bench
