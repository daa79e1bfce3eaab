// ConnectionLimiter: caps on open connections, in all and per address, and
// on the bytes one address holds in unsent responses.
//
// admit() hands out a Ticket for each accepted connection; the connection
// holds it until it closes (the ticket's destructor gives the place back).
// Past the global cap the server answers 503, past the per-address cap 429.
//
// Through its ticket a connection charges the bytes of each response (or
// stream chunk) it is about to write to its address; the Charge gives them
// back when it is released or destroyed, exactly once. A charge that would
// take an address that already holds bytes past `max_bytes_per_address` is
// refused (the connection then refuses the response or cuts the stream;
// docs/SECURITY.md, "Slow, idle and long-lived connections"). One response
// is always allowed when the address holds nothing, so a reply larger than
// the budget is not refused forever. A charge costs one atomic add; two
// charges racing at the edge may both be refused, but the budget is never
// passed except by that lone first response.
//
// Addresses in `exempt` (trusted reverse proxies, which carry many clients)
// are not capped per address, in places or in bytes. A connection from such
// a proxy counts instead against the client it carries while it serves that
// client's request (admit_carried(): the client's address is only known from
// the request's X-Forwarded-For, see access/forwarded.h).
//
// Thread-safety: admit(), charges and ticket/charge destruction from any
// thread. A Ticket or Charge object itself is used from one thread at a time.
// Lifetime: the limiter must outlive every ticket; a charge keeps its
// ticket alive.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "access/blacklist.h"

namespace chaton {

class ConnectionLimiter {
 public:
  enum class Verdict { ok, too_many, too_many_from_address };
  static constexpr size_t kNoByteLimit = std::numeric_limits<size_t>::max();

  class Ticket;
  class Charge;

  ConnectionLimiter(size_t max_total, size_t max_per_address, AddressRanges exempt,
                    size_t max_bytes_per_address = kNoByteLimit);

  struct Admission {
    Verdict verdict = Verdict::ok;
    std::shared_ptr<Ticket> ticket;  // null unless ok
  };
  Admission admit(const std::string& address);
  // A place for `address`, the client a trusted proxy carries over the
  // connection that holds `carrier` (a ticket from admit()): capped per
  // address, in places and in bytes, like a connection of its own, but not
  // counted in all again. The ticket keeps `carrier` alive. Over the
  // per-address cap: too_many_from_address, and no ticket.
  Admission admit_carried(const std::string& address, std::shared_ptr<Ticket> carrier);

  size_t open() const;
  // Connections refused so far with `verdict` (for /metrics; 0 for ok).
  uint64_t refused(Verdict verdict) const;
  // Bytes charged to `address` now (0 for an exempt or unknown address).
  size_t buffered(const std::string& address) const;

 private:
  struct Entry {
    size_t places = 0;             // guarded by mu_
    std::atomic<size_t> bytes{0};  // charged and not yet released
  };
  Entry* take_place_locked(const std::string& address);
  void release(const std::string& key, Entry* entry, bool counted_in_total);

  size_t max_total_;
  size_t max_per_address_;
  size_t max_bytes_per_address_;
  AddressRanges exempt_;
  mutable std::mutex mu_;
  size_t total_ = 0;
  uint64_t refused_total_ = 0;                          // Verdict::too_many so far
  uint64_t refused_per_address_ = 0;                    // Verdict::too_many_from_address so far
  std::unordered_map<std::string, Entry> per_address_;  // nodes are stable: tickets point at them
};

// A connection's place under the caps; gives it back when destroyed.
class ConnectionLimiter::Ticket : public std::enable_shared_from_this<Ticket> {
 public:
  Ticket(ConnectionLimiter& owner, std::string key, Entry* entry, std::shared_ptr<Ticket> carrier = nullptr)
      : owner_(owner), key_(std::move(key)), entry_(entry), carrier_(std::move(carrier)) {}
  ~Ticket() { owner_.release(key_, entry_, carrier_ == nullptr); }
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;

  // Charges `bytes` to this connection's address until the returned Charge
  // is released; nothing when the address is over its budget.
  [[nodiscard]] std::optional<Charge> charge(size_t bytes);

  // The address this place is counted against; empty for an exempt one.
  const std::string& address() const { return key_; }
  // The proxy's connection a carried client's ticket stands on (null for a
  // ticket from admit()).
  const std::shared_ptr<Ticket>& carrier() const { return carrier_; }

 private:
  friend class Charge;
  ConnectionLimiter& owner_;
  std::string key_;                  // empty for an exempt address
  Entry* entry_;                     // null for an exempt address
  std::shared_ptr<Ticket> carrier_;  // admit_carried(): the connection's own place
};

// Bytes held for one response or chunk; move-only, released exactly once.
class ConnectionLimiter::Charge {
 public:
  Charge() = default;  // holds nothing
  Charge(Charge&& other) noexcept
      : ticket_(std::move(other.ticket_)), bytes_(std::exchange(other.bytes_, 0)) {}
  Charge& operator=(Charge&& other) noexcept {
    if (this != &other) {
      release();
      ticket_ = std::move(other.ticket_);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  ~Charge() { release(); }

  // Gives the bytes back now; later calls (and the destructor) do nothing.
  void release();
  size_t bytes() const { return bytes_; }

 private:
  friend class Ticket;
  Charge(std::shared_ptr<Ticket> ticket, size_t bytes) : ticket_(std::move(ticket)), bytes_(bytes) {}
  std::shared_ptr<Ticket> ticket_;
  size_t bytes_ = 0;
};

// Charges `bytes` through `ticket`; a connection without a ticket (no
// limiter) charges nothing and is never refused.
[[nodiscard]] inline std::optional<ConnectionLimiter::Charge> charge_bytes(
    const std::shared_ptr<ConnectionLimiter::Ticket>& ticket, size_t bytes) {
  if (!ticket) return ConnectionLimiter::Charge();
  return ticket->charge(bytes);
}

}  // namespace chaton
