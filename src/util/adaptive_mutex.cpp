// AdaptiveMutex: see adaptive_mutex.h.
#include "util/adaptive_mutex.h"

#include <cassert>
#include <cerrno>
#include <system_error>

namespace chaton {

AdaptiveMutex::AdaptiveMutex() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
  int rc = pthread_mutex_init(&mu_, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_mutex_init");
}

AdaptiveMutex::~AdaptiveMutex() {
  [[maybe_unused]] int rc = pthread_mutex_destroy(&mu_);
  assert(rc == 0 && "destroyed while held");
}

void AdaptiveMutex::lock() {
  if (int rc = pthread_mutex_lock(&mu_); rc != 0)
    throw std::system_error(rc, std::generic_category(), "mutex lock");
  count();
}

bool AdaptiveMutex::try_lock() {
  int rc = pthread_mutex_trylock(&mu_);
  if (rc == EBUSY) return false;
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "mutex trylock");
  count();
  return true;
}

void AdaptiveMutex::unlock() {
  [[maybe_unused]] int rc = pthread_mutex_unlock(&mu_);
  assert(rc == 0 && "unlocked by a thread that does not hold it");
}

}  // namespace chaton
