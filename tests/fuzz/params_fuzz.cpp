// Fuzzes the reading of what a client sends (http/params.h): a request
// target with its query string, and a POST body as a form or as JSON. None
// may crash or read past its input (the fuzzer's buffer is not
// NUL-terminated, so a strlen-style overread, as in Boost 1.81's
// parse_query, is caught by the address sanitizer). A form body is never
// refused: sloppy bytes are escaped before the strict parse. Query
// parameters follow the body's fields, and get() gives the first value.
// The input as a multipart/form-data body is either read or refused as
// malformed with a one-line reason; and the fields of the input read as a
// URL-encoded form, sent again as multipart, come back the same.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_check.h"
#include "http/params.h"

using chaton::fuzz::require;
namespace http = chaton::http;

namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";
constexpr std::string_view kJsonType = "application/json; charset=utf-8";
constexpr std::string_view kMultipartType = "multipart/form-data; boundary=\"b'(=)?\"";

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

void check_refusal(const chaton::Status& st) {
  require(st.code() == chaton::Errc::invalid, "a malformed multipart body is not a client error");
  require(st.message().starts_with("malformed multipart form: "), "a multipart refusal without its reason");
  require(st.message().find_first_of("\r\n") == std::string::npos, "a multipart refusal is not one line");
}

// `fields` as a multipart body (the parts as Gauche's http-post writes
// them), or nothing when a name cannot stand in a quoted-string.
std::optional<http::Request> as_multipart(const http::Params& fields) {
  std::string boundary = "chaton-fuzz";
  auto used = [&](const std::string& b) {
    for (const auto& [k, v] : fields.items())
      if (k.find(b) != std::string::npos || v.find(b) != std::string::npos) return true;
    return false;
  };
  while (used(boundary)) boundary += 'x';
  if (boundary.size() > 70) return std::nullopt;
  std::string body;
  for (const auto& [k, v] : fields.items()) {
    std::string quoted;
    for (char c : k) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return std::nullopt;
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    body += "\r\n--" + boundary +
            "\r\nContent-type: text/plain; charset=utf-8\r\n"
            "Content-transfer-encoding: binary\r\ncontent-disposition: form-data; name=\"" +
            quoted + "\"\r\n\r\n" + v;
  }
  body += "\r\n--" + boundary + "--\r\n";
  return post_request("multipart/form-data; boundary=\"" + boundary + "\"", body);
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

  auto multipart = http::parse_form(post_request(kMultipartType, input), query);
  if (multipart)
    check_lookup(*multipart);
  else
    check_refusal(multipart.status());

  auto form = http::parse_form(post_request(kFormType, input), http::Params{});
  require(form.is_ok(), "a form body was refused");
  if (auto again = as_multipart(*form)) {
    auto round_trip = http::parse_form(*again, http::Params{});
    require(round_trip.is_ok(), "a well-formed multipart body was refused");
    require(round_trip->items() == form->items(), "multipart and URL-encoded forms give different fields");
  }
  return 0;
}
