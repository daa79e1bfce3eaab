// RoomMetrics: one room's series in the metrics registry (docs/DEPLOY.md,
// "Monitoring"), created when the room is built and kept by the code that
// updates them: the room (rejections), its commit queue (posts stored,
// commit latency, store failures), its store (sync latency) and its live
// readers (readers by transport, posts delivered, readers cut off).
//
// Thread-safety: the series are atomics (metrics/metrics.h); the struct is
// not changed after construction. Lifetime: it holds the series itself.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "metrics/metrics.h"

namespace chaton {

// How a reader reads a room.
enum class Transport { long_poll, sse, websocket };
inline constexpr size_t kTransports = 3;
std::string_view transport_name(Transport t);  // "long_poll", "sse", "websocket"

// Why a post was refused (the `reason` label).
enum class Rejection {
  invalid,        // an empty nick or text, or a nick over its limit
  too_large,      // text over limits.text_limit
  blacklisted,    // the address is blacklisted, or the blacklist cannot be read
  rate_limited,   // limits.post_rate
  store_failure,  // the store could not take the batch (disk, database)
  closed,         // the room is shutting down, or not open
};
inline constexpr size_t kRejections = 6;
std::string_view rejection_name(Rejection r);

struct RoomMetrics {
  // Registers room `slug`'s series in `registry`.
  RoomMetrics(metrics::Registry& registry, const std::string& slug);

  void reject(Rejection r) const { rejected[static_cast<size_t>(r)]->add(); }
  metrics::Gauge& readers(Transport t) const { return *readers_by[static_cast<size_t>(t)]; }
  metrics::Counter& delivered(Transport t) const { return *delivered_by[static_cast<size_t>(t)]; }

  std::shared_ptr<metrics::Counter> posts;                              // stored and acknowledged
  std::array<std::shared_ptr<metrics::Counter>, kRejections> rejected;  // by Rejection
  std::shared_ptr<metrics::Histogram> commit_seconds;                   // submit() to acknowledgement
  std::shared_ptr<metrics::Histogram> sync_seconds;                     // the store's (Store::measure_syncs)
  std::array<std::shared_ptr<metrics::Gauge>, kTransports> readers_by;
  std::array<std::shared_ptr<metrics::Counter>, kTransports> delivered_by;  // posts sent to readers
  std::shared_ptr<metrics::Counter> dropped_readers;                        // cut off for falling behind
};

}  // namespace chaton
