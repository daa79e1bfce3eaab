// Room: one chat room's live state, with no sockets in it.
//
// A Room owns its Store, the CommitQueue that group-commits posts to it,
// the in-memory window of recent posts (the live log), the comet clients
// (CidTable) and the readers waiting for news (Waiters). Transports (long
// poll, Server-Sent Events, WebSocket) are thin adapters on this surface:
//
//   post()         validate, check the blacklist, commit; done(ok) only once
//                  the post is durable and already visible to readers.
//   wait()         block a reader at `pos` until the room moves past it;
//                  returns false when it already has.
//   delta_since()  what a reader at `pos` must be sent: one rendered content
//                  fragment shared by every reader at that pos (rendered once
//                  per format per new sequence number, then reused), at most
//                  one packet's worth (kMaxPacketPosts, kMaxPacketBytes);
//                  `more` says the reader is further behind than that.
//
// Fan-out follows the pub/sub pattern: publishing appends to the window and
// swaps the waiter set out under the lock; the waiters are woken outside it
// (rooms/fan_out.h: one task per event loop, waking its readers in slices),
// and each builds its reply from delta_since().
//
// `pos` is the post sequence number, so it never goes back across restarts
// or archiving. A reader beyond the end (pos > sequence) gets everything
// with refresh set, to clear its view.
//
// Reload after moderation. `chaton moderate` (another process) removes
// posts from the store's files; posts after a removed live post are
// renumbered, so the positions readers hold no longer mean what they did.
// The store's change_stamp() moves when that happens; sweep() (once a
// second) compares it with the stamp seen at open and then reload()s: on
// the commit thread, between batches (CommitQueue::run_exclusive), the
// store is opened again and its snapshot replaces the window, the sequence
// and last_post; the delta and RSS caches are dropped; the cid table begins
// a new epoch; every waiting reader is woken. A reader is known by its cid
// (long-poll clients carry nothing else, SSE and WebSocket feeds hold one
// too), and the table remembers the epoch each cid last saw: the next
// delta_since(cid, ...) of a cid from before the reload — woken or not,
// whatever its pos — starts it over, and wait() refuses it until it has
// had that. In the web format (the browser) starting over means refresh
// set and the whole window; the JSON and S-expression formats have no way
// to clear a view, so there it means going on from the reload's sequence
// with what came after it (a watcher does not print the live log again). Clients without a cid (new
// ones) get the full backlog anyway. A client whose cid expired meanwhile
// and is given a new one keeps its view until its next refresh.
//
// Several writers. A store may be shared with other processes that append
// to the same room (the PostgreSQL store, several nodes: docs/SCALING.md).
// The room then hears of their posts through store_changed(), which asks
// the commit thread (between batches, never blocking the caller) to read
// what came after its sequence (Store::read_after) and publish it exactly
// like its own posts: appended to the window in seq order, readers woken,
// observers (webhooks) not called, since the node that accepted a post
// tells them. Its own batch may come after posts of another node it has
// not read yet: publish() reads those first, so the window stays gapless
// and every reader gets every post once, in order; if that read fails, the
// batch is left to the catch-up too (it is committed: its writers are
// answered). A reader that comes from a node further ahead (pos beyond
// this room's sequence) waits for the catch-up instead of being told to
// start over: its pos counts as a hint, and the catch-up checks it
// against the store; only a pos the store does not bear out (a client of
// an older history) starts over. Each sweep queues a catch-up while the
// room is behind what it expects, so a failed read is retried. For a shared store the room does
// not poll change_stamp() (a query): a moderation is announced through
// store_changed() with no sequence, which makes the commit thread compare
// the stamp and reload. The chatters count (`nc`) adds what the other nodes
// recorded (Store::chatters_elsewhere), asked for by each sweep on the
// commit thread; a reader served by several nodes within the client
// timeout is counted by each (docs/SCALING.md, "Chatters"). A cid given
// out here is announced to the other nodes (Store::announce_cids), and a cid
// another node announced, or one swept here, is admitted as known when a
// client brings it (CidTable, "Other nodes"). After a moderation a
// long-poll client is started over once, not once by each node its
// requests go to: the reply that starts it over gives it a new cid
// (renew_cid), which the other nodes take as current; a node that has not
// reloaded yet checks such a cid on its commit thread, after reloading
// (check_cid; admit(), while a stamp notice waits), rather than serve its
// pos in the old numbering (docs/SCALING.md, "Moderation").
//
// Reading without the lock. Every event loop asks the room, for each
// delivery, whether it is stopping, its sequence and its chatters count,
// and (live/delta_cache.h) its epoch and window version; those are atomics
// (changed under the lock, read without it), so that the loops of a
// many-core server do not queue on the one lock for them. The rest of a
// reader's path (delta_since, wait) takes the lock, an AdaptiveMutex
// (util/adaptive_mutex.h): its sections are short.
//
// Thread-safety: every public function may be called from any thread.
// Lifetime: the Clock must outlive the Room; Waiters are held weakly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "access/blacklist.h"
#include "access/rate_limiter.h"
#include "config/config.h"
#include "messages/post.h"
#include "messages/post_rules.h"
#include "render/html.h"
#include "render/packet.h"
#include "rooms/cid_table.h"
#include "rooms/commit_queue.h"
#include "rooms/fan_out.h"
#include "rooms/room_metrics.h"
#include "store/store.h"
#include "util/adaptive_mutex.h"
#include "util/clock.h"

namespace chaton {

inline constexpr size_t kMaxWindowPosts = kMaxLivePosts;  // recent posts kept in memory
inline constexpr size_t kMaxFeedItems = 200;              // newest posts in the RSS feed
inline constexpr size_t kMaxCachedDeltas = 64;
// One packet (a long-poll reply, an SSE event, a WebSocket frame) carries at
// most this many posts, and stops after the post that brings the nick and
// text bytes it carries to kMaxPacketBytes or over; a longer catch-up comes
// in pieces, each reader asking again from the pos of the last (see
// docs/PROTOCOL.md, "Long catch-ups come in pieces"). So what one reply
// holds is bounded, however long the live log.
inline constexpr size_t kMaxPacketPosts = 1000;
inline constexpr size_t kMaxPacketBytes = 256 * 1024;

// Everything a room needs, resolved from the configuration.
struct RoomSettings {
  RoomConfig config;
  std::string url;  // absolute, ends with '/'
  RenderOptions render;
  PostLimits limits;
  std::chrono::microseconds client_timeout{std::chrono::seconds(10)};
  std::string version;                        // `ver` in packets
  std::shared_ptr<RateLimiter> rate_limiter;  // shared by the site's rooms; null: no limit
  // Where the room's series go (rooms/room_metrics.h); null: a registry of its own.
  std::shared_ptr<metrics::Registry> metrics;
};

struct RoomStatus {
  uint64_t sequence = 0;
  int64_t last_post = 0;
  size_t num_chatters = 0;
};

struct Delta {
  uint64_t pos = 0;  // the last post carried (the sequence when none)
  bool refresh = false;
  bool has_posts = false;
  bool more = false;                           // posts after `pos` did not fit in this packet
  size_t posts = 0;                            // how many posts `content` carries
  std::shared_ptr<const std::string> content;  // never null
  uint64_t epoch = 0;                          // Room::epoch() when it was made
  uint64_t window_version = 0;                 // Room::window_version() when it was made
  // The reader's cid was from before a reload and this delta starts it
  // over: it is this reader's alone, not what others at its pos get.
  bool started_over = false;
};

class Room {
 public:
  Room(RoomSettings settings, std::unique_ptr<Store> store, const Clock& clock);
  ~Room();
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  // Loads the store and starts the commit thread. Warnings (skipped lines,
  // repairs) are appended to `warnings`.
  Status open(std::vector<std::string>* warnings);
  // Commits what is queued and stops. Idempotent.
  void close();

  // The server is stopping (docs/PROTOCOL.md, "When the server stops"):
  // every waiting reader is woken, and from now on wait() refuses. A reader
  // that then finds stopping() true ends for that reason, through the same
  // ending as its others (a long-poll answers empty, a feed tells its client
  // to come back). Posts are still taken until close(). Idempotent.
  void stop_readers();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  const RoomSettings& settings() const { return settings_; }
  // The room's series (docs/DEPLOY.md, "Monitoring"); its live readers count there.
  const RoomMetrics& metrics() const { return metrics_; }

  // Whether the room's store can take posts now (Store::writable), asked on
  // the commit thread between batches; `done` gets the answer there, or at
  // once on the caller's thread when the room is not open or has stopped.
  void check_writable(std::function<void(Status)> done);
  const std::string& slug() const { return settings_.config.slug; }

  // --- posting
  void post(std::string_view nick, std::string_view text, std::string ip, CommitQueue::Done done);

  // --- reading
  // What reader `cid` at `pos` must be sent; a cid from before the last
  // reload starts over (see above).
  Delta delta_since(Cid cid, uint64_t pos, PacketFormat fmt);
  // The same for a reader without a cid.
  Delta delta_since(uint64_t pos, PacketFormat fmt);
  RoomStatus status() const;
  // status().sequence, read without the room's lock (see "Reading without
  // the lock" above).
  uint64_t sequence() const { return published_sequence_.load(std::memory_order_acquire); }
  // How many reloads the room has had (each starts its cids over); read
  // without the lock. A reader whose last delta_since() carried this epoch
  // has no reload to hear of.
  uint64_t epoch() const { return published_epoch_.load(std::memory_order_acquire); }
  // Moves whenever the window of recent posts changes (a publish, a reload,
  // archiving); read without the lock. A delta made at one version stays
  // what a reader at its pos is sent until the version moves.
  uint64_t window_version() const { return published_window_version_.load(std::memory_order_acquire); }
  // A number no other Room of this process has, for caches keyed by room.
  uint64_t id() const { return id_; }
  std::shared_ptr<const std::string> rss();
  std::vector<Post> recent_posts(size_t max) const;

  // --- clients
  // A new cid is owned by `address` (the client's; an IPv6 address by its
  // /64, see client_group()), which caps how many of its cids the chatters
  // count takes (CidTable); an address the post rate does not apply to
  // (limits.rate_limit_exempt), or none, is not capped.
  //
  // With a shared store and `may_check`, a cid this node has never heard of
  // is not refused or replaced at once: the admission comes back
  // `unchecked`, and the caller asks check_cid() and then admits again
  // without `may_check` (another node may have given it out a moment ago).
  CidTable::Admission admit(std::optional<Cid> cid, std::string_view address = {}, bool may_check = false);
  // admit(), and then, when the cid was admitted as it came (not refused,
  // unchecked or replaced) and wait(cid, pos, waiter) accepts, that wait,
  // in the same take of the lock: a comet request that finds nothing new
  // (most of them) takes the lock once. `epoch`: the room's epoch the
  // admitted cid is current in (see epoch()), the one it began to wait in;
  // CidTable::kBehindEpoch, never the room's, when its client is from
  // before a reload, so its first delta comes from delta_since(), which
  // starts it over (live/delta_cache.h).
  struct Entrance {
    CidTable::Admission admission;
    bool waiting = false;
    uint64_t epoch = CidTable::kBehindEpoch;
  };
  Entrance admit_and_wait(std::optional<Cid> cid, std::string_view address, bool may_check, uint64_t pos,
                          const std::shared_ptr<Waiter>& waiter);
  // On the commit thread: asks the store whether another node gave out
  // `cid` (Store::cid_known), remembers it if so, then runs `then`. It
  // reloads first if the store's change stamp moved: the cid may have been
  // given out after a moderation this node has not reloaded for yet, and
  // its pos is in the new numbering (see "Several writers").
  void check_cid(Cid cid, std::function<void()> then);
  // A long-poll reader that delta_since() started over: with a shared store
  // its cid is replaced by a new one (CidTable::renew), for the reply to
  // tell it, and announced to the other nodes; `announced` runs once they
  // were told (on the commit thread), or at once when there is nothing to
  // tell (a store of its own, or `cid` gone). Returns the reader's cid now.
  Cid renew_cid(Cid cid, std::function<void()> announced);
  Cid allocate_cid(std::string_view address = {});
  // The same, for a client that may take the cid to another node (API
  // login): with a shared store `done` runs, on the commit thread, once the
  // other nodes were told of it; at once otherwise.
  void allocate_cid_then(std::string_view address, std::function<void(Cid)> done);
  // Another node gave out `cid` (a shared store) in `numbering` (its change
  // stamp then; empty when not said): a request carrying it here is
  // admitted as known, and started over if that numbering is not the one
  // this node has (docs/SCALING.md, "Moderation").
  void cid_announced(Cid cid, std::string_view numbering = {});
  void replied(Cid cid);
  void hold(Cid cid);
  bool cid_alive(Cid cid) const;
  // status().num_chatters, read without the room's lock.
  size_t num_chatters() const {
    return cids_.counted() + chatters_elsewhere_.load(std::memory_order_relaxed);
  }

  // False when the room moved past `pos` (or the reader must start over),
  // and always once stop_readers() was called.
  bool wait(Cid cid, uint64_t pos, const std::shared_ptr<Waiter>& waiter);
  // Ends `waiter`'s wait, if it is still the one waiting as `cid`; with
  // `replied`, also what replied(cid) does, under the same lock take.
  // Returns cid_alive(cid), as it was then: a reader about to answer
  // learns in the same take whether a newer request dropped its cid.
  bool unwait(Cid cid, const Waiter* waiter, bool replied = false);
  // How many readers wait for news now (between wait() and their wake-up
  // or unwait()); lets a test know a request is waiting before it acts.
  size_t waiting_readers() const;
  // How many times the room's lock was taken so far; lets a test count
  // what a reader's path costs it.
  uint64_t lock_takes() const { return mu_.acquisitions(); }

  // Once a second: drops idle clients, records num-chatters when it
  // changed, and reloads when the store's change stamp moved. May block
  // until the commit thread has done the reload.
  void sweep();

  // Loads the store again and makes every reader start over (see above).
  // Runs on the commit thread between batches; returns after it ran. On
  // failure the room keeps what it had.
  Status reload();

  // Returns once everything committed so far is published and its readers
  // and observers told (the commit thread is between batches).
  void settle();

  // --- several writers (see above)
  // Another writer committed posts up to `sequence`, or (nullopt) changed
  // the room otherwise or may have (a moderation; a lost connection to the
  // store). Returns at once; the commit thread catches up.
  void store_changed(std::optional<uint64_t> sequence);

  // --- observers (outgoing webhooks): called on the commit thread after
  // each published batch, outside the room lock. Must not block.
  using PublishObserver = std::function<void(std::span<const Post>)>;
  void on_publish(PublishObserver observer);

  // --- archives (docs/STORAGE.md, "Archiving")
  Result<std::vector<Post>> day(Date date) { return store_->read_day(date); }
  std::vector<DayCount> days_in_month(int year, int month) { return store_->days_in_month(year, month); }
  std::vector<std::pair<int, int>> months() { return store_->months(); }

  // Archives every day before `today`. Runs on the commit thread, between
  // batches, and trims the in-memory window to what the live log kept;
  // sequence numbers (pos) do not change.
  Result<ArchiveReport> archive(Date today);

 private:
  // Makes committed posts visible; returns the wake-up of the readers and
  // observers, which the commit queue runs after answering the writers.
  std::function<void()> publish(std::span<const Post> posts);
  // Appends `earlier` (other writers' posts, read back) and then `posts` to
  // the window; returns the wake-up of the readers, and of the observers
  // for `posts` when `observed`. Either may be empty.
  std::function<void()> publish_batch(std::vector<Post> earlier, std::span<const Post> posts, bool observed);
  // On the commit thread: what store_changed() asked for.
  void catch_up();
  // Under mu_: queues a catch_up() unless one is queued.
  void queue_catch_up_locked();
  // Under mu_: the newest sequence this room has reason to expect.
  uint64_t expected_sequence_locked() const {
    return std::max({sequence_, announced_sequence_, hinted_sequence_});
  }
  // Opens the store, and sets `stamp` to the change stamp its snapshot is
  // in (read before and after it; see kLoadTries in room.cpp).
  Result<StoreSnapshot> load(std::string& stamp);
  // On the commit thread: loads the store again (see reload()).
  Status reload_now();
  // On the commit thread: compares the store's change stamp with the one
  // loaded, and reload_now()s when it moved (true then). Covers the stamp
  // notices heard before it began.
  Result<bool> reload_if_stamp_moved();
  bool stamp_unchecked_locked() const { return stamp_compared_ != stamp_notices_; }  // under mu_
  // The epoch here of a client given its cid in `numbering` (see cid_announced). Under mu_.
  std::optional<uint64_t> numbering_epoch_locked(std::string_view numbering) const;
  // The store was (re)loaded with change stamp `stamp`, in the table's
  // current epoch. Under mu_.
  void stamp_loaded_locked(std::string stamp);
  // The store's change stamp at the last (re)load; empty before open(). Under mu_.
  const std::string& change_stamp_locked() const;
  // The numbering the client of `cid` was last given its positions in: the
  // stamp its epoch was loaded with, while that epoch is a recent one
  // (kEpochStampsKept); empty when not known. Under mu_.
  std::string numbering_of_locked(Cid cid) const;
  void load_window(StoreSnapshot& snap);                                                        // under mu_
  Delta delta_locked(uint64_t pos, PacketFormat fmt, bool start_over, std::optional<Cid> cid);  // under mu_
  // The end of the packet that starts at window_[begin] (see kMaxPacketPosts). Under mu_.
  size_t packet_end(size_t begin) const;
  void reload_if_changed();
  // With a shared store: tells the other nodes of a new cid, on the
  // commit thread, with every other cid queued meanwhile in one go
  // (Store::announce_cids); then runs `then` (may be empty).
  void announce(Cid cid, std::function<void(Cid)> then);
  void announce_queued();  // on the commit thread
  // The owner of a new cid of `address` (see admit()).
  std::string cid_owner(std::string_view address) const;
  // Flat (open addressing): taking and handing thousands of them to the
  // fan-out on every post reads one array, not a node per reader.
  using Waiters = boost::unordered_flat_map<Cid, WaitingReader>;
  // Outside the lock: wakes the readers of `taken` (take_waiters_locked())
  // that still exist (rooms/fan_out.h).
  void wake_all(Waiters taken);
  // Under mu_: the window changed (window_version_, published).
  void bump_window_version_locked() {
    published_window_version_.store(++window_version_, std::memory_order_release);
  }
  // Under mu_: admit()'s work; a duplicate's waiter, dropped, is put in
  // `dropped` to be woken outside the lock.
  CidTable::Admission admit_locked(std::optional<Cid> cid, std::string_view address, bool may_check,
                                   std::shared_ptr<Waiter>& dropped);
  // After admit_locked(), outside the lock: wakes the dropped duplicate and
  // tells the other nodes of a new cid.
  void admitted(const CidTable::Admission& a, const std::shared_ptr<Waiter>& dropped);
  // Under mu_: wait()'s work.
  bool wait_locked(Cid cid, uint64_t pos, const std::shared_ptr<Waiter>& waiter);
  // Under mu_: the waiting readers, swapped out to be woken outside the
  // lock. The lock is held for the swap alone: handing the table's entries
  // (thousands, on every post) to the fan-out is wake_all()'s work, while
  // the event loops go on with the room; finding which readers still exist
  // is each loop's, as it wakes them (rooms/fan_out.h).
  Waiters take_waiters_locked();

  const uint64_t id_;
  RoomSettings settings_;
  std::shared_ptr<metrics::Registry> registry_;
  RoomMetrics metrics_;
  std::unique_ptr<Store> store_;
  const Clock& clock_;
  Blacklist blacklist_;
  std::unique_ptr<CommitQueue> queue_;

  mutable AdaptiveMutex mu_;
  std::deque<Post> window_;  // contiguous seqs, oldest first
  uint64_t sequence_ = 0;
  std::atomic<uint64_t> published_sequence_{0};        // sequence_, for sequence(): set with it, under mu_
  std::atomic<uint64_t> published_epoch_{0};           // cids_.epoch(), for epoch(): set with it, under mu_
  std::atomic<uint64_t> published_window_version_{0};  // window_version_, for window_version()
  int64_t last_post_ = 0;
  std::map<std::pair<uint64_t, int>, std::shared_ptr<const std::string>> deltas_;
  std::shared_ptr<const std::string> rss_;
  uint64_t window_version_ = 0;              // bumped whenever the window changes
  uint64_t reload_sequence_ = 0;             // the sequence right after the last reload
  uint64_t announced_sequence_ = 0;          // the newest sequence the store announced (or we committed)
  uint64_t hinted_sequence_ = 0;             // the furthest pos a reader brought, not yet checked
  std::unordered_map<Cid, uint64_t> ahead_;  // readers from a node further ahead (waiting or soon), and pos
  std::unordered_set<Cid> refuted_;          // readers whose pos the store did not bear out: they start over
  bool catch_up_pending_ = false;            // a catch_up() is queued on the commit thread
  // Notices that the change stamp may have moved (a moderation announced, a
  // batch numbered below the room), and how many of them a comparison on the
  // commit thread covers since: they differ while one is to be compared.
  uint64_t stamp_notices_ = 0;
  uint64_t stamp_compared_ = 0;
  std::atomic<size_t> chatters_elsewhere_{0};  // other nodes' chatters (a shared store); set under mu_
  bool chatters_pending_ = false;              // their count is being asked for on the commit thread
  struct Announcement {
    Cid cid;
    std::string numbering;  // the change stamp its client's positions are in (empty: unknown)
    std::function<void(Cid)> then;
  };
  std::vector<Announcement> announcements_;  // new cids for the other nodes, not yet told
  CidTable cids_;
  size_t recorded_chatters_ = static_cast<size_t>(-1);
  Waiters waiters_;
  std::atomic<bool> stopping_{false};  // stop_readers() was called: no more waiters; set under mu_
  std::vector<PublishObserver> observers_;
  // The change stamps the store was (re)loaded with in the last few epochs,
  // oldest first: the last is the one loaded now (change_stamp_locked).
  std::vector<std::pair<uint64_t, std::string>> epoch_stamps_;
  std::string failed_reload_stamp_;  // a stamp whose reload failed (reported once)
};

}  // namespace chaton
