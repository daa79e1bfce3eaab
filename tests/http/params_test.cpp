// Reading query strings and form bodies.
#include "http/params.h"

#include <gtest/gtest.h>

namespace chaton::http {
namespace {

TEST(ParseTarget, DecodesPathAndQuery) {
  for (int i = 0; i < 100; ++i) {
    auto t = parse_target("/lobby/comet?c=1&p=0&s=1");
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(t->path, "/lobby/comet");
    EXPECT_EQ(t->query.get("c").value_or("?"), "1");
    EXPECT_EQ(t->query.get("p").value_or("?"), "0");
    EXPECT_EQ(t->query.get("s").value_or("?"), "1");
  }
}

TEST(ParseTarget, ReadsOnlyTheGivenBytes) {
  // A request target is not NUL-terminated in the parser's buffer.
  std::string buffer = "/lobby/comet?c=1&p=0&s=1et?c=1";
  auto t = parse_target(std::string_view(buffer).substr(0, 24));
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->query.get("s").value_or("?"), "1");
}

TEST(ParseTarget, PercentAndPlus) {
  auto t = parse_target("/a%20b/?x=a+b%2Bc&empty=&flag");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->path, "/a b/");
  EXPECT_EQ(t->query.get("x").value_or("?"), "a b+c");
  EXPECT_EQ(t->query.get("empty").value_or("?"), "");
  EXPECT_EQ(t->query.get("flag").value_or("?"), "");
  EXPECT_FALSE(t->query.has("missing"));
}

TEST(ParseTarget, RejectsWhatIsNotAnOriginForm) {
  EXPECT_FALSE(parse_target("http://host/x").is_ok());
  EXPECT_FALSE(parse_target("x/y").is_ok());
}

TEST(ParseForm, APercentThatStartsNoEscapeMeansItself) {
  Request req{bhttp::verb::post, "/lobby/post", 11};
  req.body() = "a=%zz&b=100%&c=%41&d=100% sure";
  auto f = parse_form(req, {});
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("a").value_or("?"), "%zz");
  EXPECT_EQ(f->get("b").value_or("?"), "100%");
  EXPECT_EQ(f->get("c").value_or("?"), "A");
  EXPECT_EQ(f->get("d").value_or("?"), "100% sure");
}

Request form_request(std::string type, std::string body) {
  Request req{bhttp::verb::post, "/lobby/post", 11};
  if (!type.empty()) req.set(bhttp::field::content_type, type);
  req.body() = std::move(body);
  return req;
}

TEST(ParseForm, UrlEncoded) {
  auto f = parse_form(form_request("application/x-www-form-urlencoded", "nick=shiro&text=a+%E3%81%82%0Ab"), {});
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("nick").value_or("?"), "shiro");
  EXPECT_EQ(f->get("text").value_or("?"), "a \xE3\x81\x82\nb");
}

TEST(ParseForm, SloppyBytesMeanThemselves) {
  auto f = parse_form(form_request("", "nick=a b&text=h\xC3\xA9llo \"w\"<x>"), {});
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("nick").value_or("?"), "a b");
  EXPECT_EQ(f->get("text").value_or("?"), "h\xC3\xA9llo \"w\"<x>");
}

TEST(ParseForm, Json) {
  auto f = parse_form(form_request("application/json", R"({"nick":"a","text":"b\n","cid":12})"), {});
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("nick").value_or("?"), "a");
  EXPECT_EQ(f->get("text").value_or("?"), "b\n");
  EXPECT_EQ(f->get("cid").value_or("?"), "12");
}

TEST(ParseForm, MalformedBodiesAreRefused) {
  EXPECT_EQ(parse_form(form_request("application/json", "{nope"), {}).status().code(), Errc::invalid);
  EXPECT_EQ(parse_form(form_request("application/json", "[1]"), {}).status().code(), Errc::invalid);
  EXPECT_EQ(parse_form(form_request("application/json", R"({"nick":{}})"), {}).status().code(), Errc::invalid);
  EXPECT_EQ(parse_form(form_request("multipart/form-data", "x"), {}).status().code(), Errc::invalid);
}

TEST(ParseForm, QueryFieldsCountAfterTheBody) {
  auto t = parse_target("/p?who=q&s=0");
  auto f = parse_form(form_request("application/x-www-form-urlencoded", "who=body"), t->query);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("who").value_or("?"), "body");
  EXPECT_EQ(f->get("s").value_or("?"), "0");
}

}  // namespace
}  // namespace chaton::http
