// PrivateRoom: the login of a private room (config `htpasswd`) and its
// password-change page `passwd`.
//
// Every request to a private room's URLs, WebSocket upgrades included,
// carries HTTP Basic credentials. Credentials verified before are
// recognised from the Htpasswd cache; a first check (slow by design for
// bcrypt) runs on the room's login thread, never on a session's thread, and
// each address may start only kLoginCheckBurst such checks, then
// kLoginChecksPerSecond (429 beyond). A WebSocket upgrade, which is answered
// synchronously, checks on the session's thread; a browser's upgrade follows
// the page load, whose credentials are cached. A password change (bcrypt
// twice) runs on the login thread too.
//
// Thread-safety: every member from any thread. Lifetime: the Room, the
// Clock and the api log must outlive it; the destructor waits for the
// login thread's jobs.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "access/htpasswd.h"
#include "access/rate_limiter.h"
#include "endpoints/endpoint_table.h"
#include "http/basic_auth.h"
#include "http/exchange.h"
#include "rooms/room.h"
#include "util/clock.h"
#include "util/log_file.h"

namespace chaton::endpoints {

class PrivateRoom {
 public:
  // Full credential checks (a bcrypt each) one address may start: a burst,
  // then this many a second. Known credentials are not counted.
  static constexpr double kLoginChecksPerSecond = 1;
  static constexpr double kLoginCheckBurst = 20;

  PrivateRoom(const Room& room, const Clock& clock, LogFile& api_log);
  ~PrivateRoom();

  // Calls `then(user)` on the exchange's strand once the request's
  // credentials are verified; otherwise answers the request (401 or 429).
  void authenticate(const http::ExchangePtr& ex, std::function<void(std::string user)> then);
  // The same for a WebSocket upgrade, at once: nullopt when the request may
  // go on, else the refusal to send.
  std::optional<http::Response> authenticate_now(const http::Request& req, const std::string& address);

  // `passwd`: GET the form, POST a change (fields old, new, again).
  void passwd(const Call& call);

 private:
  // nullopt when the request may go on (`slow` set when the credentials
  // need a full check first), else the refusal to send.
  std::optional<http::Response> check(const http::Request& req, const std::string& address,
                                      std::optional<http::Credentials>& creds, bool& slow);

  const Room& room_;
  LogFile& api_log_;
  Htpasswd users_;
  RateLimiter login_checks_;  // full credential checks per address
  boost::asio::thread_pool login_pool_{1};
};

}  // namespace chaton::endpoints
