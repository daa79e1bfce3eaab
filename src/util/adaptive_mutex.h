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
// It counts how often it was taken (acquisitions()), so that a test can
// tell how many times a path takes a lock: the count is written by the
// holder alone, next to the lock word it has just written anyway.
//
// Thread-safety: lock(), try_lock() and unlock() from any thread, as for
// std::mutex (BasicLockable and Lockable: std::lock_guard and
// std::unique_lock take it). Not recursive; unlock() by the holder only.
// acquisitions() from any thread.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

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

  // How many times lock() or a successful try_lock() took it so far.
  uint64_t acquisitions() const { return acquisitions_.load(std::memory_order_relaxed); }

 private:
  void count() {
    acquisitions_.store(acquisitions_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  pthread_mutex_t mu_;
  std::atomic<uint64_t> acquisitions_{0};  // written by the holder only
};

}  // namespace chaton
