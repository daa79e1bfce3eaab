// What /proc says about a process and the machine: resident memory, CPU
// time, open descriptors, the CPU use of an interval, and the type of the
// filesystem the data directory is on.
// Thread-safety: any thread.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.h"

namespace chaton::bench {

// VmRSS of processes (summed), in kB; -1 if one is unreadable.
long rss_kb(const std::vector<pid_t>& pids);
// utime + stime of processes (summed), in clock ticks; -1 if one is unreadable.
long cpu_ticks(const std::vector<pid_t>& pids);
// stime alone: the CPU the kernel spent for them (system calls, and the
// network processing charged to them: on loopback, a send also runs the
// receiving end's TCP input).
long kernel_ticks(const std::vector<pid_t>& pids);
long open_fds(const std::vector<pid_t>& pids);
double self_cpu_seconds();

inline const double kTick = static_cast<double>(::sysconf(_SC_CLK_TCK));

// CPU use of the machine, of the server and of this program over an
// interval: the other processes on the machine distort every figure, so the
// report says how busy they kept it.
struct CpuSample {
  long sys_busy = 0, sys_total = 0;  // /proc/stat "cpu" line, ticks (all cores)
  long server = 0;                   // server utime + stime, ticks
  double self = 0;                   // this program, seconds
  Steady::time_point at;
};

CpuSample cpu_sample(const std::vector<pid_t>& server);
// "busy 1.95 of 2 cores: server 0.80, load program 0.60, other processes 0.55"
std::string cpu_use(const CpuSample& a, const CpuSample& b);
std::string fs_type(const fs::path& p);

}  // namespace chaton::bench
