// The original Chaton line format: writing one post as a Lisp list, and a
// small, tolerant reader for exactly that shape (see line_codec.h and
// docs/STORAGE.md). The reader never throws; a line it cannot read is
// reported with a reason and skipped by parse_log.
#include "messages/line_codec.h"

#include <cstdint>

#include "util/text.h"

namespace chaton {

namespace {

constexpr int64_t kMaxUsec = 999999;
constexpr int kMaxHexDigitsWithSemicolon = 8;  // \xH...; (1..8 digits)
constexpr int kLegacyHexDigits = 2;            // \xHH without ';'
constexpr int kUnicodeEscapeDigits = 4;        // \uHHHH
constexpr int kLongUnicodeEscapeDigits = 8;    // \UHHHHHHHH

bool is_intraline_space(char c) { return c == ' ' || c == '\t'; }

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


// A cursor over one line. Each read_* returns false and sets error_ on failure.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  const std::string& error() const { return error_; }

  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  bool peek_is(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  bool expect(char c, const char* what) {
    if (!peek_is(c)) return fail(std::string("expected ") + what);
    ++pos_;
    return true;
  }

  bool read_int(int64_t& out, const char* what) {
    skip_space();
    size_t start = pos_;
    while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != '(' && s_[pos_] != ')' &&
           s_[pos_] != '"')
      ++pos_;
    auto v = parse_int(s_.substr(start, pos_ - start));
    if (!v) return fail(std::string("expected an integer for ") + what);
    out = *v;
    return true;
  }

  bool read_string(std::string& out, const char* what) {
    if (!peek_is('"')) return fail(std::string("expected a string for ") + what);
    ++pos_;
    std::string raw;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') {
        out = repair_utf8(raw);
        return true;
      }
      if (c != '\\') {
        raw.push_back(c);
      } else if (pos_ >= s_.size()) {
        break;
      } else if (!read_escape(raw)) {
        return fail(std::string("an escape Gauche cannot read in ") + what);
      }
    }
    return fail(std::string("missing closing quote in ") + what);
  }

  // Skips one datum as Gauche's reader would read it: a string, a list
  // (nested), or an atom. False when it is not complete. A loop with a
  // depth count, not recursion: a line of a million '(' costs no stack.
  bool skip_datum() {
    size_t depth = 0;  // lists opened and not yet closed
    do {
      skip_space();
      if (pos_ >= s_.size()) return fail(depth ? "an unclosed list" : "expected an element");
      char c = s_[pos_];
      if (c == '"') {
        std::string ignored;
        if (!read_string(ignored, "an extra element")) return false;
      } else if (c == '(') {
        ++pos_;
        ++depth;
      } else if (c == ')') {
        if (depth == 0) return fail("unexpected ')'");
        ++pos_;
        --depth;
      } else {
        while (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != '(' && s_[pos_] != ')' &&
               s_[pos_] != '"')
          ++pos_;
      }
    } while (depth > 0);
    return true;
  }

 private:
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  // Reads up to max_digits hex digits at pos_ without consuming them.
  int count_hex(int max_digits, uint32_t& value) const {
    int n = 0;
    value = 0;
    while (n < max_digits && pos_ + n < s_.size()) {
      int h = hex_value(s_[pos_ + n]);
      if (h < 0) break;
      value = value * 16 + static_cast<uint32_t>(h);
      ++n;
    }
    return n;
  }

  // \xH...; (1..8 digits), or the older \xHH. False when neither fits.
  bool read_hex_escape(std::string& out) {
    uint32_t cp = 0;
    int n = count_hex(kMaxHexDigitsWithSemicolon, cp);
    if (n > 0 && pos_ + n < s_.size() && s_[pos_ + n] == ';') {
      pos_ += n + 1;
      append_utf8(out, cp);
      return true;
    }
    if (n >= kLegacyHexDigits) {
      count_hex(kLegacyHexDigits, cp);
      pos_ += kLegacyHexDigits;
      append_utf8(out, cp);
      return true;
    }
    return false;
  }

  // \uHHHH, with a following \uHHHH low surrogate joined to a high one;
  // \UHHHHHHHH (digits == kLongUnicodeEscapeDigits).
  bool read_unicode_escape(std::string& out, int digits = kUnicodeEscapeDigits) {
    uint32_t cp = 0;
    if (count_hex(digits, cp) != digits) return false;
    pos_ += static_cast<size_t>(digits);
    if (digits != kUnicodeEscapeDigits) {
      append_utf8(out, cp);
      return true;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
        s_[pos_ + 1] == 'u') {
      uint32_t low = 0;
      size_t save = pos_;
      pos_ += 2;
      if (count_hex(kUnicodeEscapeDigits, low) == kUnicodeEscapeDigits && low >= 0xDC00 &&
          low <= 0xDFFF) {
        pos_ += kUnicodeEscapeDigits;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      } else {
        pos_ = save;
      }
    }
    append_utf8(out, cp);
    return true;
  }

  // The character after a backslash is at pos_ (which is in range). Reads
  // the escapes Gauche's string reader reads (docs/STORAGE.md "Strings as
  // read"); false where Gauche stops with a read error.
  bool read_escape(std::string& out) {
    char e = s_[pos_++];
    switch (e) {
      case 'n': out.push_back('\n'); return true;
      case 't': out.push_back('\t'); return true;
      case 'r': out.push_back('\r'); return true;
      case '0': out.push_back('\0'); return true;
      case 'a': out.push_back('\a'); return true;
      case 'b': out.push_back('\b'); return true;
      case 'f': out.push_back('\f'); return true;
      case 'x': return read_hex_escape(out);
      case 'u': return read_unicode_escape(out);
      case 'U': return read_unicode_escape(out, kLongUnicodeEscapeDigits);
      case ' ':
      case '\t':
        // A line continuation: only spaces and tabs up to the line's end.
        while (pos_ < s_.size() && is_intraline_space(s_[pos_])) ++pos_;
        if (pos_ >= s_.size() || (s_[pos_] != '\r' && s_[pos_] != '\n')) return false;
        ++pos_;
        skip_continued_line();
        return true;
      case '\r':
      case '\n':
        skip_continued_line();
        return true;
      default:
        out.push_back(e);  // \" \\ \v and every other: the character itself
        return true;
    }
  }

  // After the line end of a continuation: the leading spaces and tabs of
  // what follows are dropped.
  void skip_continued_line() {
    if (pos_ < s_.size() && s_[pos_] == '\n') ++pos_;
    while (pos_ < s_.size() && is_intraline_space(s_[pos_])) ++pos_;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

std::string_view strip_line_end(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// The shape: ( string ( int int ) string [address] . rest ), read as the
// original tools read it: the first datum of the line; the address is used
// when it is a string; further elements, and anything after the closing
// ')', are ignored.
std::optional<Post> decode_with_reason(std::string_view line, std::string& why) {
  Reader r(strip_line_end(line));
  Post p;
  bool ok = r.expect('(', "'(' at the start") && r.read_string(p.nick, "the nickname") &&
            r.expect('(', "'(' before the time") && r.read_int(p.sec, "seconds") &&
            r.read_int(p.usec, "microseconds") && r.expect(')', "')' after the time") &&
            r.read_string(p.text, "the text");
  if (ok && r.peek_is('"')) {
    std::string ip;
    ok = r.read_string(ip, "the address");
    p.ip = std::move(ip);
  }
  while (ok && !r.peek_is(')')) ok = r.skip_datum();
  ok = ok && r.expect(')', "')' at the end");
  if (!ok) {
    why = r.error();
    return std::nullopt;
  }
  if (p.sec < 0) {
    why = "negative seconds";
    return std::nullopt;
  }
  if (p.usec < 0 || p.usec > kMaxUsec) {
    why = "microseconds out of range";
    return std::nullopt;
  }
  return p;
}

}  // namespace

std::string encode_line(const Post& post) {
  std::string out;
  out.reserve(post.nick.size() + post.text.size() + 64);
  out.push_back('(');
  append_sexpr_string(out, post.nick);
  out += " (";
  out += std::to_string(post.sec);
  out.push_back(' ');
  out += std::to_string(post.usec);
  out += ") ";
  append_sexpr_string(out, post.text);
  if (post.ip) {
    out.push_back(' ');
    append_sexpr_string(out, *post.ip);
  }
  out.push_back(')');
  return out;
}

std::optional<Post> decode_line(std::string_view line) {
  std::string why;
  return decode_with_reason(line, why);
}

ParsedLog parse_log(std::string_view content) {
  ParsedLog log;
  log.torn_tail = !content.empty() && content.back() != '\n';
  size_t line_number = 0;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    ++line_number;
    start = end + 1;
    if (trim(line).empty()) continue;
    std::string why;
    if (auto post = decode_with_reason(line, why)) {
      log.posts.push_back(std::move(*post));
    } else {
      log.bad.push_back(BadLine{line_number, std::move(why)});
    }
  }
  return log;
}

}  // namespace chaton
