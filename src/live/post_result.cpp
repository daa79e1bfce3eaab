// Post results: see post_result.h.
#include "live/post_result.h"

#include <boost/json.hpp>

#include "render/html.h"

namespace chaton::live {

namespace json = boost::json;

std::string posted_json(const Post& post, std::string_view room_url) {
  json::object o;
  o["pos"] = post.seq;
  o["id"] = entry_id(post.sec, post.usec);
  o["permalink"] = permalink(room_url, post.sec, post.usec);
  return json::serialize(o);
}

std::string error_json(unsigned status, std::string_view message) {
  json::object inner;
  inner["status"] = status;
  inner["message"] = message;
  json::object o;
  o["error"] = std::move(inner);
  return json::serialize(o);
}

}  // namespace chaton::live
