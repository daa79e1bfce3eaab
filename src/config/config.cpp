// Configuration (docs/CONFIG.md): reads the TOML file with toml++, refuses
// unknown tables, unknown keys, wrong types and out-of-range numbers with
// messages naming the file, line and column, and (finalize) derives each room's
// url_path and data_dir and checks the values that depend on one another.
// No exception leaves this file: every failure is a Status.
#include "config/config.h"

#include "config/origin.h"

#include <toml++/toml.h>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "util/file.h"

namespace chaton {

namespace {

// ---- limits -----------------------------------------------------------------

constexpr size_t kMaxSlugLength = 64;
constexpr int64_t kMaxPort = 65535;
constexpr size_t kMaxPortDigits = 5;
constexpr int64_t kMaxPixels = 100000;  // appearance sizes
constexpr int64_t kMaxThreads = 1024;
constexpr double kMaxCometSeconds = 86400;  // one day
constexpr int64_t kMaxBodyBytes = int64_t{1} << 30;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr double kMaxPostRate = 1e6;  // posts per second per address
constexpr int64_t kMaxPostBurst = 1000000;
constexpr int64_t kMaxConnections = 1000000;
constexpr size_t kMaxConfigFileBytes = size_t{4} << 20;
constexpr size_t kMaxReportedErrors = 20;

constexpr std::string_view kSlugPattern = "[a-z0-9][a-z0-9_-]{0,63}";
constexpr std::string_view kRoomSection = "[[room]]";
constexpr std::string_view kWebhookSection = "[[room.webhook]]";

// ---- small formatting helpers -------------------------------------------------

std::string in_quotes(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out.push_back('\'');
  return out;
}

std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "?";
  return std::string(buf, end);
}

std::string format_location(std::string_view source, const toml::source_position& pos) {
  std::string out(source);
  if (pos.line == 0) return out;
  out += ':' + std::to_string(pos.line) + ':' + std::to_string(pos.column);
  return out;
}

// Errors found while reading a document, reported in source order.
class ErrorList {
 public:
  explicit ErrorList(std::string_view source) : source_(source) {}

  void add(const toml::source_region& where, std::string message) {
    errors_.push_back({where.begin, std::move(message)});
  }
  bool empty() const { return errors_.empty(); }

  Status status() const {
    auto sorted = errors_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
      return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
    });
    std::string text;
    for (size_t i = 0; i < sorted.size() && i < kMaxReportedErrors; ++i) {
      if (i > 0) text.push_back('\n');
      text += format_location(source_, sorted[i].pos) + ": " + sorted[i].message;
    }
    if (sorted.size() > kMaxReportedErrors) {
      text += "\n(" + std::to_string(sorted.size() - kMaxReportedErrors) + " more errors)";
    }
    return Status(Errc::invalid, std::move(text));
  }

 private:
  struct Entry {
    toml::source_position pos;
    std::string message;
  };
  std::string source_;
  std::vector<Entry> errors_;
};

bool is_space_or_control(char c) {
  auto b = static_cast<unsigned char>(c);
  return b <= 0x20 || b == 0x7f;
}

// ---- host:port --------------------------------------------------------------------

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > kMaxPortDigits) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  if (v > kMaxPort) return std::nullopt;
  return static_cast<uint16_t>(v);
}

// Splits "host:port" or "[v6]:port" into `out`; returns why it cannot, or
// an empty string.
std::string split_host_port(std::string_view s, HostPort& out) {
  std::string_view host, port;
  if (s.starts_with('[')) {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return "missing ']'";
    host = s.substr(1, close - 1);
    if (close + 1 >= s.size() || s[close + 1] != ':') return "expected ':' after ']'";
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return "no ':PORT'";
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 address must be written in brackets, as in [::1]:8080";
    }
  }
  if (host.empty()) return "the host is empty";
  if (host.find_first_of("[]") != std::string_view::npos) return "misplaced brackets";
  if (std::any_of(host.begin(), host.end(), is_space_or_control)) {
    return "the host contains whitespace";
  }
  auto number = parse_port(port);
  if (!number) return "the port must be a number from 0 to 65535";
  out = HostPort{std::string(host), *number};
  return {};
}

// ---- validators shared by parsing and finalize ---------------------------------
// Each returns an empty string when the value is fine, otherwise a phrase
// such as "must start and end with '/'" that the caller prefixes.

bool is_slug_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

std::string slug_problem(std::string_view slug) {
  bool ok = !slug.empty() && slug.size() <= kMaxSlugLength && slug[0] != '_' && slug[0] != '-' &&
            std::all_of(slug.begin(), slug.end(), is_slug_char);
  if (ok) return {};
  return "must match " + std::string(kSlugPattern) + " (got " + in_quotes(slug) + ")";
}

std::string url_path_problem(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.back() != '/') {
    return "must start and end with '/' (got " + in_quotes(path) + ")";
  }
  if (path == "/") return "must not be '/' (the root lists the rooms)";
  if (path == "/metrics/" || path == "/healthz/")
    return "must not be " + in_quotes(path) + " (the site's monitoring URLs; set another url_path)";
  if (path.find("..") != std::string_view::npos) return "must not contain '..'";
  if (path.find("//") != std::string_view::npos) return "must not contain '//'";
  if (path.find_first_of("?#") != std::string_view::npos) return "must not contain '?' or '#'";
  if (std::any_of(path.begin(), path.end(), is_space_or_control)) {
    return "must not contain whitespace or control characters";
  }
  return {};
}

// What follows "http://" or "https://" in `url`, or a problem when it has
// neither scheme.
std::string split_http_scheme(std::string_view url, std::string_view& rest) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme)) {
      rest = url.substr(scheme.size());
      return {};
    }
  }
  return "must start with http:// or https:// (got " + in_quotes(url) + ")";
}

std::string public_url_problem(std::string_view url) {
  if (url.empty()) return {};
  std::string_view rest;
  if (std::string p = split_http_scheme(url, rest); !p.empty()) return p;
  if (rest.empty() || rest.front() == '/') return "must name a host after the scheme";
  if (std::any_of(url.begin(), url.end(), is_space_or_control)) {
    return "must not contain whitespace or control characters";
  }
  if (url.find_first_of("?#") != std::string_view::npos) return "must not contain '?' or '#'";
  return {};
}

std::string access_log_problem(std::string_view to) {
  if (to == "file" || to == "stderr" || to == "off") return {};
  return "must be \"file\", \"stderr\" or \"off\"";
}

std::string listen_problem(std::string_view listen) {
  HostPort unused;
  std::string why = split_host_port(listen, unused);
  return why.empty() ? why : "must be HOST:PORT (" + why + ")";
}

// A PostgreSQL connection URI with no password in it: the password comes
// from PGPASSFILE or PGPASSWORD, so the configuration holds no secret
// (docs/CONFIG.md, "[store]").
std::string store_url_problem(std::string_view url) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://"))
    return "must be a PostgreSQL connection URI: postgresql://USER@HOST:PORT/DBNAME";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return "is not a URI (" + parsed.error().message() + ")";
  bool password = parsed->has_password();
  for (auto param : parsed->params()) password = password || param.key == "password";
  if (password) return "must not hold a password: give it in PGPASSFILE (~/.pgpass) or PGPASSWORD";
  return {};
}

// ---- typed field readers --------------------------------------------------------

// What is wrong with a value, and the node to point at.
struct Problem {
  std::string text;
  const toml::node* at;
};
using FieldReader = std::function<std::optional<Problem>(const toml::node&)>;
using Check = std::function<std::string(std::string_view)>;

struct Field {
  std::string_view key;
  FieldReader read;
};

std::string range_phrase(int64_t min, int64_t max) {
  if (max == kInt64Max) return "must be at least " + std::to_string(min);
  return "must be between " + std::to_string(min) + " and " + std::to_string(max);
}

FieldReader string_field(std::string& out, Check check = {}) {
  return [&out, check = std::move(check)](const toml::node& n) -> std::optional<Problem> {
    const auto* v = n.as_string();
    if (!v) return Problem{"must be a string", &n};
    if (check) {
      std::string problem = check(v->get());
      if (!problem.empty()) return Problem{std::move(problem), &n};
    }
    out = v->get();
    return std::nullopt;
  };
}

template <class Int>
FieldReader integer_field(Int& out, int64_t min, int64_t max) {
  return [&out, min, max](const toml::node& n) -> std::optional<Problem> {
    const auto* v = n.as_integer();
    if (!v) return Problem{"must be an integer", &n};
    int64_t x = v->get();
    if (x < min || x > max) return Problem{range_phrase(min, max), &n};
    out = static_cast<Int>(x);
    return std::nullopt;
  };
}

// A duration in seconds: integer or float, greater than 0, at most a day.
// A number (integer or float) in [min, max]; `min_exclusive` excludes min.
FieldReader number_field(double& out, double min, double max, bool min_exclusive) {
  return [&out, min, max, min_exclusive](const toml::node& n) -> std::optional<Problem> {
    double x;
    if (const auto* i = n.as_integer()) {
      x = static_cast<double>(i->get());
    } else if (const auto* f = n.as_floating_point()) {
      x = f->get();
    } else {
      return Problem{"must be a number", &n};
    }
    if (!std::isfinite(x) || (min_exclusive ? x <= min : x < min) || x > max) {
      return Problem{std::string("must be ") + (min_exclusive ? "greater than " : "at least ") +
                         format_number(min) + " and at most " + format_number(max),
                     &n};
    }
    out = x;
    return std::nullopt;
  };
}

FieldReader seconds_field(double& out) { return number_field(out, 0, kMaxCometSeconds, true); }

FieldReader bool_field(bool& out) {
  return [&out](const toml::node& n) -> std::optional<Problem> {
    const auto* v = n.as_boolean();
    if (!v) return Problem{"must be true or false", &n};
    out = v->get();
    return std::nullopt;
  };
}

FieldReader strings_field(std::vector<std::string>& out) {
  return [&out](const toml::node& n) -> std::optional<Problem> {
    const auto* a = n.as_array();
    if (!a) return Problem{"must be an array of strings", &n};
    std::vector<std::string> values;
    for (const toml::node& element : *a) {
      const auto* s = element.as_string();
      if (!s) return Problem{"must be an array of strings", &element};
      values.push_back(s->get());
    }
    out = std::move(values);
    return std::nullopt;
  };
}

// Where to point for a key: the key itself when toml++ recorded it.
const toml::source_region& key_region(const toml::key& k, const toml::node& value) {
  return k.source().begin.line != 0 ? k.source() : value.source();
}

void read_fields(const toml::table& table, std::string_view section, std::span<const Field> fields,
                 ErrorList& errors) {
  for (auto&& [k, v] : table) {
    auto field =
        std::find_if(fields.begin(), fields.end(), [&key = k](const Field& f) { return f.key == key.str(); });
    if (field == fields.end()) {
      errors.add(key_region(k, v), "unknown key " + in_quotes(k.str()) + " in " + std::string(section));
      continue;
    }
    if (auto problem = field->read(v)) {
      errors.add(problem->at->source(),
                 "key " + in_quotes(k.str()) + " in " + std::string(section) + " " + problem->text);
    }
  }
}

// ---- sections -----------------------------------------------------------------

void read_site(const toml::table& t, SiteConfig& site, ErrorList& errors) {
  const Field fields[] = {
      {"listen", string_field(site.listen, listen_problem)},
      {"public_url", string_field(site.public_url, public_url_problem)},
      {"data_dir", string_field(site.data_dir)},
      {"cookie_path", string_field(site.cookie_path)},
      {"tls_certificates", strings_field(site.tls_certificates)},
      {"tls_private_key", string_field(site.tls_private_key)},
      {"tls_private_key_password", string_field(site.tls_private_key_password)},
      {"threads", integer_field(site.threads, 0, kMaxThreads)},
      {"trusted_proxies", strings_field(site.trusted_proxies)},
      {"frame_ancestors", strings_field(site.frame_ancestors)},
      {"allowed_origins", strings_field(site.allowed_origins)},
      {"access_log", string_field(site.access_log, access_log_problem)},
      {"metrics_allow", strings_field(site.metrics_allow)},
  };
  read_fields(t, "[site]", fields, errors);
}

void read_store(const toml::table& t, StoreConfig& store, ErrorList& errors) {
  const Field fields[] = {
      {"url", string_field(store.url, store_url_problem)},
  };
  read_fields(t, "[store]", fields, errors);
}

void read_appearance(const toml::table& t, AppearanceConfig& a, ErrorList& errors) {
  const Field fields[] = {
      {"img_size_limit", integer_field(a.img_size_limit, 1, kMaxPixels)},
      {"embed_youtube_width", integer_field(a.embed_youtube_width, 1, kMaxPixels)},
      {"embed_youtube_height", integer_field(a.embed_youtube_height, 1, kMaxPixels)},
  };
  read_fields(t, "[appearance]", fields, errors);
}

void read_comet(const toml::table& t, CometConfig& c, ErrorList& errors) {
  const Field fields[] = {
      {"soft_timeout_min", seconds_field(c.soft_timeout_min)},
      {"soft_timeout_max", seconds_field(c.soft_timeout_max)},
      {"hard_timeout_min", seconds_field(c.hard_timeout_min)},
      {"hard_timeout_max", seconds_field(c.hard_timeout_max)},
      {"client_timeout", seconds_field(c.client_timeout)},
  };
  read_fields(t, "[comet]", fields, errors);
}

void read_limits(const toml::table& t, LimitsConfig& l, ErrorList& errors) {
  const Field fields[] = {
      {"text_limit", integer_field(l.text_limit, 1, kInt64Max)},
      {"nick_limit", integer_field(l.nick_limit, 1, kInt64Max)},
      {"max_body_bytes", integer_field(l.max_body_bytes, 1, kMaxBodyBytes)},
      {"max_header_bytes", integer_field(l.max_header_bytes, 1024, kMaxBodyBytes)},
      {"request_timeout", seconds_field(l.request_timeout)},
      {"post_rate", number_field(l.post_rate, 0, kMaxPostRate, false)},
      {"post_burst", integer_field(l.post_burst, 1, kMaxPostBurst)},
      {"rate_limit_exempt", strings_field(l.rate_limit_exempt)},
      {"max_connections", integer_field(l.max_connections, 1, kMaxConnections)},
      {"max_connections_per_address", integer_field(l.max_connections_per_address, 1, kMaxConnections)},
      {"max_buffered_bytes_per_address", integer_field(l.max_buffered_bytes_per_address, 1, kInt64Max)},
  };
  read_fields(t, "[limits]", fields, errors);
}

std::string optional_url_path_problem(std::string_view path) {
  return path.empty() ? std::string() : url_path_problem(path);
}

std::string webhook_url_problem(std::string_view url) {
  std::string_view rest;
  if (std::string p = split_http_scheme(url, rest); !p.empty()) return p;
  if (rest.empty() || rest.find_first_of("/?#") == 0) return "must name a host after the scheme";
  if (std::any_of(url.begin(), url.end(), is_space_or_control)) {
    return "must not contain whitespace or control characters";
  }
  return {};
}

// The [[room.webhook]] tables of a room: each has a url and nothing else.
// Reports into `errors` itself, so every table's problems are named.
FieldReader webhooks_field(std::vector<std::string>& out, ErrorList& errors) {
  return [&out, &errors](const toml::node& n) -> std::optional<Problem> {
    const auto* array = n.as_array();
    if (!array || !array->is_array_of_tables()) {
      return Problem{"must be an array of tables: write [[room.webhook]] url = \"...\"", &n};
    }
    for (const toml::node& element : *array) {
      const toml::table& t = *element.as_table();
      std::string url;
      const Field fields[] = {{"url", string_field(url, webhook_url_problem)}};
      read_fields(t, kWebhookSection, fields, errors);
      if (!t.contains("url")) {
        errors.add(t.source(), "a [[room.webhook]] needs a url");
      } else if (!url.empty()) {
        out.push_back(std::move(url));
      }
    }
    return std::nullopt;
  };
}

RoomConfig read_room(const toml::table& t, ErrorList& errors) {
  RoomConfig room;
  const Field fields[] = {
      {"slug", string_field(room.slug, slug_problem)},
      {"name", string_field(room.name)},
      {"description", string_field(room.description)},
      {"icon_url", string_field(room.icon_url)},
      {"url_path", string_field(room.url_path, optional_url_path_problem)},
      {"data_dir", string_field(room.data_dir)},
      {"loose_login", bool_field(room.loose_login)},
      {"htpasswd", string_field(room.htpasswd)},
      {"webhook", webhooks_field(room.webhooks, errors)},
  };
  read_fields(t, kRoomSection, fields, errors);
  if (!t.contains("slug")) errors.add(t.source(), "a [[room]] needs a slug");
  return room;
}

void read_rooms(const toml::node& node, std::vector<RoomConfig>& rooms, ErrorList& errors) {
  const auto* array = node.as_array();
  if (!array || !array->is_array_of_tables()) {
    errors.add(node.source(), "'room' must be an array of tables: write [[room]]");
    return;
  }
  std::map<std::string, uint32_t> first_line;  // slug -> line of its [[room]]
  for (const toml::node& element : *array) {
    const toml::table& t = *element.as_table();
    RoomConfig room = read_room(t, errors);
    if (!room.slug.empty()) {
      auto [it, fresh] = first_line.emplace(room.slug, t.source().begin.line);
      if (!fresh) {
        errors.add(t.source(), "duplicate room slug " + in_quotes(room.slug) + " (first at line " +
                                   std::to_string(it->second) + ")");
      }
    }
    rooms.push_back(std::move(room));
  }
}

using SectionReader = void (*)(const toml::table&, Config&, ErrorList&);

struct Section {
  std::string_view name;
  SectionReader read;
};

constexpr Section kSections[] = {
    {"site", [](const toml::table& t, Config& c, ErrorList& e) { read_site(t, c.site, e); }},
    {"store", [](const toml::table& t, Config& c, ErrorList& e) { read_store(t, c.store, e); }},
    {"appearance",
     [](const toml::table& t, Config& c, ErrorList& e) { read_appearance(t, c.appearance, e); }},
    {"comet", [](const toml::table& t, Config& c, ErrorList& e) { read_comet(t, c.comet, e); }},
    {"limits", [](const toml::table& t, Config& c, ErrorList& e) { read_limits(t, c.limits, e); }},
};

std::string unknown_top_level(std::string_view key, const toml::node& v) {
  if (v.is_table()) return "unknown table [" + std::string(key) + "]";
  if (v.is_array_of_tables()) return "unknown table [[" + std::string(key) + "]]";
  return "unknown key " + in_quotes(key) + " at the top level";
}

void read_top_level(const toml::key& k, const toml::node& v, Config& config, ErrorList& errors) {
  if (k.str() == "room") {
    read_rooms(v, config.rooms, errors);
    return;
  }
  auto section = std::find_if(std::begin(kSections), std::end(kSections),
                              [&](const Section& s) { return s.name == k.str(); });
  if (section == std::end(kSections)) {
    errors.add(key_region(k, v), unknown_top_level(k.str(), v));
    return;
  }
  const auto* table = v.as_table();
  if (!table) {
    errors.add(key_region(k, v),
               in_quotes(k.str()) + " must be a table: write [" + std::string(k.str()) + "]");
    return;
  }
  section->read(*table, config, errors);
}

RoomConfig default_room() {
  RoomConfig room;
  room.slug = "lobby";
  room.name = "Lobby";
  room.description = "Say hello.";
  return room;
}

Result<Config> parse_document(std::string_view text, std::string_view source) {
  toml::table doc = toml::parse(text, source);
  Config config;
  ErrorList errors(source);
  for (auto&& [k, v] : doc) read_top_level(k, v, config, errors);
  if (!errors.empty()) return errors.status();
  if (config.rooms.empty()) config.rooms.push_back(default_room());
  return config;
}

// ---- finalize -------------------------------------------------------------------

Status invalid(std::string message) { return Status(Errc::invalid, std::move(message)); }

// A CSP source expression that may go into frame-ancestors as it is:
// 'self', *, a scheme ("https:") or scheme://host[:port] with an optional
// leading "*." in the host. Nothing that could end the directive.
bool is_frame_source(std::string_view s) {
  if (s == "'self'" || s == "*") return true;
  if (s.empty() || s.size() > 253) return false;
  auto host_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '*' ||
           c == '[' || c == ']';
  };
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (char c : s.substr(0, colon))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  std::string_view rest = s.substr(colon + 1);
  if (rest.empty()) return true;  // a scheme source
  if (!rest.starts_with("//") || rest.size() == 2) return false;
  rest.remove_prefix(2);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('*', 1) != std::string_view::npos) return false;
  if (rest.front() == '*' && !rest.starts_with("*.")) return false;
  for (char c : rest)
    if (!host_char(c)) return false;
  return true;
}

Status check_site(SiteConfig& site) {
  if (std::string p = listen_problem(site.listen); !p.empty()) {
    return invalid("site.listen " + p);
  }
  if (std::string p = public_url_problem(site.public_url); !p.empty()) {
    return invalid("site.public_url " + p);
  }
  while (site.public_url.ends_with('/')) site.public_url.pop_back();
  if (site.data_dir.empty()) return invalid("site.data_dir must not be empty");
  if (std::string p = access_log_problem(site.access_log); !p.empty()) return invalid("site.access_log " + p);
  if (site.threads < 0 || site.threads > kMaxThreads) {
    return invalid("site.threads " + range_phrase(0, kMaxThreads));
  }
  if (site.tls_certificates.empty() != site.tls_private_key.empty()) {
    return invalid("site.tls_certificates and site.tls_private_key must be set together");
  }
  for (const auto& origin : site.frame_ancestors) {
    if (!is_frame_source(origin)) {
      return invalid("site.frame_ancestors: '" + origin +
                     "' is not an origin like https://example.org, https://*.example.org, "
                     "https:, * or 'self'");
    }
  }
  for (auto& origin : site.allowed_origins) {
    std::optional<std::string> normal = normalize_origin(origin);
    if (normal) origin = *normal;  // compared in this form (config/origin.h)
    if (!normal) {
      return invalid("site.allowed_origins: '" + origin +
                     "' is not an origin like https://example.org or http://example.org:8080");
    }
  }
  return Status::ok();
}

Status check_appearance(const AppearanceConfig& a) {
  const std::pair<std::string_view, int> values[] = {
      {"img_size_limit", a.img_size_limit},
      {"embed_youtube_width", a.embed_youtube_width},
      {"embed_youtube_height", a.embed_youtube_height},
  };
  for (auto [name, v] : values) {
    if (v < 1 || v > kMaxPixels) {
      return invalid("appearance." + std::string(name) + " " + range_phrase(1, kMaxPixels));
    }
  }
  return Status::ok();
}

Status check_comet(const CometConfig& c) {
  const std::pair<std::string_view, double> values[] = {
      {"soft_timeout_min", c.soft_timeout_min}, {"soft_timeout_max", c.soft_timeout_max},
      {"hard_timeout_min", c.hard_timeout_min}, {"hard_timeout_max", c.hard_timeout_max},
      {"client_timeout", c.client_timeout},
  };
  for (auto [name, v] : values) {
    if (!std::isfinite(v) || v <= 0 || v > kMaxCometSeconds) {
      return invalid("comet." + std::string(name) + " must be greater than 0 and at most " +
                     format_number(kMaxCometSeconds));
    }
  }
  auto order = [](std::string_view a, double x, std::string_view b, double y) {
    return invalid("comet." + std::string(a) + " (" + format_number(x) + ") must not be greater than comet." +
                   std::string(b) + " (" + format_number(y) + ")");
  };
  if (c.soft_timeout_min > c.soft_timeout_max) {
    return order("soft_timeout_min", c.soft_timeout_min, "soft_timeout_max", c.soft_timeout_max);
  }
  if (c.hard_timeout_min > c.hard_timeout_max) {
    return order("hard_timeout_min", c.hard_timeout_min, "hard_timeout_max", c.hard_timeout_max);
  }
  if (c.soft_timeout_max > c.hard_timeout_min) {
    return order("soft_timeout_max", c.soft_timeout_max, "hard_timeout_min", c.hard_timeout_min);
  }
  return Status::ok();
}

Status check_limits(const LimitsConfig& l) {
  if (l.text_limit < 1) return invalid("limits.text_limit must be at least 1");
  if (l.nick_limit < 1) return invalid("limits.nick_limit must be at least 1");
  if (l.max_body_bytes < 1 || l.max_body_bytes > kMaxBodyBytes) {
    return invalid("limits.max_body_bytes " + range_phrase(1, kMaxBodyBytes));
  }
  return Status::ok();
}

std::string join_data_dir(std::string_view site_dir, std::string_view slug) {
  std::string dir(site_dir);
  while (dir.size() > 1 && dir.ends_with('/')) dir.pop_back();
  if (!dir.ends_with('/')) dir.push_back('/');
  dir.append(slug);
  return dir;
}

// Absolute and lexically normal, without a trailing separator, for comparing.
std::string comparable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec);
  if (ec) p = dir;
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p.string();
}

Status complete_room(RoomConfig& room, const SiteConfig& site) {
  if (std::string p = slug_problem(room.slug); !p.empty()) return invalid("room slug " + p);
  std::string label = "room " + in_quotes(room.slug) + ": ";
  if (room.name.empty()) room.name = room.slug;
  if (room.url_path.empty()) room.url_path = "/" + room.slug + "/";
  if (std::string p = url_path_problem(room.url_path); !p.empty()) {
    return invalid(label + "url_path " + p);
  }
  if (room.data_dir.empty()) room.data_dir = join_data_dir(site.data_dir, room.slug);
  return Status::ok();
}

// Refuses two rooms sharing the value `key` gives (slug, url_path, data_dir).
Status check_unique(const std::vector<RoomConfig>& rooms, std::string_view what,
                    const std::function<std::string(const RoomConfig&)>& key) {
  std::map<std::string, const RoomConfig*> seen;
  for (const RoomConfig& room : rooms) {
    auto [it, fresh] = seen.emplace(key(room), &room);
    if (!fresh) {
      return invalid("rooms " + in_quotes(it->second->slug) + " and " + in_quotes(room.slug) +
                     " have the same " + std::string(what) + " " + in_quotes(it->first));
    }
  }
  return Status::ok();
}

Status finalize_rooms(std::vector<RoomConfig>& rooms, const SiteConfig& site) {
  if (rooms.empty()) return invalid("at least one [[room]] is needed");
  for (RoomConfig& room : rooms) {
    if (Status s = complete_room(room, site); !s) return s;
  }
  if (Status s = check_unique(rooms, "slug", [](const RoomConfig& r) { return r.slug; }); !s) {
    return s;
  }
  if (Status s = check_unique(rooms, "url_path", [](const RoomConfig& r) { return r.url_path; }); !s) {
    return s;
  }
  return check_unique(rooms, "data_dir", [](const RoomConfig& r) { return comparable_dir(r.data_dir); });
}

Status finalize_all(Config& config) {
  if (Status s = check_site(config.site); !s) return s;
  if (Status s = check_appearance(config.appearance); !s) return s;
  if (Status s = check_comet(config.comet); !s) return s;
  if (Status s = check_limits(config.limits); !s) return s;
  return finalize_rooms(config.rooms, config.site);
}

// ---- files ----------------------------------------------------------------------

}  // namespace

Config default_config() {
  Config config;
  config.rooms.push_back(default_room());
  return config;
}

Result<Config> parse_config(std::string_view toml, std::string_view source) {
  try {
    return parse_document(toml, source);
  } catch (const toml::parse_error& e) {
    return Status(Errc::invalid,
                  format_location(source, e.source().begin) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status(Errc::invalid, std::string(source) + ": " + e.what());
  }
}

Result<Config> load_config(const std::filesystem::path& file) {
  try {
    auto text = read_file(file, {.max_bytes = kMaxConfigFileBytes});
    if (!text) {  // a file over the limit is invalid; any other failure is io
      return Status(text.status().code() == Errc::too_large ? Errc::invalid : Errc::io,
                    text.status().message());
    }
    return parse_config(*text, file.string());
  } catch (const std::exception& e) {
    return Status(Errc::io, "cannot read " + file.string() + ": " + e.what());
  }
}

Status finalize(Config& config) {
  try {
    return finalize_all(config);
  } catch (const std::exception& e) {
    return Status(Errc::invalid, std::string("configuration: ") + e.what());
  }
}

Result<HostPort> parse_host_port(std::string_view s) {
  try {
    HostPort hp;
    std::string why = split_host_port(s, hp);
    if (why.empty()) return hp;
    return Status(Errc::invalid, in_quotes(s) + " is not HOST:PORT: " + why);
  } catch (const std::exception& e) {
    return Status(Errc::invalid, e.what());
  }
}

}  // namespace chaton
