// Fuzzes the reader of the original `(key "value")` room configuration and
// its conversion to TOML (config/import_conf.h, `chaton import-conf`).
// Reading must never crash or overflow the stack, and a refusal must name the
// file. The TOML written for what it reads must be well-formed TOML (toml++
// reads it) with only the keys and types parse_config() knows. A value the
// original allowed and this server does not (say a url-path with "//") may
// still be refused by parse_config(), naming the line, for the operator to
// fix by hand; that is not a failure here.
//
// Inputs with an (include "file") form are skipped: an include reads the
// named file from disk, and the file system is not what is under test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <toml++/toml.h>

#include "config/config.h"
#include "config/import_conf.h"
#include "fuzz_check.h"

using chaton::fuzz::require;

namespace {

constexpr std::string_view kFile = "/nonexistent/chaton-fuzz/room.conf";
constexpr int kRejectInput = -1;  // libFuzzer: do not keep this input

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);
  if (input.find("include") != std::string_view::npos) return kRejectInput;

  auto conf = chaton::parse_original_conf(input, std::string(kFile));
  if (!conf) {
    require(conf.status().message().starts_with(kFile), "a refusal does not name the file");
    return 0;
  }
  auto toml = chaton::original_conf_to_toml(*conf);
  if (!toml) {
    require(!toml.status().message().empty(), "a refused conversion has no reason");
    return 0;
  }
  try {
    static_cast<void>(toml::parse(std::string_view(*toml), std::string_view("imported.toml")));
  } catch (const toml::parse_error& e) {
    std::fprintf(stderr, "%s\n--- not TOML: %s\n", toml->c_str(), std::string(e.description()).c_str());
    require(false, "import-conf wrote text that is not TOML");
  }
  auto config = chaton::parse_config(*toml, "imported.toml");
  if (!config) {
    const std::string& why = config.status().message();
    bool shape = why.find("unknown") != std::string::npos || why.find("must be a ") != std::string::npos ||
                 why.find("must be an ") != std::string::npos ||
                 why.find("must be true or false") != std::string::npos;
    if (shape) std::fprintf(stderr, "%s\n--- refused: %s\n", toml->c_str(), why.c_str());
    require(!shape, "import-conf wrote a key parse_config does not know, or a value of the wrong type");
  }
  return 0;
}
