// Drain: see drain.h.
#include "http/drain.h"

#include <vector>

namespace chaton::http {

Drain::Slot Drain::join(std::weak_ptr<Member> member) {
  std::lock_guard lock(mu_);
  return members_.insert(members_.end(), std::move(member));
}

void Drain::leave(Slot slot) {
  std::lock_guard lock(mu_);
  members_.erase(slot);
}

void Drain::start() {
  std::vector<std::shared_ptr<Member>> told;
  {
    std::lock_guard lock(mu_);
    draining_.store(true, std::memory_order_release);
    told.reserve(members_.size());
    for (auto& m : members_)
      if (auto s = m.lock()) told.push_back(std::move(s));
  }
  for (auto& m : told) m->wind_down();
}

}  // namespace chaton::http
