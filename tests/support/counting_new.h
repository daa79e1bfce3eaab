// Counts this thread's allocations through operator new and its frees
// through operator delete, replaced for the whole test program that
// includes this header. Include it in one file of a program only (it
// defines the operators). The replacements allocate with malloc and free
// with free, as libstdc++'s own do; the array and nothrow forms come here
// through libstdc++'s defaults, the aligned forms keep theirs (and are not
// counted). Not under a sanitizer, which replaces them all:
// CHATON_COUNTS_ALLOCATIONS says whether allocations are counted, and a
// test that reads the count skips itself when they are not. Other files of
// the program read the count through support/allocation_count.h.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include "support/allocation_count.h"

#if defined(CHATON_COUNTS_ALLOCATIONS)
void* operator new(std::size_t n) {
  ++chaton::testing::allocations;
  for (;;) {
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::new_handler h = std::get_new_handler();
    if (!h) throw std::bad_alloc();
    h();
  }
}

void operator delete(void* p) noexcept {
  if (!p) return;
  ++chaton::testing::frees;
  chaton::testing::last_freed_size = 0;
  std::free(p);
}

void operator delete(void* p, std::size_t n) noexcept {
  if (!p) return;
  ++chaton::testing::frees;
  chaton::testing::last_freed_size = n;
  std::free(p);
}
#endif
