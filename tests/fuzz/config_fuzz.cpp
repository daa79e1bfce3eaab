// Fuzzes configuration loading (config/config.h): parse_config(), the
// parse load_config() runs on a file's text, then finalize() on what it
// accepts, and parse_host_port(). None may crash or let an exception out
// (toml++ throws on bad TOML; the config module must turn that into a
// Status). A refusal must say why; an accepted configuration has rooms.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz_check.h"

using chaton::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);
  auto config = chaton::parse_config(input, "fuzz.toml");
  if (!config) {
    require(!config.status().message().empty(), "a refused configuration has no reason");
  } else {
    require(!config->rooms.empty(), "an accepted configuration has no room");
    chaton::Status st = chaton::finalize(*config);
    if (st) {
      for (const auto& room : config->rooms) {
        require(room.url_path.starts_with('/') && room.url_path.ends_with('/'),
                "a finalized url_path does not start and end with '/'");
        require(!room.data_dir.empty(), "a finalized room has no data_dir");
      }
    } else {
      require(!st.message().empty(), "a refused configuration has no reason");
    }
  }

  auto hp = chaton::parse_host_port(input);
  if (!hp) require(!hp.status().message().empty(), "a refused HOST:PORT has no reason");
  return 0;
}
