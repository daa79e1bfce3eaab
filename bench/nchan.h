// The peer server of the side-by-side runs: nginx with the Nchan module,
// which chaton_bench starts on loopback with a configuration of its own.
// Here is what does not touch a socket or a process, so that it is tested
// directly (tests/bench/nchan_test.cpp): the nginx.conf, the channel's
// addresses per transport, the long-poll cursor (Nchan's long-poll names the
// next message by the Last-Modified and Etag of the last reply, sent back
// as If-Modified-Since and If-None-Match) and the subscriber count in the
// publisher's channel report.
// Thread-safety: plain values; a cursor belongs to one reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "options.h"

namespace chaton::bench {

constexpr const char* kNchanChannel = "lobby";

struct NchanConf {
  std::string dir;                 // pid file, error log, temp paths (absolute, no quotes or ';')
  uint16_t port = 0;               // on 127.0.0.1
  std::string module;              // path of ngx_nchan_module.so; empty if nginx loads it already
  long worker_connections = 1024;  // at most the open-file limit nginx inherits
  int buffered_messages = 1000;    // kept per channel, so a long-poll that comes back finds them
  int workers = 1;                 // worker processes (the side by side runs: as many as Chaton's threads)
};

// The whole nginx.conf: one master, `workers` workers, no daemon, one location per
// subscriber transport and one publisher location, all on the same channel.
std::string nginx_conf(const NchanConf& c);

// The subscriber location of a transport, and the publisher's.
std::string nchan_sub_target(Transport t);
std::string nchan_pub_target();

// Where a long-poll reader is in Nchan's channel: the validators of the
// last message received, to send with the next request.
class LongPollCursor {
 public:
  // A reply with a message: remembers its Last-Modified and Etag (false if
  // either is missing: the next request could not name what follows).
  bool take(std::string_view last_modified, std::string_view etag);
  // The header lines of the next request ("" before the first message).
  std::string request_headers() const;

 private:
  std::string last_modified_, etag_;
};

// The number of subscribers in the publisher's channel report (GET on the
// publisher location: "active subscribers: N" in text, or "subscribers": N
// in JSON); nothing if it is not there.
std::optional<int64_t> nchan_subscribers(std::string_view report);

}  // namespace chaton::bench
