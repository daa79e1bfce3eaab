// Fuzzes the WebSocket frame reader (http/ws_frame.h) with what a client
// might send. The input's first byte sets the message limit (0 to 2040
// bytes, so that the limit is reached), the rest is the byte stream. It must
// never crash; the events must not depend on how the stream is cut: reading
// it whole, and in pieces whose sizes are drawn from the input itself, gives
// the same events. Every text event is valid UTF-8 within the limit, every
// failure has a code in {1002, 1007, 1008, 1009} and a reason, each call
// makes progress until a close or a failure, and after one the reader reads
// nothing. The close frame the server writes, with a code and reason from
// the input, must read back as that code and reason once masked.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "http/ws_frame.h"
#include "util/text.h"

using chaton::fuzz::require;
namespace ws = chaton::http::ws;
using Event = ws::FrameReader::Event;
using Kind = Event::Kind;

namespace {

void check_event(const Event& e, size_t max) {
  switch (e.kind) {
    case Kind::text:
      require(e.payload.size() <= max, "a text message over the limit");
      require(chaton::is_valid_utf8(e.payload), "a text message that is not UTF-8");
      break;
    case Kind::ping:
    case Kind::pong:
      require(e.payload.size() <= ws::kMaxControlPayload, "a control payload over 125 bytes");
      break;
    case Kind::close:
      require(e.payload.size() <= ws::kMaxControlPayload - 2, "a close reason over 123 bytes");
      require(chaton::is_valid_utf8(e.payload), "a close reason that is not UTF-8");
      require(e.code == 1005 ? e.payload.empty() : e.code >= 1000 && e.code < 5000, "a bad close code");
      break;
    case Kind::failure:
      require(e.code == 1002 || e.code == 1007 || e.code == 1008 || e.code == 1009, "a failure's code");
      require(!e.payload.empty() && e.payload.size() <= ws::kMaxControlPayload - 2, "a failure's reason");
      break;
    case Kind::none:
      require(false, "an event of kind none");
  }
}

bool same(const Event& a, const Event& b) {
  return a.kind == b.kind && a.code == b.code && a.payload == b.payload;
}

// Reads `stream` in pieces: the next piece's size is `next_piece()`.
template <class NextPiece>
std::vector<Event> read_stream(std::string_view stream, size_t max, NextPiece next_piece) {
  ws::FrameReader reader(max);
  std::vector<Event> events;
  auto* p = reinterpret_cast<const uint8_t*>(stream.data());
  bool done = false;
  size_t at = 0;
  while (at < stream.size()) {
    size_t end = std::min(stream.size(), at + next_piece());
    while (at < end) {
      Event e;
      size_t used = reader.read(p + at, end - at, e);
      require(used <= end - at, "read() used more than it was given");
      at += used;
      if (done) {
        require(used == 0 && e.kind == Kind::none, "the reader read on after a close or a failure");
        return events;
      }
      if (e.kind == Kind::none) {
        require(used > 0, "read() made no progress");
        require(at == end, "read() stopped with bytes left and no event");
        continue;
      }
      check_event(e, max);
      if (e.kind == Kind::text) require(!reader.mid_message(), "mid_message() after a whole message");
      done = e.kind == Kind::close || e.kind == Kind::failure;
      events.push_back(std::move(e));
    }
  }
  return events;
}

// A server frame as a client would send it: masked, with the key 0.
std::string masked(const std::string& frame) {
  size_t head = (frame[1] & 0x7F) == 126 ? 4 : (frame[1] & 0x7F) == 127 ? 10 : 2;
  std::string out = frame.substr(0, head) + std::string(4, '\0') + frame.substr(head);
  out[1] = static_cast<char>(out[1] | 0x80);
  return out;
}

void check_close_frame(std::string_view input) {
  if (input.size() < 2) return;
  auto code = static_cast<uint16_t>((static_cast<uint8_t>(input[0]) << 8) | static_cast<uint8_t>(input[1]));
  std::string reason = chaton::repair_utf8(input.substr(2, 300));
  std::string frame = ws::close_frame(code, reason);
  require(frame.size() >= 2 && frame.size() <= 2 + ws::kMaxControlPayload, "a close frame's size");
  require(static_cast<uint8_t>(frame[0]) == 0x88 && static_cast<size_t>(frame[1]) == frame.size() - 2,
          "a close frame's head");
  std::string sent_reason = frame.size() > 4 ? frame.substr(4) : "";
  require(reason.starts_with(sent_reason), "a close frame's reason is not the start of the one given");
  ws::FrameReader reader(0);
  Event e;
  std::string client = masked(frame);
  size_t used = reader.read(reinterpret_cast<const uint8_t*>(client.data()), client.size(), e);
  require(used == client.size() && e.kind == Kind::close, "the server's close frame does not read back");
  require(e.code == (frame.size() == 2 ? 1005 : code), "the close code does not read back");
  require(e.payload == sent_reason, "the close reason does not read back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t max = size_t{data[0]} * 8;
  std::string_view stream = chaton::fuzz::as_text(data + 1, size - 1);

  auto whole = read_stream(stream, max, [&] { return stream.size(); });
  size_t k = 0;
  auto in_pieces = read_stream(stream, max, [&] {
    return stream.empty() ? 1 : 1 + static_cast<uint8_t>(stream[k++ % stream.size()]) % 19;
  });
  require(whole.size() == in_pieces.size(), "a different number of events in pieces");
  for (size_t i = 0; i < whole.size(); ++i)
    require(same(whole[i], in_pieces[i]), "a different event in pieces");
  auto byte_by_byte = read_stream(stream, max, [] { return 1; });
  require(byte_by_byte.size() == whole.size(), "a different number of events byte by byte");
  for (size_t i = 0; i < whole.size(); ++i)
    require(same(whole[i], byte_by_byte[i]), "a different event byte by byte");

  check_close_frame(stream);
  return 0;
}
