// OriginPolicy (http/origin.h): which requests another site's page may make.
#include "http/origin.h"

#include <gtest/gtest.h>

namespace chaton::http {
namespace {

Request post_from(std::string_view origin, std::string_view host) {
  Request req(bhttp::verb::post, "/lobby/post", 11);
  req.set(bhttp::field::host, host);
  if (!origin.empty()) req.set(bhttp::field::origin, origin);
  return req;
}

TEST(OriginPolicy, TheRequestsOwnHostCountsOnlyUnderTheSchemeTheServerSpeaks) {
  OriginPolicy plain("", {}, /*tls=*/false);
  OriginPolicy tls("", {}, /*tls=*/true);
  EXPECT_TRUE(plain.check(post_from("http://chat.example", "chat.example")).is_ok());
  EXPECT_FALSE(plain.check(post_from("https://chat.example", "chat.example")).is_ok());
  EXPECT_TRUE(tls.check(post_from("https://chat.example", "chat.example")).is_ok());
  // A page of http://chat.example (which anyone on the path can inject) may
  // not post to https://chat.example with the browser's credentials.
  EXPECT_FALSE(tls.check(post_from("http://chat.example", "chat.example")).is_ok());
}

TEST(OriginPolicy, PublicUrlAndAllowedOriginsCountWhateverTheHost) {
  OriginPolicy p("https://chat.example/rooms", {"https://blog.example"}, true);
  EXPECT_TRUE(p.check(post_from("https://chat.example", "127.0.0.1:8080")).is_ok());
  EXPECT_TRUE(p.check(post_from("https://blog.example", "127.0.0.1:8080")).is_ok());
  EXPECT_FALSE(p.check(post_from("https://evil.example", "127.0.0.1:8080")).is_ok());
  EXPECT_TRUE(p.check(post_from("", "127.0.0.1:8080")).is_ok());  // a bot sends no Origin
}

}  // namespace
}  // namespace chaton::http
