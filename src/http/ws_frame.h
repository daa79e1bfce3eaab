// The WebSocket frame codec of the server side (RFC 6455 section 5): what
// the server writes, and a strict reader of what a client sends. Pure code:
// no sockets, no Asio, no clock; the WebSocket session feeds it the bytes it
// reads and writes the bytes it makes.
//
// Writing: the server only sends final, unmasked frames (RFC 6455 section
// 5.1: a server must not mask), text messages as one frame each, so a frame
// is a head (frame_head) before the payload the caller already holds; control
// frames are small and built whole (control_frame, close_frame).
//
// Reading: FrameReader is a push parser. The session hands it whatever bytes
// arrived, in pieces of any size, and it gives back one event at a time: a
// whole text message, a ping, a pong, the client's close, or the reason to
// fail the connection with the close code to send. No extension is
// negotiated and the server takes text only, so everything else a client may
// not send is a failure (the rules are listed on FrameReader). The result
// never depends on how the bytes were cut into pieces.
//
// Memory: a reader holds a message only while it arrives; between messages
// it holds no heap buffer, so an idle connection costs the object itself. A
// message's size is checked against the limit from the frame's declared
// length, before any of it is buffered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chaton::http::ws {

// The frame types (RFC 6455 section 5.2); 0x3-0x7 and 0xB-0xF are reserved.
enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};

inline constexpr size_t kMaxFrameHead = 10;  // a server's (unmasked) frame head
inline constexpr size_t kMaxControlPayload = 125;

// Close codes used (RFC 6455 section 7.4.1): 1000 normal, 1002 protocol
// error, 1005 (none received, never sent), 1007 invalid UTF-8, 1008 policy,
// 1009 too big.
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseNoStatus = 1005;
inline constexpr uint16_t kCloseInvalidData = 1007;
inline constexpr uint16_t kClosePolicy = 1008;
inline constexpr uint16_t kCloseTooBig = 1009;

// The head of one final, unmasked frame of `payload_bytes` bytes (server to
// client), written to the start of `out`; returns its length: 2, 4 or 10.
// `payload_bytes` must be below 2^63 (RFC 6455 section 5.2).
size_t frame_head(Opcode op, uint64_t payload_bytes, std::array<uint8_t, kMaxFrameHead>& out);

// A whole unmasked control frame (`op` is close, ping or pong); the payload
// is cut to 125 bytes.
std::string control_frame(Opcode op, std::string_view payload);

// A close frame with `code` and `reason` (UTF-8), the reason cut so that the
// payload is at most 125 bytes, never in the middle of a UTF-8 sequence. A
// code that may not be sent (1005, 1006, 1015, or any other RFC 6455 section
// 7.4 does not allow on the wire) gives a close frame with no payload, which
// is how "no status code" is said (so the server echoes a client's empty
// close with close_frame(kCloseNoStatus, "")).
std::string close_frame(uint16_t code, std::string_view reason);

// Reads a client's frames, fed as the bytes arrive, in pieces of any size.
//
// Each of these is a failure, with the code to close with:
// - 1002: a reserved (RSV) bit set, as no extension is negotiated; a frame
//   that is not masked; an unknown opcode; a control frame that is not final
//   or longer than 125 bytes; a continuation with no message started, or a
//   new text or binary frame while a message is unfinished; a length not in
//   its shortest form, or a 64-bit length with the top bit set; a close
//   payload of 1 byte, or a close code not allowed on the wire.
// - 1007: a text message, or a close reason, that is not valid UTF-8.
// - 1008 ("text frames only"): a binary frame; the server takes text only.
// - 1009: a message (the sum of its fragments) over max_message_bytes, found
//   from a frame's declared length before its payload is buffered.
// Control frames may come between the fragments of a message (RFC 6455
// section 5.4). A text message is checked as UTF-8 once it is whole.
//
// Thread-safety: none; a reader belongs to one connection and is used on its
// strand. Lifetime: it keeps nothing of the bytes it is given after read()
// returns.
class FrameReader {
 public:
  explicit FrameReader(size_t max_message_bytes);

  struct Event {
    enum class Kind { none, text, ping, pong, close, failure };
    Kind kind = Kind::none;
    // text: the whole message; ping, pong: the payload; close: the reason;
    // failure: why (short ASCII, for the reason of the close frame to send).
    std::string payload;
    // close: the client's code, 1005 when it sent none; failure: the code
    // to close with.
    uint16_t code = 0;
  };

  // Reads from `data` until one event is complete or the bytes run out, and
  // returns how many bytes it used. `event` is reset first, then holds the
  // event, or Kind::none when the bytes ran out before one was complete. The
  // caller calls again with the rest while event.kind != none and bytes
  // remain. A close or a failure is given once: after it the reader is done,
  // and read() uses nothing more (returns 0 with Kind::none); the bytes after
  // it are not the reader's to judge.
  size_t read(const uint8_t* data, size_t size, Event& event);

  // True while a text message is partly read: from the head of its first
  // frame until its last byte (control frames between fragments included).
  bool mid_message() const { return in_message_; }

 private:
  enum class State : uint8_t { head, payload, done };

  // The head is complete: check it and set up the frame; false on a failure.
  bool begin_frame(Event& event);
  // The first two bytes of the head are in: the checks they allow; false on
  // a failure.
  bool check_first_bytes(Event& event);
  // The frame's payload is all in: true when it completed an event.
  bool end_frame(Event& event);
  bool fail(Event& event, uint16_t code, std::string_view why);

  size_t max_message_bytes_;
  State state_ = State::head;
  bool in_message_ = false;  // a text message is started and not yet whole
  // The frame being read.
  std::array<uint8_t, 14> head_{};  // 2 + 8 (length) + 4 (mask key)
  uint8_t head_have_ = 0;
  uint8_t head_need_ = 2;
  Opcode opcode_ = Opcode::continuation;
  bool fin_ = false;
  std::array<uint8_t, 4> mask_{};
  uint64_t frame_left_ = 0;  // payload bytes still to come
  uint64_t frame_pos_ = 0;   // payload bytes read, for the position in the mask
  // A control frame's payload (at most 125 bytes, so held inline), and the
  // text message being put together (empty, with no buffer, between messages).
  std::array<char, kMaxControlPayload> control_{};
  uint8_t control_size_ = 0;
  std::string message_;
};

}  // namespace chaton::http::ws
