#include "util/sexpr.h"

namespace chaton {

void append_sexpr_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
          out.push_back(';');
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string encode_sexpr_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_sexpr_string(out, s);
  return out;
}

}  // namespace chaton
