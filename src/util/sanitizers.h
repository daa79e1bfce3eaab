// Whether this build runs under AddressSanitizer, however the compiler says
// so (GCC: __SANITIZE_ADDRESS__; clang: __has_feature):
// CHATON_ADDRESS_SANITIZER is 1 or 0. Code that pools memory of its own
// turns pooling off under it, so that the sanitizer still sees every block
// freed (util/block_cache.h); tests that replace operator new count nothing
// under it.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define CHATON_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHATON_ADDRESS_SANITIZER 1
#endif
#endif
#if !defined(CHATON_ADDRESS_SANITIZER)
#define CHATON_ADDRESS_SANITIZER 0
#endif
