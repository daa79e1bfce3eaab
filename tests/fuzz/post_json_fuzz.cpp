// Fuzzes the parse of a post a WebSocket client sends, {"nick":…,"text":…}
// (http/post_json.h), the code the WebSocket room endpoint calls. It must
// never crash or throw; a refusal must say why; and a nick and text it
// accepts must be read back the same from a message that holds just them.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "fuzz_check.h"
#include "live/post_json.h"

using chaton::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto fields = chaton::live::parse_post_json(chaton::fuzz::as_text(data, size));
  if (!fields) {
    require(fields.status().code() == chaton::Errc::invalid, "a refusal is not Errc::invalid");
    require(!fields.status().message().empty(), "a refusal has no reason");
    return 0;
  }
  boost::json::object o;
  o["nick"] = fields->nick;
  o["text"] = fields->text;
  std::string message = boost::json::serialize(o);
  auto again = chaton::live::parse_post_json(message);
  require(again.is_ok(), "a re-serialized post message was refused");
  require(again->nick == fields->nick && again->text == fields->text,
          "a post message changed through serialize and parse");
  return 0;
}
