// Trigram filters for the search index (search_index.h; docs/STORAGE.md,
// "search.idx").
//
// A TrigramFilter is the set of byte trigrams (every 3 consecutive bytes)
// of the case-folded texts and nicknames of a block of posts, kept as a
// fixed-size bitmap: each trigram sets one bit, chosen by a hash. It is a
// Bloom filter with one hash function, so it can answer "maybe" for a
// trigram that is not there, but never "no" for one that is.
//
// A post matches a query when every term is a substring of its folded text
// or nickname (search.h), so every trigram of every term is then a trigram
// of that text or nickname, and a block holding a matching post has every
// query trigram in its filter. A block whose filter lacks one holds no
// match. Terms shorter than 3 bytes have no trigram and do not filter.
//
// Pure values and functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "search/search.h"

namespace chaton::search {

inline constexpr size_t kFilterBits = 4096;  // bits in one block's filter
inline constexpr size_t kFilterBytes = kFilterBits / 8;

// The bit a trigram sets (0 .. kFilterBits-1).
uint16_t trigram_slot(unsigned char a, unsigned char b, unsigned char c);

class TrigramFilter {
 public:
  static constexpr size_t kWords = kFilterBits / 64;

  // Adds every trigram of `folded` (already case-folded).
  void add(std::string_view folded);
  void set(uint16_t slot) { words_[slot >> 6] |= uint64_t{1} << (slot & 63); }
  bool has(uint16_t slot) const { return (words_[slot >> 6] >> (slot & 63)) & 1; }
  // True when every slot is set (always for no slots).
  bool has_all(std::span<const uint16_t> slots) const;
  // How many bits are set (for the index's statistics).
  size_t count() const;

  std::array<uint64_t, kWords>& words() { return words_; }
  const std::array<uint64_t, kWords>& words() const { return words_; }
  bool operator==(const TrigramFilter&) const = default;

 private:
  std::array<uint64_t, kWords> words_{};
};

// The slots of every trigram of every term of `query` of 3 bytes or more,
// sorted and distinct. Empty when no term has a trigram: the query then
// filters nothing.
std::vector<uint16_t> query_slots(const Query& query);

}  // namespace chaton::search
