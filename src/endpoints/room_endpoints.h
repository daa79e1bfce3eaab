// RoomEndpoints: the URLs of one room (docs/PROTOCOL.md, "The URLs of a room")
// as thin adapters on Room: the page, post (and chaton-poster-<slug>,
// chaton-poster-<original name>), comet, events (SSE), ws (WebSocket),
// apilogin, var/seq, var/status.js, var/status.scm, var/index.rdf, chaton.css
// and the hashed chaton.js; the archive browser a/... (archive_pages.h), the
// badge (b, badge.html, badge.svg) and search?q=. It also owns the room's logs
// (logs/comet.log for access, logs/post.log, logs/api.log); the access log
// goes to standard error instead, or nowhere, as `site.access_log` says.
//
// The URLs are an EndpointTable (endpoint_table.h), built once in the
// constructor: each with its methods, and whether its handler may block.
// The archive pages read the disk and run on the room's blocking pool
// (kBlockingThreads threads), off the I/O threads; every other handler is
// quick and runs on the session's strand. One thread: a room's archive
// pages are read one at a time (a page is bounded, archive_pages.h), and
// what reading a day takes stays in one allocator arena instead of one per
// thread (tests/integration/memory.test.mjs measures it).
//
// A search may read the room's whole archive, so it runs on a worker
// thread of the room's own (search::SearchQueue), never on the sessions'
// threads; its handler only queues it, and so does not block. The queue is
// bounded in all and per address (429 beyond), a search whose client
// closes its connection is cancelled, and a search answers with what it
// found when its time budget (search::kSearchTimeBudget) is spent, saying
// the results are partial.
//
// A private room (config `htpasswd`) asks for HTTP Basic authentication on
// every one of these URLs, WebSocket upgrades included, and adds `passwd`,
// the password-change page (private_room.h).
//
// Thread-safety: handle() from any session strand.
// Lifetime: the Assets and the TimeSource (the time of day, and the live
// readers' timeouts) must outlive it; the destructor waits for the
// blocking pool's and the login thread's jobs, cancels the searches and
// waits for the one in progress to stop. The login thread's answers are
// posted to the sessions' strands and use this object, so the server
// stops its I/O threads before it destroys the endpoints.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include <boost/asio/thread_pool.hpp>

#include "config/config.h"
#include "endpoints/endpoint_table.h"
#include "endpoints/private_room.h"
#include "http/exchange.h"
#include "http/params.h"
#include "pages/pages.h"
#include "rooms/room.h"
#include "search/search_index.h"
#include "search/search_queue.h"
#include "util/log_file.h"
#include "util/time_source.h"

namespace chaton::endpoints {

// The name the original Chaton installed a room's poster under:
// "chaton-poster-" and the room name lower-cased, keeping only ASCII
// letters, digits, '_' and '-' (docs/PROTOCOL.md, "Posting").
std::string original_poster_name(std::string_view room_name);

class RoomEndpoints {
 public:
  // `index`: the room's search index (search/search_index.h, RoomIndex),
  // used by its searches; null: every search scans the room's days.
  RoomEndpoints(std::shared_ptr<Room> room, const Config& config, const pages::Assets& assets,
                TimeSource& clock, std::shared_ptr<search::RoomIndex> index = nullptr);
  ~RoomEndpoints();

  // `sub` is the path below the room's url_path ("" for the page).
  void handle(const http::ExchangePtr& ex, std::string_view sub, http::Target target);
  // A WebSocket upgrade for `ws?p=POS`.
  http::UpgradeDecision websocket(const http::Request& req, const http::Target& target,
                                  const std::string& client_address);

  Room& room() { return *room_; }
  // Null when `site.access_log` is "off".
  LogFile* access_log() { return access_log_.get(); }
  void flush_logs();
  // After logrotate renamed them (SIGUSR1): the next lines go to new files.
  void reopen_logs();

 private:
  // Threads of the blocking pool, on which the may_block handlers run (see above).
  static constexpr int kBlockingThreads = 1;

  void build_table();
  // Runs the table's handler for `call`, or answers 404.
  void dispatch(Call call);
  void page(const Call& call);
  void post(const Call& call);
  void comet(const Call& call);
  void events(const Call& call);
  void apilogin(const Call& call);
  void status(const Call& call);
  void asset(const Call& call, std::string_view content_type, const std::string& body,
             const std::shared_ptr<const std::string>& gzipped, const std::string& etag, bool immutable);
  std::string archive_cache_control(bool past_day) const;
  void archive(const Call& call);
  void badge(const Call& call);
  void search(const Call& call);
  // The room's script (absolute), for the pages that load it.
  std::string script_url() const;

  std::shared_ptr<Room> room_;
  CometConfig comet_;
  std::string cookie_path_;
  const pages::Assets& assets_;
  const Clock& clock_;
  TimeSource& time_;                     // the same object: the live readers' timers
  std::string embeddable_;               // frame-ancestors of the room page and badge.html
  std::string poster_alias_;             // original_poster_name() of the room
  std::unique_ptr<LogFile> access_log_;  // null: off
  LogFile post_log_;
  LogFile api_log_;
  std::unique_ptr<PrivateRoom> private_;  // private rooms only (null otherwise)
  // Used on the search thread only (SearchQueue runs one search at a time).
  std::shared_ptr<search::RoomIndex> index_;
  boost::asio::thread_pool blocking_{kBlockingThreads};
  EndpointTable table_{&blocking_};
  // Last, so it is destroyed first: a search stopping then still has the logs.
  // Shared so that a disconnect watcher can hold it weakly.
  std::shared_ptr<search::SearchQueue> searches_ = std::make_shared<search::SearchQueue>();
};

}  // namespace chaton::endpoints
