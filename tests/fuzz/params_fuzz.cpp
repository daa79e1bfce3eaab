// Fuzzes the reading of what a client sends (http/params.h): a request
// target with its query string, and a POST body as a form or as JSON. None
// may crash or read past its input (the fuzzer's buffer is not
// NUL-terminated, so a strlen-style overread, as in Boost 1.81's
// parse_query, is caught by the address sanitizer). A form body is never
// refused: sloppy bytes are escaped before the strict parse. Query
// parameters follow the body's fields, and get() gives the first value.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "http/params.h"

using chaton::fuzz::require;
namespace http = chaton::http;

namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kJsonType = "application/json; charset=utf-8";

void check_lookup(const http::Params& params) {
  for (const auto& [name, value] : params.items()) {
    auto first = params.get(name);
    require(first.has_value(), "get() misses a parameter that items() lists");
  }
}

http::Request post_request(std::string_view type, std::string_view body) {
  http::Request req{http::bhttp::verb::post, "/lobby/post", 11};
  if (!type.empty()) req.set(http::bhttp::field::content_type, type);
  req.body() = std::string(body);
  return req;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);

  // The input as a whole target, straight from the fuzzer's buffer.
  auto target = http::parse_target(input);
  if (target) check_lookup(target->query);

  // The input as the query of a well-formed target.
  auto with_query = http::parse_target("/lobby/comet?" + std::string(input));
  http::Params query;
  if (with_query) {
    check_lookup(with_query->query);
    query = with_query->query;
  }

  for (std::string_view type : {kFormType, std::string_view()}) {
    auto form = http::parse_form(post_request(type, input), query);
    require(form.is_ok(), "a form body was refused");
    check_lookup(*form);
    const auto& items = form->items();
    require(items.size() >= query.items().size(), "query parameters were dropped");
    for (size_t i = 0; i < query.items().size(); ++i)
      require(items[items.size() - query.items().size() + i] == query.items()[i],
              "query parameters do not follow the body's fields");
  }

  auto json = http::parse_form(post_request(kJsonType, input), query);
  if (json) check_lookup(*json);
  return 0;
}
