// Reading a post sent as JSON: see post_json.h.
#include "live/post_json.h"

#include <boost/json.hpp>

namespace chaton::live {

namespace json = boost::json;

namespace {

constexpr std::string_view kMalformedPost = "malformed message: send {\"nick\":\"…\",\"text\":\"…\"}";

}  // namespace

Result<PostFields> parse_post_json(std::string_view message) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(message.data(), message.size()), ec);
  const json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
  const json::value* nick = o ? o->if_contains("nick") : nullptr;
  const json::value* text = o ? o->if_contains("text") : nullptr;
  if (!nick || !text || !nick->is_string() || !text->is_string())
    return Status(Errc::invalid, std::string(kMalformedPost));
  return PostFields{std::string(nick->as_string()), std::string(text->as_string())};
}

}  // namespace chaton::live
