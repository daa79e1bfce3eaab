// Reading an original Chaton room configuration and writing the equivalent
// TOML for this server (docs/CONFIG.md), for `chaton import-conf`
// (docs/MIGRATING.md, "Step 1: convert the configuration").
//
// The original format is a sequence of Scheme forms: (key "value") pairs and
// (include "file") forms, read by the rules of docs/STORAGE.md
// "S-expressions" (comments, string escapes, integers, symbols, lists);
// values may also be integers, symbols (#t, #f) or lists (tls-settings is a
// keyword list), and 'x is read as x. An include names a file relative to the including file; an
// include cycle is refused. When a key is given twice the later form wins,
// as in the original build-site, so a room file can override its site file.
//
// Pure functions over files; errors as Status values naming the file and
// line. Thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace chaton {

// One value of an original config: a string, a number (an integer), a
// symbol (#t, #f, :keyword, 1.5, ...) or a list of values.
struct ConfValue {
  enum class Kind { string, number, symbol, list };
  Kind kind = Kind::string;
  std::string text;              // string, number or symbol text
  std::vector<ConfValue> items;  // list
};

// One (key value) form and where it was found.
struct ConfEntry {
  std::string key;
  ConfValue value;
  std::string file;
  size_t line = 0;
};

struct OriginalConf {
  std::vector<ConfEntry> entries;  // in reading order, includes expanded
  std::vector<std::string> files;  // the file and every file it included

  // The last form for `key`, or nullptr.
  const ConfEntry* find(std::string_view key) const;
};

// Parses `text` (read from `file`, which names it in messages and anchors
// relative includes). Includes are read from disk.
Result<OriginalConf> parse_original_conf(std::string_view text, const std::filesystem::path& file);
Result<OriginalConf> read_original_conf(const std::filesystem::path& file);

// The TOML for one room: a [site] and an [appearance] section from the site
// values, then the [[room]] section; parameters that have no key any more
// become comments that say so. The output is accepted by load_config().
Result<std::string> original_conf_to_toml(const OriginalConf& conf);

// read_original_conf + original_conf_to_toml.
Result<std::string> import_original_conf(const std::filesystem::path& file);

}  // namespace chaton
