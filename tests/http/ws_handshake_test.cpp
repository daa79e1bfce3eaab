// The WebSocket opening handshake's answer (http/ws_handshake.h).
#include "http/ws_handshake.h"

#include <gtest/gtest.h>

namespace chaton::http {
namespace {

Request upgrade_request(std::string_view key, std::string_view version = "13") {
  Request req{bhttp::verb::get, "/lobby/ws?p=0", 11};
  req.set(bhttp::field::host, "example.org");
  req.set(bhttp::field::upgrade, "websocket");
  req.set(bhttp::field::connection, "Upgrade");
  if (!key.empty()) req.set(bhttp::field::sec_websocket_key, key);
  if (!version.empty()) req.set(bhttp::field::sec_websocket_version, version);
  return req;
}

TEST(WsHandshakeTest, TheAcceptKeyOfTheRfcsExample) {
  // RFC 6455 section 1.3.
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshakeTest, AWellFormedUpgradeSwitchesProtocols) {
  Response res = websocket_handshake_response(upgrade_request("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_EQ(res.result(), bhttp::status::switching_protocols);
  EXPECT_EQ(res[bhttp::field::upgrade], "websocket");
  EXPECT_EQ(res[bhttp::field::connection], "Upgrade");
  EXPECT_EQ(res[bhttp::field::sec_websocket_accept], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_FALSE(res[bhttp::field::server].empty());
}

TEST(WsHandshakeTest, AnotherVersionIsToldTheOneSpoken) {
  for (std::string_view v : {"8", "", "13, 8"}) {
    Response res = websocket_handshake_response(upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", v));
    EXPECT_EQ(res.result(), bhttp::status::upgrade_required) << v;
    EXPECT_EQ(res[bhttp::field::sec_websocket_version], "13") << v;
    EXPECT_FALSE(res.keep_alive());
  }
}

TEST(WsHandshakeTest, AMissingOrMalformedKeyIsABadRequest) {
  for (std::string_view key : {"", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j*Q==",
                               "dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ=="}) {
    Response res = websocket_handshake_response(upgrade_request(key));
    EXPECT_EQ(res.result(), bhttp::status::bad_request) << key;
    EXPECT_FALSE(res.keep_alive());
  }
}

TEST(WsHandshakeTest, AnUpgradeWithoutAHostIsABadRequest) {
  Request req = upgrade_request("dGhlIHNhbXBsZSBub25jZQ==");
  req.erase(bhttp::field::host);
  EXPECT_EQ(websocket_handshake_response(req).result(), bhttp::status::bad_request);
}

}  // namespace
}  // namespace chaton::http
