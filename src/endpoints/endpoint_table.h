// EndpointTable: URL → handler as a table of {path, methods, handler, may
// block}, so what a server answers can be read in one place (the room's
// URLs in room_endpoints.cpp, the site's in router.cpp).
//
// The first entry whose path matches wins, in the order they were added: an
// exact path matches itself only, a prefix every path that starts with it
// (Call::rest is then what follows). The table checks the method before any
// handler runs, so no handler checks its own: a method the entry does not
// take is answered 405 with an Allow header listing the entry's methods
// (kAnyMethod: the handler takes every method). HEAD is answered wherever
// GET is (RFC 9110, section 9.3.2: the transport sends the head only), even
// where the Allow header lists GET alone (the comet and the event stream,
// for which it has no use; docs/PROTOCOL.md, the 405 row of the errors).
//
// Whether a handler may block is stated here once: an entry marked
// may_block (it reads the disk, like the archive pages) runs on the table's
// blocking pool, never on an I/O thread; every other handler runs on the
// session's strand that called dispatch() and must not block. A handler on
// the pool answers through its Exchange, which is safe from any thread
// (http/exchange.h: respond() dispatches to the connection's strand). The
// pool's queue needs no bound of its own: a connection has one request in
// flight, so it holds at most one job per open connection, which the
// connection limit bounds.
//
// Thread-safety: add() before the first dispatch(); then dispatch() from
// any thread. Lifetime: the blocking pool, and whatever the handlers use,
// must outlive the table's last dispatch and the pool's last job (join the
// pool before destroying them).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "http/exchange.h"
#include "http/params.h"
#include "util/log_file.h"

namespace chaton::endpoints {

// The methods an entry takes: a set of these bits.
inline constexpr unsigned kGet = 1;
inline constexpr unsigned kHead = 2;
inline constexpr unsigned kPost = 4;
inline constexpr unsigned kGetHead = kGet | kHead;
inline constexpr unsigned kAnyMethod = ~0u;

// One request on its way to a handler. It owns what it holds, so that a
// blocking handler may take it to another thread.
struct Call {
  http::ExchangePtr ex;
  http::Target target;
  std::string path;  // the path the table matched (below the room's URL in a room)
  std::string rest;  // for a prefix entry: what follows the prefix; else empty
  std::string user;  // the user a private room authenticated; else empty
};

// A handler may take what it needs out of the call (it is the call's last
// user): the room's prefix entry moves the target on to the room.
using EndpointHandler = std::function<void(Call&)>;

enum class Match { exact, prefix };

struct Endpoint {
  std::string path;
  Match match = Match::exact;
  unsigned methods = kGetHead;
  EndpointHandler handler;
  bool may_block = false;          // runs on the blocking pool (see above)
  LogFile* refusal_log = nullptr;  // where a refused method is also logged, if anywhere
};

// "GET, HEAD, POST": the Allow header of a method set.
std::string allow_header(unsigned methods);

class EndpointTable {
 public:
  // `blocking` runs the may_block entries; may be null when there are none.
  explicit EndpointTable(boost::asio::thread_pool* blocking = nullptr) : blocking_(blocking) {}

  // A may_block entry in a table without a blocking pool is a broken
  // invariant (docs/ARCHITECTURE.md, "Crash policy"): it aborts.
  void add(Endpoint endpoint);

  // The first entry matching `path`, or null.
  const Endpoint* find(std::string_view path) const;

  // Hands `call` (path set) to its entry: answers 405 for a method the
  // entry does not take, else runs the handler here or on the blocking
  // pool. False, without answering, when no entry matches.
  bool dispatch(Call call) const;

 private:
  boost::asio::thread_pool* blocking_;
  std::vector<Endpoint> entries_;
};

}  // namespace chaton::endpoints
