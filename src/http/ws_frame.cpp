#include "http/ws_frame.h"

#include <algorithm>

#include "util/text.h"

namespace chaton::http::ws {

namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsvBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7F;
constexpr uint8_t kLength16 = 126;  // the 7-bit length saying "a 16-bit length follows"
constexpr uint8_t kLength64 = 127;  // ... "a 64-bit length follows"

// A message's buffer is reserved up to its first frame's declared length,
// but no further than a usual post: a client declaring a large frame and
// sending it slowly must not make the server hold memory it has not sent
// (past this, the buffer grows as the bytes come).
constexpr size_t kMaxReserve = 4 * 1024;

bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

bool is_known(uint8_t op) {
  switch (static_cast<Opcode>(op)) {
    case Opcode::continuation:
    case Opcode::text:
    case Opcode::binary:
    case Opcode::close:
    case Opcode::ping:
    case Opcode::pong:
      return true;
  }
  return false;
}

// The close codes an endpoint may put on the wire (RFC 6455 section 7.4.1
// and 7.4.2, with the codes IANA registered since: 1012-1014). 1004 is
// reserved, and 1005, 1006 and 1015 only stand for what happened locally.
bool close_code_allowed(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// The length of `s` cut to at most `max` bytes, backing off so that no
// UTF-8 sequence is cut in two.
size_t utf8_cut(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

size_t frame_head(Opcode op, uint64_t payload_bytes, std::array<uint8_t, kMaxFrameHead>& out) {
  out[0] = static_cast<uint8_t>(kFin | static_cast<uint8_t>(op));
  if (payload_bytes < kLength16) {
    out[1] = static_cast<uint8_t>(payload_bytes);
    return 2;
  }
  if (payload_bytes <= 0xFFFF) {
    out[1] = kLength16;
    out[2] = static_cast<uint8_t>(payload_bytes >> 8);
    out[3] = static_cast<uint8_t>(payload_bytes);
    return 4;
  }
  out[1] = kLength64;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_bytes >> (8 * (7 - i)));
  return 10;
}

std::string control_frame(Opcode op, std::string_view payload) {
  payload = payload.substr(0, kMaxControlPayload);
  std::array<uint8_t, kMaxFrameHead> head;
  size_t n = frame_head(op, payload.size(), head);
  std::string frame(reinterpret_cast<const char*>(head.data()), n);
  frame.append(payload);
  return frame;
}

std::string close_frame(uint16_t code, std::string_view reason) {
  if (!close_code_allowed(code)) return control_frame(Opcode::close, {});
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, utf8_cut(reason, kMaxControlPayload - 2)));
  return control_frame(Opcode::close, payload);
}

FrameReader::FrameReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

size_t FrameReader::read(const uint8_t* data, size_t size, Event& event) {
  event = Event{};
  size_t used = 0;
  while (state_ != State::done) {
    if (state_ == State::head) {
      if (used == size) break;
      size_t n = std::min<size_t>(head_need_ - head_have_, size - used);
      std::copy_n(data + used, n, head_.begin() + head_have_);
      head_have_ = static_cast<uint8_t>(head_have_ + n);
      used += n;
      if (head_have_ < head_need_) break;
      if (head_have_ == 2) {
        if (!check_first_bytes(event)) return used;
        continue;
      }
      if (!begin_frame(event)) return used;
      state_ = State::payload;
    }
    // The payload; a frame with none ends here, without waiting for bytes.
    size_t n = static_cast<size_t>(std::min<uint64_t>(frame_left_, size - used));
    const uint8_t* in = data + used;
    if (is_control(opcode_)) {
      for (size_t i = 0; i < n; ++i)
        control_[control_size_ + i] = static_cast<char>(in[i] ^ mask_[(frame_pos_ + i) & 3]);
      control_size_ = static_cast<uint8_t>(control_size_ + n);
    } else {
      size_t old = message_.size();
      message_.resize(old + n);
      for (size_t i = 0; i < n; ++i)
        message_[old + i] = static_cast<char>(in[i] ^ mask_[(frame_pos_ + i) & 3]);
    }
    used += n;
    frame_left_ -= n;
    frame_pos_ += n;
    if (frame_left_ > 0) break;
    state_ = State::head;
    head_have_ = 0;
    head_need_ = 2;
    if (end_frame(event)) break;
  }
  return used;
}

bool FrameReader::check_first_bytes(Event& event) {
  uint8_t b0 = head_[0], b1 = head_[1];
  if (b0 & kRsvBits) return fail(event, kCloseProtocolError, "reserved bits set");
  uint8_t op = b0 & kOpcodeBits;
  if (!is_known(op)) return fail(event, kCloseProtocolError, "unknown opcode");
  // RFC 6455 section 5.1: a client masks every frame.
  if (!(b1 & kMaskBit)) return fail(event, kCloseProtocolError, "frame not masked");
  opcode_ = static_cast<Opcode>(op);
  fin_ = (b0 & kFin) != 0;
  uint8_t length = b1 & kLengthBits;
  // RFC 6455 section 5.5: control frames are final and carry at most 125
  // bytes (so their length is always the 7-bit one).
  if (is_control(opcode_)) {
    if (!fin_) return fail(event, kCloseProtocolError, "fragmented control frame");
    if (length > kMaxControlPayload) return fail(event, kCloseProtocolError, "control frame too long");
  } else if (opcode_ == Opcode::continuation) {
    if (!in_message_) return fail(event, kCloseProtocolError, "continuation without a message");
  } else {
    // RFC 6455 section 5.4: the fragments of one message are not interleaved
    // with another's.
    if (in_message_) return fail(event, kCloseProtocolError, "new message before the last ended");
    if (opcode_ == Opcode::binary) return fail(event, kClosePolicy, "text frames only");
  }
  head_need_ = static_cast<uint8_t>(2 + (length == kLength16 ? 2 : length == kLength64 ? 8 : 0) + 4);
  return true;
}

bool FrameReader::begin_frame(Event& event) {
  uint8_t length7 = head_[1] & kLengthBits;
  uint64_t length = length7;
  size_t key_at = 2;
  if (length7 == kLength16) {
    length = (uint64_t{head_[2]} << 8) | head_[3];
    key_at = 4;
    // RFC 6455 section 5.2: "the minimal number of bytes MUST be used".
    if (length < kLength16) return fail(event, kCloseProtocolError, "length not in its shortest form");
  } else if (length7 == kLength64) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | head_[2 + i];
    key_at = 10;
    if (length >> 63) return fail(event, kCloseProtocolError, "length with the top bit set");
    if (length <= 0xFFFF) return fail(event, kCloseProtocolError, "length not in its shortest form");
  }
  std::copy_n(head_.begin() + key_at, 4, mask_.begin());
  frame_left_ = length;
  frame_pos_ = 0;
  control_size_ = 0;
  if (!is_control(opcode_)) {
    // Refused from the declared length, before any of it is buffered.
    if (length > max_message_bytes_ - message_.size()) return fail(event, kCloseTooBig, "message too big");
    if (opcode_ == Opcode::text) {
      in_message_ = true;
      message_.reserve(static_cast<size_t>(std::min<uint64_t>(length, kMaxReserve)));
    }
  }
  return true;
}

bool FrameReader::end_frame(Event& event) {
  std::string_view control(control_.data(), control_size_);
  switch (opcode_) {
    case Opcode::ping:
      event.kind = Event::Kind::ping;
      event.payload = control;
      return true;
    case Opcode::pong:
      event.kind = Event::Kind::pong;
      event.payload = control;
      return true;
    case Opcode::close: {
      // RFC 6455 section 5.5.1: no payload, or a 2-byte code and a UTF-8 reason.
      uint16_t code = kCloseNoStatus;
      std::string_view reason;
      if (control.size() == 1) return fail(event, kCloseProtocolError, "close payload of 1 byte");
      if (control.size() >= 2) {
        code =
            static_cast<uint16_t>((static_cast<uint8_t>(control[0]) << 8) | static_cast<uint8_t>(control[1]));
        if (!close_code_allowed(code)) return fail(event, kCloseProtocolError, "close code not allowed");
        reason = control.substr(2);
        if (!is_valid_utf8(reason)) return fail(event, kCloseInvalidData, "close reason not UTF-8");
      }
      state_ = State::done;
      event.kind = Event::Kind::close;
      event.code = code;
      event.payload = reason;
      return true;
    }
    default:
      break;
  }
  if (!fin_) return false;
  // The last fragment: the message is whole. It leaves no buffer behind.
  std::string message = std::move(message_);
  message_ = std::string();
  in_message_ = false;
  if (!is_valid_utf8(message)) return fail(event, kCloseInvalidData, "text not UTF-8");
  event.kind = Event::Kind::text;
  event.payload = std::move(message);
  return true;
}

bool FrameReader::fail(Event& event, uint16_t code, std::string_view why) {
  state_ = State::done;
  in_message_ = false;
  message_ = std::string();
  event.kind = Event::Kind::failure;
  event.code = code;
  event.payload = why;
  return false;
}

}  // namespace chaton::http::ws
