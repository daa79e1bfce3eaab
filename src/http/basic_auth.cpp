// HTTP Basic authentication: see basic_auth.h.
#include "http/basic_auth.h"

#include <openssl/evp.h>

#include "http/responses.h"

namespace chaton::http {

namespace {

constexpr size_t kMaxCredentialBytes = 4096;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string> decode_base64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > kMaxCredentialBytes) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// A realm is a quoted-string: keep it printable and free of quotes.
std::string quoted_realm(std::string_view realm) {
  std::string out;
  for (unsigned char c : realm)
    if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') out.push_back(static_cast<char>(c));
  return out.empty() ? std::string("Chaton") : out;
}

}  // namespace

std::optional<Credentials> parse_basic_auth(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  size_t space = header.find(' ');
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "basic")) return std::nullopt;
  std::string_view token = header.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  auto decoded = decode_base64(token);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

Response unauthorized(std::string_view realm, std::string_view message) {
  Response res = error_response(bhttp::status::unauthorized, message);
  res.set(bhttp::field::www_authenticate, "Basic realm=\"" + quoted_realm(realm) + "\", charset=\"UTF-8\"");
  return res;
}

}  // namespace chaton::http
