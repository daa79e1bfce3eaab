// AdaptiveMutex: a mutex for short critical sections taken from many
// threads at once — a room's state, which every event loop reads on each
// delivery (rooms/room.h).
//
// std::mutex puts a thread that finds the lock taken to sleep in the
// kernel at once (a futex wait, then a wake-up by the holder): two system
// calls and a context switch for a section that lasts well under a
// microsecond. This one is glibc's adaptive mutex
// (PTHREAD_MUTEX_ADAPTIVE_NP): a thread that finds it taken first tries
// again a bounded number of times, spinning, and sleeps only if it is
// still taken then. Uncontended, it costs what std::mutex does.
//
// Thread-safety: lock(), try_lock() and unlock() from any thread, as for
// std::mutex (BasicLockable and Lockable: std::lock_guard and
// std::unique_lock take it). Not recursive; unlock() by the holder only.
#pragma once

#include <pthread.h>

namespace chaton {

class AdaptiveMutex {
 public:
  AdaptiveMutex();
  ~AdaptiveMutex();
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();

 private:
  pthread_mutex_t mu_;
};

}  // namespace chaton
