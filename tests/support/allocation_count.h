// The count of this thread's allocations through operator new, for a test
// file of a program whose operator new counts them (support/counting_new.h,
// included in one other file of that program). CHATON_COUNTS_ALLOCATIONS
// says whether they are counted (not under a sanitizer, which replaces
// operator new); a test that reads the count skips itself when they are not.
#pragma once

#include <cstddef>

namespace chaton::testing {
inline thread_local size_t allocations = 0;  // this thread's, so far
}  // namespace chaton::testing

#if !defined(__SANITIZE_ADDRESS__)
#define CHATON_COUNTS_ALLOCATIONS 1
#endif
