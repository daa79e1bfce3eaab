// ConnectionLimiter: caps on open connections, in all and per address.
//
// admit() hands out a Ticket for each accepted connection; the connection
// holds it until it closes (the ticket's destructor gives the place back).
// Past the global cap the server answers 503, past the per-address cap 429.
// Addresses in `exempt` (trusted reverse proxies, which carry many clients)
// are not capped per address.
//
// Thread-safety: admit() and ticket destruction from any thread.
// Lifetime: the limiter must outlive every ticket.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "access/blacklist.h"

namespace chaton {

class ConnectionLimiter {
 public:
  enum class Verdict { ok, too_many, too_many_from_address };

  ConnectionLimiter(size_t max_total, size_t max_per_address, AddressRanges exempt);

  struct Admission {
    Verdict verdict = Verdict::ok;
    std::shared_ptr<void> ticket;  // null unless ok
  };
  Admission admit(const std::string& address);

  size_t open() const;

 private:
  void release(const std::string& address);

  size_t max_total_;
  size_t max_per_address_;
  AddressRanges exempt_;
  mutable std::mutex mu_;
  size_t total_ = 0;
  std::unordered_map<std::string, size_t> per_address_;
};

}  // namespace chaton
