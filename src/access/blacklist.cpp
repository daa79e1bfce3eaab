// Blacklist (docs/STORAGE.md, "blacklist.txt"): parses the blacklist file's
// IPv4/IPv6 addresses and CIDR ranges, answers whether a client address falls
// in one of them, and re-reads the file as soon as it changes (see
// blacklist.h).
// No exception leaves this file.
#include "access/blacklist.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "util/file.h"
#include "util/log.h"
#include "util/text.h"

namespace chaton {

namespace {

namespace fs = std::filesystem;

using Bytes = std::array<uint8_t, 16>;

constexpr int kIpv4Bits = 32;
constexpr int kIpv6Bits = 128;
constexpr int kMappedPrefixBits = kIpv6Bits - kIpv4Bits;  // ::ffff:0:0/96
constexpr size_t kMappedMarker = 10;                      // offset of the 0xffff in ::ffff:a.b.c.d
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

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
      return "prefix length '" + std::string(bits_text) + "' must be 0.." + std::to_string(addr->family_bits);
    }
    bits = static_cast<int>(*n);
  }
  if (addr->family_bits == kIpv4Bits) bits += kMappedPrefixBits;
  out.bits = bits;
  out.net = masked(addr->bytes, bits);
  return std::nullopt;
}

// Every range in the file format, one per line; bad lines go to `errors`.
std::vector<AddressRanges::Range> parse_lines(std::string_view text, std::vector<std::string>* errors) {
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

int64_t nanoseconds(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Changed so recently that a further change may not move its times.
bool changed_recently(int64_t mtime_ns, int64_t ctime_ns) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t recent =
      nanoseconds(now) - std::chrono::duration_cast<std::chrono::nanoseconds>(kRecentChange).count();
  return mtime_ns >= recent || ctime_ns >= recent;
}

// A client address as given by the network layer: an IPv6 zone ("%eth0")
// does not take part in matching.
std::string_view without_zone(std::string_view address) {
  size_t percent = address.find('%');
  return percent == std::string_view::npos ? address : address.substr(0, percent);
}

void report(const fs::path& file, std::string_view message) {
  log_warning("blacklist " + file.string() + ": " + std::string(message));
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

Blacklist::Blacklist(std::filesystem::path file) : file_(std::move(file)) {}

Status Blacklist::check(std::string_view address) {
  try {
    std::lock_guard lock(mu_);
    refresh();
    if (unreadable_) return Status(Errc::unavailable, "the blacklist cannot be read");
    if (ranges_.contains(address)) return Status(Errc::forbidden, "posting from your address is not allowed");
    return Status::ok();
  } catch (const std::exception& e) {
    report(file_, e.what());
    return Status(Errc::unavailable, "the blacklist cannot be read");
  }
}

// Called with mu_ held: the list becomes unreadable; said once per reason.
void Blacklist::fail(std::string reason) {
  unreadable_ = true;
  ranges_ = AddressRanges();
  text_hash_ = 0;
  if (reason == reason_) return;
  reason_ = std::move(reason);
  report(file_, "cannot read: " + reason_ + "; posting is refused until it can be read");
}

// Called with mu_ held, on every check: one stat(); the file is read again
// only when it changed (or changed moments ago, see blacklist.h).
void Blacklist::refresh() {
  struct stat st {};
  Identity id;
  if (::stat(file_.c_str(), &st) != 0) id.error = errno;
  if (id.error == ENOENT) {
    struct stat link {};
    if (::lstat(file_.c_str(), &link) != 0 && errno == ENOENT) {  // no file: no blacklist
      if (unreadable_) report(file_, "removed; posting is allowed again");
      loaded_ = true;
      identity_ = id;
      unreadable_ = false;
      reason_.clear();
      ranges_ = AddressRanges();
      text_hash_ = 0;
      return;
    }
  }
  if (id.error != 0) {
    loaded_ = true;
    identity_ = id;
    return fail(id.error == ENOENT ? "a symbolic link to nothing" : std::strerror(id.error));
  }
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = nanoseconds(st.st_mtim);
  id.ctime_ns = nanoseconds(st.st_ctim);
  if (loaded_ && id == identity_ && !changed_recently(id.mtime_ns, id.ctime_ns)) return;
  loaded_ = true;
  identity_ = id;

  if (!S_ISREG(st.st_mode))
    return fail(S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file");
  if (static_cast<uintmax_t>(st.st_size) > kMaxBlacklistBytes)
    return fail("it is larger than " + std::to_string(kMaxBlacklistBytes >> 20) + " MiB");
  // no_wait: a FIFO put in the file's place since the stat() never blocks a post.
  auto text = read_file(file_, {.max_bytes = kMaxBlacklistBytes, .no_wait = true});
  if (!text)
    return fail(text.status().code() == Errc::too_large
                    ? "it is larger than " + std::to_string(kMaxBlacklistBytes >> 20) + " MiB"
                    : text.status().message());
  std::string_view body(*text);
  if (body.starts_with(kByteOrderMark)) body.remove_prefix(kByteOrderMark.size());
  size_t hash = std::hash<std::string_view>{}(body);
  if (unreadable_) report(file_, "readable again; posting is allowed");
  const bool same = !unreadable_ && hash == text_hash_;
  unreadable_ = false;
  reason_.clear();
  if (same) return;  // read again, unchanged: nothing new to parse or report
  std::vector<std::string> errors;
  ranges_ = AddressRanges::parse(body, &errors);
  text_hash_ = hash;
  for (const std::string& e : errors) report(file_, e);
}

}  // namespace chaton
