// PostSelector: which posts a moderation removes (`chaton moderate`,
// docs/MODERATION.md; Store::remove_posts, whose report is in store.h).
//
// A selector names either one post by its time — the (seconds,
// microseconds) pair its ENTRY-ID encodes, see render/html.h entry_id() —
// or the posts of an address range, optionally only those from a moment on.
// The range is a predicate on the textual address: the command builds it
// from access/blacklist.h AddressRanges (IPv4 and IPv6 CIDRs), which the
// store module does not depend on. A selector that names nothing matches
// nothing.
//
// Plain values; matches() and the helpers are pure and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "messages/post.h"
#include "util/civil_time.h"

namespace chaton {

// The time that identifies a post: what its ENTRY-ID encodes.
struct EntryTime {
  int64_t sec = 0;
  int64_t usec = 0;
  friend bool operator==(const EntryTime&, const EntryTime&) = default;
};

// Parses an ENTRY-ID as permalinks show it, "entry-<sec hex>-<usec hex>"
// (render/html.h entry_id(); hex digits in either case). nullopt when it
// is not one or the microseconds are out of range.
inline std::optional<EntryTime> parse_entry_id(std::string_view id) {
  constexpr std::string_view kPrefix = "entry-";
  constexpr int64_t kUsecLimit = 1000000;
  constexpr size_t kMaxHexDigits = 15;  // stays below 2^60: no overflow
  if (id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  id.remove_prefix(kPrefix.size());
  auto hex = [&](std::string_view digits) -> std::optional<int64_t> {
    if (digits.empty() || digits.size() > kMaxHexDigits) return std::nullopt;
    int64_t v = 0;
    for (char c : digits) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    return v;
  };
  size_t dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto sec = hex(id.substr(0, dash));
  auto usec = hex(id.substr(dash + 1));
  if (!sec || !usec || *usec >= kUsecLimit) return std::nullopt;
  return EntryTime{*sec, *usec};
}

// True when a textual address (IPv4 or IPv6) is in the range.
using AddressMatcher = std::function<bool(std::string_view address)>;

struct PostSelector {
  std::optional<EntryTime> entry;     // exactly this post
  AddressMatcher addresses;           // posts from these addresses; empty: no condition
  std::optional<int64_t> since_unix;  // with addresses: only posts at or after this

  // True for a post to remove. Posts without an address (old lines) never
  // match an address range.
  bool matches(const Post& post) const {
    if (!entry && !addresses) return false;
    if (entry && (post.sec != entry->sec || post.usec != entry->usec)) return false;
    if (addresses && (!post.ip || !addresses(*post.ip))) return false;
    if (since_unix && post.sec < *since_unix) return false;
    return true;
  }

  // Whether the archived day `day` can hold a match: the entry's own day,
  // or (for addresses) every day from the day of `since_unix` on.
  bool may_match_day(Date day) const {
    if (entry) return day == utc_from_seconds(entry->sec).date;
    if (!addresses) return false;
    return !since_unix || !(day < utc_from_seconds(*since_unix).date);
  }
};

}  // namespace chaton
