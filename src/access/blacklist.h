// Blacklist: refused client addresses (docs/STORAGE.md, "blacklist.txt").
//
// The file (DATADIR/data/blacklist.txt) has one IPv4 or IPv6 address or
// CIDR range per line ("192.0.2.0/24", "2001:db8::/32"), '#' starting a
// comment. A line that is not an address is reported and ignored. An IPv4
// range also matches the IPv4-mapped IPv6 form of its addresses.
//
// Blacklist checks the file on every call (docs/SECURITY.md "Who may post
// and connect"): one stat(), compared with the device, inode, size,
// modification and change times it last read, so an edit applies to the
// very next post, as the original's re-reading on every post did. A file
// changed within the last kRecentChange is read again each time, since its
// times may not have moved yet. A missing file (never there, or removed)
// is an empty list. A file that is there but cannot be read (a directory, a
// dangling or looping symbolic link, over kMaxBlacklistBytes, a read error)
// fails closed: check() answers Errc::unavailable until a readable list is
// there, and the reason is said once on stderr. A UTF-8 byte order mark at
// the start is skipped.
// Thread-safety: check() may be called from any thread.
// Lifetime: none beyond the object.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"
#include "util/result.h"

namespace chaton {

class AddressRanges {
 public:
  struct Range {
    std::array<uint8_t, 16> net{};  // IPv4 stored as IPv4-mapped IPv6
    int bits = 128;
  };

  // Parses the file format above; bad lines go to `errors` ("line N: ...").
  static AddressRanges parse(std::string_view text, std::vector<std::string>* errors = nullptr);

  // `address` is textual IPv4 or IPv6; false when it is not an address.
  bool contains(std::string_view address) const;
  size_t size() const { return ranges_.size(); }

 private:
  std::vector<Range> ranges_;
};

inline constexpr size_t kMaxBlacklistBytes = size_t{16} << 20;
inline constexpr std::chrono::seconds kRecentChange{2};

class Blacklist {
 public:
  explicit Blacklist(std::filesystem::path file);

  // ok, or Errc::forbidden when `address` is listed, or Errc::unavailable
  // ("the blacklist cannot be read") when the file exists but cannot be read.
  [[nodiscard]] Status check(std::string_view address);

 private:
  // What stat() said about the file; equal when nothing changed.
  struct Identity {
    int error = 0;  // errno of stat(), 0 when it succeeded
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const Identity&) const = default;
  };
  void refresh();
  void fail(std::string reason);

  std::filesystem::path file_;
  std::mutex mu_;
  bool loaded_ = false;  // identity_ describes what ranges_/unreadable_ came from
  Identity identity_;
  size_t text_hash_ = 0;  // of the text ranges_ was parsed from
  bool unreadable_ = false;
  std::string reason_;  // why it cannot be read (said once per reason)
  AddressRanges ranges_;
};

}  // namespace chaton
