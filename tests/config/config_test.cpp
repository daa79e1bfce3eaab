// Tests for the configuration file (docs/CONFIG.md): parsing every key,
// refusing unknown keys, wrong types and bad values with file:line:column
// messages, deriving url_path / data_dir / public_url, and parse_host_port.
#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace chaton {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::string_view kSource = "chaton.toml";

// The minimal file of docs/CONFIG.md ("A minimal file"), verbatim.
constexpr std::string_view kSampleFile = R"toml([site]
listen     = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"   # the original httpd-url; absolute URLs are built on it
data_dir   = "./chaton-data"           # a room's DATADIR is <data_dir>/<slug> unless the room names one
cookie_path = "/"
# tls_certificates = ["server.pem", "chain.pem"]
# tls_private_key = "server.key"
# tls_private_key_password = ""

[appearance]
img_size_limit = 400
embed_youtube_width = 425
embed_youtube_height = 344

[[room]]
slug = "lobby"                  # the path component: the room lives at /lobby/
name = "Lobby"                  # room-name
description = "Say hello."      # room-description, HTML inserted as is
icon_url = ""
# url_path = "/chaton/lobby/"   # overrides /<slug>/
# data_dir = "/srv/old-chaton/gauche"   # an original installation's DATADIR, served in place
loose_login = true
# htpasswd = "/etc/chaton/lobby.htpasswd"   # private room behind HTTP Basic auth
)toml";

// Whether `text` contains `part`, showing both when it does not.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

Config parse_ok(std::string_view text) {
  auto config = parse_config(text, kSource);
  EXPECT_TRUE(config.is_ok()) << config.status().message();
  return config.is_ok() ? *config : Config{};
}

std::string parse_error(std::string_view text) {
  auto config = parse_config(text, kSource);
  EXPECT_FALSE(config.is_ok()) << "accepted:\n" << text;
  if (config.is_ok()) return {};
  EXPECT_EQ(config.status().code(), Errc::invalid);
  return config.status().message();
}

Config finalized(std::string_view text) {
  Config config = parse_ok(text);
  Status s = finalize(config);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return config;
}

std::string finalize_error(Config config) {
  Status s = finalize(config);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Errc::invalid);
  return s.message();
}

std::string finalize_error(std::string_view text) { return finalize_error(parse_ok(text)); }

RoomConfig room(std::string slug) {
  RoomConfig r;
  r.slug = std::move(slug);
  return r;
}

// ---- whole files ------------------------------------------------------------------

TEST(ConfigParse, SampleFileGivesEveryValue) {
  Config c = parse_ok(kSampleFile);
  EXPECT_EQ(c.site.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.site.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.site.data_dir, "./chaton-data");
  EXPECT_EQ(c.site.cookie_path, "/");
  EXPECT_TRUE(c.site.tls_certificates.empty());
  EXPECT_EQ(c.site.tls_private_key, "");
  EXPECT_EQ(c.site.tls_private_key_password, "");
  EXPECT_EQ(c.site.threads, 0);
  EXPECT_EQ(c.appearance.img_size_limit, 400);
  EXPECT_EQ(c.appearance.embed_youtube_width, 425);
  EXPECT_EQ(c.appearance.embed_youtube_height, 344);
  ASSERT_EQ(c.rooms.size(), 1u);
  const RoomConfig& r = c.rooms[0];
  EXPECT_EQ(r.slug, "lobby");
  EXPECT_EQ(r.name, "Lobby");
  EXPECT_EQ(r.description, "Say hello.");
  EXPECT_EQ(r.icon_url, "");
  EXPECT_EQ(r.url_path, "");  // derived by finalize
  EXPECT_EQ(r.data_dir, "");
  EXPECT_TRUE(r.loose_login);
  EXPECT_EQ(r.htpasswd, "");

  ASSERT_TRUE(finalize(c).is_ok());
  EXPECT_EQ(c.rooms[0].url_path, "/lobby/");
  EXPECT_EQ(c.rooms[0].data_dir, "./chaton-data/lobby");
  EXPECT_EQ(c.site.public_url, "http://127.0.0.1:8080");
}

TEST(ConfigParse, EveryKeyCanBeSet) {
  Config c = parse_ok(R"toml(
[site]
listen = "[::1]:9000"
public_url = "https://chat.example.org/chaton/"
data_dir = "/var/lib/chaton"
cookie_path = "/chaton/"
tls_certificates = ["server.pem", "chain.pem"]
tls_private_key = "server.key"
tls_private_key_password = "secret"
threads = 4

[appearance]
img_size_limit = 300
embed_youtube_width = 640
embed_youtube_height = 360

[comet]
soft_timeout_min = 1.5
soft_timeout_max = 3
hard_timeout_min = 60
hard_timeout_max = 90.25
client_timeout = 20

[limits]
text_limit = 4096
nick_limit = 32
max_body_bytes = 100000

[[room]]
slug = "gauche"
name = "Gauche"
description = "<b>Scheme</b> talk"
icon_url = "https://example.org/icon.png"
url_path = "/chaton/gauche/"
data_dir = "/srv/old-chaton/gauche"
loose_login = false
htpasswd = "/etc/chaton/gauche.htpasswd"
)toml");
  EXPECT_EQ(c.site.listen, "[::1]:9000");
  EXPECT_EQ(c.site.public_url, "https://chat.example.org/chaton/");
  EXPECT_EQ(c.site.data_dir, "/var/lib/chaton");
  EXPECT_EQ(c.site.cookie_path, "/chaton/");
  EXPECT_EQ(c.site.tls_certificates, (std::vector<std::string>{"server.pem", "chain.pem"}));
  EXPECT_EQ(c.site.tls_private_key, "server.key");
  EXPECT_EQ(c.site.tls_private_key_password, "secret");
  EXPECT_EQ(c.site.threads, 4);
  EXPECT_EQ(c.appearance.img_size_limit, 300);
  EXPECT_EQ(c.appearance.embed_youtube_width, 640);
  EXPECT_EQ(c.appearance.embed_youtube_height, 360);
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_min, 1.5);
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_max, 3);
  EXPECT_DOUBLE_EQ(c.comet.hard_timeout_min, 60);
  EXPECT_DOUBLE_EQ(c.comet.hard_timeout_max, 90.25);
  EXPECT_DOUBLE_EQ(c.comet.client_timeout, 20);
  EXPECT_EQ(c.limits.text_limit, 4096);
  EXPECT_EQ(c.limits.nick_limit, 32);
  EXPECT_EQ(c.limits.max_body_bytes, 100000);
  ASSERT_EQ(c.rooms.size(), 1u);
  const RoomConfig& r = c.rooms[0];
  EXPECT_EQ(r.slug, "gauche");
  EXPECT_EQ(r.name, "Gauche");
  EXPECT_EQ(r.description, "<b>Scheme</b> talk");
  EXPECT_EQ(r.icon_url, "https://example.org/icon.png");
  EXPECT_EQ(r.url_path, "/chaton/gauche/");
  EXPECT_EQ(r.data_dir, "/srv/old-chaton/gauche");
  EXPECT_FALSE(r.loose_login);
  EXPECT_EQ(r.htpasswd, "/etc/chaton/gauche.htpasswd");

  ASSERT_TRUE(finalize(c).is_ok());
  EXPECT_EQ(c.site.public_url, "https://chat.example.org/chaton");
  EXPECT_EQ(c.rooms[0].url_path, "/chaton/gauche/");
  EXPECT_EQ(c.rooms[0].data_dir, "/srv/old-chaton/gauche");
}

TEST(ConfigParse, SeveralRoomsKeepTheirOrder) {
  Config c = finalized(R"toml(
[site]
data_dir = "/data"
[[room]]
slug = "lobby"
[[room]]
slug = "gauche"
name = "Gauche"
[[room]]
slug = "kahua-dev"
url_path = "/k/"
)toml");
  ASSERT_EQ(c.rooms.size(), 3u);
  EXPECT_EQ(c.rooms[0].slug, "lobby");
  EXPECT_EQ(c.rooms[0].name, "lobby");  // name defaults to the slug
  EXPECT_EQ(c.rooms[0].url_path, "/lobby/");
  EXPECT_EQ(c.rooms[0].data_dir, "/data/lobby");
  EXPECT_EQ(c.rooms[1].slug, "gauche");
  EXPECT_EQ(c.rooms[1].name, "Gauche");
  EXPECT_EQ(c.rooms[1].data_dir, "/data/gauche");
  EXPECT_EQ(c.rooms[2].slug, "kahua-dev");
  EXPECT_EQ(c.rooms[2].url_path, "/k/");
  EXPECT_EQ(c.rooms[2].data_dir, "/data/kahua-dev");
}

TEST(ConfigParse, EmptyFileGivesTheDefaults) {
  Config c = parse_ok("");
  Config d = default_config();
  EXPECT_EQ(c.site.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.site.public_url, "");
  EXPECT_EQ(c.site.data_dir, "./chaton-data");
  EXPECT_EQ(c.site.cookie_path, "/");
  EXPECT_EQ(c.appearance.img_size_limit, 400);
  EXPECT_EQ(c.appearance.embed_youtube_width, 425);
  EXPECT_EQ(c.appearance.embed_youtube_height, 344);
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_min, 15);
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_max, 30);
  EXPECT_DOUBLE_EQ(c.comet.hard_timeout_min, 240);
  EXPECT_DOUBLE_EQ(c.comet.hard_timeout_max, 360);
  EXPECT_DOUBLE_EQ(c.comet.client_timeout, 10);
  EXPECT_EQ(c.limits.text_limit, 2048);
  EXPECT_EQ(c.limits.nick_limit, 64);
  EXPECT_EQ(c.limits.max_body_bytes, 65536);
  EXPECT_EQ(c.store.url, "");  // the file store
  ASSERT_EQ(c.rooms.size(), 1u);
  ASSERT_EQ(d.rooms.size(), 1u);
  EXPECT_EQ(c.rooms[0].slug, d.rooms[0].slug);
  EXPECT_EQ(c.rooms[0].name, d.rooms[0].name);
  EXPECT_EQ(c.rooms[0].description, d.rooms[0].description);
}

TEST(ConfigParse, StoreUrlIsAPostgresUriWithoutAPassword) {
  EXPECT_EQ(parse_ok("[store]\nurl = \"postgresql://chaton@db:5432/chaton\"\n").store.url,
            "postgresql://chaton@db:5432/chaton");
  for (const char* bad : {"mysql://db/chaton", "postgresql://chaton:secret@db/chaton",
                          "postgresql://chaton@db/chaton?password=secret"}) {
    auto r = parse_config(std::string("[store]\nurl = \"") + bad + "\"\n", "chaton.toml");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.status().message().find("url"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("secret"), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(parse_config("[store]\nhost = \"db\"\n", "chaton.toml"));
}

TEST(ConfigParse, FileWithoutRoomsGetsTheLobby) {
  Config c = finalized("[site]\nlisten = \"0.0.0.0:80\"\n");
  ASSERT_EQ(c.rooms.size(), 1u);
  EXPECT_EQ(c.rooms[0].slug, "lobby");
  EXPECT_EQ(c.rooms[0].name, "Lobby");
  EXPECT_EQ(c.rooms[0].description, "Say hello.");
  EXPECT_EQ(c.rooms[0].url_path, "/lobby/");
}

TEST(ConfigDefaults, DefaultConfigIsTheLobby) {
  Config c = default_config();
  ASSERT_EQ(c.rooms.size(), 1u);
  EXPECT_EQ(c.rooms[0].slug, "lobby");
  EXPECT_EQ(c.rooms[0].name, "Lobby");
  EXPECT_EQ(c.rooms[0].description, "Say hello.");
  EXPECT_TRUE(c.rooms[0].loose_login);
  EXPECT_EQ(c.site.listen, "127.0.0.1:8080");
  ASSERT_TRUE(finalize(c).is_ok());
  EXPECT_EQ(c.rooms[0].url_path, "/lobby/");
  EXPECT_EQ(c.rooms[0].data_dir, "./chaton-data/lobby");
}

TEST(ConfigDefaults, CometAcceptsIntegersAndFloats) {
  Config c = parse_ok("[comet]\nsoft_timeout_min = 2\nsoft_timeout_max = 2.5\n");
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_min, 2.0);
  EXPECT_DOUBLE_EQ(c.comet.soft_timeout_max, 2.5);
}

// ---- unknown keys and tables --------------------------------------------------------

struct UnknownKeyCase {
  const char* section_header;  // as written in the file
  const char* section_label;   // as named in the message
};

class ConfigUnknownKey : public ::testing::TestWithParam<UnknownKeyCase> {};

TEST_P(ConfigUnknownKey, NamesFileLineAndKey) {
  std::string text = "# a comment\n\n";
  text += GetParam().section_header;
  text += "\n";
  if (std::string_view(GetParam().section_header) == "[[room]]") text += "slug = \"a\"\n";
  text += "\n  frobnicate = 1\n";
  int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  std::string message = parse_error(text);
  EXPECT_TRUE(Contains(message, "chaton.toml:" + std::to_string(line) + ":3: "));
  EXPECT_TRUE(Contains(message, "unknown key 'frobnicate' in " + std::string(GetParam().section_label)));
}

INSTANTIATE_TEST_SUITE_P(EachTable, ConfigUnknownKey,
                         ::testing::Values(UnknownKeyCase{"[site]", "[site]"},
                                           UnknownKeyCase{"[appearance]", "[appearance]"},
                                           UnknownKeyCase{"[comet]", "[comet]"},
                                           UnknownKeyCase{"[limits]", "[limits]"},
                                           UnknownKeyCase{"[[room]]", "[[room]]"}));

TEST(ConfigUnknown, UnknownTableIsRefused) {
  std::string message = parse_error("[site]\nlisten = \"127.0.0.1:1\"\n\n[sight]\nx = 1\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:4:"));
  EXPECT_TRUE(Contains(message, "unknown table [sight]"));
}

TEST(ConfigUnknown, UnknownArrayOfTablesIsRefused) {
  std::string message = parse_error("[[rooms]]\nslug = \"a\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:1:"));
  EXPECT_TRUE(Contains(message, "unknown table [[rooms]]"));
}

TEST(ConfigUnknown, UnknownTopLevelKeyIsRefused) {
  std::string message = parse_error("verbose = true\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:1:1: unknown key 'verbose'"));
}

TEST(ConfigUnknown, RoomSubTableIsRefused) {
  std::string message = parse_error("[[room]]\nslug = \"a\"\n\n[[room.hook]]\nurl = \"http://x/\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:4:"));
  EXPECT_TRUE(Contains(message, "unknown key 'hook' in [[room]]"));  // [[room.webhook]] is known
}

TEST(ConfigUnknown, NestedTableInSectionIsRefused) {
  std::string message = parse_error("[site.extra]\nx = 1\n");
  EXPECT_TRUE(Contains(message, "unknown key 'extra' in [site]"));
}

TEST(ConfigUnknown, AllErrorsAreReportedInFileOrder) {
  std::string message = parse_error("[site]\nzzz = 1\naaa = 2\n[limits]\nmmm = 3\n");
  size_t z = message.find("'zzz'");
  size_t a = message.find("'aaa'");
  size_t m = message.find("'mmm'");
  ASSERT_NE(z, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(m, std::string::npos);
  EXPECT_LT(z, a);
  EXPECT_LT(a, m);
  EXPECT_TRUE(Contains(message, "chaton.toml:2:1: unknown key 'zzz' in [site]"));
  EXPECT_TRUE(Contains(message, "chaton.toml:3:1: unknown key 'aaa' in [site]"));
  EXPECT_TRUE(Contains(message, "chaton.toml:5:1: unknown key 'mmm' in [limits]"));
}

// ---- wrong types and values -----------------------------------------------------------

TEST(ConfigTypes, StringWhereIntegerExpected) {
  std::string message = parse_error("[appearance]\n\nimg_size_limit = \"big\"\n");
  EXPECT_TRUE(Contains(message,
                       "chaton.toml:3:18: key 'img_size_limit' in [appearance] "
                       "must be an integer"));
}

TEST(ConfigTypes, FloatWhereIntegerExpected) {
  std::string message = parse_error("[limits]\ntext_limit = 10.5\n");
  EXPECT_TRUE(Contains(message,
                       "chaton.toml:2:14: key 'text_limit' in [limits] must be an "
                       "integer"));
}

TEST(ConfigTypes, IntegerWhereStringExpected) {
  std::string message = parse_error("[site]\nlisten = 8080\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:2:10: key 'listen' in [site] must be a string"));
}

TEST(ConfigTypes, StringWhereBooleanExpected) {
  std::string message = parse_error("[[room]]\nslug = \"a\"\nloose_login = \"yes\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:3:15: key 'loose_login' in [[room]] must be true or false"));
}

TEST(ConfigTypes, StringWhereNumberExpected) {
  std::string message = parse_error("[comet]\nclient_timeout = \"10s\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:2:"));
  EXPECT_TRUE(Contains(message, "key 'client_timeout' in [comet] must be a number"));
}

TEST(ConfigTypes, ArrayOfStringsPointsAtTheBadElement) {
  std::string message = parse_error("[site]\ntls_certificates = [\n  \"a.pem\",\n  3,\n]\n");
  EXPECT_TRUE(Contains(message,
                       "chaton.toml:4:3: key 'tls_certificates' in [site] must be "
                       "an array of strings"));
  message = parse_error("[site]\ntls_certificates = \"a.pem\"\n");
  EXPECT_TRUE(Contains(message, "must be an array of strings"));
}

TEST(ConfigTypes, SectionMustBeATable) {
  std::string message = parse_error("site = \"x\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:1:1: 'site' must be a table"));
}

TEST(ConfigTypes, RoomMustBeAnArrayOfTables) {
  std::string message = parse_error("[room]\nslug = \"a\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:1:"));
  EXPECT_TRUE(Contains(message, "[[room]]"));
}

TEST(ConfigValues, NegativeAndZeroNumbersAreRefused) {
  EXPECT_TRUE(Contains(parse_error("[limits]\ntext_limit = -1\n"),
                       "chaton.toml:2:14: key 'text_limit' in [limits] must be at least 1"));
  EXPECT_TRUE(Contains(parse_error("[limits]\nnick_limit = 0\n"), "'nick_limit'"));
  EXPECT_TRUE(Contains(parse_error("[limits]\nmax_body_bytes = -5\n"), "'max_body_bytes'"));
  EXPECT_TRUE(Contains(parse_error("[appearance]\nimg_size_limit = 0\n"), "must be between 1 and"));
  EXPECT_TRUE(Contains(parse_error("[site]\nthreads = -1\n"), "key 'threads' in [site]"));
  EXPECT_TRUE(Contains(parse_error("[comet]\nsoft_timeout_min = 0\n"),
                       "key 'soft_timeout_min' in [comet] must be greater than 0"));
  EXPECT_TRUE(Contains(parse_error("[comet]\nhard_timeout_max = -2.5\n"), "'hard_timeout_max'"));
  EXPECT_TRUE(Contains(parse_error("[comet]\nclient_timeout = nan\n"), "'client_timeout'"));
  EXPECT_TRUE(Contains(parse_error("[comet]\nclient_timeout = inf\n"), "'client_timeout'"));
}

TEST(ConfigValues, BadListenIsRefusedWithItsLine) {
  std::string message = parse_error("[site]\nlisten = \"127.0.0.1:70000\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:2:10: key 'listen' in [site]"));
  EXPECT_TRUE(Contains(message, "65535"));
  EXPECT_TRUE(Contains(parse_error("[site]\nlisten = \"localhost\"\n"), "'listen'"));
}

TEST(ConfigValues, BadPublicUrlIsRefused) {
  EXPECT_TRUE(Contains(parse_error("[site]\npublic_url = \"ftp://x\"\n"),
                       "key 'public_url' in [site] must start with http:// or https://"));
  EXPECT_TRUE(Contains(parse_error("[site]\npublic_url = \"https://\"\n"), "'public_url'"));
}

// The access log goes to its file by default, or to standard error
// (journald), or nowhere (docs/CONFIG.md, "[site]").
TEST(ConfigValues, AccessLogIsFileStderrOrOff) {
  auto c = parse_config("", "chaton.toml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->site.access_log, "file");
  for (const char* to : {"file", "stderr", "off"}) {
    auto r = parse_config(std::string("[site]\naccess_log = \"") + to + "\"\n", "chaton.toml");
    ASSERT_TRUE(r) << to;
    EXPECT_EQ(r->site.access_log, to);
  }
  EXPECT_TRUE(Contains(parse_error("[site]\naccess_log = \"syslog\"\n"),
                       "key 'access_log' in [site] must be \"file\", \"stderr\" or \"off\""));
}

TEST(ConfigValues, BadSlugIsRefusedWithItsLine) {
  std::string message = parse_error("[[room]]\nslug = \"Big Room\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:2:8: key 'slug' in [[room]] must match"));
  EXPECT_TRUE(Contains(parse_error("[[room]]\nslug = \"-x\"\n"), "'slug'"));
  EXPECT_TRUE(Contains(parse_error("[[room]]\nslug = \"\"\n"), "'slug'"));
  EXPECT_TRUE(Contains(parse_error("[[room]]\nslug = \"" + std::string(65, 'a') + "\"\n"), "'slug'"));
  parse_ok("[[room]]\nslug = \"" + std::string(64, 'a') + "\"\n");
  parse_ok("[[room]]\nslug = \"0a_b-c\"\n");
}

TEST(ConfigValues, RoomWithoutSlugIsRefused) {
  std::string message = parse_error("[[room]]\nslug = \"a\"\n[[room]]\nname = \"B\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:3:"));
  EXPECT_TRUE(Contains(message, "needs a slug"));
}

TEST(ConfigValues, BadUrlPathIsRefusedWithItsLine) {
  std::string message = parse_error("[[room]]\nslug = \"a\"\nurl_path = \"/a\"\n");
  EXPECT_TRUE(Contains(message,
                       "chaton.toml:3:12: key 'url_path' in [[room]] must start "
                       "and end with '/'"));
}

// ---- syntax errors and files ------------------------------------------------------------

TEST(ConfigSyntax, SyntaxErrorNamesTheLine) {
  std::string message = parse_error("[site]\nlisten = \"127.0.0.1:8080\"\ndata_dir = \n");
  EXPECT_TRUE(Contains(message, "chaton.toml:3:"));
}

TEST(ConfigSyntax, DuplicateKeyIsASyntaxError) {
  std::string message = parse_error("[site]\nthreads = 1\nthreads = 2\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:3:"));
}

TEST(ConfigSyntax, UnterminatedStringNamesTheLine) {
  std::string message = parse_error("\n\n[[room]]\nslug = \"abc\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:4:"));
}

TEST(ConfigFile, LoadsAFileAndNamesItInMessages) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "chaton.toml";
  {
    std::ofstream out(file);
    out << "[[room]]\nslug = \"x\"\n";
  }
  auto config = load_config(file);
  ASSERT_TRUE(config.is_ok()) << config.status().message();
  EXPECT_EQ(config->rooms.at(0).slug, "x");

  {
    std::ofstream out(file);
    out << "[site]\nbogus = 1\n";
  }
  config = load_config(file);
  ASSERT_FALSE(config.is_ok());
  EXPECT_TRUE(Contains(config.status().message(), file.string() + ":2:1: unknown key 'bogus' in [site]"));
  fs::remove_all(dir);
}

TEST(ConfigFile, MissingFileIsAnIoError) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  fs::path file = dir / "nowhere.toml";
  auto config = load_config(file);
  ASSERT_FALSE(config.is_ok());
  EXPECT_EQ(config.status().code(), Errc::io);
  EXPECT_TRUE(Contains(config.status().message(), file.string()));
  EXPECT_TRUE(Contains(config.status().message(), "No such file or directory"));
  fs::remove_all(dir);
}

TEST(ConfigFile, DirectoryIsAnIoError) {
  TempDir tmp;
  const fs::path dir = tmp.path();
  auto config = load_config(dir);
  ASSERT_FALSE(config.is_ok());
  EXPECT_EQ(config.status().code(), Errc::io);
  EXPECT_TRUE(Contains(config.status().message(), dir.string()));
  fs::remove_all(dir);
}

// ---- finalize -------------------------------------------------------------------------

TEST(ConfigFinalize, DuplicateSlugIsRefused) {
  std::string message = parse_error("[[room]]\nslug = \"a\"\n\n[[room]]\nslug = \"a\"\n");
  EXPECT_TRUE(Contains(message, "chaton.toml:4:"));
  EXPECT_TRUE(Contains(message, "duplicate room slug 'a' (first at line 1)"));

  Config c;
  c.rooms = {room("a"), room("a")};
  c.rooms[1].url_path = "/other/";
  c.rooms[1].data_dir = "/elsewhere";
  EXPECT_TRUE(Contains(finalize_error(c), "rooms 'a' and 'a' have the same slug"));
}

TEST(ConfigFinalize, DuplicateUrlPathIsRefused) {
  std::string message = finalize_error(R"toml(
[[room]]
slug = "a"
url_path = "/b/"
[[room]]
slug = "b"
)toml");
  EXPECT_TRUE(Contains(message, "rooms 'a' and 'b' have the same url_path '/b/'"));
}

TEST(ConfigFinalize, DuplicateDataDirIsRefused) {
  std::string message = finalize_error(R"toml(
[site]
data_dir = "data"
[[room]]
slug = "a"
data_dir = "./data/b/"
[[room]]
slug = "b"
)toml");
  EXPECT_TRUE(Contains(message, "rooms 'a' and 'b' have the same data_dir"));

  message = finalize_error(R"toml(
[[room]]
slug = "a"
data_dir = "/srv/x/../y"
[[room]]
slug = "b"
data_dir = "/srv/y"
)toml");
  EXPECT_TRUE(Contains(message, "rooms 'a' and 'b' have the same data_dir"));
}

TEST(ConfigFinalize, UrlPathOverride) {
  Config c = finalized("[[room]]\nslug = \"lobby\"\nurl_path = \"/chaton/lobby/\"\n");
  EXPECT_EQ(c.rooms[0].url_path, "/chaton/lobby/");
}

TEST(ConfigFinalize, BadUrlPathsNameTheRoom) {
  for (const char* path : {"/a", "a/", "/", "/a/../b/", "/a//b/", "/a?/", "/a#/", "/a b/", "/a\t/"}) {
    Config c = default_config();
    c.rooms[0].url_path = path;
    std::string message = finalize_error(c);
    EXPECT_TRUE(Contains(message, "room 'lobby': url_path")) << path;
  }
}

TEST(ConfigFinalize, BadSlugIsRefused) {
  Config c = default_config();
  c.rooms[0].slug = "Lobby";
  EXPECT_TRUE(Contains(finalize_error(c), "slug must match"));
}

TEST(ConfigFinalize, NoRoomsIsRefused) {
  Config c;
  EXPECT_TRUE(Contains(finalize_error(c), "room"));
}

TEST(ConfigFinalize, DataDirIsDerivedFromSiteDataDir) {
  Config c = finalized("[site]\ndata_dir = \"/var/chaton/\"\n[[room]]\nslug = \"x\"\n");
  EXPECT_EQ(c.rooms[0].data_dir, "/var/chaton/x");

  c = finalized("[site]\ndata_dir = \"/\"\n[[room]]\nslug = \"x\"\n");
  EXPECT_EQ(c.rooms[0].data_dir, "/x");
}

TEST(ConfigFinalize, CommandLineDataDirOverrideApplies) {
  Config c = parse_ok(
      "[site]\ndata_dir = \"/from-file\"\n[[room]]\nslug = \"x\"\n[[room]]\n"
      "slug = \"y\"\ndata_dir = \"/explicit\"\n");
  c.site.data_dir = "/from-command-line";
  c.site.listen = "0.0.0.0:9999";
  ASSERT_TRUE(finalize(c).is_ok());
  EXPECT_EQ(c.rooms[0].data_dir, "/from-command-line/x");
  EXPECT_EQ(c.rooms[1].data_dir, "/explicit");
}

TEST(ConfigFinalize, EmptySiteDataDirIsRefused) {
  Config c = default_config();
  c.site.data_dir = "";
  EXPECT_TRUE(Contains(finalize_error(c), "site.data_dir"));
}

TEST(ConfigFinalize, PublicUrlTrailingSlashRemoved) {
  Config c = finalized("[site]\npublic_url = \"https://chat.example.org/\"\n");
  EXPECT_EQ(c.site.public_url, "https://chat.example.org");
  c = finalized("[site]\npublic_url = \"http://example.org/chat//\"\n");
  EXPECT_EQ(c.site.public_url, "http://example.org/chat");
  c = finalized("[site]\npublic_url = \"\"\n");
  EXPECT_EQ(c.site.public_url, "");
}

TEST(ConfigFinalize, BadPublicUrlIsRefused) {
  Config c = default_config();
  c.site.public_url = "example.org";
  EXPECT_TRUE(Contains(finalize_error(c), "site.public_url must start with http://"));
}

TEST(ConfigFinalize, BadListenIsRefused) {
  Config c = default_config();
  c.site.listen = "nohost";
  EXPECT_TRUE(Contains(finalize_error(c), "site.listen"));
}

TEST(ConfigFinalize, CometOrderIsChecked) {
  EXPECT_TRUE(Contains(finalize_error("[comet]\nsoft_timeout_min = 40\n"),
                       "comet.soft_timeout_min (40) must not be greater than "
                       "comet.soft_timeout_max (30)"));
  EXPECT_TRUE(Contains(finalize_error("[comet]\nhard_timeout_min = 400\n"), "comet.hard_timeout_min"));
  EXPECT_TRUE(Contains(finalize_error("[comet]\nsoft_timeout_max = 250\n"),
                       "comet.soft_timeout_max (250) must not be greater than "
                       "comet.hard_timeout_min (240)"));
  finalized(
      "[comet]\nsoft_timeout_min = 30\nsoft_timeout_max = 30\nhard_timeout_min = 30\n"
      "hard_timeout_max = 30\n");

  Config c = default_config();
  c.comet.client_timeout = 0;
  EXPECT_TRUE(Contains(finalize_error(c), "comet.client_timeout"));
}

TEST(ConfigFinalize, LimitsMustBePositive) {
  Config c = default_config();
  c.limits.text_limit = 0;
  EXPECT_TRUE(Contains(finalize_error(c), "limits.text_limit"));
  c = default_config();
  c.limits.max_body_bytes = -1;
  EXPECT_TRUE(Contains(finalize_error(c), "limits.max_body_bytes"));
  c = default_config();
  c.appearance.img_size_limit = -3;
  EXPECT_TRUE(Contains(finalize_error(c), "appearance.img_size_limit"));
}

TEST(ConfigFinalize, TlsCertificateAndKeyGoTogether) {
  Config c = default_config();
  c.site.tls_private_key = "server.key";
  EXPECT_TRUE(Contains(finalize_error(c), "tls"));
  c.site.tls_certificates = {"server.pem"};
  EXPECT_TRUE(finalize(c).is_ok());
}

TEST(ConfigFinalize, FrameAncestorsTakeOriginsOnly) {
  Config c = finalized(
      "[site]\nframe_ancestors = [\"https://blog.example.org\", \"https://*.example.net:8443\", "
      "\"https:\", \"'self'\", \"*\", \"http://[::1]:8080/\"]\n");
  EXPECT_EQ(c.site.frame_ancestors.size(), 6u);
  for (std::string bad : {"example.org", "https://a.org; script-src *", "https://a.org b.org", "'none'",
                          "https://", "https://a.*.org", "javascript:alert(1)x y", "https://a.org,b"}) {
    Config d = default_config();
    d.site.frame_ancestors = {bad};
    EXPECT_TRUE(Contains(finalize_error(d), "site.frame_ancestors")) << bad;
  }
}

TEST(ConfigFinalize, AllowedOriginsTakeOriginsOnly) {
  Config c = finalized(
      "[site]\nallowed_origins = [\"https://blog.example.org\", \"http://[::1]:8080/\", "
      "\"http://localhost:3000\"]\n");
  ASSERT_EQ(c.site.allowed_origins.size(), 3u);
  EXPECT_EQ(c.site.allowed_origins[1], "http://[::1]:8080");  // the trailing '/' dropped
  // Kept in the form a request's Origin is compared in.
  EXPECT_EQ(finalized("[site]\nallowed_origins = [\"HTTPS://Blog.Example.org:443\"]\n").site.allowed_origins,
            std::vector<std::string>{"https://blog.example.org"});
  for (std::string bad : {"http://[::1", "https://a:b:c", "example.org", "https://a.org/path",
                          "https://*.example.org", "https:", "https://", "null", "*", "'self'", "ftp://a.org",
                          "https://a.org b.org", "https://user@a.org", "https://a.org?x"}) {
    Config d = default_config();
    d.site.allowed_origins = {bad};
    EXPECT_TRUE(Contains(finalize_error(d), "site.allowed_origins")) << bad;
  }
}

TEST(ConfigFinalize, FinalizeTwiceIsHarmless) {
  Config c = finalized(kSampleFile);
  Config again = c;
  ASSERT_TRUE(finalize(again).is_ok());
  EXPECT_EQ(again.rooms[0].url_path, c.rooms[0].url_path);
  EXPECT_EQ(again.rooms[0].data_dir, c.rooms[0].data_dir);
}

// ---- parse_host_port ----------------------------------------------------------------------

TEST(HostPort, ParsesNamesAndAddresses) {
  auto hp = parse_host_port("127.0.0.1:8080");
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 8080);

  hp = parse_host_port("localhost:0");
  ASSERT_TRUE(hp.is_ok());
  EXPECT_EQ(hp->host, "localhost");
  EXPECT_EQ(hp->port, 0);

  hp = parse_host_port("[::1]:65535");
  ASSERT_TRUE(hp.is_ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 65535);

  hp = parse_host_port("[::]:80");
  ASSERT_TRUE(hp.is_ok());
  EXPECT_EQ(hp->host, "::");
}

TEST(HostPort, RefusesBadInput) {
  for (const char* bad : {"", "localhost", "localhost:", ":8080", "host:65536", "host:-1", "host:+80",
                          "host:80a", "host:123456", "::1:8080", "[::1]", "[::1]8080", "[::1:8080", "[]:80",
                          "a b:80", "[::1]:", "host:99999999999999999999"}) {
    auto hp = parse_host_port(bad);
    EXPECT_FALSE(hp.is_ok()) << bad;
    if (!hp.is_ok()) {
      EXPECT_EQ(hp.status().code(), Errc::invalid);
      EXPECT_FALSE(hp.status().message().empty());
    }
  }
}

TEST(HostPort, MessageExplainsBracketsForIpv6) {
  auto hp = parse_host_port("::1:8080");
  ASSERT_FALSE(hp.is_ok());
  EXPECT_TRUE(Contains(hp.status().message(), "brackets"));
}

// ---- outgoing webhooks: [[room.webhook]] url = "..." (docs/WEBHOOKS.md)

TEST(ConfigWebhooks, ReadsEveryWebhookOfEachRoom) {
  Config c = parse_ok(R"toml(
[[room]]
slug = "lobby"
[[room.webhook]]
url = "http://127.0.0.1:9000/hook"
[[room.webhook]]
url = "https://bridge.example/chaton?token=abc"

[[room]]
slug = "quiet"
)toml");
  ASSERT_EQ(c.rooms.size(), 2u);
  EXPECT_EQ(c.rooms[0].webhooks, (std::vector<std::string>{"http://127.0.0.1:9000/hook",
                                                           "https://bridge.example/chaton?token=abc"}));
  EXPECT_TRUE(c.rooms[1].webhooks.empty());
  EXPECT_TRUE(default_config().rooms[0].webhooks.empty());
}

TEST(ConfigWebhooks, RefusesUnknownKeysAndMissingUrls) {
  std::string unknown = parse_error(R"toml([[room]]
slug = "lobby"
[[room.webhook]]
url = "http://h/x"
secret = "s"
)toml");
  EXPECT_TRUE(Contains(unknown, "chaton.toml:5:"));
  EXPECT_TRUE(Contains(unknown, "unknown key 'secret' in [[room.webhook]]"));

  std::string missing = parse_error(R"toml([[room]]
slug = "lobby"
[[room.webhook]]
uri = "http://h/x"
)toml");
  EXPECT_TRUE(Contains(missing, "unknown key 'uri' in [[room.webhook]]"));
  EXPECT_TRUE(Contains(missing, "a [[room.webhook]] needs a url"));
}

TEST(ConfigWebhooks, RefusesUrlsThatAreNotHttp) {
  for (const char* bad : {"ftp://h/x", "h/x", "http://", "https:///path", "http://h/a b", ""}) {
    std::string text = "[[room]]\nslug = \"lobby\"\n[[room.webhook]]\nurl = \"" + std::string(bad) + "\"\n";
    std::string e = parse_error(text);
    EXPECT_TRUE(Contains(e, "chaton.toml:4:")) << bad;
    EXPECT_TRUE(Contains(e, "key 'url' in [[room.webhook]] must")) << bad;
  }
  std::string wrong_type = parse_error("[[room]]\nslug = \"lobby\"\n[[room.webhook]]\nurl = 8080\n");
  EXPECT_TRUE(Contains(wrong_type, "key 'url' in [[room.webhook]] must be a string"));
}

TEST(ConfigWebhooks, RefusesAWebhookThatIsNotATableArray) {
  std::string e = parse_error("[[room]]\nslug = \"lobby\"\nwebhook = \"http://h/x\"\n");
  EXPECT_TRUE(Contains(e, "chaton.toml:3:"));
  EXPECT_TRUE(Contains(e, "key 'webhook' in [[room]] must be an array of tables"));
}

TEST(ConfigMonitoring, MetricsAllowDefaultsToLoopbackAndIsRead) {
  EXPECT_EQ(default_config().site.metrics_allow, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  Config c = finalized("[site]\nmetrics_allow = [\"10.0.0.0/8\"]\n");
  EXPECT_EQ(c.site.metrics_allow, (std::vector<std::string>{"10.0.0.0/8"}));
}

TEST(ConfigMonitoring, ARoomCannotTakeTheMonitoringUrls) {
  // A slug's default url_path, or one set: either would hide /metrics or /healthz.
  for (const char* slug : {"metrics", "healthz"}) {
    Config c = parse_ok(std::string("[[room]]\nslug = \"") + slug + "\"\n");
    EXPECT_TRUE(Contains(finalize_error(c), "the site's monitoring URLs")) << slug;
  }
  EXPECT_TRUE(Contains(parse_error("[[room]]\nslug = \"x\"\nurl_path = \"/healthz/\"\n"),
                       "url_path' in [[room]] must not be '/healthz/' (the site's monitoring URLs"));
  // Below them is fine.
  finalized("[[room]]\nslug = \"x\"\nurl_path = \"/metrics/x/\"\n");
}

}  // namespace
}  // namespace chaton
