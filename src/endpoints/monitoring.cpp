// Monitoring: see monitoring.h.
#include "endpoints/monitoring.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "http/responses.h"

namespace chaton::endpoints {

using http::error_response;
using http::make_response;
using http::Response;
namespace bhttp = boost::beast::http;

Monitoring::Monitoring(std::shared_ptr<metrics::Registry> registry, AddressRanges allowed,
                       std::vector<std::shared_ptr<Room>> rooms)
    : registry_(std::move(registry)), allowed_(std::move(allowed)), rooms_(std::move(rooms)) {}

void Monitoring::add_to(EndpointTable& table) {
  table.add({std::string(kMetricsPath), Match::exact, kGetHead, [this](const Call& call) { metrics(call); }});
  table.add({std::string(kHealthPath), Match::exact, kGetHead, [this](const Call& call) { healthz(call); }});
}

// The TCP peer must be allowed, and the request must not have come through
// a proxy: a reverse proxy on loopback (docs/DEPLOY.md) would otherwise
// hand /metrics to the whole Internet. A request that carries
// X-Forwarded-For is refused whoever sends it.
bool Monitoring::allowed(const Call& call) const {
  const auto& req = call.ex->request();
  if (allowed_.contains(call.ex->peer_address()) && allowed_.contains(call.ex->client_address()) &&
      req.find("X-Forwarded-For") == req.end())
    return true;
  call.ex->respond(error_response(bhttp::status::forbidden,
                                  "not allowed from this address, nor through a proxy (site.metrics_allow)"));
  return false;
}

void Monitoring::metrics(const Call& call) const {
  if (!allowed(call)) return;
  Response res = make_response(bhttp::status::ok, metrics::kContentType, registry_->render());
  res.set(bhttp::field::cache_control, "no-store");
  call.ex->respond(std::move(res));
}

namespace {

// The answers of the rooms to one /healthz, gathered; the last one answers.
struct HealthTally {
  http::ExchangePtr ex;
  std::mutex mu;
  size_t waiting = 0;
  std::vector<std::string> failures;

  void answer() {
    std::sort(failures.begin(), failures.end());
    std::string body;
    for (const auto& f : failures) body += f + "\n";
    Response res = failures.empty()
                       ? make_response(bhttp::status::ok, "text/plain; charset=utf-8", "ok\n")
                       : make_response(bhttp::status::service_unavailable, "text/plain; charset=utf-8", body);
    res.set(bhttp::field::cache_control, "no-store");
    ex->respond(std::move(res));
  }
};

}  // namespace

void Monitoring::healthz(const Call& call) const {
  if (!allowed(call)) return;
  auto tally = std::make_shared<HealthTally>();
  tally->ex = call.ex;
  tally->waiting = rooms_.size();
  if (rooms_.empty()) return tally->answer();
  for (const auto& room : rooms_) {
    room->check_writable([tally, slug = room->slug()](Status st) {
      std::lock_guard lock(tally->mu);
      if (!st) tally->failures.push_back("room " + slug + ": " + st.message());
      if (--tally->waiting == 0) tally->answer();
    });
  }
}

}  // namespace chaton::endpoints
