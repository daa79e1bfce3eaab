// RoomEndpoints: the URLs of one room (spec B3) as thin adapters on Room:
// the page, post (and chaton-poster-<slug>, chaton-poster-<original name>), comet, events (SSE), ws
// (WebSocket), apilogin, var/seq,
// var/status.js, var/status.scm, var/index.rdf, chaton.css and the hashed
// chaton.js; the archive browser a/... (archive_pages.h), the badge (b,
// badge.html, badge.svg) and search?q=. It also owns the room's logs
// (logs/comet.log for access, logs/post.log, logs/api.log).
//
// A search may read the room's whole archive, so it runs on a worker
// thread of the room's own (search::SearchQueue), never on the sessions'
// threads. The queue is bounded in all and per address (429 beyond), a
// search whose client closes its connection is cancelled, and a search
// answers with what it found when its time budget (search::kSearchTimeBudget)
// is spent, saying the results are partial.
//
// A private room (config `htpasswd`) asks for HTTP Basic authentication on
// every one of these URLs, WebSocket upgrades included, and adds `passwd`,
// the password-change page. Credentials verified before are recognised
// from a cache; a first check (slow by design for bcrypt) runs on the
// room's login thread, never on a session's thread, and each address may
// start only a few such checks a second (429 beyond). A WebSocket upgrade,
// which is answered synchronously, checks on the session's thread; a
// browser's upgrade follows the page load, whose credentials are cached.
//
// Thread-safety: handle() from any session strand.
// Lifetime: the Assets and the TimeSource (the time of day, and the live
// readers' timeouts) must outlive it; the destructor cancels
// the searches and waits for the one in progress to stop.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include <boost/asio/thread_pool.hpp>

#include "access/htpasswd.h"
#include "access/rate_limiter.h"
#include "config/config.h"
#include "http/basic_auth.h"
#include "http/exchange.h"
#include "pages/pages.h"
#include "http/params.h"
#include "rooms/room.h"
#include "search/search_queue.h"
#include "util/log_file.h"
#include "util/time_source.h"

namespace chaton::http {

// The name the original Chaton installed a room's poster under:
// "chaton-poster-" and the room name lower-cased, keeping only ASCII
// letters, digits, '_' and '-' (docs/PROTOCOL.md, "Posting").
std::string original_poster_name(std::string_view room_name);

class RoomEndpoints {
 public:
  RoomEndpoints(std::shared_ptr<Room> room, const Config& config, const Assets& assets,
                TimeSource& clock);
  ~RoomEndpoints();

  // `sub` is the path below the room's url_path ("" for the page).
  void handle(const ExchangePtr& ex, std::string_view sub, const Target& target);
  // A WebSocket upgrade for `ws?p=POS`.
  UpgradeDecision websocket(const Request& req, const Target& target, const std::string& client_address);

  Room& room() { return *room_; }
  LogFile& access_log() { return access_log_; }
  void flush_logs();

 private:
  // After authentication (`user` is empty in a public room).
  void dispatch(const ExchangePtr& ex, std::string_view sub, const Target& target, std::string_view user);
  // In a private room: nullopt when the request may go on (the credentials
  // are known), else the refusal to send; `slow` is set when the
  // credentials need a full check first.
  std::optional<Response> check_credentials(const Request& req, const std::string& address,
                                            std::optional<Credentials>& creds, bool& slow);
  void passwd(const ExchangePtr& ex, const Target& target, std::string_view user);
  void page(const ExchangePtr& ex);
  void post(const ExchangePtr& ex, const Target& target);
  void comet(const ExchangePtr& ex, const Target& target);
  void events(const ExchangePtr& ex, const Target& target);
  void apilogin(const ExchangePtr& ex, const Target& target);
  void status(const ExchangePtr& ex, std::string_view which);
  void asset(const ExchangePtr& ex, std::string_view content_type, const std::string& body,
             bool immutable);
  void archive(const ExchangePtr& ex, std::string_view path, const Target& target);
  void badge(const ExchangePtr& ex, std::string_view which);
  void search(const ExchangePtr& ex, const Target& target);

  std::shared_ptr<Room> room_;
  CometConfig comet_;
  std::string cookie_path_;
  const Assets& assets_;
  const Clock& clock_;
  TimeSource& time_;  // the same object: the live readers' timers
  std::string embeddable_;  // frame-ancestors of the room page and badge.html
  std::string poster_alias_;  // original_poster_name() of the room
  // Private rooms only (null otherwise).
  std::unique_ptr<Htpasswd> users_;
  std::unique_ptr<RateLimiter> login_checks_;  // full credential checks per address
  std::unique_ptr<boost::asio::thread_pool> login_pool_;
  LogFile access_log_;
  LogFile post_log_;
  LogFile api_log_;
  // Last, so it is destroyed first: a search stopping then still has the logs.
  // Shared so that a disconnect watcher can hold it weakly.
  std::shared_ptr<search::SearchQueue> searches_ = std::make_shared<search::SearchQueue>();
};

}  // namespace chaton::http
