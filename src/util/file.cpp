// read_file: see file.h.
#include "util/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chaton {

namespace {

constexpr size_t kReadChunk = 1 << 16;

Status failure(const char* what, const std::filesystem::path& path, int err) {
  return Status(err == ENOENT ? Errc::not_found : Errc::io,
                std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, ReadOptions options) {
  int flags = O_RDONLY | O_CLOEXEC | (options.no_wait ? O_NONBLOCK : 0);
  int fd;
  do fd = ::open(path.c_str(), flags);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return failure("cannot open", path, errno);
  std::string content;
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return failure("cannot read", path, err);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > options.max_bytes) {
      ::close(fd);
      return Status(Errc::too_large,
                    path.string() + ": larger than " + std::to_string(options.max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return content;
}

}  // namespace chaton
