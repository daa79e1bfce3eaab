// File helpers shared by the store's pieces (the live log in file_store.cpp,
// the archiver in file_archive.cpp, the checker in data_check.cpp): plain
// POSIX I/O with EINTR handled, atomic replacement by rename, and the room
// lock (an open-file-description lock on DATADIR/lock, see docs/STORAGE.md
// "Locking"). Whole files are read with read_file (util/file.h).
//
// Internal to the store module. Errors are values: a Status (Errc::io, the
// message naming the path and the system's reason), except for the
// descriptor-level write_all and lacks_final_newline, as each says.
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/civil_time.h"
#include "util/file.h"
#include "util/result.h"

namespace chaton::fileio {

namespace fs = std::filesystem;

// The files of DATADIR/data that more than one part of the store reads or
// writes (docs/STORAGE.md "Layout"), named once.
inline constexpr std::string_view kCurrentName = "current.dat";
inline constexpr std::string_view kSequenceName = "sequence";
inline constexpr std::string_view kBaseName = "current.base";
inline constexpr std::string_view kLastPostName = "last-post";

inline constexpr std::string_view kLockContent = "lockfile\n";
inline constexpr mode_t kFileMode = 0644;

std::string errno_text(int err);
// "<what> <path>: <strerror(err)>"
std::string io_message(const std::string& what, const fs::path& path, int err);

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
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

int open_retry(const fs::path& path, int flags, mode_t mode = kFileMode);

// Writes all of buf; false with errno set on failure.
bool write_all(int fd, std::string_view buf);

// A small file holding one non-negative decimal number (sequence, last-post,
// a day's .cnt); surrounding whitespace is ignored.
std::optional<int64_t> parse_number(std::string_view content);
std::optional<int64_t> read_number_file(const fs::path& path);

enum class Sync { no, yes };

// Replaces a file's content atomically: a temporary file in the same
// directory, renamed over. With Sync::yes the data is fsynced before the
// rename and the directory after it, so the new content is durable when this
// returns.
Status replace_file(const fs::path& path, std::string_view content, Sync sync = Sync::no,
                    mode_t mode = kFileMode);

// Writes `content` over a file in place (created if missing): the bytes at
// its start, then the file cut to their length. No new file is made and no
// block is freed, which a replace by rename does, and which on a disk
// mounted with `discard` costs a third of a millisecond (docs/STORAGE.md,
// "Locking"). A reader may see the new bytes only in part while they are
// written: for a file whose readers that act on it hold the data
// directory's lock. A symbolic link, a file with other hard links (a
// backup's) or one that cannot be opened for writing is replaced by
// rename instead (replace_file), so no other name sees the change.
Status overwrite_file(const fs::path& path, std::string_view content, mode_t mode = kFileMode);

// fsyncs a directory, so names created or renamed in it are durable.
Status sync_directory(const fs::path& dir);

// True when the file is non-empty and its last byte is not a newline.
bool lacks_final_newline(int fd, off_t size);

// Creates DATADIR/lock (content "lockfile\n") if it is missing and opens it
// for writing, which a write lock needs.
Status open_lock_file(const fs::path& lock_path, Fd& out);

// Holds the room lock (exclusive, whole file, waiting for it) for a scope.
class LockGuard {
 public:
  explicit LockGuard(int fd);
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard();
  bool locked() const { return locked_; }

 private:
  int fd_;
  bool locked_;
};

// --- data/current.base (docs/STORAGE.md "current.base"): the text
// "<device>:<inode> <base>", where base is the seq just before the first post
// of that very current.dat.

// The base recorded for the file now at `current_path`; nullopt when the
// sidecar is missing or unreadable, or names another file.
std::optional<uint64_t> read_current_base(const fs::path& base_path, const fs::path& current_path);

// Records `base` for the file now at `current_path` (temporary file and
// rename; nothing is written when it already says so).
Status write_current_base(const fs::path& base_path, const fs::path& current_path, uint64_t base,
                          Sync sync = Sync::no);

// How the posts of the live log are numbered (docs/STORAGE.md "Sequence
// numbers and `pos`", "current.base"): one rule for open(), archiving and
// moderation.
struct LiveNumbering {
  uint64_t base = 0;           // the seq just before the first post of current.dat
  uint64_t sequence = 0;       // posts ever: base + the posts in current.dat
  bool base_recorded = false;  // current.base named this current.dat and was used
};

// The numbering of data_dir/current.dat holding `posts` readable posts:
// when current.base names this very file and base + posts is at least
// data/sequence, base is believed (a line of a batch that was never
// acknowledged then takes the next number, and a stale `sequence` never
// moves posts down) and the sequence is base + posts; otherwise the posts
// are numbered back from data/sequence (never below `posts`). Problems
// with data/sequence are added to `warnings` when given.
LiveNumbering live_numbering(const fs::path& data_dir, uint64_t posts,
                             std::vector<std::string>* warnings = nullptr);

// --- the archive layout (DATADIR/data/YYYY/MM/DD.dat, DD.cnt)

// The relative target of today's and tomorrow's day symlinks.
inline constexpr std::string_view kCurrentLinkTarget = "../../current.dat";

// data/YYYY/MM/DD.dat and data/YYYY/MM/DD.cnt
fs::path day_file(const fs::path& data_dir, Date day);
fs::path count_file(const fs::path& data_dir, Date day);

// What sits at a path, without following a symbolic link.
enum class Entry { missing, regular, symlink, other, error };
Entry entry_kind(const fs::path& path);

// The target of a symbolic link; empty when it is not one.
std::string link_target(const fs::path& path);

// Makes `path` a symbolic link to `target`, atomically replacing a link or
// nothing that is there (a temporary link renamed over). Creates parent
// directories.
Status make_symlink(const fs::path& path, std::string_view target);

// The UTC day a post's time falls on.
Date day_of(int64_t sec);

}  // namespace chaton::fileio
