// Bursts: see burst.h.
#include "util/burst.h"

#include <cassert>
#include <utility>

namespace chaton {

namespace {
thread_local std::vector<BurstTask>* open_burst = nullptr;
}  // namespace

bool in_burst() { return open_burst != nullptr; }

void defer(BurstTask task) {
  assert(open_burst && task.run);
  open_burst->push_back(std::move(task));
}

BurstScope::BurstScope(std::vector<BurstTask>& tasks) : outer_(std::exchange(open_burst, &tasks)) {}

BurstScope::~BurstScope() { open_burst = outer_; }

}  // namespace chaton
