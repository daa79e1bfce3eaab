// Reading an original Chaton config and writing it as TOML: see
// import_conf.h. The forms are read with the one S-expression reader
// (util/sexpr.h, docs/STORAGE.md "S-expressions"); the writer maps every
// original parameter to its key in docs/CONFIG.md or to a comment.
#include "config/import_conf.h"

#include <cstdio>
#include <optional>
#include <set>
#include <system_error>

#include "util/file.h"
#include "util/sexpr.h"
#include "util/text.h"

namespace chaton {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxIncludeDepth = 32;
constexpr size_t kMaxSlugLength = 64;
constexpr int64_t kMaxAppearanceValue = 100000;

// ------------------------------------------------------------------ reading

// An original config's datum as a ConfValue. The reader's rules are
// docs/STORAGE.md "S-expressions"; on top of them, as the original
// build-site's forms need: 'x (quote x) is the value x, and a dotted list
// keeps its '.' as a symbol, shown as it was written.
ConfValue conf_value(sexpr::Datum d) {
  using Kind = sexpr::Datum::Kind;
  switch (d.kind) {
    case Kind::string:
      return ConfValue{ConfValue::Kind::string, std::move(d.text), {}};
    case Kind::integer:
    case Kind::big_integer:
      return ConfValue{ConfValue::Kind::number, std::move(d.text), {}};
    case Kind::symbol:
      return ConfValue{ConfValue::Kind::symbol, std::move(d.text), {}};
    case Kind::list:
      break;
  }
  if (d.items.size() == 2 && d.tail.empty() && d.items[0].is_symbol("quote"))
    return conf_value(std::move(d.items[1]));
  ConfValue list{ConfValue::Kind::list, {}, {}};
  for (sexpr::Datum& item : d.items) list.items.push_back(conf_value(std::move(item)));
  if (d.is_dotted()) {
    list.items.push_back(ConfValue{ConfValue::Kind::symbol, ".", {}});
    list.items.push_back(conf_value(std::move(d.tail[0])));
  }
  return list;
}

Status located(const fs::path& file, size_t line, const std::string& message) {
  return Status(Errc::invalid, file.string() + ":" + std::to_string(line) + ": " + message);
}

fs::path identity(const fs::path& file) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(file, ec);
  return ec ? fs::absolute(file, ec).lexically_normal() : p;
}

struct Parser {
  OriginalConf& out;
  std::vector<fs::path> stack;  // files being read, for cycles

  Status parse(std::string_view text, const fs::path& file) {
    stack.push_back(identity(file));
    out.files.push_back(file.string());
    sexpr::Reader reader(text);
    while (!reader.at_end()) {
      sexpr::Datum form;
      if (!reader.read(form)) break;
      size_t line = form.line;
      if (Status st = take(conf_value(std::move(form)), file, line); !st) return st;
    }
    if (reader.failed()) return located(file, reader.error().line, reader.error().message);
    stack.pop_back();
    return Status::ok();
  }

  Status take(const ConfValue& form, const fs::path& file, size_t line) {
    if (form.kind != ConfValue::Kind::list || form.items.size() != 2 ||
        form.items[0].kind != ConfValue::Kind::symbol)
      return located(file, line, "expected (key \"value\")");
    const std::string& key = form.items[0].text;
    const ConfValue& value = form.items[1];
    if (key != "include") {
      out.entries.push_back(ConfEntry{key, value, file.string(), line});
      return Status::ok();
    }
    if (value.kind != ConfValue::Kind::string) return located(file, line, "expected (include \"file\")");
    return include(fs::path(value.text), file, line);
  }

  Status include(const fs::path& name, const fs::path& from, size_t line) {
    fs::path path = name.is_absolute() ? name : from.parent_path() / name;
    fs::path id = identity(path);
    for (const fs::path& open : stack)
      if (open == id)
        return located(from, line, "include cycle: " + path.string() + " is already being read");
    if (stack.size() >= kMaxIncludeDepth) return located(from, line, "includes nested too deeply");
    auto text = read_file(path);
    if (!text) return located(from, line, text.status().message());
    return parse(*text, path);
  }
};

// ------------------------------------------------------------------ writing

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : repair_utf8(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

// One line of the output as TOML allows it: valid UTF-8 with no control
// character but tab, even in a comment. Values in keys are escaped already by
// toml_string(); this guards what comments quote as the original file had it
// (unknown keys, symbols, file names), where such a byte would make the whole
// file unreadable or, a newline, start a line of its own.
std::string toml_line_text(std::string_view s) {
  std::string out = repair_utf8(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) c = '?';
  }
  return out;
}

// A value as the original file showed it, on one line, for comments.
std::string shown(const ConfValue& v) {
  switch (v.kind) {
    case ConfValue::Kind::string:
      return toml_string(v.text);
    case ConfValue::Kind::number:
    case ConfValue::Kind::symbol:
      return v.text;
    case ConfValue::Kind::list: {
      std::string s = "(";
      for (size_t i = 0; i < v.items.size(); ++i) s += (i ? " " : "") + shown(v.items[i]);
      return s + ")";
    }
  }
  return {};
}

bool is_text(const ConfValue& v) { return v.kind != ConfValue::Kind::list; }

// Scheme truth: only #f is false.
bool truth(const ConfValue& v) { return !(is_text(v) && (v.text == "#f" || v.text == "#false")); }

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string slug_from(std::string_view s) {
  std::string slug;
  for (char c : s) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-';
    if (ok && (!slug.empty() || (l != '_' && l != '-'))) slug.push_back(l);
  }
  if (slug.size() > kMaxSlugLength) slug.resize(kMaxSlugLength);
  return slug;
}

std::string last_component(std::string_view path) {
  std::string p = strip_trailing_slashes(std::string(path));
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Parameters that have no key any more, and why.
struct Retired {
  std::string_view key;
  bool room;  // shown in [[room]] rather than [site]
  std::string_view reason;
};
constexpr Retired kRetired[] = {
    {"comet-port", true, "one chaton process serves every room and its long-poll requests on [site] listen"},
    {"server-htdocs-dir", true,
     "nothing is installed into a web server's directory; chaton answers every URL itself"},
    {"show-stack-trace-on-error", true, "errors are written to the server's standard error"},
    {"comet-url", false, "long-poll requests go to the room's own URL, on the same server"},
    {"server-bin-dir", false, "nothing is installed; chaton is one executable"},
    {"gosh", false, "chaton does not run Gauche scripts"},
    {"prototype-url", false, "the browser code is served by chaton itself"},
    {"site-search-url", false, "every room has its own full-text search at <url_path>search"},
};

constexpr std::string_view kKnownKeys[] = {"room-name",           "room-description", "url-path",
                                           "server-data-dir",     "icon-url",         "htpasswd-path",
                                           "loose-login",         "httpd-url",        "cookie-path",
                                           "tls-settings",        "img-size-limit",   "embed-youtube-width",
                                           "embed-youtube-height"};

class TomlWriter {
 public:
  explicit TomlWriter(const OriginalConf& conf) : conf_(conf) {}

  Result<std::string> write() {
    if (!conf_.find("room-name") && !conf_.find("url-path") && !conf_.find("server-data-dir"))
      return Status(Errc::invalid, conf_.files.front() +
                                       ": not a room configuration (it has no room-name, url-path "
                                       "or server-data-dir)");
    header();
    site();
    appearance();
    room();
    return out_;
  }

 private:
  const ConfEntry* get(std::string_view key) const { return conf_.find(key); }

  void line(const std::string& s = {}) { out_ += toml_line_text(s) + "\n"; }

  void key(std::string_view name, const std::string& value, std::string_view from) {
    line(std::string(name) + " = " + value + "   # " + std::string(from));
  }

  void header() {
    line("# Chaton configuration written by `chaton import-conf` from " + conf_.files.front());
    for (size_t i = 1; i < conf_.files.size(); ++i) line("#   (which includes " + conf_.files[i] + ")");
    line("# See docs/CONFIG.md for every key and docs/MIGRATING.md for the move.");
    line();
  }

  void retired(bool room) {
    for (const Retired& r : kRetired)
      if (r.room == room)
        if (const ConfEntry* e = get(r.key))
          line("# " + std::string(r.key) + " " + shown(e->value) + ": not needed any more (" +
               std::string(r.reason) + ")");
  }

  void site() {
    line("[site]");
    line("# listen = \"127.0.0.1:8080\"   # where chaton serve listens (put your httpd in front of it)");
    public_url();
    if (const ConfEntry* e = get("cookie-path"); e && is_text(e->value))
      key("cookie_path", toml_string(e->value.text), "cookie-path");
    line(
        "# data_dir = \"./chaton-data\"   # for rooms without their own data_dir; the room below names its "
        "own");
    tls();
    retired(false);
    line();
  }

  void public_url() {
    const ConfEntry* e = get("httpd-url");
    if (!e || !is_text(e->value)) {
      line("# public_url = \"https://chat.example.org\"   # the original httpd-url was not given");
      return;
    }
    std::string url = strip_trailing_slashes(e->value.text);
    std::string from = "httpd-url";
    if (get("tls-settings") && url.rfind("http://", 0) == 0) {  // the original switched to https
      url = "https://" + url.substr(7);
      from += ", https because tls-settings is set";
    }
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      line("# public_url: httpd-url " + toml_string(e->value.text) +
           " is not an http:// or https:// URL; set public_url by hand");
      return;
    }
    key("public_url", toml_string(url), from);
  }

  // (tls-settings (:tls-certificates ("cert" "chain") :tls-private-key "key"
  //                :tls-private-key-password "pw-or-#f"))
  void tls() {
    const ConfEntry* e = get("tls-settings");
    if (!e) return;
    const auto& items = e->value.items;
    if (e->value.kind != ConfValue::Kind::list || items.size() % 2 != 0) {
      line("# tls-settings " + shown(e->value) + ": not understood; set tls_* by hand");
      return;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < items.size(); i += 2) {
      const std::string& name = items[i].text;
      const ConfValue& v = items[i + 1];
      if (!seen.insert(name).second) {  // a keyword list's first value is the one that counts
        line("# tls-settings " + name + " " + shown(v) + ": given again, ignored");
        continue;
      }
      if (name == ":tls-certificates") {
        std::string list = "[";
        const std::vector<ConfValue> one{v};
        for (const ConfValue& c : v.kind == ConfValue::Kind::list ? v.items : one)
          list += (list.size() > 1 ? ", " : "") + toml_string(c.text);
        key("tls_certificates", list + "]", "tls-settings");
      } else if (name == ":tls-private-key") {
        key("tls_private_key", toml_string(v.text), "tls-settings");
      } else if (name == ":tls-private-key-password") {
        key("tls_private_key_password", toml_string(truth(v) ? v.text : ""), "tls-settings");
      } else {
        line("# tls-settings " + name + " " + shown(v) + ": no equivalent, not converted");
      }
    }
  }

  void appearance() {
    constexpr std::pair<std::string_view, std::string_view> kKeys[] = {
        {"img-size-limit", "img_size_limit"},
        {"embed-youtube-width", "embed_youtube_width"},
        {"embed-youtube-height", "embed_youtube_height"}};
    bool any = false;
    for (auto [from, to] : kKeys) any |= get(from) != nullptr;
    if (!any) return;
    line("[appearance]");
    for (auto [from, to] : kKeys) {
      const ConfEntry* e = get(from);
      if (!e) continue;
      auto v = is_text(e->value) ? parse_int(trim(e->value.text)) : std::nullopt;
      if (v && *v >= 1 && *v <= kMaxAppearanceValue)
        key(to, std::to_string(*v), from);
      else
        line("# " + std::string(from) + " " + shown(e->value) +
             ": not a number from 1 to 100000; the default is used");
    }
    line();
  }

  std::string text_of(std::string_view k) const {
    const ConfEntry* e = get(k);
    return e && is_text(e->value) ? e->value.text : std::string();
  }

  std::string slug() const {
    std::string s = slug_from(last_component(text_of("url-path")));
    if (s.empty()) s = slug_from(text_of("room-name"));
    if (s.empty()) s = slug_from(last_component(text_of("server-data-dir")));
    return s.empty() ? "room" : s;
  }

  void room() {
    line("[[room]]");
    std::string s = slug();
    line("slug = " + toml_string(s) + "   # the room's name in chaton's commands and its default URL /" + s +
         "/");
    if (get("room-name")) key("name", toml_string(text_of("room-name")), "room-name");
    if (get("room-description"))
      key("description", toml_string(text_of("room-description")), "room-description");
    if (get("icon-url")) key("icon_url", toml_string(text_of("icon-url")), "icon-url");
    url_path();
    data_dir();
    if (const ConfEntry* e = get("loose-login"))
      key("loose_login", truth(e->value) ? "true" : "false", "loose-login");
    if (get("htpasswd-path")) key("htpasswd", toml_string(text_of("htpasswd-path")), "htpasswd-path");
    retired(true);
    unknown();
  }

  void url_path() {
    if (!get("url-path")) return;
    std::string p = text_of("url-path");
    if (p.empty() || p.front() != '/') p = "/" + p;
    if (p.back() != '/') p += "/";
    if (p == "/") {
      line("# url-path \"/\": the root now lists the rooms; this room moves to /" + slug() + "/");
      return;
    }
    key("url_path", toml_string(p), "url-path: old links keep working");
  }

  void data_dir() {
    if (!get("server-data-dir")) {
      line("# data_dir: server-data-dir was not given; the room keeps its data in <site.data_dir>/" + slug());
      return;
    }
    key("data_dir", toml_string(strip_trailing_slashes(text_of("server-data-dir"))),
        "server-data-dir: served in place");
  }

  void unknown() {
    for (const ConfEntry& e : conf_.entries) {
      bool known = false;
      for (auto k : kKnownKeys) known |= e.key == k;
      for (const Retired& r : kRetired) known |= e.key == r.key;
      if (!known)
        line("# " + e.key + " " + shown(e.value) + " (" + e.file + ":" + std::to_string(e.line) +
             "): unknown parameter, not converted");
    }
  }

  const OriginalConf& conf_;
  std::string out_;
};

}  // namespace

const ConfEntry* OriginalConf::find(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->key == key) return &*it;
  return nullptr;
}

Result<OriginalConf> parse_original_conf(std::string_view text, const fs::path& file) {
  OriginalConf conf;
  Parser parser{conf, {}};
  if (Status st = parser.parse(text, file); !st) return st;
  return conf;
}

Result<OriginalConf> read_original_conf(const fs::path& file) {
  auto text = read_file(file);
  if (!text) return text.status();
  return parse_original_conf(*text, file);
}

Result<std::string> original_conf_to_toml(const OriginalConf& conf) {
  if (conf.files.empty()) return Status(Errc::invalid, "no configuration was read");
  return TomlWriter(conf).write();
}

Result<std::string> import_original_conf(const fs::path& file) {
  auto conf = read_original_conf(file);
  if (!conf) return conf.status();
  return original_conf_to_toml(*conf);
}

}  // namespace chaton
