// Fuzzes the reader of the original line format (messages/line_codec.h), the
// lines of current.dat and the daily archives. decode_line() and parse_log()
// must never crash or misbehave; a line that decodes must hold valid UTF-8
// and an in-range stamp, and must come back unchanged through encode_line()
// and decode_line(); parse_log() must account for every non-blank line.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "messages/line_codec.h"
#include "util/text.h"

using chaton::fuzz::require;

namespace {

constexpr int64_t kMaxUsec = 999999;

void check_post(const chaton::Post& post) {
  require(post.sec >= 0, "decoded seconds are negative");
  require(post.usec >= 0 && post.usec <= kMaxUsec, "decoded microseconds out of range");
  require(chaton::repair_utf8(post.nick) == post.nick, "decoded nick is not valid UTF-8");
  require(chaton::repair_utf8(post.text) == post.text, "decoded text is not valid UTF-8");
  std::string line = chaton::encode_line(post);
  require(line.find('\n') == std::string::npos, "an encoded post spans more than one line");
  auto again = chaton::decode_line(line);
  require(again.has_value(), "an encoded post does not decode");
  require(*again == post, "a post changed through encode_line and decode_line");
}

size_t non_blank_lines(std::string_view content) {
  size_t count = 0;
  while (!content.empty()) {
    size_t end = content.find('\n');
    if (!chaton::trim(content.substr(0, end)).empty()) ++count;
    if (end == std::string_view::npos) break;
    content.remove_prefix(end + 1);
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);
  if (auto post = chaton::decode_line(input)) check_post(*post);

  chaton::ParsedLog log = chaton::parse_log(input);
  require(log.posts.size() + log.bad.size() == non_blank_lines(input), "parse_log lost or invented a line");
  require(log.torn_tail == (!input.empty() && input.back() != '\n'), "parse_log torn_tail is wrong");
  for (const auto& post : log.posts) check_post(post);
  for (const auto& bad : log.bad) require(!bad.reason.empty(), "a bad line has no reason");
  return 0;
}
