// Store: where a room's posts live. Nothing outside a Store touches files
// (or, for a later backend, a database).
//
// The embedded FileStore keeps the original Chaton layout (docs/STORAGE.md);
// a PostgreSQL backend can implement the same interface for several nodes.
//
// Thread-safety: a Store is used by one room. append() is called from the
// room's commit thread only; the read functions may be called from any thread
// concurrently with append().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "messages/post.h"
#include "util/civil_time.h"
#include "util/result.h"

namespace chaton {

// What a room needs to know when it starts.
struct StoreSnapshot {
  std::vector<Post> recent;  // the live log (current.dat), seq filled in, oldest first
  uint64_t sequence = 0;     // posts ever; the seq of the newest post
  int64_t last_post = 0;     // unix time of the newest post, 0 when none
  std::vector<std::string> warnings;  // skipped lines, repairs: for the log
};

class Store {
 public:
  virtual ~Store() = default;

  // Loads the state, creating an empty room when there is none. Repairs a
  // torn last line so the next append starts on a line of its own.
  virtual Result<StoreSnapshot> open() = 0;

  // Appends the batch durably, in order, under the room's lock. Fills in
  // each post's seq (sequence+1, ...). Returns only once the data is on disk
  // (fdatasync); on failure nothing of the batch counts as stored.
  virtual Status append(std::span<Post> batch) = 0;

  // Best-effort bookkeeping the original tools read.
  virtual void record_num_chatters(size_t n) = 0;
};

}  // namespace chaton
