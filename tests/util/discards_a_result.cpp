// Compiled by CTest, not run: it drops a Status and a Result. It compiles
// as it is, and must not compile with -Werror=unused-result, which proves
// that both types are [[nodiscard]] (util/result.h).
#include "util/result.h"

namespace chaton {

Status save() { return Status(Errc::io, "disk"); }
Result<int> load() { return 1; }

void caller() {
  save();
  load();
}

}  // namespace chaton
