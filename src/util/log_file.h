// LogFile: an append-only log in DATADIR/logs/ (comet.log, post.log, api.log,
// archive.log, moderation.log), or lines sent to standard error.
//
// write() only appends a line to an in-memory buffer; flush() writes the
// buffer out with one write(). The server flushes every second, so logging
// never puts disk I/O on a request's path. Lines are stamped
// "YYYY/MM/DD HH:MM:SS UTC " by the caller's clock.
//
// Thread-safety: write() and flush() from any thread.
// Lifetime: the Clock must outlive the LogFile; the destructor flushes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "util/clock.h"

namespace chaton {

inline constexpr size_t kLogBufferFlushBytes = 256 * 1024;  // flush early past this

class LogFile {
 public:
  LogFile(std::filesystem::path path, const Clock& clock);
  // Lines go to `fd` (standard error, which journald collects), each with
  // `label` after its stamp; the descriptor is neither opened nor closed
  // here, and reopen() leaves it.
  LogFile(int fd, std::string label, const Clock& clock);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  void write(std::string_view line);
  // One line made of `parts`, appended as they are (no string is built for
  // it first).
  void write(std::initializer_list<std::string_view> parts);
  void flush();
  // Writes out what is buffered to the file open now, closes it, and opens
  // the path again at the next flush: after logrotate renamed the file
  // (SIGUSR1, docs/DEPLOY.md "Logs"), the next lines go to a new file.
  void reopen();
  const std::filesystem::path& path() const { return path_; }

 private:
  void flush_locked();

  std::filesystem::path path_;  // empty: lines go to fd_, which is not ours
  std::string label_;
  const Clock& clock_;
  std::mutex mu_;
  std::string buffer_;
  // The stamp of the second last written, reused while it lasts.
  int64_t stamp_sec_ = -1;
  std::string stamp_;
  int fd_ = -1;
  bool reported_ = false;
};

}  // namespace chaton
