// RoomEndpoints: the URLs of one room (spec B3) as thin adapters on Room:
// the page, post (and chaton-poster-<slug>), comet, apilogin, var/seq,
// var/status.js, var/status.scm, var/index.rdf, chaton.css and the hashed
// chaton.js. It also owns the room's logs (logs/comet.log for access,
// logs/post.log, logs/api.log).
//
// Thread-safety: handle() from any session strand.
// Lifetime: the Assets and Clock must outlive it.
#pragma once

#include <memory>
#include <string_view>

#include "config/config.h"
#include "http/exchange.h"
#include "http/pages.h"
#include "http/params.h"
#include "rooms/room.h"
#include "util/log_file.h"

namespace chaton::http {

class RoomEndpoints {
 public:
  RoomEndpoints(std::shared_ptr<Room> room, const Config& config, const Assets& assets,
                const Clock& clock);

  // `sub` is the path below the room's url_path ("" for the page).
  void handle(const ExchangePtr& ex, std::string_view sub, const Target& target);

  Room& room() { return *room_; }
  LogFile& access_log() { return access_log_; }
  void flush_logs();

 private:
  void page(const ExchangePtr& ex);
  void post(const ExchangePtr& ex, const Target& target);
  void comet(const ExchangePtr& ex, const Target& target);
  void apilogin(const ExchangePtr& ex, const Target& target);
  void status(const ExchangePtr& ex, std::string_view which);
  void asset(const ExchangePtr& ex, std::string_view content_type, const std::string& body,
             bool immutable);

  std::shared_ptr<Room> room_;
  CometConfig comet_;
  std::string cookie_path_;
  const Assets& assets_;
  LogFile access_log_;
  LogFile post_log_;
  LogFile api_log_;
};

}  // namespace chaton::http
