// Store: where a room's posts live. Nothing outside a Store touches files
// (or, for a later backend, a database).
//
// The embedded FileStore keeps the original Chaton layout (docs/STORAGE.md);
// a PostgreSQL backend can implement the same interface for several nodes.
//
// Thread-safety: a Store is used by one room. append() is called from the
// room's commit thread only; the read functions may be called from any thread
// concurrently with append().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages/post.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton {

// An archived (or live) UTC day and how many posts it has.
struct DayCount {
  Date date;
  uint64_t posts = 0;
};

// What archiving did (spec A10).
struct ArchiveReport {
  std::vector<DayCount> written;   // day files written, oldest first
  size_t kept_in_current = 0;      // posts left in the live log
  size_t removed_from_current = 0; // posts moved out of the live log
  std::vector<std::string> notes;  // skipped days, repairs: for the log
};

// What a room needs to know when it starts.
struct StoreSnapshot {
  std::vector<Post> recent;  // the live log (current.dat), seq filled in, oldest first
  uint64_t sequence = 0;     // posts ever; the seq of the newest post
  int64_t last_post = 0;     // unix time of the newest post, 0 when none
  std::vector<std::string> warnings;  // skipped lines, repairs: for the log
};

class Store {
 public:
  virtual ~Store() = default;

  // Loads the state, creating an empty room when there is none. Repairs a
  // torn last line so the next append starts on a line of its own.
  virtual Result<StoreSnapshot> open() = 0;

  // Appends the batch durably, in order, under the room's lock. Fills in
  // each post's seq (sequence+1, ...). Returns only once the data is on disk
  // (fdatasync); on failure nothing of the batch counts as stored.
  virtual Status append(std::span<Post> batch) = 0;

  // Best-effort bookkeeping the original tools read.
  virtual void record_num_chatters(size_t n) = 0;

  // --- archives (spec A9, A10). Callable concurrently with append().
  // A store that keeps no archives (a test double) may leave these as they
  // are: no days, nothing to archive.

  // The posts of one UTC day, oldest first (seq left 0): the day's file,
  // or the live log's posts of that day. Errc::not_found when the room has
  // nothing for that day.
  virtual Result<std::vector<Post>> read_day(Date day) {
    return Status(Errc::not_found, "no archive for " + format_date_path(day));
  }

  // The days of a month that have posts, with their counts, ascending.
  virtual std::vector<DayCount> days_in_month(int year, int month) { return {}; }

  // Every month with at least one day, ascending, as {year, month}.
  virtual std::vector<std::pair<int, int>> months() { return {}; }

  // Archives every day before `today` out of the live log (spec A10),
  // under the room's lock, so it is safe beside appends in this process and
  // beside other processes using the same lock.
  virtual Result<ArchiveReport> archive(Date today) { return ArchiveReport{}; }
};

}  // namespace chaton
