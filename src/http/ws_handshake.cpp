// The WebSocket opening handshake: see ws_handshake.h.
#include "http/ws_handshake.h"

#include <algorithm>
#include <array>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http/responses.h"

namespace chaton::http {

namespace {

// RFC 6455 section 1.3.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kVersion = "13";

bool base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// The base64 of 16 bytes (section 4.1): 22 characters and "==".
bool well_formed_key(std::string_view key) {
  return key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64_char);
}

}  // namespace

std::string websocket_accept_key(std::string_view key) {
  std::string joined(key);
  joined += kAcceptGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  unsigned size = 0;
  EVP_Digest(joined.data(), joined.size(), digest.data(), &size, EVP_sha1(), nullptr);
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> text{};
  int n = EVP_EncodeBlock(text.data(), digest.data(), static_cast<int>(size));
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<size_t>(n));
}

Response websocket_handshake_response(const Request& req) {
  // A refusal ends the connection: it was to be the WebSocket's.
  auto refusal = [](bhttp::status status, std::string_view why) {
    Response res = error_response(status, why);
    if (status == bhttp::status::upgrade_required) res.set(bhttp::field::sec_websocket_version, kVersion);
    res.keep_alive(false);
    return res;
  };
  if (req[bhttp::field::sec_websocket_version] != kVersion)
    return refusal(bhttp::status::upgrade_required, "WebSocket version 13 only");
  // Section 4.1: the opening handshake names the host, like any request.
  if (req[bhttp::field::host].empty())
    return refusal(bhttp::status::bad_request, "a WebSocket upgrade needs a Host");
  std::string_view key = req[bhttp::field::sec_websocket_key];
  if (!well_formed_key(key))
    return refusal(bhttp::status::bad_request, "a WebSocket upgrade needs a Sec-WebSocket-Key");
  Response res{bhttp::status::switching_protocols, 11};
  res.set(bhttp::field::server, kServerName);
  res.set(bhttp::field::upgrade, "websocket");
  res.set(bhttp::field::connection, "Upgrade");
  res.set(bhttp::field::sec_websocket_accept, websocket_accept_key(key));
  return res;
}

}  // namespace chaton::http
