// Small text helpers shared by every module: UTF-8 repair, trimming,
// HTML escaping and number formatting. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chaton {

// Replaces every invalid UTF-8 sequence (bad lead byte, truncated or overlong
// sequence, surrogate, code point over U+10FFFF) with '?'.
std::string repair_utf8(std::string_view s);

// True when `s` is valid UTF-8 by the same rule: repair_utf8 would leave it
// unchanged.
bool is_valid_utf8(std::string_view s);

// Appends a code point as UTF-8; a '?' for anything that is not a character
// (a surrogate, or beyond U+10FFFF).
void append_utf8(std::string& out, uint32_t code_point);

// Number of code points in valid UTF-8.
size_t utf8_length(std::string_view s);

// Whitespace trimmed at both ends (ASCII space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view s);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view s);
void append_html_escaped(std::string& out, std::string_view s);

// Lowercase hexadecimal, at least min_digits digits.
std::string to_hex(uint64_t v, int min_digits = 1);

// Strict decimal parse of the whole string (optional leading '-'); nullopt on
// anything else, including overflow.
std::optional<int64_t> parse_int(std::string_view s);

bool starts_with_ci(std::string_view s, std::string_view prefix);

// FNV-1a, 64 bits: a stable, non-cryptographic hash of bytes; `h` carries on
// from the hash of what came before `s`. Its offset basis is
// 1469598103934665603, not the published 14695981039346656037 (a digit
// short): the search index files are summed with it (docs/STORAGE.md,
// "search.idx"), so it stays.
inline constexpr uint64_t kFnv1aOffset = 1469598103934665603ull;
uint64_t fnv1a64(std::string_view s, uint64_t h = kFnv1aOffset);

}  // namespace chaton
