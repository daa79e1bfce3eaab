// Router: the server's Handler. Maps a request target to the room index
// (/), /robots.txt, /metrics and /healthz (monitoring.h, when given one),
// or a room's endpoints by the longest matching url_path,
// through an EndpointTable (endpoint_table.h) built at construction; a
// room's own table then takes the rest of the path. Every request and
// WebSocket upgrade passes the OriginPolicy first.
//
// Thread-safety: handle() from any strand; the room table is fixed at
// construction. Lifetime: the Clock must outlive it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "endpoints/endpoint_table.h"
#include "endpoints/monitoring.h"
#include "endpoints/room_endpoints.h"
#include "http/exchange.h"
#include "http/origin.h"

namespace chaton::endpoints {

class Router final : public http::Handler {
 public:
  Router(std::vector<std::unique_ptr<RoomEndpoints>> rooms, const Clock& clock,
         http::OriginPolicy origins = {}, std::unique_ptr<Monitoring> monitoring = nullptr);
  void handle(const http::ExchangePtr& ex) override;
  http::UpgradeDecision upgrade(const http::Request& req, const std::string& client_address) override;

  const std::vector<std::unique_ptr<RoomEndpoints>>& rooms() const { return rooms_; }

 private:
  void index(const Call& call);
  // The room whose url_path prefixes `path`, or null.
  RoomEndpoints* room_for(std::string_view path) const;

  std::vector<std::unique_ptr<RoomEndpoints>> rooms_;  // longest url_path first
  const Clock& clock_;
  http::OriginPolicy origins_;
  std::string robots_;
  std::unique_ptr<Monitoring> monitoring_;  // null: no /metrics, no /healthz
  EndpointTable table_;
};

}  // namespace chaton::endpoints
