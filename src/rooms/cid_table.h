// CidTable: the comet clients a room knows (docs/PROTOCOL.md, "The comet
// long-poll").
//
// A client is named by a cid, a random integer below kCidLimit. Each entry
// records whether a request of that client is waiting now and when the
// client last got a reply. A client that is not waiting and got its last
// reply more than `client_timeout` ago is gone (sweep). The number of
// entries is `nc`, the chatters count every reply carries.
//
// Admission rules: a known cid goes on; an unknown (or absent) cid gets a
// new one with loose login, or is refused as expired without; a cid whose
// request is already waiting is a duplicate: it gets a new cid and the old
// entry is dropped, which ends the old waiting request.
//
// Counting: a new entry is owned by the address that asked for it (none
// for an address that is not capped, see Room::admit). The chatters count
// (counted()) takes at most kCountedCidsPerAddress live entries of one
// address: more are served as usual but not counted, so one client cannot
// inflate the count with cheap requests (docs/PROTOCOL.md, "Status").
//
// Epochs: when the room reloads its posts (after a moderation rewrote
// them, see room.h), positions held before mean nothing any more. The
// table counts reloads (its epoch); every entry remembers the epoch its
// client last saw. behind() tells the room a client's view is from before
// the last reload, so it must start over; caught_up() records that it was
// told. New entries start in the current epoch. renew() gives a client that
// is started over a new cid instead (a shared store, room.h "Several
// writers": the old cid may still be behind on other nodes). The old entry
// stays, retired: not counted, not waiting, behind; a client that comes
// back with it (the reply with its new cid was lost) is started over again,
// and it goes at the sweep like any idle entry.
//
// Other nodes (a shared store, docs/SCALING.md "Clients across nodes"): a
// client may take its cid from one node to another. known_elsewhere()
// records a cid that another node gave out, and sweep() one that left this
// table while it may live on elsewhere; a request carrying such a cid is
// admitted as known, not expired or given a new one. Each keeps an epoch,
// so a client from before a reload is still started over when it comes:
// a swept cid the one its client last saw here (a retired one is behind
// for good); an announced one the epoch the caller finds for the numbering
// it was given in (kBehindEpoch for one before the caller's), or none yet
// when the caller cannot tell before its next reload: settle_elsewhere()
// then places it by its numbering. Such cids are remembered for
// kElsewhereMemory, and never handed out again here.
//
// Thread-safety: none; the Room serialises access under its lock.
// Time is passed in, never read, so tests drive it directly.
#pragma once

#include <atomic>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "util/clock.h"

namespace chaton {

using Cid = int64_t;
inline constexpr Cid kCidLimit = 0x10000000;
inline constexpr Cid kExpiredCid = -1;
inline constexpr size_t kCountedCidsPerAddress = 16;
// How long a node remembers a cid it heard of, and the numbering its client
// had (see "Other nodes"); the store remembers both longer (a day:
// Room::check_cid asks it).
inline constexpr std::chrono::minutes kElsewhereMemory{10};

class CidTable {
 public:
  explicit CidTable(uint64_t seed = std::random_device{}());

  struct Admission {
    Cid cid = kExpiredCid;       // kExpiredCid: refused (loose login off)
    bool reallocated = false;    // a new cid was given: tell the client at once
    std::optional<Cid> dropped;  // a duplicate's old cid
    bool unchecked = false;      // (Room::admit) unknown here: ask the other nodes first
  };

  // True when `cid` is in the table or known to live on elsewhere.
  bool knows(Cid cid) const { return entries_.count(cid) || elsewhere_.count(cid); }

  // A request arrives carrying `cid`; on success the entry is marked waiting.
  // A new entry is owned by `owner` (empty: not capped).
  Admission admit(std::optional<Cid> cid, bool loose_login, SysTime now, std::string_view owner = {});

  // A new entry that is not waiting (API login hands it out).
  Cid allocate(SysTime now, std::string_view owner = {});

  // The waiting request of `cid` was answered (or went away) at `now`.
  void replied(Cid cid, SysTime now);

  // A long-lived stream (SSE, WebSocket) holds `cid`: waiting until replied().
  void hold(Cid cid);

  // Drops entries idle for longer than `timeout`; returns the dropped cids.
  // With `remember`, they are kept as known elsewhere (see above).
  std::vector<Cid> sweep(SysTime now, std::chrono::microseconds timeout, bool remember = false);

  bool contains(Cid cid) const { return entries_.count(cid) != 0; }
  size_t size() const { return entries_.size(); }  // retired entries too
  // The chatters count: entries, at most kCountedCidsPerAddress per owner.
  // The one member that may be read without the owner's lock (it is
  // changed under it): a reader's packet carries it (`nc`) on every
  // delivery, from every event loop.
  size_t counted() const { return counted_.load(std::memory_order_relaxed); }

  // --- other nodes (see above)
  // Records `cid` unless it is in the table; one recorded already keeps its
  // epoch. `numbering`: the one it was given in (a store's change stamp),
  // empty when not said.
  void known_elsewhere(Cid cid, SysTime now, std::optional<uint64_t> epoch = std::nullopt,
                       std::string numbering = {});
  // The caller now has the numbering `current` loaded, the newest: a cid
  // recorded without an epoch is in the current epoch when it was given in
  // that numbering (or its numbering was not said), else behind.
  void settle_elsewhere(std::string_view current);
  // `cid` is recorded as known elsewhere without an epoch yet.
  bool unsettled(Cid cid) const;
  size_t known_elsewhere_count() const { return elsewhere_.size(); }

  // --- epochs
  // An epoch never the table's: an entry in it is behind for good.
  static constexpr uint64_t kBehindEpoch = UINT64_MAX;
  void begin_epoch() {
    ++epoch_;
    behind_ = entries_.size();
  }
  uint64_t epoch() const { return epoch_; }
  // True when `cid` is known and last saw an older epoch. Asked on every
  // delivery of a stream; with no entry behind (the table keeps count)
  // it looks nothing up.
  bool behind(Cid cid) const;
  // The last epoch the client of `cid` saw; nullopt when `cid` is not in
  // the table (kBehindEpoch when retired).
  std::optional<uint64_t> epoch_of(Cid cid) const;
  // `cid` was given a fresh view: it is in the current epoch now.
  void caught_up(Cid cid);
  // Gives the client of `cid` a new cid: an entry like its own (epoch,
  // waiting, owner, last reply), counted in its place; `cid` is retired
  // (see above) at `now`. nullopt when `cid` is not in the table, or retired.
  std::optional<Cid> renew(Cid cid, SysTime now);

 private:
  struct Entry {
    bool waiting = false;
    SysTime last_reply{};
    uint64_t epoch = 0;    // the last epoch this client saw
    std::string owner;     // empty: not capped
    bool retired = false;  // renewed: not counted, behind (see above)
  };
  // Open addressing: a lookup (two or three a long-poll round trip, under
  // the room's lock) reads a group's metadata and one slot, where a node
  // table follows pointers to scattered nodes. Erasing leaves the other
  // elements in place; an insertion may move them all.
  using Entries = boost::unordered_flat_map<Cid, Entry>;
  Cid fresh_cid();
  void add(Cid cid, Entry entry);
  Entries::iterator remove(Entries::iterator it);
  // The chatters count's share of an entry that is not retired.
  void count(const Entry& e);
  void uncount(const Entry& e);

  Entries entries_;
  std::unordered_map<std::string, size_t> per_owner_;  // live entries of each owner
  struct Elsewhere {
    SysTime since;
    std::optional<uint64_t> epoch;  // see above; none: not settled yet
    std::string numbering;          // given in; empty: not said
  };
  std::unordered_map<Cid, Elsewhere> elsewhere_;  // cids other nodes may serve
  size_t unsettled_ = 0;                          // of them, without an epoch
  void forget_elsewhere(std::unordered_map<Cid, Elsewhere>::iterator e);
  std::atomic<size_t> counted_{0};
  size_t behind_ = 0;  // entries whose epoch is older than epoch_
  std::mt19937_64 rng_;
  uint64_t epoch_ = 0;
};

}  // namespace chaton
