// Params: see params.h.
#include "http/params.h"

#include <algorithm>
#include <cctype>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/json.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>

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
// means itself. Written into `out` (its storage reused).
void escape_sloppy_bytes(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kAllowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%";
  out.clear();
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
}

// The escaped copy of a query is kept per thread up to this size (a comet
// request's is under 100 bytes); a larger one (a form body) is let go.
constexpr size_t kKeptQueryScratch = 4096;

Status add_query_from(const std::string& terminated, Params& out) {
  auto parsed = urls::parse_query(terminated);
  if (!parsed) return Status(Errc::invalid, "malformed query string");
  out.reserve(parsed->size());
  urls::encoding_opts opts;
  opts.space_as_plus = true;
  // Each key and value is decoded from the validated encoded view; Boost
  // 1.81's decoding params_view misreads values after the first few.
  for (auto p : *parsed) out.add(p.key.decode(opts), p.has_value ? p.value.decode(opts) : std::string());
  return {};
}

Status add_query(std::string_view s, Params& out) {
  // Boost 1.81's parse_query reads its input as a NUL-terminated string
  // (strlen), so it gets a terminated copy; a NUL byte is never valid here.
  // The copy is this thread's scratch, so that a comet request (each long
  // poll's round trip comes here) does not allocate one; the fields are
  // decoded into strings of their own.
  thread_local std::string terminated;
  escape_sloppy_bytes(s, terminated);
  Status st = add_query_from(terminated, out);
  if (terminated.capacity() > kKeptQueryScratch) terminated = std::string();
  return st;
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

// ---- multipart/form-data (RFC 7578; the framing is RFC 2046 section 5.1.1)

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxBoundaryChars = 70;  // RFC 2046 bchars limit

Status bad_multipart(std::string_view why) {
  return Status(Errc::invalid, "malformed multipart form: " + std::string(why));
}

bool is_lwsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_lwsp(std::string_view s) {
  while (!s.empty() && is_lwsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lwsp(s.back())) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value "main-value; a=b; c="d"",
// unquoted (Beast's param_list reads the token or quoted-string).
std::optional<std::string> header_param(std::string_view value, std::string_view name) {
  size_t semi = value.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  for (const auto& [k, v] : bhttp::param_list(value.substr(semi)))
    if (boost::beast::iequals(k, name)) return std::string(v);
  return std::nullopt;
}

// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view type) {
  std::string out(trim_lwsp(type.substr(0, type.find(';'))));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 2046: 1 to 70 characters of bchars, not ending in a space.
bool valid_boundary(std::string_view b) {
  static constexpr std::string_view kBchars =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
  if (b.empty() || b.size() > kMaxBoundaryChars || b.back() == ' ') return false;
  return b.find_first_not_of(kBchars) == std::string_view::npos;
}

// One part: its header section and content. Reads Content-Disposition's
// name (the part must be "form-data" with a name) and refuses a
// Content-Transfer-Encoding that would need decoding (RFC 7578 section 4.7
// deprecates it; every client sends the bytes as they are).
Status add_part(std::string_view part, Params& out) {
  std::string_view headers, content;
  if (part.starts_with(kCrlf)) {
    content = part.substr(kCrlf.size());
  } else {
    size_t end = part.find("\r\n\r\n");
    if (end == std::string_view::npos) return bad_multipart("a part's header section does not end");
    headers = part.substr(0, end + kCrlf.size());
    content = part.substr(end + 2 * kCrlf.size());
  }
  std::optional<std::string> name;
  while (!headers.empty()) {
    // A header line; continuation lines (starting with a space or tab) join it.
    size_t eol = headers.find(kCrlf);
    while (eol + kCrlf.size() < headers.size() && is_lwsp(headers[eol + kCrlf.size()]))
      eol = headers.find(kCrlf, eol + kCrlf.size());
    // Unfold in one pass (each CRLF before a continuation becomes a space),
    // so a header of many folds costs its length, not its length squared.
    std::string line;
    std::string_view folded = headers.substr(0, std::min(eol, headers.size()));
    line.reserve(folded.size());
    for (size_t fold; (fold = folded.find(kCrlf)) != std::string_view::npos;) {
      line.append(folded.substr(0, fold)).push_back(' ');
      folded.remove_prefix(fold + kCrlf.size());
    }
    line.append(folded);
    headers.remove_prefix(std::min(eol + kCrlf.size(), headers.size()));
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return bad_multipart("a part has a malformed header line");
    std::string_view field = std::string_view(line).substr(0, colon);
    std::string_view value = trim_lwsp(std::string_view(line).substr(colon + 1));
    if (boost::beast::iequals(field, "Content-Disposition")) {
      if (media_type(value) != "form-data") return bad_multipart("a part is not form-data");
      name = header_param(value, "name");
    } else if (boost::beast::iequals(field, "Content-Transfer-Encoding")) {
      std::string enc = media_type(value);
      if (enc != "binary" && enc != "8bit" && enc != "7bit")
        return bad_multipart("a part's Content-Transfer-Encoding is not binary, 8bit or 7bit");
    }
  }
  if (!name) return bad_multipart("a part has no name");
  out.add(std::move(*name), std::string(content));
  return {};
}

// The body is: a preamble (ignored), then "--boundary" lines each followed
// by one part, then "--boundary--" and an epilogue (ignored). Every
// delimiter but one at the very start of the body follows a CRLF, which
// belongs to the delimiter, not to the part before it.
Status add_multipart(std::string_view content_type, std::string_view body, Params& out) {
  std::optional<std::string> boundary = header_param(content_type, "boundary");
  if (!boundary) return bad_multipart("no boundary in the Content-Type");
  if (!valid_boundary(*boundary)) return bad_multipart("the boundary is not 1 to 70 allowed characters");
  const std::string dash = "--" + *boundary;
  const std::string delimiter = std::string(kCrlf) + dash;

  size_t pos;
  if (body.starts_with(dash)) {
    pos = 0;
  } else {
    pos = body.find(delimiter);
    if (pos == std::string_view::npos) return bad_multipart("no boundary delimiter in the body");
    pos += kCrlf.size();
  }
  while (true) {
    pos += dash.size();
    std::string_view after = body.substr(pos);
    if (after.starts_with("--")) return {};  // the close delimiter; the epilogue is ignored
    size_t n = 0;
    while (n < after.size() && is_lwsp(after[n])) ++n;  // transport padding
    if (!after.substr(n).starts_with(kCrlf)) return bad_multipart("a boundary line has trailing characters");
    pos += n + kCrlf.size();
    size_t next = body.find(delimiter, pos);
    if (next == std::string_view::npos) return bad_multipart("no closing boundary delimiter");
    if (Status st = add_part(body.substr(pos, next - pos), out); !st) return st;
    pos = next + kCrlf.size();
  }
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
  if (media_type(type) == "multipart/form-data") {
    st = add_multipart(type, body, out);
  } else if (type.find("application/json") != std::string_view::npos) {
    st = add_json(body, out);
  } else if (type.empty() || type.find("application/x-www-form-urlencoded") != std::string_view::npos) {
    st = add_query(body, out);
  } else {
    return Status(Errc::invalid, "unsupported content type; send a form (URL-encoded or multipart) or JSON");
  }
  if (!st) return st;
  for (const auto& [k, v] : query.items()) out.add(k, v);
  return out;
}

}  // namespace chaton::http
