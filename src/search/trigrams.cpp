// Trigram filters: see trigrams.h.
#include "search/trigrams.h"

#include <algorithm>
#include <bit>

namespace chaton::search {

static_assert(kFilterBits == 4096, "trigram_slot keeps 12 bits");

uint16_t trigram_slot(unsigned char a, unsigned char b, unsigned char c) {
  uint32_t v = uint32_t{a} | (uint32_t{b} << 8) | (uint32_t{c} << 16);
  // Fibonacci hashing: the top 12 bits of the product spread the trigrams.
  return static_cast<uint16_t>((v * 0x9E3779B1u) >> 20);
}

void TrigramFilter::add(std::string_view folded) {
  for (size_t i = 0; i + 3 <= folded.size(); ++i)
    set(trigram_slot(static_cast<unsigned char>(folded[i]), static_cast<unsigned char>(folded[i + 1]),
                     static_cast<unsigned char>(folded[i + 2])));
}

bool TrigramFilter::has_all(std::span<const uint16_t> slots) const {
  for (uint16_t s : slots)
    if (!has(s)) return false;
  return true;
}

size_t TrigramFilter::count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

std::vector<uint16_t> query_slots(const Query& query) {
  std::vector<uint16_t> slots;
  for (const std::string& term : query.terms)
    for (size_t i = 0; i + 3 <= term.size(); ++i)
      slots.push_back(trigram_slot(static_cast<unsigned char>(term[i]),
                                   static_cast<unsigned char>(term[i + 1]),
                                   static_cast<unsigned char>(term[i + 2])));
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

}  // namespace chaton::search
