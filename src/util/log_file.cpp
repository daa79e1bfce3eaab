// LogFile: see log_file.h.
#include "util/log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/civil_time.h"
#include "util/log.h"

namespace chaton {

LogFile::LogFile(std::filesystem::path path, const Clock& clock) : path_(std::move(path)), clock_(clock) {}

LogFile::LogFile(int fd, std::string label, const Clock& clock)
    : label_(std::move(label)), clock_(clock), fd_(fd) {}

LogFile::~LogFile() {
  flush();
  if (fd_ >= 0 && !path_.empty()) ::close(fd_);
}

void LogFile::reopen() {
  std::lock_guard lock(mu_);
  flush_locked();
  if (path_.empty()) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  reported_ = false;  // a failure to write the new file is said again
}

void LogFile::write(std::string_view line) { write({line}); }

void LogFile::write(std::initializer_list<std::string_view> parts) {
  int64_t sec = to_stamp(clock_.now()).sec;
  std::lock_guard lock(mu_);
  if (sec != stamp_sec_) {
    stamp_ = format_timestamp(sec);
    stamp_sec_ = sec;
  }
  buffer_ += stamp_;
  buffer_ += ' ';
  buffer_ += label_;
  for (std::string_view part : parts) buffer_ += part;
  buffer_ += '\n';
  if (buffer_.size() >= kLogBufferFlushBytes) flush_locked();
}

void LogFile::flush() {
  std::lock_guard lock(mu_);
  flush_locked();
}

void LogFile::flush_locked() {
  if (buffer_.empty()) return;
  if (fd_ < 0 && !path_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  }
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (fd_ >= 0 && left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (left > 0 && !reported_) {  // say it once; logs are not worth failing for
    log_error("cannot write log " + (path_.empty() ? label_ : path_.string()) + ": " + std::strerror(errno));
    reported_ = true;
  }
  buffer_.clear();
}

}  // namespace chaton
