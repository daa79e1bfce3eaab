// Reading server S-expressions: see sexpr_reader.h.
#include "client/sexpr_reader.h"
#include "util/text.h"

#include <charconv>

namespace chaton::sexpr {

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr size_t kMaxHexDigits = 6;
constexpr size_t kUnicodeEscapeDigits = 4;
constexpr size_t kErrorContext = 40;  // characters of input quoted in an error

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_delimiter(char c) { return is_space(c) || c == '(' || c == ')' || c == '"' || c == ';'; }
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::optional<char> simple_escape(char e) {
  switch (e) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '0': return '\0';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case '"': return '"';
    case '\\': return '\\';
    default: return std::nullopt;
  }
}

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Result<Datum> read_all() {
    Datum d;
    if (!read_datum(d, 0)) return error();
    skip_blank();
    if (i_ != s_.size()) {
      fail("unexpected text after the datum");
      return error();
    }
    return d;
  }

 private:
  Status error() const {
    std::string_view near = s_.substr(std::min(i_, s_.size()), kErrorContext);
    return Status(Errc::invalid, "S-expression: " + why_ + " at offset " + std::to_string(i_) +
                                     (near.empty() ? "" : " near '" + std::string(near) + "'"));
  }
  bool fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    return false;
  }
  bool at_end() const { return i_ >= s_.size(); }

  void skip_blank() {
    while (!at_end()) {
      if (is_space(s_[i_])) {
        ++i_;
      } else if (s_[i_] == ';') {
        while (!at_end() && s_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  bool read_datum(Datum& out, size_t depth) {
    skip_blank();
    if (at_end()) return fail("unexpected end of input");
    char c = s_[i_];
    if (c == '(') return read_list(out, depth + 1);
    if (c == ')') return fail("unexpected ')'");
    if (c == '"') return read_string(out);
    return read_atom(out);
  }

  bool read_list(Datum& out, size_t depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    ++i_;  // '('
    out.kind = Datum::Kind::list;
    for (;;) {
      skip_blank();
      if (at_end()) return fail("unterminated list");
      if (s_[i_] == ')') {
        ++i_;
        return true;
      }
      if (is_dot()) return read_dotted_tail(out, depth);
      out.items.emplace_back();
      if (!read_datum(out.items.back(), depth)) return false;
    }
  }

  bool is_dot() const {
    return s_[i_] == '.' && (i_ + 1 >= s_.size() || is_delimiter(s_[i_ + 1]));
  }

  bool read_dotted_tail(Datum& out, size_t depth) {
    if (out.items.empty()) return fail("'.' at the start of a list");
    ++i_;  // '.'
    out.tail.emplace_back();
    if (!read_datum(out.tail.back(), depth)) return false;
    skip_blank();
    if (at_end() || s_[i_] != ')') return fail("expected ')' after the dotted tail");
    ++i_;
    return true;
  }

  bool read_string(Datum& out) {
    ++i_;  // opening quote
    out.kind = Datum::Kind::string;
    for (;;) {
      if (at_end()) return fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out.text.push_back(c);
        continue;
      }
      if (!read_escape(out.text)) return false;
    }
  }

  bool read_escape(std::string& out) {
    if (at_end()) return fail("unterminated escape");
    char e = s_[i_++];
    if (auto c = simple_escape(e)) {
      out.push_back(*c);
      return true;
    }
    if (e == 'x') return read_hex_escape(out);
    if (e == 'u') return read_unicode_escape(out);
    out.push_back(e);  // Gauche reads an unknown escape as the character itself
    return true;
  }

  // \xH…; (R7RS) or, without the semicolon, exactly two digits (legacy).
  bool read_hex_escape(std::string& out) {
    size_t start = i_;
    while (i_ < s_.size() && i_ - start < kMaxHexDigits && is_hex(s_[i_])) ++i_;
    size_t digits = i_ - start;
    if (i_ < s_.size() && s_[i_] == ';' && digits > 0) {
      ++i_;
      return append_code_point(out, s_.substr(start, digits));
    }
    if (digits < 2) return fail("bad \\x escape");
    i_ = start + 2;
    return append_code_point(out, s_.substr(start, 2));
  }

  bool read_unicode_escape(std::string& out) {
    if (s_.size() - i_ < kUnicodeEscapeDigits) return fail("bad \\u escape");
    std::string_view hex = s_.substr(i_, kUnicodeEscapeDigits);
    for (char c : hex)
      if (!is_hex(c)) return fail("bad \\u escape");
    i_ += kUnicodeEscapeDigits;
    return append_code_point(out, hex);
  }

  bool append_code_point(std::string& out, std::string_view hex) {
    uint32_t cp = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), cp, 16);
    if (ec != std::errc{} || end != hex.data() + hex.size() || cp > kMaxCodePoint) {
      return fail("bad character code in escape");
    }
    append_utf8(out, cp);
    return true;
  }

  bool read_atom(Datum& out) {
    size_t start = i_;
    while (!at_end() && !is_delimiter(s_[i_])) ++i_;
    std::string_view token = s_.substr(start, i_ - start);
    if (token.empty()) return fail("empty atom");
    if (looks_numeric(token)) return read_integer(out, token);
    out.kind = Datum::Kind::symbol;
    out.text = std::string(token);
    return true;
  }

  static bool looks_numeric(std::string_view t) {
    size_t first = (t[0] == '-' || t[0] == '+') ? 1 : 0;
    if (first == t.size()) return false;  // "-" or "+" alone is a symbol
    for (size_t k = first; k < t.size(); ++k)
      if (t[k] < '0' || t[k] > '9') return false;
    return true;
  }

  bool read_integer(Datum& out, std::string_view token) {
    if (token[0] == '+') token.remove_prefix(1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc{} || end != token.data() + token.size()) {
      return fail("integer out of range");
    }
    out.kind = Datum::Kind::integer;
    out.integer = v;
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string why_;
};

}  // namespace

Result<Datum> read(std::string_view text) {
  try {
    return Reader(text).read_all();
  } catch (const std::exception& e) {  // allocation failure
    return Status(Errc::invalid, std::string("S-expression: ") + e.what());
  }
}

std::optional<Datum> alist_ref(const Datum& alist, std::string_view key) {
  if (!alist.is_list()) return std::nullopt;
  for (const Datum& entry : alist.items) {
    if (!entry.is_list() || entry.items.empty() || !entry.items[0].is_symbol(key)) continue;
    if (entry.items.size() == 1 && entry.is_dotted()) return entry.tail[0];
    Datum rest;  // (key a b ...) -> (a b ...)
    rest.items.assign(entry.items.begin() + 1, entry.items.end());
    rest.tail = entry.tail;
    return rest;
  }
  return std::nullopt;
}

std::optional<std::string> alist_string(const Datum& alist, std::string_view key) {
  auto v = alist_ref(alist, key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::move(v->text);
}

std::optional<int64_t> alist_integer(const Datum& alist, std::string_view key) {
  auto v = alist_ref(alist, key);
  if (!v || !v->is_integer()) return std::nullopt;
  return v->integer;
}

}  // namespace chaton::sexpr
