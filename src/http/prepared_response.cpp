// Prepared responses: see prepared_response.h.
#include "http/prepared_response.h"

#include <charconv>
#include <cstring>

namespace chaton::http {

namespace {

std::string render_start_line(unsigned version, unsigned status, std::string_view reason) {
  std::string line = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  line += std::to_string(status);
  line += ' ';
  line += reason;
  line += "\r\n";
  return line;
}

}  // namespace

ResponseHead::ResponseHead(const Response& res)
    : status_(res.result_int()),
      line10_(render_start_line(10, res.result_int(), res.reason())),
      line11_(render_start_line(11, res.result_int(), res.reason())) {
  for (const auto& field : res) {
    fields_ += field.name_string();
    fields_ += ": ";
    fields_ += field.value();
    fields_ += "\r\n";
  }
}

PreparedWrite::PreparedWrite(PreparedResponse res, unsigned version, bool keep_alive, bool head_only)
    : res_(std::move(res)), version_(version), keep_alive_(keep_alive), head_only_(head_only) {
  // What Beast's keep_alive() leaves in a header without a Connection
  // field: "keep-alive" to keep an HTTP/1.0 connection, "close" to end an
  // HTTP/1.1 one, nothing otherwise.
  std::string_view connection = "";  // never null: memcpy's source may not be, even for 0 bytes
  if (version == 10 && keep_alive) connection = "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) connection = "Connection: close\r\n";
  constexpr std::string_view kLength = "Content-Length: ";
  char* out = tail_.data();
  std::memcpy(out, connection.data(), connection.size());
  out += connection.size();
  std::memcpy(out, kLength.data(), kLength.size());
  out += kLength.size();
  out = std::to_chars(out, tail_.data() + tail_.size() - 4, res_.body_size()).ptr;
  std::memcpy(out, "\r\n\r\n", 4);
  out += 4;
  tail_size_ = static_cast<size_t>(out - tail_.data());
}

PreparedWrite::Buffers PreparedWrite::buffers() const {
  namespace net = boost::asio;
  std::string_view line = res_.head->start_line(version_);
  std::string_view fields = res_.head->fields();
  Buffers b{net::const_buffer(line.data(), line.size()), net::const_buffer(fields.data(), fields.size()),
            net::const_buffer(tail_.data(), tail_size_)};  // the body's three, empty until set below
  if (head_only_) return b;
  b[3] = net::buffer(res_.before);
  if (res_.shared) b[4] = net::buffer(*res_.shared);
  b[5] = net::const_buffer(res_.after.data(), res_.after.size());
  return b;
}

}  // namespace chaton::http
