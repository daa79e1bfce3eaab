// Htpasswd: the user file of a private room (docs/PROTOCOL.md, "Private rooms";
// config key `htpasswd`), in Apache's format: one `user:hash` per line.
//
// Every common hash is checked by apr-util's apr_password_validate(), never
// by our own code: apr1 (MD5), bcrypt ($2y$), SHA-512 and SHA-256 crypt
// ($6$, $5$) and {SHA}. New passwords are written as bcrypt
// (apr_bcrypt_encode with a random salt).
//
// Checking a bcrypt hash is deliberately slow (tens of milliseconds), while
// a browser sends the same credentials with every request of a room (and a
// long-poll asks again every few seconds). So a successful check is
// remembered: the cache maps a SHA-256 digest of "user\0password" (never the
// password itself) to the hash it matched, and a hit counts only while the
// file still holds that hash for the user. known() answers from the cache
// alone; verify() does the slow check on a miss.
//
// The file is re-read when it changes (checked at most once a second, by
// size, mtime and inode), so an operator's `htpasswd` edit takes effect
// without a restart. A missing or unreadable file denies everyone.
//
// change_password() rewrites the file atomically (temporary file, fsync,
// rename, under a lock on "<file>.lock"), keeping every other line as it
// was.
//
// Thread-safety: every member may be called from any thread.
// Lifetime: the Clock must outlive the object.
#pragma once

#include <array>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/clock.h"
#include "util/result.h"

namespace chaton {

inline constexpr unsigned kBcryptCost = 10;              // 2^10 rounds for new passwords
inline constexpr size_t kMaxVerifiedCredentials = 4096;  // cache entries (then cleared)
inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 256;

class Htpasswd {
 public:
  enum class Verdict { allowed, denied };

  Htpasswd(std::filesystem::path file, const Clock& clock);

  const std::filesystem::path& file() const { return file_; }

  // From the cache only: true when these credentials were verified against
  // the hash the file holds now. Cheap; never runs a password hash.
  bool known(std::string_view user, std::string_view password);

  // The full check (slow for bcrypt on a cache miss). An unknown user costs
  // the same as a wrong password: it is checked against the decoy, the hash
  // of a user of the scheme and cost most of the file's users have (chosen
  // each time the file is read), and refused whatever that check says.
  Verdict verify(std::string_view user, std::string_view password);

  // Sets a new password for an existing user, after checking the old one.
  // Errors: invalid (new password too short/long, or not acceptable),
  // forbidden (unknown user or wrong old password), io (the file could not
  // be written; the old file stays).
  Status change_password(std::string_view user, std::string_view old_password, std::string_view new_password);

  // The scheme and cost of the hash an unknown user's password is checked
  // against ("$apr1$", "$2y$10$", "$6$rounds=6000$", "{SHA}", ...; see
  // hash_scheme()).
  std::string decoy_scheme();

 private:
  using Digest = std::array<unsigned char, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  struct FileId {
    uintmax_t size = 0;
    int64_t mtime_ns = 0;
    uintmax_t inode = 0;
    bool exists = false;
    bool operator==(const FileId&) const = default;
  };

  // Re-reads the file when it changed (at most once a second unless
  // `force`). Caller holds mu_.
  void refresh_locked(bool force);
  // Takes mu_: true when `d` was verified against the user's current hash,
  // which it leaves in `hash` (for an unknown user: empty, and the decoy in
  // `decoy`).
  bool check_cache(std::string_view user, const Digest& d, std::string& hash, std::string& decoy);
  // The decoy for the users just read (see verify()). Caller holds mu_.
  std::string choose_decoy_locked() const;
  std::string hash_of_locked(std::string_view user) const;
  static Digest digest(std::string_view user, std::string_view password);

  std::filesystem::path file_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> users_;  // user -> hash
  std::string decoy_;                                   // empty: no users
  FileId loaded_;
  SysTime checked_{};
  bool ever_checked_ = false;
  std::unordered_map<Digest, std::string, DigestHash> verified_;  // digest -> hash it matched
};

// Parses the `user:hash` lines of an htpasswd file; blank lines and lines
// starting with '#' are skipped, as are lines without ':'.
std::unordered_map<std::string, std::string> parse_htpasswd(std::string_view content);

// What decides the cost of checking `hash`: its scheme with the cost
// parameter, if any, and without salt or digest: "$2y$05$", "$apr1$",
// "$6$", "$6$rounds=6000$", "{SHA}"; "crypt" for anything else.
std::string hash_scheme(std::string_view hash);

}  // namespace chaton
