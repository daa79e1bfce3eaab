// The WebSocket frame codec (http/ws_frame.h): the server's frames byte for
// byte, and the reader on well-formed and malformed client frames, whole and
// in pieces.
#include "http/ws_frame.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/text.h"

namespace chaton::http::ws {
namespace {

using Kind = FrameReader::Event::Kind;
using Event = FrameReader::Event;

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kText = 0x1, kBinary = 0x2, kContinuation = 0x0, kClose = 0x8, kPing = 0x9, kPong = 0xA;
constexpr uint8_t kKey[4] = {0x37, 0xFA, 0x21, 0x3D};  // the example key of RFC 6455 section 5.7

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

// A client frame: first byte `b0` (FIN, RSV and opcode bits), `payload`
// masked with kKey. The length is written with `length_bytes` (0, 2 or 8;
// by default the shortest form) and says `declared` (by default the
// payload's size).
std::string client_frame(uint8_t b0, std::string_view payload, bool masked = true,
                         std::optional<int> length_bytes = std::nullopt,
                         std::optional<uint64_t> declared = std::nullopt) {
  uint64_t n = declared.value_or(payload.size());
  int ext = length_bytes.value_or(n < 126 ? 0 : n <= 0xFFFF ? 2 : 8);
  std::string f;
  f.push_back(static_cast<char>(b0));
  uint8_t b1 = masked ? 0x80 : 0;
  if (ext == 0) {
    f.push_back(static_cast<char>(b1 | n));
  } else {
    f.push_back(static_cast<char>(b1 | (ext == 2 ? 126 : 127)));
    for (int i = ext - 1; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
  }
  if (masked) f.append(reinterpret_cast<const char*>(kKey), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ (masked ? kKey[i % 4] : 0)));
  return f;
}

std::string text_frame(std::string_view payload, bool fin = true) {
  return client_frame(static_cast<uint8_t>((fin ? kFin : 0) | kText), payload);
}
std::string continuation(std::string_view payload, bool fin) {
  return client_frame(static_cast<uint8_t>((fin ? kFin : 0) | kContinuation), payload);
}
std::string close_payload(uint16_t code, std::string_view reason) {
  return bytes({code >> 8, code & 0xFF}) + std::string(reason);
}

// Feeds `input` to `reader` in pieces of `piece` bytes, calling read() again
// after each event, and collects the events until the reader stops.
std::vector<Event> feed(FrameReader& reader, std::string_view input, size_t piece = SIZE_MAX) {
  std::vector<Event> events;
  auto* p = reinterpret_cast<const uint8_t*>(input.data());
  size_t at = 0;
  while (at < input.size()) {
    size_t end = input.size() - at > piece ? at + piece : input.size();
    while (at < end) {
      Event e;
      size_t used = reader.read(p + at, end - at, e);
      at += used;
      if (e.kind != Kind::none)
        events.push_back(std::move(e));
      else if (used == 0)
        return events;  // done after a close or a failure
    }
  }
  return events;
}

std::vector<Event> feed(std::string_view input, size_t max = 1 << 20, size_t piece = SIZE_MAX) {
  FrameReader reader(max);
  return feed(reader, input, piece);
}

// The only event `input` gives.
Event only_event(std::string_view input, size_t max = 1 << 20) {
  auto events = feed(input, max);
  EXPECT_EQ(events.size(), 1u);
  return events.empty() ? Event{} : events.back();
}

// The code of the failure that ends what `input` gives (0 if none does).
uint16_t failure_code(std::string_view input, size_t max = 1 << 20) {
  auto events = feed(input, max);
  if (events.empty() || events.back().kind != Kind::failure) {
    ADD_FAILURE() << "no failure";
    return 0;
  }
  EXPECT_FALSE(events.back().payload.empty());
  return events.back().code;
}

TEST(WsFrameHead, LengthForms) {
  std::array<uint8_t, kMaxFrameHead> h;
  auto head = [&](uint64_t n, Opcode op = Opcode::text) {
    size_t len = frame_head(op, n, h);
    return std::vector<int>(h.begin(), h.begin() + static_cast<ptrdiff_t>(len));
  };
  EXPECT_EQ(head(0), (std::vector<int>{0x81, 0}));
  EXPECT_EQ(head(125), (std::vector<int>{0x81, 125}));
  EXPECT_EQ(head(126), (std::vector<int>{0x81, 126, 0, 126}));
  EXPECT_EQ(head(65535), (std::vector<int>{0x81, 126, 0xFF, 0xFF}));
  EXPECT_EQ(head(65536), (std::vector<int>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(head(0x0102030405060708ull), (std::vector<int>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(head(3, Opcode::pong), (std::vector<int>{0x8A, 3}));
}

TEST(WsControlFrame, Bytes) {
  EXPECT_EQ(control_frame(Opcode::ping, "abc"), bytes({0x89, 3}) + "abc");
  EXPECT_EQ(control_frame(Opcode::pong, ""), bytes({0x8A, 0}));
  std::string big(200, 'x');
  EXPECT_EQ(control_frame(Opcode::ping, big), bytes({0x89, 125}) + std::string(125, 'x'));
}

TEST(WsCloseFrame, Bytes) {
  EXPECT_EQ(close_frame(1000, "bye"), bytes({0x88, 5, 0x03, 0xE8}) + "bye");
  EXPECT_EQ(close_frame(1009, ""), bytes({0x88, 2, 0x03, 0xF1}));
  EXPECT_EQ(close_frame(4000, "x"), bytes({0x88, 3, 0x0F, 0xA0}) + "x");
  // A code that may not be on the wire: a close with no status code.
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2000, 5000})
    EXPECT_EQ(close_frame(code, "ignored"), bytes({0x88, 0})) << code;
}

TEST(WsCloseFrame, ReasonCutAtACharacter) {
  std::string ascii(200, 'a');
  EXPECT_EQ(close_frame(1000, ascii), bytes({0x88, 125, 0x03, 0xE8}) + std::string(123, 'a'));
  // 61 two-byte characters fill 122 bytes; the 62nd would end at byte 124.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  std::string frame = close_frame(1000, accents);
  ASSERT_EQ(frame.size(), 2u + 2 + 122);
  EXPECT_EQ(static_cast<uint8_t>(frame[1]), 124);
  EXPECT_EQ(frame.substr(4), accents.substr(0, 122));
  // A four-byte character across the cut.
  std::string emoji = std::string(121, 'a') + "\xF0\x9F\x98\x80";
  frame = close_frame(1000, emoji);
  EXPECT_EQ(frame.substr(4), std::string(121, 'a'));
}

TEST(WsFrameReader, RfcExample) {
  // RFC 6455 section 5.7: a masked "Hello".
  auto events = feed(bytes({0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::text);
  EXPECT_EQ(events[0].payload, "Hello");
}

TEST(WsFrameReader, WholeAndInPiecesAlike) {
  std::string message = "{\"nick\":\"anon\",\"text\":\"h\xC3\xA9llo \xE2\x82\xAC\"}";
  std::string long_message(70000, 'z');  // a 64-bit length
  std::string medium(300, 'm');          // a 16-bit length
  std::string input = text_frame(message) + text_frame(medium) + text_frame(long_message) + text_frame("");
  for (size_t piece : {SIZE_MAX, size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{4096}}) {
    auto events = feed(input, 1 << 20, piece);
    ASSERT_EQ(events.size(), 4u) << piece;
    for (const auto& e : events) EXPECT_EQ(e.kind, Kind::text);
    EXPECT_EQ(events[0].payload, message) << piece;
    EXPECT_EQ(events[1].payload, medium) << piece;
    EXPECT_EQ(events[2].payload, long_message) << piece;
    EXPECT_EQ(events[3].payload, "") << piece;
  }
}

TEST(WsFrameReader, FragmentsWithControlFramesBetween) {
  FrameReader reader(1 << 20);
  EXPECT_FALSE(reader.mid_message());
  auto events = feed(reader, text_frame("Hel", false));
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(reader.mid_message());
  events = feed(reader, client_frame(kFin | kPing, "are you there") + continuation("lo ", false) +
                            client_frame(kFin | kPong, "") + continuation("", false) +
                            // "é" cut in two by the fragments: valid once whole.
                            continuation("w\xC3", false) + continuation("\xA9rld", true));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, Kind::ping);
  EXPECT_EQ(events[0].payload, "are you there");
  EXPECT_EQ(events[1].kind, Kind::pong);
  EXPECT_EQ(events[1].payload, "");
  EXPECT_EQ(events[2].kind, Kind::text);
  EXPECT_EQ(events[2].payload, "Hello w\xC3\xA9rld");
  EXPECT_FALSE(reader.mid_message());
  // The next message starts afresh.
  events = feed(reader, text_frame("again"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "again");
}

TEST(WsFrameReader, StopsAfterAnEventAndResumes) {
  std::string first = text_frame("one");
  std::string input = first + client_frame(kFin | kPing, "p") + text_frame("two");
  auto* p = reinterpret_cast<const uint8_t*>(input.data());
  FrameReader reader(100);
  Event e;
  size_t used = reader.read(p, input.size(), e);
  EXPECT_EQ(used, first.size());
  EXPECT_EQ(e.kind, Kind::text);
  EXPECT_EQ(e.payload, "one");
  size_t at = used;
  used = reader.read(p + at, input.size() - at, e);
  EXPECT_EQ(e.kind, Kind::ping);
  EXPECT_EQ(e.payload, "p");
  at += used;
  // Half of the last frame: nothing yet, every byte used.
  size_t half = (input.size() - at) / 2;
  EXPECT_EQ(reader.read(p + at, half, e), half);
  EXPECT_EQ(e.kind, Kind::none);
  at += half;
  EXPECT_EQ(reader.read(p + at, input.size() - at, e), input.size() - at);
  EXPECT_EQ(e.kind, Kind::text);
  EXPECT_EQ(e.payload, "two");
}

TEST(WsFrameReader, Close) {
  Event e = only_event(client_frame(kFin | kClose, ""));
  EXPECT_EQ(e.kind, Kind::close);
  EXPECT_EQ(e.code, 1005);
  EXPECT_EQ(e.payload, "");

  e = only_event(client_frame(kFin | kClose, close_payload(1000, "bye \xC3\xA9")));
  EXPECT_EQ(e.kind, Kind::close);
  EXPECT_EQ(e.code, 1000);
  EXPECT_EQ(e.payload, "bye \xC3\xA9");

  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
    e = only_event(client_frame(kFin | kClose, close_payload(code, "")));
    EXPECT_EQ(e.kind, Kind::close) << code;
    EXPECT_EQ(e.code, code);
  }
}

TEST(WsFrameReader, ReadsNothingAfterACloseOrAFailure) {
  for (std::string last : {client_frame(kFin | kClose, ""), client_frame(kFin | kBinary, "b")}) {
    std::string input = last + text_frame("after");
    auto* p = reinterpret_cast<const uint8_t*>(input.data());
    FrameReader reader(100);
    Event e;
    size_t used = reader.read(p, input.size(), e);
    EXPECT_NE(e.kind, Kind::none);
    EXPECT_LE(used, last.size());
    e.kind = Kind::text;
    EXPECT_EQ(reader.read(p + used, input.size() - used, e), 0u);
    EXPECT_EQ(e.kind, Kind::none);
    EXPECT_FALSE(reader.mid_message());
  }
}

TEST(WsFrameReader, ProtocolErrors) {
  struct Case {
    const char* what;
    std::string input;
  };
  std::string long_ping(126, 'p');
  std::vector<Case> cases = {
      {"RSV1", client_frame(kFin | 0x40 | kText, "x")},
      {"RSV2", client_frame(kFin | 0x20 | kText, "x")},
      {"RSV3", client_frame(kFin | 0x10 | kText, "x")},
      {"RSV on a ping", client_frame(kFin | 0x40 | kPing, "")},
      {"unmasked text", client_frame(kFin | kText, "x", false)},
      {"unmasked close", client_frame(kFin | kClose, "", false)},
      {"opcode 3", client_frame(kFin | 0x3, "x")},
      {"opcode 7", client_frame(kFin | 0x7, "x")},
      {"opcode B", client_frame(kFin | 0xB, "")},
      {"opcode F", client_frame(kFin | 0xF, "")},
      {"ping not final", client_frame(kPing, "")},
      {"close not final", client_frame(kClose, "")},
      {"ping of 126 bytes", client_frame(kFin | kPing, long_ping)},
      {"pong with a 16-bit length", client_frame(kFin | kPong, "", true, 2)},
      {"continuation first", continuation("x", true)},
      {"continuation after a whole message", text_frame("a") + continuation("x", true)},
      {"text while a message is unfinished", text_frame("a", false) + text_frame("b")},
      {"binary while a message is unfinished", text_frame("a", false) + client_frame(kFin | kBinary, "b")},
      {"64-bit length with the top bit set", client_frame(kFin | kText, "", true, 8, 0x8000000000000000ull)},
      {"16-bit length under 126", client_frame(kFin | kText, "short", true, 2)},
      {"64-bit length under 65536", client_frame(kFin | kText, "short", true, 8)},
      {"close payload of 1 byte", client_frame(kFin | kClose, "\x03")},
  };
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535})
    cases.push_back({"close code", client_frame(kFin | kClose, close_payload(code, "x"))});
  for (const auto& c : cases) EXPECT_EQ(failure_code(c.input), 1002) << c.what;
}

TEST(WsFrameReader, TopBitOfTheLengthBeforeTheLimit) {
  // Refused as malformed, not as too big.
  EXPECT_EQ(failure_code(client_frame(kFin | kText, "", true, 8, ~uint64_t{0}), 10), 1002);
}

TEST(WsFrameReader, InvalidUtf8) {
  EXPECT_EQ(failure_code(text_frame("caf\xC3")), 1007);
  EXPECT_EQ(failure_code(text_frame("\xED\xA0\x80")), 1007);      // a surrogate
  EXPECT_EQ(failure_code(text_frame("\xC0\xAF")), 1007);          // overlong
  EXPECT_EQ(failure_code(text_frame("\xF4\x90\x80\x80")), 1007);  // past U+10FFFF
  EXPECT_EQ(failure_code(text_frame("a\xC3", false) + continuation("b", true)), 1007);
  EXPECT_EQ(failure_code(client_frame(kFin | kClose, close_payload(1000, "\xFF"))), 1007);
}

TEST(WsFrameReader, BinaryRefused) {
  Event e = only_event(client_frame(kFin | kBinary, "data"));
  EXPECT_EQ(e.kind, Kind::failure);
  EXPECT_EQ(e.code, 1008);
  EXPECT_EQ(e.payload, "text frames only");
  // Fragmented binary: refused at its first frame.
  EXPECT_EQ(failure_code(client_frame(kBinary, "da") + continuation("ta", true)), 1008);
}

TEST(WsFrameReader, MessageLimit) {
  const size_t max = 300;
  Event e = only_event(text_frame(std::string(max, 'a')), max);
  EXPECT_EQ(e.kind, Kind::text);
  EXPECT_EQ(e.payload.size(), max);
  EXPECT_EQ(failure_code(text_frame(std::string(max + 1, 'a')), max), 1009);

  // Fragments count together.
  e = only_event(text_frame(std::string(100, 'a'), false) + continuation(std::string(200, 'b'), true), max);
  EXPECT_EQ(e.kind, Kind::text);
  EXPECT_EQ(e.payload.size(), max);
  EXPECT_EQ(
      failure_code(text_frame(std::string(100, 'a'), false) + continuation(std::string(201, 'b'), true), max),
      1009);

  // Refused from the head alone, before the payload comes.
  std::string frame = client_frame(kFin | kText, "", true, 8, uint64_t{1} << 40);
  FrameReader reader(max);
  Event got;
  EXPECT_EQ(reader.read(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), got), frame.size());
  EXPECT_EQ(got.kind, Kind::failure);
  EXPECT_EQ(got.code, 1009);
}

TEST(WsFrameReader, ControlFramesAreNotCountedInTheLimit) {
  std::string ping(125, 'p');
  auto events = feed(client_frame(kFin | kPing, ping) + text_frame("ok"), 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::ping);
  EXPECT_EQ(events[0].payload, ping);
  EXPECT_EQ(events[1].payload, "ok");
}

TEST(WsFrameReader, ReadsWithItsOwnPositionInTheMask) {
  // A payload whose pieces end at every offset of the 4-byte key.
  std::string message = "0123456789abcdefghij";
  std::string input = text_frame(message, false) + continuation(message, true);
  for (size_t piece = 1; piece < 9; ++piece) {
    auto events = feed(input, 1000, piece);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].payload, message + message) << piece;
  }
}

TEST(IsValidUtf8, AgreesWithRepair) {
  for (std::string s : {"", "plain", "h\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"})
    EXPECT_TRUE(is_valid_utf8(s)) << s;
  for (std::string s : {"\x80", "\xC3", "a\xC3(", "\xC0\x80", "\xE0\x80\x80", "\xED\xA0\x80",
                        "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\xFF"}) {
    EXPECT_FALSE(is_valid_utf8(s)) << s;
    EXPECT_NE(repair_utf8(s), s);
  }
}

}  // namespace
}  // namespace chaton::http::ws
