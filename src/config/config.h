// Configuration (docs/CONFIG.md): a TOML file with [site], [appearance],
// [comet], [limits] and one [[room]] table per room. docs/CONFIG.md lists every
// key.
//
// load_config() refuses an unknown key or a wrong type, naming the file, the
// line and the key. finalize() fills in what is derived (a room's url_path
// and data_dir, the public URL) and checks uniqueness.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace chaton {

struct SiteConfig {
  std::string listen = "127.0.0.1:8080";
  std::string public_url;  // empty: "http://<listen>" once the port is known
  std::string data_dir = "./chaton-data";
  std::string cookie_path = "/";
  std::vector<std::string> tls_certificates;
  std::string tls_private_key;
  std::string tls_private_key_password;
  int threads = 0;  // io threads; 0: one per core
  // Peers whose X-Forwarded-For is believed (addresses or CIDR ranges);
  // nobody else's ever is.
  std::vector<std::string> trusted_proxies;
  // Origins (CSP source expressions) that may show a room page or the
  // badge in a frame; nothing else may ever be framed. Empty: this site only.
  std::vector<std::string> frame_ancestors;
  // Origins (https://host[:port]) whose pages may post to the rooms and
  // open WebSockets; other sites' are refused. Empty: this site only.
  std::vector<std::string> allowed_origins;
  // Where each room's access log (logs/comet.log: one line per request)
  // goes: "file", "stderr" (journald) or "off" (docs/CONFIG.md).
  std::string access_log = "file";
  // Addresses or CIDR ranges that may read /metrics and /healthz (the TCP
  // peer's address); 403 for every other.
  std::vector<std::string> metrics_allow = {"127.0.0.0/8", "::1"};
};

struct AppearanceConfig {
  int img_size_limit = 400;
  int embed_youtube_width = 425;
  int embed_youtube_height = 344;
};

// Long-poll timing (docs/CONFIG.md, "[comet]"); the original's values by
// default.
struct CometConfig {
  double soft_timeout_min = 15;   // seconds: a waiting request wakes up ...
  double soft_timeout_max = 30;   // ... after a random time in this range
  double hard_timeout_min = 240;  // seconds: a waiting request is answered anyway ...
  double hard_timeout_max = 360;  // ... after a random time in this range
  double client_timeout = 10;     // seconds: an idle cid is dropped after this
};

struct LimitsConfig {
  int64_t text_limit = 2048;         // characters in a post
  int64_t nick_limit = 64;           // characters in a nickname
  int64_t max_body_bytes = 65536;    // request body
  int64_t max_header_bytes = 16384;  // request line and headers (431 beyond)
  double request_timeout = 30;       // seconds to send a whole request (slow clients are dropped)
  double post_rate = 1;              // posts per second per address, sustained; 0: no limit
  int64_t post_burst = 10;           // posts an address may make at once
  // Addresses the post rate does not apply to, and whose cids all count in
  // the chatters count; none by default (docs/CONFIG.md, "[limits]").
  std::vector<std::string> rate_limit_exempt;
  int64_t max_connections = 15000;             // open connections in all (503 beyond)
  int64_t max_connections_per_address = 1000;  // open connections from one address (429 beyond)
  // Bytes of unsent responses and stream queues one address may hold
  // (docs/SECURITY.md, "Slow, idle and long-lived connections").
  int64_t max_buffered_bytes_per_address = 32 << 20;
};

struct RoomConfig {
  std::string slug;
  std::string name;
  std::string description;  // HTML, inserted as is
  std::string icon_url;
  std::string url_path;  // default "/<slug>/"; always starts and ends with '/'
  std::string data_dir;  // default "<site.data_dir>/<slug>"
  bool loose_login = true;
  std::string htpasswd;
  // Outgoing webhooks ([[room.webhook]] url = "..."): each new post is
  // POSTed as JSON to every URL (docs/WEBHOOKS.md).
  std::vector<std::string> webhooks;
};

// Where rooms keep their posts (docs/CONFIG.md, "[store]"; docs/SCALING.md).
struct StoreConfig {
  // A PostgreSQL connection URI (postgresql://user@host:port/dbname) shared
  // by every node; empty: each room's files under its data_dir.
  std::string url;
};

struct Config {
  SiteConfig site;
  StoreConfig store;
  AppearanceConfig appearance;
  CometConfig comet;
  LimitsConfig limits;
  std::vector<RoomConfig> rooms;
};

// One room, slug "lobby", and every default.
Config default_config();

// Parses TOML text; `source` names the file in messages.
Result<Config> parse_config(std::string_view toml, std::string_view source);
Result<Config> load_config(const std::filesystem::path& file);

// Fills in derived values and validates the whole (slugs, unique url paths
// and data dirs, timeouts in order). Call after command-line overrides.
Status finalize(Config& config);

// "host:port" split; the host may be a bracketed IPv6 address.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> parse_host_port(std::string_view s);

}  // namespace chaton
