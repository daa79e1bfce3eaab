// Prepared responses: the bytes of a PreparedWrite are the bytes Beast
// writes for the same response (as Session sends one: version, keep-alive,
// prepare_payload, HEAD without its body), for every version and
// keep-alive, with and without a shared body part.
#include "http/prepared_response.h"

#include <gtest/gtest.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/ostream.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <sstream>
#include <string>

#include "http/responses.h"

namespace chaton::http {
namespace {

Response comet_like() {
  Response res = make_response(bhttp::status::ok, "application/json; charset=utf-8", "");
  res.set(bhttp::field::cache_control, "no-cache");
  return res;
}

// What Beast writes for `res` sent as Session::send() sends a Response.
std::string beast_bytes(Response res, unsigned version, bool keep_alive, bool head_only) {
  res.version(version);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head_only) {
    auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  std::ostringstream out;
  out << res;
  return out.str();
}

std::string prepared_bytes(const PreparedWrite& w) {
  std::string s;
  for (const auto& b : w.buffers()) s.append(static_cast<const char*>(b.data()), b.size());
  return s;
}

TEST(PreparedResponse, BytesAreWhatBeastWritesForTheSameResponse) {
  const ResponseHead head(comet_like());
  auto shared = std::make_shared<const std::string>("[[\"bot\",[1,2],\"hello\"]]");
  for (unsigned version : {10u, 11u})
    for (bool keep_alive : {true, false})
      for (bool head_only : {false, true})
        for (bool with_shared : {true, false}) {
          SCOPED_TRACE(testing::Message() << "HTTP/" << version << " keep-alive " << keep_alive << " HEAD "
                                          << head_only << " shared " << with_shared);
          PreparedResponse pr{&head, "{\"pos\":3,\"nc\":1,\"ver\":\"v\",\"cid\":7,\"content\":",
                              with_shared ? shared : nullptr, "}"};
          Response res = comet_like();
          res.body() = pr.before + (with_shared ? *shared : "") + std::string(pr.after);
          std::string expected = beast_bytes(std::move(res), version, keep_alive, head_only);
          PreparedWrite w(std::move(pr), version, keep_alive, head_only);
          EXPECT_EQ(prepared_bytes(w), expected);
          EXPECT_EQ(w.keep_alive(), keep_alive);
        }
}

TEST(PreparedResponse, AnEmptyBodyAndAnotherStatusToo) {
  Response res = error_response(bhttp::status::not_found, "no such room");
  res.body().clear();
  const ResponseHead head(res);
  EXPECT_EQ(head.status(), 404u);
  PreparedWrite w(PreparedResponse{&head, "", nullptr, ""}, 11, true, false);
  EXPECT_EQ(prepared_bytes(w), beast_bytes(res, 11, true, false));
}

TEST(PreparedResponse, TheBodySizeCountsEveryPart) {
  const ResponseHead head(comet_like());
  PreparedResponse pr{&head, "ab", std::make_shared<const std::string>("cde"), "f"};
  EXPECT_EQ(pr.body_size(), 6u);
  pr.shared = nullptr;
  EXPECT_EQ(pr.body_size(), 3u);
}

}  // namespace
}  // namespace chaton::http
