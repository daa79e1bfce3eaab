// The original Chaton line format: writing one post as a Lisp list, and
// reading exactly that shape with the one S-expression reader (see
// line_codec.h, util/sexpr.h and docs/STORAGE.md "Line format"). Reading
// never throws; a line it cannot read is reported with a reason and skipped
// by parse_log.
#include "messages/line_codec.h"

#include <cstdint>

#include "util/text.h"

namespace chaton {

namespace {

constexpr int64_t kMaxUsec = 999999;

std::string_view strip_line_end(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// The shape of docs/STORAGE.md "Unreadable lines" over the tokens of the one
// S-expression reader (util/sexpr.h): ( string ( int int ) string [address]
// . rest ), read as the original tools read it: the first datum of the line;
// the address is used when it is a string; further elements (any datum, at
// any depth, skipped without recursion), and anything after the closing
// ')', are ignored.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : r_(line) {}

  std::optional<Post> read(std::string& why) {
    Post p;
    bool ok = open("'(' at the start") && string(p.nick, "a string for the nickname") &&
              open("'(' before the time") && integer(p.sec, "an integer for seconds") &&
              integer(p.usec, "an integer for microseconds") && close("')' after the time") &&
              string(p.text, "a string for the text");
    if (ok && r_.peek().kind == Kind::string) p.ip = r_.next().text;
    while (ok && r_.peek().kind != Kind::close) {
      if (r_.peek().kind == Kind::dot) {  // ( ... . rest)
        r_.next();
        ok = r_.skip();
        break;
      }
      ok = r_.skip();
    }
    ok = ok && close("')' at the end");
    if (!ok) {
      why = r_.error().message;
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

 private:
  using Kind = sexpr::Token::Kind;

  // The next token, when it is of `kind` (and, for a bracket, `bracket`);
  // otherwise the failure "expected <what>".
  std::optional<sexpr::Token> take(Kind kind, char bracket, const char* what) {
    sexpr::Token t = r_.next();
    if (t.kind == Kind::error) return std::nullopt;
    if (t.kind != kind || (bracket && t.bracket != bracket)) {
      r_.fail(std::string("expected ") + what, t.line);
      return std::nullopt;
    }
    return t;
  }
  bool open(const char* what) { return take(Kind::open, '(', what).has_value(); }
  bool close(const char* what) { return take(Kind::close, ')', what).has_value(); }
  bool string(std::string& out, const char* what) {
    auto t = take(Kind::string, 0, what);
    if (t) out = std::move(t->text);
    return t.has_value();
  }
  bool integer(int64_t& out, const char* what) {
    auto t = take(Kind::integer, 0, what);
    if (t) out = t->integer;
    return t.has_value();
  }

  sexpr::Reader r_;
};

std::optional<Post> decode_with_reason(std::string_view line, std::string& why) {
  return LineReader(strip_line_end(line)).read(why);
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
