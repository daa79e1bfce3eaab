// Room: see room.h for the design. The lock `mu_` guards the window, the
// counters, the caches, the cid table and the waiter set; no I/O and no
// callback runs under it; sweep() records num-chatters after unlocking.
#include "rooms/room.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>

#include "access/forwarded.h"
#include "messages/post_pages.h"
#include "render/rss.h"
#include "util/log.h"

namespace chaton {

namespace {

std::shared_ptr<const std::string> shared_empty(PacketFormat fmt) {
  static const auto web = std::make_shared<const std::string>(empty_content(PacketFormat::web));
  static const auto json = std::make_shared<const std::string>(empty_content(PacketFormat::json));
  static const auto sexpr = std::make_shared<const std::string>(empty_content(PacketFormat::sexpr));
  switch (fmt) {
    case PacketFormat::web:
      return web;
    case PacketFormat::json:
      return json;
    case PacketFormat::sexpr:
      return sexpr;
  }
  return json;
}

std::filesystem::path blacklist_path(const RoomConfig& c) {
  return std::filesystem::path(c.data_dir) / "data" / "blacklist.txt";
}

std::atomic<uint64_t> next_room_id{1};  // Room::id()

// The change stamps of this many recent epochs are kept: a cid announced
// after a reload or two since its client's last reply is still told in the
// numbering of that reply (Room::numbering_of_locked).
constexpr size_t kEpochStampsKept = 4;

// Loads of the store in a row while moderations keep moving its change
// stamp (Room::load).
constexpr int kLoadTries = 3;

}  // namespace

Room::Room(RoomSettings settings, std::unique_ptr<Store> store, const Clock& clock)
    : id_(next_room_id.fetch_add(1, std::memory_order_relaxed)),
      settings_(std::move(settings)),
      registry_(settings_.metrics ? settings_.metrics : std::make_shared<metrics::Registry>()),
      metrics_(*registry_, settings_.config.slug),
      store_(std::move(store)),
      clock_(clock),
      blacklist_(blacklist_path(settings_.config)) {
  store_->measure_syncs(metrics_.sync_seconds);
}

Room::~Room() { close(); }

Status Room::open(std::vector<std::string>* warnings) {
  std::string stamp;
  auto snap = load(stamp);
  if (!snap) return snap.status();
  if (warnings) warnings->insert(warnings->end(), snap->warnings.begin(), snap->warnings.end());
  Stamp last{};
  std::vector<Stamp> known;
  {
    std::lock_guard lock(mu_);
    stamp_loaded_locked(stamp);
    load_window(*snap);
    if (!window_.empty()) last = Stamp{window_.back().sec, window_.back().usec};
    known.reserve(window_.size());
    for (const Post& p : window_) known.push_back(Stamp{p.sec, p.usec});
  }
  CommitMetrics counted{metrics_.posts, metrics_.commit_seconds,
                        metrics_.rejected[static_cast<size_t>(Rejection::store_failure)],
                        metrics_.rejected[static_cast<size_t>(Rejection::closed)]};
  queue_ = std::make_unique<CommitQueue>(
      *store_, clock_, last, [this](std::span<const Post> p) { return publish(p); }, std::move(known),
      std::move(counted));
  return Status::ok();
}

void Room::load_window(StoreSnapshot& snap) {
  auto& recent = snap.recent;
  size_t skip = recent.size() > kMaxWindowPosts ? recent.size() - kMaxWindowPosts : 0;
  window_.assign(std::make_move_iterator(recent.begin() + static_cast<ptrdiff_t>(skip)),
                 std::make_move_iterator(recent.end()));
  sequence_ = snap.sequence;
  published_sequence_.store(sequence_, std::memory_order_release);
  announced_sequence_ = std::max(announced_sequence_, sequence_);
  last_post_ = snap.last_post;
}

void Room::close() {
  if (queue_) queue_->stop();
}

void Room::stop_readers() {
  Waiters woken;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
    woken = take_waiters_locked();
  }
  wake_all(std::move(woken));
}

void Room::post(std::string_view nick, std::string_view text, std::string ip, CommitQueue::Done done) {
  auto sub = normalize_submission(nick, text, settings_.limits);
  if (!sub) {
    metrics_.reject(sub.status().code() == Errc::too_large ? Rejection::too_large : Rejection::invalid);
    return done(sub.status());
  }
  // Fails closed: an unreadable blacklist refuses every post (503).
  if (Status listed = blacklist_.check(ip); !listed) {
    metrics_.reject(Rejection::blacklisted);
    return done(std::move(listed));
  }
  if (settings_.rate_limiter) {
    if (int wait = settings_.rate_limiter->acquire(ip)) {
      metrics_.reject(Rejection::rate_limited);
      return done(Status(Errc::rate_limited, "posting too fast; try again in " + std::to_string(wait) + " s")
                      .with_retry_after(wait));
    }
  }
  if (!queue_) {
    metrics_.reject(Rejection::closed);
    return done(Status(Errc::io, "the room is not open"));
  }
  Post draft;
  draft.nick = std::move(sub->nick);
  draft.text = std::move(sub->text);
  draft.ip = std::move(ip);
  queue_->submit(std::move(draft), std::move(done));
}

std::function<void()> Room::publish(std::span<const Post> posts) {
  // Another writer's posts may lie between the window's end and this batch
  // (a shared store): read them first, so the window stays gapless and
  // every reader gets every post in order (docs/SCALING.md, "Fan-out").
  std::vector<Post> earlier;
  if (store_->shared() && !posts.empty()) {
    uint64_t have = status().sequence;
    if (posts.front().seq <= have) {
      // Numbered below what this room has: a moderation renumbered the
      // posts meanwhile. The reload (the stamp moved) brings this batch.
      std::vector<PublishObserver> observers;
      {
        std::lock_guard lock(mu_);
        ++stamp_notices_;
        queue_catch_up_locked();
        observers = observers_;
      }
      return [observers = std::move(observers), posts] {
        for (auto& observe : observers) observe(posts);
      };
    }
    if (posts.front().seq > have + 1) {
      auto read = store_->read_after(have, posts.front().seq - 1, kMaxWindowPosts);
      if (!read) {
        // Committed, but not shown out of order: the catch-up publishes
        // the gap and this batch once the store answers (see room.h).
        log_warning("room " + slug() + ": cannot read the posts before a batch: " + read.status().message());
        std::vector<PublishObserver> observers;
        {
          std::lock_guard lock(mu_);
          announced_sequence_ = std::max(announced_sequence_, posts.back().seq);
          queue_catch_up_locked();
          observers = observers_;
        }
        return [observers = std::move(observers), posts] {
          for (auto& observe : observers) observe(posts);
        };
      }
      earlier = std::move(*read);
      queue_->observe(earlier);
    }
  }
  return publish_batch(std::move(earlier), posts, true);
}

std::function<void()> Room::publish_batch(std::vector<Post> earlier, std::span<const Post> posts,
                                          bool observed) {
  Waiters woken;
  std::vector<PublishObserver> observers;
  {
    std::lock_guard lock(mu_);
    auto add = [&](const Post& p) {
      // Seqs in the window are contiguous; if the sequence moved on without
      // this room seeing the posts in between, the window starts again from
      // this post.
      if (!window_.empty() && window_.back().seq + 1 != p.seq) window_.clear();
      window_.push_back(p);
      sequence_ = std::max(sequence_, p.seq);
      last_post_ = p.sec;
    };
    for (const Post& p : earlier) add(p);
    for (const Post& p : posts) add(p);
    published_sequence_.store(sequence_, std::memory_order_release);
    announced_sequence_ = std::max(announced_sequence_, sequence_);
    while (window_.size() > kMaxWindowPosts) window_.pop_front();
    deltas_.clear();
    rss_.reset();
    bump_window_version_locked();
    woken = take_waiters_locked();
    if (observed) observers = observers_;
  }
  // Readers and observers are told once the writers have their answers.
  return [this, woken = std::move(woken), observers = std::move(observers), posts]() mutable {
    wake_all(std::move(woken));
    for (auto& observe : observers) observe(posts);
  };
}

void Room::check_writable(std::function<void(Status)> done) {
  // Shared with the task, so that a task the queue drops (it has stopped)
  // leaves `done` here to answer.
  auto answer = std::make_shared<std::function<void(Status)>>(std::move(done));
  if (queue_ && queue_->post([this, answer] { (*answer)(store_->writable()); })) return;
  (*answer)(Status(Errc::unavailable, "the room is not open"));
}

void Room::store_changed(std::optional<uint64_t> sequence) {
  if (!queue_) return;
  {
    std::lock_guard lock(mu_);
    if (sequence) {
      announced_sequence_ = std::max(announced_sequence_, *sequence);
      if (*sequence <= sequence_) return;  // ours, or read already
    } else {
      ++stamp_notices_;
    }
    queue_catch_up_locked();
  }
}

void Room::queue_catch_up_locked() {
  if (!queue_ || std::exchange(catch_up_pending_, true)) return;  // the queued one will see it
  queue_->post([this] { catch_up(); });
}

void Room::catch_up() {
  bool check_stamp;
  uint64_t hint;  // a reader's pos to check: the reads below start after it came
  {
    std::lock_guard lock(mu_);
    catch_up_pending_ = false;
    check_stamp = stamp_unchecked_locked();
    hint = hinted_sequence_;
  }
  if (check_stamp) {
    // Failed, the notices stay unchecked: the next sweep asks again.
    auto moved = reload_if_stamp_moved();
    if (!moved) {
      log_warning("room " + slug() + ": cannot check whether its posts changed: " + moved.status().message());
      return;
    }
    if (*moved) return;
  }
  // In pieces of a batch's size, each published before the next is read.
  for (;;) {
    uint64_t have = status().sequence;
    auto read = store_->read_after(have, 0, kMaxBatchPosts);
    if (!read) {
      // The next announcement (or the store's reconnection) tries again.
      log_warning("room " + slug() + ": cannot read other nodes' posts: " + read.status().message());
      return;
    }
    if (read->empty()) break;
    queue_->observe(*read);
    publish_batch(std::move(*read), {}, false)();
  }
  // Everything is read: a pos beyond it that a reader brought before this
  // check began is not borne out by the store (a client of an older
  // history). Those readers, and only they, are woken to start over.
  std::vector<WaitingReader> woken;
  {
    std::lock_guard lock(mu_);
    if (hint <= sequence_ || hint <= announced_sequence_) return;
    if (hinted_sequence_ == hint) hinted_sequence_ = 0;
    for (auto it = ahead_.begin(); it != ahead_.end();) {
      auto [cid, pos] = *it;
      if (pos <= sequence_ || pos <= announced_sequence_ || pos > hint) {
        ++it;
        continue;
      }
      refuted_.insert(cid);
      if (auto w = waiters_.find(cid); w != waiters_.end()) {
        woken.push_back(std::move(w->second));
        waiters_.erase(w);
      }
      it = ahead_.erase(it);
    }
  }
  wake_waiters(std::move(woken));
}

Room::Waiters Room::take_waiters_locked() {
  Waiters taken;
  taken.swap(waiters_);
  // They come back at once, most of them: room for them now, so that their
  // waits do not grow the table step by step under the lock.
  waiters_.reserve(taken.size());
  ahead_.clear();
  return taken;
}

void Room::settle() {
  if (queue_) queue_->run_exclusive([] {});
}

void Room::on_publish(PublishObserver observer) {
  std::lock_guard lock(mu_);
  observers_.push_back(std::move(observer));
}

void Room::wake_all(Waiters taken) {
  std::vector<WaitingReader> woken;
  woken.reserve(taken.size());
  for (auto& [cid, r] : taken) woken.push_back(std::move(r));
  taken = Waiters();  // its entries go before the readers are woken
  wake_waiters(std::move(woken));
}

Delta Room::delta_since(Cid cid, uint64_t pos, PacketFormat fmt) {
  std::lock_guard lock(mu_);
  bool start_over = cids_.behind(cid);  // its view is from before a reload
  if (start_over) {
    cids_.caught_up(cid);
    // Only the web format can tell a client to clear its view. The others
    // (bots, watchers) cannot: they go on from the reload with what came
    // after it, rather than being sent the whole live log again.
    Delta d = fmt != PacketFormat::web ? delta_locked(reload_sequence_, fmt, false, cid)
                                       : delta_locked(pos, fmt, true, cid);
    d.started_over = true;
    return d;
  }
  return delta_locked(pos, fmt, false, cid);
}

Delta Room::delta_since(uint64_t pos, PacketFormat fmt) {
  std::lock_guard lock(mu_);
  return delta_locked(pos, fmt, false, std::nullopt);
}

size_t Room::packet_end(size_t begin) const {
  return page_end(window_, begin, kMaxPacketPosts, kMaxPacketBytes);
}

Delta Room::delta_locked(uint64_t pos, PacketFormat fmt, bool start_over, std::optional<Cid> cid) {
  Delta d;
  d.epoch = cids_.epoch();
  d.window_version = window_version_;
  d.pos = sequence_;
  if (pos == sequence_ && !start_over) {
    d.content = shared_empty(fmt);
    return d;
  }
  // From a node further ahead: nothing new for it until this room has
  // caught up (see room.h, "Several writers"); its pos stays. A pos beyond
  // anything expected is a hint the catch-up checks; only a reader whose
  // pos the check refuted starts over.
  bool refuted = cid && refuted_.erase(*cid) > 0;
  if (pos > sequence_ && !start_over && store_->shared() && !refuted) {
    // Recorded now, not only once it waits: a check that ends before the
    // reader waits must still refute it, or the reader would be hinted
    // and checked again without end.
    if (cid) ahead_[*cid] = pos;
    if (pos > expected_sequence_locked()) {
      hinted_sequence_ = pos;
      queue_catch_up_locked();
    }
    d.pos = pos;
    d.content = shared_empty(fmt);
    return d;
  }
  uint64_t from = pos;
  if (pos > sequence_ || start_over) {  // beyond the end, or a stale view: start over
    d.refresh = true;
    from = 0;
  }
  uint64_t first = window_.empty() ? sequence_ + 1 : window_.front().seq;
  if (from + 1 < first) {  // older posts are no longer live: start the view over
    from = first - 1;
    if (pos > 0) d.refresh = true;  // a client with a view has a gap in it
  }
  size_t begin = static_cast<size_t>(from + 1 - first);
  size_t end = packet_end(begin);
  d.more = end < window_.size();
  d.posts = end - begin;
  if (end > begin) d.pos = window_[end - 1].seq;
  auto key = std::make_pair(from, static_cast<int>(fmt));
  if (auto it = deltas_.find(key); it != deltas_.end()) {
    d.content = it->second;
  } else {
    std::vector<Post> posts(window_.begin() + static_cast<ptrdiff_t>(begin),
                            window_.begin() + static_cast<ptrdiff_t>(end));
    const Post* previous = (begin > 0 && !d.refresh) ? &window_[begin - 1] : nullptr;
    auto content =
        std::make_shared<const std::string>(render_content(fmt, posts, previous, settings_.render));
    if (deltas_.size() >= kMaxCachedDeltas) deltas_.clear();
    deltas_.emplace(key, content);
    d.content = std::move(content);
  }
  d.has_posts = from < sequence_;
  if (!d.has_posts) {
    d.content = shared_empty(fmt);
    d.posts = 0;
  }
  return d;
}

RoomStatus Room::status() const {
  std::lock_guard lock(mu_);
  return RoomStatus{sequence_, last_post_, cids_.counted() + chatters_elsewhere_};
}

std::shared_ptr<const std::string> Room::rss() {
  std::vector<Post> posts;
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    if (rss_) return rss_;
    size_t n = std::min(window_.size(), kMaxFeedItems);
    posts.assign(window_.end() - static_cast<ptrdiff_t>(n), window_.end());
    version = window_version_;
  }
  // Rendered outside the lock; cached only if no post arrived meanwhile, so
  // the cache never holds a feed older than an acknowledged post.
  FeedInfo info{settings_.config.name, settings_.config.description};
  auto feed = std::make_shared<const std::string>(render_rss(info, posts, settings_.render));
  std::lock_guard lock(mu_);
  if (!rss_ && version == window_version_) rss_ = feed;
  return feed;
}

std::vector<Post> Room::recent_posts(size_t max) const {
  std::lock_guard lock(mu_);
  size_t n = std::min(window_.size(), max);
  return std::vector<Post>(window_.end() - static_cast<ptrdiff_t>(n), window_.end());
}

std::string Room::cid_owner(std::string_view address) const {
  if (address.empty() || (settings_.rate_limiter && settings_.rate_limiter->exempt(address))) return {};
  return client_group(address);
}

CidTable::Admission Room::admit(std::optional<Cid> cid, std::string_view address, bool may_check) {
  std::shared_ptr<Waiter> dropped;
  CidTable::Admission a;
  {
    std::lock_guard lock(mu_);
    a = admit_locked(cid, address, may_check, dropped);
  }
  admitted(a, dropped);
  return a;
}

Room::Entrance Room::admit_and_wait(std::optional<Cid> cid, std::string_view address, bool may_check,
                                    uint64_t pos, const std::shared_ptr<Waiter>& waiter) {
  std::shared_ptr<Waiter> dropped;
  Entrance e;
  {
    std::lock_guard lock(mu_);
    e.admission = admit_locked(cid, address, may_check, dropped);
    const CidTable::Admission& a = e.admission;
    if (!a.unchecked && a.cid != kExpiredCid) {
      if (!cids_.behind(a.cid)) e.epoch = cids_.epoch();
      // Replaced, the client must hear of it first.
      if (!a.reallocated) e.waiting = wait_locked(a.cid, pos, waiter);
    }
  }
  admitted(e.admission, dropped);
  return e;
}

CidTable::Admission Room::admit_locked(std::optional<Cid> cid, std::string_view address, bool may_check,
                                       std::shared_ptr<Waiter>& dropped) {
  CidTable::Admission a;
  // A cid unknown here is checked with the store first (check_cid). So is
  // one another node announced while a stamp notice waits for its
  // comparison, or in a numbering this node has not loaded yet: it may
  // have been given out after a moderation (renew_cid), and admitted now,
  // before this node's reload, it would be started over a second time by
  // the reload.
  if (may_check && cid && queue_ && store_->shared() &&
      (!cids_.knows(*cid) ||
       (!cids_.contains(*cid) && (stamp_unchecked_locked() || cids_.unsettled(*cid))))) {
    a.unchecked = true;
    return a;
  }
  a = cids_.admit(cid, settings_.config.loose_login, clock_.now(), cid_owner(address));
  if (a.dropped) {
    if (auto it = waiters_.find(*a.dropped); it != waiters_.end()) {
      dropped = it->second.waiter.lock();
      waiters_.erase(it);
    }
  }
  return a;
}

void Room::admitted(const CidTable::Admission& a, const std::shared_ptr<Waiter>& dropped) {
  if (dropped) dropped->wake();  // it finds its cid gone and ends
  if (a.reallocated && store_->shared()) announce(a.cid, nullptr);
}

void Room::announce(Cid cid, std::function<void(Cid)> then) {
  if (!queue_) {
    if (then) then(cid);
    return;
  }
  bool first;
  {
    std::lock_guard lock(mu_);
    first = announcements_.empty();
    // The numbering its client's positions are in, even when a reload came
    // since the cid was given or its reply was made.
    announcements_.push_back(Announcement{cid, numbering_of_locked(cid), std::move(then)});
  }
  // One task for all announcements queued before it runs: many clients
  // arriving at once cost one commit, not one each.
  if (!first || queue_->post([this] { announce_queued(); })) return;
  // The commit thread has exited (the server stops): nobody is told, and
  // whoever waits for it goes on.
  std::vector<Announcement> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(announcements_);
  }
  for (Announcement& a : batch)
    if (a.then) a.then(a.cid);
}

void Room::announce_queued() {
  std::vector<Announcement> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(announcements_);
  }
  std::vector<IssuedCid> cids;
  cids.reserve(batch.size());
  for (const Announcement& a : batch) cids.push_back(IssuedCid{a.cid, a.numbering});
  // A client of a node whose database is away keeps its cid here; another
  // node asks the database about it (check_cid) and, not finding it, gives
  // the client a new one (loose login) or asks it to log in again.
  if (Status st = store_->announce_cids(cids); !st)
    log_warning("room " + slug() + ": cannot tell the other nodes of new clients: " + st.message());
  for (Announcement& a : batch)
    if (a.then) a.then(a.cid);
}

void Room::allocate_cid_then(std::string_view address, std::function<void(Cid)> done) {
  Cid cid = allocate_cid(address);
  if (!store_->shared()) return done(cid);
  announce(cid, std::move(done));
}

void Room::check_cid(Cid cid, std::function<void()> then) {
  if (!queue_) return then();
  queue_->post([this, cid, then = std::move(then)] {
    auto known = store_->cid_known(cid);
    if (!known) {
      log_warning("room " + slug() +
                  ": cannot ask the other nodes about a client: " + known.status().message());
    } else if (auto moved = reload_if_stamp_moved(); !moved) {
      // Read after the cid: a cid given out after a moderation finds the
      // stamp moved, even before this node heard of the moderation.
      log_warning("room " + slug() + ": cannot check whether its posts changed: " + moved.status().message());
    }
    if (known && *known) cid_announced(cid, **known);
    then();
  });
}

Cid Room::renew_cid(Cid cid, std::function<void()> announced) {
  std::optional<Cid> fresh;
  if (store_->shared()) {
    std::lock_guard lock(mu_);
    fresh = cids_.renew(cid, clock_.now());
    // Started over: neither waiting nor ahead under its old cid any more.
    assert(!waiters_.count(cid));
    ahead_.erase(cid);
    refuted_.erase(cid);
  }
  if (!fresh) {
    announced();
    return cid;
  }
  announce(*fresh, [announced = std::move(announced)](Cid) { announced(); });
  return *fresh;
}

void Room::stamp_loaded_locked(std::string stamp) {
  if (epoch_stamps_.size() == kEpochStampsKept) epoch_stamps_.erase(epoch_stamps_.begin());
  epoch_stamps_.emplace_back(cids_.epoch(), std::move(stamp));
}

const std::string& Room::change_stamp_locked() const {
  static const std::string none;
  return epoch_stamps_.empty() ? none : epoch_stamps_.back().second;
}

std::string Room::numbering_of_locked(Cid cid) const {
  std::optional<uint64_t> epoch = cids_.epoch_of(cid);
  if (!epoch) return {};
  for (const auto& [e, stamp] : epoch_stamps_)
    if (e == *epoch) return stamp;
  return {};  // retired (kBehindEpoch), or from an epoch long gone
}

void Room::cid_announced(Cid cid, std::string_view numbering) {
  std::lock_guard lock(mu_);
  cids_.known_elsewhere(cid, clock_.now(), numbering_epoch_locked(numbering), std::string(numbering));
}

namespace {
// A change stamp as a number, where it is one (PostgreSQL's: a count of
// moderations, docs/SCALING.md "Moderation").
std::optional<uint64_t> stamp_number(std::string_view stamp) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), n);
  if (stamp.empty() || ec != std::errc() || end != stamp.data() + stamp.size()) return std::nullopt;
  return n;
}
}  // namespace

std::optional<uint64_t> Room::numbering_epoch_locked(std::string_view numbering) const {
  // Not said (a node of an older version): given out in this epoch, unless
  // a moderation this node has not reloaded for yet came first; then in
  // the numbering the reload brings.
  if (numbering.empty()) return stamp_unchecked_locked() ? std::nullopt : std::optional(cids_.epoch());
  // The one loaded here: current, and behind after the next reload.
  if (numbering == change_stamp_locked()) return cids_.epoch();
  // One before it: started over when it comes.
  auto given = stamp_number(numbering), loaded = stamp_number(change_stamp_locked());
  if (given && loaded && *given < *loaded) return CidTable::kBehindEpoch;
  // A newer one, which this node reloads for next: placed then (Room::reload_if_stamp_moved).
  return std::nullopt;
}

Cid Room::allocate_cid(std::string_view address) {
  std::lock_guard lock(mu_);
  return cids_.allocate(clock_.now(), cid_owner(address));
}

void Room::replied(Cid cid) {
  std::lock_guard lock(mu_);
  cids_.replied(cid, clock_.now());
}

void Room::hold(Cid cid) {
  std::lock_guard lock(mu_);
  cids_.hold(cid);
}

bool Room::cid_alive(Cid cid) const {
  std::lock_guard lock(mu_);
  return cids_.contains(cid);
}

bool Room::wait(Cid cid, uint64_t pos, const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(mu_);
  return wait_locked(cid, pos, waiter);
}

bool Room::wait_locked(Cid cid, uint64_t pos, const std::shared_ptr<Waiter>& waiter) {
  // A reader from a node further ahead waits for the catch-up (room.h).
  if (stopping_) return false;
  bool ahead = pos > sequence_ && pos <= expected_sequence_locked() && !refuted_.count(cid);
  if ((pos != sequence_ && !ahead) || cids_.behind(cid)) return false;
  waiters_[cid] = WaitingReader(waiter);
  if (ahead) ahead_[cid] = pos;
  return true;
}

size_t Room::waiting_readers() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

bool Room::unwait(Cid cid, const Waiter* waiter, bool replied) {
  std::lock_guard lock(mu_);
  if (replied) cids_.replied(cid, clock_.now());
  if (auto it = waiters_.find(cid); it != waiters_.end()) {
    auto current = it->second.waiter.lock();
    if (!current || current.get() == waiter) {
      waiters_.erase(it);
      ahead_.erase(cid);
    }
  }
  if (cids_.contains(cid)) return true;
  // A newer request dropped the cid: nothing of its reader is kept, not
  // even what a last delta_since() of a reader from a node further ahead
  // noted for the catch-up after it was woken.
  ahead_.erase(cid);
  refuted_.erase(cid);
  return false;
}

void Room::sweep() {
  std::optional<size_t> changed;
  {
    std::lock_guard lock(mu_);
    // Idle here, it may be served by another node and come back.
    cids_.sweep(clock_.now(), settings_.client_timeout, /*remember=*/store_->shared());
    size_t n = cids_.counted();
    if (n != recorded_chatters_) changed = recorded_chatters_ = n;
  }
  if (store_->shared()) {
    // Its bookkeeping is a query, which does not belong on the caller's
    // thread (an event loop's), and a moderation is announced
    // (store_changed) rather than polled. The count is recorded every
    // sweep, changed or not: it is also this node's sign of life, and the
    // other nodes' counts move by themselves.
    size_t here;
    {
      std::lock_guard lock(mu_);
      here = cids_.counted();
      // Behind what it expects (a read failed): try again.
      if (sequence_ < expected_sequence_locked() || stamp_unchecked_locked()) queue_catch_up_locked();
      if (!queue_ || std::exchange(chatters_pending_, true)) return;
    }
    queue_->post([this, here] {
      store_->record_num_chatters(here);
      auto fresh = std::chrono::ceil<std::chrono::seconds>(settings_.client_timeout);
      size_t elsewhere = store_->chatters_elsewhere(fresh);
      std::lock_guard lock(mu_);
      chatters_elsewhere_.store(elsewhere, std::memory_order_relaxed);
      chatters_pending_ = false;
    });
    return;
  }
  if (changed) store_->record_num_chatters(*changed);
  reload_if_changed();
}

void Room::reload_if_changed() {
  if (!queue_) return;
  std::string stamp = store_->change_stamp();
  {
    std::lock_guard lock(mu_);
    if (stamp == change_stamp_locked()) return;
  }
  Status st = reload();
  if (st) return;
  std::lock_guard lock(mu_);
  if (failed_reload_stamp_ == stamp) return;  // said already; retried every sweep
  failed_reload_stamp_ = stamp;
  log_warning("room " + slug() + ": cannot reload after its posts changed: " + st.message());
}

Status Room::reload() {
  if (!queue_) return Status(Errc::io, "the room is not open");
  Status result;
  queue_->run_exclusive([&] { result = reload_now(); });
  return result;
}

Result<bool> Room::reload_if_stamp_moved() {
  uint64_t notices;
  {
    std::lock_guard lock(mu_);
    notices = stamp_notices_;
  }
  std::string stamp = store_->change_stamp();
  if (stamp.empty()) return Status(Errc::unavailable, "the store's change stamp cannot be read");
  bool moved;
  {
    std::lock_guard lock(mu_);
    moved = stamp != change_stamp_locked();
  }
  if (moved) {
    if (Status st = reload_now(); !st) return st;
  }
  std::lock_guard lock(mu_);
  if (notices > stamp_compared_) stamp_compared_ = notices;
  // A cid announced in a numbering this node had not loaded, or without
  // one while the comparison was pending, was recorded without an epoch
  // (cid_announced): this node has the newest numbering now, unless
  // another notice came meanwhile.
  if (!stamp_unchecked_locked()) cids_.settle_elsewhere(change_stamp_locked());
  return moved;
}

Result<StoreSnapshot> Room::load(std::string& stamp) {
  stamp = store_->change_stamp();
  auto snap = store_->open();
  for (int tries = 1; snap && tries < kLoadTries; ++tries) {
    // The same stamp after as before: no moderation came in between, so
    // the snapshot is in that numbering. A stamp that cannot be read now
    // proves nothing: the one read before stays, as when the tries run out
    // or a second load fails, and the next comparison finds it moved if it
    // did (one reload more). Both reads failing ("" twice) pass for equal:
    // the store is failing, and what it announces fails too.
    std::string after = store_->change_stamp();
    if (after == stamp || after.empty()) break;
    auto again = store_->open();
    // Keep the first, unless no stamp was read before it: then its
    // numbering is not known at all, and the load fails.
    if (!again) return stamp.empty() ? again : snap;
    snap = std::move(again);
    stamp = std::move(after);
  }
  return snap;
}

Status Room::reload_now() {
  std::string stamp;
  auto snap = load(stamp);
  if (!snap) return snap.status();
  Waiters woken;
  {
    std::lock_guard lock(mu_);
    // The epoch is published before the window it goes with: a reader that
    // sees the new window without the lock sees the new epoch too.
    cids_.begin_epoch();
    published_epoch_.store(cids_.epoch(), std::memory_order_release);
    load_window(*snap);
    deltas_.clear();
    rss_.reset();
    bump_window_version_locked();
    reload_sequence_ = sequence_;
    announced_sequence_ = sequence_;
    hinted_sequence_ = 0;
    refuted_.clear();
    stamp_loaded_locked(std::move(stamp));
    woken = take_waiters_locked();
  }
  wake_all(std::move(woken));
  return Status::ok();
}

}  // namespace chaton

namespace chaton {

Result<ArchiveReport> Room::archive(Date today) {
  Result<ArchiveReport> result(Errc::io, "the room is not open");
  if (!queue_) return result;
  queue_->run_exclusive([&] {
    result = store_->archive(today);
    if (!result) return;
    std::lock_guard lock(mu_);
    while (window_.size() > result->kept_in_current) window_.pop_front();
    deltas_.clear();
    rss_.reset();
    bump_window_version_locked();
  });
  return result;
}

}  // namespace chaton
