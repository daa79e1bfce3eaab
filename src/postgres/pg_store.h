// PgStore: a room's posts in PostgreSQL, shared by several Chaton nodes
// (docs/SCALING.md).
//
// The database is the store of record: table chaton_posts holds every post
// with its room's gapless sequence number (seq, the `pos` clients see),
// chaton_rooms each room's sequence, last post and moderation count,
// chaton_days the posts per UTC day (the archive pages' counts).
//
// append() writes a whole batch in one statement, which is its own
// transaction: it moves the room's sequence on by the batch's size (the
// row lock on the room orders the commits of all nodes, and a transaction
// that fails moves nothing, so the sequence has no gaps), inserts the
// posts with their seqs, adds to the day counts and notifies channel
// `chaton` with "SLUG SEQ" (delivered to the other nodes when, and only
// when, it commits). It returns once the commit is durable
// (synchronous_commit = on), so nothing is acknowledged that is not
// committed; a batch whose commit cannot be confirmed gets an error.
//
// The live window a room starts with is the same as a file-store room's:
// the posts of today (UTC, by the injected clock) and never fewer than the
// last kMinPostsKept, at most kMaxLivePosts.
//
// Connections: one for the commit thread (append, read_after, open) and
// one for the readers (archive pages, a search that scans), each opened
// lazily and again after it broke. The room's search index has its own
// (pg_search.h).
//
// append() also writes each post's folded nick and text for search
// (folded_for_search(), pg_search.h).
//
// Thread-safety: as Store says. Lifetime: the Clock must outlive the store.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "postgres/pg_connection.h"
#include "store/store.h"
#include "util/clock.h"

namespace chaton::postgres {

class PgStore final : public Store {
 public:
  // The room `slug` in the database at `url`, whose schema is migrated
  // (schema.h). `node` names this process in chaton_chatters.
  PgStore(std::string url, std::string slug, std::string node, const Clock& clock);
  ~PgStore() override;

  Result<StoreSnapshot> open() override;
  Status append(std::span<Post> batch) override;
  // Whether the database answers on the writer's connection (SELECT 1).
  Status writable() override;
  void record_num_chatters(size_t n) override;
  bool shared() const override { return true; }
  size_t chatters_elsewhere(std::chrono::seconds fresh) override;
  // Records the cids and their numbering in chaton_cids (forgotten after a
  // day) and notifies channel `chaton` with "SLUG +CID NUMBERING" for each
  // ("SLUG +CID" when the numbering is not a stamp of this store), in one
  // transaction.
  Status announce_cids(std::span<const IssuedCid> cids) override;
  Result<std::optional<std::string>> cid_known(int64_t cid) override;
  Result<std::vector<Post>> read_after(uint64_t after, uint64_t through, size_t max) override;

  Result<std::vector<Post>> read_day(Date day) override;
  std::vector<DayCount> days_in_month(int year, int month) override;
  std::vector<std::pair<int, int>> months() override;
  Result<ArchiveReport> archive(Date today) override;
  std::string change_stamp() override;

  // Moderation (docs/MODERATION.md): one transaction, with the room's row
  // locked so no node commits meanwhile; the posts after the first removed
  // one are renumbered so the sequence stays gapless, the day counts
  // follow, the moderation count (the change stamp) moves, and channel
  // `chaton` is notified with the slug alone, so every node reloads.
  Result<ModerationReport> remove_posts(const PostSelector& selector) override;

 private:
  // The room's id, registering the room on first use. Under the given
  // connection's mutex.
  Result<int64_t> room_id(PgConnection& db);
  // Logs `st` with what failed, and returns what the room's clients may
  // read: the kind of failure, without the database's address.
  Status reported(const Status& st, std::string_view doing) const;

  std::string slug_;
  std::string node_;
  const Clock& clock_;
  std::mutex writer_mu_;
  PgConnection writer_;
  std::mutex reader_mu_;
  PgConnection reader_;
  std::atomic<int64_t> room_id_{0};
};

}  // namespace chaton::postgres
