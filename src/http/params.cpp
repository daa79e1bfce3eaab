// Params: see params.h.
#include "http/params.h"

#include <cctype>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/params_view.hpp>

namespace chaton::http {

namespace urls = boost::urls;
namespace json = boost::json;

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

namespace {

// Clients are often sloppy with form encoding (a raw space or raw UTF-8 in
// a body sent by a script). Such bytes can only mean themselves, so they are
// escaped before the strict parse: a space becomes '+', any other byte the
// grammar does not allow becomes %XX, and a '%' that starts no valid escape
// means itself.
std::string escape_sloppy_bytes(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kAllowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%";
  std::string out;
  out.reserve(s.size());
  auto is_hex = [](char h) { return std::isxdigit(static_cast<unsigned char>(h)) != 0; };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto u = static_cast<unsigned char>(c);
    if (c == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) {
      out += "%25";  // a '%' that starts no escape means itself
    } else if (c == ' ') {
      out += '+';
    } else if (kAllowed.find(c) != std::string_view::npos && u != 0) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Status add_query(std::string_view s, Params& out) {
  // Boost 1.81's parse_query reads its input as a NUL-terminated string
  // (strlen), so it gets a terminated copy; a NUL byte is never valid here.
  const std::string terminated = escape_sloppy_bytes(s);
  auto parsed = urls::parse_query(terminated);
  if (!parsed) return Status(Errc::invalid, "malformed query string");
  urls::encoding_opts opts;
  opts.space_as_plus = true;
  // Each key and value is decoded from the validated encoded view; Boost
  // 1.81's decoding params_view misreads values after the first few.
  for (auto p : *parsed) out.add(p.key.decode(opts), p.has_value ? p.value.decode(opts) : std::string());
  return {};
}

Status add_json(std::string_view body, Params& out) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Status(Errc::invalid, "malformed JSON body: " + ec.message());
  if (!v.is_object()) return Status(Errc::invalid, "malformed JSON body: expected an object");
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_string())
      out.add(std::string(k), std::string(val.as_string()));
    else if (val.is_int64() || val.is_uint64() || val.is_double() || val.is_bool())
      out.add(std::string(k), json::serialize(val));
    else if (!val.is_null())
      return Status(Errc::invalid, "malformed JSON body: '" + std::string(k) + "' must be a string");
  }
  return {};
}

}  // namespace

Result<Target> parse_target(std::string_view target) {
  auto u = urls::parse_origin_form(urls::string_view(target.data(), target.size()));
  if (!u) return Status(Errc::invalid, "malformed request target");
  Target t;
  t.path = u->path();
  if (u->has_query()) {
    Status st = add_query(u->encoded_query(), t.query);
    if (!st) return st;
  }
  return t;
}

Result<Params> parse_form(const Request& req, const Params& query) {
  Params out;
  std::string_view type = req[bhttp::field::content_type];
  std::string_view body = req.body();
  Status st;
  if (type.find("application/json") != std::string_view::npos) {
    st = add_json(body, out);
  } else if (type.empty() || type.find("application/x-www-form-urlencoded") != std::string_view::npos) {
    st = add_query(body, out);
  } else {
    return Status(Errc::invalid, "unsupported content type; send a form or JSON");
  }
  if (!st) return st;
  for (const auto& [k, v] : query.items()) out.add(k, v);
  return out;
}

}  // namespace chaton::http
