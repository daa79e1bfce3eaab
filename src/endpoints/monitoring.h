// Monitoring: GET /metrics and GET /healthz at the site's root
// (docs/DEPLOY.md, "Monitoring"), answered only to the addresses in
// `[site] metrics_allow`, and 403 to every other. The address checked is
// the connection's TCP peer (Exchange::peer_address), never one named by
// X-Forwarded-For: behind a reverse proxy, the proxy's address is the one
// allowed or not.
//
//   /metrics  the registry in the Prometheus text format (version 0.0.4).
//   /healthz  200 "ok" when every room's store can take posts
//             (Room::check_writable, asked on each room's commit thread),
//             else 503 with one line per room that cannot.
//
// Thread-safety: the handlers from any session strand; a /healthz is
// answered from the last room's commit thread. Lifetime: the rooms and the
// registry are held; the Monitoring must outlive its handlers' calls.
#pragma once

#include <memory>
#include <vector>

#include "access/blacklist.h"
#include "endpoints/endpoint_table.h"
#include "metrics/metrics.h"
#include "rooms/room.h"

namespace chaton::endpoints {

inline constexpr std::string_view kMetricsPath = "/metrics";
inline constexpr std::string_view kHealthPath = "/healthz";

class Monitoring {
 public:
  Monitoring(std::shared_ptr<metrics::Registry> registry, AddressRanges allowed,
             std::vector<std::shared_ptr<Room>> rooms);

  // Adds /metrics and /healthz to `table`.
  void add_to(EndpointTable& table);

 private:
  // True when the peer may see them; otherwise answers 403.
  bool allowed(const Call& call) const;
  void metrics(const Call& call) const;
  void healthz(const Call& call) const;

  std::shared_ptr<metrics::Registry> registry_;
  AddressRanges allowed_;
  std::vector<std::shared_ptr<Room>> rooms_;
};

}  // namespace chaton::endpoints
