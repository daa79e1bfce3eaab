// RoomEndpoints: the URLs of one room (spec B3) as thin adapters on Room:
// the page, post (and chaton-poster-<slug>), comet, events (SSE), ws
// (WebSocket), apilogin, var/seq,
// var/status.js, var/status.scm, var/index.rdf, chaton.css and the hashed
// chaton.js; the archive browser a/... (archive_pages.h), the badge (b,
// badge.html, badge.svg) and search?q=. It also owns the room's logs
// (logs/comet.log for access, logs/post.log, logs/api.log).
//
// A search may read the room's whole archive, so it runs on a worker
// thread of the room's own (started by the first search), never on the
// sessions' threads.
//
// Thread-safety: handle() from any session strand.
// Lifetime: the Assets and Clock must outlive it; the destructor waits for
// a search in progress.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include <boost/asio/thread_pool.hpp>

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
  ~RoomEndpoints();

  // `sub` is the path below the room's url_path ("" for the page).
  void handle(const ExchangePtr& ex, std::string_view sub, const Target& target);
  // A WebSocket upgrade for `ws?p=POS`.
  UpgradeDecision websocket(const Target& target, const std::string& client_address);

  Room& room() { return *room_; }
  LogFile& access_log() { return access_log_; }
  void flush_logs();

 private:
  void page(const ExchangePtr& ex);
  void post(const ExchangePtr& ex, const Target& target);
  void comet(const ExchangePtr& ex, const Target& target);
  void events(const ExchangePtr& ex, const Target& target);
  void apilogin(const ExchangePtr& ex, const Target& target);
  void status(const ExchangePtr& ex, std::string_view which);
  void asset(const ExchangePtr& ex, std::string_view content_type, const std::string& body,
             bool immutable);
  void archive(const ExchangePtr& ex, std::string_view path);
  void badge(const ExchangePtr& ex, std::string_view which);
  void search(const ExchangePtr& ex, const Target& target);

  std::shared_ptr<Room> room_;
  CometConfig comet_;
  std::string cookie_path_;
  const Assets& assets_;
  const Clock& clock_;
  std::once_flag search_pool_once_;
  std::unique_ptr<boost::asio::thread_pool> search_pool_;
  LogFile access_log_;
  LogFile post_log_;
  LogFile api_log_;
};

}  // namespace chaton::http
