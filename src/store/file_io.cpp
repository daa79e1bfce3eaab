// File helpers shared by the store's pieces: see file_io.h.
#include "store/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "util/text.h"

namespace chaton::fileio {

namespace {

// A name for a temporary file beside `path`, unique in this process and
// among processes.
fs::path temp_beside(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / ("." + path.filename().string() + "." + std::to_string(::getpid()) + "." +
                               std::to_string(counter.fetch_add(1)) + ".tmp");
}

// Exclusive OFD lock over the whole file, waiting for it.
bool lock_exclusive(int fd) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  int rc;
  do rc = ::fcntl(fd, F_OFD_SETLKW, &fl);
  while (rc != 0 && errno == EINTR);
  return rc == 0;
}

void unlock(int fd) {
  struct flock fl {};
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  ::fcntl(fd, F_OFD_SETLK, &fl);
}

}  // namespace

std::string errno_text(int err) { return std::strerror(err); }

std::string io_message(const std::string& what, const fs::path& path, int err) {
  return what + " " + path.string() + ": " + errno_text(err);
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int open_retry(const fs::path& path, int flags, mode_t mode) {
  int fd;
  do fd = ::open(path.c_str(), flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

bool write_all(int fd, std::string_view buf) {
  while (!buf.empty()) {
    ssize_t n = ::write(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    buf.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<int64_t> parse_number(std::string_view content) {
  auto v = parse_int(trim(content));
  if (!v || *v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> read_number_file(const fs::path& path) {
  auto content = read_file(path);
  return content ? parse_number(*content) : std::nullopt;
}

Status replace_file(const fs::path& path, std::string_view content, Sync sync, mode_t mode) {
  fs::path tmp = temp_beside(path);
  Fd fd(open_retry(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return Status(Errc::io, io_message("cannot create", tmp, errno));
  bool ok = write_all(fd.get(), content) && (sync == Sync::no || ::fsync(fd.get()) == 0);
  if (!ok) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(Errc::io, io_message("cannot write", tmp, err));
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(Errc::io, io_message("cannot rename over", path, err));
  }
  if (sync == Sync::yes) return sync_directory(path.parent_path());
  return Status::ok();
}

Status overwrite_file(const fs::path& path, std::string_view content, mode_t mode) {
  // Only a plain file of its own is written over: a symbolic link, a file
  // with other names (a backup made with hard links) or one this process
  // may not open for writing is replaced as before, by rename.
  Fd fd(open_retry(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    fd.reset();
    return replace_file(path, content, Sync::no, mode);
  }
  if (!write_all(fd.get(), content)) return Status(Errc::io, io_message("cannot write", path, errno));
  if (::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0)
    return Status(Errc::io, io_message("cannot cut to length", path, errno));
  return Status::ok();
}

Status sync_directory(const fs::path& dir) {
  Fd fd(open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return Status(Errc::io, io_message("cannot sync", dir, errno));
  return Status::ok();
}

bool lacks_final_newline(int fd, off_t size) {
  if (size == 0) return false;
  char last = '\n';
  ssize_t n;
  do n = ::pread(fd, &last, 1, size - 1);
  while (n < 0 && errno == EINTR);
  return n == 1 && last != '\n';
}

Status open_lock_file(const fs::path& lock_path, Fd& out) {
  Fd created(open_retry(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC));
  if (created.valid()) {
    if (!write_all(created.get(), kLockContent))
      return Status(Errc::io, io_message("cannot write", lock_path, errno));
  } else if (errno != EEXIST) {
    return Status(Errc::io, io_message("cannot create", lock_path, errno));
  }
  out.reset(open_retry(lock_path, O_RDWR | O_CLOEXEC));
  if (!out.valid()) return Status(Errc::io, io_message("cannot open", lock_path, errno));
  return Status::ok();
}

LockGuard::LockGuard(int fd) : fd_(fd), locked_(lock_exclusive(fd)) {}

LockGuard::~LockGuard() {
  if (locked_) unlock(fd_);
}

std::optional<uint64_t> read_current_base(const fs::path& base_path, const fs::path& current_path) {
  struct stat st {};
  if (::stat(current_path.c_str(), &st) != 0) return std::nullopt;
  auto content = read_file(base_path);
  if (!content) return std::nullopt;
  unsigned long long dev = 0, ino = 0, base = 0;
  if (std::sscanf(content->c_str(), "%llu:%llu %llu", &dev, &ino, &base) != 3) return std::nullopt;
  if (dev != static_cast<unsigned long long>(st.st_dev) || ino != static_cast<unsigned long long>(st.st_ino))
    return std::nullopt;
  return static_cast<uint64_t>(base);
}

Status write_current_base(const fs::path& base_path, const fs::path& current_path, uint64_t base, Sync sync) {
  struct stat st {};
  if (::stat(current_path.c_str(), &st) != 0)
    return Status(Errc::io, io_message("cannot stat", current_path, errno));
  std::string text = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                     std::to_string(static_cast<unsigned long long>(st.st_ino)) + " " + std::to_string(base);
  if (auto existing = read_file(base_path); existing && *existing == text)
    return Status::ok();  // already says so
  return replace_file(base_path, text, sync);
}

LiveNumbering live_numbering(const fs::path& data_dir, uint64_t posts, std::vector<std::string>* warnings) {
  const fs::path sequence_path = data_dir / kSequenceName;
  auto warn = [&](std::string text) {
    if (warnings) warnings->push_back(std::move(text));
  };
  auto content = read_file(sequence_path);
  bool missing = !content && content.status().code() == Errc::not_found;
  auto value = content ? parse_number(*content) : std::nullopt;
  uint64_t sequence = posts;
  if (!value) {
    if (!missing || posts > 0)
      warn(sequence_path.string() + (missing ? " is missing" : " is unreadable") +
           "; using the number of posts in current.dat (" + std::to_string(posts) + ")");
  } else if (static_cast<uint64_t>(*value) < posts) {
    warn(sequence_path.string() + " says " + std::to_string(*value) +
         ", fewer than the posts in current.dat; using " + std::to_string(posts));
  } else {
    sequence = static_cast<uint64_t>(*value);
  }
  LiveNumbering n;
  auto base = read_current_base(data_dir / kBaseName, data_dir / kCurrentName);
  if (base && *base + posts >= sequence) {
    n.base = *base;
    n.sequence = *base + posts;
    n.base_recorded = true;
  } else {
    n.base = sequence - posts;
    n.sequence = sequence;
  }
  return n;
}

fs::path day_file(const fs::path& data_dir, Date day) { return data_dir / (format_date_path(day) + ".dat"); }

fs::path count_file(const fs::path& data_dir, Date day) {
  return data_dir / (format_date_path(day) + ".cnt");
}

Entry entry_kind(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Entry::missing : Entry::error;
  if (S_ISLNK(st.st_mode)) return Entry::symlink;
  if (S_ISREG(st.st_mode)) return Entry::regular;
  return Entry::other;
}

std::string link_target(const fs::path& path) {
  std::error_code ec;
  fs::path target = fs::read_symlink(path, ec);
  return ec ? std::string() : target.string();
}

Status make_symlink(const fs::path& path, std::string_view target) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status(Errc::io, "cannot create " + path.parent_path().string() + ": " + ec.message());
  fs::path tmp = temp_beside(path);
  if (::symlink(std::string(target).c_str(), tmp.c_str()) != 0)
    return Status(Errc::io, io_message("cannot create the link", tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(Errc::io, io_message("cannot rename over", path, err));
  }
  return Status::ok();
}

Date day_of(int64_t sec) { return utc_from_seconds(sec).date; }

}  // namespace chaton::fileio
