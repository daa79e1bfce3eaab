// `chaton import-conf OLD.conf`: reads an original Chaton room config (with
// its includes) and prints the equivalent TOML on stdout, to be saved as
// (or added to) chaton.toml. Touches no file. See docs/MIGRATING.md.
#include "cli/commands.h"
#include "config/import_conf.h"

namespace chaton::cli {

int run_import(const ImportOptions& options, std::ostream& out, std::ostream& err) {
  auto toml = import_original_conf(options.file);
  if (!toml) {
    err << "chaton import-conf: " << toml.status().message() << "\n";
    return kExitBadInput;
  }
  out << *toml;
  return kExitOk;
}

}  // namespace chaton::cli
