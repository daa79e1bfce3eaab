// The server's diagnostics logger: see log.h.
#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "util/civil_time.h"

namespace chaton {

namespace {

std::atomic<LogLevel> g_level{LogLevel::info};

// The sink and the mutex that keeps lines whole.
struct Output {
  std::mutex mu;
  LogSink sink;
};

Output& output() {
  static Output* out = new Output;  // never destroyed: logging stays possible during exit
  return *out;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "error";
}

}  // namespace

std::string format_log_line(LogLevel level, std::chrono::system_clock::time_point when,
                            std::string_view message) {
  using namespace std::chrono;
  const int64_t ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  const int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const DateTime t = utc_from_seconds(sec);
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.date.year, t.date.month,
                t.date.day, t.hour, t.minute, t.second, static_cast<int>(ms - sec * 1000));
  std::string line = stamp;
  line += " chaton: ";
  line += level_name(level);
  line += ": ";
  for (char c : message) line += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  line += '\n';
  return line;
}

void log_message(LogLevel level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = format_log_line(level, std::chrono::system_clock::now(), message);
  Output& out = output();
  std::lock_guard lock(out.mu);
  if (out.sink) {
    out.sink(line);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void set_log_level(LogLevel minimum) { g_level.store(minimum, std::memory_order_relaxed); }

LogSink set_log_sink(LogSink sink) {
  Output& out = output();
  std::lock_guard lock(out.mu);
  std::swap(out.sink, sink);
  return sink;
}

}  // namespace chaton
