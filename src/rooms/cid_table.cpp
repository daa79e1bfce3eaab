// CidTable: see cid_table.h for the rules.
#include "rooms/cid_table.h"

namespace chaton {

CidTable::CidTable(uint64_t seed) : rng_(seed) {}

Cid CidTable::fresh_cid() {
  std::uniform_int_distribution<Cid> dist(0, kCidLimit - 1);
  for (;;) {
    Cid c = dist(rng_);
    if (!entries_.count(c)) return c;
  }
}

CidTable::Admission CidTable::admit(std::optional<Cid> cid, bool loose_login, SysTime now) {
  Admission a;
  auto it = cid ? entries_.find(*cid) : entries_.end();
  if (it != entries_.end() && !it->second.waiting) {
    it->second.waiting = true;
    a.cid = *cid;
    return a;
  }
  if (it != entries_.end()) {  // duplicate: its request is already waiting
    a.dropped = *cid;
    entries_.erase(it);
  } else if (!loose_login) {
    return a;  // expired
  }
  a.cid = fresh_cid();
  a.reallocated = true;
  entries_.emplace(a.cid, Entry{true, now, epoch_});
  return a;
}

Cid CidTable::allocate(SysTime now) {
  Cid c = fresh_cid();
  entries_.emplace(c, Entry{false, now, epoch_});
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
  auto it = entries_.find(cid);
  return it != entries_.end() && it->second.epoch != epoch_;
}

void CidTable::caught_up(Cid cid) {
  auto it = entries_.find(cid);
  if (it != entries_.end()) it->second.epoch = epoch_;
}

std::vector<Cid> CidTable::sweep(SysTime now, std::chrono::microseconds timeout) {
  std::vector<Cid> gone;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!it->second.waiting && now - it->second.last_reply > timeout) {
      gone.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace chaton
