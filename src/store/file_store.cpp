// FileStore: a room's posts in the original Chaton layout (docs/STORAGE.md).
//
// Durability design. current.dat is the only record of a post; `sequence`
// and `last-post` are bookkeeping that can be rebuilt from it. A batch of
// posts is written with one write() (looping on partial writes) to
// current.dat opened O_APPEND, then fdatasync()ed; only then does append()
// return success, so an acknowledged post survives a crash or power loss.
// If any step fails the file is truncated back to its size before the
// batch, so a batch is stored whole or not at all; append() then logs the
// system's reason (one line on stderr) and returns Errc::unavailable with
// a message fit for the poster (HTTP 503). Nothing in memory moves: the
// sequence advances only after a successful write. `sequence` and
// `last-post` are written over in place afterwards, under the lock (no
// fsync: the page cache survives a process kill, and after a power loss
// open() never lets the sequence fall below the number of posts in
// current.dat, and reads an unreadable number as missing).
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
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "messages/line_codec.h"
#include "store/file_archive.h"
#include "store/file_io.h"
#include "util/log.h"

namespace chaton {

namespace fs = std::filesystem;
using fileio::Fd;
using fileio::io_message;
using fileio::LockGuard;
using fileio::open_retry;
using fileio::read_number_file;
using fileio::sync_directory;
using fileio::write_all;

struct FileStore::Impl {
  fs::path data_dir, current_path, sequence_path, last_post_path, num_chatters_path, lock_path, base_path;
  std::mutex mu;  // serialises open(), append() and archive()
  Fd lock_fd;     // DATADIR/lock, kept open for the object's life
  Fd current_fd;  // current.dat, O_APPEND; reopened when replaced
  dev_t current_dev = 0;
  ino_t current_ino = 0;
  uint64_t sequence = 0;  // posts ever, as far as we know
  int64_t last_post = 0;
  std::string append_failure;  // why the last append failed; empty when it did not

  explicit Impl(const fs::path& datadir)
      : data_dir(datadir / "data"),
        current_path(data_dir / fileio::kCurrentName),
        sequence_path(data_dir / fileio::kSequenceName),
        last_post_path(data_dir / fileio::kLastPostName),
        num_chatters_path(data_dir / "num-chatters"),
        lock_path(datadir / "lock"),
        base_path(data_dir / fileio::kBaseName) {}

  Status create_layout(const fs::path& datadir);
  Status open_lock_file();
  Status ensure_current_open();
  Status repair_torn_tail();
  // `syncs`: where the fdatasync's time goes.
  Status write_batch(std::span<Post> batch, int& err, metrics::Histogram& syncs);
  void write_bookkeeping();
  void write_base(uint64_t base);
};

// current.base: "<device>:<inode> <base>", the seq just before the first
// post of that very current.dat. With it, posts are numbered from the start
// of the file, so a line that reached the disk in a batch the process never
// acknowledged (a kill during fdatasync, before `sequence` was rewritten)
// takes the next number instead of shifting acknowledged posts down. The
// rule (fileio::live_numbering) is shared with archiving and moderation;
// when the sidecar does not apply, the posts are numbered back from
// `sequence` and the file is written anew.
void FileStore::Impl::write_base(uint64_t base) {
  std::error_code ec;
  if (!fs::exists(current_path, ec)) return;  // no live log yet: nothing to name
  if (Status st = fileio::write_current_base(base_path, current_path, base, fileio::Sync::no); !st)
    log_warning(st.message());
}

Status FileStore::Impl::create_layout(const fs::path& datadir) {
  for (const fs::path& dir : {data_dir, datadir / "logs"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(Errc::io, "cannot create " + dir.string() + ": " + ec.message());
  }
  return Status::ok();
}

Status FileStore::Impl::open_lock_file() { return fileio::open_lock_file(lock_path, lock_fd); }

// Makes current_fd refer to the file now at current_path, creating it if
// it is missing (an archiver may have renamed a new one into place). Opened
// for reading too, to look at the last byte before appending.
Status FileStore::Impl::ensure_current_open() {
  struct stat st {};
  bool same = current_fd.valid() && ::stat(current_path.c_str(), &st) == 0 && st.st_dev == current_dev &&
              st.st_ino == current_ino;
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
  if (Status st = sync_directory(data_dir); !st) {
    current_fd.reset();
    return st;
  }
  return Status::ok();
}

Status FileStore::Impl::repair_torn_tail() {
  if (auto st = ensure_current_open(); !st) return st;
  if (!write_all(current_fd.get(), "\n") || ::fdatasync(current_fd.get()) != 0)
    return Status(Errc::io, io_message("cannot repair the last line of", current_path, errno));
  return Status::ok();
}

namespace {

// What a poster is told when the live log cannot take a batch: a reason
// and a hint, never a path. The details go to the server's log, one line.
Status cannot_store(const std::string& detail, int err) {
  log_error("cannot store posts: " + detail);
  const bool full = err == ENOSPC || err == EDQUOT || err == EFBIG;
  return Status(Errc::unavailable, std::string("the server cannot store posts right now (") +
                                       (full ? "disk full" : "storage error") + "); try again later");
}

}  // namespace

// Writes the batch to current.dat and syncs it; on failure truncates the
// file back so nothing of the batch remains, and sets `err` to the
// failure's errno. Caller holds the room lock.
Status FileStore::Impl::write_batch(std::span<Post> batch, int& err, metrics::Histogram& syncs) {
  if (auto st = ensure_current_open(); !st) {
    err = errno;
    return st;
  }
  int fd = current_fd.get();
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    err = errno;
    return Status(Errc::io, io_message("cannot stat", current_path, err));
  }
  const off_t before = st.st_size;

  std::string buf;
  if (fileio::lacks_final_newline(fd, before)) buf.push_back('\n');
  for (const Post& p : batch) {
    buf += encode_line(p);
    buf.push_back('\n');
  }
  bool ok = write_all(fd, buf);
  err = errno;
  if (ok) {
    metrics::Timer timer(syncs);
    ok = ::fdatasync(fd) == 0;
    err = errno;
  }
  if (ok) return Status::ok();

  std::string message = io_message("cannot append to", current_path, err);
  if (::ftruncate(fd, before) != 0) message += "; and cannot truncate it back: " + fileio::errno_text(errno);
  return Status(Errc::io, std::move(message));
}

// Rewrites `sequence` and `last-post`, each in place (fileio::overwrite_file:
// every reader that acts on them takes the room lock, which the caller
// holds; `chaton check` reads them without it and repairs only under it).
// Not fatal: the posts are already durable, and open() recovers the
// sequence from current.dat.
void FileStore::Impl::write_bookkeeping() {
  for (auto [path, value] : {std::pair{&sequence_path, std::to_string(sequence)},
                             std::pair{&last_post_path, std::to_string(last_post)}}) {
    if (Status st = fileio::overwrite_file(*path, value); !st) log_warning(st.message());
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
  if (!content && content.status().code() != Errc::not_found) return content.status();
  ParsedLog log = parse_log(content ? *content : std::string());
  for (const BadLine& bad : log.bad)
    snap.warnings.push_back(m.current_path.string() + ":" + std::to_string(bad.line_number) +
                            ": unreadable line skipped (" + bad.reason + ")");
  if (log.torn_tail) {
    if (auto st = m.repair_torn_tail(); !st) return st;
    snap.warnings.push_back(m.current_path.string() +
                            ": the last line had no newline (torn write?); one was added");
  }

  if (auto st = m.ensure_current_open(); !st) return st;  // the file exists from here on
  fileio::LiveNumbering numbering = fileio::live_numbering(m.data_dir, log.posts.size(), &snap.warnings);
  m.sequence = numbering.sequence;
  uint64_t seq = numbering.base;
  if (!numbering.base_recorded) m.write_base(seq);
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
  auto failed = [&m](Status st) {
    m.append_failure = st.message();
    return st;
  };
  LockGuard lock(m.lock_fd.get());
  if (!lock.locked()) {
    int err = errno;
    return failed(cannot_store(io_message("cannot lock", m.lock_path, err), err));
  }

  // Another writer (an original poster script) may have advanced it.
  if (auto on_disk = read_number_file(m.sequence_path))
    m.sequence = std::max(m.sequence, static_cast<uint64_t>(*on_disk));
  int err = 0;
  if (auto st = m.write_batch(batch, err, syncs()); !st) return failed(cannot_store(st.message(), err));
  m.append_failure.clear();

  for (Post& p : batch) p.seq = ++m.sequence;
  m.last_post = batch.back().sec;
  m.write_bookkeeping();
  return Status::ok();
}

Status FileStore::writable() {
  Impl& m = *impl_;
  {
    std::lock_guard guard(m.mu);
    if (!m.append_failure.empty()) return Status(Errc::io, "the last append failed: " + m.append_failure);
  }
  const fs::path probe = m.data_dir / ".writable";
  Fd fd(open_retry(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC));
  if (!fd.valid()) return Status(Errc::io, io_message("cannot create a file in", m.data_dir, errno));
  bool written = write_all(fd.get(), "ok\n");
  int err = errno;
  fd.reset();
  std::error_code ignored;  // a probe left behind is overwritten by the next
  fs::remove(probe, ignored);
  if (!written) return Status(Errc::io, io_message("cannot write to", probe, err));
  return Status::ok();
}

void FileStore::record_num_chatters(size_t n) {
  if (Status st = fileio::replace_file(impl_->num_chatters_path, std::to_string(n)); !st)
    log_warning(st.message());
}

Result<std::vector<Post>> FileStore::read_day(Date day) { return read_archived_day(impl_->data_dir, day); }

std::vector<DayCount> FileStore::days_in_month(int year, int month) {
  return archived_days_in_month(impl_->data_dir, year, month);
}

std::vector<std::pair<int, int>> FileStore::months() { return archived_months(impl_->data_dir); }

Result<ArchiveReport> FileStore::archive(Date today) {
  Impl& m = *impl_;
  std::lock_guard guard(m.mu);
  std::error_code ec;
  if (!fs::is_directory(m.data_dir, ec))
    return Status(Errc::not_found, "no data directory " + m.data_dir.string());
  if (!m.lock_fd.valid())
    if (auto st = m.open_lock_file(); !st) return st;
  LockGuard lock(m.lock_fd.get());
  if (!lock.locked()) return Status(Errc::io, io_message("cannot lock", m.lock_path, errno));
  // The live log is numbered by the rule open() uses (fileio::live_numbering);
  // archive_locked writes current.base for the file it leaves.
  uint64_t known = 0;
  auto report = archive_locked(m.data_dir, today, m.sequence, &known);
  if (report) m.sequence = std::max(m.sequence, known);
  return report;
}

}  // namespace chaton
