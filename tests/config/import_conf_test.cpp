// Tests for `chaton import-conf`: reading an original room config with its
// includes (as the original sample.conf, conf/site.conf and
// conf/appearance.conf are laid out), writing TOML that load_config accepts
// with the same values, comments for parameters that are not needed any
// more, and clear errors (missing file, syntax error with its line, include
// cycles, not a room config).
#include "config/import_conf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "support/temp_dir.h"

namespace chaton {
namespace {

namespace fs = std::filesystem;

// A room config like the original sample.conf.
constexpr std::string_view kRoomConf = R"scm(;; -*- mode:scheme; coding:utf-8 -*-
;; Load site-specific configuration.
(include "conf/site.conf")
(include "conf/appearance.conf")

;; The name of the room
(room-name "Gauche")
(room-description "A chat room for discussion on Gauche, and Scheme
 programming language in general.  Both <b>English</b> and \"Japanese\" chatters
 are welcome.")
(comet-port "9997")
(url-path   "/chaton/gauche/")
(server-htdocs-dir "/home/shiro/practical-scheme.net/chaton/gauche/")
(server-data-dir   "/home/shiro/data/chaton/gauche/")
(icon-url "http://practical-scheme.net/images/chaton-room-gauche.gif")
(loose-login "#f")
(htpasswd-path "/home/shiro/data/chaton/gauche/htpasswd") ; private
(show-stack-trace-on-error "#t")
)scm";

constexpr std::string_view kSiteConf = R"scm(;; Site-specific configuration.
(gosh "/home/shiro/bin/gosh")
(httpd-url "http://example.net/")
(comet-url "http://example.net")
(server-bin-dir "/home/shiro/bin/")
(prototype-url "http://example.net/js/prototype.js")
(cookie-path "/chaton/")
(site-search-url "http://example.net/chaton/")
)scm";

constexpr std::string_view kAppearanceConf = R"scm((img-size-limit  "300")
(embed-youtube-width  "425")
(embed-youtube-height 344)
)scm";

class ImportConfTest : public ::testing::Test {
 protected:
  ImportConfTest() : dir_(tmp_.path()) { fs::create_directories(dir_ / "conf"); }

  fs::path write(const std::string& name, std::string_view text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  fs::path write_sample() {
    write("conf/site.conf", kSiteConf);
    write("conf/appearance.conf", kAppearanceConf);
    return write("gauche.conf", kRoomConf);
  }

  std::string import_ok(const fs::path& file) {
    auto toml = import_original_conf(file);
    EXPECT_TRUE(toml.is_ok()) << toml.status().message();
    return toml.is_ok() ? *toml : std::string();
  }

  Config load_ok(const std::string& toml) {
    auto config = parse_config(toml, "imported.toml");
    EXPECT_TRUE(config.is_ok()) << config.status().message() << "\n" << toml;
    if (!config.is_ok()) return Config{};
    Status st = finalize(*config);
    EXPECT_TRUE(st.is_ok()) << st.message();
    return *config;
  }

  testing::TempDir tmp_{"import-conf-"};
  fs::path dir_;
};

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

TEST_F(ImportConfTest, ReadsTheFormsAndTheIncludes) {
  auto conf = read_original_conf(write_sample());
  ASSERT_TRUE(conf.is_ok()) << conf.status().message();
  ASSERT_EQ(conf->files.size(), 3u);
  EXPECT_EQ(conf->files[1], (dir_ / "conf/site.conf").string());
  ASSERT_NE(conf->find("room-name"), nullptr);
  EXPECT_EQ(conf->find("room-name")->value.text, "Gauche");
  EXPECT_EQ(conf->find("room-name")->line, 7u);
  EXPECT_EQ(conf->find("httpd-url")->file, (dir_ / "conf/site.conf").string());
  EXPECT_EQ(conf->find("embed-youtube-height")->value.kind, ConfValue::Kind::number);
  EXPECT_EQ(conf->find("room-description")->value.text,
            "A chat room for discussion on Gauche, and Scheme\n programming language in general.  Both "
            "<b>English</b> and \"Japanese\" chatters\n are welcome.");
}

TEST_F(ImportConfTest, WritesTomlThatLoadsWithTheSameValues) {
  std::string toml = import_ok(write_sample());
  Config c = load_ok(toml);
  EXPECT_EQ(c.site.public_url, "http://example.net");
  EXPECT_EQ(c.site.cookie_path, "/chaton/");
  EXPECT_EQ(c.appearance.img_size_limit, 300);
  EXPECT_EQ(c.appearance.embed_youtube_width, 425);
  EXPECT_EQ(c.appearance.embed_youtube_height, 344);
  ASSERT_EQ(c.rooms.size(), 1u);
  const RoomConfig& r = c.rooms[0];
  EXPECT_EQ(r.slug, "gauche");
  EXPECT_EQ(r.name, "Gauche");
  EXPECT_EQ(r.description,
            "A chat room for discussion on Gauche, and Scheme\n programming language in general.  Both "
            "<b>English</b> and \"Japanese\" chatters\n are welcome.");
  EXPECT_EQ(r.icon_url, "http://practical-scheme.net/images/chaton-room-gauche.gif");
  EXPECT_EQ(r.url_path, "/chaton/gauche/");
  EXPECT_EQ(r.data_dir, "/home/shiro/data/chaton/gauche");
  EXPECT_FALSE(r.loose_login);
  EXPECT_EQ(r.htpasswd, "/home/shiro/data/chaton/gauche/htpasswd");
}

TEST_F(ImportConfTest, ParametersWithoutAKeyBecomeComments) {
  std::string toml = import_ok(write_sample());
  EXPECT_TRUE(Contains(toml, "# comet-port \"9997\": not needed any more"));
  EXPECT_TRUE(Contains(
      toml, "# server-htdocs-dir \"/home/shiro/practical-scheme.net/chaton/gauche/\": not needed any more"));
  EXPECT_TRUE(Contains(toml, "# comet-url \"http://example.net\": not needed any more"));
  EXPECT_TRUE(Contains(toml, "# server-bin-dir \"/home/shiro/bin/\": not needed any more"));
  EXPECT_TRUE(Contains(toml, "# show-stack-trace-on-error \"#t\": not needed any more"));
  EXPECT_TRUE(Contains(toml, "# data_dir = "));
  EXPECT_TRUE(Contains(toml, "[site]"));
  EXPECT_TRUE(Contains(toml, "[[room]]"));
  EXPECT_EQ(toml.find("listen ="), toml.find("# listen =") + 2);  // only as a comment
}

TEST_F(ImportConfTest, LaterFormsOverrideEarlierOnesAndTlsTurnsHttps) {
  write("conf/site.conf", "(httpd-url \"http://chat.example.org\")\n(cookie-path \"/\")\n");
  fs::path room = write("room.conf", R"scm((include "conf/site.conf")
(cookie-path "/rooms/")   ; the room's own value wins
(room-name "Big Room!")
(url-path "/")
(tls-settings
 (:tls-certificates ("/etc/tls/server.pem" "/etc/tls/chain.pem")
  :tls-private-key "/etc/tls/server.key"
  :tls-private-key-password #f))
)scm");
  std::string toml = import_ok(room);
  Config c = load_ok(toml);
  EXPECT_EQ(c.site.cookie_path, "/rooms/");
  EXPECT_EQ(c.site.public_url, "https://chat.example.org");
  EXPECT_EQ(c.site.tls_certificates, (std::vector<std::string>{"/etc/tls/server.pem", "/etc/tls/chain.pem"}));
  EXPECT_EQ(c.site.tls_private_key, "/etc/tls/server.key");
  EXPECT_EQ(c.site.tls_private_key_password, "");
  EXPECT_EQ(c.rooms[0].slug, "bigroom");  // from room-name: url-path is "/"
  EXPECT_EQ(c.rooms[0].url_path, "/bigroom/");
  EXPECT_TRUE(c.rooms[0].loose_login);  // the default
}

TEST_F(ImportConfTest, ReadsSchemeStringEscapesAndComments) {
  auto conf = parse_original_conf(R"scm(#| a block
comment |# (room-name "tab\there \x41; \u00e9 back\\slash")
#;(room-name "ignored") (url-path "/a/")
)scm",
                                  dir_ / "inline.conf");
  ASSERT_TRUE(conf.is_ok()) << conf.status().message();
  EXPECT_EQ(conf->find("room-name")->value.text, "tab\there A \xC3\xA9 back\\slash");
  EXPECT_EQ(conf->find("room-name")->line, 2u);
  EXPECT_EQ(conf->entries.size(), 2u);
}

// The strings are read by the rules of docs/STORAGE.md "Strings as read",
// as everywhere: \v is a 'v' (Gauche has no \v), \xHH without ';' is two
// hex digits, \UHHHHHHHH is a code point.
TEST_F(ImportConfTest, ReadsStringsByTheRulesOfStorageMd) {
  auto conf = parse_original_conf(R"scm((room-name "\v\x41BC\U0001F600"))scm", dir_ / "escapes.conf");
  ASSERT_TRUE(conf.is_ok()) << conf.status().message();
  EXPECT_EQ(conf->find("room-name")->value.text, "vABC\xF0\x9F\x98\x80");
  EXPECT_FALSE(parse_original_conf(R"scm((room-name "a\x4"))scm", dir_ / "short.conf").is_ok());
  EXPECT_FALSE(parse_original_conf(R"scm((room-name "a\ b"))scm", dir_ / "space.conf").is_ok());
}

TEST_F(ImportConfTest, AMissingFileIsAClearError) {
  auto r = import_original_conf(dir_ / "nope.conf");
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(Contains(r.status().message(), "cannot open " + (dir_ / "nope.conf").string()));
  EXPECT_TRUE(Contains(r.status().message(), "No such file"));
}

TEST_F(ImportConfTest, AMissingIncludeNamesTheIncludingLine) {
  fs::path room = write("room.conf", "(room-name \"x\")\n(include \"conf/none.conf\")\n");
  auto r = import_original_conf(room);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(Contains(r.status().message(), room.string() + ":2: cannot open"));
}

TEST_F(ImportConfTest, SyntaxErrorsNameTheFileAndLine) {
  struct Case {
    std::string_view text;
    std::string where;
    std::string what;
  } cases[] = {
      {"(room-name \"x\")\n(url-path \"/a/\"\n", ":2:", "unclosed"},
      {"(room-name \"x)\n", ":1:", "unterminated string"},
      {"(room-name)\n", ":1:", "expected (key \"value\")"},
      {"(room-name \"a\" \"b\")\n", ":1:", "expected (key \"value\")"},
      {"room-name\n", ":1:", "expected (key \"value\")"},
      {"\n\n)\n", ":3:", "unexpected ')'"},
      {"(include 5)\n", ":1:", "expected (include \"file\")"},
  };
  for (const Case& c : cases) {
    fs::path f = write("bad.conf", c.text);
    auto r = import_original_conf(f);
    ASSERT_FALSE(r.is_ok()) << c.text;
    EXPECT_TRUE(Contains(r.status().message(), f.string() + c.where)) << c.text;
    EXPECT_TRUE(Contains(r.status().message(), c.what)) << c.text;
  }
}

TEST_F(ImportConfTest, RefusesIncludeCycles) {
  write("a.conf", "(room-name \"a\")\n(include \"b.conf\")\n");
  write("b.conf", "(include \"sub/../a.conf\")\n");
  fs::create_directories(dir_ / "sub");
  auto r = import_original_conf(dir_ / "a.conf");
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(Contains(r.status().message(), "include cycle"));
  EXPECT_TRUE(Contains(r.status().message(), (dir_ / "b.conf").string() + ":1:"));
}

TEST_F(ImportConfTest, RefusesAFileThatIsNotARoom) {
  fs::path site = write("conf/site.conf", kSiteConf);
  auto r = import_original_conf(site);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(Contains(r.status().message(), "not a room configuration"));
}

TEST_F(ImportConfTest, UnknownParametersAndBadNumbersAreCommentedOut) {
  fs::path room = write("room.conf", R"scm((room-name "R")
(img-size-limit "huge")
(favourite-colour "blue")
(httpd-url "example.net")
)scm");
  std::string toml = import_ok(room);
  EXPECT_TRUE(Contains(toml, "# img-size-limit \"huge\": not a number"));
  EXPECT_TRUE(Contains(toml, "# favourite-colour \"blue\" (" + room.string() + ":3): unknown parameter"));
  EXPECT_TRUE(Contains(toml, "set public_url by hand"));
  Config c = load_ok(toml);
  EXPECT_EQ(c.appearance.img_size_limit, 400);
  EXPECT_EQ(c.rooms[0].slug, "r");
  EXPECT_EQ(c.site.public_url, "");
}

TEST_F(ImportConfTest, DeepNestingIsRefusedInsteadOfOverflowingTheStack) {
  constexpr size_t kDepth = 100000;
  std::string text = "(room-name \"R\")\n(deep " + std::string(kDepth, '(') + ")\n";
  auto conf = parse_original_conf(text, dir_ / "deep.conf");
  ASSERT_FALSE(conf.is_ok());
  EXPECT_TRUE(Contains(conf.status().message(), "deep.conf:2: nested too deeply"));
  std::string quotes = "(room-name " + std::string(kDepth, '\'') + "\"R\")\n";
  EXPECT_FALSE(parse_original_conf(quotes, dir_ / "quotes.conf").is_ok());
  std::string comments = "(room-name \"R\")\n";
  for (size_t i = 0; i < kDepth; ++i) comments += "#;";
  comments += "(a \"b\")\n";
  EXPECT_FALSE(parse_original_conf(comments, dir_ / "comments.conf").is_ok());
}

TEST_F(ImportConfTest, ControlCharactersQuotedInCommentsKeepTheTomlReadable) {
  // Symbols may hold bytes TOML refuses even in comments; they show as '?'.
  auto conf = parse_original_conf(std::string("(room-name \"R\")\n(odd\x01key \"v\")\n(loose-login #t\x7f)\n"
                                              "(gosh bad\xff)\n"),
                                  dir_ / "odd.conf");
  ASSERT_TRUE(conf.is_ok()) << conf.status().message();
  auto toml = original_conf_to_toml(*conf);
  ASSERT_TRUE(toml.is_ok()) << toml.status().message();
  EXPECT_TRUE(Contains(*toml, "# odd?key \"v\""));
  EXPECT_TRUE(Contains(*toml, "# gosh bad?: not needed any more"));
  load_ok(*toml);
}

TEST_F(ImportConfTest, ARepeatedTlsSettingKeepsTheFirstAndStaysValidToml) {
  auto conf = parse_original_conf(
      "(room-name \"R\")\n(tls-settings (:tls-private-key \"/a.key\" :tls-certificates (\"/c.pem\")"
      " :tls-private-key \"/b.key\"))\n",
      dir_ / "tls.conf");
  ASSERT_TRUE(conf.is_ok()) << conf.status().message();
  auto toml = original_conf_to_toml(*conf);
  ASSERT_TRUE(toml.is_ok()) << toml.status().message();
  EXPECT_TRUE(Contains(*toml, "tls_private_key = \"/a.key\""));
  EXPECT_TRUE(Contains(*toml, "# tls-settings :tls-private-key \"/b.key\": given again, ignored"));
  Config c = load_ok(*toml);
  EXPECT_EQ(c.site.tls_private_key, "/a.key");
}

}  // namespace
}  // namespace chaton
