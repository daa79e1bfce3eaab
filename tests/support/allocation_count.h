// The count of this thread's allocations through operator new, and of its
// frees through operator delete, for a test file of a program whose
// operators count them (support/counting_new.h, included in one other file
// of that program). CHATON_COUNTS_ALLOCATIONS says whether they are
// counted (not under a sanitizer, which replaces operator new); a test that
// reads the count skips itself when they are not.
#pragma once

#include <cstddef>

#include "util/sanitizers.h"

namespace chaton::testing {
inline thread_local size_t allocations = 0;  // this thread's, so far
inline thread_local size_t frees = 0;        // this thread's, so far
// The size the last sized delete on this thread gave (0 after an unsized one).
inline thread_local size_t last_freed_size = 0;
}  // namespace chaton::testing

#if !CHATON_ADDRESS_SANITIZER
#define CHATON_COUNTS_ALLOCATIONS 1
#endif
