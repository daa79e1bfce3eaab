// Blacklist (spec A3, B5): parses the blacklist file's IPv4/IPv6 addresses
// and CIDR ranges, answers whether a client address falls in one of them,
// and re-reads the file when its modification time or size changes.
// No exception leaves this file.
#include "access/blacklist.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "util/text.h"

namespace chaton {

namespace {

namespace fs = std::filesystem;

using Bytes = std::array<uint8_t, 16>;

constexpr int kIpv4Bits = 32;
constexpr int kIpv6Bits = 128;
constexpr int kMappedPrefixBits = kIpv6Bits - kIpv4Bits;  // ::ffff:0:0/96
constexpr size_t kMappedMarker = 10;                      // offset of the 0xffff in ::ffff:a.b.c.d
constexpr size_t kMaxBlacklistBytes = size_t{16} << 20;
constexpr uintmax_t kNoFile = static_cast<uintmax_t>(-1);

// An address in 16 bytes, and the number of bits its family has.
struct Address {
  Bytes bytes{};
  int family_bits = kIpv6Bits;
};

// Textual IPv4 or IPv6 (no brackets, no prefix) → 16 bytes; IPv4 mapped.
std::optional<Address> parse_address(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string s(text);
  Address a;
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  uint8_t v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) != 1) return std::nullopt;
  a.bytes[kMappedMarker] = 0xff;
  a.bytes[kMappedMarker + 1] = 0xff;
  std::copy(std::begin(v4), std::end(v4), a.bytes.begin() + kMappedMarker + 2);
  a.family_bits = kIpv4Bits;
  return a;
}

// Zeroes every bit after the first `bits`.
Bytes masked(Bytes b, int bits) {
  for (int i = 0; i < kIpv6Bits / 8; ++i) {
    int keep = std::clamp(bits - i * 8, 0, 8);
    b[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return b;
}

bool in_range(const AddressRanges::Range& r, const Bytes& address) {
  return masked(address, r.bits) == r.net;
}

std::string_view strip_comment(std::string_view line) {
  size_t hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

// Parses "ADDRESS" or "ADDRESS/BITS"; returns the problem on failure.
std::optional<std::string> parse_range(std::string_view entry, AddressRanges::Range& out) {
  size_t slash = entry.find('/');
  std::string_view addr_text = trim(entry.substr(0, slash));
  auto addr = parse_address(addr_text);
  if (!addr) return "'" + std::string(addr_text) + "' is not an IPv4 or IPv6 address";
  int bits = addr->family_bits;
  if (slash != std::string_view::npos) {
    std::string_view bits_text = trim(entry.substr(slash + 1));
    auto n = parse_int(bits_text);
    bool digits_only =
        !bits_text.empty() && bits_text.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits_only || !n || *n < 0 || *n > addr->family_bits) {
      return "prefix length '" + std::string(bits_text) + "' must be 0.." +
             std::to_string(addr->family_bits);
    }
    bits = static_cast<int>(*n);
  }
  if (addr->family_bits == kIpv4Bits) bits += kMappedPrefixBits;
  out.bits = bits;
  out.net = masked(addr->bytes, bits);
  return std::nullopt;
}

// Every range in the file format, one per line; bad lines go to `errors`.
std::vector<AddressRanges::Range> parse_lines(std::string_view text,
                                              std::vector<std::string>* errors) {
  std::vector<AddressRanges::Range> ranges;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(strip_comment(text.substr(start, end - start)));
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    AddressRanges::Range range;
    if (auto problem = parse_range(line, range)) {
      if (errors) errors->push_back("line " + std::to_string(line_number) + ": " + *problem);
      continue;
    }
    ranges.push_back(range);
  }
  return ranges;
}

// Whole file as text; nullopt with `error` set to an errno value on failure.
std::optional<std::string> read_file(const fs::path& file, int& error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = errno;
    return std::nullopt;
  }
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxBlacklistBytes) {
      error = EFBIG;
      return std::nullopt;
    }
  }
  if (std::ferror(f.get())) {
    error = errno;
    return std::nullopt;
  }
  return text;
}

// A client address as given by the network layer: an IPv6 zone ("%eth0")
// does not take part in matching.
std::string_view without_zone(std::string_view address) {
  size_t percent = address.find('%');
  return percent == std::string_view::npos ? address : address.substr(0, percent);
}

void report(const fs::path& file, std::string_view message) {
  std::fprintf(stderr, "blacklist %s: %.*s\n", file.c_str(), static_cast<int>(message.size()),
               message.data());
}

}  // namespace

AddressRanges AddressRanges::parse(std::string_view text, std::vector<std::string>* errors) {
  AddressRanges result;
  try {
    result.ranges_ = parse_lines(text, errors);
  } catch (const std::exception& e) {
    if (errors) errors->push_back(std::string("cannot parse: ") + e.what());
  }
  return result;
}

bool AddressRanges::contains(std::string_view address) const {
  try {
    auto addr = parse_address(without_zone(trim(address)));
    if (!addr) return false;
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [&](const Range& r) { return in_range(r, addr->bytes); });
  } catch (const std::exception&) {
    return false;
  }
}

Blacklist::Blacklist(std::filesystem::path file, const Clock& clock,
                     std::chrono::milliseconds recheck)
    : file_(std::move(file)), clock_(clock), recheck_(recheck) {}

bool Blacklist::contains(std::string_view address) {
  try {
    std::lock_guard lock(mu_);
    reload_if_changed();
    return ranges_.contains(address);
  } catch (const std::exception& e) {
    report(file_, e.what());
    return false;
  }
}

// Called with mu_ held. A missing file is an empty list; a file that cannot
// be read keeps the previous list (and is reported once per change).
void Blacklist::reload_if_changed() {
  SysTime now = clock_.now();
  if (now < next_check_) return;
  next_check_ = now + recheck_;

  std::error_code ec;
  fs::file_status status = fs::status(file_, ec);
  if (ec && status.type() != fs::file_type::not_found) return;  // cannot tell: keep the list
  if (status.type() == fs::file_type::not_found) {
    if (size_ != kNoFile || mtime_ != fs::file_time_type{}) {
      ranges_ = AddressRanges();
      size_ = kNoFile;
      mtime_ = {};
    }
    return;
  }
  auto mtime = fs::last_write_time(file_, ec);
  if (ec) return;
  uintmax_t size = fs::file_size(file_, ec);
  if (ec) size = 0;  // not a regular file: its read below will report it
  if (mtime == mtime_ && size == size_) return;
  mtime_ = mtime;
  size_ = size;

  int error = 0;
  auto text = read_file(file_, error);
  if (!text) {
    report(file_, std::string("cannot read: ") + std::strerror(error));
    return;
  }
  std::vector<std::string> errors;
  ranges_ = AddressRanges::parse(*text, &errors);
  for (const std::string& e : errors) report(file_, e);
}

}  // namespace chaton
