// Drain: the HTTP sessions open now, so that a stopping server can let
// them finish instead of cutting them (docs/DEPLOY.md, "Stopping and
// restarting").
//
// Each session joins when it starts and leaves when it is destroyed. After
// start(), a session ends as soon as it has nothing in hand: one waiting
// for a next request (keep-alive) closes at once, one reading a request or
// answering one closes once its response is written (which says
// `Connection: close`). Streams and WebSockets are not ended here: their
// readers are (Room::stop_readers), and their sessions then go.
//
// Thread-safety: every member from any thread; a member's wind_down() is
// called with no lock held, and must hop to its own executor.
// Lifetime: the Drain must outlive every session that joined it.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>

namespace chaton::http {

class Drain {
 public:
  class Member {
   public:
    virtual ~Member() = default;
    // The server stops taking requests: end once idle (see above).
    virtual void wind_down() = 0;
  };
  using Slot = std::list<std::weak_ptr<Member>>::iterator;

  Slot join(std::weak_ptr<Member> member);
  void leave(Slot slot);

  // From now on draining() is true; every member is told (wind_down()).
  void start();
  bool draining() const { return draining_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::list<std::weak_ptr<Member>> members_;
  std::atomic<bool> draining_{false};
};

}  // namespace chaton::http
