// The out-of-line part of Result<T>: see result.h.
#include "util/result.h"

#include <cstdlib>

#include "util/log.h"

namespace chaton::detail {

void value_of_error(const Status& status) {
  log_error("broken invariant: Result::value() called on an error (" +
            (status.message().empty() ? std::string("no message") : status.message()) + ")");
  std::abort();
}

}  // namespace chaton::detail
