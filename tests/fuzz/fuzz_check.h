// What the fuzz targets share: a check that stops the run when a property of
// the code under test does not hold. libFuzzer takes the abort as a failure
// and keeps the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace chaton::fuzz {

inline void require(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

// The fuzzer's input as text; it is not NUL-terminated.
inline std::string_view as_text(const unsigned char* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace chaton::fuzz
