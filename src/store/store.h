// Store: where a room's posts live. Nothing outside a Store reads or writes
// a room's posts and their bookkeeping (or, for a later backend, its
// database). Beside it, the room reads its data/blacklist.txt (src/access),
// private rooms read and rewrite their password file (src/access), and
// LogFiles append to DATADIR/logs/ (docs/ARCHITECTURE.md, "Storage").
//
// The embedded FileStore keeps the original Chaton layout (docs/STORAGE.md);
// a PostgreSQL backend can implement the same interface for several nodes.
//
// A store may be shared by several processes that append to the same room
// (the PostgreSQL store, several nodes: docs/SCALING.md). Such a store says
// so with shared(); its room then learns of posts it did not write from
// read_after(), when told that the room changed (Room::store_changed).
//
// Thread-safety: a Store is used by one room. append() and read_after() are
// called from the room's commit thread only; the other read functions may be
// called from any thread concurrently with append().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages/post.h"
#include "metrics/metrics.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton {

// The most recent posts a room keeps in memory (its live window); a store
// whose live log is longer (a database) hands the room no more than these.
inline constexpr size_t kMaxLivePosts = 20000;

// The live log (current.dat) never keeps fewer than its last this many
// posts (docs/STORAGE.md "Archiving"): 31, as the original archiver keeps
// them. A database room's live window is the same: today's posts, and at
// least these.
inline constexpr size_t kMinPostsKept = 31;

// An archived (or live) UTC day and how many posts it has.
struct DayCount {
  Date date;
  uint64_t posts = 0;
};

// What archiving did (docs/STORAGE.md, "Archiving").
struct ArchiveReport {
  std::vector<DayCount> written;    // day files written, oldest first
  size_t kept_in_current = 0;       // posts left in the live log
  size_t removed_from_current = 0;  // posts moved out of the live log
  std::vector<std::string> notes;   // skipped days, repairs: for the log
};

// What a moderation removal did (Store::remove_posts).
struct ModerationReport {
  size_t removed_posts = 0;                // distinct posts removed (a post the live
                                           // log keeps is also in its day file)
  size_t removed_live = 0;                 // lines removed from current.dat
  std::vector<DayCount> removed_archived;  // per day file rewritten: lines removed, oldest first
  uint64_t sequence_before = 0;            // data/sequence before and after
  uint64_t sequence_after = 0;
  std::vector<std::string> notes;  // for the operator

  size_t removed_archived_total() const {
    size_t n = 0;
    for (const DayCount& d : removed_archived) n += static_cast<size_t>(d.posts);
    return n;
  }
  bool removed_any() const { return removed_live > 0 || !removed_archived.empty(); }
};

// Which posts a moderation removes: store/post_selector.h.
struct PostSelector;

// A cid a process gave a client, and the numbering of the posts that
// client's positions count: the store's change_stamp() of the posts the
// process had loaded then (docs/SCALING.md, "Moderation"); empty when
// unknown.
struct IssuedCid {
  int64_t cid = 0;
  std::string numbering;
};

// What a room needs to know when it starts.
struct StoreSnapshot {
  std::vector<Post> recent;           // the live log (current.dat), seq filled in, oldest first
  uint64_t sequence = 0;              // posts ever; the seq of the newest post
  int64_t last_post = 0;              // unix time of the newest post, 0 when none
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

  // True when other processes append to this room too.
  virtual bool shared() const { return false; }

  // A shared store: tells the other processes serving this room that this
  // one gave clients these cids, so each client may take its cid to any of
  // them (docs/SCALING.md, "Clients across nodes"), and in which numbering
  // of the posts each client's positions are. Returns once they can know.
  virtual Status announce_cids(std::span<const IssuedCid> cids) { return Status::ok(); }

  // A shared store: whether a process serving this room gave out `cid`
  // (within the last day): nullopt if not, else the numbering it was given
  // in (empty when the process that gave it did not say).
  virtual Result<std::optional<std::string>> cid_known(int64_t cid) { return std::optional<std::string>(); }

  // A shared store: the chatters the other processes serving this room
  // recorded within `fresh` (a process that stopped recording drops out).
  // Called on the commit thread, right after record_num_chatters().
  virtual size_t chatters_elsewhere(std::chrono::seconds fresh) { return 0; }

  // The posts after sequence number `after`, up to `through` (0: the
  // newest), oldest first, seq filled in, at most `max`. A room whose store
  // is shared catches up with other writers' posts from here; a store with
  // one writer has nothing its room has not seen, and returns none.
  virtual Result<std::vector<Post>> read_after(uint64_t after, uint64_t through, size_t max) {
    return std::vector<Post>{};
  }

  // --- archives (docs/STORAGE.md, "Archiving"). Callable concurrently with
  // append(). A store that keeps no archives (a test double) may leave these as
  // they are: no days, nothing to archive.

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

  // Archives every day before `today` out of the live log (docs/STORAGE.md,
  // "Archiving"), under the room's lock, so it is safe beside appends in this
  // process and beside other processes using the same lock.
  virtual Result<ArchiveReport> archive(Date today) { return ArchiveReport{}; }

  // --- moderation (docs/MODERATION.md). Callable from any process beside
  // a running server: the room's lock is taken, as by append().

  // Removes the posts `selector` matches from the live log and the archived
  // days, fixing counts and the sequence, then changes change_stamp() so a
  // running room reloads. Posts after a removed live post are renumbered.
  virtual Result<ModerationReport> remove_posts(const PostSelector& selector) {
    return Status(Errc::invalid, "this store cannot remove posts");
  }

  // A token that changes whenever the room's posts were rewritten behind
  // the open store's back (a moderation, usually by another process), so
  // the room knows to reload. Cheap: a room asks once a second. Empty when
  // the store has no such thing.
  virtual std::string change_stamp() { return {}; }

  // --- monitoring (docs/DEPLOY.md, "Monitoring")

  // Whether the store can take posts now, or why not (GET /healthz). Called
  // on the commit thread, between batches; cheap. A store that cannot tell
  // (a test double) says it can.
  virtual Status writable() { return Status::ok(); }

  // Where the time append() waits for durability goes: the file store's
  // fdatasync, the PostgreSQL store's append statement (which commits).
  // Set before the first append(); a store has one of its own until then.
  void measure_syncs(std::shared_ptr<metrics::Histogram> histogram) { syncs_ = std::move(histogram); }

 protected:
  metrics::Histogram& syncs() { return *syncs_; }

 private:
  std::shared_ptr<metrics::Histogram> syncs_ = std::make_shared<metrics::Histogram>();
};

}  // namespace chaton
