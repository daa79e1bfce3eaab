// ConnectionLimiter: see connection_limiter.h.
#include "access/connection_limiter.h"

namespace chaton {

ConnectionLimiter::ConnectionLimiter(size_t max_total, size_t max_per_address, AddressRanges exempt)
    : max_total_(max_total), max_per_address_(max_per_address), exempt_(std::move(exempt)) {}

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& address) {
  bool capped = !exempt_.contains(address);
  {
    std::lock_guard lock(mu_);
    if (total_ >= max_total_) return {Verdict::too_many, nullptr};
    if (capped) {
      size_t& n = per_address_[address];
      if (n >= max_per_address_) return {Verdict::too_many_from_address, nullptr};
      ++n;
    }
    ++total_;
  }
  std::string key = capped ? address : std::string();
  return {Verdict::ok, std::shared_ptr<void>(nullptr, [this, key](void*) { release(key); })};
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mu_);
  --total_;
  if (address.empty()) return;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

size_t ConnectionLimiter::open() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace chaton
