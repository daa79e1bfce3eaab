// Tests for the conditional-request and compression logic of every
// cacheable response (http/caching.h).
#include "http/caching.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace chaton::http {
namespace {

Request get(bhttp::verb verb = bhttp::verb::get) {
  Request req(verb, "/lobby/a/2024/11/20", 11);
  req.set(bhttp::field::host, "example.org");
  return req;
}

Response page(std::string body) {
  Response res(bhttp::status::ok, 11);
  res.set(bhttp::field::content_type, "text/html; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

std::string big_body() {
  std::string s;
  for (int i = 0; i < 400; ++i) s += "<p>post number " + std::to_string(i) + "</p>\n";
  return s;
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  std::string out(in.size() * 20 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<inflate failed>";
}

const CachePolicy kDay{"public, max-age=86400", std::nullopt, nullptr};

TEST(EntityTag, IsWeakAndFollowsTheBody) {
  std::string a = entity_tag("one body");
  EXPECT_EQ(a.substr(0, 3), "W/\"");
  EXPECT_EQ(a.back(), '"');
  EXPECT_EQ(a.size(), 3u + 32 + 1);
  EXPECT_EQ(a, entity_tag("one body"));
  EXPECT_NE(a, entity_tag("one body."));
}

TEST(Cacheable, SetsValidatorsAndCacheControl) {
  Response res = cacheable(get(), page("hello"), CachePolicy{"no-cache", 1732147200, nullptr});
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res[bhttp::field::etag], entity_tag("hello"));
  EXPECT_EQ(res[bhttp::field::last_modified], "Thu, 21 Nov 2024 00:00:00 GMT");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-cache");
  EXPECT_EQ(res.body(), "hello");
}

TEST(Cacheable, IfNoneMatchWithTheTagIs304WithNoBody) {
  std::string body = big_body();
  Request req = get();
  req.set(bhttp::field::if_none_match, "\"other\", " + entity_tag(body));
  req.set(bhttp::field::accept_encoding, "gzip");
  Response res = cacheable(req, page(body), kDay);
  EXPECT_EQ(res.result(), bhttp::status::not_modified);
  EXPECT_TRUE(res.body().empty());
  EXPECT_EQ(res[bhttp::field::etag], entity_tag(body));
  EXPECT_EQ(res[bhttp::field::cache_control], "public, max-age=86400");
  EXPECT_EQ(res.count(bhttp::field::content_encoding), 0u);
  // The strong form of the same tag matches too (weak comparison), and so
  // does a HEAD.
  std::string strong = entity_tag(body).substr(2);
  Request head = get(bhttp::verb::head);
  head.set(bhttp::field::if_none_match, strong);
  EXPECT_EQ(cacheable(head, page(body), kDay).result(), bhttp::status::not_modified);
}

TEST(Cacheable, AnotherTagOrAnotherBodyIs200) {
  Request req = get();
  req.set(bhttp::field::if_none_match, entity_tag("yesterday's body"));
  Response res = cacheable(req, page("today's body"), kDay);
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "today's body");
}

TEST(Cacheable, IfModifiedSinceIsReadOnlyWithoutIfNoneMatch) {
  CachePolicy policy{"no-cache", 1732147200, nullptr};  // 2024-11-21T00:00:00Z
  Request same = get();
  same.set(bhttp::field::if_modified_since, "Thu, 21 Nov 2024 00:00:00 GMT");
  EXPECT_EQ(cacheable(same, page("x"), policy).result(), bhttp::status::not_modified);
  Request later = get();
  later.set(bhttp::field::if_modified_since, "Fri, 22 Nov 2024 00:00:00 GMT");
  EXPECT_EQ(cacheable(later, page("x"), policy).result(), bhttp::status::not_modified);
  Request earlier = get();
  earlier.set(bhttp::field::if_modified_since, "Wed, 20 Nov 2024 23:59:59 GMT");
  EXPECT_EQ(cacheable(earlier, page("x"), policy).result(), bhttp::status::ok);
  Request garbage = get();
  garbage.set(bhttp::field::if_modified_since, "yesterday");
  EXPECT_EQ(cacheable(garbage, page("x"), policy).result(), bhttp::status::ok);
  // If-None-Match wins: a tag that does not match means 200 whatever the date.
  Request both = same;
  both.set(bhttp::field::if_none_match, "\"nope\"");
  EXPECT_EQ(cacheable(both, page("x"), policy).result(), bhttp::status::ok);
  // No Last-Modified known: If-Modified-Since cannot hold.
  EXPECT_EQ(cacheable(same, page("x"), kDay).result(), bhttp::status::ok);
}

TEST(Cacheable, OnlyGetAndHeadAreAnswered304) {
  Request req = get(bhttp::verb::post);
  req.set(bhttp::field::if_none_match, "*");
  EXPECT_FALSE(not_modified(req, entity_tag("x"), std::nullopt));
  EXPECT_FALSE(not_modified(get(), entity_tag("x"), std::nullopt)) << "no condition, no 304";
}

TEST(AcceptsGzip, ReadsTheListAndItsWeights) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000, *"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
}

TEST(Compressed, GzipWhenAcceptedInflatesToTheSameBody) {
  std::string body = big_body();
  Request req = get();
  req.set(bhttp::field::accept_encoding, "gzip, deflate");
  Response res = cacheable(req, page(body), kDay);
  EXPECT_EQ(res[bhttp::field::content_encoding], "gzip");
  EXPECT_EQ(res[bhttp::field::vary], "Accept-Encoding");
  EXPECT_EQ(res[bhttp::field::etag], entity_tag(body)) << "the identity body's tag, for both forms";
  EXPECT_LT(res.body().size(), body.size());
  EXPECT_EQ(gunzip(res.body()), body);
}

TEST(Compressed, IdentityWithoutGzipOrForATinyBody) {
  std::string body = big_body();
  Response plain = compressed(get(), page(body));
  EXPECT_EQ(plain.count(bhttp::field::content_encoding), 0u);
  EXPECT_EQ(plain[bhttp::field::vary], "Accept-Encoding");
  EXPECT_EQ(plain.body(), body);
  Request req = get();
  req.set(bhttp::field::accept_encoding, "gzip");
  std::string tiny(kMinGzipBytes - 1, 'a');
  Response small = compressed(req, page(tiny));
  EXPECT_EQ(small.count(bhttp::field::content_encoding), 0u);
  EXPECT_EQ(small.body(), tiny);
}

TEST(Compressed, APrecompressedBodyIsSentAsItIs) {
  std::string body = big_body();
  auto gz = std::make_shared<const std::string>("precompressed bytes");
  Request req = get();
  req.set(bhttp::field::accept_encoding, "gzip");
  Response res = compressed(req, page(body), gz);
  EXPECT_EQ(res[bhttp::field::content_encoding], "gzip");
  EXPECT_EQ(res.body(), *gz);
}

}  // namespace
}  // namespace chaton::http
