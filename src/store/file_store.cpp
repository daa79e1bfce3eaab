// FileStore: a room's posts in the original Chaton layout (docs/STORAGE.md).
//
// Durability design. current.dat is the only record of a post; `sequence`
// and `last-post` are bookkeeping that can be rebuilt from it. A batch of
// posts is written with one write() (looping on partial writes) to
// current.dat opened O_APPEND, then fdatasync()ed; only then does append()
// return success, so an acknowledged post survives a crash or power loss.
// If any step fails the file is truncated back to its size before the
// batch, so a batch is stored whole or not at all. `sequence` and
// `last-post` are replaced afterwards by writing a temporary file and
// renaming it over (atomic, no fsync: the page cache survives a process
// kill, and after a power loss open() never lets the sequence fall below
// the number of posts in current.dat).
//
// Everything that writes happens under an exclusive open-file-description
// lock on DATADIR/lock; such locks also conflict with the classic POSIX
// locks the original scripts take, so they can keep running beside us.
// A line torn by a crash mid-write is completed with a newline, under the
// lock, so the next post starts on a line of its own.
#include "store/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "messages/line_codec.h"
#include "util/text.h"

namespace chaton {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLockContent = "lockfile\n";
constexpr mode_t kFileMode = 0644;
constexpr size_t kReadChunk = 1 << 16;

std::string errno_text(int err) { return std::strerror(err); }

std::string io_message(const std::string& what, const fs::path& path, int err) {
  return what + " " + path.string() + ": " + errno_text(err);
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

int open_retry(const fs::path& path, int flags, mode_t mode = kFileMode) {
  int fd;
  do fd = ::open(path.c_str(), flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all of buf; false with errno set on failure.
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

// Reads a whole file. nullopt with errno set on failure (ENOENT when missing).
std::optional<std::string> read_file(const fs::path& path) {
  Fd fd(open_retry(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string content;
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) return content;
    content.append(buf, static_cast<size_t>(n));
  }
}

// A small file holding one non-negative decimal number (sequence, last-post).
std::optional<int64_t> parse_number(std::string_view content) {
  auto v = parse_int(trim(content));
  if (!v || *v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> read_number_file(const fs::path& path) {
  auto content = read_file(path);
  return content ? parse_number(*content) : std::nullopt;
}

// Replaces a file's content atomically: a temporary file in the same
// directory, renamed over. Returns an error message, empty on success.
std::string replace_file(const fs::path& path, std::string_view content) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + "." +
                                       std::to_string(::getpid()) + "." +
                                       std::to_string(counter.fetch_add(1)) + ".tmp");
  Fd fd(open_retry(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return io_message("cannot create", tmp, errno);
  if (!write_all(fd.get(), content)) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_message("cannot write", tmp, err);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_message("cannot rename over", path, err);
  }
  return {};
}

bool sync_directory(const fs::path& dir) {
  Fd fd(open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.valid() && ::fsync(fd.get()) == 0;
}

// True when the file is non-empty and its last byte is not a newline.
bool lacks_final_newline(int fd, off_t size) {
  if (size == 0) return false;
  char last = '\n';
  ssize_t n;
  do n = ::pread(fd, &last, 1, size - 1);
  while (n < 0 && errno == EINTR);
  return n == 1 && last != '\n';
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

// Holds the room lock for a scope.
class LockGuard {
 public:
  explicit LockGuard(int fd) : fd_(fd), locked_(lock_exclusive(fd)) {}
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard() {
    if (locked_) unlock(fd_);
  }
  bool locked() const { return locked_; }

 private:
  int fd_;
  bool locked_;
};

}  // namespace

struct FileStore::Impl {
  fs::path data_dir, current_path, sequence_path, last_post_path, num_chatters_path, lock_path;
  std::mutex mu;           // serialises open() and append()
  Fd lock_fd;              // DATADIR/lock, kept open for the object's life
  Fd current_fd;           // current.dat, O_APPEND; reopened when replaced
  dev_t current_dev = 0;
  ino_t current_ino = 0;
  uint64_t sequence = 0;   // posts ever, as far as we know
  int64_t last_post = 0;

  explicit Impl(const fs::path& datadir)
      : data_dir(datadir / "data"),
        current_path(data_dir / "current.dat"),
        sequence_path(data_dir / "sequence"),
        last_post_path(data_dir / "last-post"),
        num_chatters_path(data_dir / "num-chatters"),
        lock_path(datadir / "lock") {}

  Status create_layout(const fs::path& datadir);
  Status open_lock_file();
  Status ensure_current_open();
  Status repair_torn_tail();
  Status write_batch(std::span<Post> batch);
  void write_bookkeeping();
  uint64_t sequence_from_disk(size_t post_count, std::vector<std::string>& warnings) const;
};

Status FileStore::Impl::create_layout(const fs::path& datadir) {
  for (const fs::path& dir : {data_dir, datadir / "logs"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(Errc::io, "cannot create " + dir.string() + ": " + ec.message());
  }
  return Status::ok();
}

Status FileStore::Impl::open_lock_file() {
  Fd created(open_retry(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC));
  if (created.valid()) {
    if (!write_all(created.get(), kLockContent))
      return Status(Errc::io, io_message("cannot write", lock_path, errno));
  } else if (errno != EEXIST) {
    return Status(Errc::io, io_message("cannot create", lock_path, errno));
  }
  // A write lock needs a descriptor open for writing.
  lock_fd.reset(open_retry(lock_path, O_RDWR | O_CLOEXEC));
  if (!lock_fd.valid()) return Status(Errc::io, io_message("cannot open", lock_path, errno));
  return Status::ok();
}

// Makes current_fd refer to the file now at current_path, creating it if
// it is missing (an archiver may have renamed a new one into place). Opened
// for reading too, to look at the last byte before appending.
Status FileStore::Impl::ensure_current_open() {
  struct stat st {};
  bool same = current_fd.valid() && ::stat(current_path.c_str(), &st) == 0 &&
              st.st_dev == current_dev && st.st_ino == current_ino;
  if (same) return Status::ok();
  current_fd.reset(open_retry(current_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC));
  if (!current_fd.valid()) return Status(Errc::io, io_message("cannot open", current_path, errno));
  if (::fstat(current_fd.get(), &st) != 0) {
    int err = errno;
    current_fd.reset();
    return Status(Errc::io, io_message("cannot stat", current_path, err));
  }
  current_dev = st.st_dev;
  current_ino = st.st_ino;
  // The file may have just been created (or renamed in): make its name
  // durable too, or a synced post could vanish with its directory entry.
  if (!sync_directory(data_dir)) {
    int err = errno;
    current_fd.reset();
    return Status(Errc::io, io_message("cannot sync", data_dir, err));
  }
  return Status::ok();
}

Status FileStore::Impl::repair_torn_tail() {
  if (auto st = ensure_current_open(); !st) return st;
  if (!write_all(current_fd.get(), "\n") || ::fdatasync(current_fd.get()) != 0)
    return Status(Errc::io, io_message("cannot repair the last line of", current_path, errno));
  return Status::ok();
}

uint64_t FileStore::Impl::sequence_from_disk(size_t post_count,
                                             std::vector<std::string>& warnings) const {
  auto content = read_file(sequence_path);
  bool missing = !content && errno == ENOENT;
  auto value = content ? parse_number(*content) : std::nullopt;
  if (!value) {
    if (!missing || post_count > 0)
      warnings.push_back(sequence_path.string() + (missing ? " is missing" : " is unreadable") +
                         "; using the number of posts in current.dat (" +
                         std::to_string(post_count) + ")");
    return post_count;
  }
  auto seq = static_cast<uint64_t>(*value);
  if (seq < post_count) {
    warnings.push_back(sequence_path.string() + " says " + std::to_string(seq) +
                       ", fewer than the posts in current.dat; using " +
                       std::to_string(post_count));
    return post_count;
  }
  return seq;
}

// Writes the batch to current.dat and syncs it; on failure truncates the
// file back so nothing of the batch remains. Caller holds the room lock.
Status FileStore::Impl::write_batch(std::span<Post> batch) {
  if (auto st = ensure_current_open(); !st) return st;
  int fd = current_fd.get();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status(Errc::io, io_message("cannot stat", current_path, errno));
  const off_t before = st.st_size;

  std::string buf;
  if (lacks_final_newline(fd, before)) buf.push_back('\n');
  for (const Post& p : batch) {
    buf += encode_line(p);
    buf.push_back('\n');
  }
  if (write_all(fd, buf) && ::fdatasync(fd) == 0) return Status::ok();

  int err = errno;
  std::string message = io_message("cannot append to", current_path, err);
  if (::ftruncate(fd, before) != 0)
    message += "; and cannot truncate it back: " + errno_text(errno);
  return Status(Errc::io, std::move(message));
}

// Rewrites `sequence` and `last-post`. Not fatal: the posts are already
// durable, and open() recovers the sequence from current.dat. Caller holds
// the room lock.
void FileStore::Impl::write_bookkeeping() {
  for (auto [path, value] : {std::pair{&sequence_path, std::to_string(sequence)},
                             std::pair{&last_post_path, std::to_string(last_post)}}) {
    std::string error = replace_file(*path, value);
    if (!error.empty()) std::fprintf(stderr, "chaton: warning: %s\n", error.c_str());
  }
}

FileStore::FileStore(std::filesystem::path datadir)
    : datadir_(std::move(datadir)), impl_(std::make_unique<Impl>(datadir_)) {}

FileStore::~FileStore() = default;

Result<StoreSnapshot> FileStore::open() {
  Impl& m = *impl_;
  std::lock_guard guard(m.mu);
  if (auto st = m.create_layout(datadir_); !st) return st;
  if (auto st = m.open_lock_file(); !st) return st;
  LockGuard lock(m.lock_fd.get());
  if (!lock.locked()) return Status(Errc::io, io_message("cannot lock", m.lock_path, errno));

  StoreSnapshot snap;
  auto content = read_file(m.current_path);
  if (!content && errno != ENOENT)
    return Status(Errc::io, io_message("cannot read", m.current_path, errno));
  ParsedLog log = parse_log(content ? *content : std::string());
  for (const BadLine& bad : log.bad)
    snap.warnings.push_back(m.current_path.string() + ":" + std::to_string(bad.line_number) +
                            ": unreadable line skipped (" + bad.reason + ")");
  if (log.torn_tail) {
    if (auto st = m.repair_torn_tail(); !st) return st;
    snap.warnings.push_back(m.current_path.string() +
                            ": the last line had no newline (torn write?); one was added");
  }

  m.sequence = m.sequence_from_disk(log.posts.size(), snap.warnings);
  uint64_t seq = m.sequence - log.posts.size();
  for (Post& p : log.posts) p.seq = ++seq;
  if (auto lp = read_number_file(m.last_post_path))
    m.last_post = *lp;
  else
    m.last_post = log.posts.empty() ? 0 : log.posts.back().sec;

  snap.recent = std::move(log.posts);
  snap.sequence = m.sequence;
  snap.last_post = m.last_post;
  return snap;
}

Status FileStore::append(std::span<Post> batch) {
  if (batch.empty()) return Status::ok();
  Impl& m = *impl_;
  std::lock_guard guard(m.mu);
  if (!m.lock_fd.valid()) return Status(Errc::invalid, "FileStore::append called before open()");
  LockGuard lock(m.lock_fd.get());
  if (!lock.locked()) return Status(Errc::io, io_message("cannot lock", m.lock_path, errno));

  // Another writer (an original poster script) may have advanced it.
  if (auto on_disk = read_number_file(m.sequence_path))
    m.sequence = std::max(m.sequence, static_cast<uint64_t>(*on_disk));
  if (auto st = m.write_batch(batch); !st) return st;

  for (Post& p : batch) p.seq = ++m.sequence;
  m.last_post = batch.back().sec;
  m.write_bookkeeping();
  return Status::ok();
}

void FileStore::record_num_chatters(size_t n) {
  std::string error = replace_file(impl_->num_chatters_path, std::to_string(n));
  if (!error.empty()) std::fprintf(stderr, "chaton: warning: %s\n", error.c_str());
}

}  // namespace chaton
