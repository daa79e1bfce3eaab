// Prepared responses: a response whose constant header is rendered once and
// shared, and whose body is written from its pieces without joining them.
//
// A long-poll reply is the same header (status, Server, Content-Type, the
// security headers, Cache-Control) on every request; only Connection and
// Content-Length vary, with the request's version and keep-alive and the
// body's length. ResponseHead renders the constant part once (as Beast
// would serialize those fields, in their order); PreparedWrite adds the
// varying lines and lays the whole response out as a few buffers for one
// gather write: start line, constant fields, Connection / Content-Length /
// blank line, then the body — an owned part before a shared part (e.g. a
// reader's packet envelope before the room's rendered posts) and a static
// part after it. The bytes are those Beast writes for the equivalent
// Response after Session's keep_alive() and prepare_payload()
// (tests/http/prepared_response_test.cpp holds them equal).
//
// Thread-safety: a ResponseHead is immutable once made (share it freely);
// a PreparedResponse or PreparedWrite belongs to one thread at a time.
// Lifetime: a PreparedWrite's buffers point into it, its head and its
// shared body part: keep it in place until the write completes. The head
// is not owned: it must outlive the write (a long poll's are made once, in
// static storage, so that a reply touches no reference count shared by
// every loop).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>

#include "http/connection.h"
#include "util/block_cache.h"

namespace chaton::http {

class ResponseHead {
 public:
  // The status and the fields of `res`, in order; its body is ignored. It
  // must not set Connection or Content-Length (each reply adds its own).
  explicit ResponseHead(const Response& res);

  unsigned status() const { return status_; }
  // "HTTP/1.1 200 OK\r\n" (1.0 for version 10, 1.1 otherwise).
  std::string_view start_line(unsigned version) const { return version == 10 ? line10_ : line11_; }
  // "Name: value\r\n" for each field.
  std::string_view fields() const { return fields_; }

 private:
  unsigned status_;
  std::string line10_;
  std::string line11_;
  std::string fields_;
};

struct PreparedResponse {
  const ResponseHead* head = nullptr;         // never null once made; not owned
  std::string before;                         // the body: this, then
  std::shared_ptr<const std::string> shared;  // this (may be null), then
  std::string_view after;                     // this (static storage)

  size_t body_size() const { return before.size() + (shared ? shared->size() : 0) + after.size(); }
};

// One response laid out for a gather write (made in the loop's block
// cache, util/block_cache.h: a fan-out makes one for each reply).
class PreparedWrite final : public CachedNew {
 public:
  static constexpr size_t kBuffers = 6;

  // `head_only`: the answer to HEAD — the same header, Content-Length
  // included, and no body.
  PreparedWrite(PreparedResponse res, unsigned version, bool keep_alive, bool head_only);
  PreparedWrite(const PreparedWrite&) = delete;
  PreparedWrite& operator=(const PreparedWrite&) = delete;

  using Buffers = std::array<boost::asio::const_buffer, kBuffers>;
  bool keep_alive() const { return keep_alive_; }
  Buffers buffers() const;

 private:
  PreparedResponse res_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  // "Connection: ...\r\n" when needed, "Content-Length: N\r\n\r\n".
  std::array<char, 64> tail_{};
  size_t tail_size_ = 0;
};

}  // namespace chaton::http
