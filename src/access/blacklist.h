// Blacklist: refused client addresses (spec A3, B5).
//
// The file (DATADIR/data/blacklist.txt) has one IPv4 or IPv6 address or
// CIDR range per line ("192.0.2.0/24", "2001:db8::/32"), '#' starting a
// comment. A line that is not an address is reported and ignored. An IPv4
// range also matches the IPv4-mapped IPv6 form of its addresses.
//
// Blacklist re-reads the file when its modification time or size changes,
// checking at most once per `recheck` interval (by the injected clock).
// Thread-safety: contains() may be called from any thread.
// Lifetime: the Clock must outlive the Blacklist.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"

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

class Blacklist {
 public:
  Blacklist(std::filesystem::path file, const Clock& clock,
            std::chrono::milliseconds recheck = std::chrono::seconds(1));

  bool contains(std::string_view address);

 private:
  void reload_if_changed();

  std::filesystem::path file_;
  const Clock& clock_;
  std::chrono::milliseconds recheck_;
  std::mutex mu_;
  SysTime next_check_{};
  std::filesystem::file_time_type mtime_{};
  uintmax_t size_ = static_cast<uintmax_t>(-1);
  AddressRanges ranges_;
};

}  // namespace chaton
