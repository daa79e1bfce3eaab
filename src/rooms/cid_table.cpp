// CidTable: see cid_table.h for the rules.
#include "rooms/cid_table.h"

#include <iterator>
#include <utility>

namespace chaton {

CidTable::CidTable(uint64_t seed) : rng_(seed) {}

Cid CidTable::fresh_cid() {
  std::uniform_int_distribution<Cid> dist(0, kCidLimit - 1);
  for (;;) {
    Cid c = dist(rng_);
    if (!entries_.count(c) && !elsewhere_.count(c)) return c;
  }
}

void CidTable::count(const Entry& e) {
  if (e.owner.empty() || ++per_owner_[e.owner] <= kCountedCidsPerAddress)
    counted_.fetch_add(1, std::memory_order_relaxed);
}

void CidTable::uncount(const Entry& e) {
  if (e.owner.empty()) {
    counted_.fetch_sub(1, std::memory_order_relaxed);
  } else if (auto o = per_owner_.find(e.owner); o != per_owner_.end()) {
    if (o->second-- <= kCountedCidsPerAddress) counted_.fetch_sub(1, std::memory_order_relaxed);
    if (o->second == 0) per_owner_.erase(o);
  }
}

void CidTable::add(Cid cid, Entry entry) {
  if (entry.epoch != epoch_) ++behind_;
  count(entry);
  entries_.emplace(cid, std::move(entry));
}

CidTable::Entries::iterator CidTable::remove(Entries::iterator it) {
  if (it->second.epoch != epoch_) --behind_;
  if (!it->second.retired) uncount(it->second);
  auto next = std::next(it);
  entries_.erase(it);
  return next;
}

CidTable::Admission CidTable::admit(std::optional<Cid> cid, bool loose_login, SysTime now,
                                    std::string_view owner) {
  Admission a;
  auto it = cid ? entries_.find(*cid) : entries_.end();
  if (it != entries_.end() && !it->second.waiting) {
    Entry& e = it->second;
    e.waiting = true;
    if (std::exchange(e.retired, false)) count(e);  // back with a renewed cid: behind still
    a.cid = *cid;
    return a;
  }
  if (it == entries_.end() && cid) {
    if (auto e = elsewhere_.find(*cid); e != elsewhere_.end()) {  // from another node
      uint64_t epoch = e->second.epoch.value_or(epoch_);
      forget_elsewhere(e);
      add(*cid, Entry{true, now, epoch, std::string(owner)});
      a.cid = *cid;
      return a;
    }
  }
  if (it != entries_.end()) {  // duplicate: its request is already waiting
    a.dropped = *cid;
    remove(it);
  } else if (!loose_login) {
    return a;  // expired
  }
  a.cid = fresh_cid();
  a.reallocated = true;
  add(a.cid, Entry{true, now, epoch_, std::string(owner)});
  return a;
}

Cid CidTable::allocate(SysTime now, std::string_view owner) {
  Cid c = fresh_cid();
  add(c, Entry{false, now, epoch_, std::string(owner)});
  return c;
}

void CidTable::replied(Cid cid, SysTime now) {
  auto it = entries_.find(cid);
  if (it == entries_.end()) return;
  it->second.waiting = false;
  it->second.last_reply = now;
}

void CidTable::hold(Cid cid) {
  auto it = entries_.find(cid);
  if (it != entries_.end()) it->second.waiting = true;
}

bool CidTable::behind(Cid cid) const {
  if (behind_ == 0) return false;
  auto it = entries_.find(cid);
  return it != entries_.end() && it->second.epoch != epoch_;
}

std::optional<uint64_t> CidTable::epoch_of(Cid cid) const {
  auto it = entries_.find(cid);
  if (it == entries_.end()) return std::nullopt;
  return it->second.epoch;
}

void CidTable::caught_up(Cid cid) {
  if (behind_ == 0) return;
  auto it = entries_.find(cid);
  if (it == entries_.end() || it->second.epoch == epoch_) return;
  it->second.epoch = epoch_;
  --behind_;
}

std::optional<Cid> CidTable::renew(Cid cid, SysTime now) {
  auto it = entries_.find(cid);
  if (it == entries_.end() || it->second.retired) return std::nullopt;
  Entry& old = it->second;
  Entry entry = old;
  uncount(old);
  old.retired = true;
  old.waiting = false;
  old.last_reply = now;
  if (old.epoch == epoch_) ++behind_;
  old.epoch = kBehindEpoch;
  Cid fresh = fresh_cid();
  add(fresh, std::move(entry));
  return fresh;
}

void CidTable::known_elsewhere(Cid cid, SysTime now, std::optional<uint64_t> epoch, std::string numbering) {
  if (entries_.count(cid)) return;
  auto [e, fresh] = elsewhere_.try_emplace(cid, Elsewhere{now, epoch, std::move(numbering)});
  if (!fresh) {
    e->second.since = now;
  } else if (!epoch) {
    ++unsettled_;
  }
}

void CidTable::settle_elsewhere(std::string_view current) {
  if (unsettled_ == 0) return;
  for (auto& [cid, e] : elsewhere_)
    if (!e.epoch) e.epoch = e.numbering.empty() || e.numbering == current ? epoch_ : kBehindEpoch;
  unsettled_ = 0;
}

bool CidTable::unsettled(Cid cid) const {
  if (unsettled_ == 0) return false;
  auto e = elsewhere_.find(cid);
  return e != elsewhere_.end() && !e->second.epoch;
}

void CidTable::forget_elsewhere(std::unordered_map<Cid, Elsewhere>::iterator e) {
  if (!e->second.epoch) --unsettled_;
  elsewhere_.erase(e);
}

std::vector<Cid> CidTable::sweep(SysTime now, std::chrono::microseconds timeout, bool remember) {
  for (auto e = elsewhere_.begin(); e != elsewhere_.end();) {
    auto next = std::next(e);
    if (now - e->second.since > kElsewhereMemory) forget_elsewhere(e);
    e = next;
  }
  std::vector<Cid> gone;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.waiting && now - it->second.last_reply > timeout) {
      gone.push_back(it->first);
      if (remember) {
        if (auto e = elsewhere_.find(it->first); e != elsewhere_.end()) forget_elsewhere(e);
        elsewhere_.emplace(it->first, Elsewhere{now, it->second.epoch, {}});
      }
      it = remove(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace chaton
