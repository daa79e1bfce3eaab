// ConnectionLimiter: see connection_limiter.h.
#include "access/connection_limiter.h"

namespace chaton {

ConnectionLimiter::ConnectionLimiter(size_t max_total, size_t max_per_address, AddressRanges exempt,
                                     size_t max_bytes_per_address)
    : max_total_(max_total),
      max_per_address_(max_per_address),
      max_bytes_per_address_(max_bytes_per_address),
      exempt_(std::move(exempt)) {}

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& address) {
  bool capped = !exempt_.contains(address);
  Entry* entry = nullptr;
  {
    std::lock_guard lock(mu_);
    if (total_ >= max_total_) {
      ++refused_total_;
      return {Verdict::too_many, nullptr};
    }
    if (capped && !(entry = take_place_locked(address))) return {Verdict::too_many_from_address, nullptr};
    ++total_;
  }
  return {Verdict::ok, std::make_shared<Ticket>(*this, capped ? address : std::string(), entry)};
}

ConnectionLimiter::Admission ConnectionLimiter::admit_carried(const std::string& address,
                                                              std::shared_ptr<Ticket> carrier) {
  if (exempt_.contains(address))
    return {Verdict::ok, std::make_shared<Ticket>(*this, std::string(), nullptr, std::move(carrier))};
  Entry* entry = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!(entry = take_place_locked(address))) return {Verdict::too_many_from_address, nullptr};
  }
  return {Verdict::ok, std::make_shared<Ticket>(*this, address, entry, std::move(carrier))};
}

// One more place for `address`, or null (and a refusal counted) when it
// has max_per_address already. mu_ is held.
ConnectionLimiter::Entry* ConnectionLimiter::take_place_locked(const std::string& address) {
  Entry* entry = &per_address_[address];
  if (entry->places >= max_per_address_) {
    if (entry->places == 0) per_address_.erase(address);
    ++refused_per_address_;
    return nullptr;
  }
  ++entry->places;
  return entry;
}

void ConnectionLimiter::release(const std::string& key, Entry* entry, bool counted_in_total) {
  std::lock_guard lock(mu_);
  if (counted_in_total) --total_;
  // Every charge holds its ticket, so the address's bytes are all given
  // back before its last place is.
  if (entry && --entry->places == 0) per_address_.erase(key);
}

size_t ConnectionLimiter::open() const {
  std::lock_guard lock(mu_);
  return total_;
}

uint64_t ConnectionLimiter::refused(Verdict verdict) const {
  std::lock_guard lock(mu_);
  switch (verdict) {
    case Verdict::too_many:
      return refused_total_;
    case Verdict::too_many_from_address:
      return refused_per_address_;
    case Verdict::ok:
      break;
  }
  return 0;
}

size_t ConnectionLimiter::buffered(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second.bytes.load();
}

std::optional<ConnectionLimiter::Charge> ConnectionLimiter::Ticket::charge(size_t bytes) {
  if (!entry_ || bytes == 0) return Charge();
  size_t before = entry_->bytes.fetch_add(bytes);
  if (before != 0 && before + bytes > owner_.max_bytes_per_address_) {
    entry_->bytes.fetch_sub(bytes);
    return std::nullopt;
  }
  return Charge(shared_from_this(), bytes);
}

void ConnectionLimiter::Charge::release() {
  if (!ticket_) return;
  if (bytes_ != 0) ticket_->entry_->bytes.fetch_sub(bytes_);
  bytes_ = 0;
  ticket_.reset();
}

}  // namespace chaton
