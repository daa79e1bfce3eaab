// Reading query strings and form bodies.
#include "http/params.h"

#include <gtest/gtest.h>

#include "support/counting_new.h"
#include "util/block_cache.h"

namespace chaton::http {
namespace {

using testing::allocations;

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

// Every comet request is parsed here (a long poll's round trip): its
// four fields take one block, the list's, which comes from the thread's
// block cache (util/block_cache.h) once a parse before has let one go, and
// nothing grows on the way. (Each key and value, like the path, fits a
// std::string's own buffer: 15 bytes in libstdc++.)
TEST(ParseTarget, AllocatesNothingForACometOnceOneWasParsed) {
#if !defined(CHATON_COUNTS_ALLOCATIONS)
  GTEST_SKIP() << "allocations are counted only without a sanitizer";
#endif
  block_cache::use_on_this_thread();  // as a loop's thread, where requests are parsed
  const std::string_view target = "/lobby/comet?t=1733000000123&c=123456&p=98765&s=0";
  ASSERT_TRUE(parse_target(target).is_ok());  // a first parse on this thread sets up what it reuses
  size_t before = allocations;
  auto t = parse_target(target);
  size_t made = allocations - before;
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->query.items().size(), 4u);
  EXPECT_EQ(made, 0u);
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
  auto f =
      parse_form(form_request("application/x-www-form-urlencoded", "nick=shiro&text=a+%E3%81%82%0Ab"), {});
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
  EXPECT_EQ(parse_form(form_request("application/json", R"({"nick":{}})"), {}).status().code(),
            Errc::invalid);
}

TEST(ParseForm, QueryFieldsCountAfterTheBody) {
  auto t = parse_target("/p?who=q&s=0");
  auto f = parse_form(form_request("application/x-www-form-urlencoded", "who=body"), t->query);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("who").value_or("?"), "body");
  EXPECT_EQ(f->get("s").value_or("?"), "0");
}

// ---- multipart/form-data

// A body as Gauche's http-post composes it: a CRLF before the first
// delimiter, MIME headers on each part, "binary" transfer encoding.
std::string gauche_body(std::string_view boundary,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string b;
  for (const auto& [name, value] : fields) {
    b += "\r\n--";
    b += boundary;
    b += "\r\nContent-type: text/plain; charset=utf-8\r\nContent-transfer-encoding: binary\r\n"
         "content-disposition: form-data; name=";
    b += name;
    b += "\r\n\r\n";
    b += value;
  }
  b += "\r\n--";
  b += boundary;
  b += "--\r\n";
  return b;
}

TEST(ParseForm, MultipartGivesTheSameFieldsAsUrlEncoded) {
  auto url = parse_form(
      form_request("application/x-www-form-urlencoded", "nick=shiro&text=a+%E3%81%82%0D%0Ab%0D%0A&cid=12"),
      {});
  auto multi = parse_form(
      form_request("multipart/form-data; boundary=\"boundary-1x2y\"",
                   gauche_body("boundary-1x2y",
                               {{"nick", "shiro"}, {"text", "a \xE3\x81\x82\r\nb\r\n"}, {"cid", "12"}})),
      {});
  ASSERT_TRUE(url.is_ok());
  ASSERT_TRUE(multi.is_ok()) << multi.status().message();
  EXPECT_EQ(multi->items(), url->items());
}

TEST(ParseForm, MultipartAsBrowsersSendIt) {
  // Unquoted boundary, the first delimiter at the start, quoted names, a
  // file part, a preamble-free body with an epilogue.
  std::string body =
      "------WebKitFormBoundaryA1b2\r\n"
      "Content-Disposition: form-data; name=\"nick\"\r\n\r\n"
      "a b\r\n"
      "------WebKitFormBoundaryA1b2\r\n"
      "Content-Disposition: form-data; name=\"te\\\"xt\"; filename=\"t.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "--not a delimiter\r\n-- neither\r\n\r\n"
      "------WebKitFormBoundaryA1b2--\r\nepilogue\r\n";
  auto f = parse_form(form_request("Multipart/Form-Data;boundary=----WebKitFormBoundaryA1b2", body), {});
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->items().size(), 2u);
  EXPECT_EQ(f->get("nick").value_or("?"), "a b");
  EXPECT_EQ(f->get("te\"xt").value_or("?"), "--not a delimiter\r\n-- neither\r\n");
}

TEST(ParseForm, MultipartPreambleEmptyValuesAndPadding) {
  std::string body =
      "This is the preamble.\r\n--b  \t\r\n"
      "Content-Disposition: form-data;\r\n name=\"who\"\r\n\r\n"
      "\r\n--b\r\n"
      "Content-Disposition: form-data; name=s\r\n\r\n"
      "0\r\n--b--";
  auto f = parse_form(form_request("multipart/form-data; charset=utf-8; boundary=b", body), {});
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->get("who").value_or("?"), "");
  EXPECT_EQ(f->get("s").value_or("?"), "0");
}

TEST(ParseForm, AHeaderOfManyFoldsIsUnfoldedWhole) {
  // Each fold (CRLF, then a space or tab) reads as one space. A part header
  // of thousands of folds fits in a small body; unfolding is one pass over it.
  std::string header = "Content-Disposition: form-data;";
  for (int i = 0; i < 20000; ++i) header += "\r\n\t";
  header += "name=\"who\"";
  std::string body = "--b\r\n" + header + "\r\n\r\nshiro\r\n--b--\r\n";
  auto f = parse_form(form_request("multipart/form-data; boundary=b", body), {});
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->get("who").value_or("?"), "shiro");
}

TEST(ParseForm, MultipartQueryFieldsCountAfterTheBody) {
  auto t = parse_target("/p?who=q&s=0");
  auto f = parse_form(form_request("multipart/form-data; boundary=x", gauche_body("x", {{"who", "body"}})),
                      t->query);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->get("who").value_or("?"), "body");
  EXPECT_EQ(f->get("s").value_or("?"), "0");
}

TEST(ParseForm, MalformedMultipartIsRefusedWithAReason) {
  auto refusal = [](std::string type, std::string body) {
    auto f = parse_form(form_request(std::move(type), std::move(body)), {});
    EXPECT_FALSE(f.is_ok());
    if (f.is_ok()) return std::string("accepted");
    EXPECT_EQ(f.status().code(), Errc::invalid);
    EXPECT_EQ(f.status().message().find('\n'), std::string::npos);
    return f.status().message();
  };
  const std::string ok = gauche_body("b", {{"nick", "n"}});
  EXPECT_NE(refusal("multipart/form-data", ok).find("no boundary"), std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=\"\"", ok).find("boundary"), std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=" + std::string(71, 'b'), ok).find("boundary"),
            std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=\"a<b\"", ok).find("boundary"), std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=c", ok).find("no boundary delimiter"), std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=b", ok.substr(0, ok.size() - 8)).find("no closing"),
            std::string::npos);
  EXPECT_NE(
      refusal("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--")
          .find("no name"),
      std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=b", "--b\r\n\r\nx\r\n--b--").find("no name"),
            std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=b",
                    "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--")
                .find("not form-data"),
            std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=b",
                    "--bx\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--")
                .find("trailing"),
            std::string::npos);
  EXPECT_NE(refusal("multipart/form-data; boundary=b",
                    "--b\r\nContent-Disposition: form-data; name=a\r\nx\r\n--b--")
                .find("header"),
            std::string::npos);
  EXPECT_NE(
      refusal("multipart/form-data; boundary=b",
              "--b\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: base64\r\n\r\n"
              "eA==\r\n--b--")
          .find("Content-Transfer-Encoding is not binary"),
      std::string::npos);
}

}  // namespace
}  // namespace chaton::http
