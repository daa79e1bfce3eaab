// RoomMetrics: see room_metrics.h. The names, types and labels are listed
// in docs/DEPLOY.md, "Monitoring".
#include "rooms/room_metrics.h"

namespace chaton {

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::long_poll:
      return "long_poll";
    case Transport::sse:
      return "sse";
    case Transport::websocket:
      return "websocket";
  }
  return "long_poll";
}

std::string_view rejection_name(Rejection r) {
  switch (r) {
    case Rejection::invalid:
      return "invalid";
    case Rejection::too_large:
      return "too_large";
    case Rejection::blacklisted:
      return "blacklisted";
    case Rejection::rate_limited:
      return "rate_limited";
    case Rejection::store_failure:
      return "store_failure";
    case Rejection::closed:
      return "closed";
  }
  return "invalid";
}

RoomMetrics::RoomMetrics(metrics::Registry& r, const std::string& slug) {
  const metrics::Labels room{{"room", slug}};
  posts = r.counter("chaton_posts_total", "Posts stored and acknowledged.", room);
  for (size_t i = 0; i < kRejections; ++i)
    rejected[i] =
        r.counter("chaton_post_rejections_total", "Posts refused, by reason.",
                  {{"room", slug}, {"reason", std::string(rejection_name(static_cast<Rejection>(i)))}});
  commit_seconds =
      r.histogram("chaton_post_commit_seconds",
                  "Time from a post's arrival at the room to its acknowledgement (group commit).", room);
  sync_seconds = r.histogram("chaton_store_sync_seconds",
                             "Time the store takes to make a batch durable (fdatasync; the PostgreSQL append "
                             "statement).",
                             room);
  for (size_t i = 0; i < kTransports; ++i) {
    metrics::Labels labels{{"room", slug},
                           {"transport", std::string(transport_name(static_cast<Transport>(i)))}};
    readers_by[i] =
        r.gauge("chaton_readers", "Readers now: long-polls waiting, open SSE and WebSocket feeds.", labels);
    delivered_by[i] =
        r.counter("chaton_posts_delivered_total", "Posts sent to readers, once per reader.", labels);
  }
  dropped_readers = r.counter("chaton_dropped_readers_total",
                              "SSE and WebSocket readers cut off for falling behind.", room);
}

}  // namespace chaton
